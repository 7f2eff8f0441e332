"""Production monitoring end to end: a real companion server, a model deployed on its local target
(a real `runlab serve-model` runtime), live traffic through the runtime, and a real runner.

What a user would notice: drift injected into live traffic (a mean shift, a variance change, a new
category, a prediction shift) is found within one window and names the right feature, and an
alert fires (its webhook down: retried, then failed, the API answering meanwhile); 100 windows
without drift raise no alert; a window too small is refused with its reason; a malformed record
costs only itself and an oversized report gets a 413 that says why; feedback for unknown request
ids is reported and accuracy shows in the overview; Retrain re-runs the model's notebook on a
runner with the newest dataset version and proposes the new model version as a canary.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
import requests
from conftest import PYTHON_DIR, Runners, RunningServer, start_server, stop_server, wait_until
from nbformat.v4 import new_code_cell, new_notebook

import runlab

WINDOW_ROWS = 400
ROWS_PER_REQUEST = 40
PLANS = ["basic", "plus", "pro"]
MAX_LARGE_BODY_BYTES = 4_000_000
WEBHOOK_RETRIES_MS = "100,200"


# -- the server, the model, the deployment --------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("monitoring")
    extra = {
        "RUNLAB_SERVING_PYTHON": sys.executable,
        "RUNLAB_SERVING_POLL_SECONDS": "0.3",
        "PYTHONPATH": str(PYTHON_DIR),
        # Every request logged: the windows fill from the traffic the test sends, nothing sampled away.
        "RUNLAB_PREDICTION_SAMPLE_RATE": "1",
        "RUNLAB_PREDICTION_LIMIT": "100000",
        "RUNLAB_ALERT_EVALUATION_SECONDS": "0.2",
        "RUNLAB_WEBHOOK_RETRY_MS": WEBHOOK_RETRIES_MS,
        "RUNLAB_WEBHOOK_TIMEOUT_MS": "1000",
        "RUNLAB_MAX_LARGE_BODY_BYTES": str(MAX_LARGE_BODY_BYTES),
        "RUNLAB_RUNNER_HEARTBEAT_MS": "500",
        "RUNLAB_RUNNER_LEASE_MS": "3000",
    }
    process, running = start_server(data_dir, extra_env=extra)
    try:
        yield running
    finally:
        stop_server(process)


def api(server: RunningServer, method: str, path: str, body: Any = None, *, expect: int | None = None) -> Any:
    answer = requests.request(
        method, server.url + path, json=body, headers={"Authorization": f"Bearer {server.token}"}, timeout=60
    )
    if expect is not None:
        assert answer.status_code == expect, f"{method} {path} → {answer.status_code}: {answer.text[:2000]}"
    else:
        assert answer.status_code < 300, f"{method} {path} → {answer.status_code}: {answer.text[:2000]}"
    return answer.json() if answer.content else None


class Traffic:
    """The training distribution, and shifted variants of it, as rows of x1, x2, x3, plan."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def frame(self, rows: int, *, mean_shift: float = 0, x2_scale: float = 1, new_plan: str | None = None):
        import pandas as pd

        frame = pd.DataFrame(
            {
                "x1": self.rng.normal(0, 1, rows) + mean_shift,
                "x2": self.rng.normal(5, 2, rows),
                "x3": self.rng.uniform(0, 10, rows),
                "plan": self.rng.choice(PLANS, rows, p=[0.5, 0.3, 0.2]),
            }
        )
        frame["x2"] = 5 + (frame["x2"] - 5) * x2_scale
        if new_plan is not None:
            frame.loc[self.rng.random(rows) < 0.4, "plan"] = new_plan
        return frame


def label_of(frame) -> np.ndarray:
    return ((frame["x1"] + 0.3 * frame["x3"] + (frame["plan"] == "pro") * 1.0) > 1.8).astype(int).to_numpy()


@dataclass
class Served:
    deployment_id: str
    endpoint: str
    model_name: str
    version_id: str
    output: str  # the prediction column's name in the profile
    model: Any


