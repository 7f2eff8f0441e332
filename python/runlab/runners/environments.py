"""``--env recreate``: a virtual environment with exactly the packages the original run recorded.

Built with uv (on PATH, next to this Python, or installed into this Python with pip on first
use), once per package set: ``<work-dir>/envs/<sha256 of the sorted package list>``, reused by
every later job with the same packages. The environment gets ipykernel (the recorded version
when the run had one) and a kernelspec, ``runlab-env-<first 12 hex digits>``, in
``<work-dir>/jupyter/kernels``, which the agent puts on JUPYTER_PATH.

Runlab itself is not installed from the package index (the recorded ``runlab==…`` is this
project, which may be an unreleased checkout): the environment imports the runner's own Runlab
through a ``.pth`` file, so the job's kernel logs with the same client as the agent.
The environment's Python is the runner's own (the run records packages, not the interpreter).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import runlab

# The uv release this project pins (python/requirements-dev.txt), installed when none is found.
UV_REQUIREMENT = "uv==0.13.8"
# Building a large environment from an empty cache takes minutes; a hung index must not hang a job.
BUILD_TIMEOUT_S = 30 * 60
_READY = ".runlab-ready"
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


class EnvironmentBuildError(RuntimeError):
    """The original run's environment could not be built; the message says why."""


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_key(packages: Sequence[str]) -> str:
    """The cache key of a package set: sha256 of the sorted list, one package a line."""
    return hashlib.sha256("\n".join(sorted(packages)).encode("utf-8")).hexdigest()


def requirements(packages: Sequence[str]) -> list[str]:
    """What to install: the recorded ``name==version`` lines, without Runlab (imported from the
    runner instead), with ipykernel added when the run had none."""
    wanted: list[str] = []
    has_ipykernel = False
    for package in packages:
        name = re.split(r"[=<>!~ ;\[]", package.strip(), maxsplit=1)[0]
        if not name:
            continue
        if _normalized(name) == "runlab":
            continue
        if _normalized(name) == "ipykernel":
            has_ipykernel = True
        wanted.append(package.strip())
    if not has_ipykernel:
        wanted.append("ipykernel")
    return sorted(wanted, key=str.lower)


def find_uv(log: Callable[[str], None] = print) -> str:
    """The uv executable: on PATH, beside this Python, or installed into it with pip now."""
    candidates = [shutil.which("uv"), str(Path(sys.executable).parent / "uv")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        pass
    log(f"uv not found; installing {UV_REQUIREMENT} with pip")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", UV_REQUIREMENT], capture_output=True, text=True
    )
    if install.returncode != 0:
        raise EnvironmentBuildError(
            f"uv is needed to recreate environments and `pip install {UV_REQUIREMENT}` failed: {_tail(install.stderr)}"
        )
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError) as error:
        raise EnvironmentBuildError(f"uv was installed but cannot be found: {error}") from None


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept) or "(no output)"


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def kernel_name_for(key: str) -> str:
    return f"runlab-env-{key[:12]}"


def ensure_environment(packages: Sequence[str], work_dir: Path, *, log: Callable[[str], None] = print) -> str:
    """The kernel name of an environment with ``packages``, built now unless cached. Raises
    EnvironmentBuildError with what went wrong."""
    if not packages:
        raise EnvironmentBuildError(
            "the original run recorded no packages, so its environment cannot be recreated (run it with --env runner)"
        )
    key = package_key(packages)
    env_dir = work_dir / "envs" / key
    kernels_dir = work_dir / "jupyter" / "kernels"
    kernel_name = kernel_name_for(key)
    with _lock_for(key):
        env_dir.parent.mkdir(parents=True, exist_ok=True)
        # Another agent on the same work dir may be building it too: one builds, the other waits.
        with open(env_dir.parent / f".{key}.lock", "w") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            if not (env_dir / _READY).exists():
                _build(packages, env_dir, log)
            python = env_dir / "bin" / "python"
            spec_dir = kernels_dir / kernel_name
            spec_dir.mkdir(parents=True, exist_ok=True)
            (spec_dir / "kernel.json").write_text(
                json.dumps(
                    {
                        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                        "display_name": f"Runlab recreated environment {key[:12]}",
                        "language": "python",
                        "metadata": {"runlab": {"packages": len(packages)}},
                    },
                    indent=1,
                )
            )
    return kernel_name


def _build(packages: Sequence[str], env_dir: Path, log: Callable[[str], None]) -> None:
    uv = find_uv(log)
    if env_dir.exists():
        shutil.rmtree(env_dir)  # a build that did not finish
    wanted = requirements(packages)
    log(f"building the original run's environment ({len(wanted)} packages) in {env_dir}")

    def run(command: list[str], what: str) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise EnvironmentBuildError(f"{what} took longer than {BUILD_TIMEOUT_S // 60} minutes") from None
        if done.returncode != 0:
            shutil.rmtree(env_dir, ignore_errors=True)
            raise EnvironmentBuildError(f"{what} failed: {_tail(done.stderr or done.stdout)}")
        return done

    run([uv, "venv", "--quiet", "--python", sys.executable, str(env_dir)], "creating the virtual environment")
    python = env_dir / "bin" / "python"
    requirements_file = env_dir / "runlab-requirements.txt"
    requirements_file.write_text("\n".join(wanted) + "\n")
    run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(requirements_file)],
        f"installing the original run's {len(wanted)} packages",
    )
    purelib = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], "finding site-packages"
    ).stdout.strip()
    # The runner's own Runlab, importable in the job's kernel (see the module docstring).
    (Path(purelib) / "runlab-from-runner.pth").write_text(str(Path(runlab.__file__).resolve().parents[1]) + "\n")
    (env_dir / _READY).write_text("\n".join(sorted(packages)) + "\n")
