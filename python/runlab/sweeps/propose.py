"""The companion server's sweep proposer: ``python -m runlab.sweeps.propose`` reads one JSON request
on stdin and writes one JSON answer on stdout.

The server keeps every sweep and its trials in SQLite and starts this process each time it needs
parameters, passing the whole history, so proposals survive any restart and a seed makes them
reproducible: the same spec, seed and history give the same proposals.

- ``{"action": "propose", "method", "goal", "seed", "trials", "params", "history", "count"}``
  → ``{"proposals": [{name: value}, …]}`` (``count`` of them, fewer when a grid runs out);
- ``{"action": "importance", "goal", "params", "history"}`` → ``{"importance": {name: share}}``
  (Optuna's fANOVA evaluator over the finished trials; shares sum to 1).

Random and Bayesian search (TPE) are Optuna's samplers through its ask/tell interface: the history
is replayed into an in-memory study (finished trials with their objective, stopped ones pruned at
their last step, failed ones failed, unfinished ones running, which TPE's constant liar accounts
for). Each proposal gets its own sampler seeded by (sweep seed, trial number). Grid search walks the
ranges' grid (runlab/sweeps/ranges.py) in order, skipping the combinations already tried.
"""

from __future__ import annotations

import itertools
import json
import sys
import warnings
from typing import Any

from runlab.sweeps.ranges import grid_values


def startup_trials(trials: int) -> int:
    """Trials TPE draws at random before it models the objective: a quarter of the sweep, 3 to 10."""
    return max(3, min(10, trials // 4))


def _seed(seed: int, number: int) -> int:
    return (seed * 1_000_003 + number) % 2**32


def _distributions(params: dict[str, Any]) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    distributions: dict[str, Any] = {}
    for name, spec in params.items():
        kind = spec["type"]
        if kind == "choice":
            distributions[name] = CategoricalDistribution(spec["values"])
        elif kind == "intrange":
            distributions[name] = IntDistribution(spec["low"], spec["high"], step=spec.get("step", 1))
        else:
            distributions[name] = FloatDistribution(spec["low"], spec["high"], log=kind == "loguniform")
    return distributions


def _study(request: dict[str, Any], sampler: Any, extra: list[dict[str, Any]]) -> Any:
    import optuna
    from optuna.trial import TrialState, create_trial

    ranges = request["params"]
    distributions = _distributions(ranges)
    study = optuna.create_study(direction=request["goal"], sampler=sampler)
    for trial in [*request["history"], *({"params": params, "state": "running"} for params in extra)]:
        params = trial["params"]
        if set(params) != set(ranges) or any(not _contains(ranges[name], value) for name, value in params.items()):
            continue  # a trial from before the ranges changed teaches nothing about these ones
        state = trial["state"]
        curve = {int(step): float(value) for step, value in (trial.get("curve") or {}).items()}
        if state == "finished" and trial.get("value") is not None:
            frozen = create_trial(params=params, distributions=distributions, value=float(trial["value"]))
        elif state == "stopped" and curve:
            frozen = create_trial(
                params=params, distributions=distributions, state=TrialState.PRUNED, intermediate_values=curve
            )
        elif state in ("failed", "finished", "stopped"):
            frozen = create_trial(params=params, distributions=distributions, state=TrialState.FAIL)
        elif state in ("queued", "running"):
            frozen = create_trial(params=params, distributions=distributions, state=TrialState.RUNNING)
        else:
            continue
        study.add_trial(frozen)
    return study


def _contains(spec: dict[str, Any], value: Any) -> bool:
    """Whether a past trial's value lies in the range as the spec gives it now."""
    if spec["type"] == "choice":
        return any(value == choice and type(value) is type(choice) for choice in spec["values"])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if spec["type"] == "intrange":
        return (
            isinstance(value, int)
            and spec["low"] <= value <= spec["high"]
            and (value - spec["low"]) % spec.get("step", 1) == 0
        )
    return spec["low"] <= value <= spec["high"]


def _plain(value: Any) -> Any:
    """Optuna may hand back numpy scalars; JSON wants Python ones."""
    return value.item() if hasattr(value, "item") else value


def propose(request: dict[str, Any]) -> list[dict[str, Any]]:
    method, count, params = request["method"], int(request["count"]), request["params"]
    if method == "grid":
        tried = {json.dumps(trial["params"], sort_keys=True) for trial in request["history"]}
        names = list(params)
        proposals: list[dict[str, Any]] = []
        for combination in itertools.product(*(grid_values(params[name]) for name in names)):
            candidate = dict(zip(names, combination, strict=True))
            if json.dumps(candidate, sort_keys=True) not in tried:
                proposals.append(candidate)
                if len(proposals) == count:
                    break
        return proposals

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = _distributions(params)
    proposals = []
    for index in range(count):
        number = int(request.get("number", len(request["history"]))) + index
        seed = _seed(int(request["seed"]), number)
        if method == "random":
            sampler = optuna.samplers.RandomSampler(seed=seed)
        else:
            sampler = optuna.samplers.TPESampler(
                seed=seed, n_startup_trials=startup_trials(int(request["trials"])), constant_liar=True
            )
        study = _study(request, sampler, proposals)
        trial = study.ask(distributions)
        proposals.append({name: _plain(value) for name, value in trial.params.items()})
    return proposals


def importance(request: dict[str, Any]) -> dict[str, float]:
    """Each parameter's share of the objective's variance over the finished trials (fANOVA)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = _study(request, optuna.samplers.RandomSampler(seed=0), [])
    finished = [trial for trial in study.trials if trial.state == optuna.trial.TrialState.COMPLETE]
    if len(params := request["params"]) == 1:
        return {name: 1.0 for name in params} if len(finished) >= 2 else {}
    if len(finished) < 2 or len({trial.value for trial in finished}) < 2:
        return {}
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shares = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
    return {name: float(share) for name, share in shares.items()}


def main() -> int:
    try:
        request = json.load(sys.stdin)
        if request.get("action") == "importance":
            answer: dict[str, Any] = {"importance": importance(request)}
        else:
            answer = {"proposals": propose(request)}
    except Exception as error:  # the server shows this message with the sweep
        json.dump({"error": f"{type(error).__name__}: {error}"}, sys.stdout)
        return 1
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
