"""``runlab sweep start|list|show|pause|resume|cancel``: sweeps from the command line. A spec file
(YAML or JSON) has the keys runlab.sweep() takes; ``notebook`` is relative to the spec file::

    notebook: train.ipynb
    params:
      lr: {type: loguniform, low: 0.0001, high: 0.1}
      depth: [3, 5, 8]
    objective: val_acc
    method: bayes
    trials: 40
    parallel: 4
    early_stop: median
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runlab.client import Client


def register(commands: Any, add_connection_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``sweep`` to the ``runlab`` parser's ``commands``."""
    sweep = commands.add_parser(
        "sweep", help="hyper-parameter sweeps on runners: start, list, show, pause, resume, cancel"
    )
    sweep.set_defaults(usage_parser=sweep)
    verbs = sweep.add_subparsers(dest="sweep_command", metavar="SUBCOMMAND")
    start = verbs.add_parser("start", help="start a sweep from a YAML/JSON spec file")
    start.add_argument("spec", metavar="SPEC", type=Path, help="the spec file (YAML or JSON)")
    start.add_argument("--wait", action="store_true", help="follow it to its end with a progress bar")
    start.set_defaults(run=_start)
    listing = verbs.add_parser("list", help="sweeps, newest first")
    listing.set_defaults(run=_list)
    show = verbs.add_parser("show", help="a sweep with its trials")
    show.add_argument("sweep_id", metavar="ID")
    show.set_defaults(run=_show)
    for verb, what in (
        ("pause", "no new trials; running ones finish"),
        ("resume", "go on"),
        ("cancel", "stop every trial"),
    ):
        action = verbs.add_parser(verb, help=f"{verb} a sweep: {what}")
        action.add_argument("sweep_id", metavar="ID")
        action.set_defaults(run=_action, verb=verb)
    for parser in (start, listing, show, *(verbs.choices[verb] for verb in ("pause", "resume", "cancel"))):
        add_connection_options(parser)


def load_spec(path: Path) -> dict[str, Any]:
    """A spec file's settings: YAML (JSON is YAML too)."""
    import yaml

    from runlab.cli import UsageError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such spec file") from None
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(f"{path}: not YAML or JSON: {error}") from None
    if not isinstance(spec, dict):
        raise UsageError(f"{path}: a spec is a mapping of settings (notebook, params, objective, …)")
    return spec


def _start(args: argparse.Namespace) -> int:
    from runlab.cli import UsageError
    from runlab.sweeps.api import Sweep, SweepSpecError, sweep_request

    try:
        body = sweep_request(load_spec(args.spec), base_dir=args.spec.parent)
    except SweepSpecError as error:
        raise UsageError(f"{args.spec}: {error}") from None
    with Client.from_settings() as client:
        created = client.create_sweep(body)
    print(
        f"sweep {created['id']} started: {created['spec']['trials']} trials, {created['spec']['method']}, seed {created['spec']['seed']}"
    )
    if not args.wait:
        return 0
    ended = Sweep(created["id"], created).wait()
    _print_sweep(ended.data)
    return 0 if ended.status == "finished" else 1


def _list(args: argparse.Namespace) -> None:
    with Client.from_settings() as client:
        sweeps = client.list_sweeps()
    if not sweeps:
        print("No sweeps yet: runlab sweep start spec.yaml")
    for sweep in sweeps:
        best = sweep["best"]
        print(
            f"{sweep['id']}  {sweep['status']:<9} {sweep['name']}  {sweep['done']}/{sweep['spec']['trials']} trials"
            + (f"  best {sweep['spec']['objective']} {best['value']:.6g}" if best else "")
        )


def _print_sweep(sweep: dict[str, Any]) -> None:
    spec, counts = sweep["spec"], sweep["counts"]
    print(f"{sweep['name']} ({sweep['id']}): {sweep['status']}, {sweep['done']}/{spec['trials']} trials")
    print("  " + ", ".join(f"{count} {status}" for status, count in counts.items() if count))
    if sweep["error"]:
        print(f"  {sweep['error']}")
    if sweep["best"]:
        best = sweep["best"]
        print(f"  best: trial {best['number']}, {spec['objective']} {best['value']:.6g}, {json.dumps(best['params'])}")
    if sweep["importance"]:
        shares = sorted(sweep["importance"].items(), key=lambda item: -item[1])
        print("  importance: " + ", ".join(f"{name} {share:.0%}" for name, share in shares))


def _show(args: argparse.Namespace) -> None:
    with Client.from_settings() as client:
        sweep = client.get_sweep(args.sweep_id)
        trials = client.sweep_trials(args.sweep_id)
    _print_sweep(sweep)
    for trial in trials:
        value = "" if trial["value"] is None else f"{trial['value']:.6g}"
        print(f"  #{trial['number']:<3} {trial['status']:<9} {value:>12}  {json.dumps(trial['params'])}")


def _action(args: argparse.Namespace) -> None:
    with Client.from_settings() as client:
        sweep = client.sweep_action(args.sweep_id, args.verb)
    print(f"sweep {sweep['id']}: {sweep['status']}")
