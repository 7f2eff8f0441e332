"""MLflow's model registry against Runlab: an unchanged `mlflow.sklearn.log_model(...,
registered_model_name=...)` uploads through the proxied artifact endpoints and becomes a Runlab
model version; MlflowClient's registered-model, version, alias and tag calls map to Runlab's
registry; `mlflow.pyfunc.load_model("models:/name@alias")` downloads and predicts, for versions
MLflow logged and for versions `runlab.model` logged. The real mlflow client (mlflow-skinny) and
a real server."""

from __future__ import annotations

import uuid
from pathlib import Path

import mlflow
import numpy as np
import pytest
import requests
from conftest import RunningServer
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression

import runlab


@pytest.fixture
def tracking(runlab_server: RunningServer, monkeypatch: pytest.MonkeyPatch) -> RunningServer:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", runlab_server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", runlab_server.token)
    mlflow.set_tracking_uri(runlab_server.url)
    return runlab_server


@pytest.fixture
def name() -> str:
    """A registered model name of its own for each test (the server is shared by the session)."""
    return f"churn-{uuid.uuid4().hex[:8]}"


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    features = np.random.RandomState(seed).rand(60, 3)
    return features, (features[:, 0] + features[:, 1] > 1).astype(int)


def _trained(seed: int = 0, c: float = 1.0) -> tuple[LogisticRegression, np.ndarray]:
    features, labels = _data(seed)
    return LogisticRegression(C=c).fit(features, labels), features


def _runlab(server: RunningServer, method: str, path: str, **kwargs: object) -> dict:
    response = requests.request(
        method, server.url + path, headers={"Authorization": f"Bearer {server.token}"}, timeout=30, **kwargs
    )
    response.raise_for_status()
    return response.json() if response.content else {}


def _log(name: str, model: LogisticRegression, features: np.ndarray) -> tuple[str, object]:
    with mlflow.start_run() as run:
        mlflow.log_param("C", model.C)
        mlflow.log_metric("accuracy", 0.9)
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name, input_example=features[:5])
    return run.info.run_id, info


def _error_code(call) -> str:
    with pytest.raises(MlflowException) as raised:
        call()
    return raised.value.error_code


def test_log_model_with_registered_model_name_makes_a_runlab_version(tracking: RunningServer, name: str) -> None:
    model, features = _trained()
    run_id, info = _log(name, model, features)
    assert info.registered_model_version == "1"

    versions = _runlab(tracking, "GET", f"/api/models/{name}/versions")["versions"]
    assert [version["version"] for version in versions] == [1]
    [version] = versions
    assert version["flavor"] == "sklearn"
    assert version["source"] == "mlflow"
    assert version["runId"] == run_id
    assert version["signature"]["inputs"] == [
        {"name": None, "kind": "tensor", "datatype": "FP64", "shape": [-1, 3], "required": True}
    ]
    assert version["signature"]["outputs"][0]["datatype"] == "INT64"
    assert np.allclose(np.array(version["inputExample"]), features[:5])
    assert any(line.startswith("scikit-learn==") for line in version["requirements"])
    assert "MLmodel" in {file["path"] for file in version["files"]}
    # The run's metric is not counted twice by log_model's copy of it for the logged model.
    assert _runlab(tracking, "GET", f"/api/runs/{run_id}")["metrics"]["accuracy"]["count"] == 1

    # A second log_model adds version 2 to the same model.
    second, _ = _trained(seed=1, c=0.1)
    _log(name, second, features)
    assert [v["version"] for v in _runlab(tracking, "GET", f"/api/models/{name}/versions")["versions"]] == [2, 1]

    client = MlflowClient()
    fetched = client.get_model_version(name, "1")
    assert fetched.run_id == run_id
    assert fetched.current_stage == "None"
    assert fetched.status == "READY"
    assert fetched.source.startswith("models:/m-")
    assert client.get_registered_model(name).latest_versions[0].version == "2"
    assert client.get_model_version_download_uri(name, "1").startswith("mlflow-artifacts:/model-versions/")


def test_aliases_move_and_load_model_by_alias_predicts_like_the_original(tracking: RunningServer, name: str) -> None:
    first, features = _trained()
    second, _ = _trained(seed=3, c=0.01)
    _log(name, first, features)
    _log(name, second, features)
    client = MlflowClient()

    client.set_registered_model_alias(name, "production", "1")
    assert client.get_model_version_by_alias(name, "production").version == "1"
    assert client.get_registered_model(name).aliases == {"production": "1"}
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@production")
    assert np.array_equal(loaded.predict(features), first.predict(features))
    by_number = mlflow.pyfunc.load_model(f"models:/{name}/2")
    assert np.array_equal(by_number.predict(features), second.predict(features))

    client.set_registered_model_alias(name, "production", 2)
    assert client.get_model_version_by_alias(name, "production").version == "2"
    assert client.get_model_version(name, "2").aliases == ["production"]
    # Runlab keeps every move in the alias history.
    moves = _runlab(tracking, "GET", f"/api/models/{name}/alias-history", params={"alias": "production"})["moves"]
    assert [(move["fromVersion"], move["toVersion"]) for move in moves] == [(1, 2), (None, 1)]

    client.delete_registered_model_alias(name, "production")
    assert _error_code(lambda: client.get_model_version_by_alias(name, "production")) == "RESOURCE_DOES_NOT_EXIST"
    assert _runlab(tracking, "GET", f"/api/models/{name}")["aliases"] == {}


