"""The runner agent, ``runlab runner start``: runs the server's jobs on this machine.

One socket.io connection to the server's ``/runners`` namespace (auth ``{"token": …}``), the
contract's ``RunnerClientEvents`` / ``RunnerServerEvents`` (server/src/contract/runners.ts):

- on every (re)connect it says ``runner:hello`` with this machine's capacity and the attempts it
  is still running; the welcome names the heartbeat interval and attempts to abandon (jobs the
  server gave to another runner while this one was away: stopped, nothing more sent for them);
- a heartbeat thread renews the leases of its running attempts every ``heartbeatMs``; the reply
  may ask it to abandon or cancel some;
- ``job:offer`` is accepted while a slot is free and the agent is not draining; each job then runs
  in its own thread: fetch the notebook (runner REST route), write it and its local modules into
  ``<work-dir>/<attemptId>/``, fetch the pinned dataset versions into the local cache, inject the
  parameters, execute it in a fresh kernel (runlab.runners.execute) with the job's settings in the
  kernel's environment, stream progress as ``job:event`` (batched, at most ten messages a second),
  upload the executed notebook and report ``job:complete``; the work dir is removed after.

Datasets: the kernel gets the job's versions as RUNLAB_DATASET_PINS, so ``runlab.dataset("iris")
.path()`` in the notebook reads the pinned version, as it does in JupyterLab. The agent fetches
those versions into the machine's dataset cache before the kernel starts, so a missing version
fails the job before any cell runs and the notebook's own ``.path()`` finds the files local.

Stopping: SIGTERM or SIGINT drains. The agent tells the server (``runner:drain``), accepts nothing
new, and waits up to ``--drain-grace`` seconds for its running jobs. Jobs still running then are
stopped (interrupt, then kill) and *not* reported: their leases run out on the server, which
requeues them for another runner (the scheduler's path for a lost runner; reporting them
``cancelled`` would end the jobs for good). A second signal ends the wait at once.

One job (``--once``, or RUNLAB_RUNNER_ONCE=1, as a Kubernetes Job's pod runs it): the agent takes
at most one job and exits once it has ended and been reported: 0 when it finished, 1 when it
failed, was cancelled, timed out or was lost. No offer within ``--idle-timeout`` seconds: exit 3.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

import nbformat

import runlab
from runlab import config
from runlab.client import TRANSFER_TIMEOUT, Client, RunlabError, ServerUnreachable
from runlab.runners import capacity as machine
from runlab.runners.environments import EnvironmentBuildError, ensure_environment
from runlab.runners.execute import ExecutionResult, execute_notebook
from runlab.runners.parameters import inject_parameters

NAMESPACE = "/runners"
# How long socket acks may take before the call is retried (the server answers in milliseconds).
ACK_TIMEOUT_S = 10
DRAIN_ACK_TIMEOUT_S = 2
# job:event batches: at most one message per interval, per job.
EVENT_INTERVAL_S = 0.1
# Events kept while the connection is down; older output is dropped past this.
MAX_BUFFERED_EVENTS = 5000
MAX_OUTPUT_TEXT = 1_000_000
DEFAULT_DRAIN_GRACE_S = 60.0
# After a drain's grace: how long a stopped job may take to end before the agent exits anyway.
STOP_WAIT_S = 20.0
DEFAULT_IDLE_TIMEOUT_S = 300.0
# --once: no job was offered within the idle timeout (a Kubernetes Job's pod with nothing to do).
IDLE_EXIT = 3

log = logging.getLogger("runlab.runner")


def _say(message: str) -> None:
    """One line on stdout: what an operator watching the runner sees."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} {message}", flush=True)


@dataclass
class AgentOptions:
    server: str
    token: str
    name: str | None = None
    labels: list[str] = field(default_factory=list)
    max_jobs: int | None = None
    work_dir: Path = field(default_factory=lambda: config.data_dir() / "runner")
    drain_grace_s: float = DEFAULT_DRAIN_GRACE_S
    # Take one job, exit when it has been reported; give up after idle_timeout_s without an offer.
    once: bool = False
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S


