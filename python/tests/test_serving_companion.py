"""The serving runtime with the real companion server: a local deployment starts `runlab serve-model
--deployment`, which fetches its spec and files, answers, reports telemetry the server accepts
(the contract's TelemetryReport), and swaps to a canary revision without failing a request."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import RunningServer, start_server, stop_server
from test_serving_http import SETOSA, free_port, iris_frame, rows_request

import runlab


@pytest.fixture(scope="module")
def companion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("companion")
    python_dir = str(Path(__file__).resolve().parents[1])
    extra = {"RUNLAB_SERVING_PYTHON": sys.executable, "RUNLAB_SERVING_POLL_SECONDS": "0.5", "PYTHONPATH": python_dir}
    process, server = start_server(data_dir, extra_env=extra)
    try:
        yield server
    finally:
        stop_server(process)


def api(server: RunningServer, method: str, path: str, body: dict | None = None) -> dict:
    answer = requests.request(
        method, server.url + path, json=body, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
    )
    assert answer.status_code < 300, answer.text
    return answer.json()


def wait_for_deployment(server: RunningServer, deployment_id: str, revision: int, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deployment = api(server, "GET", f"/api/deployments/{deployment_id}")
        if deployment["status"] == "ready" and deployment["revision"] >= revision:
            return deployment
        assert deployment["status"] != "failed", deployment["statusMessage"]
        time.sleep(0.2)
    pytest.fail(f"deployment {deployment_id} was not ready on revision {revision} within {seconds} s")


def test_a_local_deployment_serves_reports_and_swaps_to_a_canary(companion: RunningServer):
    from sklearn.ensemble import RandomForestClassifier

    runlab.configure(url=companion.url, token=companion.token, project="serving")
    features, target = iris_frame()
    with runlab.start():
        runlab.model(
            RandomForestClassifier(n_estimators=10, random_state=0).fit(features, target),
            name="flowers",
            input_example=features[:5],
        )
        runlab.model(
            RandomForestClassifier(n_estimators=3, random_state=1).fit(features, target),
            name="flowers",
            input_example=features[:5],
        )
    created = api(companion, "POST", "/api/deployments", {"model": "flowers", "version": "1", "port": free_port()})
    deployment = wait_for_deployment(companion, created["id"], 1)
    endpoint = deployment["endpoint"]
    try:
        metadata = requests.get(f"{endpoint}/v2/models/flowers", timeout=10).json()
        assert [field["name"] for field in metadata["inputs"]] == list(features.columns)
        for i in range(10):
            answer = requests.post(f"{endpoint}/v2/models/flowers/infer", json=rows_request([SETOSA], id=f"c-{i}"))
            assert answer.status_code == 200 and answer.json()["model_version"] == "1"

        # the sampled predictions reach the server (the report passed the contract's validation)
        deadline = time.monotonic() + 30
        predictions: dict = {}
        while time.monotonic() < deadline:
            predictions = api(companion, "GET", f"/api/deployments/{created['id']}/predictions?limit=100")
            if {f"c-{i}" for i in range(10)} <= {p["requestId"] for p in predictions["predictions"]}:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"the predictions did not reach the server: {predictions}")

        # a canary revision: requests keep succeeding while the runtime loads it and switches
        api(
            companion,
            "POST",
            f"/api/deployments/{created['id']}/traffic",
            {"second": {"mode": "canary", "version": "2", "percent": 50}},
        )
        versions: set[tuple[str, str]] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not {("2", "1"), ("2", "2")} <= versions:
            answer = requests.post(f"{endpoint}/v2/models/flowers/infer", json=rows_request([SETOSA]), timeout=30)
            assert answer.status_code == 200, answer.text
            versions.add((answer.headers["X-Runlab-Revision"], answer.json()["model_version"]))
        assert {("2", "1"), ("2", "2")} <= versions
        status = requests.get(f"{endpoint}/runlab/status", timeout=10).json()
        assert status["revision"] == 2 and [s["role"] for s in status["slots"]] == ["stable", "canary"]
    finally:
        api(companion, "DELETE", f"/api/deployments/{created['id']}")


def test_serve_model_by_alias_from_the_registry(companion: RunningServer, tmp_path: Path):
    from sklearn.ensemble import RandomForestClassifier
    from test_serving_http import serve

    runlab.configure(url=companion.url, token=companion.token, project="serving")
    features, target = iris_frame()
    with runlab.start():
        runlab.model(
            RandomForestClassifier(n_estimators=5, random_state=0).fit(features, target),
            name="petals",
            input_example=features[:5],
        )
    api(companion, "PUT", "/api/models/petals/aliases/production", {"version": 1})
    environment = {"RUNLAB_URL": companion.url, "RUNLAB_TOKEN": companion.token, "XDG_CACHE_HOME": str(tmp_path)}
    with serve(tmp_path, "petals@production", env=environment) as serving:
        answer = serving.post("/v2/models/petals/infer", rows_request([SETOSA]))
        assert answer.status_code == 200
        assert answer.json()["model_version"] == "1" and answer.json()["outputs"][0]["data"] == [0]
        status = serving.get("/runlab/status").json()
        assert status["slots"][0]["modelName"] == "petals" and status["slots"][0]["version"] == 1


def test_an_unknown_registry_model_is_a_clear_start_error(companion: RunningServer, tmp_path: Path):
    from test_serving_http import serve

    environment = {"RUNLAB_URL": companion.url, "RUNLAB_TOKEN": companion.token}
    with serve(tmp_path, "no-such-model@production", env=environment, ready=False) as serving:
        assert serving.process.wait(timeout=60) == 1
    assert "cannot serve 'no-such-model@production'" in serving.log.read_text()
