"""Kernel integration: what the JupyterLab extension calls when a kernel starts or restarts.

The extension runs, through the kernel's ``user_expressions``::

    __import__('runlab')._kernel_attach(url=..., token=..., project=..., notebook_path=...)

and reads the returned dict. Attaching never contacts the server (the server may be down, and a
kernel start must not wait on it), never raises, and may be repeated.
"""

from __future__ import annotations

import sys
from typing import Any

from runlab import config


class AttachResult(dict[str, Any]):
    """A plain dict that also renders as ``application/json``, so the extension can read it
    from the user-expression reply without parsing a Python repr."""

    def _repr_json_(self) -> dict[str, Any]:
        return dict(self)


def _kernel_attach(
    url: str | None = None,
    token: str | None = None,
    project: str | None = None,
    notebook_path: str | None = None,
) -> AttachResult:
    import runlab

    result = AttachResult(version=runlab.__version__, magics=False)
    try:
        config.configure(url=url, token=token, project=project, notebook_path=notebook_path)
    except Exception as error:  # attaching must never break the kernel start
        result["error"] = f"configure failed: {error}"
    try:
        result["magics"] = _register_magics()
    except Exception as error:
        result["error"] = f"registering %runlab failed: {error}"
    return result


def _register_magics() -> bool:
    """Register %runlab in the running IPython, if there is one. Registering again replaces."""
    ipython = sys.modules.get("IPython")
    if ipython is None:  # not imported means no shell is running: a plain script
        return False
    shell = ipython.get_ipython()
    if shell is None:
        return False
    load_ipython_extension(shell)
    return True


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext runlab``."""
    from runlab.magics import RunlabMagics

    shell.register_magics(RunlabMagics)
