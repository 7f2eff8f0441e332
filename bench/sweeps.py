"""Sweeps: search quality, scheduling overhead and parallel speed-up. Prints figures; never asserts.

1. search: Bayesian (TPE) vs random search with Runlab's own proposer (runlab.sweeps.propose, the
   code the companion server runs; called in this process here, one proposal per trial, the
   history replayed each time as the server does) on a seeded scikit-learn problem with a known
   optimum region — an RBF SVC on a seeded make_moons set, C and gamma log-uniform over six decades
   each (good accuracy only for gamma ≈ 0.3 to 10 with C ≳ 1). Best cross-validated accuracy after 10,
   20 and 40 trials, median over 5 seeds; next to it, Optuna's own study.optimize with the same
   sampler (what a user would write by hand), to show the replayed history costs no quality.
2. overhead: a 40-trial random sweep of a one-cell notebook on 4 local runners (real `runlab runner
   start` processes, max 1 job each): per trial, the job's enqueue → its attempt running (server
   timestamps), and the trial before it ending → the next one queued (the proposer's round trip).
3. speed-up: wall time of that 40-trial sweep (parallel 4) vs the same sweep with parallel 1 on one
   runner (the trials one after another).

    .venv/bin/python bench/sweeps.py [--trials 40] [--seeds 5] [--only search,overhead]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from runners import REPO, Server, epoch, notebook, pct, runner_pool, server  # bench/runners.py

from runlab.sweeps.propose import propose

PARTS = ("search", "overhead")


# -- 1. search quality --------------------------------------------------------------------------


def problem() -> Any:
    from sklearn.datasets import make_moons
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    features, labels = make_moons(n_samples=400, noise=0.3, random_state=0)

    def accuracy(params: dict[str, Any]) -> float:
        model = SVC(C=params["C"], gamma=params["gamma"])
        return float(cross_val_score(model, features, labels, cv=3).mean())

    return accuracy


RANGES = {
    "C": {"type": "loguniform", "low": 1e-3, "high": 1e3},
    "gamma": {"type": "loguniform", "low": 1e-4, "high": 1e2},
}
CHECKPOINTS = (10, 20, 40)


def runlab_search(method: str, seed: int, trials: int, accuracy: Any) -> list[float]:
    history: list[dict[str, Any]] = []
    for number in range(trials):
        request = {
            "method": method,
            "goal": "maximize",
            "seed": seed,
            "trials": trials,
            "params": RANGES,
            "history": history,
            "number": number,
            "count": 1,
        }
        (params,) = propose(request)
        history.append({"params": params, "state": "finished", "value": accuracy(params)})
    return [trial["value"] for trial in history]


def optuna_search(method: str, seed: int, trials: int, accuracy: Any) -> list[float]:
    import optuna

    from runlab.sweeps.propose import startup_trials

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (
        optuna.samplers.RandomSampler(seed=seed)
        if method == "random"
        else optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(trials))
    )
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(
        lambda trial: accuracy(
            {
                "C": trial.suggest_float("C", 1e-3, 1e3, log=True),
                "gamma": trial.suggest_float("gamma", 1e-4, 1e2, log=True),
            }
        ),
        n_trials=trials,
    )
    return [float(trial.value) for trial in study.trials]


def best_after(values: list[float], count: int) -> float:
    return max(values[:count])


def bench_search(trials: int, seeds: int) -> None:
    accuracy = problem()
    optimum = max(accuracy({"C": c, "gamma": g}) for c in (1, 3, 10, 30, 100) for g in (0.3, 1, 3, 10))
    print(f"\n1. search: RBF SVC on make_moons (400 rows, 3-fold CV accuracy), C, gamma log-uniform; {seeds} seeds")
    print(f"   best of a 5×5 grid inside the known optimum region: {optimum:.4f}")
    checkpoints = [count for count in CHECKPOINTS if count <= trials]
    header = "".join(f"  after {count:>2}" for count in checkpoints)
    print(f"   {'median best accuracy':<40}{header}   time/trial")
    for label, search in (("Runlab", runlab_search), ("Optuna study.optimize", optuna_search)):
        for method in ("random", "bayes"):
            started = time.perf_counter()
            runs = [search(method, seed, trials, accuracy) for seed in range(seeds)]
            per_trial = (time.perf_counter() - started) / (seeds * trials)
            cells = "".join(
                f"  {statistics.median(best_after(values, count) for values in runs):8.4f}" for count in checkpoints
            )
            name = {"random": "random", "bayes": "Bayesian (TPE)"}[method]
            print(f"   {f'{label}, {name}':<40}{cells}   {per_trial * 1000:7.0f} ms")
    print("   (time/trial includes the SVC's cross-validation, ~the same in every row)")


# -- 2 and 3. scheduling overhead and speed-up ------------------------------------------------------

TRIAL = notebook("x = 0.5\nimport runlab\nrunlab.metric('score', -(x - 0.3) ** 2)\nrunlab.flush()")
TRIAL["cells"][0]["metadata"]["tags"] = ["parameters"]


def run_sweep(srv: Server, trials: int, parallel: int, labels: list[str]) -> tuple[dict[str, Any], list[dict], float]:
    with srv.client() as api:
        started = time.perf_counter()
        sweep = api.create_sweep(
            {
                "project": f"bench-sweeps-{uuid.uuid4().hex[:6]}",
                "notebookPath": "trial.ipynb",
                "notebook": TRIAL,
                "params": {"x": {"type": "uniform", "low": 0, "high": 1}},
                "objective": "score",
                "method": "random",
                "trials": trials,
                "parallel": parallel,
                "labels": labels,
                "seed": 1,
            }
        )
        while sweep["status"] in ("running", "paused"):
            time.sleep(0.1)
            sweep = api.get_sweep(sweep["id"])
        wall = time.perf_counter() - started
        jobs = [api.get_job(trial["jobId"]) for trial in api.sweep_trials(sweep["id"])]
    return sweep, jobs, wall


def bench_overhead(work: Path, trials: int) -> None:
    cores = os.cpu_count() or 1
    print(f"\n2. overhead and 3. speed-up: {trials}-trial random sweeps of a one-cell notebook ({cores} cores)")
    with server(work, "sweeps", {"RUNLAB_SWEEP_PYTHON": sys.executable}) as srv, runner_pool(srv, work) as pool:
        for index in range(4):
            pool.start(f"four-{index}", ["four"])
        pool.start("one", ["one"])
        pool.wait_online()
        parallel_sweep, jobs, parallel_wall = run_sweep(srv, trials, 4, ["four"])
        enqueue_to_running = [epoch(job["attempts"][0]["startedAt"]) - epoch(job["createdAt"]) for job in jobs]
        ends = sorted(epoch(job["finishedAt"]) for job in jobs)
        created = sorted(epoch(job["createdAt"]) for job in jobs)
        # Each trial after the first four is queued after a trial before it ends: from the latest end
        # before it to its job's creation is the proposer's round trip (and the job's submission).
        refill = [start - max(end for end in ends if end <= start) for start in created[4:] if ends[0] <= start]
        durations = [epoch(job["finishedAt"]) - epoch(job["attempts"][0]["startedAt"]) for job in jobs]
        print(f"   status {parallel_sweep['status']}, {parallel_sweep['done']} final trials of {trials}")
        print(
            f"   enqueue → running (4 runners):  p50 {pct(enqueue_to_running, 0.5) * 1000:6.0f} ms   "
            f"p90 {pct(enqueue_to_running, 0.9) * 1000:6.0f} ms"
        )
        if refill:
            print(
                f"   trial ends → next trial queued: p50 {pct(refill, 0.5) * 1000:6.0f} ms   p90 {pct(refill, 0.9) * 1000:6.0f} ms"
                "   (the proposer process: python -m runlab.sweeps.propose)"
            )
        print(f"   a trial's job, running → finished: p50 {pct(durations, 0.5):5.2f} s (kernel start included)")
        sequential_sweep, _, sequential_wall = run_sweep(srv, trials, 1, ["one"])
        print(f"   {'sweep wall time':<34} {'seconds':>8}   trials/min")
        for label, wall, sweep in (
            ("parallel 4, 4 runners", parallel_wall, parallel_sweep),
            ("parallel 1, one after another", sequential_wall, sequential_sweep),
        ):
            print(f"   {label:<34} {wall:8.1f}   {sweep['done'] / wall * 60:8.1f}")
        print(f"   speed-up: {sequential_wall / parallel_wall:.2f}× with 4 runners on {cores} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if not (REPO / "server" / "dist" / "cli.js").exists():
        raise SystemExit("Build the server first: npm run build -w server")
    print(f"Runlab sweeps bench ({args.trials} trials)")
    if "search" in parts:
        bench_search(args.trials, args.seeds)
    if "overhead" in parts:
        with tempfile.TemporaryDirectory(prefix="runlab-bench-sweeps-") as tmp:
            bench_overhead(Path(tmp), args.trials)


if __name__ == "__main__":
    main()
