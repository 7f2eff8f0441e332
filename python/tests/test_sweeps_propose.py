"""The sweep proposer as the companion server runs it (``python -m runlab.sweeps.propose``, JSON on
stdin and stdout): every method proposes valid values for every range type, a seed makes proposals
reproducible, a grid never repeats a combination, importance finds the parameter that matters, and
the range helpers refuse invalid ranges with what to change."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import pytest

import runlab
from runlab.sweeps.ranges import RangeError

RANGES = {
    "lr": runlab.loguniform(1e-4, 1e-1),
    "dropout": runlab.uniform(0.0, 0.5),
    "depth": runlab.choice([3, 5, 8]),
    "n": runlab.intrange(10, 200, step=10),
    "kind": runlab.choice(["gini", "entropy", None, True]),
}


def run_proposer(request: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "runlab.sweeps.propose"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
    )
    answer = json.loads(done.stdout)
    assert done.returncode == (1 if "error" in answer else 0), done.stderr
    return answer


def propose(method: str, *, count: int, history: list | None = None, seed: int = 7, params=RANGES, trials=40) -> list:
    request = {
        "action": "propose",
        "method": method,
        "goal": "maximize",
        "seed": seed,
        "trials": trials,
        "params": params,
        "history": history or [],
        "count": count,
    }
    return run_proposer(request)["proposals"]


def assert_valid(proposal: dict) -> None:
    assert set(proposal) == set(RANGES)
    assert isinstance(proposal["lr"], float) and 1e-4 <= proposal["lr"] <= 1e-1
    assert isinstance(proposal["dropout"], float) and 0.0 <= proposal["dropout"] <= 0.5
    assert proposal["depth"] in (3, 5, 8) and type(proposal["depth"]) is int
    assert type(proposal["n"]) is int and 10 <= proposal["n"] <= 200 and proposal["n"] % 10 == 0
    assert proposal["kind"] in ("gini", "entropy", None, True)


def objective(params: dict) -> float:
    """Best near lr = 1e-2 and many estimators; depth and kind do not matter."""
    return -((math.log10(params["lr"]) + 2) ** 2) + params["n"] / 400


@pytest.mark.parametrize("method", ["random", "bayes"])
def test_random_and_bayes_propose_valid_values_for_every_range_type(method: str) -> None:
    history = []
    for _ in range(4):
        for proposal in propose(method, count=3, history=history):
            assert_valid(proposal)
            history.append({"params": proposal, "state": "finished", "value": objective(proposal)})
    # TPE models the objective once past its random start-up trials: still in range.
    assert len(history) == 12
    distinct = {json.dumps(trial["params"], sort_keys=True) for trial in history}
    assert len(distinct) == 12, "no proposal repeats another"


def test_bayes_counts_running_and_failed_trials_and_skips_ones_outside_the_ranges() -> None:
    history = [
        {"params": {**propose("random", count=1, seed=s)[0]}, "state": state, "value": None}
        for s, state in ((1, "running"), (2, "failed"), (3, "queued"))
    ]
    history.append(
        {"params": {"lr": 5.0, "dropout": 0.1, "depth": 3, "n": 10, "kind": "gini"}, "state": "finished", "value": 1}
    )
    history.append({"params": {"old": 1}, "state": "finished", "value": 2})
    (proposal,) = propose("bayes", count=1, history=history)
    assert_valid(proposal)


def test_a_seed_makes_proposals_reproducible() -> None:
    history = [{"params": p, "state": "finished", "value": objective(p)} for p in propose("random", count=12, seed=3)]
    for method in ("random", "bayes"):
        first = propose(method, count=4, history=history, seed=11)
        assert propose(method, count=4, history=history, seed=11) == first
        assert propose(method, count=4, history=history, seed=12) != first


def test_grid_walks_every_combination_once_and_says_when_it_is_done() -> None:
    params = {
        "lr": runlab.loguniform(1e-4, 1e-1, points=4),
        "depth": runlab.choice([3, 5]),
        "n": runlab.intrange(1, 3),
    }
    first = propose("grid", count=5, params=params)
    assert first[0] == {"lr": 1e-4, "depth": 3, "n": 1}
    history = [{"params": p, "state": "finished", "value": 0} for p in first]
    rest = propose("grid", count=100, params=params, history=history)
    combos = [json.dumps(p, sort_keys=True) for p in first + rest]
    assert len(combos) == 4 * 2 * 3 == len(set(combos))
    assert {p["lr"] for p in first + rest} == {1e-4, 1e-3, 1e-2, 1e-1}
    assert (
        propose("grid", count=1, params=params, history=history + [{"params": p, "state": "failed"} for p in rest])
        == []
    )


def test_uniform_grid_points() -> None:
    (one, *others) = propose("grid", count=10, params={"x": runlab.uniform(0, 1, points=3)})
    assert [one["x"], *(p["x"] for p in others)] == [0, 0.5, 1]


def test_importance_finds_the_parameter_that_matters() -> None:
    rng = random.Random(5)
    history = []
    for _ in range(40):
        params = {
            "lr": 10 ** rng.uniform(-4, -1),
            "dropout": rng.uniform(0, 0.5),
            "depth": rng.choice([3, 5, 8]),
            "n": rng.randrange(10, 201, 10),
            "kind": rng.choice(["gini", "entropy", None, True]),
        }
        history.append({"params": params, "state": "finished", "value": -((math.log10(params["lr"]) + 2) ** 2)})
    answer = run_proposer({"action": "importance", "goal": "maximize", "params": RANGES, "history": history})
    shares = answer["importance"]
    assert set(shares) == set(RANGES)
    assert math.isclose(sum(shares.values()), 1.0, rel_tol=1e-6)
    assert max(shares, key=shares.get) == "lr" and shares["lr"] > 0.5
    # Too little to judge: no shares rather than noise.
    assert run_proposer({"action": "importance", "goal": "maximize", "params": RANGES, "history": history[:1]}) == {
        "importance": {}
    }


def test_a_bad_request_is_an_error_answer_not_a_traceback() -> None:
    answer = run_proposer({"action": "propose", "method": "bayes", "params": {}})
    assert answer["error"].startswith("KeyError")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: runlab.loguniform(0, 1), "0 < low < high"),
        (lambda: runlab.loguniform(1, 1e-3), "0 < low < high"),
        (lambda: runlab.uniform(2, 1), "low must be below high"),
        (lambda: runlab.uniform(0, float("inf")), "finite number"),
        (lambda: runlab.intrange(1.5, 3), "whole number"),
        (lambda: runlab.intrange(0, 10, step=3), "divide high - low"),
        (lambda: runlab.choice([]), "at least one value"),
        (lambda: runlab.choice([[1, 2]]), "not a number, string"),
        (lambda: runlab.uniform(0, 1, points=1), "points must be"),
    ],
)
def test_invalid_ranges_are_refused_with_what_to_change(make, message: str) -> None:
    with pytest.raises(RangeError, match=message):
        make()
