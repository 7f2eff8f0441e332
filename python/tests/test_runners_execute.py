"""Executing a runner job's notebook in a real kernel: events, failures, dead kernels, time limits, cancel."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from runlab.runners.execute import ExecutionResult, execute_notebook


class Events:
    """Collects events with the time each arrived, as a runner agent would stream them."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any]]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.received.append((time.monotonic(), event))

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for _, event in self.received]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == kind]


def notebook(*sources: str) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(source) for source in sources])


def run(nb: nbformat.NotebookNode, tmp_path: Path, **kwargs: Any) -> ExecutionResult:
    return execute_notebook(nb, work_dir=tmp_path, **kwargs)


@pytest.fixture(autouse=True)
def no_leaked_kernels() -> Iterator[None]:
    """Every test ends with no kernel (or anything else) left running under this process."""
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    yield
    leaked = [child for child in psutil.Process().children(recursive=True) if child.pid not in before]
    assert leaked == [], f"processes left behind: {[(p.pid, p.status()) for p in leaked]}"


def test_a_notebook_runs_with_outputs_and_events_in_order(tmp_path: Path) -> None:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Not code: no events"),
            new_code_cell("x = 20 + 1\nx * 2"),
            new_code_cell(
                "import sys, time\nprint('before', flush=True)\ntime.sleep(1)\nprint('after', file=sys.stderr)"
            ),
            new_code_cell(""),
        ]
    )
    events = Events()

    result = run(nb, tmp_path, on_event=events)

    assert result.status == "finished", result.error
    assert (result.error, result.failed_cell) == (None, None)
    assert result.notebook.cells[1].outputs[0]["data"]["text/plain"] == "42"
    assert [o["text"] for o in result.notebook.cells[2].outputs] == ["before\n", "after\n"]
    assert len(nb.cells[1].outputs) == 0, "the caller's notebook is left as it was"

    cell_ids = [cell.id for cell in nb.cells[1:]]
    assert [(e["type"], e.get("index"), e.get("state") or e.get("stream")) for e in events.events] == [
        ("started", None, None),
        ("cell", 0, "running"),
        ("cell", 0, "done"),
        ("cell", 1, "running"),
        ("output", 1, "stdout"),
        ("output", 1, "stderr"),
        ("cell", 1, "done"),
        ("cell", 2, "running"),
        ("cell", 2, "done"),
    ]
    assert events.events[0] == {"type": "started", "cells": 3}
    assert [e["cell_id"] for e in events.of_type("cell")] == [cell_ids[0]] * 2 + [cell_ids[1]] * 2 + [cell_ids[2]] * 2
    assert all(e["of"] == 3 for e in events.of_type("cell"))

    # The first print arrives while the cell is still sleeping, not with the cell's end.
    first_output_at = next(at for at, e in events.received if e["type"] == "output")
    done_at = next(at for at, e in events.received if e.get("index") == 1 and e.get("state") == "done")
    assert done_at - first_output_at > 0.5


def test_a_failing_cell_fails_the_run_and_keeps_the_outputs_so_far(tmp_path: Path) -> None:
    events = Events()

    result = run(
        notebook("print('ok')", "1 / 1", "raise ValueError('bad learning rate')", "print('never')"),
        tmp_path,
        on_event=events,
    )

    assert result.status == "failed"
    assert result.error == "Cell 3 raised ValueError: bad learning rate"
    assert result.failed_cell == 2
    assert result.notebook.cells[0].outputs[0]["text"] == "ok\n"
    assert result.notebook.cells[2].outputs[0]["output_type"] == "error"
    assert result.notebook.cells[3].outputs == []
    error = events.of_type("error")[0]
    assert (error["index"], error["ename"], error["evalue"]) == (2, "ValueError", "bad learning rate")
    assert any("bad learning rate" in line for line in error["traceback"])
    assert events.events[-1] == {
        "type": "cell",
        "index": 2,
        "of": 4,
        "cell_id": result.notebook.cells[2].id,
        "state": "error",
    }


def test_a_kernel_that_exits_fails_the_run(tmp_path: Path) -> None:
    result = run(notebook("print('start')", "import os\nos._exit(3)", "print('never')"), tmp_path)

    assert result.status == "failed"
    assert "kernel died" in result.error.lower()
    assert "cell 2" in result.error and "exit code 3" in result.error
    assert result.failed_cell == 1
    assert result.notebook.cells[0].outputs[0]["text"] == "start\n"
    assert result.duration_s < 15


def test_a_kernel_killed_from_outside_fails_the_run_promptly(tmp_path: Path) -> None:
    killed_at: list[float] = []

    def kill_the_kernel(event: dict[str, Any]) -> None:
        if event["type"] == "output" and event["text"].strip().isdigit():

            def kill() -> None:
                killed_at.append(time.monotonic())
                os.kill(int(event["text"]), signal.SIGKILL)

            threading.Thread(target=kill).start()

    result = run(
        notebook("import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)"), tmp_path, on_event=kill_the_kernel
    )

    assert result.status == "failed"
    assert "kernel died" in result.error.lower() and "SIGKILL" in result.error
    assert killed_at and time.monotonic() - killed_at[0] < 10


def test_the_whole_notebook_timeout_stops_the_run(tmp_path: Path) -> None:
    result = run(notebook("x = 1", "import time\ntime.sleep(60)"), tmp_path, timeout_s=3)

    assert result.status == "timed_out"
    assert result.error == "The notebook did not finish within 3 s (stopped in cell 2)"
    assert result.failed_cell == 1
    assert result.duration_s < 10


