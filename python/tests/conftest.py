"""Shared fixtures: a real companion server process, and settings isolated from the machine's."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jupyter_client import KernelManager
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager

REPO = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO / "python"
SERVER_CLI = REPO / "server" / "dist" / "cli.js"

# Tests import the package from the source tree, installed or not.
sys.path.insert(0, str(PYTHON_DIR))

import runlab  # noqa: E402
from runlab import config  # noqa: E402

RUNLAB_ENV = ("RUNLAB_URL", "RUNLAB_TOKEN", "RUNLAB_PROJECT", "RUNLAB_NOTEBOOK", "RUNLAB_DATA_DIR")


@dataclass(frozen=True)
class RunningServer:
    url: str
    token: str
    data_dir: Path
    version: str


def _ensure_server_built() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is not on PATH; the companion server needs Node.js >= 20")
    sources = list((REPO / "server" / "src").rglob("*.ts"))
    newest_source = max((p.stat().st_mtime for p in sources), default=0.0)
    if SERVER_CLI.exists() and SERVER_CLI.stat().st_mtime >= newest_source:
        return
    build = subprocess.run(["npm", "run", "build", "-w", "server"], cwd=REPO, capture_output=True, text=True)
    if build.returncode != 0 or not SERVER_CLI.exists():
        pytest.fail(f"`npm run build -w server` failed:\n{build.stdout}\n{build.stderr}")


@pytest.fixture(scope="session")
def runlab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`runlab-server serve` on an ephemeral port with a fresh data directory."""
    _ensure_server_built()
    data_dir = tmp_path_factory.mktemp("server-data")
    process, server = start_server(data_dir)
    try:
        yield server
    finally:
        stop_server(process)


def start_server(
    data_dir: Path, port: int = 0, *, max_file_bytes: int | None = None, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], RunningServer]:
    """Start `runlab-server serve` on ``port`` (0: any free one) with ``data_dir``; wait until it serves.
    ``max_file_bytes``: no file the server writes may grow past it (RLIMIT_FSIZE; writes fail with
    EFBIG, as on a full disk). Raise it again with ``resource.prlimit(process.pid, ...)``.
    ``extra_env``: settings for the server, e.g. RUNLAB_RUNNER_LEASE_MS."""

    def limit_file_size() -> None:
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, resource.RLIM_INFINITY))

    _ensure_server_built()
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    server_json = data_dir / "server.json"
    server_json.unlink(missing_ok=True)  # a restart must not read the previous process's file
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env["RUNLAB_LOG_LEVEL"] = "warn"
    # The sweeps' proposer runs with this Python, which has runlab (and Optuna) installed.
    env.setdefault("RUNLAB_SWEEP_PYTHON", sys.executable)
    env.update(extra_env or {})
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            ["node", str(SERVER_CLI), "serve", "--port", str(port), "--data-dir", str(data_dir)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=limit_file_size if max_file_bytes is not None else None,
        )
    info = _wait_for_server_json(process, server_json, log_path)
    token = (data_dir / "admin-token").read_text().strip()
    return process, RunningServer(url=info["url"].rstrip("/"), token=token, data_dir=data_dir, version=info["version"])


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_server_json(process: subprocess.Popen[bytes], path: Path, log_path: Path) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            info = json.loads(path.read_text())
            if info.get("url") and (path.parent / "admin-token").exists():
                return info
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    pytest.fail(f"server did not write {path} within 30 s:\n{log_path.read_text()}")


@pytest.fixture
def project(runlab_server: RunningServer) -> Iterator[str]:
    """A fresh project on the real server, configured for this process; no run left active."""
    name = f"api-{uuid.uuid4().hex[:8]}"
    runlab.configure(url=runlab_server.url, token=runlab_server.token, project=name)
    yield name
    if runlab.active_run() is not None:
        runlab.end()


def script_env(server: RunningServer, tmp_path: Path, project: str) -> dict[str, str]:
    """The environment of a plain `python script.py` pointed at the test server."""
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env.update(
        PYTHONPATH=str(PYTHON_DIR),
        RUNLAB_URL=server.url,
        RUNLAB_TOKEN=server.token,
        RUNLAB_PROJECT=project,
        RUNLAB_DATA_DIR=str(tmp_path / "no-local-server"),
    )
    return env


@pytest.fixture
def closed_port_url() -> str:
    """A URL on this machine where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No RUNLAB_* from the developer's shell, no ~/.runlab, no explicit settings left over."""
    for name in RUNLAB_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUNLAB_DATA_DIR", str(tmp_path / "no-local-server"))
    config.reset()
    yield
    config.reset()


# -- a real ipykernel ----------------------------------------------------------------------------


