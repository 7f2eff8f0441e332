"""Shared fixtures: a real companion server process, and settings isolated from the machine's."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
    build = subprocess.run(
        ["npm", "run", "build", "-w", "server"], cwd=REPO, capture_output=True, text=True
    )
    if build.returncode != 0 or not SERVER_CLI.exists():
        pytest.fail(f"`npm run build -w server` failed:\n{build.stdout}\n{build.stderr}")


@pytest.fixture(scope="session")
def runlab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`runlab serve` on an ephemeral port with a fresh data directory."""
    _ensure_server_built()
    data_dir = tmp_path_factory.mktemp("server-data")
    log_path = data_dir.parent / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env["RUNLAB_LOG_LEVEL"] = "warn"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["node", str(SERVER_CLI), "serve", "--port", "0", "--data-dir", str(data_dir)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        info = _wait_for_server_json(process, data_dir / "server.json", log_path)
        token = (data_dir / "admin-token").read_text().strip()
        yield RunningServer(url=info["url"].rstrip("/"), token=token, data_dir=data_dir, version=info["version"])
    finally:
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


__all__ = ["PYTHON_DIR", "REPO", "RUNLAB_ENV", "RunningServer", "runlab"]
