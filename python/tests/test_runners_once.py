"""`runlab runner start --once`, as a Kubernetes Job's pod runs it: one job, then exit with the
job's outcome (0 finished, 1 failed); exit 3 when no job came within --idle-timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from conftest import PYTHON_DIR, RUNLAB_ENV, Runners, RunningServer
from test_runners_agent import ENDED, job, notebook, submit, wait_for_status


def start_once(
    runners: Runners, name: str, label: str, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    """`runlab runner start ... --labels LABEL ARGS` as a subprocess; it and its log file."""
    token = runners.add(name, [label])
    log_path = runners.tmp_path / f"runner-{name}.log"
    environment = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    environment.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(PYTHON_DIR), os.environ.get("PYTHONPATH")])),
        RUNLAB_DATA_DIR=str(runners.tmp_path / f"runner-{name}-data"),
        PYTHONUNBUFFERED="1",
        **(env or {}),
    )
    command = [sys.executable, "-m", "runlab", "runner", "start", "--server", runners.server.url, "--token", token]
    command += ["--work-dir", str(runners.tmp_path / f"runner-{name}"), *args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    return process, log_path


def finish(process: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def test_once_runs_one_job_and_exits_0_when_it_finished(runner_server: RunningServer, runners: Runners) -> None:
    label = f"once-{uuid.uuid4().hex[:6]}"
    process, log_path = start_once(runners, label, label, "--once", "--idle-timeout", "60")
    first = submit(runner_server, notebook("print('the one job')"), labels=[label])
    second = submit(runner_server, notebook("print('not this one')"), labels=[label])
    code = finish(process, 90)
    output = log_path.read_text()
    assert code == 0, output
    # One of the two ran and had ended (and been reported) before the process exited; the other waits.
    statuses = sorted(job(runner_server, submitted["id"])["status"] for submitted in (first, second))
    assert statuses == ["finished", "queued"], output
    assert "one job ended (finished)" in output


def test_once_exits_1_when_its_job_failed_and_the_environment_means_once(
    runner_server: RunningServer, runners: Runners
) -> None:
    label = f"once-fail-{uuid.uuid4().hex[:6]}"
    process, log_path = start_once(runners, label, label, "--idle-timeout", "60", env={"RUNLAB_RUNNER_ONCE": "1"})
    submitted = submit(runner_server, notebook("raise ValueError('the job fails')"), labels=[label])
    code = finish(process, 90)
    assert code == 1, log_path.read_text()
    assert wait_for_status(runner_server, submitted["id"], ENDED, 5)["status"] == "failed"


def test_once_exits_3_when_no_job_comes_within_the_idle_timeout(runners: Runners) -> None:
    label = f"idle-{uuid.uuid4().hex[:6]}"
    process, log_path = start_once(runners, label, label, "--once", "--idle-timeout", "3")
    code = finish(process, 30)
    output = log_path.read_text()
    assert code == 3, output
    assert "no job was offered within 3 s" in output and "Traceback" not in output


def test_idle_timeout_without_once_is_a_usage_error(runners: Runners) -> None:
    label = f"usage-{uuid.uuid4().hex[:6]}"
    process, log_path = start_once(runners, label, label, "--idle-timeout", "3")
    assert finish(process, 30) == 2
    assert "--idle-timeout goes with --once" in log_path.read_text()
