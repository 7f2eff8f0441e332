"""``runlab.sweep(...)`` and the spec files of ``runlab sweep start spec.yaml``: the same settings,
sent as ``POST /api/sweeps``; the returned :class:`Sweep` follows it (``wait()`` shows progress)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.client import Client
from runlab.config import project_for, resolve
from runlab.sweeps.ranges import RangeError, choice

#: The settings a sweep takes, in runlab.sweep() and in a spec file alike.
SETTINGS = (
    "notebook",
    "params",
    "objective",
    "goal",
    "method",
    "trials",
    "parallel",
    "early_stop",
    "runners",
    "seed",
    "fixed",
    "datasets",
    "max_failures",
    "max_retries",
    "timeout",
    "name",
    "project",
)
ENDED = ("finished", "failed", "cancelled")


class SweepSpecError(ValueError):
    """A sweep spec that cannot be sent, with what to change."""


def _range(name: str, spec: Any) -> dict[str, Any]:
    """A range as given: ``{"type": "loguniform", "low": …, "high": …}``, or a list (a choice)."""
    if isinstance(spec, list):
        try:
            return choice(spec)
        except RangeError as error:
            raise SweepSpecError(f"params.{name}: {error}") from None
    if not isinstance(spec, dict) or "type" not in spec:
        raise SweepSpecError(
            f"params.{name}: give a range such as runlab.loguniform(1e-4, 1e-1) "
            '({"type": "loguniform", "low": 0.0001, "high": 0.1}) or a list of choices, not ' + repr(spec)
        )
    return dict(spec)


def _notebook(path: str | None) -> tuple[str, dict[str, Any]]:
    """The notebook's name and JSON, as saved; default: the notebook this kernel runs."""
    if path is None:
        path = resolve().notebook_path
        if path is None:
            raise SweepSpecError(
                "Which notebook? Pass notebook='train.ipynb' (outside JupyterLab there is no current one)"
            )
        # The kernel's working directory is the notebook's folder.
        candidate = Path(path) if Path(path).exists() else Path(Path(path).name)
    else:
        candidate = Path(path)
    try:
        notebook = json.loads(candidate.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepSpecError(f"{candidate}: no such notebook") from None
    except ValueError as error:
        raise SweepSpecError(f"{candidate}: not a notebook file (.ipynb JSON): {error}") from None
    if not isinstance(notebook, dict) or "cells" not in notebook:
        raise SweepSpecError(f"{candidate}: not a notebook file (.ipynb JSON with cells)")
    return candidate.name, notebook


def sweep_request(settings: dict[str, Any], *, base_dir: Path | None = None) -> dict[str, Any]:
    """The CreateSweepRequest for these settings (runlab.sweep's arguments or a spec file's keys)."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise SweepSpecError(f"Unknown setting {', '.join(unknown)}; a sweep takes {', '.join(SETTINGS)}")
    params = settings.get("params")
    if not isinstance(params, dict) or not params:
        raise SweepSpecError('params: give at least one parameter to sweep, e.g. {"lr": runlab.loguniform(1e-4, 1e-1)}')
    objective = settings.get("objective")
    if not isinstance(objective, str) or not objective:
        raise SweepSpecError('objective: name the metric each trial logs, e.g. objective="val_acc"')
    ranges = {name: _range(name, spec) for name, spec in params.items()}
    runners = settings.get("runners") or {}
    if not isinstance(runners, dict) or set(runners) - {"labels"}:
        raise SweepSpecError('runners: {"labels": ["gpu"]} (the labels every trial\'s runner must have)')
    notebook_setting = settings.get("notebook")
    if notebook_setting is not None and base_dir is not None:
        notebook_setting = str(base_dir / notebook_setting)
    notebook_path, notebook = _notebook(notebook_setting)
    body: dict[str, Any] = {
        "project": project_for(settings.get("project")),
        "notebookPath": notebook_path,
        "notebook": notebook,
        "params": ranges,
        "objective": objective,
        "goal": settings.get("goal", "maximize"),
        "method": settings.get("method", "random"),
        "parallel": settings.get("parallel", 1),
        "earlyStop": settings.get("early_stop"),
        "fixed": settings.get("fixed") or {},
        "datasets": settings.get("datasets") or {},
        "labels": list(runners.get("labels", [])),
    }
    for key, field in (
        ("trials", "trials"),
        ("seed", "seed"),
        ("max_failures", "maxFailures"),
        ("max_retries", "maxRetries"),
        ("timeout", "timeoutS"),
        ("name", "name"),
    ):
        if settings.get(key) is not None:
            body[field] = settings[key]
    return body


@dataclass
class Sweep:
    """A sweep on the companion server; ``refresh()`` reads it again, ``wait()`` follows it to its end."""

    id: str
    data: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.data["status"])

    @property
    def best(self) -> dict[str, Any] | None:
        """The finished trial with the best value (``params``, ``value``, ``runId``)."""
        best: dict[str, Any] | None = self.data["best"]
        return best

    def refresh(self) -> Sweep:
        with Client.from_settings() as client:
            self.data = client.get_sweep(self.id)
        return self

    def trials(self) -> list[dict[str, Any]]:
        with Client.from_settings() as client:
            return client.sweep_trials(self.id)

    def pause(self) -> Sweep:
        return self._act("pause")

    def resume(self) -> Sweep:
        return self._act("resume")

    def cancel(self) -> Sweep:
        return self._act("cancel")

    def wait(self, timeout: float | None = None, *, progress: bool = True, interval: float = 1.0) -> Sweep:
        """Until the sweep ends (or ``timeout`` seconds), with a progress bar of final trials."""
        from tqdm.auto import tqdm

        deadline = None if timeout is None else time.monotonic() + timeout
        bar = tqdm(total=self.data["spec"]["trials"], unit="trial", desc=self.data["name"], disable=not progress)
        try:
            while True:
                bar.n = self.data["done"]
                best = self.best
                bar.set_postfix_str(
                    f"{self.data['counts']['running']} running"
                    + (f", best {self.data['spec']['objective']} {best['value']:.4g}" if best else "")
                )
                bar.refresh()
                if self.status in ENDED or (deadline is not None and time.monotonic() > deadline):
                    return self
                time.sleep(interval)
                self.refresh()
        finally:
            bar.close()

    def _act(self, action: str) -> Sweep:
        with Client.from_settings() as client:
            self.data = client.sweep_action(self.id, action)
        return self

    def __repr__(self) -> str:
        spec = self.data["spec"]
        return (
            f"<Sweep {self.data['name']} {self.status}: {self.data['done']}/{spec['trials']} trials, {spec['method']}>"
        )


def sweep(
    notebook: str | None = None,
    *,
    params: dict[str, Any],
    objective: str,
    goal: str = "maximize",
    method: str = "random",
    trials: int | None = None,
    parallel: int = 1,
    early_stop: str | dict[str, Any] | None = None,
    runners: dict[str, Any] | None = None,
    seed: int | None = None,
    fixed: dict[str, Any] | None = None,
    datasets: dict[str, str] | None = None,
    max_failures: int | None = None,
    name: str | None = None,
    project: str | None = None,
) -> Sweep:
    """Start a sweep of ``notebook`` (default: this one, as saved) on the runners: each trial a job
    with parameters from ``params`` injected into its ``parameters`` cell, its value the latest
    ``objective`` its run logs. ``method``: grid, random or bayes; ``early_stop="median"`` stops
    trials worse than the median; ``runners={"labels": [...]}`` picks the runners."""
    settings = {key: value for key, value in locals().items() if value is not None}
    body = sweep_request(settings)
    with Client.from_settings() as client:
        created = client.create_sweep(body)
    return Sweep(created["id"], created)
