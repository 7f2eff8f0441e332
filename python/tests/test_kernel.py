"""Kernel integration in a real ipykernel: what the JupyterLab extension does at kernel start."""

from __future__ import annotations

import time

from conftest import RunningServer, attach, execute
from jupyter_client.blocking import BlockingKernelClient

import runlab


def test_attach_returns_version_and_registers_the_magic(
    kernel: BlockingKernelClient, runlab_server: RunningServer
) -> None:
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


def test_import_runlab_needs_no_configuration_after_attach(
    kernel: BlockingKernelClient, runlab_server: RunningServer
) -> None:
    attach(kernel, runlab_server.url, runlab_server.token, "demo", "demo.ipynb")
    output = execute(kernel, "import runlab\nprint(runlab.status().state, runlab.settings().project)").stdout
    assert output.strip() == "connected demo"


def test_reattach_after_restart_or_rename_is_idempotent(
    kernel: BlockingKernelClient, runlab_server: RunningServer
) -> None:
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
    assert (
        "Start it with `npm start` or `npx runlab-server serve` (in a Runlab checkout), or set RUNLAB_URL"
        in status.stdout
    )
    assert "  project:   demo" in status.stdout


def test_bad_token_is_unauthorized_with_how_to_fix(kernel: BlockingKernelClient, runlab_server: RunningServer) -> None:
    attach(kernel, runlab_server.url, "rl_u_not-a-real-token", "demo", "demo.ipynb")
    output = execute(kernel, "%runlab status").stdout
    assert f"{runlab_server.url} — unauthorized" in output
    assert "npx runlab-server token create --name" in output
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
