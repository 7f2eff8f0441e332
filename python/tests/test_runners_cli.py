"""`runlab runners …`, `runlab jobs …` and `runlab rerun` as a user types them, against the real
server and real runner processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import PYTHON_DIR, RUNLAB_ENV, Runners, RunningServer, wait_until
from nbformat.v4 import new_code_cell, new_notebook

import runlab
from runlab.runners.cli import parse_parameters
from runlab.runners.execute import execute_notebook


def cli(server: RunningServer, project: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env.update(
        PYTHONPATH=str(PYTHON_DIR),
        RUNLAB_URL=server.url,
        RUNLAB_TOKEN=server.token,
        RUNLAB_PROJECT=project,
        RUNLAB_DATA_DIR=str(Path(os.environ.get("TMPDIR", "/tmp")) / "runlab-cli-no-local"),
    )
    return subprocess.run(
        [sys.executable, "-m", "runlab", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def write_notebook(path: Path, *sources: str, parameters: str | None = None) -> Path:
    cells = []
    if parameters is not None:
        cells.append(new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    cells += [new_code_cell(source) for source in sources]
    nbformat.write(new_notebook(cells=cells), str(path))
    return path


@pytest.fixture
def project(runner_server: RunningServer) -> str:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    with runlab.Client(runner_server.url, runner_server.token) as client:
        client.create_project(name)
    return name


def test_parameter_values_are_json_when_they_parse_else_strings() -> None:
    assert parse_parameters(["epochs=10", "lr=0.5", "name=resnet", "flags=[1, 2]", "on=true", "empty="]) == {
        "epochs": 10,
        "lr": 0.5,
        "name": "resnet",
        "flags": [1, 2],
        "on": True,
        "empty": "",
    }


def test_usage_errors_exit_2_without_a_traceback(runner_server: RunningServer, project: str, tmp_path: Path) -> None:
    missing = cli(runner_server, project, "jobs", "submit", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 2 and "no such notebook" in missing.stderr and "Traceback" not in missing.stderr
    nb = write_notebook(tmp_path / "a.ipynb", "1")
    bad = cli(runner_server, project, "jobs", "submit", str(nb), "-p", "novalue")
    assert bad.returncode == 2 and "KEY=VALUE" in bad.stderr
    # The user's own token is not a runner's: one line saying which token to use.
    user_token = cli(runner_server, project, "runner", "start", "--server", runner_server.url)
    assert user_token.returncode == 1 and "runlab runners add" in user_token.stderr
    assert "Traceback" not in user_token.stderr


def test_runners_add_prints_the_command_and_list_shows_the_runner(runner_server: RunningServer, project: str) -> None:
    name = f"added-{uuid.uuid4().hex[:6]}"
    added = cli(runner_server, project, "runners", "add", name, "--labels", "gpu,bigmem", "--max-jobs", "2")
    assert added.returncode == 0, added.stderr
    line = added.stdout.strip()
    assert "runlab runner start" in line and "--token" in line and len(line.splitlines()) == 1
    listed = cli(runner_server, project, "runners", "list")
    assert listed.returncode == 0 and name in listed.stdout and "gpu,bigmem" in listed.stdout


def test_submit_wait_streams_progress_and_exits_0_when_finished(
    runner_server: RunningServer, runners: Runners, project: str, tmp_path: Path
) -> None:
    label = f"wait-{uuid.uuid4().hex[:6]}"
    runners.start(label, [label])
    nb = write_notebook(
        tmp_path / "train.ipynb",
        "import time\nprint('loading data', flush=True)\ntime.sleep(1.5)",
        "print('accuracy', 0.75 + extra)",
        parameters="extra = 0.0",
    )
    done = cli(runner_server, project, "jobs", "submit", str(nb), "-p", "extra=0.2", "--labels", label, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cell 3 of 4" in done.stdout  # the sleeping cell, counting the injected parameters cell
    assert "loading data" in done.stdout and "accuracy 0.95" in done.stdout
    assert "finished" in done.stdout.splitlines()[-1]


def test_submit_wait_exits_1_when_the_notebook_fails(
    runner_server: RunningServer, runners: Runners, project: str, tmp_path: Path
) -> None:
    label = f"fail-{uuid.uuid4().hex[:6]}"
    runners.start(label, [label])
    nb = write_notebook(tmp_path / "broken.ipynb", "print('step one')", "raise ValueError('bad batch size')")
    done = cli(runner_server, project, "jobs", "submit", str(nb), "--labels", label, "--wait")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "bad batch size" in done.stdout and "failed" in done.stdout.splitlines()[-1]


def test_a_parameter_of_the_wrong_type_is_refused_with_the_servers_message(
    runner_server: RunningServer, project: str, tmp_path: Path
) -> None:
    nb = write_notebook(tmp_path / "p.ipynb", "print(epochs)", parameters="epochs = 10")
    wrong = cli(runner_server, project, "jobs", "submit", str(nb), "-p", "epochs=ten")
    assert wrong.returncode == 1
    assert "epochs" in wrong.stderr and "int" in wrong.stderr and "Traceback" not in wrong.stderr
    unknown = cli(runner_server, project, "jobs", "submit", str(nb), "-p", "epoch=3")
    assert unknown.returncode == 1 and "epochs" in unknown.stderr  # the server suggests the right name


def test_jobs_list_show_logs_and_cancel(runner_server: RunningServer, project: str, tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "queued.ipynb", "print('x')")
    # No runner has this label: the job waits in the queue.
    submitted = cli(runner_server, project, "jobs", "submit", str(nb), "--labels", f"none-{uuid.uuid4().hex[:6]}")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.split()[2]
    listed = cli(runner_server, project, "jobs", "list")
    assert listed.returncode == 0 and job_id in listed.stdout and "queued" in listed.stdout
    shown = cli(runner_server, project, "jobs", "show", job_id)
    assert shown.returncode == 0 and "queued" in shown.stdout and "queued.ipynb" in shown.stdout
    assert cli(runner_server, project, "jobs", "logs", job_id).returncode == 0
    cancelled = cli(runner_server, project, "jobs", "cancel", job_id)
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    missing = cli(runner_server, project, "jobs", "show", "no-such-job")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr


SEEDED = """
import runlab
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

