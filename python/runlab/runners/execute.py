"""Run a notebook in a real Jupyter kernel, as a runner job does, and report progress as it goes.

nbclient does the kernel work (start, execute each cell, collect outputs, notice a dead kernel,
shut down). On top of it this module adds what a job needs: small JSON events while it runs,
a whole-notebook and a per-cell time limit, cancellation (interrupt first, kill after a grace
period), and a result that says how the run ended instead of raising.

Event shapes passed to ``on_event`` (``index`` counts code cells from 0, ``of`` is how many there are;
``cell_id`` is the nbformat cell id, when the notebook has them):

- ``{"type": "started", "cells": M}`` once the kernel is ready;
- ``{"type": "cell", "index": i, "of": M, "cell_id": ..., "state": "running" | "done" | "error"}``;
- ``{"type": "output", "index": i, "stream": "stdout" | "stderr", "text": ...}`` as the kernel prints;
- ``{"type": "error", "index": i, "ename": ..., "evalue": ..., "traceback": [...]}`` when a cell raises
  (before that cell's ``"error"`` state).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbclient.util import ensure_async
from nbformat import NotebookNode

log = logging.getLogger(__name__)

Status = Literal["finished", "failed", "cancelled", "timed_out"]
Event = dict[str, Any]
StopReason = Literal["cancelled", "timed_out", "cell_timed_out"]

# How often the supervisor looks at the cancel event and the clocks: the latency of a cancel.
_POLL_S = 0.1
# After a kill, nbclient notices the dead kernel within about a second; this bounds the wait.
_AFTER_KILL_S = 5.0
# How long a kernel may take to start (to answer kernel_info), and how long nbclient may take to
# unwind once the run is stopped: past either, the run is given up instead of holding its runner.
STARTUP_TIMEOUT_S = 60.0
_UNWIND_S = 15.0


@dataclass
class ExecutionResult:
    """How a notebook run ended.

    ``notebook`` is the executed copy with the outputs produced so far, also when the run failed or
    was stopped. ``failed_cell`` is the code-cell index (from 0, as in the events) of the cell that
    raised, was running when the kernel died, or was stopped; ``error`` says what happened in words.
    """

    status: Status
    notebook: NotebookNode
    error: str | None
    failed_cell: int | None
    duration_s: float


class _StopRequested(Exception):
    """Raised in place of executing the next cell once the supervisor has asked the run to stop."""


class _RunlabClient(NotebookClient):
    """nbclient's client with Runlab's events, a stop switch and a record of the kernel process."""

    def __init__(self, nb: NotebookNode, emit: Callable[[Event], None], **kwargs: Any) -> None:
        super().__init__(
            nb,
            on_notebook_start=self._on_notebook_start,
            on_cell_execute=self._on_cell_execute,
            on_cell_error=self._on_cell_error,
            **kwargs,
        )
        self._emit = emit
        # Notebook index → code-cell index, so events count the cells a person sees run.
        self.code_index = {i: n for n, i in enumerate(i for i, c in enumerate(nb.cells) if c.cell_type == "code")}
        self.code_cells = len(self.code_index)
        self.current_cell: int | None = None  # code-cell index of the cell running now
        self.cell_started_at: float | None = None  # monotonic time the current cell was sent
        self.stop_reason: StopReason | None = None
        self.kernel_process: subprocess.Popen[bytes] | None = None
        self.kernel_process_group: int | None = None
        self.notebook_started = False  # the kernel answered: cells can run
        self.start_failure: str | None = None  # why the kernel never got that far
        self._errored: set[int] = set()

    # -- hooks --------------------------------------------------------------------------------

    def _on_notebook_start(self, notebook: NotebookNode) -> None:
        self.notebook_started = True
        self._emit({"type": "started", "cells": self.code_cells})

    def _on_cell_execute(self, cell: NotebookNode, cell_index: int) -> None:
        self.cell_started_at = time.monotonic()

    def _on_cell_error(self, cell: NotebookNode, cell_index: int, execute_reply: dict[str, Any]) -> None:
        content = execute_reply.get("content", {})
        index = self.code_index[cell_index]
        self._errored.add(index)
        self._emit(
            {
                "type": "error",
                "index": index,
                "ename": content.get("ename", ""),
                "evalue": content.get("evalue", ""),
                "traceback": list(content.get("traceback", [])),
            }
        )

    # -- overrides ------------------------------------------------------------------------------

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        await super().async_start_new_kernel(**kwargs)
        # Keep our own handle on the process: nbclient drops the manager at cleanup, and the
        # process must still be reaped (and its group ended) after that.
        provisioner = getattr(self.km, "provisioner", None)
        self.kernel_process = getattr(provisioner, "process", None)
        self.kernel_process_group = getattr(provisioner, "pgid", None)

    async def async_execute_cell(
        self, cell: NotebookNode, cell_index: int, execution_count: int | None = None, store_history: bool = True
    ) -> NotebookNode:
        if cell.cell_type != "code":
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        # A stop asked for between two cells: the interrupt found the kernel idle, so do not start another.
        if self.stop_reason is not None:
            raise _StopRequested()
        index = self.code_index[cell_index]
        self.current_cell = index
        self._emit_state(index, cell, "running")
        try:
            executed = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except BaseException:
            self._emit_state(index, cell, "error")
            raise
        self._emit_state(index, cell, "error" if index in self._errored else "done")
        self.cell_started_at = None
        return executed

    def output(
        self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int
    ) -> NotebookNode | None:
        # Called for each output message as it arrives, so streams are forwarded live.
        if msg["msg_type"] == "stream":
            content = msg["content"]
            self._emit(
                {
                    "type": "output",
                    "index": self.code_index.get(cell_index, cell_index),
                    "stream": content.get("name", "stdout"),
                    "text": content.get("text", ""),
                }
            )
        return super().output(outs, msg, display_id, cell_index)

    # -- control, called by the supervisor --------------------------------------------------------

    def _emit_state(self, index: int, cell: NotebookNode, state: str) -> None:
        self._emit({"type": "cell", "index": index, "of": self.code_cells, "cell_id": cell.get("id"), "state": state})

    async def interrupt(self) -> None:
        if self.km is not None and self.km.has_kernel:
            await ensure_async(self.km.interrupt_kernel())

    async def kill(self) -> None:
        # SIGKILL to the kernel's process group; nbclient then sees a dead kernel and cleans up.
        if self.km is not None and self.km.has_kernel:
            await ensure_async(self.km.signal_kernel(signal.SIGKILL))

    def reap(self) -> None:
        """Make sure the kernel process and anything it started are gone, whatever happened."""
        process, group = self.kernel_process, self.kernel_process_group
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("kernel process %s did not exit after SIGKILL", process.pid)
        # The kernel runs in its own session; a job leaves no background processes behind.
        if group and group != os.getpgrp():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)

    def exit_description(self) -> str:
        code = self.kernel_process.poll() if self.kernel_process is not None else None
        if code is None:
            return ""
        if code < 0:
            try:
                return f" (killed by {signal.Signals(-code).name})"
            except ValueError:
                return f" (killed by signal {-code})"
        return f" (exit code {code})"


def _safe_emitter(on_event: Callable[[Event], None] | None) -> Callable[[Event], None]:
    # A failing listener (a slow or gone server, a bug) must not fail the job it reports on.
    def emit(event: Event) -> None:
        if on_event is None:
            return
        try:
            on_event(event)
        except Exception:
            log.warning("on_event raised for %s; the run continues", event.get("type"), exc_info=True)

    return emit


async def _supervise(
    client: _RunlabClient,
    run: asyncio.Task[Any],
    *,
    deadline: float | None,
    cell_timeout_s: float | None,
    cancel: threading.Event | None,
    cancel_grace_s: float,
    startup_timeout_s: float,
) -> None:
    """Watch the run; when it must stop, interrupt the kernel, then kill it if it does not stop."""
    watched_since = time.monotonic()
    while not run.done():
        now = time.monotonic()
        if not client.notebook_started:
            # A kernel that exits or hangs while starting (a port another process took between
            # being picked and bound) must not hold the runner: give the start up.
            process = client.kernel_process
            if process is not None and process.poll() is not None:
                client.start_failure = f"The kernel exited while starting{client.exit_description()}"
            elif now - watched_since >= startup_timeout_s:
                client.start_failure = f"The kernel did not start within {startup_timeout_s:g} s"
            if client.start_failure is not None:
                run.cancel()
                return
        reason: StopReason | None = None
        if cancel is not None and cancel.is_set():
            reason = "cancelled"
        elif deadline is not None and now >= deadline:
            reason = "timed_out"
        elif (
            cell_timeout_s is not None
            and client.cell_started_at is not None
            and now - client.cell_started_at >= cell_timeout_s
        ):
            reason = "cell_timed_out"
        if reason is None:
            await asyncio.wait({run}, timeout=_POLL_S)
            continue

        client.stop_reason = reason
        client.shutdown_kernel = "immediate"  # a stopped run's kernel gets no graceful goodbye
        try:
            # Interrupt first: the cell ends with a KeyboardInterrupt traceback showing where it was.
            await client.interrupt()
        except Exception:
            log.warning("could not interrupt the kernel", exc_info=True)
        await asyncio.wait({run}, timeout=cancel_grace_s)
        if not run.done():
            try:
                await client.kill()
            except Exception:
                log.warning("could not kill the kernel", exc_info=True)
            await asyncio.wait({run}, timeout=_AFTER_KILL_S)
        if not run.done():
            run.cancel()  # nbclient's own cleanup still runs as the cancellation unwinds
        return


def _stopped_message(client: _RunlabClient, timeout_s: float | None, cell_timeout_s: float | None) -> str:
    where = f" in cell {client.current_cell + 1}" if client.current_cell is not None else ""
    if client.stop_reason == "cancelled":
        return f"Cancelled{where}"
    if client.stop_reason == "cell_timed_out":
        return f"Cell {(client.current_cell or 0) + 1} did not finish within {cell_timeout_s:g} s"
    return f"The notebook did not finish within {timeout_s:g} s (stopped{where})"


async def execute_notebook_async(
    nb: Mapping[str, Any],
    *,
    work_dir: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    kernel_name: str = "python3",
    on_event: Callable[[Event], None] | None = None,
    timeout_s: float | None = None,
    cell_timeout_s: float | None = None,
    cancel: threading.Event | None = None,
    cancel_grace_s: float = 10,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> ExecutionResult:
    """:func:`execute_notebook` for callers that already run an asyncio event loop."""
    started = time.monotonic()
    notebook = nbformat.from_dict(copy.deepcopy(dict(nb)))
    emit = _safe_emitter(on_event)
    client = _RunlabClient(notebook, emit, kernel_name=kernel_name)

    def result(status: Status, error: str | None = None, failed_cell: int | None = None) -> ExecutionResult:
        return ExecutionResult(status, client.nb, error, failed_cell, time.monotonic() - started)

    if cancel is not None and cancel.is_set():
        return result("cancelled", "Cancelled before it started")

    kernel_env = {**os.environ, **(env or {})}
    run = asyncio.ensure_future(client.async_execute(cwd=str(Path(work_dir)), env=kernel_env))
    deadline = started + timeout_s if timeout_s is not None else None
    try:
        await _supervise(
            client,
            run,
            deadline=deadline,
            cell_timeout_s=cell_timeout_s,
            cancel=cancel,
            cancel_grace_s=cancel_grace_s,
            startup_timeout_s=startup_timeout_s,
        )
        # nbclient unwinds a stopped run itself; if it does not within _UNWIND_S, give up on it.
        await asyncio.wait({run}, timeout=_UNWIND_S)
        if client.start_failure is not None:
            return result("failed", client.start_failure)
        if not run.done():
            run.cancel()
            status: Status = "failed"
            if client.stop_reason is not None:
                status = "cancelled" if client.stop_reason == "cancelled" else "timed_out"
            return result(
                status, "The kernel stopped answering and did not shut down; the run was given up", client.current_cell
            )
        try:
            await run
        except (_StopRequested, asyncio.CancelledError, CellExecutionError, DeadKernelError) as error:
            if client.stop_reason is not None:
                stopped: Status = "cancelled" if client.stop_reason == "cancelled" else "timed_out"
                return result(stopped, _stopped_message(client, timeout_s, cell_timeout_s), client.current_cell)
            if isinstance(error, CellExecutionError):
                cell = (client.current_cell or 0) + 1
                return result("failed", f"Cell {cell} raised {error.ename}: {error.evalue}", client.current_cell)
            if isinstance(error, DeadKernelError):
                where = f" while running cell {client.current_cell + 1}" if client.current_cell is not None else ""
                return result("failed", f"The kernel died{where}{client.exit_description()}", client.current_cell)
            raise  # our caller cancelled us: that cancellation is theirs to see
        except Exception as error:  # the kernel did not start, or nbclient failed in a way we do not know
            log.debug("notebook run failed", exc_info=True)
            return result("failed", f"{type(error).__name__}: {error}", client.current_cell)
        return result("finished")
    finally:
        if not run.done():
            run.cancel()
        client.reap()


def execute_notebook(
    nb: Mapping[str, Any],
    *,
    work_dir: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    kernel_name: str = "python3",
    on_event: Callable[[Event], None] | None = None,
    timeout_s: float | None = None,
    cell_timeout_s: float | None = None,
    cancel: threading.Event | None = None,
    cancel_grace_s: float = 10,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
) -> ExecutionResult:
    """Execute every code cell of ``nb`` in a fresh kernel and say how it went; never raises for the run.

    The kernel starts in ``work_dir`` with ``env`` laid over this process's environment. Progress
    goes to ``on_event`` (called on this thread; see the module docstring for the event shapes).
    ``timeout_s`` bounds the whole run and ``cell_timeout_s`` each cell (both end as ``timed_out``);
    setting ``cancel`` stops the run (``cancelled``). Stopping interrupts the kernel and kills it
    if the cell has not ended ``cancel_grace_s`` seconds later. A kernel that exits while starting,
    or has not answered after ``startup_timeout_s``, fails the run at once. The kernel, and any
    process it started, is gone when this returns.

    Call it from a thread with no running event loop (an async caller uses
    :func:`execute_notebook_async` or runs this in a worker thread).
    """
    return asyncio.run(
        execute_notebook_async(
            nb,
            work_dir=work_dir,
            env=env,
            kernel_name=kernel_name,
            on_event=on_event,
            timeout_s=timeout_s,
            cell_timeout_s=cell_timeout_s,
            cancel=cancel,
            cancel_grace_s=cancel_grace_s,
            startup_timeout_s=startup_timeout_s,
        )
    )
