"""Serving: one scikit-learn model served by Runlab (`runlab serve-model`), by `mlflow models serve`
and by MLServer, in one run on this machine, under the same load generator. Prints figures; never
asserts on time.

1. requests/s, p50 and p99 at 1 and 64 concurrent connections (a warm-up, then a fixed duration),
   the same Open Inference Protocol v2 request to Runlab and MLServer and the equivalent MLflow
   `/invocations` request to mlflow. Targets: ≥ 2× the best peer's requests/s and ≤ ½ its p99 at
   64 connections, p50 at 1 connection no worse than the best peer's.
2. prediction logging: two deployments of the same version on the local target of two real companion
   servers, RUNLAB_PREDICTION_SAMPLE_RATE=0 and =1, loaded in alternating rounds (so drifting load on
   the machine hits both alike). Target: ≤ 5% fewer requests/s at rate 1. A server without the
   deployments API is replaced by a stand-in control plane in this process (spec, files, telemetry).
3. deploy → ready on the local target: a real companion server, the model logged as a version,
   POST /api/deployments, GET /api/deployments/:id until ready; median of 5. Target ≤ 3 s.

The model is a RandomForestClassifier (100 trees) on a seeded synthetic table of 20 numeric
features, saved once as an MLflow model directory (`mlflow.sklearn.save_model`) that all three
servers load. MLServer (`mlserver` + `mlserver-sklearn`, pinned in
python/requirements-bench-mlserver.txt) lives in its own venv under ~/.cache/runlab/bench/, since
its dependencies conflict with .venv's; it gets .venv's scikit-learn and numpy so it unpickles the
same model.

    .venv/bin/python bench/serving.py [--quick] [--seconds 15] [--warmup 3] [--workers N] [--deploys 5]
                                      [--only peers,logging,deploy]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "bench"))

import psutil  # noqa: E402
from serving_load import LoadGenerator, LoadResult, ensure_wrk  # noqa: E402

PARTS = ("peers", "logging", "deploy")
MODEL_NAME = "rf"
FEATURES = 20
CONNECTIONS = (1, 64)
MLSERVER_REQUIREMENTS = REPO / "python" / "requirements-bench-mlserver.txt"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "runlab" / "bench"


# -- the model ------------------------------------------------------------------------------------


@dataclass
class Model:
    directory: Path
    row: list[float]  # the one row every request sends
    expected: int  # what the model predicts for it
    signature: dict[str, Any]  # Runlab's format (contract ModelSignature)


def train_and_save(work: Path) -> Model:
    import mlflow.sklearn
    import numpy as np
    from mlflow.models import infer_signature
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    x, y = make_classification(n_samples=5000, n_features=FEATURES, n_informative=10, random_state=0)
    # A plain array (no column names): every server takes the same FP64 tensor [1, 20], and none pays
    # scikit-learn's "X does not have valid feature names" warning per request.
    model = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1).fit(x, y)
    directory = work / "model"
    # cloudpickle → model.pkl: the format Runlab's model directories use, and what MLServer's
    # SKLearnModel reads (mlflow 3 defaults to skops, which MLServer cannot load).
    logging.getLogger("mlflow").setLevel(logging.ERROR)  # its warning that pickles run code on load
    signature = infer_signature(x, model.predict(x))
    mlflow.sklearn.save_model(
        model, directory, serialization_format="cloudpickle", signature=signature, input_example=x[:2]
    )
    row = [round(float(v), 6) for v in x[7]]
    expected = int(model.predict(np.array([row]))[0])
    signature = {
        "inputs": [{"name": None, "kind": "tensor", "datatype": "FP64", "shape": [-1, FEATURES], "required": True}],
        "outputs": [{"name": None, "kind": "tensor", "datatype": "INT64", "shape": [-1], "required": True}],
    }
    return Model(directory, row, expected, signature)


def oip_body(model: Model, input_name: str) -> bytes:
    tensor = {"name": input_name, "shape": [1, FEATURES], "datatype": "FP64", "data": model.row}
    return json.dumps({"id": "bench", "inputs": [tensor]}).encode()


def mlflow_body(model: Model) -> bytes:
    return json.dumps({"inputs": [model.row]}).encode()


# -- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: bytes | None = None, token: str | None = None, timeout: float = 10) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-25:])


@contextlib.contextmanager
def started(name: str, command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None):
    """A server in its own process group, so its workers stop with it."""
    with open(log, "wb") as sink:
        popen = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )
    process = Process(name, popen, log)
    try:
        yield process
    finally:
        stop(process)


def stop(process: Process) -> None:
    if process.popen.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.popen.pid, signal.SIGTERM)
    try:
        process.popen.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.popen.pid, signal.SIGKILL)
        process.popen.wait()
    # Workers left behind in the group (a parent that exited without them).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.popen.pid, signal.SIGKILL)


def wait_ready(process: Process, url: str, timeout: float = 120) -> float:
    began = time.perf_counter()
    while status_of(url) != 200:
        if process.popen.poll() is not None:
            raise SystemExit(f"{process.name} exited with {process.popen.returncode}:\n{process.tail()}")
        if time.perf_counter() - began > timeout:
            raise SystemExit(f"{process.name} was not ready within {timeout:g} s:\n{process.tail()}")
        time.sleep(0.05)
    return time.perf_counter() - began


# -- the servers under test -----------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    port: int
    command: list[str]
    ready_path: str
    infer_path: str
    body: Callable[[str], bytes]  # base url → request body
    prediction: Callable[[Any], Any]
    note: str
    env: dict[str, str] | None = None
    cwd: Path | None = None


def runlab_available() -> bool:
    done = subprocess.run([sys.executable, "-m", "runlab", "serve-model", "--help"], capture_output=True, cwd=REPO)
    return done.returncode == 0


def runlab_input_name(base: str) -> str:
    """The name the runtime gives the unnamed tensor input (its model metadata), input-0 otherwise."""
    with contextlib.suppress(OSError, ValueError, KeyError, IndexError, TypeError):
        return http("GET", f"{base}/v2/models/{MODEL_NAME}")["inputs"][0]["name"] or "input-0"
    return "input-0"


def runlab_contender(model: Model, port: int, workers: int) -> Contender:
    command = [sys.executable, "-m", "runlab", "serve-model", "--model-dir", str(model.directory)]
    command += ["--name", MODEL_NAME, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return Contender(
        name="Runlab",
        port=port,
        command=command,
        ready_path=f"/v2/models/{MODEL_NAME}/ready",
        infer_path=f"/v2/models/{MODEL_NAME}/infer",
        body=lambda base: oip_body(model, runlab_input_name(base)),
        prediction=lambda answer: answer["outputs"][0]["data"][0],
        note=f"runlab serve-model --model-dir, --workers {workers}",
        env=clean_env(),
    )


def mlflow_contender(model: Model, port: int, workers: int) -> Contender:
    mlflow_cli = str(Path(sys.executable).with_name("mlflow"))
    command = [mlflow_cli, "models", "serve", "-m", str(model.directory), "--env-manager", "local"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return Contender(
        name="mlflow",
        port=port,
        command=command,
        ready_path="/ping",
        infer_path="/invocations",
        body=lambda _base: mlflow_body(model),
        prediction=lambda answer: answer["predictions"][0],
        note=f"mlflow {importlib.metadata.version('mlflow')} models serve: uvicorn (FastAPI),"
        f" --workers {workers} (its default is 1)",
        env=clean_env(),
    )


def mlserver_contender(model: Model, port: int, workers: int, work: Path, venv: Path) -> Contender:
    repository = work / "mlserver"
    (repository / MODEL_NAME).mkdir(parents=True, exist_ok=True)
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        "parallel_workers": workers,
        # Its default (debug: true) logs every request; off, as in production.
        "debug": False,
    }
    (repository / "settings.json").write_text(json.dumps(settings, indent=2))
    model_settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": str(model.directory / "model.pkl"), "version": "v1"},
    }
    (repository / MODEL_NAME / "model-settings.json").write_text(json.dumps(model_settings, indent=2))
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import mlserver; print(mlserver.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return Contender(
        name="MLServer",
        port=port,
        command=[str(venv / "bin" / "mlserver"), "start", str(repository)],
        ready_path=f"/v2/models/{MODEL_NAME}/ready",
        infer_path=f"/v2/models/{MODEL_NAME}/infer",
        body=lambda _base: oip_body(model, "input-0"),
        prediction=lambda answer: answer["outputs"][0]["data"][0],
        note=f"MLServer {version} + mlserver-sklearn, parallel_workers {workers} (its default is 1), debug off",
        env=clean_env(),
        cwd=repository,
    )


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAB_", "MLSERVER_", "MLFLOW_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "python"), os.environ.get("PYTHONPATH")]))
    # `mlflow models serve` runs `uvicorn` by name: this venv's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


# -- MLServer's own venv --------------------------------------------------------------------------


def mlserver_venv() -> Path:
    """A venv keyed by the pinned requirements and .venv's scikit-learn/numpy/Python; reused when present."""
    pins = [
        line.strip()
        for line in MLSERVER_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    shared = [f"{name}=={importlib.metadata.version(name)}" for name in ("scikit-learn", "numpy", "scipy")]
    key = hashlib.sha256("\n".join([*pins, *shared, sys.version]).encode()).hexdigest()[:12]
    venv = CACHE / f"mlserver-venv-{key}"
    if (venv / ".complete").exists():
        return venv
    print(f"  creating MLServer's venv in {venv} ({', '.join(pins + shared)}; first run only)…", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    base_python = getattr(sys, "_base_executable", None) or shutil.which("python3") or "python3"
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*install, *pins, *shared], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"installing MLServer into {venv} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    (venv / ".complete").write_text("\n".join(pins + shared) + "\n")
    return venv


# -- 1. the three servers side by side ------------------------------------------------------------


@dataclass
class Figures:
    name: str
    note: str
    start_s: float
    results: dict[int, LoadResult]


def measure(
    contender: Contender, work: Path, load: LoadGenerator, model: Model, seconds: float, warmup: float
) -> Figures:
    base = f"http://127.0.0.1:{contender.port}"
    log = work / f"{contender.name.lower()}.log"
    print(f"  {contender.name}: starting ({contender.note})", flush=True)
    with started(contender.name, contender.command, log, env=contender.env, cwd=contender.cwd) as process:
        start_s = wait_ready(process, base + contender.ready_path)
        body = contender.body(base)
        answer = http("POST", base + contender.infer_path, body)
        got = contender.prediction(answer)
        if got != model.expected:
            raise SystemExit(f"{contender.name} predicted {got!r}, expected {model.expected!r}: {answer}")
        results = {}
        for connections in CONNECTIONS:
            load.run(base + contender.infer_path, body, connections, warmup)
            results[connections] = load.run(base + contender.infer_path, body, connections, seconds)
            r = results[connections]
            print(
                f"    {connections:>2} connections: {r.rps:8,.0f} req/s  p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms"
                f"  errors {r.errors}",
                flush=True,
            )
    return Figures(contender.name, contender.note, start_s, results)


def print_table(figures: list[Figures]) -> None:
    names = [f.name for f in figures]
    width = 12
    print("\n  " + f"{'':<30}" + "".join(f"{name:>{width}}" for name in names))
    rows: list[tuple[str, Callable[[Figures], str]]] = [("start → ready (s)", lambda f: f"{f.start_s:.1f}")]
    for c in CONNECTIONS:
        rows += [
            (f"{c} conn: requests/s", lambda f, c=c: f"{f.results[c].rps:,.0f}"),
            (f"{c} conn: p50 (ms)", lambda f, c=c: f"{f.results[c].p50_ms:.2f}"),
            (f"{c} conn: p99 (ms)", lambda f, c=c: f"{f.results[c].p99_ms:.2f}"),
            (f"{c} conn: errors", lambda f, c=c: f"{f.results[c].errors}"),
        ]
    for label, cell in rows:
        print("  " + f"{label:<30}" + "".join(f"{cell(f):>{width}}" for f in figures))


def print_verdicts(figures: list[Figures]) -> None:
    ours = next((f for f in figures if f.name == "Runlab"), None)
    peers = [f for f in figures if f.name != "Runlab"]
    if not ours or not peers:
        print("\n  targets: not judged (Runlab or both peers missing)")
        return
    hi, lo = CONNECTIONS[-1], CONNECTIONS[0]
    best_rps = max(peers, key=lambda f: f.results[hi].rps)
    best_p99 = min(peers, key=lambda f: f.results[hi].p99_ms)
    best_p50 = min(peers, key=lambda f: f.results[lo].p50_ms)
    rps_ratio = ours.results[hi].rps / best_rps.results[hi].rps
    p99_ratio = ours.results[hi].p99_ms / best_p99.results[hi].p99_ms
    p50_ratio = ours.results[lo].p50_ms / best_p50.results[lo].p50_ms
    print("\n  Runlab against the best peer:")
    judged = [
        (f"requests/s at {hi} conn", rps_ratio, best_rps.name, "≥ 2×", rps_ratio >= 2),
        (f"p99 at {hi} conn", p99_ratio, best_p99.name, "≤ 0.5×", p99_ratio <= 0.5),
        (f"p50 at {lo} conn", p50_ratio, best_p50.name, "≤ 1×", p50_ratio <= 1),
    ]
    for what, ratio, peer, target, ok in judged:
        word = verdict(ok, f"{what}: {ratio:.2f}× {peer}'s (target {target})")
        print(f"    {what:<24} {ratio:6.2f}× {peer + chr(39) + 's':<12} target {target:<7} — {word}")


TARGETS: list[str] = []  # every target judged, for the summary at the end


def verdict(ok: bool, target: str = "") -> str:
    word = "met" if ok else "NOT met"
    if target:
        TARGETS.append(f"{target} — {word}")
    return word


def bench_peers(
    work: Path, load: LoadGenerator, model: Model, workers: int, seconds: float, warmup: float, with_runlab: bool
) -> None:
    print(f"\n1. One model, three servers: 1 and 64 connections, {warmup:g} s warm-up then {seconds:g} s each")
    print(f"   load generator: {load.name}; one server running at a time")
    contenders = []
    if with_runlab:
        contenders.append(runlab_contender(model, free_port(), workers))
    contenders.append(mlflow_contender(model, free_port(), workers))
    try:
        contenders.append(mlserver_contender(model, free_port(), workers, work, mlserver_venv()))
    except SystemExit as error:
        print(f"  MLServer skipped: {error}")
    figures = [measure(c, work, load, model, seconds, warmup) for c in contenders]
    print_table(figures)
    for f in figures:
        print(f"  {f.name}: {f.note}")
    print_verdicts(figures)


# -- 2. prediction logging ------------------------------------------------------------------------


class ControlPlane:
    """What `runlab serve-model --deployment` talks to, in this process: the ServingSpec, the
    version's files, and telemetry (parsed and counted, as the companion server would)."""

    def __init__(self, model: Model, sample_rate: float) -> None:
        self.model, self.sample_rate = model, sample_rate
        self.reports = self.predictions = 0
        files = sorted(p for p in model.directory.rglob("*") if p.is_file())
        self.files = {str(p.relative_to(model.directory)): p for p in files}
        plane = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/api/deployments/bench/spec":
                    self.reply(200, json.dumps(plane.spec()).encode())
                elif url.path == "/api/deployments/bench/files":
                    path = parse_qs(url.query).get("path", [""])[0]
                    if path in plane.files:
                        self.reply(200, plane.files[path].read_bytes(), "application/octet-stream")
                    else:
                        self.reply(404, b'{"error":"no such file"}')
                else:
                    self.reply(404, b'{"error":"not found"}')

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if urlsplit(self.path).path != "/api/deployments/bench/telemetry":
                    self.reply(404, b'{"error":"not found"}')
                    return
                report = json.loads(body)
                plane.reports += 1
                plane.predictions += len(report.get("predictions", []))
                answer = {"revision": 1, "acceptedPredictions": len(report.get("predictions", []))}
                self.reply(200, json.dumps(answer).encode())

            def reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spec(self) -> dict[str, Any]:
        files = [
            {"path": name, "size": p.stat().st_size, "digest": hashlib.sha256(p.read_bytes()).hexdigest()}
            for name, p in self.files.items()
        ]
        slot = {
            "role": "stable",
            "modelVersionId": "mv-bench",
            "modelName": MODEL_NAME,
            "version": 1,
            "percent": 100,
            "flavor": "sklearn",
            "signature": self.model.signature,
            "files": files,
        }
        return {
            "deploymentId": "bench",
            "name": "bench-rf",
            "revision": 1,
            "slots": [slot],
            "predictionSampleRate": self.sample_rate,
            "pollSeconds": 1,
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Served:
    """A deployment's runtime under load, and what its control plane saw."""

    base: str
    predictions: Callable[[], int]  # sampled predictions received so far
    control_cpu: Callable[[], float]  # CPU seconds the control plane has used so far
    control: str


@contextlib.contextmanager
def served_by_companion(work: Path, model: Model, workers: int, rate: float, arm: int) -> Iterator[Served]:
    env = {"RUNLAB_PREDICTION_SAMPLE_RATE": f"{rate:g}"}
    with companion_server(work, f"logging-{arm}", env) as server:
        log_version(server, model)
        deployment, _ = deploy(server, model, f"logging-{arm}", workers)
        total_url = f"{server.url}/api/deployments/{deployment['id']}/predictions?limit=1"
        server_process = psutil.Process(server.pid)

        def cpu() -> float:
            times = server_process.cpu_times()
            return times.user + times.system

        try:
            yield Served(
                deployment["endpoint"],
                lambda: http("GET", total_url, token=server.token)["total"],
                cpu,
                "the companion server",
            )
        finally:
            http("DELETE", f"{server.url}/api/deployments/{deployment['id']}", token=server.token)


@contextlib.contextmanager
def served_by_stub(work: Path, model: Model, workers: int, rate: float, arm: int) -> Iterator[Served]:
    plane = ControlPlane(model, rate)
    port = free_port()
    command = [sys.executable, "-m", "runlab", "serve-model", "--deployment", "bench", "--server", plane.url]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--cache-dir", str(work / f"serving-cache-{arm}")]
    env = {**clean_env(), "RUNLAB_TOKEN": "bench-deployment-token"}
    base = f"http://127.0.0.1:{port}"
    try:
        with started(f"Runlab deployment (rate {rate:g})", command, work / f"deployment-{arm}.log", env=env) as proc:
            wait_ready(proc, f"{base}/v2/models/{MODEL_NAME}/ready")
            yield Served(
                base, lambda: plane.predictions, time.process_time, "this process (both stand-in control planes)"
            )
    finally:
        plane.close()


def bench_logging(
    work: Path,
    load: LoadGenerator,
    model: Model,
    workers: int,
    seconds: float,
    warmup: float,
    real: bool,
    rates: tuple[float, float] = (0.0, 1.0),
) -> None:
    c = CONNECTIONS[-1]
    serve = served_by_companion if real else served_by_stub
    where = (
        "a deployment of the real companion server (RUNLAB_PREDICTION_SAMPLE_RATE; RUNLAB_PREDICTION_LIMIT and pollSeconds at their defaults)"
        if real
        else "runlab serve-model --deployment against a stand-in control plane in this process (pollSeconds 1;"
        " the companion server has no deployments API yet)"
    )
    rounds = max(2, round(seconds / 5))
    print(
        f"\n2. Prediction logging: predictionSampleRate {rates[0]:g} vs {rates[1]:g}, {c} connections; both deployed"
        f" at once, then {rounds} rounds of {seconds / rounds:.3g} s each, in A B B A … order, after a {warmup:g} s"
        " warm-up each"
    )
    print(f"   served by {where}; replicas {workers}")
    arms = (0, 1)
    with contextlib.ExitStack() as stack:
        served = [stack.enter_context(serve(work, model, workers, rates[arm], arm)) for arm in arms]
        urls = [f"{s.base}/v2/models/{MODEL_NAME}/infer" for s in served]
        body = oip_body(model, runlab_input_name(served[0].base))
        for arm in arms:
            load.run(urls[arm], body, c, warmup)
        time.sleep(3)  # the warm-ups' last telemetry reports
        rounds_of: list[list[LoadResult]] = [[], []]
        logged, cpu = [0, 0], [0.0, 0.0]
        for index in range(rounds):
            # A B, then B A: neither arm always goes first after the other's telemetry.
            for arm in arms if index % 2 == 0 else arms[::-1]:
                before, cpu_before = served[arm].predictions(), served[arm].control_cpu()
                rounds_of[arm].append(load.run(urls[arm], body, c, seconds / rounds))
                # The round's last reports arrive within a poll interval: counted here, not in the next round.
                time.sleep(3)
                logged[arm] += served[arm].predictions() - before
                cpu[arm] += served[arm].control_cpu() - cpu_before
    rps = []
    for arm in arms:
        results = rounds_of[arm]
        rps.append(sum(r.requests for r in results) / sum(r.seconds for r in results))
        p50 = statistics.median(r.p50_ms for r in results)
        p99 = statistics.median(r.p99_ms for r in results)
        print(
            f"  sample rate {rates[arm]:g}: {rps[arm]:8,.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
            f" (medians of the rounds)  errors {sum(r.errors for r in results)}"
            f"   rounds: {', '.join(f'{r.rps:,.0f}' for r in results)} req/s"
        )
        print(f"    {logged[arm]:,} predictions logged; {served[arm].control} used {cpu[arm]:.1f} s of CPU meanwhile")
    overhead = 1 - rps[1] / rps[0]
    what = f"sample rate {rates[1]:g} vs {rates[0]:g}"
    word = verdict(
        overhead <= 0.05, f"prediction logging ({what}): {overhead * 100:.1f}% fewer requests/s (target ≤ 5%)"
    )
    print(f"  overhead of prediction logging ({what}): {overhead * 100:.1f}% of requests/s   target ≤ 5% — {word}")


# -- 3. deploy → ready ----------------------------------------------------------------------------


@dataclass
class Companion:
    url: str
    token: str
    pid: int


@contextlib.contextmanager
def companion_server(work: Path, name: str, extra_env: dict[str, str] | None = None) -> Iterator[Companion]:
    """`node server/dist/cli.js serve --port 0` on a fresh data directory (as bench/runners.py), whose
    local target runs `runlab serve-model` with this Python."""
    data_dir = work / f"{name}-data"
    data_dir.mkdir()
    env = {**clean_env(), "RUNLAB_LOG_LEVEL": "warn", "RUNLAB_SERVING_PYTHON": sys.executable, **(extra_env or {})}
    command = ["node", str(REPO / "server" / "dist" / "cli.js"), "serve", "--port", "0", "--data-dir", str(data_dir)]
    with started("companion server", command, work / f"{name}-server.log", env=env, cwd=REPO) as process:
        deadline = time.monotonic() + 30
        while True:
            try:
                info = json.loads((data_dir / "server.json").read_text())
                token = (data_dir / "admin-token").read_text().strip()
                break
            except (OSError, ValueError):
                if process.popen.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the companion server did not start:\n{process.tail()}") from None
                time.sleep(0.05)
        yield Companion(info["url"].rstrip("/"), token, process.popen.pid)


def deployments_api_answers(work: Path) -> bool:
    """Whether this checkout's built server has deployments (POST /api/deployments is not a 404)."""
    with companion_server(work, f"probe-{time.monotonic_ns()}") as server:
        try:
            http("POST", f"{server.url}/api/deployments", b"{}", server.token)
        except urllib.error.HTTPError as error:
            return error.code != 404
        except OSError:
            return False
        return True


def log_version(server: Companion, model: Model) -> None:
    """The model directory as run artifacts, then version 1 of `rf` made from them."""
    import runlab

    with runlab.Client(server.url, server.token) as api:
        run = api.create_run({"project": "bench-serving", "name": "serving benchmark"})
        for path in sorted(p for p in model.directory.rglob("*") if p.is_file()):
            api.upload_artifact(
                run["id"], f"models/{MODEL_NAME}/{path.relative_to(model.directory)}", path.read_bytes()
            )
        body = {
            "runId": run["id"],
            "artifactPath": f"models/{MODEL_NAME}",
            "flavor": "sklearn",
            "signature": model.signature,
            "inputExample": {"inputs": [model.row]},
        }
        api.request("POST", f"/api/models/{MODEL_NAME}/versions", json=body)


def deploy(server: Companion, model: Model, name: str, workers: int) -> tuple[dict[str, Any], float]:
    """POST /api/deployments, then GET it every 20 ms until ready; checks one prediction."""
    body = json.dumps({"name": name, "model": MODEL_NAME, "version": "1", "replicas": workers}).encode()
    began = time.perf_counter()
    deployment = http("POST", f"{server.url}/api/deployments", body, server.token)
    while deployment["status"] not in ("ready", "failed"):
        if time.perf_counter() - began > 120:
            raise SystemExit(f"deployment {name} not ready within 120 s: {deployment}")
        time.sleep(0.02)
        deployment = http("GET", f"{server.url}/api/deployments/{deployment['id']}", token=server.token)
    elapsed = time.perf_counter() - began
    if deployment["status"] == "failed":
        raise SystemExit(f"deployment {name} failed: {deployment['statusMessage']}")
    endpoint = deployment["endpoint"]
    answer = http("POST", f"{endpoint}/v2/models/{MODEL_NAME}/infer", oip_body(model, runlab_input_name(endpoint)))
    if answer["outputs"][0]["data"][0] != model.expected:
        raise SystemExit(f"deployment {name} answered {answer}, expected {model.expected}")
    return deployment, elapsed


def bench_deploy(work: Path, model: Model, workers: int, reps: int, has_deployments: bool) -> None:
    print(f"\n3. Deploy → ready on the local target ({reps} deployments one after another, replicas {workers})")
    if not has_deployments:
        print("  skipped: this checkout's server has no deployments API yet (POST /api/deployments → 404)")
        return
    with companion_server(work, "deploy") as server:
        log_version(server, model)
        took, server_side = [], []
        for rep in range(reps):
            deployment, elapsed = deploy(server, model, f"bench-{rep}", workers)
            took.append(elapsed)
            events = {e["kind"]: e["at"] for e in deployment["history"]}
            if "deployed" in events and "ready" in events:
                server_side.append(epoch(events["ready"]) - epoch(events["deployed"]))
            http("DELETE", f"{server.url}/api/deployments/{deployment['id']}", token=server.token)
    med = statistics.median(took)
    print(
        f"  POST /api/deployments → GET says ready (20 ms polls): median {med:5.2f} s   "
        f"[{', '.join(f'{t:.2f}' for t in took)}]"
    )
    if server_side:
        server_med = statistics.median(server_side)
        print(f"  its history, deployed → ready:                       median {server_med:5.2f} s")
    print(f"  target ≤ 3 s — {verdict(med <= 3, f'deploy → ready: median {med:.2f} s (target ≤ 3 s)')}")


def epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 s per measurement, 1 s warm-up, 2 deploys")
    parser.add_argument("--seconds", type=float, default=15, help="measured seconds per server and connection count")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds before each measurement")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes of every server")
    parser.add_argument("--deploys", type=int, default=5, help="deployments for deploy → ready")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument(
        "--sample-rates",
        default="0,1",
        help="the two prediction sample rates the logging part compares, baseline first (0,0 checks the harness)",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.deploys = 2, 1, 2
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    try:
        baseline_rate, logged_rate = (float(v) for v in args.sample_rates.split(","))
    except ValueError:
        parser.error(f"--sample-rates takes two numbers from 0 to 1, as 0,1 (got {args.sample_rates!r})")
    rates = (baseline_rate, logged_rate)
    if unknown := [p for p in parts if p not in PARTS]:
        parser.error(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")

    began = time.perf_counter()
    load_avg = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"serving benchmark: {os.cpu_count()} CPUs (load average {load_avg}), Python {sys.version.split()[0]},"
        f" scikit-learn {importlib.metadata.version('scikit-learn')}, {args.workers} workers per server"
    )
    with_runlab = runlab_available()
    if not with_runlab:
        print("  `runlab serve-model` is not available yet: Runlab's rows, logging and deploy are skipped")
    load = LoadGenerator(ensure_wrk())
    work = Path(tempfile.mkdtemp(prefix="runlab-bench-serving-"))
    try:
        model = train_and_save(work)
        print(
            f"  model: RandomForestClassifier(n_estimators=100) on 5,000 × {FEATURES} synthetic rows,"
            f" saved once by mlflow.sklearn.save_model in {model.directory}"
        )
        if "peers" in parts:
            bench_peers(work, load, model, args.workers, args.seconds, args.warmup, with_runlab)
        has_deployments = with_runlab and bool({"logging", "deploy"} & set(parts)) and deployments_api_answers(work)
        if "logging" in parts and with_runlab:
            bench_logging(work, load, model, args.workers, args.seconds, args.warmup, has_deployments, rates)
        if "deploy" in parts and with_runlab:
            bench_deploy(work, model, args.workers, args.deploys, has_deployments)
    finally:
        load.close()
        if os.environ.get("BENCH_KEEP"):
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if TARGETS:
        print("\nTargets:")
        for line in TARGETS:
            print(f"  {line}")
    load_avg = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n(whole benchmark: {time.perf_counter() - began:.0f} s; load average at the end {load_avg})")


if __name__ == "__main__":
    main()
