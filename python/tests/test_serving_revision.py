"""`runlab serve-model --deployment ID` pinned to one revision (RUNLAB_DEPLOYMENT_REVISION or
--revision), as a Kubernetes pod runs it: it fetches `spec?revision=N`, serves that revision for
its whole life while the deployment moves on, and reports telemetry the server accepts.

The first test uses a small stand-in for the server's deployment routes that honours ?revision=
(and records every spec query and telemetry report); the others use the real companion server,
which runs a local deployment (its own runtime follows the revisions); a
wrapper around Python records the deployment token the server hands that runtime, so this test can
start a second, pinned runtime with the same token, as a pod would get it from its Secret.
"""

from __future__ import annotations

import json
import stat
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from conftest import RunningServer, start_server, stop_server
from test_serving_companion import api, wait_for_deployment
from test_serving_deployment import TOKEN, StandIn
from test_serving_http import SETOSA, constant_model_dir, free_port, iris_frame, rows_request, serve

import runlab


class RevisionStandIn(StandIn):
    """The deployment routes of `d1`, with every revision's spec kept: `spec?revision=N` answers N's
    (404 for one that does not exist), and the telemetry answer names the newest."""

    def __init__(self, port: int, versions: dict[str, Path]) -> None:
        super().__init__(port, versions)
        self.revisions: dict[int, dict] = {}
        self.spec_queries: list[dict] = []

    def set_spec(self, revision: int, slots: list[dict], poll: float = 0.3) -> None:
        super().set_spec(revision, slots, poll)
        with self.lock:
            self.revisions[revision] = self.spec

    def start(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                assert self.headers.get("Authorization") == f"Bearer {TOKEN}"
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path == "/api/deployments/d1/spec":
                    with stand_in.lock:
                        stand_in.spec_queries.append(query)
                        wanted = int(query["revision"][0]) if "revision" in query else stand_in.spec["revision"]
                        spec = stand_in.revisions.get(wanted)
                    if spec is None:
                        error = {"code": "not_found", "message": f"Deployment d1 has no revision {wanted}"}
                        self._answer(404, json.dumps({"error": error}).encode())
                    else:
                        self._answer(200, json.dumps(spec).encode())
                elif url.path == "/api/deployments/d1/files":
                    root = stand_in.versions[query["modelVersionId"][0]]
                    self._answer(200, (root / query["path"][0]).read_bytes(), "application/octet-stream")
                else:
                    self._answer(404, b"{}")

            def do_POST(self) -> None:
                report = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stand_in.lock:
                    stand_in.reports.append(report)
                    revision = stand_in.spec["revision"]
                body = {"revision": revision, "acceptedPredictions": len(report["predictions"])}
                self._answer(200, json.dumps(body).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def revision_stand_in(tmp_path: Path) -> Iterator[RevisionStandIn]:
    server = RevisionStandIn(
        free_port(),
        {"mv-1": constant_model_dir(tmp_path / "mv-1", 1), "mv-2": constant_model_dir(tmp_path / "mv-2", 2)},
    )
    server.set_spec(1, [server.slot("stable", "mv-1", 1, 100)])
    server.set_spec(2, [server.slot("stable", "mv-2", 2, 100)])  # the deployment is on revision 2
    server.start()
    yield server
    server.stop()


def test_a_pinned_runtime_asks_for_its_revision_and_never_swaps(revision_stand_in: RevisionStandIn, tmp_path: Path):
    stand_in = revision_stand_in
    args = ("--deployment", "d1", "--server", stand_in.url, "--cache-dir", str(tmp_path / "cache"))
    environment = {"RUNLAB_TOKEN": TOKEN, "RUNLAB_DEPLOYMENT_REVISION": "1"}
    with serve(tmp_path, *args, env=environment) as serving:
        assert serving.get("/v2/health/ready").headers["X-Runlab-Revision"] == "1"
        for i in range(5):
            answer = serving.post("/v2/models/iris/infer", rows_request([SETOSA], id=f"p-{i}"))
            assert answer.status_code == 200 and answer.json()["outputs"][0]["data"] == [1]
        # Telemetry answers say revision 2 and the spec is polled every 0.3 s: still revision 1.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(stand_in.reports) < 3:
            time.sleep(0.1)
        time.sleep(1.0)
        assert serving.get("/runlab/status").json()["revision"] == 1
        assert serving.post("/v2/models/iris/infer", rows_request([SETOSA])).json()["outputs"][0]["data"] == [1]
        with stand_in.lock:
            queries = list(stand_in.spec_queries)
            reports = list(stand_in.reports)
        assert len(queries) >= 3 and all(query == {"revision": ["1"]} for query in queries), queries
        assert len(reports) >= 3 and {report["revision"] for report in reports} == {1}
        assert "now serving revision" not in serving.log.read_text()

    # The same runtime without a pin follows the deployment: revision 2 at once.
    with serve(tmp_path, *args, env={"RUNLAB_TOKEN": TOKEN}) as serving:
        assert serving.get("/runlab/status").json()["revision"] == 2

    # A revision the deployment does not have: exit 1 with the server's words, no traceback.
    environment["RUNLAB_DEPLOYMENT_REVISION"] = "7"
    with serve(tmp_path, *args, env=environment, ready=False) as serving:
        assert serving.process.wait(timeout=60) == 1
    log = serving.log.read_text()
    assert "has no revision 7" in log and "Deployment d1 has no revision 7" in log and "Traceback" not in log


@pytest.fixture(scope="module")
def tokens_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deployment-tokens")


@pytest.fixture(scope="module")
def companion(tmp_path_factory: pytest.TempPathFactory, tokens_dir: Path) -> Iterator[RunningServer]:
    # The server starts `PYTHON -m runlab serve-model --deployment ID ...` with RUNLAB_TOKEN set:
    # the wrapper keeps the token in tokens_dir/ID, then runs the real Python.
    wrapper = tokens_dir / "python"
    wrapper.write_text(
        "#!/bin/sh\n"
        'previous=""\n'
        'for argument in "$@"; do\n'
        '  if [ "$previous" = "--deployment" ]; then printf "%s" "$RUNLAB_TOKEN" > "'
        + str(tokens_dir)
        + '/$argument"; fi\n'
        '  previous="$argument"\n'
        "done\n"
        f'exec "{sys.executable}" "$@"\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    python_dir = str(Path(__file__).resolve().parents[1])
    extra = {"RUNLAB_SERVING_PYTHON": str(wrapper), "RUNLAB_SERVING_POLL_SECONDS": "0.5", "PYTHONPATH": python_dir}
    process, server = start_server(tmp_path_factory.mktemp("companion"), extra_env=extra)
    try:
        yield server
    finally:
        stop_server(process)


def register_two_versions(server: RunningServer, name: str) -> None:
    from sklearn.ensemble import RandomForestClassifier

    runlab.configure(url=server.url, token=server.token, project="serving-revision")
    features, target = iris_frame()
    with runlab.start():
        for seed, trees in ((0, 10), (1, 3)):
            runlab.model(
                RandomForestClassifier(n_estimators=trees, random_state=seed).fit(features, target),
                name=name,
                input_example=features[:5],
            )


def deployment_token(tokens_dir: Path, deployment_id: str) -> str:
    path = tokens_dir / deployment_id
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.1)
    pytest.fail(f"the server started no runtime for deployment {deployment_id}")


@pytest.fixture(scope="module")
def deployment(companion: RunningServer, tokens_dir: Path) -> Iterator[dict]:
    """Deployment of `pinned` v1 (revision 1), then a 50 % canary of v2 (revision 2); its token."""
    register_two_versions(companion, "pinned")
    created = api(companion, "POST", "/api/deployments", {"model": "pinned", "version": "1", "port": free_port()})
    wait_for_deployment(companion, created["id"], 1)
    token = deployment_token(tokens_dir, created["id"])
    try:
        yield {"id": created["id"], "token": token}
    finally:
        api(companion, "DELETE", f"/api/deployments/{created['id']}")


def move_to_revision_2(companion: RunningServer, deployment: dict) -> None:
    """A 50 % canary of v2: revision 2 (once, whichever test comes first)."""
    if api(companion, "GET", f"/api/deployments/{deployment['id']}")["revision"] < 2:
        api(
            companion,
            "POST",
            f"/api/deployments/{deployment['id']}/traffic",
            {"second": {"mode": "canary", "version": "2", "percent": 50}},
        )
    wait_for_deployment(companion, deployment["id"], 2)


def pinned_args(companion: RunningServer, deployment: dict, tmp_path: Path) -> tuple[str, ...]:
    return ("--deployment", deployment["id"], "--server", companion.url, "--cache-dir", str(tmp_path / "cache"))


def test_a_pinned_runtime_keeps_serving_its_revision_while_the_deployment_moves_on(
    companion: RunningServer, deployment: dict, tmp_path: Path
):
    environment = {"RUNLAB_TOKEN": deployment["token"], "RUNLAB_DEPLOYMENT_REVISION": "1"}
    with serve(tmp_path, *pinned_args(companion, deployment, tmp_path), env=environment) as serving:
        assert serving.get("/v2/health/live").status_code == 200
        assert serving.get("/v2/health/ready").headers["X-Runlab-Revision"] == "1"

        # The local runtime (following the deployment) serves revision 2; the telemetry answers
        # and spec polls of the pinned one now name revision 2 as the deployment's.
        move_to_revision_2(companion, deployment)
        answers = set()
        deadline = time.monotonic() + 4  # 8 poll periods of 0.5 s
        index = 0
        while time.monotonic() < deadline:
            answer = serving.post("/v2/models/pinned/infer", rows_request([SETOSA], id=f"pinned-{index}"))
            assert answer.status_code == 200, answer.text
            answers.add((answer.headers["X-Runlab-Revision"], answer.json()["model_version"]))
            index += 1
            time.sleep(0.02)
        assert answers == {("1", "1")}
        status = serving.get("/runlab/status").json()
        assert status["revision"] == 1 and [slot["role"] for slot in status["slots"]] == ["stable"]
        assert serving.get("/v2/health/ready").status_code == 200
        assert "now serving revision" not in serving.log.read_text()

        # Its telemetry still reaches the server (the deployment's revision is 2, the report says 1).
        deadline = time.monotonic() + 20
        seen: set[str] = set()
        while time.monotonic() < deadline and "pinned-0" not in seen:
            predictions = api(companion, "GET", f"/api/deployments/{deployment['id']}/predictions?limit=500")
            seen = {p["requestId"] for p in predictions["predictions"]}
            time.sleep(0.3)
        assert "pinned-0" in seen, "the pinned runtime's predictions did not reach the server"


def test_the_revision_option_wins_over_the_environment(companion: RunningServer, deployment: dict, tmp_path: Path):
    move_to_revision_2(companion, deployment)
    environment = {"RUNLAB_TOKEN": deployment["token"], "RUNLAB_DEPLOYMENT_REVISION": "2"}
    args = (*pinned_args(companion, deployment, tmp_path), "--revision", "1")
    with serve(tmp_path, *args, env=environment) as serving:
        status = serving.get("/runlab/status").json()
        assert status["revision"] == 1 and [slot["version"] for slot in status["slots"]] == [1]
        assert serving.post("/v2/models/pinned/infer", rows_request([SETOSA])).json()["model_version"] == "1"


def test_a_pin_to_a_revision_that_does_not_exist_is_a_clear_start_error(
    companion: RunningServer, deployment: dict, tmp_path: Path
):
    environment = {"RUNLAB_TOKEN": deployment["token"], "RUNLAB_DEPLOYMENT_REVISION": "99"}
    with serve(tmp_path, *pinned_args(companion, deployment, tmp_path), env=environment, ready=False) as serving:
        assert serving.process.wait(timeout=60) == 1
    log = serving.log.read_text()
    assert "has no revision 99" in log and "Traceback" not in log


def test_a_revision_that_is_not_a_number_is_a_usage_error(companion: RunningServer, deployment: dict, tmp_path: Path):
    environment = {"RUNLAB_TOKEN": deployment["token"], "RUNLAB_DEPLOYMENT_REVISION": "latest"}
    with serve(tmp_path, *pinned_args(companion, deployment, tmp_path), env=environment, ready=False) as serving:
        assert serving.process.wait(timeout=30) == 2
    assert "RUNLAB_DEPLOYMENT_REVISION='latest'" in serving.log.read_text()


def test_without_a_pin_the_runtime_follows_the_deployment(companion: RunningServer, deployment: dict, tmp_path: Path):
    move_to_revision_2(companion, deployment)
    environment = {"RUNLAB_TOKEN": deployment["token"]}
    with serve(tmp_path, *pinned_args(companion, deployment, tmp_path), env=environment) as serving:
        assert serving.get("/runlab/status").json()["revision"] == 2
        requests.get(serving.url + "/v2/health/ready", timeout=10).raise_for_status()
