"""``runlab models …``: the model registry on the command line.

    runlab models list                                   registered models, their versions and aliases
    runlab models versions NAME                          a model's versions, newest first
    runlab models show NAME[@SELECTOR] [--json]          one version: lineage, signature, requirements, files
    runlab models alias NAME ALIAS VERSION [--reason R]  point an alias at a version (recorded in its history)
    runlab models rollback NAME ALIAS [--reason R]       move an alias back to its previous version
    runlab models history NAME [--alias ALIAS]           every move of the model's aliases, newest first
    runlab models dockerfile [REF] [-o FILE] [--force]   the serving image's Dockerfile (Kubernetes deployments)

``runlab.cli`` dispatches here; server and token come from its connection options. Exit codes:
0 done, 1 the server refused or could not answer (the message says why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from typing import Any

from runlab.cli import UsageError
from runlab.client import Client, RunlabError
from runlab.format import format_bytes
from runlab.models.refs import api_path as _path
from runlab.models.refs import check_name, parse_ref


def register(commands: Any, add_connection_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``models`` and its subcommands to the ``runlab`` parser's ``commands``."""
    models = commands.add_parser(
        "models", help="the model registry: list, versions, show, alias, rollback, history, dockerfile"
    )
    models.set_defaults(usage_parser=models)
    sub = models.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    listing = sub.add_parser("list", help="registered models with their versions and aliases")
    listing.add_argument("--in-project", metavar="PROJECT", help="only models with a version logged in PROJECT")
    listing.set_defaults(run=_list)

    versions = sub.add_parser("versions", help="a model's versions, newest first")
    versions.add_argument("name", metavar="NAME")
    versions.set_defaults(run=_versions)

    show = sub.add_parser("show", help="one version (default: the latest): lineage, signature, requirements")
    show.add_argument("ref", metavar="NAME[@SELECTOR]", help="churn, churn@v3, churn@latest or churn@production")
    show.add_argument("--json", action="store_true", help="print the version as JSON")
    show.set_defaults(run=_show)

    alias = sub.add_parser("alias", help="point an alias (production, staging, …) at a version")
    alias.add_argument("name", metavar="NAME")
    alias.add_argument("alias", metavar="ALIAS")
    alias.add_argument("version", metavar="VERSION", help="the version number (3 or v3)")
    alias.add_argument("--reason", default="", help="why (kept in the alias history)")
    alias.set_defaults(run=_alias)

    rollback = sub.add_parser("rollback", help="move an alias back to the version it pointed at before")
    rollback.add_argument("name", metavar="NAME")
    rollback.add_argument("alias", metavar="ALIAS")
    rollback.add_argument("--reason", default="", help="why (kept in the alias history)")
    rollback.set_defaults(run=_rollback)

    history = sub.add_parser("history", help="every move of the model's aliases, newest first")
    history.add_argument("name", metavar="NAME")
    history.add_argument("--alias", help="only this alias's moves")
    history.add_argument("--limit", type=int, default=200, help="at most this many moves (default 200)")
    history.set_defaults(run=_history)

    for parser in (listing, versions, show, alias, rollback, history):
        add_connection_options(parser)

    from runlab.models import dockerfile

    dockerfile.register(sub, add_connection_options)


def _client() -> Client:
    return Client.from_settings()


def _name(text: str) -> str:
    try:
        return check_name(text)
    except RunlabError as error:
        raise UsageError(error.message) from None


def _version_number(text: str) -> int:
    match = re.fullmatch(r"v?([1-9][0-9]{0,8})", text.strip())
    if match is None:
        raise UsageError(f"VERSION {text!r}: give a version number, as 3 or v3")
    return int(match.group(1))


def _aliases(aliases: list[str] | dict[str, int]) -> str:
    if isinstance(aliases, dict):
        return ", ".join(f"@{alias}→v{version}" for alias, version in sorted(aliases.items())) or "-"
    return ", ".join(f"@{alias}" for alias in sorted(aliases)) or "-"


def _when(timestamp: str | None) -> str:
    return (timestamp or "")[:19].replace("T", " ")


def _list(args: argparse.Namespace) -> None:
    params = {"project": args.in_project} if args.in_project else None
    models = _client().request("GET", "/api/models", params=params)["models"]
    if not models:
        print("No models. Log one from a run with runlab.model(model, name=..., input_example=...).")
        return
    for entry in models:
        latest = f"v{entry['latestVersion']}" if entry.get("latestVersion") else "-"
        count = entry["versionCount"]
        print(
            f"{entry['name']:<24} {count:>3} {'version ' if count == 1 else 'versions'}  latest {latest:<5} "
            f"{_aliases(entry.get('aliases') or {}):<30} updated {_when(entry.get('updatedAt'))}"
        )