@dataclass
class _Job:
    offer: dict[str, Any]
    cancel: threading.Event = field(default_factory=threading.Event)
    # What a cancel asked for: `cancelled` or `timed_out`.
    outcome: str = "cancelled"
    # No longer this runner's (requeued elsewhere, or stale): stop and send nothing more.
    abandoned: bool = False
    # Stopped by a drain: left for the server to requeue when the lease passes; not reported.
    released: bool = False
    thread: threading.Thread | None = None

    @property
    def attempt_id(self) -> str:
        return str(self.offer["attemptId"])

    @property
    def label(self) -> str:
        return f"job {self.offer.get('jobId')} (attempt {self.offer.get('attemptNumber')})"

    @property
    def silent(self) -> bool:
        return self.abandoned or self.released


class _EventStream:
    """A job's executor events, sent as ``job:event`` batches on a thread of their own."""

    def __init__(self, agent: RunnerAgent, job: _Job) -> None:
        self._agent, self._job = agent, job
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"events-{job.attempt_id[:8]}", daemon=True)
        self._deadline = 0.0

    def start(self) -> None:
        self._thread.start()

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            last = self._events[-1] if self._events else None
            if (
                event.get("type") == "output"
                and last is not None
                and last.get("type") == "output"
                and last["index"] == event["index"]
                and last["stream"] == event["stream"]
                and len(last["text"]) + len(event["text"]) <= MAX_OUTPUT_TEXT
            ):
                last["text"] += event["text"]  # consecutive prints of a cell: one event
                return
            event = dict(event)
            if event.get("type") == "output" and len(event.get("text", "")) > MAX_OUTPUT_TEXT:
                event["text"] = event["text"][-MAX_OUTPUT_TEXT:]
            if event.get("type") == "cell" and event.get("cell_id") is None:
                event.pop("cell_id", None)
            self._events.append(event)
            if len(self._events) > MAX_BUFFERED_EVENTS:
                del self._events[0]

    def close(self, deadline_s: float) -> None:
        """Stop the thread once what is buffered is sent (across a reconnect), at most ``deadline_s``
        from now: the job's completion goes after its output."""
        self._deadline = time.monotonic() + deadline_s
        self._stop.set()
        self._thread.join(timeout=deadline_s + ACK_TIMEOUT_S + 2)

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(EVENT_INTERVAL_S)
            self._send()
            if stopping:
                with self._lock:
                    done = not self._events or self._job.silent
                if done or time.monotonic() >= self._deadline:
                    return
                time.sleep(0.5 - EVENT_INTERVAL_S)  # disconnected: retry at a gentler pace

    def _send(self) -> None:
        with self._lock:
            events, self._events = self._events, []
        if not events or self._job.silent:
            return
        reply = self._agent.call("job:event", {"attemptId": self._job.attempt_id, "events": events})
        if reply is None:
            with self._lock:  # not delivered: keep them for the next try
                self._events[:0] = events
                del self._events[: max(0, len(self._events) - MAX_BUFFERED_EVENTS)]
            return
        if not reply.get("ok", False):
            self._agent.refused(self._job, reply)


