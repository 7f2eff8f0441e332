"""Where the client finds its server, token, project and notebook.

Each setting is resolved on its own, first match wins:

1. explicit: ``runlab.configure(...)``, or the JupyterLab extension's ``_kernel_attach``;
2. environment: ``RUNLAB_URL``, ``RUNLAB_TOKEN``, ``RUNLAB_PROJECT``, ``RUNLAB_NOTEBOOK``;
3. local default (server and token only): the companion server on this machine, found through
   ``$RUNLAB_DATA_DIR/server.json`` and ``admin-token`` (``~/.runlab`` by default).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Source = Literal["explicit", "environment", "local", "unset"]

# Where runs and datasets go when no project is set anywhere, like MLflow's "Default" experiment.
DEFAULT_PROJECT = "default"

ENV_URL = "RUNLAB_URL"
ENV_TOKEN = "RUNLAB_TOKEN"
ENV_PROJECT = "RUNLAB_PROJECT"
ENV_NOTEBOOK = "RUNLAB_NOTEBOOK"
ENV_DATA_DIR = "RUNLAB_DATA_DIR"
# Set by the runner agent in a job's kernel (see runlab/runners/agent.py): the job's run, which
# every run started in that kernel logs into, and the attempt, sent with every request so the
# server refuses what a stale attempt (one whose job moved to another runner) still sends.
ENV_RUN_ID = "RUNLAB_RUN_ID"
ENV_ATTEMPT_ID = "RUNLAB_ATTEMPT_ID"
# Also set in a job's kernel: the job's dataset versions as JSON, {"iris": "v3"}, used as the
# notebook's pins (what the JupyterLab extension sets with `_kernel_pins` in a browser).
ENV_DATASET_PINS = "RUNLAB_DATASET_PINS"
# The contract's ATTEMPT_HEADER.
ATTEMPT_HEADER = "X-Runlab-Attempt"

_ENV_NAMES = {
    "url": ENV_URL,
    "token": ENV_TOKEN,
    "project": ENV_PROJECT,
    "notebook_path": ENV_NOTEBOOK,
}

# Values given to configure() / _kernel_attach(); None means "not given here".
_explicit: dict[str, str | None] = dict.fromkeys(_ENV_NAMES)


@dataclass(frozen=True)
class Settings:
    """The resolved settings, and where each one came from."""

    url: str | None
    token: str | None
    project: str | None
    notebook_path: str | None
    sources: dict[str, Source] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalServer:
    """What the companion server on this machine wrote into its data directory."""

    url: str | None
    token: str | None


def data_dir() -> Path:
    """The local companion server's data directory."""
    return Path(os.environ.get(ENV_DATA_DIR) or "~/.runlab").expanduser()


def read_local_server(directory: Path | None = None) -> LocalServer | None:
    """Read ``server.json`` and ``admin-token``; None when neither is usable."""
    directory = directory if directory is not None else data_dir()
    url: str | None = None
    token: str | None = None
    try:
        info = json.loads((directory / "server.json").read_text(encoding="utf-8"))
        if isinstance(info, dict) and isinstance(info.get("url"), str):
            url = _clean_url(info["url"])
    except (OSError, ValueError):
        pass
    with contextlib.suppress(OSError):
        token = (directory / "admin-token").read_text(encoding="utf-8").strip() or None
    if url is None and token is None:
        return None
    return LocalServer(url=url, token=token)


def configure(
    url: str | None = None,
    token: str | None = None,
    project: str | None = None,
    notebook_path: str | None = None,
) -> Settings:
    """Set settings explicitly (they win over environment variables); None leaves one as is."""
    given = {"url": url, "token": token, "project": project, "notebook_path": notebook_path}
    for name, value in given.items():
        if value is not None:
            _explicit[name] = _clean_url(value) if name == "url" else value
    return resolve()


def reset() -> None:
    """Forget every explicit setting, falling back to the environment and the local server."""
    for name in _explicit:
        _explicit[name] = None


def resolve() -> Settings:
    """Resolve every setting from the explicit values, the environment and the local server."""
    values: dict[str, str | None] = {}
    sources: dict[str, Source] = {}
    for name, env_name in _ENV_NAMES.items():
        explicit = _explicit[name]
        from_env = os.environ.get(env_name) or None
        if explicit:
            values[name], sources[name] = explicit, "explicit"
        elif from_env:
            values[name] = _clean_url(from_env) if name == "url" else from_env
            sources[name] = "environment"
        else:
            values[name], sources[name] = None, "unset"

    local: LocalServer | None = None
    if values["url"] is None:
        local = read_local_server()
        if local is not None and local.url is not None:
            values["url"], sources["url"] = local.url, "local"
    if values["token"] is None and values["url"] is not None:
        local = local if local is not None else read_local_server()
        # The local admin token only ever goes to the local server it belongs to.
        if (
            local is not None
            and local.token is not None
            and local.url is not None
            and _same_server(local.url, values["url"])
        ):
            values["token"], sources["token"] = local.token, "local"

    return Settings(
        url=values["url"],
        token=values["token"],
        project=values["project"],
        notebook_path=values["notebook_path"],
        sources=sources,
    )


def job_run_id() -> str | None:
    """The job's run when this process is a runner job's kernel (RUNLAB_RUN_ID), else None."""
    return os.environ.get(ENV_RUN_ID) or None


def attempt_id() -> str | None:
    """The runner job attempt this process belongs to (RUNLAB_ATTEMPT_ID), else None."""
    return os.environ.get(ENV_ATTEMPT_ID) or None


def project_for(explicit: str | None = None, settings: Settings | None = None) -> str:
    """The project a run or a dataset belongs to: ``explicit`` when given, else the configured one
    (in JupyterLab, the notebook's), else ``default``. Runs and datasets both ask here."""
    if explicit:
        return explicit
    settings = settings if settings is not None else resolve()
    return settings.project or DEFAULT_PROJECT


def _clean_url(url: str) -> str:
    return url.strip().rstrip("/")


def _same_server(a: str, b: str) -> bool:
    def key(url: str) -> tuple[str, str, int | None]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host in ("localhost", "::1"):
            host = "127.0.0.1"
        return parts.scheme, host, parts.port

    try:
        return key(a) == key(b)
    except ValueError:
        return False
