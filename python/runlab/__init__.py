"""Runlab client: track experiments from notebooks against a Runlab companion server.

In a JupyterLab notebook the extension configures this package when the kernel starts, so
``import runlab`` needs no setup. Elsewhere it reads RUNLAB_URL, RUNLAB_TOKEN, RUNLAB_PROJECT and
RUNLAB_NOTEBOOK, or finds the companion server running on this machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Defined before the submodule imports below: they read it from this module.
__version__ = "0.1.0"

from runlab.client import Client, RunlabError, ServerUnreachable
from runlab.config import Settings, configure
from runlab.config import resolve as settings
from runlab.kernel import _kernel_attach, _kernel_pins, _local_module_files, load_ipython_extension
from runlab.runs import (
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
    start,
    tag,
)
from runlab.runs.autolog import autolog
from runlab.status import Status, check_status
from runlab.warning import RunlabWarning

if TYPE_CHECKING:
    from runlab.datasets.api import Dataset, DatasetDiff, DatasetVersion

_DATASET_NAMES = ("Dataset", "DatasetDiff", "DatasetVersion")


def dataset(ref: str, *, project: str | None = None) -> Dataset:
    """A versioned dataset: ``runlab.dataset("iris")`` or ``runlab.dataset("iris@v3")``; then
    ``.commit(path)``, ``.path()``, ``.versions()``, ``.diff("v2", "v3")``."""
    from runlab.datasets.api import Dataset

    return Dataset(ref, project=project)


def __getattr__(name: str) -> Any:
    # The datasets code (sqlite3, the chunker) loads on first use: `import runlab` stays quick.
    if name in _DATASET_NAMES:
        from runlab.datasets import api

        return getattr(api, name)
    raise AttributeError(f"module 'runlab' has no attribute {name!r}")


def status() -> Status:
    """Connection state with the server, project and notebook; never raises for connectivity."""
    return check_status()


__all__ = [
    "Client",
    "Dataset",
    "DatasetDiff",
    "DatasetVersion",
    "Run",
    "RunlabError",
    "RunlabWarning",
    "ServerUnreachable",
    "Settings",
    "Status",
    "__version__",
    "_kernel_attach",
    "_kernel_pins",
    "_local_module_files",
    "active_run",
    "artifact",
    "autolog",
    "configure",
    "dataset",
    "end",
    "flush",
    "input",
    "load_ipython_extension",
    "log",
    "metric",
    "output",
    "param",
    "params",
    "settings",
    "start",
    "status",
    "tag",
]
