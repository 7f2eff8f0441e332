"""What a run records to be re-produced: where it comes from (a notebook, a cell, a script, the
API), the Python version and installed packages, and the project-local modules the code imported
(the notebook itself is snapshotted by the browser; a script is snapshotted by this client).
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import socket
import sys
import sysconfig
from pathlib import Path
from typing import Any, Literal

from runlab.origin import detect_origin

# `job`: a run the server created for a runner job (its kernel continues it; see runs/api.py).
SourceKind = Literal["notebook", "cell", "script", "mlflow", "api", "job", "sweep"]

# Local modules bigger than this are data in disguise (generated tables); the snapshot skips them.
MAX_MODULE_BYTES = 1_000_000
# The snapshot contract accepts at most this many files.
MAX_SNAPSHOT_FILES = 1000
# The contract's lengths (in characters) of a run environment's texts.
MAX_PLATFORM_LENGTH = 200
MAX_HOSTNAME_LENGTH = 255
MAX_PACKAGE_TEXT_LENGTH = 200  # a distribution's name or version

# Folders that hold installed or generated code, never the user's own modules.
_SKIPPED_FOLDERS = {
    "site-packages",
    "dist-packages",
    ".ipynb_checkpoints",
    "__pycache__",
    "node_modules",
    ".git",
    ".tox",
    ".nox",
}


@functools.cache
def environment() -> dict[str, Any]:
    """Python version, platform, host and installed distributions; computed once per process
    because listing distributions reads every package's metadata from disk."""
    packages: dict[str, str] = {}
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata.get("Name")
        if name and distribution.version:
            packages[str(name)[:MAX_PACKAGE_TEXT_LENGTH]] = str(distribution.version)[:MAX_PACKAGE_TEXT_LENGTH]
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform()[:MAX_PLATFORM_LENGTH],
        "hostname": socket.gethostname()[:MAX_HOSTNAME_LENGTH],
        "packages": dict(sorted(packages.items(), key=lambda item: item[0].lower())),
    }


def default_root() -> Path:
    """The folder local modules are looked for in: the working directory (a kernel starts in its
    notebook's folder), or the script's folder when the script lies outside it."""
    origin = detect_origin()
    cwd = Path.cwd().resolve()
    if origin.kind == "script" and origin.script is not None and cwd not in origin.script.parents:
        return origin.script.parent
    return cwd


def local_module_files(root: str | os.PathLike[str] | None = None) -> list[dict[str, str]]:
    """The project-local Python modules this process imported, as ``[{"path", "content"}]``.

    Paths are relative to ``root`` (POSIX); installed packages, virtual environments, notebook
    checkpoints, Runlab itself, files over 1 MB and files that are not UTF-8 text are left out.
    """
    base = Path(root).resolve() if root is not None else default_root().resolve()
    # An interpreter prefix that contains the project (a Docker image's /usr/local) excludes nothing.
    excluded_trees = [tree for tree in _installed_trees() if tree != base and tree not in base.parents]
    files: dict[str, str] = {}
    prefix = str(base)
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if not isinstance(filename, str) or not filename.endswith(".py"):
            continue
        # Most modules live elsewhere; this string test spares resolving (stat-ing) each of them.
        if not os.path.abspath(filename).startswith(prefix) and not os.path.islink(filename):
            continue
        path = Path(filename)
        try:
            path = path.resolve()
            relative = path.relative_to(base)
        except (OSError, ValueError):
            continue  # not under the project folder
        if _is_skipped(relative, path, base, excluded_trees):
            continue
        content = _read_text(path)
        if content is not None:
            files[relative.as_posix()] = content
        if len(files) >= MAX_SNAPSHOT_FILES:
            break
    return [{"path": name, "content": files[name]} for name in sorted(files)]


def script_snapshot_files(script: Path, root: Path) -> list[dict[str, str]]:
    """The script itself and its local modules, relative to ``root`` (see ``default_root``)."""
    root = root.resolve()
    files = {entry["path"]: entry["content"] for entry in local_module_files(root)}
    content = _read_text(script.resolve())
    if content is not None:
        files[script.resolve().relative_to(root).as_posix()] = content
    return [{"path": name, "content": files[name]} for name in sorted(files)][:MAX_SNAPSHOT_FILES]


def _read_text(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_MODULE_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _is_skipped(relative: Path, path: Path, base: Path, excluded_trees: list[Path]) -> bool:
    parts = relative.parts
    if any(part in _SKIPPED_FOLDERS for part in parts):
        return True
    if any(tree == path or tree in path.parents for tree in excluded_trees):
        return True
    # A virtual environment kept inside the project (.venv/, env/ ...) marks itself with pyvenv.cfg.
    folder = path.parent
    while folder != base and base in folder.parents:
        if (folder / "pyvenv.cfg").exists():
            return True
        folder = folder.parent
    return False


@functools.cache
def _installed_trees() -> list[Path]:
    """Folders of installed code: the interpreter's prefixes, library paths, and Runlab itself."""
    trees = {Path(__file__).resolve().parents[1]}
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        trees.add(Path(prefix).resolve())
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        location = sysconfig.get_paths().get(name)
        if location:
            trees.add(Path(location).resolve())
    return sorted(trees)
