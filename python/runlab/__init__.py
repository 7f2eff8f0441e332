"""Runlab client: track experiments from notebooks against a Runlab companion server.

In a JupyterLab notebook the extension configures this package when the kernel starts, so
``import runlab`` needs no setup. Elsewhere it reads RUNLAB_URL, RUNLAB_TOKEN, RUNLAB_PROJECT and
RUNLAB_NOTEBOOK, or finds the companion server running on this machine.
"""

from __future__ import annotations

# Defined before the submodule imports below: they read it from this module.
__version__ = "0.1.0"

from runlab.client import Client, RunlabError, ServerUnreachable  # noqa: E402
from runlab.config import Settings, configure  # noqa: E402
from runlab.config import resolve as settings  # noqa: E402
from runlab.kernel import _kernel_attach, _local_module_files, load_ipython_extension  # noqa: E402
from runlab.status import Status, check_status  # noqa: E402
from runlab.batcher import RunlabWarning  # noqa: E402
from runlab.runs import (  # noqa: E402
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
from runlab.autolog import autolog  # noqa: E402


def status() -> Status:
    """Connection state with the server, project and notebook; never raises for connectivity."""
    return check_status()


__all__ = [
    "Client",
    "Run",
    "RunlabError",
    "RunlabWarning",
    "ServerUnreachable",
    "Settings",
    "Status",
    "__version__",
    "_kernel_attach",
    "_local_module_files",
    "active_run",
    "artifact",
    "autolog",
    "configure",
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
