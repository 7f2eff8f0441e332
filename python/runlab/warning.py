"""``RunlabWarning``: how Runlab says it could not deliver or accept something, without stopping
the user's code."""

from __future__ import annotations

import warnings


class RunlabWarning(UserWarning):
    """Runlab could not deliver or accept something; user code keeps running."""


def warn(message: str) -> None:
    """Show one warning in the cell output (or on stderr), without a source line or traceback."""
    warnings.warn_explicit(message, RunlabWarning, "runlab", 0, module="runlab")
