"""Prometheus metrics of the serving runtime, summed over its worker processes.

prometheus_client's multiprocess mode: every worker writes its values to memory-mapped files in
PROMETHEUS_MULTIPROC_DIR (the parent process creates it and sets it before a worker starts, since
prometheus_client reads it at import), and ``/metrics`` on any worker adds them all up.

Labels are bounded: model and version come from the served slots (a handful), role is one of
stable/canary/shadow, status is the HTTP status code; requests for unknown models are counted
under ``model=""``.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST

LATENCY_BUCKETS_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

REQUESTS = Counter(
    "runlab_serving_requests_total",
    "Prediction requests answered, by model, version, role (stable/canary/shadow) and HTTP status",
    ["model", "version", "role", "status"],
)
REQUEST_DURATION = Histogram(
    "runlab_serving_request_duration_seconds",
    "Time from a prediction request's arrival to its answer (decode, queue, predict, encode)",
    ["model", "version", "role"],
    buckets=LATENCY_BUCKETS_SECONDS,
)
BATCH_SIZE = Histogram(
    "runlab_serving_batch_size",
    "Rows per predict call (concurrent requests stacked by the micro-batcher)",
    ["model", "version"],
    buckets=BATCH_SIZE_BUCKETS,
)
PREDICT_DURATION = Histogram(
    "runlab_serving_predict_duration_seconds",
    "Time of one predict call (one batch)",
    ["model", "version"],
    buckets=LATENCY_BUCKETS_SECONDS,
)
MODEL_LOAD_SECONDS = Gauge(
    "runlab_serving_model_load_seconds",
    "Seconds the last load of a model version took (download included)",
    ["model", "version"],
    multiprocess_mode="livemax",
)
MODEL_READY = Gauge(
    "runlab_serving_model_ready",
    "1 when the model version is loaded and answering, per worker process (summed)",
    ["model", "version", "role"],
    multiprocess_mode="livesum",
)
SHADOW_DROPPED = Counter(
    "runlab_serving_shadow_dropped_total",
    "Copies of requests not sent to the shadow version because its queue was full",
    ["model", "version"],
)
TELEMETRY_DROPPED = Counter(
    "runlab_serving_telemetry_dropped_predictions_total",
    "Sampled predictions dropped (oldest first) while the companion server could not be reached",
)
TELEMETRY_FAILURES = Counter(
    "runlab_serving_telemetry_failures_total", "Telemetry reports that could not be delivered (retried later)"
)


class RequestMetrics:
    """Cached label children: ``labels()`` takes a lock and a dict lookup each time, this only the lookup."""

    def __init__(self) -> None:
        self._counters: dict[tuple, object] = {}
        self._histograms: dict[tuple, object] = {}

    def observe(self, model: str, version: str, role: str, status: int, seconds: float) -> None:
        key = (model, version, role, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = REQUESTS.labels(model, version, role, str(status))
        counter.inc()
        histogram_key = (model, version, role)
        histogram = self._histograms.get(histogram_key)
        if histogram is None:
            histogram = self._histograms[histogram_key] = REQUEST_DURATION.labels(model, version, role)
        histogram.observe(seconds)


def render() -> bytes:
    """The text exposition of every worker's metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def mark_process_dead(pid: int) -> None:
    """A worker exited: its live gauges no longer count."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