@pytest.fixture(scope="module")
def served(server: RunningServer) -> Iterator[Served]:
    """A scikit-learn pipeline (3 numeric features, 1 categorical) logged with a profile of its
    2,000 training rows and deployed on the local target."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = Traffic(seed=1).frame(2000)
    model = make_pipeline(
        ColumnTransformer(
            [("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"])], remainder="passthrough", sparse_threshold=0
        ),
        LogisticRegression(max_iter=500),
    ).fit(train, label_of(train))
    name = f"churn-{uuid.uuid4().hex[:6]}"
    runlab.configure(url=server.url, token=server.token, project="monitoring")
    with runlab.start(name="train churn"):
        version = runlab.model(model, name=name, input_example=train[:5], profile_data=train)
    profile = api(server, "GET", f"/api/models/{name}/versions/{version.version}/profile")
    assert [f["name"] for f in profile["features"]] == ["x1", "x2", "x3", "plan"]
    assert profile["features"][3]["kind"] == "categorical"
    output = profile["predictions"][0]["name"]
    created = api(server, "POST", "/api/deployments", {"model": name, "version": str(version.version)})
    deployment = wait_until(
        lambda: (lambda d: d if d["status"] in ("ready", "failed") else None)(
            api(server, "GET", f"/api/deployments/{created['id']}")
        ),
        120,
        "the deployment ready",
        interval=0.2,
    )
    assert deployment["status"] == "ready", deployment["statusMessage"]
    try:
        yield Served(created["id"], deployment["endpoint"], name, version.id, output, model)
    finally:
        with contextlib.suppress(AssertionError, requests.RequestException):
            api(server, "DELETE", f"/api/deployments/{created['id']}")


def infer(served: Served, frame, request_id: str) -> requests.Response:
    """One OIP v2 request with a column per input, as a client of the deployment sends it."""
    inputs = []
    for column in frame.columns:
        values = frame[column].tolist()
        datatype = "BYTES" if column == "plan" else "FP64"
        inputs.append({"name": column, "shape": [len(values)], "datatype": datatype, "data": values})
    return requests.post(
        f"{served.endpoint}/v2/models/{served.model_name}/infer", json={"id": request_id, "inputs": inputs}, timeout=30
    )


def send(served: Served, frame, tag: str) -> list[str]:
    """``frame`` through the runtime in requests of ROWS_PER_REQUEST rows; the request ids."""
    ids = []
    for start in range(0, len(frame), ROWS_PER_REQUEST):
        request_id = f"{tag}-{start}"
        answer = infer(served, frame.iloc[start : start + ROWS_PER_REQUEST], request_id)
        assert answer.status_code == 200, answer.text
        ids.append(request_id)
    return ids


def windows(server: RunningServer, served: Served) -> list[dict[str, Any]]:
    """Oldest first."""
    return api(server, "GET", f"/api/deployments/{served.deployment_id}/drift?limit=1000")["windows"][::-1]


def wait_for_windows(server: RunningServer, served: Served, count: int, seconds: float = 60) -> list[dict[str, Any]]:
    return wait_until(
        lambda: (lambda w: w if len(w) >= count else None)(windows(server, served)),
        seconds,
        f"{count} drift windows of deployment {served.deployment_id}",
        interval=0.2,
    )


def drifted_inputs(window: dict[str, Any]) -> list[str]:
    return [f["name"] for f in window["features"] if f["drifted"]]


def deployment_token(server_pid: int, deployment_id: str) -> str:
    """The token the server gave the deployment's runtime (its environment): what a serving
    runtime presents when it reports telemetry."""
    for child in psutil.Process(server_pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if deployment_id in " ".join(child.cmdline()):
                token = child.environ().get("RUNLAB_TOKEN")
                if token:
                    return token
    pytest.fail(f"no runtime process of deployment {deployment_id}")


def server_pid(server: RunningServer) -> int:
    return int(json.loads((server.data_dir / "server.json").read_text())["pid"])


def report(served: Served, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A TelemetryReport as the runtime sends it."""
    return {
        "revision": 1,
        "replica": "test/0",
        "intervalSeconds": 1,
        "counts": [{"role": "stable", "modelVersionId": served.version_id, "status": 200, "count": len(records)}],
        "latency": {"bucketsMs": [1, 2, 5], "counts": [0, len(records), len(records), len(records)]},
        "predictions": records,
    }


def record(served: Served, frame, request_id: str) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "role": "stable",
        "modelVersionId": served.version_id,
        "at": int(time.time() * 1000),
        "latencyMs": 1.0,
        "inputs": {column: frame[column].tolist() for column in frame.columns},
        "outputs": {served.output: served.model.predict(frame).tolist()},
        "status": 200,
        "error": None,
    }


# -- drift in live traffic ------------------------------------------------------------------------


