"""Runs: ``runlab.start()`` and the module-level logging functions, with an implicit current run.

Two styles, as in MLflow and W&B::

    with runlab.start(name="baseline", params={"lr": 0.1}) as run:
        run.log({"loss": 0.3}, step=1)

    runlab.param("lr", 0.1)          # starts a run if none is active
    runlab.metric("loss", 0.3, step=1)
    runlab.end()
    runlab.flush()  # optional: wait until the server has everything

Creating a run is the only call that waits on the server (briefly, so ``run.id`` is known at once);
if the server does not answer, the run is created in the background instead. Everything else,
``end()`` included, is queued and sent by ``runlab.runs.batcher``; ``runlab.flush()`` waits for delivery.

In a runner job's kernel (RUNLAB_RUN_ID set by the runner agent) the job already has its run,
created when the job was queued. Every ``runlab.start()`` there — and so autolog, ``%%track`` and
the implicit run of ``runlab.metric(...)`` — continues that run instead of creating one: the
notebook runs unchanged on a runner and all it logs lands in the job's run. Ending belongs to the
job: ``run.end()`` (or leaving a ``with`` block) only stops that ``Run`` object and sends what it
logged; the job's run ends with the notebook, finished or failed as the notebook did, because a
notebook that calls ``end()`` halfway has not finished the job. A later ``start()`` in the same
kernel continues the same run again; params stay write-once across them.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from runlab import config
from runlab.client import Client, RunlabError, ServerUnreachable, Timeout
from runlab.origin import detect_origin
from runlab.runs import environment
from runlab.runs.batcher import (
    END_WAIT_S,
    FLUSH_POINTS,
    FLUSH_WAIT_S,
    Batcher,
    RunHandle,
    batcher,
    fit,
    is_log_key,
    is_text,
    well_formed,
)
from runlab.runs.environment import SourceKind
from runlab.warning import warn

EndStatus = Literal["finished", "failed", "killed"]
# What a run read or wrote: a file or folder, a dataset version (``name@v3``), a stored artifact.
IOKind = Literal["path", "dataset", "artifact"]

# The contract's lengths (in characters) of a param, a tag, and a failed run's message and traceback.
MAX_PARAM_LENGTH = 6000
MAX_TAG_LENGTH = 8000
MAX_ERROR_MESSAGE_LENGTH = 10000
MAX_TRACEBACK_LENGTH = 200000

# Creating a run waits at most this long before falling back to creating it in the background.
CREATE_TIMEOUT: Timeout = (1.0, 5.0)

_time_ns = time.time_ns

# Set by _kernel_attach: the browser tab whose kernel this is; that tab snapshots the notebook.
frontend_id: str | None = None

_active: Run | None = None
_active_lock = threading.RLock()

# Datasets read (``runlab.dataset(...).path()``) while no run was active: they become inputs of
# the next run this process starts.
_pending_inputs: list[dict[str, Any]] = []


class Run:
    """One tracked execution. Use as a context manager, or call ``end()``."""

    def __init__(self, handle: RunHandle, sender: Batcher, requested_name: str | None, *, job: bool = False) -> None:
        self._handle = handle
        self._batcher = sender
        self._queue = sender.queue
        self._requested_name = requested_name
        self._params: dict[str, str] = {}
        self._ended = False
        # The run of the runner job this kernel executes: its end is the job's, not ours.
        self._job = job

    @property
    def is_job_run(self) -> bool:
        """True in a runner job's kernel: this is the job's run, which the job ends."""
        return self._job

    # -- identity -------------------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The server's run id; None only while the server is unreachable and the run waits to be
        created."""
        return self._handle.id

    @property
    def name(self) -> str | None:
        return self._handle.server_run.get("name") or self._requested_name

    @property
    def ended(self) -> bool:
        return self._ended

    def __repr__(self) -> str:
        state = "ended" if self._ended else "active"
        return f"<runlab.Run id={self.id!r} name={self.name!r} {state}>"

    # -- logging ----------------------------------------------------------------------------------

    def metric(self, key: str, value: float, step: int | None = None) -> None:
        """Log one point of a metric series. Costs about a microsecond: the value is only queued."""
        if value.__class__ is not float:
            # Converted now, not when sent: a tensor or array may change in place afterwards.
            try:
                value = float(value)
            except (TypeError, ValueError, OverflowError):
                warn(f"metric {key!r} got {value!r}, which is not a float64 number; it was not logged.")
                return
        queue = self._queue
        queue.append((self._handle, key, value, step, _time_ns()))
        if len(queue) >= FLUSH_POINTS:
            self._batcher.backlog(len(queue))

    def log(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log several metrics at the same step (``wandb.log`` / ``mlflow.log_metrics``)."""
        for key, value in metrics.items():
            self.metric(key, value, step)

    def param(self, key: str, value: Any) -> None:
        """Record a hyper-parameter. Params are write-once: a different value for the same key is
        refused with a warning (log a metric or a tag for values that change)."""
        text = _param_text(value)
        previous = self._params.get(key)
        if previous is not None:
            if previous != text:
                warn(
                    f"param {key!r} is already {previous!r} in this run; {text!r} was not "
                    "logged (params are write-once; use a metric or a tag for values that change)."
                )
            return
        self._params[key] = text
        self._batcher.append((self._handle, "param", (key, text)))

    def params(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            self.param(key, value)

    def tag(self, key: str, value: Any) -> None:
        """Set a tag; unlike a param, a tag may be changed."""
        self._batcher.append((self._handle, "tag", (key, fit(str(value), MAX_TAG_LENGTH))))

    def tags(self, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            self.tag(key, value)

    def input(self, path_or_dataset: str | os.PathLike[str]) -> None:
        """Record what the run read: a file or folder path, or a dataset as ``name@version``."""
        self._batcher.append((self._handle, "input", _io_entry(path_or_dataset)))

    def output(self, path: str | os.PathLike[str]) -> None:
        """Record a file or folder the run wrote (its content stays where it is)."""
        self._batcher.append((self._handle, "output", _io_entry(path, dataset_allowed=False)))

    def artifact(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        """Store a file (or every file in a folder) with the run, as it is now, and record it as an
        output. ``name`` is its path among the run's artifacts (default: the file's name)."""
        source = Path(path)
        if source.is_dir():
            base = name or source.name
            files = [
                (f"{base}/{p.relative_to(source).as_posix()}", p) for p in sorted(source.rglob("*")) if p.is_file()
            ]
        elif source.is_file():
            files = [(name or source.name, source)]
        else:
            warn(f"artifact {str(path)!r} does not exist; nothing was stored.")
            return
        for artifact_path, file in files:
            try:
                # Read now: the file may be overwritten or deleted once this call returns.
                content = file.read_bytes()
            except OSError as error:
                warn(f"cannot read artifact {str(file)!r}: {error}; it was not stored.")
                continue
            digest = hashlib.sha256(content).hexdigest()
            self._batcher.append((self._handle, "artifact", (artifact_path, content)))
            self._batcher.append((self._handle, "output", _io("artifact", artifact_path, digest)))

    def flush(self, timeout: float = FLUSH_WAIT_S) -> bool:
        """Wait until everything logged so far has reached the server; False (with a warning that
        says what is pending) if it has not in ``timeout`` seconds — it keeps being retried in the
        background."""
        return self._batcher.flush(timeout, warn_if_pending=True)

    # -- ending -----------------------------------------------------------------------------------

    def end(
        self,
        status: EndStatus = "finished",
        *,
        error: BaseException | None = None,
        traceback_text: str | None = None,
        wait: bool = False,
        timeout: float = END_WAIT_S,
        warn_if_pending: bool = True,
    ) -> None:
        """End the run. The end is queued behind the run's values and sent in order, so the next
        run starts at once; call ``runlab.flush()`` (or pass ``wait=True``) to wait, at most
        ``timeout`` s, until everything is delivered. At interpreter exit queued values get one
        bounded wait."""
        global _active
        with _active_lock:
            if _active is self:
                _active = None
            if self._ended:
                return
            self._ended = True
        if self._job:
            # The job's run ends when the notebook does, as the runner reports it; what this Run
            # logged is only sent on (and waited for, with wait=True).
            self._batcher.wake.set()
            if wait:
                self._batcher.flush(timeout, warn_if_pending=warn_if_pending)
            return
        if status not in ("finished", "failed", "killed"):
            warn(f"unknown run status {status!r}; ending the run as 'failed'.")
            status = "failed"
        update: dict[str, Any] = {"status": status, "endedAt": _now_iso()}
        if error is not None or traceback_text is not None:
            if error is not None:
                message = _error_message(error)
            else:
                lines = (traceback_text or "").strip().splitlines()
                message = lines[-1] if lines else "error"
            trace = traceback_text or _format_traceback(error)
            # A traceback keeps its end, which explains it.
            update["error"] = {
                "message": well_formed(fit(message, MAX_ERROR_MESSAGE_LENGTH)),
                "traceback": well_formed(fit(trace, MAX_TRACEBACK_LENGTH, tail=True)) if trace else None,
            }
        self._batcher.append((self._handle, "update", update))
        self._batcher.wake.set()
        if not wait:
            return
        if not self._batcher.flush(timeout) and warn_if_pending:
            warn(
                f"the run ended, but {self._batcher.pending():,} values are still waiting for the "
                "server; they keep being sent in the background."
            )

    def abandon(self) -> None:
        """Stop delivering this run's queued values (say, its server is gone for good); they are
        dropped, and other runs' values are no longer held up behind them."""
        self._handle.abandoned = True
        self._batcher.wake.set()

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if error is None:
            self.end("finished")
        else:
            status: EndStatus = "killed" if isinstance(error, KeyboardInterrupt) else "failed"
            self.end(status, error=error)