def test_search_tags_and_descriptions(tracking: RunningServer, name: str) -> None:
    model, features = _trained()
    run_id, _ = _log(name, model, features)
    client = MlflowClient()

    client.set_registered_model_tag(name, "team", "risk")
    client.update_registered_model(name, description="Predicts churn")
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.update_model_version(name, "1", description="baseline")

    found = client.search_registered_models(filter_string=f"name = '{name}'")
    assert [model.name for model in found] == [name]
    assert found[0].tags == {"team": "risk"}
    assert found[0].description == "Predicts churn"
    assert name in [model.name for model in client.search_registered_models(filter_string="name LIKE 'churn-%'")]
    assert [
        model.name for model in client.search_registered_models(filter_string=f"tags.team = 'risk' AND name = '{name}'")
    ] == [name]

    versions = client.search_model_versions(f"name = '{name}'")
    assert [(v.version, v.run_id, v.tags, v.description) for v in versions] == [
        ("1", run_id, {"validated": "yes"}, "baseline")
    ]
    assert [v.name for v in client.search_model_versions(f"run_id = '{run_id}'")] == [name]
    assert [v.version for v in client.get_latest_versions(name)] == ["1"]

    # Runlab's REST API sees the same tags and descriptions.
    assert _runlab(tracking, "GET", f"/api/models/{name}")["tags"] == {"team": "risk"}
    assert _runlab(tracking, "GET", f"/api/models/{name}/versions/1")["description"] == "baseline"

    client.delete_model_version_tag(name, "1", "validated")
    client.delete_registered_model_tag(name, "team")
    assert client.get_model_version(name, "1").tags == {}
    assert client.get_registered_model(name).tags == {}


def test_what_runlab_cannot_do_is_refused_in_mlflows_shape(tracking: RunningServer, name: str) -> None:
    model, features = _trained()
    _log(name, model, features)
    client = MlflowClient()

    assert _error_code(lambda: client.get_registered_model(f"{name}-missing")) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.get_model_version(name, "7")) == "RESOURCE_DOES_NOT_EXIST"
    assert _error_code(lambda: client.create_registered_model(name)) == "RESOURCE_ALREADY_EXISTS"
    assert _error_code(lambda: client.create_registered_model("has spaces!")) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="immutable") as raised:
        client.delete_model_version(name, "1")
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="does not rename"):
        client.rename_registered_model(name, f"{name}-renamed")
    with pytest.raises(MlflowException, match="aliases"):
        client.transition_model_version_stage(name, "1", "Production")
    assert _error_code(lambda: client.set_registered_model_alias(name, "v2", "1")) == "INVALID_PARAMETER_VALUE"
    assert _error_code(lambda: client.set_registered_model_alias(name, "production", "9")) == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException, match="outside") as raised:
        client.create_model_version(name, "s3://bucket/elsewhere/model")
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    # The version is still there, unchanged.
    assert [v["version"] for v in _runlab(tracking, "GET", f"/api/models/{name}/versions")["versions"]] == [1]


def test_logged_model_uris_load_and_register_later(tracking: RunningServer, name: str) -> None:
    """log_model without registering: models:/<model id> and runs:/<run id>/model load; register_model later."""
    model, features = _trained(seed=2)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="model", input_example=features[:5])
    assert info.model_uri.startswith("models:/m-")
    assert np.array_equal(mlflow.pyfunc.load_model(info.model_uri).predict(features), model.predict(features))
    by_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert np.array_equal(by_run.predict(features), model.predict(features))
    assert [output.model_id for output in mlflow.get_run(run.info.run_id).outputs.model_outputs] == [info.model_id]

    registered = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
    assert (registered.version, registered.source) == ("1", info.model_uri)
    assert _runlab(tracking, "GET", f"/api/models/{name}/versions/latest")["runId"] == run.info.run_id
    latest = mlflow.sklearn.load_model(f"models:/{name}/latest")
    assert np.array_equal(latest.predict(features), model.predict(features))


def test_register_model_from_a_runs_artifacts(tracking: RunningServer, name: str, tmp_path: Path) -> None:
    """mlflow.log_artifacts goes through the artifact proxy onto the Runlab run; register_model of runs:/ reads them."""
    model, features = _trained()
    mlflow.sklearn.save_model(model, tmp_path / "saved", serialization_format="cloudpickle")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(tmp_path / "saved"), "exported")
    run_id = run.info.run_id

    artifacts = {artifact["path"] for artifact in _runlab(tracking, "GET", f"/api/runs/{run_id}")["artifacts"]}
    assert {"exported/MLmodel", "exported/model.pkl"} <= artifacts
    assert {f.path for f in MlflowClient().list_artifacts(run_id, "exported")} >= {
        "exported/MLmodel",
        "exported/model.pkl",
    }

    registered = mlflow.register_model(f"runs:/{run_id}/exported", name)
    assert registered.version == "1"
    version = _runlab(tracking, "GET", f"/api/models/{name}/versions/1")
    assert (version["runId"], version["flavor"], version["source"]) == (run_id, "sklearn", "mlflow")
    loaded = mlflow.pyfunc.load_model(f"models:/{name}/1")
    assert np.array_equal(loaded.predict(features), model.predict(features))


def test_a_version_logged_by_runlab_loads_with_mlflow(tracking: RunningServer, project: str, name: str) -> None:
    model, features = _trained(seed=5)
    with runlab.start():
        logged = runlab.model(model, name=name, input_example=features[:5])
    _runlab(tracking, "PUT", f"/api/models/{name}/aliases/staging", json={"version": logged.version})

    assert MlflowClient().get_model_version_by_alias(name, "staging").version == str(logged.version)
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@staging")
    assert np.array_equal(np.asarray(loaded.predict(features)).ravel(), model.predict(features))
