"""Settings resolution and the connection check, in this process, against a real server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import RunningServer

import runlab


def test_environment_variables_configure_the_client(
    runlab_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNLAB_URL", runlab_server.url + "/")
    monkeypatch.setenv("RUNLAB_TOKEN", runlab_server.token)
    monkeypatch.setenv("RUNLAB_PROJECT", "iris")
    monkeypatch.setenv("RUNLAB_NOTEBOOK", "notebooks/train.ipynb")

    settings = runlab.settings()
    assert (settings.url, settings.token, settings.project, settings.notebook_path) == (
        runlab_server.url,
        runlab_server.token,
        "iris",
        "notebooks/train.ipynb",
    )
    assert set(settings.sources.values()) == {"environment"}

    status = runlab.status()
    assert status.state == "connected"
    assert status.server_version == runlab.__version__
    assert (status.project, status.notebook_path) == ("iris", "notebooks/train.ipynb")
    report = str(status)
    assert f"{runlab_server.url} — connected (server {runlab.__version__}, token " in report
    assert "project:   iris" in report
    assert "notebook:  notebooks/train.ipynb" in report


def test_zero_configuration_finds_the_local_server_through_its_data_dir(
    runlab_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNLAB_DATA_DIR", str(runlab_server.data_dir))

    settings = runlab.settings()
    assert settings.url == runlab_server.url
    assert settings.token == runlab_server.token
    assert settings.sources["url"] == settings.sources["token"] == "local"
    assert settings.project is None

    status = runlab.status()
    assert status.state == "connected"
    with runlab.Client(runlab_server.url, runlab_server.token) as client:
        assert status.token_name == client.whoami()["name"]
    assert "(not set: set RUNLAB_PROJECT)" in str(status)


def test_explicit_settings_win_over_environment_which_wins_over_local(
    runlab_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNLAB_DATA_DIR", str(runlab_server.data_dir))
    monkeypatch.setenv("RUNLAB_TOKEN", "rl_u_from-environment")
    monkeypatch.setenv("RUNLAB_PROJECT", "from-environment")

    settings = runlab.settings()
    assert settings.url == runlab_server.url  # nothing better than the local server
    assert settings.token == "rl_u_from-environment"
    assert settings.project == "from-environment"

    runlab.configure(token="rl_u_explicit", project="explicit", notebook_path="a.ipynb")
    settings = runlab.settings()
    assert (settings.token, settings.project, settings.notebook_path) == ("rl_u_explicit", "explicit", "a.ipynb")
    assert settings.sources == {"url": "local", "token": "explicit", "project": "explicit", "notebook_path": "explicit"}

    # configure() changes only what it is given.
    runlab.configure(project="second")
    assert (runlab.settings().token, runlab.settings().project) == ("rl_u_explicit", "second")


def test_the_local_admin_token_is_never_sent_to_another_server(
    runlab_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNLAB_DATA_DIR", str(runlab_server.data_dir))
    monkeypatch.setenv("RUNLAB_URL", "http://runlab.example.com:8765")
    assert runlab.settings().token is None

    # ...but is used for the same local server, however its host is spelled.
    monkeypatch.setenv("RUNLAB_URL", runlab_server.url.replace("127.0.0.1", "localhost"))
    assert runlab.settings().token == runlab_server.token


def test_a_broken_data_dir_means_not_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "server.json").write_text("{not json")
    monkeypatch.setenv("RUNLAB_DATA_DIR", str(tmp_path))
    status = runlab.status()
    assert status.state == "unreachable"
    assert status.url is None
    assert "npm start" in status.hint


def test_unreachable_server_is_reported_quickly_with_what_to_do(closed_port_url: str) -> None:
    runlab.configure(url=closed_port_url, token="rl_u_whatever", project="demo")
    started = time.monotonic()
    status = runlab.status()
    assert time.monotonic() - started < 3
    assert status.state == "unreachable"
    assert status.reason == "connection refused"
    report = str(status)
    assert f"{closed_port_url} — unreachable" in report
    assert "`npm start` or `npx runlab-server serve` (in a Runlab checkout), or set RUNLAB_URL" in report


def test_bad_or_missing_token_is_unauthorized(runlab_server: RunningServer) -> None:
    runlab.configure(url=runlab_server.url, token="rl_u_not-a-real-token")
    status = runlab.status()
    assert status.state == "unauthorized"
    assert "npx runlab-server token create --name" in status.hint and "RUNLAB_TOKEN" in status.hint

    runlab.config.reset()
    runlab.configure(url=runlab_server.url)  # no token anywhere
    status = runlab.status()
    assert (status.state, status.reason) == ("unauthorized", "no token")


@pytest.mark.parametrize(
    ("client_version", "advice"),
    [("0.0.1", "pip install -U runlab"), ("99.0.0", "Upgrade the Runlab server")],
)
def test_version_mismatch_says_which_side_to_upgrade(
    runlab_server: RunningServer, monkeypatch: pytest.MonkeyPatch, client_version: str, advice: str
) -> None:
    monkeypatch.setattr(runlab, "__version__", client_version)
    runlab.configure(url=runlab_server.url, token=runlab_server.token)
    status = runlab.status()
    assert status.state == "version mismatch"
    assert status.reason == f"client {client_version}, server {runlab_server.version}"
    assert advice in status.hint
    assert "— version mismatch" in str(status)


def test_status_is_plain_data(runlab_server: RunningServer) -> None:
    runlab.configure(url=runlab_server.url, token=runlab_server.token, project="p", notebook_path="n.ipynb")
    as_dict = runlab.status().to_dict()
    assert json.loads(json.dumps(as_dict))["state"] == "connected"
    assert as_dict["notebook_path"] == "n.ipynb"


def test_attach_outside_a_notebook_configures_without_magics(closed_port_url: str) -> None:
    started = time.monotonic()
    result = runlab._kernel_attach(url=closed_port_url, token="t", project="demo", notebook_path="x.ipynb")
    assert time.monotonic() - started < 1  # attaching never waits on the server
    assert result == {"version": runlab.__version__, "magics": False}
    assert runlab.settings().url == closed_port_url
