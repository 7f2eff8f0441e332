"""The tracking API in this process against a real server: what lands, how runs end, retries,
and that logging never blocks user code."""

from __future__ import annotations

import hashlib
import http.server
import importlib
import json
import subprocess
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import RunningServer, script_env

import runlab
from runlab import runs
from runlab.runs import batcher as batcher_module


def server_client(server: RunningServer) -> runlab.Client:
    return runlab.Client(server.url, server.token)


def history(server: RunningServer, run_id: str, key: str) -> list[dict[str, Any]]:
    with server_client(server) as client:
        answer = client.metric_history(run_id, key, max_points=100_000)
    assert not answer["downsampled"]
    return list(answer["points"])


def test_params_metrics_tags_io_and_artifacts_land_on_the_server(
    runlab_server: RunningServer, project: str, tmp_path: Path
) -> None:
    data = tmp_path / "train.csv"
    data.write_text("x,y\n1,2\n")
    model = tmp_path / "model.bin"
    model.write_bytes(b"\x00weights\x01" * 100)

    run = runlab.start(name="baseline", params={"lr": 0.1, "layers": 3}, tags={"team": "vision"})
    assert run.id is not None and run.name == "baseline"
    assert runlab.active_run() is run
    runlab.param("optimizer", "adam")
    runlab.params({"batch": 32, "shuffle": True})
    runlab.tag("stage", "tuning")
    for step in range(5):
        runlab.metric("loss", 1.0 / (step + 1), step=step)
    runlab.log({"acc": 0.9, "f1": 0.8}, step=4)
    runlab.input(data)
    runlab.input("iris@v3")
    runlab.output(tmp_path / "predictions.csv")
    runlab.artifact(model)
    runlab.end()
    runlab.flush()  # end() queues the end behind the values and returns
    assert runlab.active_run() is None and run.ended

    with server_client(runlab_server) as client:
        stored = client.get_run(run.id)
    assert stored["status"] == "finished" and stored["endedAt"]
    assert stored["projectName"] == project
    assert stored["params"] == {"lr": "0.1", "layers": "3", "optimizer": "adam", "batch": "32", "shuffle": "True"}
    assert stored["tags"]["team"] == "vision" and stored["tags"]["stage"] == "tuning"
    assert stored["metrics"]["loss"]["latest"] == pytest.approx(0.2)
    assert stored["metrics"]["loss"]["count"] == 5
    assert stored["metrics"]["acc"]["latest"] == 0.9 and stored["metrics"]["acc"]["step"] == 4
    assert [(p["step"], p["value"]) for p in history(runlab_server, run.id, "loss")] == [
        (step, pytest.approx(1.0 / (step + 1))) for step in range(5)
    ]
    inputs = {(entry["kind"], entry["name"]): entry["digest"] for entry in stored["inputs"]}
    assert inputs[("dataset", "iris@v3")] is None
    data_entry = [entry for entry in stored["inputs"] if entry["kind"] == "path"]
    assert data_entry[0]["name"].endswith("train.csv")
    assert data_entry[0]["digest"] == hashlib.sha256(data.read_bytes()).hexdigest()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert {"kind": "artifact", "name": "model.bin", "digest": digest} in stored["outputs"]
    assert any(entry["name"].endswith("predictions.csv") for entry in stored["outputs"])
    assert [(a["path"], a["size"], a["digest"]) for a in stored["artifacts"]] == [
        ("model.bin", model.stat().st_size, digest)
    ]
    assert stored["source"]["kind"] == "api"
    environment = stored["environment"]
    assert environment["python"] == sys.version.split()[0]
    assert environment["packages"]["requests"] == requests.__version__


def test_a_context_manager_run_finishes_or_fails_with_its_traceback(runlab_server: RunningServer, project: str) -> None:
    with runlab.start(name="ok") as run:
        run.log({"loss": 0.5}, step=0)
        run.param("seed", 7)
    with pytest.raises(ZeroDivisionError), runlab.start(name="broken") as broken:
        broken.metric("loss", 1.0)
        1 / 0  # noqa: B018
    runlab.flush()  # leaving the block ends the run without waiting for delivery

    with server_client(runlab_server) as client:
        finished = client.get_run(str(run.id))
        failed = client.get_run(str(broken.id))
    assert (finished["status"], finished["params"], finished["error"]) == ("finished", {"seed": "7"}, None)
    assert failed["status"] == "failed"
    assert failed["error"]["message"] == "ZeroDivisionError: division by zero"
    assert "1 / 0" in failed["error"]["traceback"]
    assert failed["metrics"]["loss"]["count"] == 1


