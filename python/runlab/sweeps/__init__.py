"""Hyper-parameter sweeps: many runner jobs of one notebook, each with parameters a search proposes.

- ``runlab.sweeps.ranges``: ``loguniform``, ``uniform``, ``intrange``, ``choice``;
- ``runlab.sweeps.api``: ``runlab.sweep(...)``, spec files, the :class:`Sweep` it returns;
- ``runlab.sweeps.propose``: the proposer the companion server runs (Optuna's samplers, the grid);
- ``runlab.sweeps.cli``: ``runlab sweep start|list|show|pause|resume|cancel``.
"""

from __future__ import annotations

from runlab.sweeps.api import Sweep, SweepSpecError, sweep, sweep_request
from runlab.sweeps.ranges import RangeError, choice, intrange, loguniform, uniform

__all__ = [
    "RangeError",
    "Sweep",
    "SweepSpecError",
    "choice",
    "intrange",
    "loguniform",
    "sweep",
    "sweep_request",
    "uniform",
]
