"""`runlab` on the command line: the dispatcher, and the server's commands asked for here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import PYTHON_DIR, RUNLAB_ENV

from runlab import cli


@pytest.mark.parametrize("command", ["serve", "token", "gc", "fsck"])
def test_the_servers_admin_commands_say_where_they_are(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([command, "--some-option", "value"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"`runlab {command}` is the companion server's admin command" in err
    assert f"run `npx runlab-server {command} …` (in a Runlab checkout)" in err


def test_a_server_command_after_connection_options_is_recognised(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--url", "http://127.0.0.1:1", "--project", "p", "token", "create"]) == 2
    assert "npx runlab-server token" in capsys.readouterr().err


def test_python_m_runlab_answers_the_same() -> None:
    env = {key: value for key, value in os.environ.items() if key not in RUNLAB_ENV}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    done = subprocess.run(
        [sys.executable, "-m", "runlab", "token", "create", "--name", "ci"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "npx runlab-server token" in done.stderr and "Traceback" not in done.stderr


def test_help_lists_the_verbs_and_names_the_servers_program(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "data" in out and "versioned datasets" in out
    assert "runlab-server" in out


def test_a_verb_without_its_subcommand_shows_its_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["data"]) == 2
    err = capsys.readouterr().err
    assert "usage: runlab data" in err and "add" in err and "rm" in err