def test_params_are_write_once_and_a_conflict_warns_instead_of_raising(
    runlab_server: RunningServer, project: str
) -> None:
    run = runlab.start(params={"lr": 0.1})
    with pytest.warns(runlab.RunlabWarning, match="param 'lr' is already '0.1'"):
        run.param("lr", 0.2)
    run.param("lr", 0.1)  # the same value again is fine
    run.end()
    runlab.flush()  # end() queues the end behind the values and returns
    with server_client(runlab_server) as client:
        assert client.get_run(str(run.id))["params"] == {"lr": "0.1"}


def test_non_increasing_steps_are_stored_as_given(runlab_server: RunningServer, project: str) -> None:
    run = runlab.start()
    steps = [0, 1, 2, 2, 1, 5, 3]
    for index, step in enumerate(steps):
        run.metric("loss", float(index), step=step)
    run.metric("auto", 1.0)
    run.metric("auto", 2.0)
    run.end()
    runlab.flush()  # end() queues the end behind the values and returns
    points = history(runlab_server, str(run.id), "loss")
    assert sorted((p["step"], p["value"]) for p in points) == sorted(
        (step, float(index)) for index, step in enumerate(steps)
    )
    assert [p["step"] for p in history(runlab_server, str(run.id), "auto")] == [0, 1]


def test_a_retried_batch_is_stored_once(runlab_server: RunningServer, project: str) -> None:
    """The same encoded batch sent twice (a retry): acknowledged as a duplicate, stored once."""
    run = runlab.start()
    sender = batcher_module.batcher()
    records = [(run._handle, "x", float(step), step, time.time_ns()) for step in range(100)]
    [batch] = sender._encode(records)
    body = batch.encode()  # what every attempt sends: one idempotency key
    with server_client(runlab_server) as client:
        first = client.post_log_batch(str(run.id), body)
        again = client.post_log_batch(str(run.id), body)
    assert first == {"stored": 100, "duplicate": False}
    assert again == {"stored": 0, "duplicate": True}
    run.end()
    runlab.flush()  # end() queues the end behind the values and returns
    assert len(history(runlab_server, str(run.id), "x")) == 100


class _ResponseDroppingProxy(http.server.ThreadingHTTPServer):
    """Forwards requests to the server, but for the first ``drops`` log batches throws the
    server's answer away and cuts the connection: the server has committed, the client never
    hears so, and retries."""

    def __init__(self, target: str, drops: int) -> None:
        self.target = target
        self.drops = drops
        self.dropped = 0
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: _ResponseDroppingProxy

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = requests.request(self.command, self.server.target + self.path, data=body, headers=headers, timeout=30)
        if self.path.split("?")[0].endswith("/log") and self.server.dropped < self.server.drops:
            self.server.dropped += 1
            self.close_connection = True
            return  # no status line at all: the client sees the connection drop
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PATCH = do_PUT = _forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_batch_whose_answer_was_lost_is_retried_with_its_key_and_not_duplicated(
    runlab_server: RunningServer, project: str
) -> None:
    proxy = _ResponseDroppingProxy(runlab_server.url, drops=2)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        runlab.configure(url=proxy.url)
        run = runlab.start(name="lossy")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in range(1000):
                run.metric("x", float(step), step=step)
            run.end()
            runlab.flush()  # end() queues the end behind the values and returns
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert proxy.dropped == 2
    messages = [str(w.message) for w in caught if issubclass(w.category, runlab.RunlabWarning)]
    assert len(messages) <= 1, messages  # at most one warning for the outage
    points = history(runlab_server, str(run.id), "x")
    assert [(p["step"], p["value"]) for p in points] == [(step, float(step)) for step in range(1000)]


