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
import queue
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import compress, count, islice, repeat
from math import isfinite
from operator import is_not, itemgetter
from types import NoneType
from typing import Any, TypeVar

from runlab.client import Client, RunlabError, ServerUnreachable, Timeout
from runlab.warning import warn

T = TypeVar("T")

# Sizes and intervals: the user's thread only appends to the queue; the sender wakes once enough
# values wait or a short interval has passed, and sends them as few large batches.
FLUSH_POINTS = 5_000  # wake the sender once this many values are queued
FLUSH_INTERVAL_S = 0.5  # ...or after this long
# Per request: half the points the contract allows, so a batch encodes well under the body limit;
# the contract's own limits on distinct metric keys and on inputs and outputs.
MAX_BATCH_POINTS = 50_000
MAX_BATCH_KEYS = 10_000
MAX_BATCH_IO = 1_000
# What a batch of MAX_BATCH_POINTS encodes to, at most, well under the server's default body limit;
# a server configured lower answers 413, and the batch is sent in halves.
MAX_BATCH_BYTES = 8_000_000
MAX_QUEUED = 5_000_000  # then the oldest values are dropped, with one warning
END_WAIT_S = 10.0  # how long end(wait=True) and interpreter exit wait for delivery
FLUSH_WAIT_S = 60.0  # how long flush() waits by default: longer than a server restart takes
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 2.0
# A request answered "internal error" this many times in a row is a server bug, not an outage:
# it is dropped (with a warning) so it cannot hold up everything queued behind it.
INTERNAL_ERROR_ATTEMPTS = 5
LOG_TIMEOUT: Timeout = (2.0, 30.0)

# Fields of a LogBatchRequest that records fill, besides metrics.
_LOG_KINDS = {"param": "params", "tag": "tags", "input": "inputs", "output": "outputs"}
# Records that are requests of their own, sent in queue order.
_CONTROL_KINDS = {"create", "update", "artifact", "snapshot", "barrier"}

# The contract's LogKey, its pattern exactly as the OpenAPI document states it, and its length:
# MLflow's key characters, as a normalized path (no "." or ".." segment, no leading, trailing or
# doubled "/"). ASCII \w, as in JavaScript; used with fullmatch, so a trailing newline is refused
# too. Check keys with ``is_log_key``.
LOG_KEY_PATTERN = r"^(?!\/)(?!.*\/\/)(?!.*\/$)(?!(?:.*\/)?\.{1,2}(?:\/|$))[\w\-. /:]+$"
LOG_KEY_MAX_LENGTH = 250
LOG_KEY = re.compile(LOG_KEY_PATTERN, re.ASCII)
# The largest step the server reads back exactly (2^53 - 1; the contract's MAX_WHOLE_NUMBER).
MAX_STEP = 2**53 - 1
# What JSON carries for the float64 values it has no number for, as the server's contract does.
_NON_FINITE = {float("inf"): "Infinity", float("-inf"): "-Infinity"}


def is_log_key(key: object) -> bool:
    """Whether the server accepts ``key`` as a param, tag or metric key."""
    return isinstance(key, str) and len(key) <= LOG_KEY_MAX_LENGTH and LOG_KEY.fullmatch(key) is not None


def fit(text: str, limit: int, *, tail: bool = False) -> str:
    """At most ``limit`` characters of ``text`` (the server's limits count code points, as Python
    does), keeping the end with ``tail``."""
    return text[-limit:] if tail else text[:limit]


def is_text(text: str) -> bool:
    """False for a string holding a lone surrogate (from a file name that is not valid UTF-8,
    say): not Unicode text, and the server refuses the whole request that carries one."""
    return not _LONE_SURROGATE.search(text)


