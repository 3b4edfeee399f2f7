"""Load test of ``cxlab serve`` on loopback: latency at a fixed rate, and batch throughput.

Fits a satisfaction bundle on generated data, starts a real ``cxlab serve``
process on 127.0.0.1 on a free port (never another interface), then:

1. single-row ``POST /v1/satisfaction/predict`` requests sent open-loop at
   ``--rate`` requests/s (default 200) for ``--seconds`` (default 60): every
   request has a scheduled send time, so a slow answer delays the ones behind
   it and that wait counts in their latency (no coordinated omission);
   reports p50/p95/p99/max latency and the errors (non-200 or failed);
2. ``--batches`` requests of 1,000 rows each, two at a time: rows per second.

The load generator is one asyncio loop writing raw HTTP/1.1 on keep-alive
connections (its own CPU per request is reported: it shares the machine with
the server). The number of requests is fixed in advance and the server is stopped at the
end (also on error or Ctrl-C). Writes ``bench/results/serve.json``.
``CXLAB_BENCH_QUICK=1`` runs 10 seconds and 10 batches; ``--models DIR`` serves an
existing folder holding a ``satisfaction`` bundle instead of fitting one.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PREDICT = "/v1/satisfaction/predict"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _cxlab(*args: str, env: dict | None = None, **kw) -> subprocess.Popen | subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from cxlab.cli import main; main()", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, **kw)


def _prepare(work: Path, customers: int, models: Path | None = None) -> tuple[Path, list[dict]]:
    """A folder holding a satisfaction bundle (fitted here unless ``models`` is given) and rows to send."""
    from cxlab.satisfaction.persist import explain_rows, read

    if models is None:
        _cxlab("generate", "--customers", str(customers), "--seed", "7", "--out", str(work / "data"))
        _cxlab("satisfaction", "fit", str(work / "data"), "--out", str(work / "models" / "satisfaction"))
        models = work / "models"
    sample = explain_rows(read(models / "satisfaction"), "csat5")
    rows = []
    for record in sample.to_dict(orient="records"):
        row = {}
        for k, v in record.items():
            if v is None or (isinstance(v, float) and math.isnan(v)):
                row[k] = None
            elif isinstance(v, (np.bool_, bool)):
                row[k] = bool(v)
            elif isinstance(v, (int, float, np.integer, np.floating)):
                row[k] = float(v)
            else:
                row[k] = str(v)
        rows.append(row)
    return models, rows


class _Connection:
    """One keep-alive HTTP/1.1 connection written and read with asyncio streams (cheap: no HTTP library)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> int:
        """Send one whole request; read the response; its status."""
        self.writer.write(request)
        line = await self.reader.readline()
        if not line:
            raise ConnectionResetError("the server closed the connection")
        status = int(line.split(b" ", 2)[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def _request(path: str, body: bytes, key: str) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class _Pool:
    """At most ``most`` requests in flight, each on a keep-alive connection: an idle one, else a new one.

    Like any HTTP client, it does not count the server closing an idle keep-alive connection
    (uvicorn does after 5 s) against the request: a connection idle for over ``IDLE_S`` is
    dropped unused, and a request whose reused connection turns out closed before any answer
    is sent again on a new one (its latency still runs from its scheduled time).
    """

    IDLE_S = 3.0

    def __init__(self, port: int, most: int) -> None:
        self.port, self.opened = port, 0
        self.slots = asyncio.Semaphore(most)
        self.idle: list[tuple[_Connection, float]] = []

    async def _connection(self, timeout: float) -> tuple[_Connection, bool]:
        """A connection, and whether it was reused."""
        now = time.monotonic()
        while self.idle:
            conn, since = self.idle.pop()
            if now - since <= self.IDLE_S:
                return conn, True
            conn.close()
        conn = await asyncio.wait_for(_Connection.open(self.port), timeout)
        self.opened += 1
        return conn, False

    async def exchange(self, request: bytes, timeout: float = 30.0) -> int:
        async with self.slots:
            for _ in range(2):
                try:
                    conn, reused = await self._connection(timeout)
                except (OSError, asyncio.TimeoutError):
                    return -1
                try:
                    status = await asyncio.wait_for(conn.exchange(request), timeout)
                except (asyncio.IncompleteReadError, ConnectionError) as err:
                    conn.close()
                    closed_idle = reused and (not isinstance(err, asyncio.IncompleteReadError) or not err.partial)
                    if closed_idle:
                        continue  # the server had closed it: send again on a new connection
                    return -1
                except (OSError, ValueError, IndexError, asyncio.TimeoutError):
                    conn.close()
                    return -1
                self.idle.append((conn, time.monotonic()))
                return status
            return -1

    def close(self) -> None:
        while self.idle:
            self.idle.pop()[0].close()


def _wait_ready(port: int, server: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"cxlab serve exited with {server.returncode}: {server.stderr.read()[-2000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            if response.status == 200 and json.loads(response.read())["status"] == "ok":
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("cxlab serve did not become ready in time")


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _per_request_ms(before: float | None, after: float | None, n: int) -> float | None:
    return None if before is None or after is None else round((after - before) / n * 1000, 3)


async def _fixed_rate(port: int, requests: list[bytes], rate: float, seconds: float, pid: int,
                      connections: int = 64) -> dict:
    """Open loop: request i is due at start + i / rate whatever happened to the ones before it.

    Its latency runs from that scheduled time, so time spent waiting behind a slow answer (for a
    free connection, or in the server's queue) counts: no coordinated omission.
    """
    n = int(rate * seconds)
    latency = np.full(n, np.nan)
    service = np.full(n, np.nan)
    status = np.zeros(n, dtype=int)
    pool = _Pool(port, connections)
    for _ in range(8):  # warm connections, not counted
        await pool.exchange(requests[0])
    cpu_before, client_before = _cpu_seconds(pid), time.process_time()
    start = time.perf_counter() + 0.2

    async def one(i: int, scheduled: float) -> None:
        sent = time.perf_counter()
        status[i] = await pool.exchange(requests[i % len(requests)])
        done = time.perf_counter()
        latency[i], service[i] = done - scheduled, done - sent

    tasks = []
    for i in range(n):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    cpu_after, client_after = _cpu_seconds(pid), time.process_time()
    pool.close()
    ms = latency * 1000
    return {
        "test": f"single-row satisfaction predictions at {rate:.0f} requests/s for {seconds:.0f} s",
        "requests": n,
        "achieved_rate_per_s": round(n / elapsed, 1),
        "errors": int((status != 200).sum()),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(np.max(ms)), 2),
        "p99_service_ms": round(float(np.percentile(service * 1000, 99)), 2),
        "connections_opened": pool.opened,
        # CPU the server spent per request: what the machine's load cannot inflate much, so it
        # says how many requests/s one free core sustains (1000 / cpu_ms_per_request).
        "server_cpu_ms_per_request": _per_request_ms(cpu_before, cpu_after, n),
        # CPU of this load generator per request: it shares the machine with the server.
        "client_cpu_ms_per_request": round((client_after - client_before) / n * 1000, 3),
    }


async def _batches(port: int, key: str, rows: list[dict], batches: int, pid: int, size: int = 1_000,
                   concurrent: int = 2) -> dict:
    body = json.dumps({"rows": [rows[i % len(rows)] for i in range(size)]}).encode()
    request = _request(PREDICT, body, key)
    statuses = np.zeros(batches, dtype=int)
    pool = _Pool(port, concurrent)
    await pool.exchange(request)  # warm-up
    remaining = iter(range(batches))

    async def worker() -> None:
        for i in remaining:
            statuses[i] = await pool.exchange(request, timeout=120.0)

    cpu_before, start = _cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrent)))
    elapsed = time.perf_counter() - start
    cpu_ms = _per_request_ms(cpu_before, _cpu_seconds(pid), batches)
    pool.close()
    ok = int((statuses == 200).sum())
    return {
        "test": f"{size:,}-row satisfaction requests, {concurrent} at a time",
        "requests": batches,
        "errors": batches - ok,
        "rows_per_s": round(ok * size / elapsed),
        "seconds_per_request": round(elapsed / batches * concurrent, 4),
        "server_cpu_ms_per_request": cpu_ms,
        # rows per second of server CPU: what one free core sustains
        "rows_per_server_cpu_s": None if not cpu_ms else round(size / cpu_ms * 1000),
        "body_bytes": len(body),
    }