# -- starting ---------------------------------------------------------------------------------------


def start(
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    *,
    project: str | None = None,
    source: SourceKind | None = None,
    cell: str | None = None,
    resume: str | None = None,
) -> Run:
    """Start a run and make it the current one (ending the current one, if any, as finished).

    In a notebook the run records the notebook's path and the browser tab that snapshots it; in a
    script the script and its local modules are snapshotted by this client. ``project`` files the
    run in that project instead of the configured one. ``resume=<run id>`` continues an existing
    run instead (say, after the process that logged it was killed): it is marked running again
    and what is logged next is added to it (``mlflow.start_run(run_id=...)``).

    In a runner job's kernel (RUNLAB_RUN_ID set) it continues the job's run; ``name`` and
    ``project`` are then the job's, and ``params`` and ``tags`` are added to it.
    """
    global _active
    with _active_lock:
        previous = _active
    if previous is not None:
        previous.end("finished")

    settings = config.resolve()
    origin = detect_origin()
    kind: SourceKind = source or origin.kind
    notebook_path = settings.notebook_path
    snapshot: dict[str, Any] | None = None
    if origin.kind == "script" and origin.script is not None:
        root = environment.default_root()
        notebook_path = origin.script.relative_to(root).as_posix()
        snapshot = {
            "notebookPath": notebook_path,
            "notebook": None,
            "files": environment.script_snapshot_files(origin.script, root),
        }

    # A key the server would refuse would cost the whole run: left out here, with a warning.
    param_texts = {key: _param_text(value) for key, value in _valid_keys(params, "param").items()}
    body: dict[str, Any] = {
        "project": config.project_for(project, settings),
        "params": param_texts,
        "tags": {key: fit(str(value), MAX_TAG_LENGTH) for key, value in _valid_keys(tags, "tag").items()},
        "notebookPath": notebook_path,
        "source": {"kind": kind, "cell": cell},
        "environment": environment.environment(),
        "frontendId": frontend_id if origin.kind == "notebook" else None,
        # In a notebook the browser sends the notebook itself; the modules come from here, now,
        # because by the time the browser asks, the kernel is busy running this very cell.
        "moduleFiles": environment.local_module_files() if origin.kind == "notebook" else [],
        "startedAt": _now_iso(),
        # One key for this run's create, reused if the request is retried in the background after
        # its answer was lost, so the server never starts the run twice.
        "idempotencyKey": uuid.uuid4().hex,
    }
    if name is not None:
        body["name"] = name

    sender = batcher()
    job_run = config.job_run_id() if resume is None else None
    if job_run is not None and settings.url is not None:
        return _continue_job_run(job_run, settings, sender, name, param_texts, body["tags"])
    handle = RunHandle(url=settings.url or "", token=settings.token)
    if settings.url is None:
        handle.refused = True
        warn(
            "No Runlab server is configured, so this run is not recorded. Start one with `npm start` "
            "or `npx runlab-server serve` (in a Runlab checkout), or set RUNLAB_URL."
        )
    elif resume is not None:
        handle.id = str(resume)
        sender.append((handle, "update", {"status": "running"}))
        for key, text in param_texts.items():
            sender.append((handle, "param", (key, text)))
        for key, value in body["tags"].items():
            sender.append((handle, "tag", (key, value)))
    else:
        _create(handle, body)

    run = Run(handle, sender, name)
    run._params.update(param_texts)
    # A resumed run keeps the snapshot it started from: a run is pinned to one commit.
    if snapshot is not None and not handle.refused and resume is None:
        sender.append((handle, "snapshot", snapshot))
    with _active_lock:
        _active = run
        pending = list(_pending_inputs)
        _pending_inputs.clear()
    for entry in pending:
        sender.append((handle, "input", entry))
    return run