def well_formed(text: str) -> str:
    """``text`` with any lone surrogate replaced by U+FFFD."""
    return text if is_text(text) else _LONE_SURROGATE.sub("\ufffd", text)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_value(value: float) -> float | str:
    """A metric value as the contract carries it: NaN and ±Infinity by name."""
    if value - value == 0.0:
        return value
    return "NaN" if value != value else _NON_FINITE[value]


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
    """One LogBatchRequest. Its idempotency key is made with it, once, and is in every encoding.

    Metric points travel as columns (``metricColumns``): the keys once, then per point an index
    into them, the value, the step (None: the next one) and the time in ms. Columns encode with
    ``json.dumps`` in C and the server parses and checks them several times faster than one
    object per point."""

    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    # The metric columns; keys[key_index[i]] is point i's key.
    keys: list[str] = field(default_factory=list)
    key_index: list[int] = field(default_factory=list)
    values: list[float | str] = field(default_factory=list)
    steps: list[int | None] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)

    @property
    def points(self) -> int:
        return len(self.key_index)

    def encode(self) -> bytes:
        body: dict[str, Any] = {
            "idempotencyKey": self.key,
            "params": self.params,
            "tags": self.tags,
            "inputs": self.inputs,
            "outputs": self.outputs,
        }
        if self.key_index:
            body["metricColumns"] = {
                "keys": self.keys,
                "keyIndex": self.key_index,
                "values": self.values,
                "steps": self.steps,
                "timestamps": self.timestamps,
            }
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()

    def within_limits(self) -> list[_Batch]:
        """This batch, or, when it holds more distinct keys, inputs or outputs than the contract
        allows in one request, several that do not, the points in their order. Only for a batch
        not yet sent: the parts get keys of their own."""
        if len(self.keys) <= MAX_BATCH_KEYS and len(self.inputs) <= MAX_BATCH_IO and len(self.outputs) <= MAX_BATCH_IO:
            return [self]
        parts = [_Batch(params=self.params, tags=self.tags)]
        for name in ("inputs", "outputs"):
            entries = getattr(self, name)
            for start in range(0, len(entries), MAX_BATCH_IO):
                if start:
                    parts.append(_Batch())
                setattr(parts[-1], name, entries[start : start + MAX_BATCH_IO])
        current = parts[-1]
        positions: dict[str, int] = {}
        for point, key_position in enumerate(self.key_index):
            key = self.keys[key_position]
            position = positions.get(key)
            if position is None:
                if len(current.keys) == MAX_BATCH_KEYS:
                    current = _Batch()
                    parts.append(current)
                    positions = {}
                position = positions[key] = len(current.keys)
                current.keys.append(key)
            current.key_index.append(position)
            current.values.append(self.values[point])
            current.steps.append(self.steps[point])
            current.timestamps.append(self.timestamps[point])
        return parts

    def halves(self) -> list[_Batch]:
        """Two batches with new keys (for a batch the server refused whole, so never applied)."""
        half = len(self.key_index) // 2
        first = _Batch(params=self.params, tags=self.tags, inputs=self.inputs, outputs=self.outputs)
        second = _Batch()
        for part, window in ((first, slice(0, half)), (second, slice(half, None))):
            part.keys = self.keys
            part.key_index = self.key_index[window]
            part.values = self.values[window]
            part.steps = self.steps[window]
            part.timestamps = self.timestamps[window]
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
        # Why the request being retried has not been delivered yet, for flush()'s warning.
        self.last_problem: str | None = None
        self._dropped_warned = False
        self._refusals_warned: set[str] = set()
        self._invalid_warned: set[str] = set()
        # Metric keys already checked, for the encoder.
        self._valid_keys: set[str] = set()
        # Set at interpreter exit: stop retrying once this monotonic time passes.
        self.exit_deadline: float | None = None
        # Snapshots go out on a side thread, so a commit on the server does not hold up the
        # values behind it; barriers wait for them too.
        self._side_queue: queue.Queue[tuple[RunHandle, Any]] = queue.Queue()
        self._side_thread: threading.Thread | None = None
        self._side_clients: dict[tuple[str, str | None], Client] = {}

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
            warn(f"{MAX_QUEUED:,} values are waiting for the server; the oldest are being dropped to bound memory.")
        if not self.wake.is_set():
            self.wake.set()

    def ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="runlab-sender", daemon=True)
                self._thread.start()

    def flush(self, timeout: float = FLUSH_WAIT_S, *, warn_if_pending: bool = False) -> bool:
        """Wait until everything queued before this call is delivered (or refused); False when
        the wait timed out and values are still queued (they keep being retried). With
        ``warn_if_pending``, a timed-out wait says what is still on its way and why."""
        self.ensure_started()
        delivered = threading.Event()
        self.queue.append((None, "barrier", delivered))
        self.wake.set()
        if delivered.wait(timeout):
            return True
        if warn_if_pending:
            reason = f" (last problem: {self.last_problem})" if self.last_problem else ""
            warn(
                f"{self.pending():,} logged values are still on their way to the server after "
                f"{timeout:g} s{reason}; they keep being sent in the background. Call "
                "runlab.flush() again to wait longer."
            )
        return False

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
                # Snapshots handed to the side thread before this barrier are delivered too.
                self._side_queue.join()
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
                try:
                    run = self._retrying(handle, lambda: client.update_run(run_id, payload))
                except RunlabError as error:
                    if "status" not in payload or set(payload) <= {"status", "endedAt"}:
                        raise
                    # The run must not stay "running" because its error text was refused: end it
                    # with its status alone, and say what was lost.
                    ending = {name: payload[name] for name in ("status", "endedAt") if name in payload}
                    run = self._retrying(handle, lambda: client.update_run(run_id, ending))
                    self._refused(
                        handle, f"the server refused the run's error details ({error}); the run was ended without them."
                    )
                handle.server_run = run
            elif kind == "artifact":
                path, content = payload
                self._retrying(handle, lambda: client.upload_artifact(run_id, path, content))
            elif kind == "snapshot":
                self._start_side()
                self._side_queue.put((handle, payload))
        except RunlabError as error:
            what = {"update": "update the run", "artifact": "store the artifact", "snapshot": "store the snapshot"}
            self._refused(handle, f"the server refused to {what.get(kind, kind)}: {error}")

    def _start_side(self) -> None:
        if self._side_thread is None or not self._side_thread.is_alive():
            self._side_thread = threading.Thread(target=self._run_side, name="runlab-snapshots", daemon=True)
            self._side_thread.start()

    def _run_side(self) -> None:
        """The side thread: delivers script snapshots (a git commit on the server each) while the
        sender goes on with the values queued behind them."""
        while True:
            handle, payload = self._side_queue.get()
            try:
                assert handle.id is not None
                run_id = handle.id
                key = (handle.url, handle.token)
                client = self._side_clients.get(key)
                if client is None:
                    client = self._side_clients[key] = Client(handle.url, handle.token, timeout=LOG_TIMEOUT)
                self._retrying(handle, partial(client.create_snapshot, run_id, payload))
            except RunlabError as error:
                self._refused(handle, f"the server refused to store the snapshot: {error}")
            except _GiveUp:
                pass  # exiting: the wait is over
            except Exception as error:  # the side thread must survive anything and keep serving
                warn(f"internal error while sending a snapshot: {error!r}")
            finally:
                self._side_queue.task_done()

    def _send_batch(self, handle: RunHandle) -> None:
        """Take the run's next values off the queue, as one or more batches, and deliver them."""
        queue = self.queue
        # The run's leading records, found with C-level scans rather than record by record: a
        # copy of the queue's head (atomic under the GIL), cut at the first record of another run
        # and at the first control record.
        window = list(islice(queue, 0, MAX_BATCH_POINTS))
        handles = list(map(itemgetter(0), window))
        end = len(window)
        if handles.count(handle) != end:
            end = next(compress(count(), map(is_not, handles, repeat(handle))), end)
        lengths = list(map(len, window[:end]))
        position = 0
        while True:
            try:
                position = lengths.index(3, position)
            except ValueError:
                break
            if window[position][1] not in _LOG_KINDS:
                end = position
                break
            position += 1
        records = window[:end]
        popleft = queue.popleft
        for _ in range(end):
            popleft()
        self.in_flight = len(records)
        try:
            pending = self._encode(records)
            while pending:
                batch = pending.pop(0)
                assert handle.id is not None
                run_id, client, body = handle.id, self._client(handle), batch.encode()
                try:
                    # The same body, so the same idempotency key, on every attempt.
                    result = self._retrying(handle, partial(client.post_log_batch, run_id, body))
                    self.delivered_points += int(result.get("stored", 0)) if isinstance(result, dict) else 0
                except RunlabError as error:
                    if error.code == "payload_too_large" and batch.points > 1:
                        # A server with a smaller body limit: nothing was applied; send halves.
                        pending[:0] = batch.halves()
                        continue
                    self._refused(handle, f"the server refused logged values: {error}; they were dropped.")
        finally:
            self.in_flight = 0

    def _encode(self, records: list[tuple[Any, ...]]) -> list[_Batch]:
        """LogBatchRequests for these records: usually one (the sender takes at most
        MAX_BATCH_POINTS records, which encode well under MAX_BATCH_BYTES), more when they hold
        more distinct metric keys, inputs or outputs than one request may carry."""
        batch = _Batch()
        points = [record for record in records if len(record) == 5]
        for record in records:
            if len(record) != 5:
                field_name = _LOG_KINDS[record[1]]
                if field_name in ("params", "tags"):
                    key, value = record[2]
                    # A bad key would make the server refuse the whole batch, points included.
                    if not is_log_key(key):
                        what = field_name[:-1]
                        self._invalid(
                            f"{what}:{key!r}",
                            f'{what} key {key!r} is not valid (use letters, digits, spaces and _ - . / :, with no "." or ".." segment and no leading, trailing or doubled /)',
                        )
                        continue
                    if not is_text(value):
                        what = field_name[:-1]
                        self._invalid(
                            f"{what}-text:{key!r}",
                            f"{what} {key!r} holds text that is not valid Unicode (a lone surrogate)",
                        )
                        continue
                    getattr(batch, field_name)[key] = value
                else:
                    getattr(batch, field_name).append(record[2])
        if points and not self._fast_columns(batch, points):
            self._checked_columns(batch, points)
        return batch.within_limits()

    def _fast_columns(self, batch: _Batch, points: list[tuple[Any, ...]]) -> bool:
        """The sender's hot path: columns built with C-level transposes and maps. False (and
        nothing filled) when any point needs a look: a new or bad key, a non-finite value, a step
        that is not a whole number >= 0."""
        _, keys, values, steps, times = zip(*points, strict=True)
        distinct = dict.fromkeys(keys)
        valid_keys = self._valid_keys
        for key in distinct:
            if key not in valid_keys and not self._valid_key(key):
                return False
        if not all(map(isfinite, values)):
            return False
        step_types = set(map(type, steps))
        if step_types == {int}:
            if min(steps) < 0 or max(steps) > MAX_STEP:
                return False
        elif step_types <= {int, NoneType}:
            if int in step_types:
                given = [step for step in steps if step is not None]
                if min(given) < 0 or max(given) > MAX_STEP:
                    return False
        else:
            return False
        batch.keys = list(distinct)
        index = {key: position for position, key in enumerate(batch.keys)}
        batch.key_index = list(map(index.__getitem__, keys))
        batch.values = list(values)
        batch.steps = list(steps)
        batch.timestamps = [time_ns // 1_000_000 for time_ns in times]
        return True

    def _checked_columns(self, batch: _Batch, points: list[tuple[Any, ...]]) -> None:
        """Columns point by point, leaving out (with one warning each) what the server would refuse."""
        index: dict[str, int] = {}
        for _, key, value, step, time_ns in points:
            position = index.get(key)
            if position is None:
                if not self._valid_key(key):
                    continue
                position = index[key] = len(batch.keys)
                batch.keys.append(key)
            if value - value != 0.0:  # NaN or ±inf: sent by name
                value = _json_value(value)
            if step is not None and (step.__class__ is not int or step < 0 or step > MAX_STEP):
                step = self._whole_step(key, step)
                if step is None:
                    continue
            batch.key_index.append(position)
            batch.values.append(value)
            batch.steps.append(step)
            batch.timestamps.append(time_ns // 1_000_000)
        if not batch.key_index:
            batch.keys = []

    def _valid_key(self, key: Any) -> bool:
        """Whether a metric key is valid (cached), with one warning for a bad one."""
        if key.__class__ is str and key in self._valid_keys:
            return True
        if not is_log_key(key):
            self._invalid(
                f"key:{key!r}",
                f'metric key {key!r} is not valid (use letters, digits, spaces and _ - . / :, with no "." or ".." segment and no leading, trailing or doubled /)',
            )
            return False
        self._valid_keys.add(key)
        return True

    def _whole_step(self, key: str, step: Any) -> int | None:
        try:
            whole = int(step)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite step
            whole = -1
        if whole < 0 or whole != step or whole > MAX_STEP:
            self._invalid(
                f"step:{key}",
                f"metric {key!r} got step {step!r}; steps are whole numbers from 0 to {MAX_STEP:,} (2^53 - 1)",
            )
            return None
        return whole

    # -- retries and warnings ---------------------------------------------------------------------

    def _retrying(self, handle: RunHandle, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds or fails for good; unreachable servers and server
        errors are retried with backoff (the same request, so the same idempotency key)."""
        delay = RETRY_FIRST_S
        internal_errors = 0
        while True:
            try:
                result = attempt()
            except RunlabError as error:
                if not _retryable(error) or handle.abandoned:
                    raise
                self.last_problem = error.message if isinstance(error, ServerUnreachable) else str(error)
                if error.code == "internal":
                    internal_errors += 1
                    if internal_errors >= INTERNAL_ERROR_ATTEMPTS:
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
            self.last_problem = None
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
                # Closed at exit by runlab.runs.api, after it has ended the active run.
                _batcher = Batcher()
    _batcher.ensure_started()
    return _batcher
