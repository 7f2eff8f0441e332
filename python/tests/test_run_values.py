"""Values that once lost data through the Python client, against a real server: steps past 2^53,
batches wider than one request, NaN and ±Infinity, long non-ASCII tracebacks, requests the server refuses, runs filed in another
project, flush() timing out — and a client process killed with kill -9 in the middle of a run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

from conftest import RunningServer, script_env

import runlab
from runlab.runs import batcher as batcher_module


def client(server: RunningServer) -> runlab.Client:
    return runlab.Client(server.url, server.token)


def runlab_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, runlab.RunlabWarning)]


def test_a_step_past_2_53_is_refused_once_and_later_runs_keep_every_point(
    runlab_server: RunningServer, project: str
) -> None:
    """The reproduction: a step of time.time_ns() used to be stored, then every read of the run
    answered 500 and the client retried its end forever, so a later run lost all 1,000 points."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = runlab.start(name="ns-step")
        runlab.metric("x", 1.0, step=time.time_ns())
        runlab.metric("x", 2.0, step=7)
        runlab.end()
        second = runlab.start(name="after")
        for step in range(1000):
            runlab.metric("y", step * 0.25, step=step)
        runlab.end()
        assert runlab.flush(30) is True
    warned = runlab_warnings(caught)
    assert len([m for m in warned if "step" in m]) == 1, warned
    assert "2^53 - 1" in next(m for m in warned if "step" in m)
    with client(runlab_server) as api:
        stored_first = api.get_run(str(first.id))
        stored_second = api.get_run(str(second.id))
        points = api.metric_history(str(second.id), "y", max_points=100_000)["points"]
        listing = api.list_runs(project=project)
    assert stored_first["status"] == "finished"
    assert stored_first["metrics"]["x"]["count"] == 1 and stored_first["metrics"]["x"]["step"] == 7
    assert stored_second["status"] == "finished"
    assert [(p["step"], p["value"]) for p in points] == [(step, step * 0.25) for step in range(1000)]
    assert listing["total"] == 2