X, y = make_classification(n_samples=400, n_features=10, random_state=seed)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
with runlab.start(name="forest", params={"seed": seed}) as run:
    model = RandomForestClassifier(n_estimators=25, random_state=seed).fit(X_train, y_train)
    run.metric("accuracy", model.score(X_test, y_test))
    run.metric("positive_mass", float(model.predict_proba(X_test)[:, 1].sum()))
    print("RUN", run.id)
runlab.flush()
"""


def test_rerun_on_a_runner_reproduces_a_local_runs_metrics(
    runner_server: RunningServer, runners: Runners, project: str, tmp_path: Path
) -> None:
    nb = new_notebook(cells=[new_code_cell("seed = 7", metadata={"tags": ["parameters"]}), new_code_cell(SEEDED)])
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")])),
        "RUNLAB_URL": runner_server.url,
        "RUNLAB_TOKEN": runner_server.token,
        "RUNLAB_PROJECT": project,
        "RUNLAB_NOTEBOOK": "forest.ipynb",
    }
    local = execute_notebook(nb, work_dir=tmp_path, env=env)
    assert local.status == "finished", local.error
    output = "".join(o.get("text", "") for o in local.notebook.cells[1].outputs)
    run_id = output.split("RUN", 1)[1].split()[0]
    with runlab.Client(runner_server.url, runner_server.token) as client:
        # What JupyterLab does when a run starts: the browser sends the notebook's snapshot.
        client.create_snapshot(run_id, {"notebookPath": "forest.ipynb", "notebook": json.loads(json.dumps(nb))})
        original = wait_until(
            lambda: (lambda r: r if "accuracy" in r["metrics"] else None)(client.get_run(run_id)), 10, "metrics"
        )

    runners.start(f"rerun-{uuid.uuid4().hex[:6]}")
    done = cli(runner_server, project, "rerun", run_id, "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    job_id = done.stdout.split()[2]
    with runlab.Client(runner_server.url, runner_server.token) as client:
        job: dict[str, Any] = client.get_job(job_id)
        again = client.get_run(job["runId"])
    assert job["rerunOf"] == run_id and again["id"] != run_id
    for key in ("accuracy", "positive_mass"):
        assert again["metrics"][key]["latest"] == original["metrics"][key]["latest"]
    assert again["params"]["seed"] == "7"

    # Again in an environment rebuilt from the packages the original run recorded (uv, cached).
    recreated = cli(runner_server, project, "rerun", run_id, "--env", "recreate", "--wait", timeout=600)
    assert recreated.returncode == 0, recreated.stdout + recreated.stderr
    with runlab.Client(runner_server.url, runner_server.token) as client:
        third = client.get_run(client.get_job(recreated.stdout.split()[2])["runId"])
    for key in ("accuracy", "positive_mass"):
        assert third["metrics"][key]["latest"] == original["metrics"][key]["latest"]
    assert "runlab-env-" in " ".join(p.name for p in (runners.started[0].work_dir / "jupyter" / "kernels").iterdir())