def _versions(args: argparse.Namespace) -> None:
    name = _name(args.name)
    versions = _client().request("GET", _path(name, "versions"))["versions"]
    if not versions:
        print(f"{name} has no versions yet.")
        return
    for version in versions:
        run = version.get("runName") or version.get("runId") or "-"
        print(
            f"v{version['version']:<4} {version['flavor']:<8} {_aliases(version.get('aliases') or []):<24} "
            f"run {run:<20} {format_bytes(int(version.get('sizeBytes') or 0)):>9}  {_when(version.get('createdAt'))}"
        )


def _fields(fields: list[dict[str, Any]] | None) -> str:
    if not fields:
        return "-"
    shown = [
        f"{field.get('name') or '(tensor)'}: {field['datatype']}"
        + (f"{list(field['shape'])}" if field.get("kind") == "tensor" else "")
        for field in fields[:12]
    ]
    more = f", … ({len(fields) - 12} more)" if len(fields) > 12 else ""
    return ", ".join(shown) + more


def _show(args: argparse.Namespace) -> None:
    from runlab.models.registry import resolve

    try:
        parse_ref(args.ref)
    except RunlabError as error:
        raise UsageError(error.message) from None
    version = resolve(args.ref, client=_client())
    if args.json:
        print(json.dumps(version, indent=2))
        return
    signature = version.get("signature") or {}
    datasets = ", ".join(d["ref"] for d in version.get("datasetVersions") or []) or "-"
    metrics = ", ".join(f"{k}={v:g}" for k, v in (version.get("runMetrics") or {}).items() if v is not None) or "-"
    lines = [
        f"{version['modelName']}@v{version['version']}  ({version['flavor']}, {version.get('source', 'runlab')})",
        f"  id            {version['id']}",
        f"  aliases       {_aliases(version.get('aliases') or [])}",
        f"  run           {version.get('runName') or '-'} ({version.get('runId') or '-'}) "
        f"in project {version.get('projectName') or '-'}",
        f"  notebook      {version.get('notebookPath') or '-'} @ {(version.get('snapshotCommit') or '-')[:10]}",
        f"  datasets      {datasets}",
        f"  run metrics   {metrics}",
        f"  inputs        {_fields(signature.get('inputs'))}",
        f"  outputs       {_fields(signature.get('outputs'))}",
        f"  requirements  {', '.join(version.get('requirements') or []) or '-'}",
        f"  files         {', '.join(f['path'] for f in version.get('files') or [])} "
        f"({format_bytes(int(version.get('sizeBytes') or 0))})",
        f"  profile       {'yes' if version.get('hasProfile') else 'no'}",
        f"  created       {_when(version.get('createdAt'))} by {version.get('createdBy') or '-'}",
    ]
    if version.get("description"):
        lines.insert(1, f"  {version['description']}")
    print("\n".join(lines))


def _move_text(move: dict[str, Any]) -> str:
    before = f"v{move['fromVersion']}" if move.get("fromVersion") else "(new)"
    after = f"v{move['toVersion']}" if move.get("toVersion") else "(removed)"
    reason = f"  — {move['reason']}" if move.get("reason") else ""
    return f"{move['modelName']}@{move['alias']}: {before} → {after} ({move['action']}){reason}"


def _alias(args: argparse.Namespace) -> None:
    name = _name(args.name)
    number = _version_number(args.version)
    move = _client().request("PUT", _path(name, "aliases", args.alias), json={"version": number, "reason": args.reason})
    print(_move_text(move))


def _rollback(args: argparse.Namespace) -> None:
    name = _name(args.name)
    move = _client().request("POST", _path(name, "aliases", args.alias, "rollback"), json={"reason": args.reason})
    print(_move_text(move))


def _history(args: argparse.Namespace) -> None:
    name = _name(args.name)
    params: dict[str, Any] = {"limit": args.limit}
    if args.alias:
        params["alias"] = args.alias
    moves = _client().request("GET", _path(name, "alias-history"), params=params)["moves"]
    if not moves:
        print(f"No alias moves for {name}" + (f"@{args.alias}" if args.alias else "") + ".")
        return
    for move in moves:
        print(f"{_when(move.get('movedAt'))}  {move.get('movedBy') or '-':<12} {_move_text(move)}")
