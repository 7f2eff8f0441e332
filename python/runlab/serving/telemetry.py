"""Counts, latencies and sampled predictions, reported to the companion server off the request path.

The request path only adds to in-memory tallies under an uncontended lock (and, for a sampled
request, appends one record to a bounded deque). A background thread turns them into a
``TelemetryReport`` every ``pollSeconds`` and POSTs it. When the server cannot be reached the
tallies keep accumulating (counts are sums, so nothing is lost however long it is down), the
sampled predictions are kept up to a cap and the oldest are dropped past it (counted, reported
on stderr and in /metrics), and delivery is retried with backoff.

Without a companion server (``--model-dir`` or a registry reference) the same records can go to
a JSON-lines file (``--prediction-log``), written by the same background thread.
"""

from __future__ import annotations

import bisect
import collections
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from runlab.serving import metrics

LATENCY_BUCKETS_MS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
MAX_PREDICTIONS_KEPT = 10_000
MAX_PREDICTIONS_PER_REPORT = 5_000
MAX_ROWS_PER_RECORD = 1_000


class Telemetry:
    """In-memory tallies since the last delivered report; written by the event loop, read by the reporter."""

    def __init__(self, *, keep_predictions: int = MAX_PREDICTIONS_KEPT) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}
        self._latency = [0] * (len(LATENCY_BUCKETS_MS) + 1)
        self.predictions: collections.deque[dict] = collections.deque()
        self.keep_predictions = keep_predictions
        self.dropped_predictions = 0
        self.since = time.monotonic()

    def count(self, role: str, model_version_id: str, status: int, latency_ms: float | None) -> None:
        key = (role, model_version_id, status)
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            if latency_ms is not None:
                self._latency[bisect.bisect_left(LATENCY_BUCKETS_MS, latency_ms)] += 1

    def record(self, record: dict) -> None:
        """A sampled prediction; past the cap the oldest goes (and is counted)."""
        with self._lock:
            if len(self.predictions) >= self.keep_predictions:
                self.predictions.popleft()
                self.dropped_predictions += 1
                metrics.TELEMETRY_DROPPED.inc()
            self.predictions.append(record)

    def take(self, revision: int, replica: str) -> tuple[dict, Callable[[], None], Callable[[], None]]:
        """A report of everything not yet delivered, and what to call once it is (or is not)."""
        with self._lock:
            counts, self._counts = self._counts, {}
            latency, self._latency = self._latency, [0] * (len(LATENCY_BUCKETS_MS) + 1)
            predictions = [
                self.predictions.popleft() for _ in range(min(len(self.predictions), MAX_PREDICTIONS_PER_REPORT))
            ]
        interval = min(max(time.monotonic() - self.since, 0.001), 3600.0)
        cumulative, total = [], 0
        for value in latency:
            total += value
            cumulative.append(total)
        report = {
            "revision": revision,
            "replica": replica,
            "intervalSeconds": round(interval, 3),
            "counts": [
                {"role": role, "modelVersionId": version_id, "status": status, "count": count}
                for (role, version_id, status), count in counts.items()
            ][:1000],
            "latency": {"bucketsMs": list(LATENCY_BUCKETS_MS), "counts": cumulative},
            "predictions": predictions,
        }

        def delivered() -> None:
            self.since = time.monotonic()

        def failed() -> None:
            # Put it all back: counts are added to what came since, predictions go first in line.
            with self._lock:
                for key, count in counts.items():
                    self._counts[key] = self._counts.get(key, 0) + count
                for i, value in enumerate(latency):
                    self._latency[i] += value
                room = self.keep_predictions - len(self.predictions)
                for record in reversed(predictions[: max(room, 0)]):
                    self.predictions.appendleft(record)
                lost = len(predictions) - max(min(room, len(predictions)), 0)
                if lost > 0:
                    self.dropped_predictions += lost
                    metrics.TELEMETRY_DROPPED.inc(lost)

        return report, delivered, failed