# In a runner job's kernel: the job's run, shared by every start() there, and its params.
_job_handle: RunHandle | None = None
_job_params: dict[str, str] = {}


def _continue_job_run(
    run_id: str,
    settings: config.Settings,
    sender: Batcher,
    name: str | None,
    param_texts: dict[str, str],
    tags: dict[str, str],
) -> Run:
    """A Run on the runner job's run (created by the server when the job was queued)."""
    global _active, _job_handle
    with _active_lock:
        if _job_handle is None or _job_handle.id != run_id:
            _job_handle = RunHandle(url=settings.url or "", token=settings.token, id=run_id)
            _job_params.clear()
        handle = _job_handle
    run = Run(handle, sender, name, job=True)
    # One set of params for the job's run, whichever Run object logs them: write-once holds.
    run._params = _job_params
    for key, text in param_texts.items():
        run.param(key, text)
    for key, value in tags.items():
        sender.append((handle, "tag", (key, value)))
    with _active_lock:
        _active = run
        pending = list(_pending_inputs)
        _pending_inputs.clear()
    for entry in pending:
        sender.append((handle, "input", entry))
    return run


def record_dataset_input(ref: str, digest: str | None) -> None:
    """Record dataset version ``ref`` (``iris@v3``) as an input of the current run, or, with no
    run active, of the next run started in this process."""
    entry = _io("dataset", ref, digest)
    with _active_lock:
        run = _active
        if run is None or run.ended:
            if entry not in _pending_inputs:
                _pending_inputs.append(entry)
            return
    run._batcher.append((run._handle, "input", entry))


