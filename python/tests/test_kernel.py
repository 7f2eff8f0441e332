"""Kernel integration in a real ipykernel: what the JupyterLab extension does at kernel start."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import PYTHON_DIR, RUNLAB_ENV, RunningServer
from jupyter_client import KernelManager
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager

import runlab


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


def execute(kernel: BlockingKernelClient, code: str, **options: Any) -> Execution:
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
    collected.reply = kernel.execute_interactive(code, output_hook=on_output, timeout=30, **options)
    collected.seconds = time.monotonic() - started
    assert collected.reply["content"]["status"] == "ok", collected.tracebacks
    assert not collected.tracebacks
    assert "Traceback" not in collected.output
    return collected


def attach(kernel: BlockingKernelClient, url: str, token: str, project: str, notebook_path: str) -> dict[str, Any]:
    """Exactly what the extension sends: one user expression in a silent execution."""
    expression = (
        f"__import__('runlab')._kernel_attach(url={url!r}, token={token!r}, "
        f"project={project!r}, notebook_path={notebook_path!r})"
    )
    reply = execute(kernel, "", silent=True, store_history=False, user_expressions={"runlab": expression}).reply
    result = reply["content"]["user_expressions"]["runlab"]
    assert result["status"] == "ok", result
    return result["data"]


def test_attach_returns_version_and_registers_the_magic(kernel: BlockingKernelClient, runlab_server: RunningServer) -> None:
    data = attach(kernel, runlab_server.url, runlab_server.token, "demo", "demo.ipynb")
    assert data["application/json"] == {"version": runlab.__version__, "magics": True}
    assert data["text/plain"] == f"{{'version': '{runlab.__version__}', 'magics': True}}"

    output = execute(kernel, "%runlab status").stdout
    with runlab.Client(runlab_server.url, runlab_server.token) as client:
        token_name = client.whoami()["name"]
    assert output.splitlines() == [
        f"Runlab {runlab.__version__}",
        f"  server:    {runlab_server.url} — connected (server {runlab_server.version}, token {token_name})",
        "  project:   demo",
        "  notebook:  demo.ipynb",
    ]


def test_import_runlab_needs_no_configuration_after_attach(kernel: BlockingKernelClient, runlab_server: RunningServer) -> None:
    attach(kernel, runlab_server.url, runlab_server.token, "demo", "demo.ipynb")
    output = execute(kernel, "import runlab\nprint(runlab.status().state, runlab.settings().project)").stdout
    assert output.strip() == "connected demo"


def test_reattach_after_restart_or_rename_is_idempotent(kernel: BlockingKernelClient, runlab_server: RunningServer) -> None:
    first = attach(kernel, runlab_server.url, runlab_server.token, "demo", "demo.ipynb")
    second = attach(kernel, runlab_server.url, runlab_server.token, "demo", "renamed/demo.ipynb")
    assert first == second

    output = execute(kernel, "%runlab status").stdout
    assert output.count(f"Runlab {runlab.__version__}") == 1
    assert "connected" in output
    assert "  notebook:  renamed/demo.ipynb" in output


def test_unreachable_server_is_reported_quickly_without_traceback(
    kernel: BlockingKernelClient, closed_port_url: str
) -> None:
    started = time.monotonic()
    data = attach(kernel, closed_port_url, "rl_u_whatever", "demo", "demo.ipynb")
    assert data["application/json"]["magics"] is True

    status = execute(kernel, "%runlab status")
    assert time.monotonic() - started < 3
    assert f"  server:    {closed_port_url} — unreachable: connection refused" in status.stdout
    assert "Start it with `npm start` or `runlab serve`, or set RUNLAB_URL" in status.stdout
    assert "  project:   demo" in status.stdout


def test_bad_token_is_unauthorized_with_how_to_fix(kernel: BlockingKernelClient, runlab_server: RunningServer) -> None:
    attach(kernel, runlab_server.url, "rl_u_not-a-real-token", "demo", "demo.ipynb")
    output = execute(kernel, "%runlab status").stdout
    assert f"{runlab_server.url} — unauthorized" in output
    assert "runlab token create --name" in output
    assert "RUNLAB_TOKEN" in output


def test_bad_arguments_print_usage_not_a_traceback(kernel: BlockingKernelClient, runlab_server: RunningServer) -> None:
    attach(kernel, runlab_server.url, runlab_server.token, "demo", "demo.ipynb")

    bogus = execute(kernel, "%runlab --bogus")
    assert "usage: %runlab" in bogus.output
    assert "unrecognized arguments: --bogus" in bogus.output

    unknown = execute(kernel, "%runlab frobnicate")
    assert "usage: %runlab" in unknown.output
    assert "invalid choice: 'frobnicate'" in unknown.output

    unbalanced = execute(kernel, "%runlab configure --project 'oops")
    assert "usage: %runlab" in unbalanced.output

    help_text = execute(kernel, "%runlab --help").stdout
    assert help_text.startswith("usage: %runlab")
    assert "status" in help_text and "configure" in help_text

    assert execute(kernel, "%runlab").stdout == help_text


def test_configure_magic_changes_settings_and_shows_status(
    kernel: BlockingKernelClient, runlab_server: RunningServer
) -> None:
    attach(kernel, runlab_server.url, "rl_u_not-a-real-token", "demo", "demo.ipynb")
    output = execute(kernel, f"%runlab configure --token {runlab_server.token} --project iris").stdout
    assert "connected" in output
    assert "  project:   iris" in output
    assert "  notebook:  demo.ipynb" in output


def test_load_ext_registers_the_magic(kernel: BlockingKernelClient, runlab_server: RunningServer) -> None:
    attach(kernel, runlab_server.url, runlab_server.token, "demo", "demo.ipynb")
    execute(kernel, "get_ipython().magics_manager.magics['line'].pop('runlab')")
    missing = kernel.execute_interactive("%runlab status", timeout=30)
    assert missing["content"]["status"] == "error"  # really gone

    execute(kernel, "%load_ext runlab")
    assert "connected" in execute(kernel, "%runlab status").stdout
