"""Background delivery of everything a run logs, so logging never blocks or breaks user code.

The user's thread only appends a tuple to a deque (atomic under the GIL, no lock, no I/O); one
daemon thread sends what is queued, in order, as batches. Each batch gets its idempotency key
once, when it is formed, and keeps it through every retry: the server acknowledges a key it has
already applied without applying it again, so a retry after a lost response never duplicates a
point. While the server is unreachable the batch is retried with backoff and new values wait
behind it; one warning per outage says so.

Queue records (the first element is always the run's ``RunHandle``):

- a metric point: ``(handle, key, value, step, time_ns)`` — five elements, the hot path;
- anything else: ``(handle, kind, payload)`` — three elements, see ``_LOG_KINDS`` and
  ``_CONTROL_KINDS``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from runlab.client import Client, RunlabError, ServerUnreachable, Timeout

T = TypeVar("T")

# Sizes and intervals; see DESIGN.md "metric logging in the kernel" and "metric ingest".
FLUSH_POINTS = 5_000  # wake the sender once this many values are queued
FLUSH_INTERVAL_S = 0.5  # ...or after this long
MAX_BATCH_POINTS = 50_000  # values per request (the contract allows 100,000)
MAX_BATCH_BYTES = 8_000_000  # log batches may be up to 64 MiB by default; a 413 halves them
MAX_QUEUED = 5_000_000  # then the oldest values are dropped, with one warning
END_WAIT_S = 10.0  # how long end() and interpreter exit wait for delivery
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 2.0
LOG_TIMEOUT: Timeout = (2.0, 30.0)

# Fields of a LogBatchRequest that records fill, besides metrics.
_LOG_KINDS = {"param": "params", "tag": "tags", "input": "inputs", "output": "outputs"}
# Records that are requests of their own, sent in queue order.
_CONTROL_KINDS = {"create", "update", "artifact", "snapshot", "barrier"}

_LOG_KEY = re.compile(r"^[\w\-. /:]{1,250}$")


class RunlabWarning(UserWarning):
    """Runlab could not deliver or accept something; user code keeps running."""


def warn(message: str) -> None:
    """Show one warning in the cell output (or on stderr), without a source line or traceback."""
    warnings.warn_explicit(message, RunlabWarning, "runlab", 0, module="runlab")


@dataclass(eq=False)
class RunHandle:
    """What the sender needs to deliver a run's records: its server, and its id once created."""

    url: str
    token: str | None
    # The CreateRunRequest, kept until the run exists on the server.
    create_body: dict[str, Any] | None = None
    id: str | None = None
    # The run could not be created (the server refused it): its records are dropped.
    refused: bool = False
    # Its records are no longer wanted (Run.abandon): the one being retried is given up too.
    abandoned: bool = False
    # Filled from the server's answers, for Run.name and friends.
    server_run: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class _Batch:
    """One LogBatchRequest. Its idempotency key is made with it, once, and is in every encoding."""

    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    # Each point already as JSON text.
    metrics: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        head = json.dumps(
            {
                "idempotencyKey": self.key,
                "params": self.params,
                "tags": self.tags,
                "inputs": self.inputs,
                "outputs": self.outputs,
            },
            separators=(",", ":"),
        )
        return f'{head[:-1]},"metrics":[{",".join(self.metrics)}]}}'.encode()

    def halves(self) -> list[_Batch]:
        """Two batches with new keys (for a batch the server refused whole, so never applied)."""
        half = len(self.metrics) // 2
        first = _Batch(params=self.params, tags=self.tags, inputs=self.inputs, outputs=self.outputs)
        first.metrics = self.metrics[:half]
        second = _Batch()
        second.metrics = self.metrics[half:]
        return [first, second]


class _GiveUp(Exception):
    """Raised inside the sender when the process is exiting and the wait is over."""