@dataclass
class Execution:
    reply: dict[str, Any]
    seconds: float
    stdout: str = ""
    stderr: str = ""
    tracebacks: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlockingKernelClient]:
    """One ipykernel for the module, run by this Python, importing runlab from the source tree."""
    kernels_dir = tmp_path_factory.mktemp("kernels")
    (kernels_dir / "runlab-test").mkdir()
    (kernels_dir / "runlab-test" / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Runlab test kernel",
                "language": "python",
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")]))
    env["RUNLAB_DATA_DIR"] = str(tmp_path_factory.mktemp("kernel-no-local-server"))
    env["IPYTHONDIR"] = str(tmp_path_factory.mktemp("ipython"))

    manager = KernelManager(
        kernel_name="runlab-test", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels_dir)])
    )
    manager.start_kernel(env=env)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(
    kernel: BlockingKernelClient,
    code: str,
    *,
    timeout: float = 30.0,
    allow_error: bool = False,
    **options: Any,
) -> Execution:
    """Run ``code`` and collect its output; unless ``allow_error``, it must succeed without a
    traceback anywhere in its output."""
    collected = Execution(reply={}, seconds=0.0)

    def on_output(message: dict[str, Any]) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            if content["name"] == "stdout":
                collected.stdout += content["text"]
            else:
                collected.stderr += content["text"]
        elif kind in ("execute_result", "display_data"):
            collected.stdout += content["data"].get("text/plain", "")
        elif kind == "error":
            collected.tracebacks.append("\n".join(content["traceback"]))

    started = time.monotonic()
    collected.reply = kernel.execute_interactive(code, output_hook=on_output, timeout=timeout, **options)
    collected.seconds = time.monotonic() - started
    if allow_error:
        return collected
    assert collected.reply["content"]["status"] == "ok", collected.tracebacks
    assert not collected.tracebacks
    assert "Traceback" not in collected.output
    return collected


def attach(
    kernel: BlockingKernelClient,
    url: str,
    token: str,
    project: str,
    notebook_path: str,
    frontend_id: str | None = None,
) -> dict[str, Any]:
    """Exactly what the extension sends: one user expression in a silent execution."""
    extra = f", frontend_id={frontend_id!r}" if frontend_id is not None else ""
    expression = (
        f"__import__('runlab')._kernel_attach(url={url!r}, token={token!r}, "
        f"project={project!r}, notebook_path={notebook_path!r}{extra})"
    )
    reply = execute(kernel, "", silent=True, store_history=False, user_expressions={"runlab": expression}).reply
    result = reply["content"]["user_expressions"]["runlab"]
    assert result["status"] == "ok", result
    return result["data"]


__all__ = [
    "PYTHON_DIR",
    "REPO",
    "RUNLAB_ENV",
    "Execution",
    "RunningServer",
    "attach",
    "execute",
    "runlab",
    "start_server",
    "stop_server",
]


# -- runners: a server with short leases, and real `runlab runner start` processes ----------------

# Short enough that losing a runner costs seconds in a test (the server's RUNLAB_RUNNER_* settings).
RUNNER_HEARTBEAT_MS = 500
RUNNER_LEASE_MS = 3000


@pytest.fixture(scope="module")
def runner_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server of its own for a module of runner tests, with a 0.5 s heartbeat and a 3 s lease."""
    data_dir = tmp_path_factory.mktemp("runner-server-data")
    process, server = start_server(
        data_dir,
        extra_env={
            "RUNLAB_RUNNER_HEARTBEAT_MS": str(RUNNER_HEARTBEAT_MS),
            "RUNLAB_RUNNER_LEASE_MS": str(RUNNER_LEASE_MS),
        },
    )
    try:
        yield server
    finally:
        stop_server(process)


@dataclass
class RunnerProcess:
    """One `runlab runner start` subprocess and what it printed."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    work_dir: Path
    # Every process it started (its kernels), recorded while it ran, for cleaning up after a kill -9.
    seen: set[int] = field(default_factory=set)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def remember_children(self) -> None:
        import psutil

        with contextlib.suppress(psutil.NoSuchProcess):
            self.seen.update(child.pid for child in psutil.Process(self.process.pid).children(recursive=True))

    def wait_for_output(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"runner {self.name} did not print {text!r} (exit {self.process.poll()}):\n{self.output()}")


class Runners:
    """Adds runners on the server and starts them as real processes; all are stopped at the end."""

    def __init__(self, server: RunningServer, tmp_path: Path) -> None:
        self.server = server
        self.tmp_path = tmp_path
        self.started: list[RunnerProcess] = []

    def add(self, name: str, labels: list[str] | None = None, max_jobs: int = 1) -> str:
        """Register a runner; its token."""
        with runlab.Client(self.server.url, self.server.token) as client:
            answer = client.add_runner({"name": name, "labels": labels or [], "maxJobs": max_jobs})
        return str(answer["token"])

    def start(
        self,
        name: str,
        labels: list[str] | None = None,
        *,
        max_jobs: int = 1,
        drain_grace: float = 2,
        online: bool = True,
    ) -> RunnerProcess:
        token = self.add(name, labels, max_jobs)
        work_dir = self.tmp_path / f"runner-{name}"
        log_path = self.tmp_path / f"runner-{name}.log"
        env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")]))
        env["RUNLAB_DATA_DIR"] = str(self.tmp_path / f"runner-{name}-data")
        env["PYTHONUNBUFFERED"] = "1"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "runlab",
                    "runner",
                    "start",
                    "--server",
                    self.server.url,
                    "--token",
                    token,
                    "--work-dir",
                    str(work_dir),
                    "--drain-grace",
                    str(drain_grace),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        runner = RunnerProcess(name, process, log_path, work_dir)
        self.started.append(runner)
        if online:
            runner.wait_for_output("waiting for jobs")
        return runner

    def stop_all(self) -> None:
        import psutil

        for runner in self.started:
            runner.remember_children()
            if runner.process.poll() is None:
                runner.process.send_signal(signal.SIGTERM)
                runner.process.send_signal(signal.SIGTERM)  # a second signal: stop at once
        for runner in self.started:
            try:
                runner.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                runner.process.kill()
                runner.process.wait()
            for pid in runner.seen:
                with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                    psutil.Process(pid).kill()


@pytest.fixture
def runners(runner_server: RunningServer, tmp_path: Path) -> Iterator[Runners]:
    pool = Runners(runner_server, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what} within {timeout:g} s (last: {last!r})")
