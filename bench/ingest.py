"""Metric ingest: 1,000,000 points (100 runs × 10 keys × 1,000 steps) through the Runlab Python
client into a Runlab server, and the same through the MLflow client into an MLflow tracking
server with a SQLite backend, both started here on 127.0.0.1. Prints points/s and the ratio.

Each client is used the way its documentation recommends for speed:

- Runlab: ``runlab.metric`` per point (queued, sent in the background in idempotent batches),
  then ``run.end()`` (queued behind the points; the next run starts at once), and one
  ``runlab.flush()`` at the end, which waits until the server has acknowledged every point;
- MLflow: ``MlflowClient.log_batch`` with 1,000 metrics per call (the documented maximum per
  request), then ``set_terminated``.

MLflow is measured on a fraction of the runs when all 100 would take more than about three
minutes; the rate is then extrapolated, and the output says so. Budget (the table in bench/README.md): ≥ 100,000
points/s, and ≥ 50× MLflow. A benchmark prints figures; it never asserts on time.

    .venv/bin/python bench/ingest.py [--runs 100] [--mlflow-runs N] [--skip-mlflow]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

import runlab  # noqa: E402

KEYS = 10
STEPS = 1_000
MLFLOW_BUDGET_S = 180.0
MLFLOW_BATCH = 1_000
# MLflow prints a "View run" link per run; the figures are what this script is for.
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


@dataclass(frozen=True)
class Server:
    url: str
    token: str | None


@contextmanager
def runlab_server(data_dir: Path) -> Iterator[Server]:
    """`node server/dist/cli.js serve --port 0` with a fresh data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    env["RUNLAB_LOG_LEVEL"] = "warn"
    with open(data_dir.parent / "runlab-server.log", "w") as log:
        process = subprocess.Popen(
            ["node", str(REPO / "server" / "dist" / "cli.js"), "serve", "--port", "0", "--data-dir", str(data_dir)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    info = json.loads((data_dir / "server.json").read_text())
                    token = (data_dir / "admin-token").read_text().strip()
                    break
                except (OSError, ValueError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"the Runlab server did not start; see {log.name}") from None
                    time.sleep(0.05)
            yield Server(info["url"].rstrip("/"), token)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


@contextmanager
def mlflow_server(data_dir: Path) -> Iterator[Server]:
    """`mlflow server` with a SQLite backend store, on a free port of 127.0.0.1."""
    mlflow = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow")
    if mlflow is None:
        raise SystemExit("mlflow is not installed: pip install mlflow (or pass --skip-mlflow)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with open(data_dir.parent / "mlflow-server.log", "w") as log:
        process = subprocess.Popen(
            [
                mlflow,
                "server",
                "--backend-store-uri",
                f"sqlite:///{data_dir / 'mlflow.db'}",
                "--default-artifact-root",
                str(data_dir / "artifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(url + "/health", timeout=1) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the MLflow server did not start; see {log.name}")
                time.sleep(0.2)
            yield Server(url, None)
        finally:
            # mlflow server runs uvicorn/gunicorn workers: stop the whole process group it leads.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def bench_runlab(server: Server, runs: int) -> tuple[int, float]:
    runlab.configure(url=server.url, token=server.token, project="bench-ingest")
    keys = [f"metric_{k}" for k in range(KEYS)]
    metric = runlab.metric
    started = time.perf_counter()
    last_run = None
    for index in range(runs):
        last_run = runlab.start(name=f"ingest-{index}")
        for step in range(STEPS):
            value = step * 0.001
            for key in keys:
                metric(key, value, step)
        last_run.end()  # queued behind the run's points; the next run starts at once
    if not runlab.flush(120):  # waits until the server acknowledged every point and every end
        print("  WARNING: not everything was delivered within 120 s")
    elapsed = time.perf_counter() - started
    # Check that the points really landed: the last run holds every point of every key.
    assert last_run is not None and last_run.id is not None
    with runlab.Client(server.url, server.token) as client:
        stored = client.get_run(last_run.id)["metrics"]
    counts = {key: stored[key]["count"] for key in keys}
    if set(counts.values()) != {STEPS}:
        print(f"  WARNING: the last run holds {counts} points per key, expected {STEPS}")
    return runs * KEYS * STEPS, elapsed


def bench_mlflow(server: Server, runs: int) -> tuple[int, float, int]:
    """Returns (points, seconds, runs measured); stops early when over budget."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=server.url)
    experiment = client.create_experiment(f"bench-ingest-{int(time.time())}")
    keys = [f"metric_{k}" for k in range(KEYS)]
    measured = 0
    started = time.perf_counter()
    for index in range(runs):
        run_id = client.create_run(experiment, run_name=f"ingest-{index}").info.run_id
        now = int(time.time() * 1000)
        batch: list[Metric] = []
        for step in range(STEPS):
            value = step * 0.001
            for key in keys:
                batch.append(Metric(key, value, now, step))
                if len(batch) == MLFLOW_BATCH:
                    client.log_batch(run_id, metrics=batch)
                    batch = []
        if batch:
            client.log_batch(run_id, metrics=batch)
        client.set_terminated(run_id)
        measured += 1
        elapsed = time.perf_counter() - started
        projected = elapsed / measured * runs
        if measured < runs and projected > MLFLOW_BUDGET_S and measured >= min(10, runs):
            break
    return measured * KEYS * STEPS, time.perf_counter() - started, measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="runlab-bench-ingest-"))
    total = args.runs * KEYS * STEPS
    print(f"ingest: {args.runs} runs × {KEYS} keys × {STEPS:,} steps = {total:,} points per tool")
    try:
        (work / "runlab").mkdir()
        with runlab_server(work / "runlab") as server:
            points, seconds = bench_runlab(server, args.runs)
        runlab_rate = points / seconds
        print(f"  runlab  {points:>9,} points in {seconds:7.2f} s = {runlab_rate:>10,.0f} points/s  (budget ≥ 100,000)")

        if args.skip_mlflow:
            return
        (work / "mlflow").mkdir()
        with mlflow_server(work / "mlflow") as server:
            points, seconds, measured = bench_mlflow(server, args.runs)
        mlflow_rate = points / seconds
        note = ""
        if measured < args.runs:
            note = (
                f"  [measured on {measured} of {args.runs} runs ({points:,} points); the full run would "
                f"take ~{total / mlflow_rate:,.0f} s, so the rate is extrapolated]"
            )
        print(f"  mlflow  {points:>9,} points in {seconds:7.2f} s = {mlflow_rate:>10,.0f} points/s{note}")
        print(f"  ratio   runlab / mlflow = {runlab_rate / mlflow_rate:,.1f}×  (budget ≥ 50×)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
