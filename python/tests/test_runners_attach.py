"""Pre-attach: in a runner job's kernel (RUNLAB_RUN_ID set) the notebook's runlab calls log into
the job's run, and every request names the attempt (X-Runlab-Attempt). Against the real server,
in this process and in a real kernel."""

from __future__ import annotations

import http.server
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import PYTHON_DIR, RunningServer
from nbformat.v4 import new_code_cell, new_notebook

import runlab
from runlab.runners.execute import execute_notebook


def job_run(server: RunningServer, project: str) -> dict[str, Any]:
    """A run as the server creates one for a queued job: it exists before the notebook runs."""
    with runlab.Client(server.url, server.token) as client:
        return client.create_run({"project": project, "name": "job-run", "params": {}, "tags": {}})


def stored(server: RunningServer, run_id: str) -> dict[str, Any]:
    with runlab.Client(server.url, server.token) as client:
        return client.get_run(run_id)


def runs_in(server: RunningServer, project: str) -> list[dict[str, Any]]:
    with runlab.Client(server.url, server.token) as client:
        return list(client.list_runs(project=project)["runs"])


@pytest.fixture
def in_job(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield
    from runlab.runs import api

    api._job_handle = None
    api._job_params.clear()
    api._active = None


def test_start_continues_the_jobs_run_and_end_leaves_it_to_the_job(
    runlab_server: RunningServer, project: str, monkeypatch: pytest.MonkeyPatch, in_job: None
) -> None:
    run = job_run(runlab_server, project)
    monkeypatch.setenv("RUNLAB_RUN_ID", run["id"])

    first = runlab.start(name="ignored", params={"lr": 0.1}, tags={"stage": "train"})
    assert first.id == run["id"] and first.is_job_run
    first.log({"loss": 0.5}, step=0)
    first.end(wait=True)  # the notebook's end: the job's run keeps going
    assert first.ended and runlab.active_run() is None
    assert stored(runlab_server, run["id"])["status"] == "running"

    with runlab.start(params={"lr": 0.1}) as second:  # the same value again: write-once holds
        assert second.id == run["id"]
        second.metric("loss", 0.25, step=1)
    runlab.metric("acc", 0.9)  # an implicit run is the job's run too
    runlab.end()
    runlab.flush()

    after = stored(runlab_server, run["id"])
    assert after["status"] == "running"
    assert after["params"] == {"lr": "0.1"} and after["tags"]["stage"] == "train"
    assert after["metrics"]["loss"]["count"] == 2 and after["metrics"]["acc"]["latest"] == 0.9
    assert [r["id"] for r in runs_in(runlab_server, project)] == [run["id"]]  # no other run made


def test_an_explicit_resume_wins_over_the_jobs_run(
    runlab_server: RunningServer, project: str, monkeypatch: pytest.MonkeyPatch, in_job: None
) -> None:
    job, other = job_run(runlab_server, project), job_run(runlab_server, project)
    monkeypatch.setenv("RUNLAB_RUN_ID", job["id"])
    resumed = runlab.start(resume=other["id"])
    assert resumed.id == other["id"] and not resumed.is_job_run
    resumed.end(wait=True)
    assert stored(runlab_server, other["id"])["status"] == "finished"


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        _Recorder.seen.append(dict(self.headers))
        body = b'{"status": "ok", "version": "x", "serverId": "s"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_every_request_names_the_attempt_when_one_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        _Recorder.seen.clear()
        with runlab.Client(url, "t") as client:
            client.health()
            monkeypatch.setenv("RUNLAB_ATTEMPT_ID", "attempt-7")
            client.health()
    finally:
        server.shutdown()
    assert "X-Runlab-Attempt" not in _Recorder.seen[0]
    assert _Recorder.seen[1]["X-Runlab-Attempt"] == "attempt-7"


def test_points_sent_for_an_attempt_that_is_not_current_are_refused_by_the_server(
    runlab_server: RunningServer, project: str, monkeypatch: pytest.MonkeyPatch, in_job: None
) -> None:
    run = job_run(runlab_server, project)
    monkeypatch.setenv("RUNLAB_RUN_ID", run["id"])
    monkeypatch.setenv("RUNLAB_ATTEMPT_ID", str(uuid.uuid4()))  # as a lost runner's kernel would
    with runlab.Client(runlab_server.url, runlab_server.token) as client:
        assert client.whoami()["scope"]  # requests about no run are heard
        with pytest.raises(runlab.RunlabError) as refused:
            client.log_batch(run["id"], {"metrics": [], "params": {}, "tags": {}})
    assert refused.value.status == 409 and "attempt" in refused.value.message
    with pytest.warns(runlab.RunlabWarning, match="attempt"):
        late = runlab.start()
        late.metric("late", 1.0)
        runlab.flush()
    monkeypatch.delenv("RUNLAB_ATTEMPT_ID")  # the test reads the run as a user, naming no attempt
    assert "late" not in stored(runlab_server, run["id"])["metrics"]


def test_a_job_kernel_logs_start_autolog_and_track_into_the_jobs_run(
    runlab_server: RunningServer, project: str, tmp_path: Path
) -> None:
    run = job_run(runlab_server, project)
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")])),
        "RUNLAB_URL": runlab_server.url,
        "RUNLAB_TOKEN": runlab_server.token,
        "RUNLAB_PROJECT": project,
        "RUNLAB_RUN_ID": run["id"],
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    nb = new_notebook(
        cells=[
            new_code_cell(
                "%load_ext runlab\nimport runlab\nr = runlab.start(name='mine')\nr.metric('a', 1.0)\nr.end()"
            ),
            new_code_cell(
                "from sklearn.linear_model import LogisticRegression\n"
                "runlab.autolog()\n"
                "LogisticRegression(max_iter=50).fit([[0], [1], [2], [3]], [0, 0, 1, 1])"
            ),
            new_code_cell("%%track --name cell --param depth=3\nrunlab.metric('b', 2.0)"),
            new_code_cell("runlab.flush(); print(runlab.active_run())"),
        ]
    )
    result = execute_notebook(nb, work_dir=tmp_path, env=env)
    assert result.status == "finished", result.error
    after = stored(runlab_server, run["id"])
    assert after["status"] == "running"  # the runner ends it, not the notebook
    assert after["metrics"]["a"]["latest"] == 1.0 and after["metrics"]["b"]["latest"] == 2.0
    assert after["params"]["depth"] == "3" and "max_iter" in after["params"]  # %%track and autolog
    assert [r["id"] for r in runs_in(runlab_server, project)] == [run["id"]]
