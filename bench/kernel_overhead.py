"""What one metric call costs the user's code: p50/p95/p99 of ``runlab.metric`` (ns), with the
background sender running against a live Runlab server, next to ``mlflow.log_metric`` (a
synchronous HTTP request per call, its documented default) against an MLflow server with a
SQLite backend. Budget (the table in bench/README.md): p50 ≤ 5 µs. Prints figures; never asserts on time.

    .venv/bin/python bench/kernel_overhead.py [--calls 200000] [--mlflow-calls 300] [--skip-mlflow]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from ingest import mlflow_server, runlab_server  # the servers, started as for the ingest benchmark

import runlab


def percentiles(samples: list[int]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}


def timer_overhead(calls: int) -> float:
    """The cost of the two perf_counter_ns reads around each measured call, to subtract mentally."""
    clock = time.perf_counter_ns
    samples = []
    for _ in range(calls):
        tick = clock()
        samples.append(clock() - tick)
    return percentiles(samples)["p50"]


def bench_runlab(url: str, token: str | None, calls: int) -> dict[str, float]:
    runlab.configure(url=url, token=token, project="bench-overhead")
    run = runlab.start(name="overhead")
    metric, clock = runlab.metric, time.perf_counter_ns
    for step in range(10_000):  # warm up: caches, the sender's first batches
        metric("warmup", 0.5, step)
    samples = []
    for step in range(calls):
        tick = clock()
        metric("loss", 0.5, step)
        samples.append(clock() - tick)
    # end() no longer waits; deliver everything before the benchmark stops this server.
    run.end(wait=True)
    return percentiles(samples)


def bench_mlflow(url: str, calls: int) -> dict[str, float]:
    import mlflow

    mlflow.set_tracking_uri(url)
    mlflow.set_experiment(f"bench-overhead-{int(time.time())}")
    clock = time.perf_counter_ns
    samples = []
    with mlflow.start_run():
        for step in range(10):
            mlflow.log_metric("warmup", 0.5, step=step)
        for step in range(calls):
            tick = clock()
            mlflow.log_metric("loss", 0.5, step=step)
            samples.append(clock() - tick)
    return percentiles(samples)


def show(label: str, figures: dict[str, float]) -> None:
    print(
        f"  {label:<34} p50 {figures['p50']:>12,.0f} ns   p95 {figures['p95']:>12,.0f} ns   p99 {figures['p99']:>12,.0f} ns"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--mlflow-calls", type=int, default=300)
    parser.add_argument("--skip-mlflow", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="runlab-bench-overhead-"))
    try:
        print(f"metric call cost (timer overhead p50 ≈ {timer_overhead(100_000):,.0f} ns, included below)")
        (work / "runlab").mkdir()
        with runlab_server(work / "runlab") as server:
            figures = bench_runlab(server.url, server.token, args.calls)
        show(f"runlab.metric ({args.calls:,} calls)", figures)
        print(f"  budget: p50 ≤ 5,000 ns — {'met' if figures['p50'] <= 5_000 else 'NOT met'}")
        if not args.skip_mlflow:
            (work / "mlflow").mkdir()
            with mlflow_server(work / "mlflow") as server:
                mlflow_figures = bench_mlflow(server.url, args.mlflow_calls)
            show(f"mlflow.log_metric ({args.mlflow_calls:,} calls, optional)", mlflow_figures)
            print(f"  ratio of p50: mlflow / runlab = {mlflow_figures['p50'] / figures['p50']:,.0f}×")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