class Batcher:
    """One queue and one sender thread per process, shared by every run, so order is kept."""

    def __init__(self) -> None:
        self.queue: deque[tuple[Any, ...]] = deque(maxlen=MAX_QUEUED)
        self.wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._clients: dict[tuple[str, str | None], Client] = {}
        # Values taken off the queue and not yet acknowledged (the batch being retried).
        self.in_flight = 0
        self.delivered_points = 0
        self.outage_warned = False
        self._dropped_warned = False
        self._refusals_warned: set[str] = set()
        self._invalid_warned: set[str] = set()
        # metric key → its JSON text up to the value, for the encoder.
        self._encoded_keys: dict[str, str] = {}
        # Set at interpreter exit: stop retrying once this monotonic time passes.
        self.exit_deadline: float | None = None

    # -- the user's side --------------------------------------------------------------------------

    def append(self, record: tuple[Any, ...]) -> None:
        """Queue one record. The hot path (``Run.metric``) inlines this."""
        queue = self.queue
        queue.append(record)
        if len(queue) >= FLUSH_POINTS:
            self.backlog(len(queue))

    def backlog(self, queued: int) -> None:
        """Called by the hot path when the queue has grown past the flush size."""
        if queued >= MAX_QUEUED and not self._dropped_warned:
            self._dropped_warned = True
            warn(
                f"{MAX_QUEUED:,} values are waiting for the server; the oldest are being "
                "dropped to bound memory."
            )
        if not self.wake.is_set():
            self.wake.set()

    def ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="runlab-sender", daemon=True)
                self._thread.start()

    def flush(self, timeout: float = END_WAIT_S) -> bool:
        """Wait until everything queued before this call is delivered (or refused); False when
        the wait timed out and values are still queued (they keep being retried)."""
        self.ensure_started()
        delivered = threading.Event()
        self.queue.append((None, "barrier", delivered))
        self.wake.set()
        return delivered.wait(timeout)

    def pending(self) -> int:
        """Values queued or in flight."""
        return len(self.queue) + self.in_flight

    # -- the sender thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self.wake.wait(FLUSH_INTERVAL_S)
            self.wake.clear()
            try:
                self._drain()
            except _GiveUp:
                return
            except Exception as error:  # the sender must survive anything and keep serving
                warn(f"internal error while sending logged values: {error!r}")

    def _drain(self) -> None:
        queue = self.queue
        while queue:
            record = queue[0]
            handle = record[0]
            kind = record[1] if len(record) == 3 else None
            if kind == "barrier":
                queue.popleft()
                record[2].set()
                continue
            if handle.abandoned:
                handle.refused = True
            if handle.id is None and not handle.refused:
                self._create(handle)
            if handle.refused:
                queue.popleft()
                continue
            if kind in _CONTROL_KINDS:
                self._control(handle, kind, record[2])
                queue.popleft()
            else:
                self._send_batch(handle)

    def _create(self, handle: RunHandle) -> None:
        body = handle.create_body or {}
        try:
            run = self._retrying(handle, lambda: self._client(handle).create_run(body))
        except RunlabError as error:
            handle.refused = True
            self._refused(handle, f"the server refused to create the run: {error}; its values are dropped.")
            return
        handle.id = str(run["id"])
        handle.server_run = run
        handle.create_body = None

    def _control(self, handle: RunHandle, kind: str, payload: Any) -> None:
        assert handle.id is not None
        run_id = handle.id
        client = self._client(handle)
        try:
            if kind == "update":
                run = self._retrying(handle, lambda: client.update_run(run_id, payload))
                handle.server_run = run
            elif kind == "artifact":
                path, content = payload
                self._retrying(handle, lambda: client.upload_artifact(run_id, path, content))
            elif kind == "snapshot":
                self._retrying(handle, lambda: client.create_snapshot(run_id, payload))
        except RunlabError as error:
            what = {"update": "update the run", "artifact": "store the artifact", "snapshot": "store the snapshot"}
            self._refused(handle, f"the server refused to {what.get(kind, kind)}: {error}")

    def _send_batch(self, handle: RunHandle) -> None:
        """Take the run's next values off the queue, as one or more batches, and deliver them."""
        queue = self.queue
        records: list[tuple[Any, ...]] = []
        while queue and len(records) < MAX_BATCH_POINTS:
            record = queue[0]
            if record[0] is not handle or (len(record) == 3 and record[1] not in _LOG_KINDS):
                break
            records.append(queue.popleft())
        self.in_flight = len(records)
        try:
            pending = self._encode(records)
            while pending:
                batch = pending.pop(0)
                assert handle.id is not None
                run_id, client, body = handle.id, self._client(handle), batch.encode()
                try:
                    # The same body, so the same idempotency key, on every attempt.
                    result = self._retrying(handle, lambda: client.post_log_batch(run_id, body))
                    self.delivered_points += int(result.get("stored", 0)) if isinstance(result, dict) else 0
                except RunlabError as error:
                    if error.code == "payload_too_large" and len(batch.metrics) > 1:
                        # A server with a smaller body limit: nothing was applied; send halves.
                        pending[:0] = batch.halves()
                        continue
                    self._refused(handle, f"the server refused logged values: {error}; they were dropped.")
        finally:
            self.in_flight = 0

    def _encode(self, records: list[tuple[Any, ...]]) -> list[_Batch]:
        """LogBatchRequests for these records, each under MAX_BATCH_BYTES once encoded."""
        batches = [_Batch()]
        size = 0
        encoded_keys = self._encoded_keys
        for record in records:
            if len(record) == 5:
                # The sender's hot loop: JSON text is built directly, not through dicts.
                _, key, value, step, time_ns = record
                prefix = encoded_keys.get(key)
                if prefix is None:
                    prefix = self._key_prefix(key)
                    if prefix is None:
                        continue
                if value - value != 0.0:  # NaN or ±inf: not JSON, not stored
                    self._invalid(f"nonfinite:{key}", f"metric {key!r} got {value}; only finite numbers are stored")
                    continue
                if step is None:
                    point = f'{{{prefix}{value!r},"timestamp":{time_ns // 1_000_000}}}'
                else:
                    if step.__class__ is not int or step < 0:
                        step = self._whole_step(key, step)
                        if step is None:
                            continue
                    point = f'{{{prefix}{value!r},"step":{step},"timestamp":{time_ns // 1_000_000}}}'
                size += len(point) + 1
                if size > MAX_BATCH_BYTES:
                    batches.append(_Batch())
                    size = len(point) + 1
                batches[-1].metrics.append(point)
            else:
                field_name = _LOG_KINDS[record[1]]
                if field_name in ("params", "tags"):
                    key, value = record[2]
                    getattr(batches[-1], field_name)[key] = value
                else:
                    getattr(batches[-1], field_name).append(record[2])
        return batches

    def _key_prefix(self, key: Any) -> str | None:
        """``"key":"<key>","value":`` for a valid key (cached), or None after a warning."""
        if not isinstance(key, str) or not _LOG_KEY.match(key):
            self._invalid(f"key:{key!r}", f"metric key {key!r} is not valid (use letters, digits, spaces and _ - . / :)")
            return None
        prefix = self._encoded_keys[key] = f'"key":{json.dumps(key)},"value":'
        return prefix

    def _whole_step(self, key: str, step: Any) -> int | None:
        try:
            whole = int(step)
        except (TypeError, ValueError):
            whole = -1
        if whole < 0 or whole != step:
            self._invalid(f"step:{key}", f"metric {key!r} got step {step!r}; steps are whole numbers >= 0")
            return None
        return whole

    # -- retries and warnings ---------------------------------------------------------------------

    def _retrying(self, handle: RunHandle, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds or fails for good; unreachable servers and server
        errors are retried with backoff (the same request, so the same idempotency key)."""
        delay = RETRY_FIRST_S
        while True:
            try:
                result = attempt()
            except RunlabError as error:
                if not _retryable(error) or handle.abandoned:
                    raise
                if not self.outage_warned:
                    self.outage_warned = True
                    reason = error.message if isinstance(error, ServerUnreachable) else str(error)
                    warn(
                        f"cannot deliver logged values ({reason}); {self.pending():,} are "
                        "queued and will be sent when the server answers. Your code keeps running."
                    )
                if self.exit_deadline is not None and time.monotonic() + delay > self.exit_deadline:
                    raise _GiveUp() from error
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            self.outage_warned = False
            return result

    def _refused(self, handle: RunHandle, message: str) -> None:
        if handle.abandoned:
            return  # nobody waits for these values any more
        if message not in self._refusals_warned:
            self._refusals_warned.add(message)
            warn(message)

    def _invalid(self, identity: str, message: str) -> None:
        if identity not in self._invalid_warned:
            self._invalid_warned.add(identity)
            warn(f"{message}; the value was not logged.")

    def _client(self, handle: RunHandle) -> Client:
        key = (handle.url, handle.token)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = Client(handle.url, handle.token, timeout=LOG_TIMEOUT)
        return client

    # -- interpreter exit -------------------------------------------------------------------------

    def close(self, timeout: float = END_WAIT_S) -> None:
        """At exit: give queued values a bounded time to reach the server, then say what was lost."""
        if self.pending() == 0:
            return
        if self.exit_deadline is None:
            self.exit_deadline = time.monotonic() + timeout
        if self._thread is None or not self._thread.is_alive() or not self.flush(timeout):
            warn(f"{self.pending():,} logged values could not be delivered before exit.")


def _retryable(error: RunlabError) -> bool:
    if isinstance(error, ServerUnreachable):
        return True
    # No status: an answer that was not the server's JSON (a proxy, a restart in progress).
    return error.status is None or error.status >= 500 or error.status == 429


_batcher: Batcher | None = None
_batcher_lock = threading.Lock()


def batcher() -> Batcher:
    """The process's one batcher, with its sender thread running."""
    global _batcher
    if _batcher is None:
        with _batcher_lock:
            if _batcher is None:
                # Closed at exit by runlab.runs, after it has ended the active run.
                _batcher = Batcher()
    _batcher.ensure_started()
    return _batcher