class RunnerAgent:
    def __init__(self, options: AgentOptions, *, client_factory: Callable[[], Client] | None = None) -> None:
        import socketio

        self.options = options
        self.max_jobs = 1 if options.once else options.max_jobs or 256
        self.work_dir = options.work_dir.expanduser().resolve()
        self._client_factory = client_factory or (
            lambda: Client(options.server, options.token, timeout=TRANSFER_TIMEOUT)
        )
        self.jobs: dict[str, _Job] = {}
        self._jobs_lock = threading.Lock()
        self.draining = False
        self.welcomed = threading.Event()
        self.heartbeat_s = 5.0
        self.lease_s = 30.0
        self.name = options.name or "runner"
        self._stop = threading.Event()
        self._signals = 0
        self._exit_code = 0
        # --once: whether the one job was taken, and how it ended once reported (None until then).
        self._took_job = False
        self._once_outcome: str | None = None
        self._idle_deadline: float | None = None
        self._idled_out = False
        self.sio = socketio.Client(
            reconnection=True,
            reconnection_attempts=0,  # forever: a runner outlives server restarts
            reconnection_delay=0.5,
            reconnection_delay_max=5,
            randomization_factor=0.5,
            logger=False,
            engineio_logger=False,
        )
        self._register_handlers()

    # -- the socket -------------------------------------------------------------------------------

    def _register_handlers(self) -> None:
        on = self.sio.on
        on("connect", self._on_connect, namespace=NAMESPACE)
        on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        on("connect_error", self._on_connect_error, namespace=NAMESPACE)
        on("job:offer", self._on_offer, namespace=NAMESPACE)
        on("job:cancel", self._on_cancel, namespace=NAMESPACE)
        on("runner:revoked", self._on_revoked, namespace=NAMESPACE)

    def call(self, event: str, payload: Any, timeout: float = ACK_TIMEOUT_S) -> dict[str, Any] | None:
        """Emit with an ack; the reply, or None when it could not be delivered (disconnected, no ack)."""
        import socketio

        try:
            reply = self.sio.call(event, payload, namespace=NAMESPACE, timeout=timeout)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            return None
        except Exception as error:  # a transport failing mid-call: treated as not delivered
            log.debug("%s failed: %r", event, error)
            return None
        return reply if isinstance(reply, dict) else {"ok": True}

    def refused(self, job: _Job, reply: dict[str, Any]) -> None:
        """The server refused a message about ``job``: a stale attempt is abandoned."""
        if job.silent:
            return
        message = reply.get("message") or reply.get("code") or "refused"
        if reply.get("code") in ("stale_attempt", "conflict", "not_found"):
            _say(f"{job.label}: the server no longer counts this attempt ({message}); stopping it")
            self._abandon(job.attempt_id)
        else:
            log.warning("%s: the server refused a message: %s", job.label, message)

    def _on_connect(self) -> None:
        # Acks are read by the same thread that runs handlers: the hello waits on its own thread.
        threading.Thread(target=self._hello, name="hello", daemon=True).start()

    def _on_disconnect(self, reason: Any = None) -> None:
        self.welcomed.clear()
        if not self._stop.is_set():
            _say(f"runner {self.name}: disconnected from {self.options.server}; reconnecting")

    def _on_connect_error(self, data: Any = None) -> None:
        message = data.get("message") if isinstance(data, dict) else data
        # "Connection error" is the server being away, already said once; a refusal is news.
        if str(message) != "Connection error":
            _say(f"runner {self.name}: the server refused the connection: {message}")

    def _hello(self) -> None:
        with self._jobs_lock:
            attempts = [job.attempt_id for job in self.jobs.values() if not job.silent]
        payload = {
            "capacity": machine.capacity(),
            "maxJobs": self.max_jobs,
            "labels": list(self.options.labels),
            "version": runlab.__version__,
            "attempts": attempts,
        }
        reply = self.call("runner:hello", payload, timeout=30)
        if reply is None:
            return  # disconnected again: the next connect says hello again
        if not reply.get("ok", False):
            _say(f"runner {self.name}: the server refused its hello: {reply.get('message') or reply.get('code')}")
            self._exit_code = 1
            self._stop.set()
            return
        self.name = str(reply.get("name") or self.name)
        self.heartbeat_s = max(0.05, float(reply.get("heartbeatMs", 5000)) / 1000)
        self.lease_s = float(reply.get("leaseMs", 30000)) / 1000
        for attempt in reply.get("abandon") or []:
            self._abandon(str(attempt))
        first = not getattr(self, "_greeted", False)
        self._greeted = True
        self.welcomed.set()
        if first:
            cap = payload["capacity"]
            gpus = f", {len(cap['gpus'])} GPU(s)" if cap["gpus"] else ""
            labels = f", labels {','.join(self.options.labels)}" if self.options.labels else ""
            _say(
                f"runner {self.name}: connected to {self.options.server} ({cap['cpus']} CPUs{gpus}{labels}); "
                "waiting for jobs"
            )
        else:
            _say(f"runner {self.name}: reconnected; still running {len(attempts)} job(s)")
        if self.draining:
            self.call("runner:drain", {})

    def _on_offer(self, offer: dict[str, Any]) -> dict[str, bool]:
        with self._jobs_lock:
            running = sum(1 for job in self.jobs.values() if not job.silent)
            if self.draining or self._stop.is_set() or running >= self.max_jobs or not isinstance(offer, dict):
                return {"accepted": False}
            if self.options.once and self._took_job:
                return {"accepted": False}
            job = _Job(offer=offer)
            self.jobs[job.attempt_id] = job
            self._took_job = True
        job.thread = threading.Thread(target=self._run_job, args=(job,), name=f"job-{job.attempt_id[:8]}", daemon=True)
        job.thread.start()
        return {"accepted": True}

    def _on_cancel(self, payload: dict[str, Any]) -> None:
        if isinstance(payload, dict):
            self._cancel(str(payload.get("attemptId")), str(payload.get("outcome") or "cancelled"))

    def _on_revoked(self, payload: Any = None) -> None:
        message = payload.get("message") if isinstance(payload, dict) else payload
        _say(f"runner {self.name}: removed by the server ({message}); stopping its jobs and exiting")
        for job in list(self.jobs.values()):
            self._abandon(job.attempt_id)
        self._exit_code = 1
        self._stop.set()

    def _cancel(self, attempt_id: str, outcome: str) -> None:
        job = self.jobs.get(attempt_id)
        if job is None or job.cancel.is_set():
            return
        job.outcome = "timed_out" if outcome == "timed_out" else "cancelled"
        _say(f"{job.label}: {'timed out' if job.outcome == 'timed_out' else 'cancel requested'}; stopping the notebook")
        job.cancel.set()

    def _abandon(self, attempt_id: str) -> None:
        job = self.jobs.get(attempt_id)
        if job is None or job.abandoned:
            return
        job.abandoned = True
        job.cancel.set()

    # -- heartbeats -------------------------------------------------------------------------------

    def _heartbeats(self) -> None:
        while not self._stop.is_set():
            # Until the welcome names the interval, and while disconnected, wait for it.
            if not self.welcomed.wait(0.2):
                continue
            if self._stop.wait(self.heartbeat_s):
                return
            with self._jobs_lock:
                attempts = [job.attempt_id for job in self.jobs.values() if not job.silent]
            reply = self.call("runner:heartbeat", {"attempts": attempts}, timeout=max(2.0, self.heartbeat_s * 2))
            if reply is None or not reply.get("ok", False):
                continue
            for attempt in reply.get("abandon") or []:
                self._abandon(str(attempt))
            for notice in reply.get("cancel") or []:
                if isinstance(notice, dict):
                    self._cancel(str(notice.get("attemptId")), str(notice.get("outcome") or "cancelled"))

    # -- a job --------------------------------------------------------------------------------------

    def _run_job(self, job: _Job) -> None:
        offer = job.offer
        started = time.monotonic()
        directory = self.work_dir / job.attempt_id
        _say(f"{job.label}: started {offer.get('notebookPath')} (project {offer.get('projectName')})")
        stream = _EventStream(self, job)
        stream.start()
        status, error, failed_cell, executed = "failed", None, None, None
        try:
            status, error, failed_cell, executed = self._execute(job, directory, stream)
        except Exception as problem:  # anything unexpected fails the job with a message, not the agent
            log.debug("job failed", exc_info=True)
            status, error = "failed", f"the runner failed to run the job: {type(problem).__name__}: {problem}"
        finally:
            stream.close(max(self.lease_s * 2, 30.0))
        duration = time.monotonic() - started
        outcome = "lost"
        try:
            if job.abandoned:
                _say(f"{job.label}: abandoned (the server gave it to another runner); nothing reported")
            elif job.released:
                _say(f"{job.label}: stopped by the drain; the server requeues it when its lease passes")
            else:
                if executed is not None:
                    self._upload(job, executed)
                reported = self._complete(job, status, error, failed_cell, duration)
                ending = status if error is None else f"{status}: {error}"
                _say(f"{job.label}: {ending} in {duration:.1f} s")
                outcome = status if reported else "unreported"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
            with self._jobs_lock:
                self.jobs.pop(job.attempt_id, None)
                if self.options.once:
                    self._once_outcome = outcome
            if self.options.once:
                self._wake.set()

    def _execute(
        self, job: _Job, directory: Path, stream: _EventStream
    ) -> tuple[str, str | None, int | None, dict[str, Any] | None]:
        offer = job.offer
        with self._client_factory() as client:
            try:
                attempt = client.attempt_notebook(job.attempt_id)
            except RunlabError as problem:
                if problem.status == 409:
                    self._abandon(job.attempt_id)
                return "failed", f"could not fetch the notebook: {problem}", None, None
            notebook_path = str(attempt.get("notebookPath") or offer.get("notebookPath") or "notebook.ipynb")
            notebook_file = _write_files(directory, notebook_path, attempt["notebook"], attempt.get("files") or [])
            datasets = dict(offer.get("datasets") or {})
            problem_text = _fetch_datasets(client, str(offer.get("projectName")), datasets)
            if problem_text is not None:
                return "failed", problem_text, None, None

        kernel_name = "python3"
        if offer.get("env") == "recreate":
            try:
                kernel_name = ensure_environment(
                    list(attempt.get("packages") or []), self.work_dir, log=lambda text: _say(f"{job.label}: {text}")
                )
            except EnvironmentBuildError as problem:
                return "failed", f"could not recreate the original run's environment: {problem}", None, None

        # Read as nbformat does from disk: sources saved as lists of lines become strings.
        as_committed = nbformat.reads(json.dumps(attempt["notebook"]), as_version=nbformat.NO_CONVERT)
        notebook = inject_parameters(as_committed, dict(offer.get("parameters") or {}))
        env = {
            config.ENV_URL: self.options.server,
            config.ENV_TOKEN: self.options.token,
            config.ENV_PROJECT: str(offer.get("projectName") or ""),
            config.ENV_NOTEBOOK: notebook_path,
            config.ENV_RUN_ID: str(offer.get("runId") or ""),
            config.ENV_ATTEMPT_ID: job.attempt_id,
            config.ENV_DATASET_PINS: json.dumps(datasets),
            "IPYTHONDIR": str(self.work_dir / "ipython"),
        }
        timeout = offer.get("timeoutS")
        result: ExecutionResult = execute_notebook(
            notebook,
            work_dir=notebook_file.parent,
            env=env,
            kernel_name=kernel_name,
            on_event=stream.add,
            timeout_s=float(timeout) if timeout else None,
            cancel=job.cancel,
        )
        status, error = result.status, result.error
        if status == "cancelled" and job.outcome == "timed_out":
            # Stopped because the server's clock said so: its message names the timeout.
            status, error = "timed_out", None
        return status, error, result.failed_cell, json.loads(json.dumps(result.notebook))

    def _upload(self, job: _Job, notebook: dict[str, Any]) -> None:
        # Retried while the server is away (a restart), within the time its lease allows.
        deadline = time.monotonic() + max(self.lease_s * 2, 30.0)
        with self._client_factory() as client:
            while not job.abandoned:
                try:
                    client.put_executed_notebook(job.attempt_id, notebook)
                    return
                except ServerUnreachable as problem:
                    if time.monotonic() >= deadline:
                        _say(f"{job.label}: could not upload the executed notebook: {problem}")
                        return
                    time.sleep(1.0)
                except RunlabError as problem:
                    if problem.status == 409:
                        self._abandon(job.attempt_id)
                    _say(f"{job.label}: could not upload the executed notebook: {problem}")
                    return

    def _complete(self, job: _Job, status: str, error: str | None, failed_cell: int | None, duration: float) -> bool:
        """Report the job's end; whether the server took the report."""
        payload = {
            "attemptId": job.attempt_id,
            "status": status,
            "error": error,
            "failedCell": failed_cell,
            "durationS": round(duration, 3),
        }
        # Retried across a reconnect; past the lease the server has given the job away anyway.
        deadline = time.monotonic() + max(self.lease_s * 2, 30.0)
        while not job.abandoned and time.monotonic() < deadline:
            reply = self.call("job:complete", payload)
            if reply is not None:
                if not reply.get("ok", False):
                    self.refused(job, reply)
                    return False
                return True
            time.sleep(0.5)
        if not job.abandoned:
            _say(f"{job.label}: could not report the end to the server")
        return False

    # -- running and stopping -----------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._signals += 1
        self._wake.set()

    def run(self) -> int:
        """Connect, run jobs until a signal drains the agent (or the server removes it); the exit code."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        # Kernelspecs of recreated environments live here (runlab.runners.environments).
        jupyter_dir = str(self.work_dir / "jupyter")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [jupyter_dir, os.environ.get("JUPYTER_PATH")]))
        # The job's kernels load Runlab's IPython extension, as JupyterLab's do, so `%%track` and
        # `%runlab` work in a notebook run here unchanged.
        profile = self.work_dir / "ipython" / "profile_default"
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "ipython_kernel_config.py").write_text(
            "# Written by `runlab runner start`: job kernels load Runlab's magics.\n"
            'c.InteractiveShellApp.extensions = ["runlab"]\n'
        )
        # --once: the idle timeout counts from the start, connecting included (a pod that cannot reach
        # the server has nothing to do either).
        self._idle_deadline = time.monotonic() + self.options.idle_timeout_s if self.options.once else None
        self._wake = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        _say(f"runner {self.name}: connecting to {self.options.server} (work dir {self.work_dir})")
        if not self._connect():
            if self._idle_expired():
                return IDLE_EXIT
            return self._exit_code or 1
        heartbeat = threading.Thread(target=self._heartbeats, name="heartbeat", daemon=True)
        heartbeat.start()
        drain_deadline: float | None = None
        while not self._stop.is_set():
            self._wake.wait(0.2)
            self._wake.clear()
            if self._signals and not self.draining:
                self.draining = True
                drain_deadline = time.monotonic() + self.options.drain_grace_s
                running = len(self.jobs)
                _say(
                    f"runner {self.name}: draining: taking no new jobs; waiting up to "
                    f"{self.options.drain_grace_s:g} s for {running} running job(s)"
                )
                # Advisory (the agent takes nothing new either way): a server stopping at the same
                # moment, as under npm start's Ctrl-C, must not hold the exit for a full ack timeout.
                self.call("runner:drain", {}, timeout=DRAIN_ACK_TIMEOUT_S)
            if self.options.once:
                with self._jobs_lock:
                    outcome = self._once_outcome
                if outcome is not None:
                    self._exit_code = self._exit_code or _once_exit_code(outcome)
                    _say(f"runner {self.name}: its one job ended ({outcome}); exiting")
                    break
                if self._idle_expired():
                    self._exit_code = IDLE_EXIT
                    break
            if self.draining:
                if not self.jobs:
                    if self.options.once and not self._took_job:
                        self._exit_code = self._exit_code or 1
                    break
                if self._signals > 1 or (drain_deadline is not None and time.monotonic() >= drain_deadline):
                    self._release_running()
                    break
        self._stop.set()
        self._wait_for_jobs(STOP_WAIT_S)
        with contextlib.suppress(Exception):  # already gone: nothing to close
            self.sio.disconnect()
        _say(f"runner {self.name}: stopped")
        return self._exit_code

    def _idle_expired(self) -> bool:
        """--once: no job taken by the idle deadline. Then no offer is accepted any more."""
        if self._idled_out:
            return True
        deadline = self._idle_deadline
        if deadline is None or time.monotonic() < deadline:
            return False
        with self._jobs_lock:
            if self._took_job:
                return False
            self._stop.set()  # under the lock: an offer racing the deadline is refused
            self._idled_out = True
        _say(
            f"runner {self.name}: no job was offered within {self.options.idle_timeout_s:g} s "
            f"(--idle-timeout); exiting with code {IDLE_EXIT}"
        )
        return True

    def _connect(self) -> bool:
        delay = 0.5
        while not self._stop.is_set():
            if self._idle_expired():
                return False
            try:
                self.sio.connect(
                    self.options.server,
                    namespaces=[NAMESPACE],
                    auth={"token": self.options.token},
                    transports=["websocket", "polling"],
                    wait_timeout=10,
                )
                return True
            except Exception as error:
                if self._signals:
                    return False
                _say(f"runner {self.name}: cannot connect to {self.options.server} ({error}); retrying in {delay:g} s")
                if self._idle_deadline is not None:
                    delay = max(0.05, min(delay, self._idle_deadline - time.monotonic()))
                if self._wake.wait(delay):
                    self._wake.clear()
                delay = min(delay * 2, 10.0)
        return False

    def _release_running(self) -> None:
        with self._jobs_lock:
            jobs = list(self.jobs.values())
        if jobs:
            _say(f"runner {self.name}: drain grace over; stopping {len(jobs)} job(s) for the server to requeue")
        for job in jobs:
            job.released = True
            job.cancel.set()

    def _wait_for_jobs(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for job in list(self.jobs.values()):
            if job.thread is not None:
                job.thread.join(max(0.0, deadline - time.monotonic()))


def _once_exit_code(outcome: str) -> int:
    """--once: 0 when the job finished (and was reported), 1 when it failed, was cancelled, timed out or was lost."""
    return 0 if outcome == "finished" else 1


def _safe_relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"refusing to write {path!r}: not a path inside the project")
    return relative


def _write_files(directory: Path, notebook_path: str, notebook: dict[str, Any], files: list[dict[str, Any]]) -> Path:
    """The job's project files in ``directory``, laid out as in the project; the notebook's path."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for entry in files:
        target = directory / _safe_relative(str(entry["path"]))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(str(entry.get("content", "")), encoding="utf-8")
    notebook_file = directory / _safe_relative(notebook_path)
    notebook_file.parent.mkdir(parents=True, exist_ok=True)
    notebook_file.write_text(json.dumps(notebook), encoding="utf-8")
    return notebook_file


def _fetch_datasets(client: Client, project: str, datasets: dict[str, str]) -> str | None:
    """Fetch the pinned versions into the dataset cache; a message when one cannot be had."""
    if not datasets:
        return None
    from runlab.datasets.api import _shared_cache, materialize

    for name, version in sorted(datasets.items()):
        try:
            materialize(client, _shared_cache(), project, name, version, progress=False)
        except ServerUnreachable:
            raise
        except RunlabError as problem:
            if problem.status == 404:
                return f"dataset {name}@{version} is not in project {project}: {problem.message}"
            # Others (say, a token that may not read chunks): the notebook's own read will tell.
            log.warning("could not prefetch dataset %s@%s: %s", name, version, problem)
    return None


def main_loop(options: AgentOptions) -> int:
    """Run the agent in this process until it is drained; its exit code."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    return RunnerAgent(options).run()
