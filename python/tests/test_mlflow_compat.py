"""An unchanged script using the official `mlflow` client (mlflow-skinny from PyPI) is tracked by
Runlab when MLFLOW_TRACKING_URI points at it; Runlab's own runs are visible to the mlflow client."""

from __future__ import annotations

import uuid

import mlflow  # the test requirements (python/requirements-test.txt) install it
import pytest
import requests
from conftest import RunningServer
from mlflow.tracking import MlflowClient


@pytest.fixture
def tracking(runlab_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> RunningServer:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", runlab_server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", runlab_server.token)
    mlflow.set_tracking_uri(runlab_server.url)
    return runlab_server


def _runlab(server: RunningServer, method: str, path: str, **kwargs: object) -> dict:
    response = requests.request(
        method, server.url + path, headers={"Authorization": f"Bearer {server.token}"}, timeout=10, **kwargs
    )
    response.raise_for_status()
    return response.json() if response.content else {}


def test_an_mlflow_script_is_tracked_unchanged(tracking: RunningServer) -> None:
    experiment = f"mlflow-compat-{uuid.uuid4().hex[:6]}"
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name="from-mlflow") as active:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"batch": 32, "optimizer": "adam"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.9}, step=4)
        mlflow.set_tag("team", "vision")
    run_id = active.info.run_id

    # Runlab sees the run, in the project named after the experiment.
    runs = _runlab(tracking, "GET", "/api/runs", params={"project": experiment})["runs"]
    assert [run["id"] for run in runs] == [run_id]
    run = _runlab(tracking, "GET", f"/api/runs/{run_id}")
    assert run["name"] == "from-mlflow"
    assert run["status"] == "finished"
    assert run["params"] == {"lr": "0.1", "batch": "32", "optimizer": "adam"}
    assert run["tags"]["team"] == "vision"
    assert run["metrics"]["loss"]["latest"] == pytest.approx(0.2)
    assert run["metrics"]["loss"]["min"] == pytest.approx(0.2)
    assert run["metrics"]["loss"]["count"] == 5

    # And the mlflow client reads it back the way it wrote it.
    client = MlflowClient()
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(s, pytest.approx(1.0 / (s + 1))) for s in range(5)]
    fetched = client.get_run(run_id)
    assert fetched.data.params["lr"] == "0.1"
    assert fetched.data.metrics["acc"] == pytest.approx(0.9)
    assert fetched.info.status == "FINISHED"


def test_runlab_runs_are_visible_to_the_mlflow_client(tracking: RunningServer) -> None:
    project = f"shared-{uuid.uuid4().hex[:6]}"
    created = _runlab(
        tracking, "POST", "/api/runs", json={"project": project, "name": "from-runlab", "params": {"depth": "3"}}
    )
    _runlab(
        tracking,
        "POST",
        f"/api/runs/{created['id']}/log",
        json={"idempotencyKey": uuid.uuid4().hex, "metrics": [{"key": "acc", "value": 0.75, "step": 0}]},
    )
    client = MlflowClient()
    experiment = client.get_experiment_by_name(project)
    assert experiment is not None
    found = client.search_runs([experiment.experiment_id])
    assert [run.info.run_id for run in found] == [created["id"]]
    assert found[0].data.params["depth"] == "3"
    assert found[0].data.metrics["acc"] == pytest.approx(0.75)
    assert found[0].info.run_name == "from-runlab"


def test_mlflow_errors_come_back_as_mlflow_errors(tracking: RunningServer) -> None:
    client = MlflowClient()
    with pytest.raises(mlflow.exceptions.MlflowException) as raised:
        client.get_run("does-not-exist")
    assert raised.value.error_code == "RESOURCE_DOES_NOT_EXIST"