# One client (and kept-alive connection) per server for creating runs, so a script that starts
# many runs does not open a connection for each; the lock also keeps creates in start order.
_create_clients: dict[tuple[str, str | None], Client] = {}
_create_lock = threading.Lock()


def _create(handle: RunHandle, body: dict[str, Any]) -> None:
    """Create the run now if the server answers quickly; otherwise queue its creation."""
    try:
        with _create_lock:
            key = (handle.url, handle.token)
            client = _create_clients.get(key)
            if client is None:
                client = _create_clients[key] = Client(handle.url, handle.token, timeout=CREATE_TIMEOUT)
            run = client.create_run(body)
    except ServerUnreachable as error:
        # One warning per outage: the sender stays quiet about this one.
        batcher().outage_warned = True
        warn(
            f"{error.message}; the run will be created when the server answers, and what it "
            "logs is kept until then. Your code keeps running."
        )
    except RunlabError as error:
        if error.status is not None and 400 <= error.status < 500:
            handle.refused = True
            warn(f"the server refused to start the run: {error}. This run is not recorded.")
            return
        warn(f"starting the run failed ({error}); it will be retried in the background.")
    else:
        handle.id = str(run["id"])
        handle.server_run = run
        return
    handle.create_body = body
    batcher().append((handle, "create", None))