def test_no_drift_windows_raise_no_alert(server: RunningServer, served: Served):
    """100 windows of 500 rows of the training distribution (posted as the runtime's reports, to
    keep it fast). Smaller windows are noisier: at 200 rows about one window in 150 may still flag
    a feature at the default false discovery rate (server/src/monitoring/drift.ts)."""
    api(
        server,
        "PATCH",
        f"/api/deployments/{served.deployment_id}/monitoring",
        {"window": {"kind": "rows", "size": 500}, "minRows": 100},
    )
    token = deployment_token(server_pid(server), served.deployment_id)
    traffic = Traffic(seed=2)
    url = f"{server.url}/api/deployments/{served.deployment_id}/telemetry"
    for batch in range(25):
        frame = traffic.frame(2000)
        records = [record(served, frame.iloc[i : i + 100], f"calm-{batch}-{i}") for i in range(0, 2000, 100)]
        answer = requests.post(url, json=report(served, records), headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["acceptedPredictions"] == 20
    judged = wait_for_windows(server, served, 100)
    assert [w["status"] for w in judged] == ["judged"] * len(judged)
    flagged = [(w["index"], drifted_inputs(w), [p["name"] for p in w["predictions"] if p["drifted"]]) for w in judged]
    flagged = [f for f in flagged if f[1] or f[2]]
    assert sum(1 for w in judged if w["drifted"]) == 0, flagged
    time.sleep(1)  # a few alert evaluations
    alerts = api(server, "GET", f"/api/alerts?deploymentId={served.deployment_id}")["alerts"]
    assert alerts == [], f"false alarms: {alerts}; windows with a drifted feature: {flagged}"


def test_drift_injected_into_live_traffic_is_found_within_one_window(
    server: RunningServer, served: Served, closed_port_url: str
):
    webhook = api(
        server, "POST", "/api/webhooks", {"url": f"{closed_port_url}/hook", "deploymentId": served.deployment_id}
    )
    assert webhook["secret"]
    api(
        server,
        "PATCH",
        f"/api/deployments/{served.deployment_id}/monitoring",
        {"window": {"kind": "rows", "size": WINDOW_ROWS}, "minRows": 100},
    )
    traffic = Traffic(seed=3)
    before = len(windows(server, served))

    def one_window(frame, tag: str) -> dict[str, Any]:
        nonlocal before
        send(served, frame, tag)
        listed = wait_for_windows(server, served, before + 1)
        before = len(listed)
        window = listed[-1]
        assert window["status"] == "judged", window
        assert window["rows"] == WINDOW_ROWS
        return window

    normal = one_window(traffic.frame(WINDOW_ROWS), "normal")
    assert drifted_inputs(normal) == [] and not normal["drifted"], normal

    shifted = one_window(traffic.frame(WINDOW_ROWS, mean_shift=1.5), "mean-shift")
    assert "x1" in drifted_inputs(shifted), shifted
    assert not {"x2", "x3", "plan"} & set(drifted_inputs(shifted)), shifted
    x1 = next(f for f in shifted["features"] if f["name"] == "x1")
    assert x1["effectSize"] > x1["effectThreshold"] and x1["adjustedPValue"] < 0.05

    # The default rule ("some feature drifted") fires on it; the webhook is down.
    alert = wait_until(
        lambda: next(
            (
                a
                for a in api(server, "GET", f"/api/alerts?deploymentId={served.deployment_id}")["alerts"]
                if a["windowId"] == shifted["id"]
            ),
            None,
        ),
        15,
        "an alert for the mean shift's window",
    )
    assert alert["state"] == "firing" and "x1" in alert["driftedFeatures"], alert
    assert alert["windowId"] == shifted["id"]

    wider = one_window(traffic.frame(WINDOW_ROWS, x2_scale=2.5), "variance")
    assert drifted_inputs(wider) == ["x2"] or "x2" in drifted_inputs(wider), wider
    assert not {"x1", "x3", "plan"} & set(drifted_inputs(wider)), wider

    new_category = one_window(traffic.frame(WINDOW_ROWS, new_plan="enterprise"), "new-category")
    assert "plan" in drifted_inputs(new_category), new_category
    plan = next(f for f in new_category["features"] if f["name"] == "plan")
    assert plan["kind"] == "categorical" and plan["test"] in ("chi_squared", "jensen_shannon")
    histogram = api(
        server,
        "GET",
        f"/api/deployments/{served.deployment_id}/drift/histogram?feature=plan&window={new_category['id']}",
    )
    assert "enterprise" in histogram["categories"], histogram
    share = histogram["current"][histogram["categories"].index("enterprise")]
    assert 0.3 < share < 0.5 and histogram["reference"][histogram["categories"].index("enterprise")] == 0

    # A prediction shift: the customers the model calls churners only (resampled from the
    # training distribution), so the prediction column moves the most.
    pool = traffic.frame(WINDOW_ROWS * 10)
    churners = pool[served.model.predict(pool) == 1].iloc[:WINDOW_ROWS]
    assert len(churners) == WINDOW_ROWS
    predicted = one_window(churners.reset_index(drop=True), "prediction-shift")
    prediction = next(p for p in predicted["predictions"] if p["name"] == served.output)
    assert prediction["drifted"], (json.dumps(prediction), drifted_inputs(predicted))

    alerts = api(server, "GET", f"/api/alerts?deploymentId={served.deployment_id}")["alerts"]
    assert alerts and all(a["kind"] == "drift_share" for a in alerts)
    overview = api(server, "GET", f"/api/deployments/{served.deployment_id}/monitoring")
    assert overview["latest"]["id"] == predicted["id"] and overview["firingAlerts"] >= 1


def test_a_webhook_that_is_down_is_retried_then_failed_without_blocking(server: RunningServer, served: Served):
    retries = len(WEBHOOK_RETRIES_MS.split(","))

    def failed_delivery() -> dict[str, Any] | None:
        began = time.monotonic()
        alerts = api(server, "GET", f"/api/alerts?deploymentId={served.deployment_id}")["alerts"]
        assert time.monotonic() - began < 2, "the API is slow while a webhook is down"
        deliveries = [d for a in alerts for d in a["deliveries"]]
        return next((d for d in deliveries if d["status"] == "failed"), None)

    delivery = wait_until(failed_delivery, 30, "a failed webhook delivery", interval=0.2)
    assert delivery["attempts"] == 1 + retries, delivery
    assert delivery["lastError"] and delivery["lastStatusCode"] is None, delivery
    assert delivery["deliveredAt"] is None and delivery["nextAttemptAt"] is None
    # Serving and the API went on meanwhile.
    assert infer(served, Traffic(seed=9).frame(3), "while-webhook-down").status_code == 200
    assert api(server, "GET", f"/api/deployments/{served.deployment_id}")["status"] == "ready"


def test_a_window_too_small_is_refused_with_its_reason(server: RunningServer, served: Served):
    api(
        server,
        "PATCH",
        f"/api/deployments/{served.deployment_id}/monitoring",
        {"window": {"kind": "seconds", "size": 10}, "minRows": 100},
    )
    before = len(windows(server, served))
    send(served, Traffic(seed=4).frame(ROWS_PER_REQUEST), "tiny")
    listed = wait_for_windows(server, served, before + 1, seconds=40)
    refused = listed[-1]
    assert refused["status"] == "too_small", refused
    assert 0 < refused["rows"] < 100 and not any(f["drifted"] for f in refused["features"]), refused
    assert "100" in (refused["reason"] or ""), refused
    assert not refused["drifted"]
    api(
        server,
        "PATCH",
        f"/api/deployments/{served.deployment_id}/monitoring",
        {"window": {"kind": "rows", "size": WINDOW_ROWS}},
    )


# -- the prediction log ---------------------------------------------------------------------------


def test_a_malformed_record_costs_only_itself_and_an_oversized_report_is_413(server: RunningServer, served: Served):
    token = deployment_token(server_pid(server), served.deployment_id)
    url = f"{server.url}/api/deployments/{served.deployment_id}/telemetry"
    headers = {"Authorization": f"Bearer {token}"}
    frame = Traffic(seed=5).frame(30)
    good = [record(served, frame.iloc[i : i + 10], f"batch-good-{i}") for i in (0, 10, 20)]
    bad = record(served, frame.iloc[:10], "batch-bad")
    bad["inputs"]["x1"] = bad["inputs"]["x1"][:3]  # a column shorter than the others
    answer = requests.post(url, json=report(served, [good[0], bad, good[1], good[2]]), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["acceptedPredictions"] == 3
    logged = api(server, "GET", f"/api/deployments/{served.deployment_id}/predictions?limit=10000")["predictions"]
    ids = {p["requestId"] for p in logged}
    assert {"batch-good-0", "batch-good-10", "batch-good-20"} <= ids and "batch-bad" not in ids
    kept = next(p for p in logged if p["requestId"] == "batch-good-10")
    assert kept["inputs"]["x1"] == pytest.approx(frame["x1"].iloc[10:20].tolist())
    assert kept["inputs"]["plan"] == frame["plan"].iloc[10:20].tolist()

    # Not a record at all (a status that is no HTTP status): the report is refused, and says where.
    broken = record(served, frame.iloc[:10], "batch-broken")
    broken["status"] = 9999
    answer = requests.post(url, json=report(served, [broken]), headers=headers)
    assert answer.status_code == 400, answer.text
    assert "predictions" in answer.text and "status" in answer.text, answer.text

    # Past RUNLAB_MAX_LARGE_BODY_BYTES: 413, with the limit and the setting in the message.
    big = Traffic(seed=6).frame(1000)
    records = [record(served, big, f"big-{i}") for i in range(60)]
    body = json.dumps(report(served, records)).encode()
    assert len(body) > MAX_LARGE_BODY_BYTES
    answer = requests.post(url, data=body, headers={**headers, "Content-Type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert "RUNLAB_MAX_LARGE_BODY_BYTES" in answer.text or str(MAX_LARGE_BODY_BYTES) in answer.text, answer.text
    # Nothing of it was stored, and the runtime's own reports still arrive.
    assert "big-0" not in {
        p["requestId"]
        for p in api(server, "GET", f"/api/deployments/{served.deployment_id}/predictions?limit=10000")["predictions"]
    }


def test_feedback_reports_unknown_request_ids_and_accuracy_shows(server: RunningServer, served: Served):
    frame = Traffic(seed=7).frame(ROWS_PER_REQUEST * 3)
    ids = send(served, frame, f"labelled-{uuid.uuid4().hex[:4]}")
    wait_until(
        lambda: (
            set(ids)
            <= {
                p["requestId"]
                for p in api(server, "GET", f"/api/deployments/{served.deployment_id}/predictions?limit=1000")[
                    "predictions"
                ]
            }
        ),
        20,
        "the labelled requests logged",
    )
    truth = label_of(frame)
    labels = [
        {"requestId": request_id, "label": truth[i * ROWS_PER_REQUEST : (i + 1) * ROWS_PER_REQUEST].tolist()}
        for i, request_id in enumerate(ids)
    ]
    labels.append({"requestId": "never-sent", "label": [1]})
    labels.append({"requestId": ids[0], "label": [1, 0]})  # two labels for a 40-row request
    answer = api(server, "POST", f"/api/deployments/{served.deployment_id}/feedback", {"labels": labels})
    assert answer["unknownRequestIds"] == ["never-sent"], answer
    assert answer["mismatchedRequestIds"] == [ids[0]], answer
    assert answer["accepted"] == len(ids), answer
    overview = api(server, "GET", f"/api/deployments/{served.deployment_id}/monitoring")
    assert overview["labelledRows"] >= len(frame), overview["labelledRows"]
    assert overview["accuracy"], overview["accuracy"]
    point = overview["accuracy"][-1]
    expected = float((served.model.predict(frame) == truth).mean())
    assert point["metric"] == "accuracy" and point["value"] == pytest.approx(expected, abs=0.05), point


# -- retrain on a real runner ---------------------------------------------------------------------

TRAIN_NOTEBOOK = """
import pandas as pd
from sklearn.linear_model import LogisticRegression
import runlab

with runlab.start(name="train retrainable") as run:
    frame = pd.read_csv(runlab.dataset(DATASET).path(progress=False) / "train.csv")
    model = LogisticRegression().fit(frame[["x1", "x2"]], frame["y"])
    runlab.model(model, name=MODEL, input_example=frame[["x1", "x2"]][:5], profile_data=frame[["x1", "x2"]])
    print("RUN", run.id, "ROWS", len(frame))
runlab.flush()
"""


def write_training_data(folder: Path, rows: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    x1, x2 = rng.normal(0, 1, rows), rng.normal(0, 1, rows)
    lines = ["x1,x2,y", *(f"{a:.6f},{b:.6f},{int(a + b > 0)}" for a, b in zip(x1, x2, strict=True))]
    (folder / "train.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_retrain_on_a_runner_proposes_the_new_version_as_a_canary(server: RunningServer, tmp_path: Path):
    from runlab.runners.execute import execute_notebook

    project = f"retrain-{uuid.uuid4().hex[:6]}"
    dataset, model_name = f"churn-data-{uuid.uuid4().hex[:4]}", f"retrainable-{uuid.uuid4().hex[:4]}"
    runlab.configure(url=server.url, token=server.token, project=project)
    assert runlab.dataset(dataset).commit(write_training_data(tmp_path / "v1", 300, 1), progress=False).number == 1

    nb = new_notebook(
        cells=[
            new_code_cell(f"DATASET = {dataset!r}\nMODEL = {model_name!r}", metadata={"tags": ["parameters"]}),
            new_code_cell(TRAIN_NOTEBOOK),
        ]
    )
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")])),
        "RUNLAB_URL": server.url,
        "RUNLAB_TOKEN": server.token,
        "RUNLAB_PROJECT": project,
        "RUNLAB_NOTEBOOK": "train.ipynb",
        "RUNLAB_DATA_DIR": str(tmp_path / "kernel-data"),
    }
    (tmp_path / "local").mkdir()
    local = execute_notebook(nb, work_dir=tmp_path / "local", env=env)
    assert local.status == "finished", local.error
    output = "".join(o.get("text", "") for o in local.notebook.cells[1].outputs)
    run_id = output.split("RUN", 1)[1].split()[0]
    assert "ROWS 300" in output
    with runlab.Client(server.url, server.token) as client:
        # What JupyterLab sends when a run starts: the notebook's snapshot (what Retrain re-runs).
        client.create_snapshot(run_id, {"notebookPath": "train.ipynb", "notebook": json.loads(json.dumps(nb))})

    created = api(server, "POST", "/api/deployments", {"model": model_name, "version": "1"})
    deployment_id = created["id"]
    try:
        wait_until(
            lambda: api(server, "GET", f"/api/deployments/{deployment_id}")["status"] == "ready", 120, "ready", 0.2
        )
        assert runlab.dataset(dataset).commit(write_training_data(tmp_path / "v2", 500, 2), progress=False).number == 2

        runners = Runners(server, tmp_path)
        try:
            runners.start(f"retrain-{uuid.uuid4().hex[:6]}")
            retrain = api(
                server, "POST", f"/api/deployments/{deployment_id}/retrain", {"canaryPercent": 20}, expect=201
            )
            assert retrain["sourceRunId"] == run_id and retrain["status"] in ("queued", "running")
            assert retrain["datasets"] == {dataset: f"{dataset}@v2"} or list(retrain["datasets"].values()) in (
                ["v2"],
                [f"{dataset}@v2"],
            ), retrain

            def proposed() -> dict[str, Any] | None:
                latest = api(server, "GET", f"/api/deployments/{deployment_id}/retrains")["retrains"][0]
                assert latest["status"] not in ("failed", "cancelled"), latest
                return latest if latest["status"] == "proposed" else None

            done = wait_until(proposed, 300, "the retrain proposed as a canary", interval=0.5)
            with runlab.Client(server.url, server.token) as client:
                # Proposed once its run logged the version; the job ends a moment later.
                job = wait_until(
                    lambda: (lambda j: j if j["status"] not in ("queued", "running") else None)(
                        client.get_job(done["jobId"])
                    ),
                    60,
                    "the retrain's job ended",
                    interval=0.3,
                )
        finally:
            runners.stop_all()
        assert done["newVersion"] == 2 and done["newModelVersionId"], done
        assert job["status"] == "finished" and job["datasets"].get(dataset) in ("v2", f"{dataset}@v2"), job
        again = api(server, "GET", f"/api/runs/{done['runId']}")
        assert again["id"] != run_id

        deployment = api(server, "GET", f"/api/deployments/{deployment_id}")
        slots = {slot["role"]: slot for slot in deployment["slots"]}
        assert slots["stable"]["version"] == 1, deployment["slots"]
        assert slots["canary"]["version"] == 2 and slots["canary"]["percent"] == 20, deployment["slots"]

        graph = api(server, "GET", f"/api/provenance?node=deployment:{deployment_id}&direction=both")
        refs = {node["ref"] for node in graph["nodes"]}
        edges = {(edge["from"], edge["to"]) for edge in graph["edges"]}
        # deployment → retrain run → new model version → deployment (the canary it serves)
        assert f"run:{done['runId']}" in refs and f"model_version:{done['newModelVersionId']}" in refs, graph
        assert (f"run:{done['runId']}", f"model_version:{done['newModelVersionId']}") in edges, graph["edges"]
        assert (f"model_version:{done['newModelVersionId']}", f"deployment:{deployment_id}") in edges, graph["edges"]
    finally:
        with contextlib.suppress(AssertionError, requests.RequestException):
            api(server, "DELETE", f"/api/deployments/{deployment_id}")
