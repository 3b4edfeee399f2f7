"""Open the HTML reports in headless Chromium: charts draw, no console message, no network.

Every request the browser makes goes to a recording proxy (``--proxy-server``
with loopback not bypassed); file:// pages never use it, so a report that asks
for a CDN script, a font or an image shows up there. Chromium's own service
traffic (update checks, clock sync) goes to Google hosts, which a report never
names; those are left out. Console messages (errors, warnings, logs) are read
from Chromium's log on stderr. Screenshots go to ``$CXLAB_TEST_ARTIFACTS`` (or
the test's tmp folder).
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
needs_browser = pytest.mark.skipif(
    BROWSER is None,
    reason="no headless Chromium: `make test` installs Debian's chromium with apt-get and could not here",
)
#: Hosts of Chromium's own background services (never named by a report).
SERVICE_HOSTS = re.compile(r"(^|\.)(google\.com|googleapis\.com|gvt1\.com|gvt2\.com)(:\d+)?$")


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str]]

    def _record(self) -> None:
        self.seen.append((self.command, self.path))
        self.send_response(502)
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_CONNECT = do_PUT = do_OPTIONS = _record

    def log_message(self, *args: object) -> None:
        pass


def open_page(page: Path, tmp_path: Path, *, screenshot: Path | None = None) -> tuple[str, list[str], list[str]]:
    """(DOM after scripts ran, console lines, requests to non-service hosts)."""
    handler = type("Handler", (_Recorder,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
        f"--user-data-dir={tmp_path / 'profile'}", f"--proxy-server=http://127.0.0.1:{server.server_address[1]}",
        "--proxy-bypass-list=<-loopback>", "--enable-logging=stderr", "--v=0", "--window-size=1400,2200",
        "--virtual-time-budget=4000",
    ]
    try:
        dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
        logs = dom.stderr
        if screenshot is not None:
            shot = subprocess.run([*base, "--hide-scrollbars", f"--screenshot={screenshot}", page.as_uri()],
                                  capture_output=True, text=True, timeout=180)
            logs += shot.stderr
    finally:
        server.shutdown()
    console = [line for line in logs.splitlines() if ":CONSOLE" in line]
    hosts = []
    for method, path in handler.seen:
        host = path.split("/")[2] if "://" in path else path
        if not SERVICE_HOSTS.search(host.split(":")[0]):
            hosts.append(f"{method} {path}")
    return dom.stdout, console, hosts


def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CXLAB_TEST_ARTIFACTS", tmp_path / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@needs_browser
def test_the_check_sees_console_errors_and_network_requests(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<html><body><script>fetch("http://cdn.example.org/x.js").catch(function(){});'
                    "missingFunction();</script></body></html>")
    _, console, requests = open_page(page, tmp_path)
    assert any("missingFunction" in line for line in console)
    assert any("cdn.example.org" in r for r in requests)


@needs_browser
@pytest.mark.parametrize("report", ["exec.html", "science.html"])
def test_reports_open_offline_without_console_errors(shop_run: Path, report: str, tmp_path: Path) -> None:
    page = shop_run / "report" / report
    shot = artifacts(tmp_path) / f"shop-{report.replace('.html', '')}.png"
    dom, console, requests = open_page(page, tmp_path, screenshot=shot)
    assert console == []
    assert requests == []
    charts = len(re.findall(r'<div id="chart-\d+"', page.read_text()))
    assert charts >= 3
    assert dom.count('class="main-svg"') >= charts  # plotly drew every chart
    assert shot.stat().st_size > 20_000
