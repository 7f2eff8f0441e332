"""`runlab serve-model --deployment ID --server URL`: the spec, the files, the telemetry and hot swaps.

The companion server here is a small local stand-in for its three deployment-scope routes
(spec, files, telemetry), because these tests take the server away and bring it back on the same
port mid-test ("the companion server is down, the logs are delivered later") and change the
spec's revision at will; the real server's deployments (which start this runtime themselves) are
tested by the server's own deployment tests.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from test_serving_http import SETOSA, constant_model_dir, free_port, rows_request, serve

TOKEN = "deployment-token-1"


class StandIn:
    """The companion server's deployment routes for deployment ``d1``."""

    def __init__(self, port: int, versions: dict[str, Path]) -> None:
        self.port = port
        self.versions = versions
        self.spec: dict = {}
        self.reports: list[dict] = []
        self.lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def files(self, version_id: str) -> list[dict]:
        root = self.versions[version_id]
        return [
            {
                "path": str(p.relative_to(root)),
                "size": p.stat().st_size,
                "digest": hashlib.sha256(p.read_bytes()).hexdigest(),
            }
            for p in sorted(root.rglob("*"))
            if p.is_file()
        ]

    def slot(self, role: str, version_id: str, version: int, percent: float) -> dict:
        return {
            "role": role,
            "modelVersionId": version_id,
            "modelName": "iris",
            "version": version,
            "percent": percent,
            "flavor": "sklearn",
            "signature": None,
            "files": self.files(version_id),
        }

    def set_spec(self, revision: int, slots: list[dict], poll: float = 0.5) -> None:
        with self.lock:
            self.spec = {
                "deploymentId": "d1",
                "name": "iris-prod",
                "revision": revision,
                "slots": slots,
                "predictionSampleRate": 1.0,
                "pollSeconds": poll,
            }

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

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._answer(401, b'{"error":{"code":"unauthorized","message":"bad token"}}')
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorized():
                    return
                url = urlparse(self.path)
                if url.path == "/api/deployments/d1/spec":
                    with stand_in.lock:
                        self._answer(200, json.dumps(stand_in.spec).encode())
                elif url.path == "/api/deployments/d1/files":
                    query = parse_qs(url.query)
                    root = stand_in.versions[query["modelVersionId"][0]]
                    self._answer(200, (root / query["path"][0]).read_bytes(), "application/octet-stream")
                else:
                    self._answer(404, b"{}")

            def do_POST(self) -> None:
                if not self._authorized():
                    return
                report = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stand_in.lock:
                    stand_in.reports.append(report)
                    revision = stand_in.spec["revision"]
                body = {"revision": revision, "acceptedPredictions": len(report["predictions"])}
                self._answer(200, json.dumps(body).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.httpd is not None
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd = None

    def delivered(self) -> tuple[int, list[dict]]:
        with self.lock:
            count = sum(c["count"] for r in self.reports for c in r["counts"])
            return count, [p for r in self.reports for p in r["predictions"]]


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[StandIn]:
    from sklearn.ensemble import RandomForestClassifier
    from test_serving_http import iris_frame

    from runlab.models.flavors import save_model

    features, target = iris_frame()
    iris = tmp_path / "versions" / "mv-1"
    save_model(
        RandomForestClassifier(n_estimators=10, random_state=0).fit(features, target), iris, input_example=features[:3]
    )
    constant = constant_model_dir(tmp_path / "versions" / "mv-2", 7)
    server = StandIn(free_port(), {"mv-1": iris, "mv-2": constant})
    server.set_spec(1, [server.slot("stable", "mv-1", 1, 100)])
    server.start()
    yield server
    if server.httpd is not None:
        server.stop()


def deployment_args(stand_in: StandIn, tmp_path: Path) -> tuple[str, ...]:
    return ("--deployment", "d1", "--server", stand_in.url, "--cache-dir", str(tmp_path / "cache"))


def wait_for(condition, seconds: float = 30, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def test_serves_the_spec_and_reports_telemetry(stand_in: StandIn, tmp_path: Path):
    with serve(tmp_path, *deployment_args(stand_in, tmp_path), env={"RUNLAB_TOKEN": TOKEN}) as serving:
        ready = serving.get("/v2/health/ready")
        assert ready.headers["X-Runlab-Revision"] == "1"
        for i in range(10):
            answer = serving.post("/v2/models/iris/infer", rows_request([SETOSA], id=f"t-{i}"))
            assert answer.status_code == 200 and answer.json()["model_version"] == "1"
        assert (
            serving.post("/v2/models/iris-prod/infer", rows_request([SETOSA])).status_code == 200
        )  # the deployment name
        wait_for(lambda: stand_in.delivered()[0] >= 11, what="telemetry with 11 requests")
        _, predictions = stand_in.delivered()
        report = stand_in.reports[-1]
        assert report["revision"] == 1 and report["replica"].endswith("/0")
        assert report["latency"]["bucketsMs"][:3] == [1, 2, 5]
        assert len(report["latency"]["counts"]) == len(report["latency"]["bucketsMs"]) + 1
        assert {c["role"] for r in stand_in.reports for c in r["counts"]} == {"stable"}
        assert {c["modelVersionId"] for r in stand_in.reports for c in r["counts"]} == {"mv-1"}
        record = next(p for p in predictions if p["requestId"] == "t-3")
        assert record["role"] == "stable" and record["status"] == 200
        assert record["inputs"]["sepal_length"] == [5.1] and record["outputs"] == {"predict": [0]}
        status = serving.get("/runlab/status").json()
        assert status["revision"] == 1
        assert status["slots"][0] == {
            "role": "stable",
            "modelName": "iris",
            "version": 1,
            "modelVersionId": "mv-1",
            "percent": 100,
            "ready": True,
        }
    assert (tmp_path / "cache" / "mv-1" / "MLmodel").is_file()


def test_keeps_serving_while_the_companion_server_is_down_and_delivers_later(stand_in: StandIn, tmp_path: Path):
    with serve(tmp_path, *deployment_args(stand_in, tmp_path), env={"RUNLAB_TOKEN": TOKEN}) as serving:
        for i in range(5):
            assert serving.post("/v2/models/iris/infer", rows_request([SETOSA], id=f"up-{i}")).status_code == 200
        wait_for(lambda: stand_in.delivered()[0] >= 5, what="the first telemetry")
        stand_in.stop()
        for i in range(20):
            started = time.monotonic()
            answer = serving.post("/v2/models/iris/infer", rows_request([SETOSA], id=f"down-{i}"))
            assert answer.status_code == 200
            assert time.monotonic() - started < 2  # never blocked by the missing server
        time.sleep(1.5)  # a few reports fail meanwhile
        stand_in.start()
        wait_for(lambda: stand_in.delivered()[0] >= 25, seconds=90, what="the telemetry kept while the server was down")
        count, predictions = stand_in.delivered()
        assert count == 25
        assert {f"down-{i}" for i in range(20)} <= {p["requestId"] for p in predictions}
    assert "telemetry not delivered" in serving.log.read_text()


def test_a_new_revision_is_swapped_in_without_failing_requests(stand_in: StandIn, tmp_path: Path):
    with serve(tmp_path, *deployment_args(stand_in, tmp_path), env={"RUNLAB_TOKEN": TOKEN}) as serving:
        failures: list[str] = []
        answered: list[tuple[str, str]] = []
        stop = threading.Event()

        def load() -> None:
            session = requests.Session()
            i = 0
            while not stop.is_set():
                i += 1
                answer = session.post(serving.url + "/v2/models/iris/infer", json=rows_request([SETOSA], id=f"s-{i}"))
                if answer.status_code != 200:
                    failures.append(answer.text)
                else:
                    answered.append((answer.headers["X-Runlab-Revision"], answer.json()["model_version"]))

        clients = [threading.Thread(target=load) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(0.5)
        stand_in.set_spec(2, [stand_in.slot("stable", "mv-1", 1, 50), stand_in.slot("canary", "mv-2", 2, 50)])
        wait_for(lambda: any(rev == "2" for rev, _ in answered[-20:]), what="revision 2 answering")
        time.sleep(0.5)
        stop.set()
        for client in clients:
            client.join()
        assert failures == []
        after = [version for rev, version in answered if rev == "2"]
        assert {"1", "2"} <= set(after)
        status = serving.get("/runlab/status").json()
        assert status["revision"] == 2
        assert [(s["role"], s["version"], s["percent"]) for s in status["slots"]] == [
            ("stable", 1, 50),
            ("canary", 2, 50),
        ]
        wait_for(
            lambda: any(
                c["role"] == "canary" and c["modelVersionId"] == "mv-2" for r in stand_in.reports for c in r["counts"]
            ),
            what="canary counts in the telemetry",
        )


def test_a_refused_token_is_a_clear_start_error(stand_in: StandIn, tmp_path: Path):
    with serve(tmp_path, *deployment_args(stand_in, tmp_path), env={"RUNLAB_TOKEN": "wrong"}, ready=False) as serving:
        assert serving.process.wait(timeout=60) == 1
    assert "refused the deployment token (401): set RUNLAB_TOKEN" in serving.log.read_text()
