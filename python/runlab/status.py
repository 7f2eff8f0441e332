"""Is this kernel connected to its companion server, and if not, what should the user do?

The state words are the ones the extension's panel shows: ``connected``, ``unreachable``,
``unauthorized``, ``version mismatch``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from runlab import config
from runlab.client import Client, RunlabError, ServerUnreachable, Timeout
from runlab.config import Settings, resolve

State = Literal["connected", "unreachable", "unauthorized", "version mismatch"]

# Short: status is asked interactively, and a stopped server must not hold up the cell.
STATUS_TIMEOUT: Timeout = (1.0, 2.0)

HINT_UNREACHABLE = (
    "Start it with `npm start` or `npx runlab-server serve` (in a Runlab checkout), or set RUNLAB_URL "
    "to a running server."
)
HINT_UNAUTHORIZED = (
    "Create a token with `npx runlab-server token create --name <name>` (in a Runlab checkout) and set RUNLAB_TOKEN "
    "(or `%runlab configure --token <secret>`)."
)


@dataclass(frozen=True)
class Status:
    """What ``runlab.status()`` and ``%runlab status`` report."""

    state: State
    client_version: str
    url: str | None
    project: str | None
    notebook_path: str | None
    server_version: str | None = None
    token_name: str | None = None
    # Why the state is not `connected`, and what to do about it.
    reason: str = ""
    hint: str = ""

    @property
    def connected(self) -> bool:
        return self.state == "connected"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        server = self.url or "(not configured)"
        if self.state == "connected":
            server_line = f"{server} — connected (server {self.server_version}, token {self.token_name})"
        else:
            server_line = f"{server} — {self.state}" + (f": {self.reason}" if self.reason else "")
        lines = [f"Runlab {self.client_version}", f"  server:    {server_line}"]
        if self.hint:
            lines.append(f"             {self.hint}")
        unset = f"(not set: set RUNLAB_PROJECT) — runs and datasets go to {config.DEFAULT_PROJECT}"
        lines.append(f"  project:   {self.project or unset}")
        lines.append(f"  notebook:  {self.notebook_path or '(not set)'}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def check_status(settings: Settings | None = None, *, timeout: Timeout = STATUS_TIMEOUT) -> Status:
    """Check the server, its version and the token. Never raises for connection problems."""
    import runlab  # read at call time, so the version reported is the one actually loaded

    settings = settings if settings is not None else resolve()
    base: dict[str, Any] = {
        "client_version": runlab.__version__,
        "url": settings.url,
        "project": settings.project,
        "notebook_path": settings.notebook_path,
    }
    if settings.url is None:
        return Status(state="unreachable", reason="no server configured", hint=HINT_UNREACHABLE, **base)

    with Client(settings.url, settings.token, timeout=timeout) as client:
        try:
            server_version = str(client.health().get("version", "?"))
        except ServerUnreachable as error:
            return Status(state="unreachable", reason=_unreachable_reason(error), hint=HINT_UNREACHABLE, **base)
        except RunlabError as error:
            return Status(
                state="unreachable",
                reason=f"{settings.url} does not look like a Runlab server ({error.message})",
                hint=HINT_UNREACHABLE,
                **base,
            )
        base["server_version"] = server_version

        if not is_compatible_version(server_version, base["client_version"]):
            return Status(
                state="version mismatch",
                reason=f"client {base['client_version']}, server {server_version}",
                hint=_upgrade_hint(base["client_version"], server_version),
                **base,
            )

        if not settings.token:
            return Status(state="unauthorized", reason="no token", hint=HINT_UNAUTHORIZED, **base)
        try:
            who = client.whoami()
        except ServerUnreachable as error:
            return Status(state="unreachable", reason=_unreachable_reason(error), hint=HINT_UNREACHABLE, **base)
        except RunlabError as error:
            if error.status in (401, 403):
                return Status(state="unauthorized", reason=error.message, hint=HINT_UNAUTHORIZED, **base)
            return Status(state="unreachable", reason=error.message, hint=HINT_UNREACHABLE, **base)
        return Status(state="connected", token_name=str(who.get("name", "?")), **base)


def _unreachable_reason(error: ServerUnreachable) -> str:
    cause = error.__cause__
    text = str(cause) if cause is not None else error.message
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused"
    if "timed out" in text.lower() or "did not answer" in error.message:
        return "no answer in time"
    if "Name or service not known" in text or "NameResolution" in text:
        return "unknown host"
    return "cannot connect"


def is_compatible_version(server_version: str, client_version: str) -> bool:
    """Same major.minor means a compatible contract; patch releases may differ (as in the extension)."""
    return _version_key(server_version)[:2] == _version_key(client_version)[:2]


def _upgrade_hint(client_version: str, server_version: str) -> str:
    if _version_key(client_version) < _version_key(server_version):
        return (
            f"Upgrade the runlab Python package to {server_version} (pip install -U runlab), then restart the kernel."
        )
    return f"Upgrade the Runlab server to {client_version}, then restart it."


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])