async def _load(port: int, key: str, rows: list[dict], args: argparse.Namespace, pid: int) -> list[dict]:
    requests = [_request(PREDICT, json.dumps({"rows": [row]}).encode(), key) for row in rows[:1_000]]
    pool = _Pool(port, 1)
    for request in requests[:50]:  # warm-up
        await pool.exchange(request)
    pool.close()
    return [await _fixed_rate(port, requests, args.rate, args.seconds, pid),
            await _batches(port, key, rows, args.batches, pid)]


def main() -> int:
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=10.0 if quick else 60.0)
    ap.add_argument("--batches", type=int, default=10 if quick else 100)
    ap.add_argument("--customers", type=int, default=3_000 if quick else 20_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serve.json")
    ap.add_argument("--models", type=Path, default=None,
                    help="Serve this folder (holding a 'satisfaction' bundle) instead of fitting one (for development).")
    args = ap.parse_args()
    if not (1 <= args.rate <= 2_000 and 1 <= args.seconds <= 600 and 1 <= args.batches <= 10_000):
        ap.error("--rate 1-2,000, --seconds 1-600, --batches 1-10,000")
    with tempfile.TemporaryDirectory(prefix="cxlab-bench-serve-") as tmp:
        work = Path(tmp)
        models, rows = _prepare(work, args.customers, args.models)
        key = secrets.token_urlsafe(32)
        key_file = work / "keys"
        key_file.write_text(key + "\n")
        port = _free_port()
        cmd = [sys.executable, "-c", "from cxlab.cli import main; main()", "serve", "--models", str(models),
               "--host", HOST, "--port", str(port), "--api-key-file", str(key_file)]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _wait_ready(port, server)
            results = asyncio.run(_load(port, key, rows, args, server.pid))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    payload = {"table": results, "cpu_count": os.cpu_count(), "load_average_1m": os.getloadavg()[0],
               "customers": args.customers}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    single, batch = results
    print(f"single row at {args.rate:,.0f}/s: achieved {single['achieved_rate_per_s']:,.1f}/s, "
          f"p50 {single['p50_ms']:,.2f} ms, p95 {single['p95_ms']:,.2f} ms, p99 {single['p99_ms']:,.2f} ms, "
          f"errors {single['errors']:,}, server CPU {single['server_cpu_ms_per_request']} ms/request, "
          f"client CPU {single['client_cpu_ms_per_request']} ms/request")
    print(f"1,000-row requests: {batch['rows_per_s']:,} rows/s, errors {batch['errors']:,}, "
          f"server CPU {batch['server_cpu_ms_per_request']} ms/request")
    for r in results:
        print(json.dumps(r))
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
