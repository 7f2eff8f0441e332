"""Running notebooks as runner jobs: parameters checked and injected, then executed in a real kernel.

- ``runlab.runners.parameters``: the ``parameters`` cell read, supplied values checked and injected;
- ``runlab.runners.execute``: ``execute_notebook()``, live events, time limits, cancellation.
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
