"""Running notebooks as runner jobs: parameters checked and injected, then executed in a real kernel.

- ``runlab.runners.parameters``: the ``parameters`` cell read, supplied values checked and injected;
- ``runlab.runners.execute``: ``execute_notebook()``, live events, time limits, cancellation;
- ``runlab.runners.agent``: ``runlab runner start``, the agent that takes the server's jobs;
- ``runlab.runners.capacity``: what the machine offers (CPUs, memory, GPUs, OS, Python);
- ``runlab.runners.environments``: ``--env recreate``, the original run's packages rebuilt with uv;
- ``runlab.runners.cli``: ``runlab runner|runners|jobs|rerun``.

In the job's kernel the notebook's own runlab calls log into the job's run (runlab/runs/api.py).
"""

from __future__ import annotations

from runlab.runners.execute import ExecutionResult, execute_notebook, execute_notebook_async
from runlab.runners.parameters import (
    Declared,
    ParametersCellError,
    check_parameters,
    declared_parameters,
    inject_parameters,
)

__all__ = [
    "Declared",
    "ExecutionResult",
    "ParametersCellError",
    "check_parameters",
    "declared_parameters",
    "execute_notebook",
    "execute_notebook_async",
    "inject_parameters",
]
