"""Kernel integration: what the JupyterLab extension calls when a kernel starts or restarts.

The extension runs, through the kernel's ``user_expressions``::

    __import__('runlab')._kernel_attach(url=..., token=..., project=..., notebook_path=...,
                                        frontend_id=...)

and reads the returned dict. Attaching never contacts the server (the server may be down, and a
kernel start must not wait on it), never raises, and may be repeated.

When it snapshots a notebook for a run, the extension also asks for the local modules the kernel
imported, with ``__import__('runlab')._local_module_files()``; and it hands over the notebook's
pinned dataset versions with ``__import__('runlab')._kernel_pins({...})``.
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


class JsonList(list[Any]):
    """A plain list that also renders as ``application/json`` (see AttachResult)."""

    def _repr_json_(self) -> list[Any]:
        return list(self)


def _kernel_attach(
    url: str | None = None,
    token: str | None = None,
    project: str | None = None,
    notebook_path: str | None = None,
    frontend_id: str | None = None,
) -> AttachResult:
    import runlab
    from runlab.runs import api as runs

    result = AttachResult(version=runlab.__version__, magics=False)
    try:
        config.configure(url=url, token=token, project=project, notebook_path=notebook_path)
        if frontend_id is not None:
            # Runs started in this kernel name this tab, which then sends the notebook snapshot.
            runs.frontend_id = frontend_id
    except Exception as error:  # attaching must never break the kernel start
        result["error"] = f"configure failed: {error}"
    try:
        result["magics"] = _register_magics()
    except Exception as error:
        result["error"] = f"registering %runlab failed: {error}"
    return result


def _kernel_pins(pins: dict[str, str] | None = None) -> AttachResult:
    """Set the notebook's pinned dataset versions, ``{"iris": "v3"}`` (the whole set: datasets
    left out are unpinned). ``runlab.dataset("iris").path()`` then uses v3. The extension calls
    this silently whenever the pins or the kernel change; it never raises."""
    try:
        from runlab.datasets.api import set_pins

        return AttachResult(pins=set_pins(pins))
    except Exception as error:
        return AttachResult(pins={}, error=f"setting pins failed: {error}")


def _local_module_files(root: str | None = None) -> JsonList:
    """The project-local modules this kernel imported, ``[{"path", "content"}]`` relative to
    ``root`` (default: the working directory, which is the notebook's folder). Never raises: a
    failure means an empty list, and the snapshot goes ahead with the notebook alone."""
    from runlab.runs.environment import local_module_files

    try:
        return JsonList(local_module_files(root))
    except Exception:
        return JsonList()


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
    from runlab.runs.magics import RunlabMagics

    shell.register_magics(RunlabMagics)
