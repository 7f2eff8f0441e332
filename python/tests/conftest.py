"""Shared fixtures: a real companion server process, and settings isolated from the machine's."""

from __future__ import annotations

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
    data_dir: Path, port: int = 0, *, max_file_bytes: int | None = None
) -> tuple[subprocess.Popen[bytes], RunningServer]:
    """Start `runlab-server serve` on ``port`` (0: any free one) with ``data_dir``; wait until it serves.
    ``max_file_bytes``: no file the server writes may grow past it (RLIMIT_FSIZE; writes fail with
    EFBIG, as on a full disk). Raise it again with ``resource.prlimit(process.pid, ...)``."""

    def limit_file_size() -> None:
        if max_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, resource.RLIM_INFINITY))

    _ensure_server_built()
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    server_json = data_dir / "server.json"
    server_json.unlink(missing_ok=True)  # a restart must not read the previous process's file
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env["RUNLAB_LOG_LEVEL"] = "warn"
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
