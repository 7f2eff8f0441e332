"""Tracking from a real ipykernel: %%track, %runlab param/metric/runs, notebook runs, and a
server killed with kill -9 in the middle of logging."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from conftest import RunningServer, attach, execute, start_server, stop_server
from jupyter_client.blocking import BlockingKernelClient

import runlab


@pytest.fixture
def project(kernel: BlockingKernelClient, runlab_server: RunningServer) -> str:
    name = f"kernel-{uuid.uuid4().hex[:8]}"
    attach(kernel, runlab_server.url, runlab_server.token, name, "notebooks/train.ipynb", frontend_id="tab-1")
    return name


def runs_of(server: RunningServer, project: str) -> list[dict]:
    with runlab.Client(server.url, server.token) as client:
        listing = client.list_runs(project=project, sort="startedAt:asc")
        return [client.get_run(run["id"]) for run in listing["runs"]]


def test_a_notebook_run_records_the_notebook_environment_and_tab(
    kernel: BlockingKernelClient, runlab_server: RunningServer, project: str
) -> None:
    output = execute(
        kernel,
        "import runlab\nrun = runlab.start(name='nb', params={'lr': 0.01})\n"
        "for step in range(3):\n    runlab.metric('loss', 1 / (step + 1), step=step)\n"
        "runlab.end()\nrunlab.flush()\nprint(run.id)",
    ).stdout
    [run] = runs_of(runlab_server, project)
    assert run["id"] == output.strip()
    assert (run["name"], run["status"], run["params"]) == ("nb", "finished", {"lr": "0.01"})
    assert run["source"] == {"kind": "notebook", "cell": None}
    assert run["notebookPath"] == "notebooks/train.ipynb"
    assert run["frontendId"] == "tab-1"
    assert "ipykernel" in run["environment"]["packages"]
    assert run["metrics"]["loss"]["count"] == 3


def test_attach_keeps_its_old_signature_and_result(kernel: BlockingKernelClient, runlab_server: RunningServer) -> None:
    data = attach(kernel, runlab_server.url, runlab_server.token, "demo", "demo.ipynb")
    assert data["application/json"] == {"version": runlab.__version__, "magics": True}


def test_local_module_files_is_readable_as_json_from_a_user_expression(
    kernel: BlockingKernelClient, runlab_server: RunningServer, project: str
) -> None:
    reply = execute(
        kernel,
        "",
        silent=True,
        store_history=False,
        user_expressions={"modules": "__import__('runlab')._local_module_files()"},
    ).reply
    result = reply["content"]["user_expressions"]["modules"]
    assert result["status"] == "ok"
    files = result["data"]["application/json"]
    assert isinstance(files, list)
    assert all(set(entry) == {"path", "content"} for entry in files)
    assert not any("site-packages" in entry["path"] or entry["path"].startswith("/") for entry in files)


def test_track_runs_the_cell_as_a_finished_run(
    kernel: BlockingKernelClient, runlab_server: RunningServer, project: str
) -> None:
    cell = "%%track --name sweep-1 --param lr=0.1 --param depth=3\ntotal = sum(range(10))\n%runlab metric acc 0.93 --step 2\ntotal * 2"
    result = execute(kernel, cell)
    assert result.stdout.strip() == "90"  # the cell's last value is still its output
    assert execute(kernel, "print(total)").stdout.strip() == "45"  # ran in the user's namespace
    execute(kernel, "import runlab\nrunlab.flush()")  # the run's end is delivered in the background
    [run] = runs_of(runlab_server, project)
    assert (run["name"], run["status"], run["error"]) == ("sweep-1", "finished", None)
    assert run["params"] == {"lr": "0.1", "depth": "3"}
    assert run["source"]["kind"] == "cell"
    assert run["source"]["cell"].rstrip("\n") == cell.split("\n", 1)[1]  # the body, without the magic line
    assert run["metrics"]["acc"]["latest"] == 0.93 and run["metrics"]["acc"]["step"] == 2
    assert run["metrics"]["duration_s"]["latest"] >= 0
    assert run["endedAt"] is not None


def test_a_tracked_cells_duration_label_agrees_with_its_recorded_duration(
    kernel: BlockingKernelClient, runlab_server: RunningServer, project: str
) -> None:
    # The panel's label is endedAt - startedAt rounded to seconds (formatDuration); duration_s is
    # the cell's own time. 1.6 s rounds to 2 s: setup counted in one and not the other would show.
    execute(kernel, "%%track --name timed\nimport time\ntime.sleep(1.6)")
    execute(kernel, "import runlab\nrunlab.flush()")
    [run] = runs_of(runlab_server, project)
    started = datetime.fromisoformat(run["startedAt"].replace("Z", "+00:00"))
    ended = datetime.fromisoformat(run["endedAt"].replace("Z", "+00:00"))
    wall = (ended - started).total_seconds()
    recorded = run["metrics"]["duration_s"]["latest"]
    assert recorded == pytest.approx(1.6, abs=0.3)
    assert abs(wall - recorded) < 0.2, f"label from {wall:.3f} s, duration_s {recorded:.3f} s"
    assert round(wall) == round(recorded) == 2


def test_a_failing_tracked_cell_fails_the_run_and_still_shows_the_exception(
    kernel: BlockingKernelClient, runlab_server: RunningServer, project: str
) -> None:
    result = execute(
        kernel,
        "%%track --name broken\nx = 1\nraise ValueError('bad batch size')",
        allow_error=True,
    )
    assert result.reply["content"]["status"] == "error"
    assert result.reply["content"]["ename"] == "ValueError"
    assert len(result.tracebacks) == 1 and "bad batch size" in result.tracebacks[0]
    assert (
        "runlab/runs/magics.py" not in result.tracebacks[0]
    )  # Runlab's frames are hidden (the magic moved with runs/)
    [run] = runs_of(runlab_server, project)
    assert run["status"] == "failed"
    assert run["error"]["message"] == "ValueError: bad batch size"
    assert "raise ValueError('bad batch size')" in run["error"]["traceback"]
    assert "magics.py" not in run["error"]["traceback"]


def test_param_and_metric_magics_log_to_the_current_run(
    kernel: BlockingKernelClient, runlab_server: RunningServer, project: str
) -> None:
    execute(kernel, "%runlab param optimizer=adam batch=64\n%runlab metric loss 0.25 --step 7\n%runlab metric loss 0.2")
    execute(kernel, "runlab.end()\nrunlab.flush()")
    [run] = runs_of(runlab_server, project)
    assert run["params"] == {"optimizer": "adam", "batch": "64"}
    assert run["metrics"]["loss"]["count"] == 2 and run["metrics"]["loss"]["latest"] == 0.2


def test_runs_magic_shows_the_latest_runs_as_an_html_table(
    kernel: BlockingKernelClient, runlab_server: RunningServer, project: str
) -> None:
    for index in range(3):
        execute(kernel, f"%%track --name r{index} --param i={index}\nrunlab.metric('acc', 0.{index}5)")
    outputs: list[dict] = []
    reply = kernel.execute_interactive(
        "%runlab runs --last 2",
        output_hook=lambda message: outputs.append(message) if message["msg_type"] == "execute_result" else None,
        timeout=30,
    )
    assert reply["content"]["status"] == "ok"
    [result] = outputs
    table = result["content"]["data"]["text/html"]
    assert table.startswith('<table class="jp-runlab-runs-table">')
    assert "2 of 3 runs in project" in table
    for header in ("name", "status", "started", "params", "metrics"):
        assert f"<th>{header}</th>" in table
    assert "<td>r2</td><td>finished</td>" in table and "<td>r1</td>" in table and "<td>r0</td>" not in table
    assert "<td>i=2</td>" in table and "acc=0.25" in table
    assert "r2" in result["content"]["data"]["text/plain"]


def test_bad_magic_arguments_print_usage_not_a_traceback(
    kernel: BlockingKernelClient, runlab_server: RunningServer, project: str
) -> None:
    not_a_number = execute(kernel, "%runlab metric loss high")
    assert "usage: %runlab metric" in not_a_number.output and "invalid float value: 'high'" in not_a_number.output
    no_pair = execute(kernel, "%runlab param lr")
    assert "usage: %runlab param" in no_pair.output and "expected key=value" in no_pair.output
    assert "usage: %runlab runs" in execute(kernel, "%runlab runs --last many").output
    track = execute(kernel, "%%track --bogus\nran = True")
    assert "usage: %%track" in track.output and "unrecognized arguments: --bogus" in track.output
    assert "NameError" in execute(kernel, "print(ran)", allow_error=True).tracebacks[0]  # the cell did not run
    assert execute(kernel, "%%track --help\nran = True").stdout.startswith("usage: %%track")
    assert runs_of(runlab_server, project) == []


def test_an_unreachable_server_never_blocks_the_kernel(kernel: BlockingKernelClient, closed_port_url: str) -> None:
    attach(kernel, closed_port_url, "rl_u_whatever", "offline", "offline.ipynb")
    result = execute(
        kernel,
        "import runlab, time\nrun = runlab.start(name='offline')\nstarted = time.perf_counter()\n"
        "for step in range(50_000):\n    runlab.metric('loss', 0.5, step=step)\n"
        "print('logged in', round(time.perf_counter() - started, 3), 's')\ntime.sleep(1)\n"
        "run.end(wait=True, timeout=0.2)\nrun.abandon()",
        timeout=30,
    )
    assert "logged in" in result.stdout
    assert result.seconds < 5
    warnings = [line for line in result.stderr.splitlines() if "RunlabWarning" in line]
    assert sum("Cannot connect" in w or "cannot deliver" in w for w in warnings) == 1, result.stderr


def test_every_point_survives_a_server_killed_mid_logging_exactly_once(
    kernel: BlockingKernelClient, tmp_path: Path
) -> None:
    """FAULT: kill -9 the server while a kernel logs 20,000 points; restart it on the same port
    and data directory; after end() and flush() every point is stored exactly once."""
    data_dir = tmp_path / "fault-data"
    data_dir.mkdir()
    process, server = start_server(data_dir)
    port = int(server.url.rsplit(":", 1)[1])
    attach(kernel, server.url, server.token, "fault", "fault.ipynb")
    execute(kernel, "import runlab, time\nrun = runlab.start(name='fault')\nprint(run.id)")
    points = 20_000
    # 40 chunks of 500 over about 4 s, without waiting for the cell to finish.
    message_id = kernel.execute(
        f"for step in range({points}):\n"
        "    runlab.metric('x', step * 0.5, step=step)\n"
        "    if step % 500 == 499:\n        time.sleep(0.1)\n"
    )
    try:
        time.sleep(1.5)
        process.kill()  # SIGKILL: no graceful shutdown
        process.wait()
        time.sleep(1.0)
        process, server = start_server(data_dir, port=port)
        reply = kernel.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != message_id:
            reply = kernel.get_shell_msg(timeout=60)
        assert reply["content"]["status"] == "ok"
        stderr = ""
        while True:
            message = kernel.get_iopub_msg(timeout=10)
            if message["msg_type"] == "stream" and message["content"]["name"] == "stderr":
                stderr += message["content"]["text"]
            if (
                message["msg_type"] == "status"
                and message["content"]["execution_state"] == "idle"
                and (message["parent_header"].get("msg_id") == message_id)
            ):
                break
        # The kill really happened mid-logging, and the user saw one warning, no traceback.
        assert stderr.count("RunlabWarning") == 1 and "cannot deliver logged values" in stderr, stderr
        assert "Traceback" not in stderr
        ended = execute(
            kernel, "runlab.end()\nrunlab.flush()\nprint(run.id, runlab.runs.batcher.batcher().pending())", timeout=60
        )
        run_id, pending = ended.stdout.split()
        assert pending == "0"
        with runlab.Client(server.url, server.token) as client:
            history = client.metric_history(run_id, "x", max_points=100_000)
            stored = client.get_run(run_id)
    finally:
        stop_server(process)
    assert history["total"] == points and not history["downsampled"]
    assert [(p["step"], p["value"]) for p in history["points"]] == [(step, step * 0.5) for step in range(points)]
    assert stored["status"] == "finished" and stored["metrics"]["x"]["count"] == points
