"""Run tracking: ``runlab.start()``, the module-level logging functions on the current run,
``runlab.autolog()``, the ``%runlab`` / ``%%track`` magics, and the background sender.

- ``runlab.runs.api``: runs and the implicit current run (what ``import runlab`` exports);
- ``runlab.runs.batcher``: queues everything a run logs and delivers it in idempotent batches;
- ``runlab.runs.environment``: what a run records to be re-produced (packages, local modules);
- ``runlab.runs.autolog``: scikit-learn fits recorded without changing the training code;
- ``runlab.runs.magics`` and ``runlab.runs.table``: the notebook's ``%runlab`` and ``%%track``.
"""

from __future__ import annotations

from runlab.runs.api import (
    EndStatus,
    Run,
    active_run,
    artifact,
    end,
    flush,
    input,
    log,
    metric,
    output,
    param,
    params,
    record_dataset_input,
    start,
    tag,
)

__all__ = [
    "EndStatus",
    "Run",
    "active_run",
    "artifact",
    "end",
    "flush",
    "input",
    "log",
    "metric",
    "output",
    "param",
    "params",
    "record_dataset_input",
    "start",
    "tag",
]