class SampleBudget:
    """A token bucket: at most ``per_second`` sampled predictions a second (bursts of up to two
    seconds' worth), so logging costs the same small share of serving at any traffic. Only the
    event loop's thread calls it, so it takes no lock. ``None`` means no limit."""

    def __init__(self, per_second: float | None) -> None:
        self.per_second = per_second
        self.tokens = 2.0 * per_second if per_second else 0.0
        self.checked = time.monotonic()

    def take(self) -> bool:
        if self.per_second is None:
            return True
        now = time.monotonic()
        self.tokens = min(2.0 * self.per_second, self.tokens + (now - self.checked) * self.per_second)
        self.checked = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def prediction_record(
    request_id: str,
    role: str,
    model_version_id: str,
    latency_ms: float,
    columns: list[str] | None,
    array: Any,
    outputs: dict | None,
    status: int,
    error: str | None,
) -> dict:
    """A contract PredictionRecord: inputs and outputs by name, one value per row (capped)."""
    rows = array[:MAX_ROWS_PER_RECORD]
    if columns is not None and rows.ndim == 2:
        inputs = {name: rows[:, j].tolist() for j, name in enumerate(columns)}
    elif rows.ndim == 0:
        inputs = {"0": [rows.tolist()]}
    else:
        # An unnamed tensor: one column per position, "0", "1", …, as the reference profile
        # names an unnamed table's columns (models/profile.py), so drift compares like with like.
        flat = rows.reshape(rows.shape[0], -1)
        inputs = {str(j): flat[:, j].tolist() for j in range(flat.shape[1])}
    return {
        "requestId": request_id[:200],
        "role": role,
        "modelVersionId": model_version_id,
        "at": int(time.time() * 1000),
        "latencyMs": round(latency_ms, 3),
        "inputs": inputs,
        "outputs": None
        if outputs is None
        else {name: values[:MAX_ROWS_PER_RECORD].tolist() for name, values in outputs.items()},
        "status": status,
        "error": None if error is None else error[:2000],
    }


class Reporter(threading.Thread):
    """Every ``interval()`` seconds, sends what ``telemetry`` holds; never blocks serving."""

    def __init__(
        self,
        telemetry: Telemetry,
        send: Callable[[dict], dict | None],
        *,
        interval: Callable[[], float],
        revision: Callable[[], int],
        replica: str,
        on_revision: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(name="runlab-telemetry", daemon=True)
        self.telemetry = telemetry
        self.send = send
        self.interval = interval
        self.revision = revision
        self.replica = replica
        self.on_revision = on_revision
        self.stopping = threading.Event()
        self.failures = 0
        self.warned_drops = 0

    def run(self) -> None:
        while not self.stopping.wait(self._wait()):
            self.report_once()

    def _wait(self) -> float:
        base = self.interval()
        # Backoff while the server is down: 1×, 2×, 4× … the interval, at most 60 s.
        return min(base * (2 ** min(self.failures, 6)), max(base, 60.0)) if self.failures else base

    def report_once(self, timeout: float = 5.0) -> bool:
        report, delivered, failed = self.telemetry.take(self.revision(), self.replica)
        try:
            answer = self.send(report)
        except Exception as error:
            failed()
            self.failures += 1
            metrics.TELEMETRY_FAILURES.inc()
            if self.failures in (1, 10) or self.failures % 100 == 0:
                print(f"runlab serve-model: telemetry not delivered ({error}); kept, retrying", file=sys.stderr)
            return False
        delivered()
        self.failures = 0
        dropped = self.telemetry.dropped_predictions
        if dropped > self.warned_drops:
            print(
                f"runlab serve-model: {dropped - self.warned_drops} sampled predictions were dropped while the "
                "companion server was unreachable (counts and latencies were kept)",
                file=sys.stderr,
            )
            self.warned_drops = dropped
        if answer and self.on_revision is not None and isinstance(answer.get("revision"), int):
            self.on_revision(answer["revision"])
        return True

    def stop(self, flush: bool = True) -> None:
        self.stopping.set()
        if flush:
            self.report_once(timeout=2.0)


def replica_name(port: int, worker: int) -> str:
    return f"{socket.gethostname()}:{port}/{worker}"[:100]


class FileSink:
    """Prediction records appended to a JSON-lines file (no companion server)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def __call__(self, report: dict) -> dict | None:
        if report["predictions"]:
            with self.lock, open(self.path, "ab") as out:
                out.write(b"".join(orjson.dumps(record) + b"\n" for record in report["predictions"]))
        return None
