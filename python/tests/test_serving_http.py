"""`runlab serve-model` as a real process on an ephemeral port: the OIP v2 and MLflow endpoints, the
validation errors, batching, metrics, canary and shadow, readiness gating, restarts and SIGTERM."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pytest
import requests

PYTHON_DIR = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serving:
    def __init__(self, process: subprocess.Popen, url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> requests.Response:
        return requests.post(self.url + path, json=body, timeout=30, **kwargs)

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve-model exited with {self.process.returncode}:\n{self.log.read_text()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/v2/health/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        pytest.fail(f"serve-model was not ready within {seconds} s:\n{self.log.read_text()}")

    def wait_listening(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + "/v2/health/live", timeout=2)
                return
            time.sleep(0.05)
        pytest.fail(f"serve-model did not listen within {seconds} s:\n{self.log.read_text()}")


@contextlib.contextmanager
def serve(tmp_path: Path, *args: str, env: dict | None = None, ready: bool = True) -> Iterator[Serving]:
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    environment = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), **(env or {})}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "runlab.serving", *args, "--port", str(port)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    serving = Serving(process, f"http://127.0.0.1:{port}", log)
    try:
        if ready:
            serving.wait_ready()
        yield serving
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- models ------------------------------------------------------------------------------------------


def iris_frame():
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True)
    features = frame.data
    features.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return features, frame.target


@pytest.fixture(scope="module")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.ensemble import RandomForestClassifier

    from runlab.models.flavors import save_model

    features, target = iris_frame()
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(features, target)
    directory = tmp_path_factory.mktemp("models") / "iris"
    save_model(model, directory, input_example=features[:5])
    return directory


def constant_model_dir(directory: Path, answer: int, *, columns: bool = True) -> Path:
    """A python model answering ``answer`` for every row; its load and predict sleep for
    RUNLAB_TEST_LOAD_DELAY / RUNLAB_TEST_PREDICT_DELAY seconds when those are set (in the server)."""
    from runlab.models.flavors import save_model

    class Constant:  # defined here so cloudpickle stores it by value
        def __init__(self, value: int) -> None:
            self.value = value

        def __setstate__(self, state: dict) -> None:
            import os
            import time

            time.sleep(float(os.environ.get("RUNLAB_TEST_LOAD_DELAY", "0")))
            self.__dict__.update(state)

        def predict(self, rows):
            import os
            import time

            import numpy

            time.sleep(float(os.environ.get("RUNLAB_TEST_PREDICT_DELAY", "0")))
            return numpy.full(len(rows), self.value)

    example = iris_frame()[0][:3] if columns else np.array([[1.0, 2.0, 3.0, 4.0]])
    save_model(Constant(answer), directory, input_example=example)
    return directory


@pytest.fixture(scope="module")
def server(iris_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    with serve(tmp_path_factory.mktemp("serve"), "--model-dir", str(iris_dir), "--name", "iris") as serving:
        yield serving


def rows_request(rows: list[list[float]], **extra) -> dict:
    flat = [value for row in rows for value in row]
    return {**extra, "inputs": [{"name": "features", "shape": [len(rows), 4], "datatype": "FP64", "data": flat}]}


SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.7, 3.0, 5.2, 2.3]


# -- OIP endpoints -------------------------------------------------------------------------------------


def test_server_metadata_and_health(server: Serving):
    metadata = server.get("/v2").json()
    assert metadata["name"] == "runlab" and isinstance(metadata["version"], str) and metadata["extensions"] == []
    assert server.get("/v2/health/live").json() == {"live": True}
    ready = server.get("/v2/health/ready")
    assert ready.status_code == 200 and ready.json() == {"ready": True}
    assert server.get("/ping").status_code == 200
    assert server.get("/health").status_code == 200
    status = server.get("/runlab/status").json()
    assert status["ready"] is True
    assert status["slots"] == [
        {
            "role": "stable",
            "modelName": "iris",
            "version": 1,
            "modelVersionId": "local-1",
            "percent": 100.0,
            "ready": True,
        }
    ]


def test_a_page_on_another_origin_may_call_it(server: Serving):
    """The Deploy dialog's try-it box runs on JupyterLab's origin and calls the endpoint directly."""
    preflight = requests.options(
        server.url + "/v2/models/iris/infer",
        headers={"Origin": "http://127.0.0.1:8888", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    answer = server.post("/v2/models/iris/infer", rows_request([[5.1, 3.5, 1.4, 0.2]]), headers={"Origin": "http://x"})
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Runlab-Model-Version" in answer.headers["Access-Control-Expose-Headers"]
    refused = server.post("/v2/models/iris/infer", {"inputs": []})
    assert refused.status_code == 400 and refused.headers["Access-Control-Allow-Origin"] == "*"


def test_an_oversized_body_is_413_and_the_server_keeps_serving(iris_dir: Path, tmp_path: Path):
    with serve(
        tmp_path, "--model-dir", str(iris_dir), "--name", "iris", env={"RUNLAB_SERVING_MAX_BODY_BYTES": "2000"}
    ) as small:
        rows = [[5.1, 3.5, 1.4, 0.2]] * 200
        refused = small.post("/v2/models/iris/infer", rows_request(rows))
        assert refused.status_code == 413
        assert "larger than 2000 bytes (RUNLAB_SERVING_MAX_BODY_BYTES)" in refused.json()["error"]
        assert small.post("/invocations", {"inputs": rows}).status_code == 413
        assert small.post("/v2/models/iris/infer", rows_request(rows[:2])).status_code == 200


def test_model_metadata_and_readiness(server: Serving):
    metadata = server.get("/v2/models/iris").json()
    assert metadata["name"] == "iris"
    assert metadata["versions"] == ["1"]
    assert metadata["platform"] == "sklearn"
    assert metadata["inputs"] == [
        {"name": name, "datatype": "FP64", "shape": [-1]}
        for name in ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    ]
    assert [o["datatype"] for o in metadata["outputs"]] == ["INT64"]
    assert server.get("/v2/models/iris/versions/1").json()["versions"] == ["1"]
    assert server.get("/v2/models/iris/ready").json() == {"name": "iris", "ready": True}
    assert server.get("/v2/models/iris/versions/1/ready").status_code == 200

    unknown = server.get("/v2/models/roses")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "model 'roses' is not served here; this server serves 'iris'"}
    missing_version = server.get("/v2/models/iris/versions/7/ready")
    assert missing_version.status_code == 404
    assert missing_version.json()["error"] == "version '7' of model 'iris' is not served here (served versions: 1)"
    assert server.post("/v2/models/roses/infer", rows_request([SETOSA])).status_code == 404


def test_infer_with_a_table_and_with_named_columns(server: Serving):
    answer = server.post("/v2/models/iris/infer", rows_request([SETOSA, VIRGINICA], id="req-1"))
    assert answer.status_code == 200
    assert answer.headers["X-Runlab-Model-Version"] == "1"
    body = answer.json()
    assert body["model_name"] == "iris" and body["model_version"] == "1" and body["id"] == "req-1"
    assert body["outputs"] == [{"name": "predict", "shape": [2], "datatype": "INT64", "data": [0, 2]}]

    columns = {
        "inputs": [
            {"name": name, "shape": [2], "datatype": "FP64", "data": [SETOSA[j], VIRGINICA[j]]}
            for j, name in enumerate(["sepal_length", "sepal_width", "petal_length", "petal_width"])
        ],
        "outputs": [{"name": "predict"}],
    }
    assert server.post("/v2/models/iris/versions/1/infer", columns).json()["outputs"][0]["data"] == [0, 2]
    unknown_output = server.post("/v2/models/iris/infer", rows_request([SETOSA], outputs=[{"name": "proba"}]))
    assert unknown_output.status_code == 400
    assert unknown_output.json() == {"error": "unknown output 'proba': the model's outputs are predict"}


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            [{"name": "sepal_length", "shape": [1], "datatype": "BYTES", "data": ["long"]}],
            "input 'sepal_length': expected datatype FP64, got BYTES",
        ),
        (
            [
                {"name": name, "shape": [1], "datatype": "FP64", "data": [1.0]}
                for name in ["sepal_length", "sepal_width", "petal_length"]
            ],
            "missing input 'petal_width' (datatype FP64, shape [-1]); the model's inputs are sepal_length, "
            "sepal_width, petal_length, petal_width",
        ),
        (
            [
                {"name": name, "shape": [1], "datatype": "FP64", "data": [1.0]}
                for name in ["sepal_length", "sepal_width", "petal_length", "petal_width", "colour"]
            ],
            "unexpected input 'colour': the model's inputs are sepal_length, sepal_width, petal_length, petal_width",
        ),
        (
            [{"name": "features", "shape": [1, 3], "datatype": "FP64", "data": [1.0, 2.0, 3.0]}],
            "input 'features': expected shape [-1, 4] (one column per model input: sepal_length, sepal_width, "
            "petal_length, petal_width), got [1, 3]",
        ),
        (
            [{"name": "features", "shape": [2, 4], "datatype": "FP64", "data": [1.0] * 7}],
            "input 'features': shape [2, 4] needs 8 values, 'data' has 7",
        ),
        (
            [{"name": "features", "shape": [1, 4], "datatype": "FP64", "data": [1.0, "wide", 3.0, 4.0]}],
            "input 'features': expected numbers or null (FP64), got 'wide'",
        ),
        (
            [{"name": "features", "shape": [1, 4], "datatype": "DOUBLE", "data": [1.0, 2.0, 3.0, 4.0]}],
            "input 'features': unknown datatype 'DOUBLE'; expected one of BOOL, UINT8, UINT16, UINT32, UINT64, "
            "INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES",
        ),
    ],
)
def test_validation_errors_are_400_naming_the_field(server: Serving, inputs: list, message: str):
    answer = server.post("/v2/models/iris/infer", {"inputs": inputs})
    assert answer.status_code == 400
    assert answer.json() == {"error": message}


def test_malformed_bodies_are_400(server: Serving):
    answer = requests.post(server.url + "/v2/models/iris/infer", data=b"{not json", timeout=10)
    assert answer.status_code == 400 and answer.json()["error"].startswith("the body is not valid JSON")
    assert server.post("/v2/models/iris/infer", [1, 2]).status_code == 400
    assert server.post("/v2/models/iris/infer", {"inputs": []}).status_code == 400


def test_mlflow_invocations_formats(server: Serving):
    columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    rows = [SETOSA, VIRGINICA]
    bodies = [
        {"dataframe_split": {"columns": columns, "data": rows}},
        {"dataframe_records": [dict(zip(columns, row, strict=True)) for row in rows]},
        {"instances": rows},
        {"instances": [dict(zip(columns, row, strict=True)) for row in rows]},
        {"inputs": {name: [row[j] for row in rows] for j, name in enumerate(columns)}},
    ]
    for body in bodies:
        answer = server.post("/invocations", body)
        assert answer.status_code == 200, (body, answer.text)
        assert answer.json() == {"predictions": [0, 2]}, body
    csv_body = ",".join(columns) + "\n" + "\n".join(",".join(map(str, row)) for row in rows) + "\n"
    answer = requests.post(server.url + "/invocations", data=csv_body, headers={"Content-Type": "text/csv"}, timeout=10)
    assert answer.json() == {"predictions": [0, 2]}
    bad = server.post("/invocations", {"dataframe_records": [{"sepal_length": 1.0}]})
    assert bad.status_code == 400
    assert bad.json()["error_code"] == "BAD_REQUEST"
    assert bad.json()["message"].startswith("missing input 'sepal_width'")


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(server: Serving):
    features, _ = iris_frame()
    picks = list(range(0, 150, 3))

    def one(i: int) -> tuple[int, int]:
        answer = server.post("/v2/models/iris/infer", rows_request([features.iloc[i].tolist()], id=f"row-{i}"))
        assert answer.status_code == 200
        body = answer.json()
        assert body["id"] == f"row-{i}"
        return i, body["outputs"][0]["data"][0]

    before = _metric_sum(server, "runlab_serving_batch_size_count")
    with ThreadPoolExecutor(32) as pool:
        answers = dict(pool.map(one, picks * 4))
    expected = {
        i: int(p)
        for i, p in zip(picks, _local_predictions(server, [features.iloc[i].tolist() for i in picks]), strict=True)
    }
    assert answers == expected
    calls = _metric_sum(server, "runlab_serving_batch_size_count") - before
    assert calls < len(picks) * 4  # some requests shared a predict call


def _local_predictions(server: Serving, rows: list) -> list[int]:
    return server.post("/v2/models/iris/infer", rows_request(rows)).json()["outputs"][0]["data"]


def _metric_sum(server: Serving, name: str) -> float:
    total = 0.0
    for line in server.get("/metrics").text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_have_conventional_names(server: Serving):
    server.post("/v2/models/iris/infer", rows_request([SETOSA]))
    server.post("/v2/models/iris/infer", {"inputs": []})
    text = server.get("/metrics").text
    assert 'runlab_serving_requests_total{model="iris",role="stable",status="200",version="1"}' in text
    assert 'runlab_serving_requests_total{model="iris",role="stable",status="400",version="1"}' in text
    assert 'runlab_serving_request_duration_seconds_bucket{le="0.005",model="iris",role="stable",version="1"}' in text
    assert "# TYPE runlab_serving_request_duration_seconds histogram" in text
    assert 'runlab_serving_batch_size_bucket{le="1.0",model="iris",version="1"}' in text
    assert 'runlab_serving_model_load_seconds{model="iris",version="1"}' in text
    assert 'runlab_serving_model_ready{model="iris",role="stable",version="1"} 1.0' in text


# -- traffic split -------------------------------------------------------------------------------------


def test_canary_answers_its_share_and_says_which_version_answered(iris_dir: Path, tmp_path: Path):
    canary = constant_model_dir(tmp_path / "canary", 7)
    args = ("--model-dir", str(iris_dir), "--name", "iris", "--canary-dir", str(canary), "--percent", "30")
    with serve(tmp_path, *args) as serving:
        seen = {}
        for i in range(300):
            answer = serving.post("/v2/models/iris/infer", rows_request([SETOSA], id=f"split-{i}"))
            body = answer.json()
            assert answer.headers["X-Runlab-Model-Version"] == body["model_version"]
            # the canary (version 2) answers 7, the stable one the iris class
            assert body["outputs"][0]["data"] == ([7] if body["model_version"] == "2" else [0])
            seen[i] = body["model_version"]
        share = sum(v == "2" for v in seen.values()) / len(seen)
        assert 0.2 <= share <= 0.4, share
        # the same id goes to the same version every time
        for i in range(20):
            again = serving.post("/v2/models/iris/infer", rows_request([SETOSA], id=f"split-{i}")).json()
            assert again["model_version"] == seen[i]
        # a version can be addressed directly, outside the split
        direct = serving.post("/v2/models/iris/versions/2/infer", rows_request([SETOSA])).json()
        assert direct["outputs"][0]["data"] == [7]


def test_shadow_answers_are_logged_and_never_returned(iris_dir: Path, tmp_path: Path):
    shadow = constant_model_dir(tmp_path / "shadow", 7)
    log = tmp_path / "predictions.jsonl"
    args = ("--model-dir", str(iris_dir), "--name", "iris", "--shadow-dir", str(shadow), "--percent", "50")
    with serve(tmp_path, *args, "--prediction-log", str(log), "--sample-rate", "0") as serving:
        for i in range(60):
            answer = serving.post("/v2/models/iris/infer", rows_request([SETOSA], id=f"shadow-{i}"))
            assert answer.headers["X-Runlab-Model-Version"] == "1"
            assert answer.json()["outputs"][0]["data"] == [0]
        invocation = serving.post("/invocations", {"instances": [SETOSA]}, headers={"X-Request-Id": "shadow-inv"})
        assert invocation.json() == {"predictions": [0]}
        deadline = time.monotonic() + 15
        records: list[dict] = []
        while time.monotonic() < deadline:
            records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            if sum(r["role"] == "shadow" for r in records) >= 20:
                break
            time.sleep(0.3)
    shadow_records = [r for r in records if r["role"] == "shadow"]
    assert 15 <= len(shadow_records) <= 45  # about half of 61
    assert all(r["outputs"] == {"predict": [7]} and r["status"] == 200 for r in shadow_records)
    assert shadow_records[0]["inputs"]["sepal_length"] == [5.1]
    # each copied request is logged on the stable side too, under the same id, for comparison
    stable_ids = {r["requestId"] for r in records if r["role"] == "stable"}
    assert {r["requestId"] for r in shadow_records} <= stable_ids


# -- readiness, restarts, shutdown ---------------------------------------------------------------------


def test_requests_wait_for_a_slow_load_and_ready_is_503_meanwhile(tmp_path: Path):
    model = constant_model_dir(tmp_path / "slow", 3, columns=False)
    with serve(
        tmp_path, "--model-dir", str(model), "--name", "slow", env={"RUNLAB_TEST_LOAD_DELAY": "4"}, ready=False
    ) as s:
        s.wait_listening()
        not_ready = s.get("/v2/health/ready")
        assert not_ready.status_code == 503 and not_ready.json()["ready"] is False
        assert not_ready.headers["Retry-After"] == "1"
        assert s.get("/v2/models/slow/ready").status_code == 503
        # the metadata comes from the MLmodel file, before the load ends
        metadata = s.get("/v2/models/slow").json()
        assert metadata["inputs"] == [{"name": "input", "datatype": "FP64", "shape": [-1, 4]}]
        assert metadata["platform"] == "python"
        assert s.get("/ping").status_code == 503
        started = time.monotonic()
        request = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]}
        answer = s.post("/v2/models/slow/infer", request)  # waits for the load, then answers
        assert answer.status_code == 200, answer.text
        assert answer.json()["outputs"][0]["data"] == [3]
        assert time.monotonic() - started > 0.5
        assert s.get("/v2/health/ready").status_code == 200


def test_a_load_longer_than_the_wait_is_503_with_retry_after(tmp_path: Path):
    model = constant_model_dir(tmp_path / "slow", 3, columns=False)
    args = ("--model-dir", str(model), "--name", "slow", "--load-wait", "0.5")
    with serve(tmp_path, *args, env={"RUNLAB_TEST_LOAD_DELAY": "6"}, ready=False) as s:
        s.wait_listening()
        request = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]}
        answer = s.post("/v2/models/slow/infer", request)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        assert "is loading" in answer.json()["error"]
        invocation = s.post("/invocations", {"instances": [[1, 2, 3, 4]]})
        assert invocation.status_code == 503 and invocation.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"


def test_a_killed_worker_is_restarted_and_serves_again(iris_dir: Path, tmp_path: Path):
    with serve(tmp_path, "--model-dir", str(iris_dir), "--name", "iris", "--workers", "2") as serving:
        parent = psutil.Process(serving.process.pid)
        workers = parent.children()
        assert len(workers) == 2
        victim = workers[0]
        victim.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pids = {child.pid for child in parent.children()}
            if len(pids) == 2 and victim.pid not in pids:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"the worker was not restarted:\n{serving.log.read_text()}")
        # both workers answer again (new connections are spread over them)
        deadline = time.monotonic() + 60
        ok = 0
        while time.monotonic() < deadline and ok < 20:
            with contextlib.suppress(requests.RequestException):
                answer = requests.post(serving.url + "/v2/models/iris/infer", json=rows_request([SETOSA]), timeout=30)
                ok = ok + 1 if answer.status_code == 200 else 0
            time.sleep(0.05)
        assert ok >= 20
        assert "exited with signal 9; restarting" in serving.log.read_text()


def test_sigterm_finishes_requests_in_flight_and_exits_0(tmp_path: Path):
    model = constant_model_dir(tmp_path / "sleepy", 5, columns=False)
    with serve(tmp_path, "--model-dir", str(model), "--name", "sleepy", env={"RUNLAB_TEST_PREDICT_DELAY": "1.5"}) as s:
        request = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]}
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(s.post, "/v2/models/sleepy/infer", request)
            time.sleep(0.5)
            s.process.send_signal(signal.SIGTERM)
            answer = in_flight.result(timeout=30)
        assert answer.status_code == 200 and answer.json()["outputs"][0]["data"] == [5]
        assert s.process.wait(timeout=40) == 0


def test_a_directory_without_a_model_is_a_clear_start_error(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "runlab.serving", "--model-dir", str(tmp_path), "--port", str(free_port())],
        env={**os.environ, "PYTHONPATH": str(PYTHON_DIR)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "is not a model directory (no MLmodel file)" in result.stderr


def test_workers_stop_when_the_parent_is_killed(iris_dir: Path, tmp_path: Path):
    with serve(tmp_path, "--model-dir", str(iris_dir), "--name", "iris") as serving:
        workers = psutil.Process(serving.process.pid).children()
        serving.process.send_signal(signal.SIGKILL)
        serving.process.wait(timeout=10)
        _, alive = psutil.wait_procs(workers, timeout=30)
        assert alive == [], "a worker outlived its killed parent"