def test_a_cell_timeout_stops_the_cell_that_runs_too_long(tmp_path: Path) -> None:
    result = run(notebook("import time\ntime.sleep(0.2)", "time.sleep(60)"), tmp_path, cell_timeout_s=1)

    assert result.status == "timed_out"
    assert result.error == "Cell 2 did not finish within 1 s"
    assert result.duration_s < 10


def test_cancel_interrupts_the_running_cell(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancelled_at: list[float] = []

    def cancel_once_sleeping(event: dict[str, Any]) -> None:
        if event["type"] == "output" and "sleeping" in event["text"]:
            cancelled_at.append(time.monotonic())
            cancel.set()

    result = run(
        notebook("import time\nprint('sleeping', flush=True)\ntime.sleep(60)", "print('never')"),
        tmp_path,
        on_event=cancel_once_sleeping,
        cancel=cancel,
    )

    assert result.status == "cancelled"
    assert result.error == "Cancelled in cell 1"
    assert time.monotonic() - cancelled_at[0] < 5
    # Interrupted, not killed: the traceback shows where the cell was.
    assert result.notebook.cells[0].outputs[-1]["ename"] == "KeyboardInterrupt"
    assert result.notebook.cells[1].outputs == []


def test_cancel_kills_a_kernel_that_ignores_the_interrupt(tmp_path: Path) -> None:
    cancel = threading.Event()
    stubborn = (
        "import time\nprint('sleeping', flush=True)\n"
        "while True:\n    try:\n        time.sleep(60)\n    except KeyboardInterrupt:\n        print('ignored')"
    )
    result = run(
        notebook(stubborn),
        tmp_path,
        on_event=lambda event: event["type"] == "output" and "sleeping" in event["text"] and cancel.set(),
        cancel=cancel,
        cancel_grace_s=0.5,
    )

    assert result.status == "cancelled"
    assert "".join(o["text"] for o in result.notebook.cells[0].outputs) == "sleeping\nignored\n"
    assert result.duration_s < 15


def test_a_run_cancelled_before_it_starts_starts_no_kernel(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    events = Events()

    result = run(notebook("open('ran', 'w')"), tmp_path, cancel=cancel, on_event=events)

    assert (result.status, result.error) == ("cancelled", "Cancelled before it started")
    assert events.events == [] and not (tmp_path / "ran").exists()


def test_the_kernel_runs_in_the_work_dir_with_the_given_environment(tmp_path: Path) -> None:
    work_dir = tmp_path / "job"
    work_dir.mkdir()

    def broken_listener(event: dict[str, Any]) -> None:
        raise RuntimeError("the server is gone")

    result = run(
        notebook(
            "import os\nopen('model.txt', 'w').write('trained')",
            "print(os.environ['RUNLAB_TEST_SECRET'], os.environ['PATH'] != '')",
        ),
        work_dir,
        env={"RUNLAB_TEST_SECRET": "s3cret"},
        on_event=broken_listener,  # a failing listener does not fail the job
    )

    assert result.status == "finished", result.error
    assert (work_dir / "model.txt").read_text() == "trained"
    assert result.notebook.cells[1].outputs[0]["text"] == "s3cret True\n"
    assert "RUNLAB_TEST_SECRET" not in os.environ


def test_an_unknown_kernel_fails_the_run_with_its_name(tmp_path: Path) -> None:
    result = run(notebook("1"), tmp_path, kernel_name="no-such-kernel")

    assert result.status == "failed"
    assert "no-such-kernel" in result.error


def _kernelspec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: str) -> str:
    """A kernelspec whose "kernel" is `code` in this Python: one that exits or hangs while starting."""
    folder = tmp_path / "jupyter" / "kernels" / name
    folder.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-c", code, "{connection_file}"], "display_name": name, "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return name


def test_a_kernel_that_exits_while_starting_fails_the_run_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = _kernelspec(tmp_path, monkeypatch, "exits", "import sys; sys.exit(3)")
    started = time.monotonic()
    result = run(notebook("1"), tmp_path, kernel_name=kernel)

    assert result.status == "failed"
    assert "exit" in result.error.lower() or "died" in result.error.lower(), result.error
    assert time.monotonic() - started < 30


def test_a_kernel_that_never_answers_fails_the_run_after_the_startup_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a kernel whose port another process took: alive, silent, holding its runner forever.
    kernel = _kernelspec(tmp_path, monkeypatch, "silent", "import time; time.sleep(600)")
    started = time.monotonic()
    result = run(notebook("1"), tmp_path, kernel_name=kernel, startup_timeout_s=3)

    assert (result.status, result.error) == ("failed", "The kernel did not start within 3 s")
    assert time.monotonic() - started < 25


def test_a_job_leaves_no_background_process_behind_even_when_its_kernel_dies(tmp_path: Path) -> None:
    # The kernel dies without ending its child, so only the executor can end it.
    source = (
        "import os, subprocess, time\n"
        "print(subprocess.Popen(['sleep', '60']).pid, flush=True)\n"
        "time.sleep(0.5)\n"  # let the print reach us before the kernel goes
        "os._exit(1)"
    )
    result = run(notebook(source), tmp_path)

    assert result.status == "failed"
    background = int(result.notebook.cells[0].outputs[0]["text"])
    try:
        process = psutil.Process(background)
    except psutil.NoSuchProcess:
        return
    # Orphaned when the kernel died, so init reaps it; a zombie awaiting that counts as ended.
    gone, _ = psutil.wait_procs([process], timeout=5)
    assert gone or process.status() == psutil.STATUS_ZOMBIE