def active_run() -> Run | None:
    """The current run, if one is active."""
    return _active


def _current() -> Run:
    run = _active
    if run is None:
        with _active_lock:
            run = _active if _active is not None else start()
    return run


# -- module-level API, on the current run (started implicitly when none is active) --------------------


def metric(key: str, value: float, step: int | None = None) -> None:
    """Log one metric point to the current run."""
    run = _active
    if run is None:
        run = _current()
    run.metric(key, value, step)


def log(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Log several metrics at one step to the current run."""
    _current().log(metrics, step)


def param(key: str, value: Any) -> None:
    _current().param(key, value)


def params(values: Mapping[str, Any]) -> None:
    _current().params(values)


def tag(key: str, value: Any) -> None:
    _current().tag(key, value)


def input(path_or_dataset: str | os.PathLike[str]) -> None:  # shadows the builtin: the domain's word
    _current().input(path_or_dataset)


def output(path: str | os.PathLike[str]) -> None:
    _current().output(path)


def artifact(path: str | os.PathLike[str], name: str | None = None) -> None:
    _current().artifact(path, name)


def end(status: EndStatus = "finished", *, wait: bool = False) -> None:
    """End the current run (if any). Its values keep being delivered in the background; call
    ``runlab.flush()`` (or pass ``wait=True``) to wait for them."""
    run = _active
    if run is not None:
        run.end(status, wait=wait)


def flush(timeout: float = FLUSH_WAIT_S) -> bool:
    """Wait until everything logged so far has reached the server; False (with a warning that
    says what is still pending, and why) if it has not in ``timeout`` seconds."""
    return batcher().flush(timeout, warn_if_pending=True)


# -- helpers ------------------------------------------------------------------------------------------


def _valid_keys(values: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    valid = {}
    for key, value in (values or {}).items():
        if not is_log_key(key):
            warn(f"{what} key {key!r} is not valid (use letters, digits, spaces and _ - . / :); it was not logged.")
        elif not is_text(str(value)):
            warn(f"{what} {key!r} holds text that is not valid Unicode (a lone surrogate); it was not logged.")
        else:
            valid[key] = value
    return valid


def _param_text(value: Any) -> str:
    # Params are strings on the server (MLflow semantics); str() keeps 0.1 as "0.1", True as "True".
    return fit(str(value), MAX_PARAM_LENGTH)


def _io_entry(value: str | os.PathLike[str], *, dataset_allowed: bool = True) -> dict[str, Any]:
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    path = Path(text)
    if path.exists():
        digest = _file_digest(path) if path.is_file() else None
        return _io("path", _display_path(path), digest)
    if dataset_allowed and "@" in text and "/" not in text.split("@", 1)[1]:
        return _io("dataset", text, None)
    return _io("path", text, None)


def _io(kind: IOKind, name: str, digest: str | None) -> dict[str, Any]:
    """A RunIO entry."""
    return {"kind": kind, "name": name, "digest": digest}


def _display_path(path: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _file_digest(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _error_message(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _format_traceback(error: BaseException | None) -> str | None:
    if error is None:
        return None
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def _at_exit() -> None:
    """End a run left active when the interpreter (or kernel) exits, then give queued values one
    bounded wait (END_WAIT_S in all) to reach the server."""
    from runlab.runs import batcher as batcher_module

    sender = batcher_module._batcher
    deadline = time.monotonic() + END_WAIT_S
    if sender is not None:
        sender.exit_deadline = deadline
    run = _active
    if run is not None and not run.ended:
        # The interpreter sets these for an uncaught exception before running atexit; IPython
        # sets them for any cell error too, so in a kernel the run simply finishes.
        uncaught = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
        status: EndStatus = "finished"
        if uncaught is not None and detect_origin().kind != "notebook":
            status = "failed"
        run.end(status, error=uncaught if status == "failed" else None)
    if sender is not None:
        sender.close(max(0.0, deadline - time.monotonic()))


atexit.register(_at_exit)