def test_more_distinct_keys_and_inputs_than_one_request_carries_are_all_stored(
    runlab_server: RunningServer, project: str
) -> None:
    """One burst with more distinct metric keys and inputs than the contract allows per request:
    the whole batch used to be refused, and every point in it dropped."""
    keys = [f"layer{i}/grad_norm" for i in range(batcher_module.MAX_BATCH_KEYS + 50)]
    inputs = [f"shard-{i}@v1" for i in range(batcher_module.MAX_BATCH_IO + 100)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = runlab.start(name="wide")
        for key in keys:
            run.metric(key, 1.5, step=3)
        for ref in inputs:
            run.input(ref)
        run.end()
        assert runlab.flush(60) is True
    assert runlab_warnings(caught) == []
    with client(runlab_server) as api:
        stored = api.get_run(str(run.id))
    assert set(stored["metrics"]) == set(keys)
    assert all(summary["latest"] == 1.5 and summary["step"] == 3 for summary in stored["metrics"].values())
    assert sorted(entry["name"] for entry in stored["inputs"]) == sorted(inputs)


def test_nan_and_infinity_are_stored_and_read_back(runlab_server: RunningServer, project: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with runlab.start(name="nonfinite") as run:
            for step, value in enumerate([0.5, float("nan"), float("inf"), -1.5, float("-inf")]):
                runlab.metric("loss", value, step=step)
        assert runlab.flush(30) is True
    assert runlab_warnings(caught) == []
    with client(runlab_server) as api:
        points = api.metric_history(str(run.id), "loss")["points"]
        summary = api.get_run(str(run.id))["metrics"]["loss"]
    assert [p["value"] for p in points] == [0.5, "NaN", "Infinity", -1.5, "-Infinity"]
    assert summary["latest"] == "-Infinity" and summary["min"] == -1.5 and summary["max"] == 0.5
    assert summary["count"] == 5


def test_start_with_project_files_the_run_in_that_project(runlab_server: RunningServer, project: str) -> None:
    other = f"other-{uuid.uuid4().hex[:6]}"
    with runlab.start(name="elsewhere", project=other) as run:
        runlab.metric("m", 1.0)
    assert runlab.flush(30) is True
    with client(runlab_server) as api:
        assert api.get_run(str(run.id))["projectName"] == other
        assert api.list_runs(project=project)["total"] == 0


def test_a_long_non_ascii_traceback_fails_the_run_with_its_traceback(
    runlab_server: RunningServer, project: str
) -> None:
    """Over 200,000 characters outside the BMP (the contract's limit counts characters): 2.4 MB of
    JSON. The run used to stay "running" forever after a 413."""
    traceback_text = "Traceback (most recent call last):\n" + "😀" * 200_000 + "\nValueError: 💥 at the end"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = runlab.start(name="long-traceback")
        run.end("failed", traceback_text=traceback_text)
        assert runlab.flush(30) is True
    assert runlab_warnings(caught) == []
    with client(runlab_server) as api:
        stored = api.get_run(str(run.id))
    assert stored["status"] == "failed"
    assert stored["error"]["message"] == "ValueError: 💥 at the end"
    kept = stored["error"]["traceback"]
    # The end of a traceback is what explains it: that is what is kept, whole characters only.
    assert kept.endswith("\nValueError: 💥 at the end")
    assert len(kept) == 200_000 and "\ufffd" not in kept  # the contract counts characters
    assert traceback_text.endswith(kept)


def test_a_run_the_server_refuses_is_dropped_with_one_warning_and_holds_nothing_up(
    runlab_server: RunningServer, project: str
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        refused = runlab.start(name="bad project", project="not a valid project name!")
        for step in range(100):
            runlab.metric("x", 1.0, step=step)
        runlab.param("bad key\n", 1)  # refused by the key pattern: must not take the batch with it
        runlab.end()
        kept = runlab.start(name="kept")
        runlab.param("bad key\n", 1)
        runlab.param("lr", 0.1)
        for step in range(500):
            runlab.metric("x", float(step), step=step)
        runlab.end()
        started = time.monotonic()
        assert runlab.flush(30) is True
        assert time.monotonic() - started < 10  # nothing is retried
    warned = runlab_warnings(caught)
    assert len([m for m in warned if "refused to start the run" in m or "refused to create the run" in m]) == 1, warned
    assert len([m for m in warned if "param key 'bad key\\n'" in m]) == 1, warned
    assert refused.id is None
    with client(runlab_server) as api:
        stored = api.get_run(str(kept.id))
    assert stored["params"] == {"lr": "0.1"}
    assert stored["metrics"]["x"]["count"] == 500


def test_flush_says_what_is_pending_when_its_wait_runs_out(closed_port_url: str) -> None:
    runlab.configure(url=closed_port_url, token="rl_u_whatever", project="offline")
    sender = batcher_module.batcher()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = runlab.start(name="pending")
        for step in range(50):
            run.metric("x", 1.0, step=step)
        assert runlab.flush(0.5) is False
        run.abandon()
        deadline = time.monotonic() + 5
        while sender.pending() > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    pending = [m for m in runlab_warnings(caught) if "still on their way" in m]
    assert len(pending) == 1, runlab_warnings(caught)
    assert "values are still on their way to the server after 0.5 s" in pending[0]
    assert "Cannot connect" in pending[0] or "connect" in pending[0].lower()
    assert "runlab.flush() again" in pending[0]


_CRASHING_TRAINER = """
import sys, time, runlab
total, resume = int(sys.argv[1]), (sys.argv[2] if len(sys.argv) > 2 else None)
if resume:
    # What a user does after a crash: continue the run from the last step the server has.
    run = runlab.start(resume=resume)
    history = runlab.Client(runlab.config.resolve().url, runlab.config.resolve().token).get_run(resume)
    first = history["metrics"]["x"]["step"] + 1 if "x" in history["metrics"] else 0
else:
    run = runlab.start(name="crash", params={"lr": 0.1})
    first = 0
for step in range(first, total):
    runlab.metric("x", step * 0.5, step=step)
    if step % 500 == 499:
        assert runlab.flush(30)
        print("acked", run.id, step, flush=True)
        time.sleep(0.05)
runlab.end()
assert runlab.flush(30)
print("done", run.id, flush=True)
"""


def test_a_client_killed_mid_run_then_resumed_stores_every_point_exactly_once(
    runlab_server: RunningServer, tmp_path: Path
) -> None:
    """FAULT: kill -9 the Python process logging a run (points in flight, nothing flushed at
    exit); a new process resumes the run from the server's last step. Every point the server
    acknowledged is kept, none is stored twice, and the run ends finished."""
    script = tmp_path / "trainer.py"
    script.write_text(_CRASHING_TRAINER)
    env = script_env(runlab_server, tmp_path, f"crash-{uuid.uuid4().hex[:6]}")
    total = 10_000
    trainer = subprocess.Popen(
        [sys.executable, str(script), str(total)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    acked: list[int] = []
    run_id = ""
    try:
        assert trainer.stdout is not None
        for line in trainer.stdout:
            _, run_id, step = line.split()
            acked.append(int(step))
            if int(step) >= 2_999:
                trainer.send_signal(signal.SIGKILL)  # mid-run, with the next points queued
                break
        trainer.wait(timeout=30)
    finally:
        if trainer.poll() is None:
            trainer.kill()
            trainer.wait()
        for stream in (trainer.stdout, trainer.stderr):
            if stream is not None:
                stream.close()
    assert trainer.returncode == -signal.SIGKILL
    with client(runlab_server) as api:
        killed = api.get_run(run_id)
        before = api.metric_history(run_id, "x", max_points=100_000)["points"]
    # Everything acknowledged is there, once, in order; the run is still marked running.
    assert killed["status"] == "running"
    steps = [p["step"] for p in before]
    assert steps == list(range(len(steps))) and len(steps) >= acked[-1] + 1

    resumed = subprocess.run(
        [sys.executable, str(script), str(total), run_id], env=env, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "Warning" not in resumed.stderr, resumed.stderr
    assert resumed.stdout.strip().endswith(f"done {run_id}")
    with client(runlab_server) as api:
        final = api.get_run(run_id)
        after = api.metric_history(run_id, "x", max_points=100_000)
    assert final["status"] == "finished" and final["params"] == {"lr": "0.1"}
    assert after["total"] == total and not after["downsampled"]
    assert [(p["step"], p["value"]) for p in after["points"]] == [(step, step * 0.5) for step in range(total)]
    assert final["metrics"]["x"]["count"] == total
