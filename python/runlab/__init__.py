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
from runlab.sweeps import Sweep, choice, intrange, loguniform, sweep, uniform
from runlab.warning import RunlabWarning

if TYPE_CHECKING:
    from runlab.datasets.api import Dataset, DatasetDiff, DatasetVersion
    from runlab.models.flavors import LoadedModel
    from runlab.models.registry import ModelVersion

_DATASET_NAMES = ("Dataset", "DatasetDiff", "DatasetVersion")


def dataset(ref: str, *, project: str | None = None) -> Dataset:
    """A versioned dataset: ``runlab.dataset("iris")`` or ``runlab.dataset("iris@v3")``; then
    ``.commit(path)``, ``.path()``, ``.versions()``, ``.diff("v2", "v3")``."""
    from runlab.datasets.api import Dataset

    return Dataset(ref, project=project)


def model(
    obj_or_path: Any,
    name: str,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    description: str = "",
    tags: dict[str, Any] | None = None,
    profile_data: Any = None,
) -> ModelVersion:
    """Log a model version from the current run: ``runlab.model(clf, name="churn", input_example=X[:5])``.
    The flavor (sklearn, onnx, python), signature, requirements and a reference profile are
    worked out here; the version links to the run. Returns the ModelVersion (``.ref``: churn@v3)."""
    from runlab.models.registry import model as log_model

    return log_model(
        obj_or_path,
        name,
        flavor=flavor,
        input_example=input_example,
        description=description,
        tags=tags,
        profile_data=profile_data,
    )


def load_model(ref: str) -> LoadedModel:
    """A registered model version, ready to ``.predict``: ``runlab.load_model("churn@production")``
    (or ``"churn"`` for the latest, ``"churn@v3"``). Downloaded once, then cached by version."""
    from runlab.models.registry import load_model as load

    return load(ref)


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
    "Sweep",
    "__version__",
    "_kernel_attach",
    "_kernel_pins",
    "_local_module_files",
    "active_run",
    "artifact",
    "autolog",
    "choice",
    "configure",
    "dataset",
    "end",
    "flush",
    "input",
    "intrange",
    "load_ipython_extension",
    "load_model",
    "log",
    "loguniform",
    "metric",
    "model",
    "output",
    "param",
    "params",
    "settings",
    "start",
    "status",
    "sweep",
    "tag",
    "uniform",
]