def test_an_unreachable_server_never_blocks_and_warns_once(closed_port_url: str) -> None:
    runlab.configure(url=closed_port_url, token="rl_u_whatever", project="offline")
    sender = batcher_module.batcher()
    before = sender.pending()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        started = time.monotonic()
        run = runlab.start(name="offline")
        costs = []
        for step in range(20_000):
            tick = time.perf_counter_ns()
            runlab.metric("loss", 1.0 / (step + 1), step=step)
            costs.append(time.perf_counter_ns() - tick)
        elapsed = time.monotonic() - started
        time.sleep(1.0)  # the sender has tried, and failed, by now
        run.end(wait=True, timeout=0.5)
    assert run.id is None  # created once the server answers
    assert elapsed < 3  # start waited for one refused connection, metric() never waited
    costs.sort()
    assert costs[len(costs) // 2] < 50_000  # p50 well under 50 µs even on a loaded CI machine
    warned = [str(w.message) for w in caught if issubclass(w.category, runlab.RunlabWarning)]
    outage = [m for m in warned if "Cannot connect" in m or "cannot deliver" in m]
    assert len(outage) == 1, warned
    assert "Your code keeps running" in outage[0]
    assert any("still waiting for the server" in m for m in warned)
    assert sender.pending() >= before + 20_000
    run.abandon()  # it would otherwise be retried against the closed port, holding up other runs
    deadline = time.monotonic() + 5
    while sender.pending() > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sender.pending() == 0


def test_end_queues_the_end_and_returns_and_flush_waits(closed_port_url: str) -> None:
    """end() does not wait for delivery (the next run starts at once); flush() is the wait."""
    runlab.configure(url=closed_port_url, token="rl_u_whatever", project="offline")
    sender = batcher_module.batcher()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        run = runlab.start(name="queued-end")
        for step in range(100):
            run.metric("loss", 1.0, step=step)
        started = time.monotonic()
        run.end()
        assert time.monotonic() - started < 0.5
        assert run.ended and runlab.active_run() is None
        started = time.monotonic()
        assert runlab.flush(0.3) is False  # the server is unreachable: the wait times out
        assert time.monotonic() - started >= 0.3
        run.abandon()
        deadline = time.monotonic() + 5
        while sender.pending() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sender.pending() == 0


def test_module_functions_start_a_run_implicitly(runlab_server: RunningServer, project: str) -> None:
    assert runlab.active_run() is None
    runlab.metric("loss", 0.5)
    run = runlab.active_run()
    assert run is not None and run.id is not None
    second = runlab.start(name="second")  # starting again ends the first as finished
    assert run.ended and runlab.active_run() is second
    second.end("killed")
    runlab.flush()  # end() queues the end behind the values and returns
    with server_client(runlab_server) as client:
        assert client.get_run(str(run.id))["status"] == "finished"
        assert client.get_run(str(second.id))["status"] == "killed"


def test_autolog_records_a_scikit_learn_fit(runlab_server: RunningServer, project: str) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(features, labels, random_state=0)
    runlab.autolog(eval_data=(x_test, y_test))
    try:
        model = LogisticRegression(C=0.5, max_iter=200).fit(x_train, y_train)  # no run: a run of its own
        own = runs.active_run()
        assert own is None
        with runlab.start(name="pipeline") as run:
            pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=2.0, max_iter=300))
            pipeline.fit(x_train, y_train)
            accuracy = pipeline.score(x_test, y_test)
    finally:
        runlab.autolog(disable=True)
    runlab.flush()

    with server_client(runlab_server) as client:
        listing = client.list_runs(project=project, sort="startedAt:asc")
        by_name = {r["name"]: r for r in listing["runs"]}
        single = client.get_run(by_name["LogisticRegression"]["id"])
        piped = client.get_run(str(run.id))
    assert single["status"] == "finished"
    assert single["tags"]["estimator_name"] == "LogisticRegression"
    assert single["tags"]["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert single["params"]["C"] == "0.5" and single["params"]["max_iter"] == "200"
    assert single["metrics"]["fit_time_s"]["latest"] > 0
    assert single["metrics"]["score"]["latest"] == pytest.approx(model.score(x_test, y_test))

    # Only the outermost fit is recorded: the pipeline, not its steps.
    assert piped["tags"]["estimator_name"] == "Pipeline"
    assert piped["params"]["logisticregression__C"] == "2.0"
    assert piped["params"]["steps"] == "standardscaler=StandardScaler, logisticregression=LogisticRegression"
    assert piped["metrics"]["fit_time_s"]["count"] == 1
    # eval_data's score, then the user's own score() call.
    assert [p["value"] for p in history(runlab_server, str(run.id), "score")] == [
        pytest.approx(accuracy),
        pytest.approx(accuracy),
    ]


def test_local_module_files_lists_the_projects_own_imported_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "features"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "scaling.py").write_text("FACTOR = 2\n")
    (tmp_path / "helpers.py").write_text("def helper():\n    return 'é'\n")
    (tmp_path / "big.py").write_text("X = 1\n" + "#" * 1_100_000)
    checkpoints = tmp_path / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "stale.py").write_text("")
    venv = tmp_path / "env"
    (venv / "lib").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib" / "installed.py").write_text("")
    (tmp_path / "not_imported.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(checkpoints))
    monkeypatch.syspath_prepend(str(venv / "lib"))
    monkeypatch.chdir(tmp_path)
    imported = ("features.scaling", "helpers", "big", "stale", "installed")
    try:
        for name in imported:
            importlib.import_module(name)
        files = runlab._local_module_files()
        by_root = runlab._local_module_files(root=str(package))
    finally:
        for name in (*imported, "features"):
            sys.modules.pop(name, None)

    # Imported, under the root, not installed, not a checkpoint, not over 1 MB; relative POSIX paths.
    assert json.loads(json.dumps(files)) == [
        {"path": "features/__init__.py", "content": ""},
        {"path": "features/scaling.py", "content": "FACTOR = 2\n"},
        {"path": "helpers.py", "content": "def helper():\n    return 'é'\n"},
    ]
    assert by_root == [
        {"path": "__init__.py", "content": ""},
        {"path": "scaling.py", "content": "FACTOR = 2\n"},
    ]


def test_a_script_run_is_snapshotted_with_its_local_modules(runlab_server: RunningServer, tmp_path: Path) -> None:
    (tmp_path / "model_utils.py").write_text("def double(x):\n    return 2 * x\n")
    script = tmp_path / "train.py"
    script.write_text(
        "import runlab\n"
        "from model_utils import double\n"
        "with runlab.start(name='script-run') as run:\n"
        "    runlab.metric('y', double(21))\n"
        "print(run.id)\n"
    )
    env = script_env(runlab_server, tmp_path, f"script-{uuid.uuid4().hex[:6]}")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    run_id = done.stdout.strip()
    with server_client(runlab_server) as client:
        run = client.get_run(run_id)
    assert run["status"] == "finished"
    assert run["source"]["kind"] == "script"
    assert run["notebookPath"] == "train.py"
    assert run["metrics"]["y"]["latest"] == 42
    assert run["snapshot"] is not None
    assert set(run["snapshot"]["files"]) >= {"train.py", "model_utils.py"}


def test_a_failing_script_ends_its_run_failed(runlab_server: RunningServer, tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(
        "import runlab\n"
        "run = runlab.start(name='crash')\n"
        "print(run.id, flush=True)\n"
        "raise RuntimeError('out of memory')\n"
    )
    env = script_env(runlab_server, tmp_path, "scripts")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "RuntimeError: out of memory" in done.stderr
    with server_client(runlab_server) as client:
        run = client.get_run(done.stdout.strip())
    assert run["status"] == "failed"
    assert run["error"]["message"] == "RuntimeError: out of memory"
    assert "raise RuntimeError('out of memory')" in run["error"]["traceback"]


def test_a_create_retried_after_a_lost_answer_starts_one_run(runlab_server: RunningServer) -> None:
    """The create request carries an idempotency key; sending the same body again (as the
    background sender does when an answer was lost) returns the same run."""
    import requests as http

    captured: list[dict] = []
    original = runlab.client.Client.create_run

    def spy(self, body, **kwargs):  # type: ignore[no-untyped-def]
        captured.append(dict(body))
        return original(self, body, **kwargs)

    runlab.client.Client.create_run = spy  # type: ignore[method-assign]
    try:
        runlab.configure(url=runlab_server.url, token=runlab_server.token, project="create-retry-py")
        run = runlab.start(name="retried")
        run.end(wait=True)
    finally:
        runlab.client.Client.create_run = original  # type: ignore[method-assign]
    assert len(captured) == 1 and len(captured[0]["idempotencyKey"]) >= 8
    headers = {"Authorization": f"Bearer {runlab_server.token}"}
    replay = http.post(f"{runlab_server.url}/api/runs", json=captured[0], headers=headers, timeout=10)
    assert replay.status_code == 201 and replay.json()["id"] == run.id
    listed = http.get(
        f"{runlab_server.url}/api/runs", params={"project": "create-retry-py"}, headers=headers, timeout=10
    )
    assert listed.json()["total"] == 1
