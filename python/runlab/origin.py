"""How this process runs Python: a notebook kernel, a script, or anything else (the API).

Runs record it as their source; progress bars choose the notebook widget or the terminal bar by it.
"""

from __future__ import annotations

import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

OriginKind = Literal["notebook", "script", "api"]


@dataclass(frozen=True)
class Origin:
    """How this process is running the user's code."""

    kind: OriginKind
    # The script file, for kind "script".
    script: Path | None = None


def detect_origin() -> Origin:
    """A notebook kernel, a script run with ``python file.py``, or anything else ("api")."""
    if _in_kernel():
        return Origin("notebook")
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if isinstance(main_file, str) and main_file.endswith(".py"):
        script = Path(main_file).resolve()
        # `python -m pytest` or another installed tool is not the user's script.
        if script.is_file() and not _is_installed_code(script):
            return Origin("script", script)
    return Origin("api")


def _in_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    # A Jupyter kernel's shell has a `kernel`; the terminal IPython does not.
    return shell is not None and getattr(shell, "kernel", None) is not None


def _is_installed_code(path: Path) -> bool:
    if any(part in ("site-packages", "dist-packages") for part in path.parts):
        return True
    stdlib = sysconfig.get_paths().get("stdlib")
    return stdlib is not None and Path(stdlib).resolve() in path.parents
