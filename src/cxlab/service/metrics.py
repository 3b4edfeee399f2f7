"""Request metrics in the Prometheus text exposition format (version 0.0.4), no dependency."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

#: Upper bounds (seconds) of the latency histogram buckets.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _labels(**labels: str) -> str:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

    return "{" + ",".join(f'{k}="{esc(v)}"' for k, v in labels.items()) + "}"


class Metrics:
    """Counters and a latency histogram per endpoint, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self._sums: dict[str, float] = defaultdict(float)
        self._rows: dict[str, int] = defaultdict(int)
        self.models_loaded = 0

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, path, status)] += 1
            self._buckets[path][bisect.bisect_left(BUCKETS, seconds)] += 1
            self._sums[path] += seconds

    def add_rows(self, path: str, rows: int) -> None:
        with self._lock:
            self._rows[path] += rows

    def render(self) -> str:
        """The metrics as Prometheus text."""
        lines = [
            "# HELP cxlab_requests_total HTTP requests by method, route and status.",
            "# TYPE cxlab_requests_total counter",
        ]
        with self._lock:
            for (method, path, status), n in sorted(self._requests.items()):
                lines.append(f"cxlab_requests_total{_labels(method=method, path=path, status=str(status))} {n}")
            lines += [
                "# HELP cxlab_request_duration_seconds Time to answer a request, by route.",
                "# TYPE cxlab_request_duration_seconds histogram",
            ]
            for path, counts in sorted(self._buckets.items()):
                total = 0
                for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                    total += count
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(f"cxlab_request_duration_seconds_bucket{_labels(path=path, le=le)} {total}")
                lines.append(f"cxlab_request_duration_seconds_sum{_labels(path=path)} {self._sums[path]!r}")
                lines.append(f"cxlab_request_duration_seconds_count{_labels(path=path)} {total}")
            lines += [
                "# HELP cxlab_predicted_rows_total Rows predicted, by route.",
                "# TYPE cxlab_predicted_rows_total counter",
            ]
            for path, n in sorted(self._rows.items()):
                lines.append(f"cxlab_predicted_rows_total{_labels(path=path)} {n}")
            lines += [
                "# HELP cxlab_models_loaded Model bundles loaded at start-up.",
                "# TYPE cxlab_models_loaded gauge",
                f"cxlab_models_loaded {self.models_loaded}",
            ]
        return "\n".join(lines) + "\n"
