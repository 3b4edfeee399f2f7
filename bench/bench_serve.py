"""Load test of ``cxlab serve`` on loopback: latency at a fixed rate, and batch throughput.

Fits a satisfaction bundle on generated data, starts a real ``cxlab serve``
process on 127.0.0.1 on a free port (never another interface), then:

1. single-row ``POST /v1/satisfaction/predict`` requests sent open-loop at
   ``--rate`` requests/s (default 200) for ``--seconds`` (default 60): every
   request has a scheduled send time, so a slow answer delays the ones behind
   it and that wait counts in their latency (no coordinated omission);
   reports p50/p95/p99/max latency and the errors (non-200 or failed);
2. ``--batches`` requests of 1,000 rows each, two at a time: rows per second.

The number of requests is fixed in advance and the server is stopped at the
end (also on error or Ctrl-C). Writes ``bench/results/serve.json``.
``CXLAB_BENCH_QUICK=1`` runs 10 seconds and 10 batches.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _cxlab(*args: str, env: dict | None = None, **kw) -> subprocess.Popen | subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", "from cxlab.cli import main; main()", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, **kw)


def _prepare(work: Path, customers: int) -> tuple[Path, list[dict]]:
    from cxlab.satisfaction.persist import explain_rows, read

    _cxlab("generate", "--customers", str(customers), "--seed", "7", "--out", str(work / "data"))
    _cxlab("satisfaction", "fit", str(work / "data"), "--out", str(work / "models" / "satisfaction"))
    sample = explain_rows(read(work / "models" / "satisfaction"), "csat5")
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
    return work / "models", rows


class _Client:
    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, path: str, body: bytes) -> int:
        try:
            self.conn.request("POST", path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return -1


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


def _run_pool(port: int, key: str, n: int, threads: int, task) -> None:  # noqa: ANN001
    """Run ``task(client, i)`` for i in 0..n-1 on ``threads`` threads, one keep-alive connection each."""
    remaining = iter(range(n))
    lock = threading.Lock()

    def worker() -> None:
        client = _Client(port, key)
        while True:
            with lock:
                i = next(remaining, None)
            if i is None:
                return
            task(client, i)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _fixed_rate(port: int, key: str, bodies: list[bytes], rate: float, seconds: float, pid: int,
                threads: int = 16) -> dict:
    n = int(rate * seconds)
    latency = np.full(n, np.nan)
    service = np.full(n, np.nan)
    status = np.zeros(n, dtype=int)
    cpu_before = _cpu_seconds(pid)
    start = time.perf_counter() + 0.5

    def task(client: _Client, i: int) -> None:
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent = time.perf_counter()
        status[i] = client.post("/v1/satisfaction/predict", bodies[i % len(bodies)])
        done = time.perf_counter()
        latency[i], service[i] = done - scheduled, done - sent

    _run_pool(port, key, n, threads, task)
    elapsed = time.perf_counter() - start
    cpu_after = _cpu_seconds(pid)
    cpu_ms = None if cpu_before is None or cpu_after is None else round((cpu_after - cpu_before) / n * 1000, 3)
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
        # CPU the server spent per request: what the machine's load cannot inflate much, so it
        # says how many requests/s one free core sustains (1000 / cpu_ms_per_request).
        "server_cpu_ms_per_request": cpu_ms,
    }


def _batches(port: int, key: str, rows: list[dict], batches: int, size: int = 1_000, threads: int = 2) -> dict:
    body = json.dumps({"rows": [rows[i % len(rows)] for i in range(size)]}).encode()
    statuses = np.zeros(batches, dtype=int)

    def task(client: _Client, i: int) -> None:
        statuses[i] = client.post("/v1/satisfaction/predict", body)

    _Client(port, key).post("/v1/satisfaction/predict", body)  # warm-up
    start = time.perf_counter()
    _run_pool(port, key, batches, threads, task)
    elapsed = time.perf_counter() - start
    ok = int((statuses == 200).sum())
    return {
        "test": f"{size:,}-row satisfaction requests, {threads} at a time",
        "requests": batches,
        "errors": batches - ok,
        "rows_per_s": round(ok * size / elapsed),
        "seconds_per_request": round(elapsed / batches * threads, 4),
        "body_bytes": len(body),
    }


def main() -> int:
    quick = os.environ.get("CXLAB_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=10.0 if quick else 60.0)
    ap.add_argument("--batches", type=int, default=10 if quick else 100)
    ap.add_argument("--customers", type=int, default=3_000 if quick else 20_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serve.json")
    args = ap.parse_args()
    if not (1 <= args.rate <= 2_000 and 1 <= args.seconds <= 600 and 1 <= args.batches <= 10_000):
        ap.error("--rate 1-2,000, --seconds 1-600, --batches 1-10,000")
    with tempfile.TemporaryDirectory(prefix="cxlab-bench-serve-") as tmp:
        work = Path(tmp)
        models, rows = _prepare(work, args.customers)
        key = secrets.token_urlsafe(32)
        key_file = work / "keys"
        key_file.write_text(key + "\n")
        port = _free_port()
        cmd = [sys.executable, "-c", "from cxlab.cli import main; main()", "serve", "--models", str(models),
               "--host", HOST, "--port", str(port), "--api-key-file", str(key_file)]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _wait_ready(port, server)
            bodies = [json.dumps({"rows": [row]}).encode() for row in rows[:1_000]]
            for body in bodies[:50]:  # warm-up
                _Client(port, key).post("/v1/satisfaction/predict", body)
            results = [_fixed_rate(port, key, bodies, args.rate, args.seconds, server.pid),
                       _batches(port, key, rows, args.batches)]
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
    for r in results:
        print(json.dumps(r))
    return 0 if all(r["errors"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
