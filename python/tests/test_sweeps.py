"""Sweeps end to end: the real companion server (its proposer is ``python -m runlab.sweeps.propose``
with Optuna), real ``runlab runner start`` processes executing a real notebook in real kernels.

Exactly N trials reach a final state, at most ``parallel`` at once; a runner killed with SIGKILL
mid-trial costs an attempt, not a trial; a server restarted mid-sweep goes on; the median rule
stops a clearly bad trial and never the best; pause, resume and cancel; bad specs are refused
with what to change, from the API, ``runlab.sweep()`` and ``runlab sweep start``."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import PYTHON_DIR, RUNLAB_ENV, Runners, RunningServer, start_server, stop_server, wait_until
from nbformat.v4 import new_code_cell, new_notebook

import runlab

ENDED = ("finished", "failed", "cancelled")


def notebook(parameters: str, *sources: str) -> dict[str, Any]:
    cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]})]
    cells += [new_code_cell(source) for source in sources]
    return dict(nbformat.from_dict(new_notebook(cells=cells)))


# val_acc is best at lr = 1e-2 and with more estimators; each trial logs a short curve.
TRAIN = notebook(
    "lr = 0.1\ndepth = 3\nn = 10\nsleep = 0.0",
    "import math, time\nimport runlab\n"
    "for step in range(3):\n"
    "    time.sleep(sleep)\n"
    "    runlab.metric('val_acc', -(math.log10(lr) + 2) ** 2 + n / 400 - (2 - step) * 0.01, step=step)\n"
    "runlab.flush()",
)


def val_acc(params: dict[str, Any]) -> float:
    return -((math.log10(params["lr"]) + 2) ** 2) + params["n"] / 400


def client(server: RunningServer) -> runlab.Client:
    return runlab.Client(server.url, server.token)


def create(server: RunningServer, **body: Any) -> dict[str, Any]:
    request = {
        "project": f"sweeps-{uuid.uuid4().hex[:6]}",
        "notebookPath": "train.ipynb",
        "notebook": TRAIN,
        "params": {"lr": runlab.loguniform(1e-4, 1e-1), "n": runlab.intrange(10, 200, step=10)},
        "objective": "val_acc",
        **body,
    }
    with client(server) as api:
        return api.create_sweep(request)


def sweep_of(server: RunningServer, sweep_id: str) -> dict[str, Any]:
    with client(server) as api:
        return api.get_sweep(sweep_id)


def trials_of(server: RunningServer, sweep_id: str) -> list[dict[str, Any]]:
    with client(server) as api:
        return api.sweep_trials(sweep_id)


def wait_for_sweep(server: RunningServer, sweep_id: str, statuses: tuple[str, ...], timeout: float) -> dict[str, Any]:
    return wait_until(
        lambda: (lambda s: s if s["status"] in statuses else None)(sweep_of(server, sweep_id)),
        timeout,
        f"sweep {sweep_id} did not become {'/'.join(statuses)}",
    )


def overlaps(server: RunningServer, trials: list[dict[str, Any]]) -> int:
    """The most trials whose jobs ran at the same time."""
    with client(server) as api:
        spans = [(job["startedAt"], job["finishedAt"]) for job in (api.get_job(t["jobId"]) for t in trials)]
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1]))
    most = running = 0
    for _, change in edges:
        running += change
        most = max(most, running)
    return most


def test_a_random_sweep_runs_exactly_its_trials_at_most_parallel_at_once(
    runner_server: RunningServer, runners: Runners
) -> None:
    runners.start("sweep-a")
    runners.start("sweep-b")
    created = create(runner_server, method="random", trials=5, parallel=2, seed=42)
    assert created["status"] == "running" and created["spec"]["seed"] == 42
    assert created["counts"]["queued"] + created["counts"]["running"] == 2, "the first two trials are queued at once"
    ended = wait_for_sweep(runner_server, created["id"], ENDED, 240)
    assert ended["status"] == "finished", ended
    trials = trials_of(runner_server, created["id"])
    assert [t["number"] for t in trials] == [0, 1, 2, 3, 4]
    assert [t["status"] for t in trials] == ["finished"] * 5
    assert ended["done"] == 5 and ended["counts"]["finished"] == 5
    for trial in trials:
        assert trial["value"] == pytest.approx(val_acc(trial["params"])), "a trial's value is its run's latest val_acc"
        assert trial["step"] == 2
    assert ended["best"]["value"] == max(t["value"] for t in trials)
    assert overlaps(runner_server, trials) <= 2
    # Worked out by the proposer after each finished trial, so it may follow the sweep's end by a moment.
    importance = wait_until(lambda: sweep_of(runner_server, created["id"])["importance"], 30, "parameter importance")
    assert set(importance) == {"lr", "n"} and sum(importance.values()) == pytest.approx(1)
    # The parent run holds the ranges; each trial's run is its child, with the trial's parameters.
    with client(runner_server) as api:
        parent = api.get_run(ended["runId"])
        assert parent["status"] == "finished"
        assert parent["params"] == {"lr": "loguniform(0.0001, 0.1)", "n": "intrange(10, 200, step=10)"}
        child = api.get_run(trials[0]["runId"])
        assert child["tags"]["mlflow.parentRunId"] == parent["id"]
        assert child["tags"]["runlab.sweep.trial"] == "0"
        assert float(child["params"]["lr"]) == pytest.approx(trials[0]["params"]["lr"])
    # The same seed proposes the same parameters.
    again = create(runner_server, method="random", trials=5, parallel=2, seed=42)
    first_two = [t["params"] for t in trials_of(runner_server, again["id"])[:2]]
    assert first_two == [t["params"] for t in trials[:2]]
    with client(runner_server) as api:
        api.sweep_action(again["id"], "cancel")


def test_a_runner_killed_mid_trial_costs_an_attempt_not_a_trial(runner_server: RunningServer, runners: Runners) -> None:
    victim = runners.start("sweep-victim")
    created = create(runner_server, method="bayes", trials=3, parallel=1, fixed={"sleep": 1.5}, seed=3)
    first = wait_until(
        lambda: (lambda ts: ts[0] if ts and ts[0]["status"] == "running" else None)(
            trials_of(runner_server, created["id"])
        ),
        60,
        "the first trial did not start",
    )
    victim.remember_children()
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    runners.start("sweep-survivor")
    ended = wait_for_sweep(runner_server, created["id"], ENDED, 240)
    assert ended["status"] == "finished", ended
    trials = trials_of(runner_server, created["id"])
    assert len(trials) == 3, "no trial was added for the lost one"
    assert [t["status"] for t in trials] == ["finished"] * 3
    assert trials[0]["id"] == first["id"] and trials[0]["attempts"] == 2, (
        "the lost trial ran again as its job's attempt 2"
    )
    with client(runner_server) as api:
        job = api.get_job(trials[0]["jobId"])
    assert [a["status"] for a in job["attempts"]] == ["lost", "finished"]
    assert job["attempts"][1]["runnerName"] == "sweep-survivor"


def test_the_median_rule_stops_a_clearly_bad_trial_and_never_the_best(
    runner_server: RunningServer, runners: Runners
) -> None:
    runners.start("sweep-median")
    curve = notebook(
        "quality = 0.5",
        "import time\nimport runlab\n"
        "for step in range(8):\n"
        "    runlab.metric('score', quality * (step + 1) / 8, step=step)\n"
        "    runlab.flush()\n"
        "    time.sleep(0.5)",
    )
    created = create(
        runner_server,
        notebook=curve,
        params={"quality": runlab.choice([0.9, 0.8, 0.85, 0.1, 1.0])},
        objective="score",
        method="grid",
        earlyStop={"rule": "median", "minTrials": 3, "minSteps": 2},
    )
    assert created["spec"]["trials"] == 5, "a grid runs every combination"
    ended = wait_for_sweep(runner_server, created["id"], ENDED, 300)
    assert ended["status"] == "finished", ended
    trials = trials_of(runner_server, created["id"])
    assert [t["params"]["quality"] for t in trials] == [0.9, 0.8, 0.85, 0.1, 1.0]
    assert [t["status"] for t in trials] == ["finished", "finished", "finished", "stopped", "finished"]
    stopped = trials[3]
    assert 2 <= stopped["step"] < 7, "stopped at the first step the rule may act, long before the end"
    assert ended["best"]["number"] == 4 and ended["best"]["value"] == pytest.approx(1.0)
    assert ended["counts"]["stopped"] == 1 and ended["done"] == 5


def test_pause_resume_and_cancel(runner_server: RunningServer, runners: Runners) -> None:
    runners.start("sweep-pause")
    created = create(runner_server, method="random", trials=4, parallel=1, fixed={"sleep": 1.0}, seed=9)
    wait_until(
        lambda: trials_of(runner_server, created["id"])[0]["status"] == "running", 60, "the first trial did not start"
    )
    with client(runner_server) as api:
        paused = api.sweep_action(created["id"], "pause")
        assert paused["status"] == "paused"
        with pytest.raises(runlab.RunlabError, match="only a running sweep can be paused") as refused:
            api.sweep_action(created["id"], "pause")
        assert refused.value.status == 409
    wait_until(
        lambda: trials_of(runner_server, created["id"])[0]["status"] == "finished", 60, "the running trial finishes"
    )
    time.sleep(2)
    assert len(trials_of(runner_server, created["id"])) == 1, "a paused sweep proposes no trial"
    with client(runner_server) as api:
        assert api.sweep_action(created["id"], "resume")["status"] == "running"
    wait_until(
        lambda: (lambda ts: len(ts) == 2 and ts[1]["status"] == "running")(trials_of(runner_server, created["id"])),
        60,
        "the resumed sweep starts its next trial",
    )
    with client(runner_server) as api:
        cancelled = api.sweep_action(created["id"], "cancel")
    assert cancelled["status"] == "cancelled"
    wait_until(
        lambda: trials_of(runner_server, created["id"])[1]["status"] not in ("queued", "running"),
        60,
        "the running trial ends",
    )
    time.sleep(1)
    trials = trials_of(runner_server, created["id"])
    assert [t["status"] for t in trials] == ["finished", "cancelled"], [(t["status"], t["error"]) for t in trials]
    with client(runner_server) as api:
        assert api.get_run(cancelled["runId"])["status"] == "killed"
        with pytest.raises(runlab.RunlabError, match="cancelled already"):
            api.sweep_action(created["id"], "cancel")


def test_a_sweep_continues_after_the_server_restarts(tmp_path: Path, runners: Runners) -> None:
    data_dir = tmp_path / "restarting-server"
    # A lease longer than the restart takes: the running trial keeps its runner.
    env = {"RUNLAB_RUNNER_HEARTBEAT_MS": "500", "RUNLAB_RUNNER_LEASE_MS": "20000"}
    process, server = start_server(data_dir, extra_env=env)
    runners.server = server
    try:
        runners.start("sweep-restart")
        created = create(server, method="random", trials=3, parallel=1, fixed={"sleep": 1.0}, seed=5)
        wait_until(lambda: trials_of(server, created["id"])[0]["status"] == "running", 60, "the first trial started")
        port = int(server.url.rsplit(":", 1)[1])
        stop_server(process)
        process, server = start_server(data_dir, port=port, extra_env=env)
        ended = wait_for_sweep(server, created["id"], ENDED, 240)
        assert ended["status"] == "finished", ended
        trials = trials_of(server, created["id"])
        assert [t["status"] for t in trials] == ["finished"] * 3
        assert len({json.dumps(t["params"], sort_keys=True) for t in trials}) == 3
    finally:
        runners.stop_all()
        stop_server(process)


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (
            {"params": {"lr": runlab.uniform(0, 1), "epochs": runlab.choice([1])}},
            "body.params.epochs",
            "not a parameter",
        ),
        ({"params": {"n": runlab.uniform(10, 200)}}, "body.params.n", "uniform(10, 200)"),
        ({"params": {"lr": runlab.choice(["fast"])}}, "body.params.lr", "choice"),
        ({"fixed": {"lr": 0.1}}, "body.fixed.lr", "swept"),
        ({"method": "grid", "params": {"n": runlab.intrange(1, 20001)}}, "body.params", "more than 10000"),
        (
            {"method": "grid", "params": {"depth": runlab.choice([3, 5])}, "trials": 3},
            "body.trials",
            "at most 2 trials",
        ),
        ({"params": {"lr": {"type": "loguniform", "low": 0, "high": 1}}}, "body.params.lr.low", "above 0"),
        ({"params": {"lr": {"type": "uniform", "low": 1, "high": 1}}}, "body.params.lr.high", "above low"),
        ({"method": "hyperband"}, "body.method", ""),
    ],
)
def test_bad_specs_are_refused_with_what_to_change(
    runner_server: RunningServer, body: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(runlab.RunlabError) as refused:
        create(runner_server, **body)
    assert refused.value.status == 400
    problems = refused.value.details
    assert any(p["path"] == path and message in p["message"] for p in problems), problems


def test_runlab_sweep_and_the_cli_send_the_same_spec(runner_server: RunningServer, tmp_path: Path) -> None:
    (tmp_path / "train.ipynb").write_text(json.dumps(TRAIN))
    (tmp_path / "spec.yaml").write_text(
        "notebook: train.ipynb\nproject: sweep-cli\nparams:\n  lr: {type: loguniform, low: 0.0001, high: 0.1}\n"
        "  depth: [3, 5, 8]\nobjective: val_acc\nmethod: bayes\ntrials: 2\nparallel: 2\nseed: 1\n"
        "early_stop: median\nrunners: {labels: [nowhere]}\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env.update({"RUNLAB_URL": runner_server.url, "RUNLAB_TOKEN": runner_server.token, "PYTHONPATH": str(PYTHON_DIR)})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "runlab", "sweep", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    done = cli("start", str(tmp_path / "spec.yaml"))
    assert done.returncode == 0, done.stderr
    assert "started: 2 trials, bayes, seed 1" in done.stdout
    sweep_id = done.stdout.split()[1]
    started = sweep_of(runner_server, sweep_id)
    assert started["spec"]["earlyStop"] == {"rule": "median", "minTrials": 5, "minSteps": 5}
    assert started["spec"]["labels"] == ["nowhere"]
    assert started["spec"]["params"]["depth"] == {"type": "choice", "values": [3, 5, 8]}
    assert started["counts"]["queued"] == 2, "no runner has the label: the trials wait"

    shown = cli("show", sweep_id)
    assert "2 queued" in shown.stdout and "#0" in shown.stdout
    assert f"sweep {sweep_id}: cancelled" in cli("cancel", sweep_id).stdout

    # A bad spec file: exit 2 and what to change, nothing sent.
    (tmp_path / "bad.yaml").write_text("notebook: train.ipynb\nparams: {lr: 0.1}\nobjective: val_acc\n")
    bad = cli("start", str(tmp_path / "bad.yaml"))
    assert bad.returncode == 2 and "params.lr: give a range such as runlab.loguniform" in bad.stderr

    # runlab.sweep() in Python builds the same request.
    runlab.configure(url=runner_server.url, token=runner_server.token, project="sweep-cli")
    os.chdir(tmp_path)
    started_from_python = runlab.sweep(
        "train.ipynb",
        params={"lr": runlab.loguniform(1e-4, 1e-1), "depth": [3, 5, 8]},
        objective="val_acc",
        method="bayes",
        trials=2,
        parallel=2,
        seed=1,
        early_stop="median",
        runners={"labels": ["nowhere"]},
    )
    assert started_from_python.data["spec"] == {**started["spec"]}
    assert [t["params"] for t in started_from_python.trials()] == [
        t["params"] for t in trials_of(runner_server, sweep_id)
    ]
    assert "0/2 trials, bayes" in repr(started_from_python.cancel())
