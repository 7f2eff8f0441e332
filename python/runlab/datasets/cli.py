"""``runlab data …``: versioned datasets on the command line.

    runlab data add NAME PATH [-m MESSAGE]    commit a folder (or file) as the next version
    runlab data ls                            datasets of the project
    runlab data log NAME                      versions of a dataset, newest first
    runlab data get NAME[@vN] [DEST]          materialize a version (into DEST, if given)
    runlab data diff NAME FROM TO             what changed between two versions
    runlab data rm NAME@vN | NAME --all       delete a version, or a dataset with all its versions

``runlab.cli`` dispatches here; server, token and project come from its connection options.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runlab import config
from runlab.cli import UsageError
from runlab.client import Client, RunlabError
from runlab.format import format_bytes


def register(commands: Any, add_connection_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``data`` and its subcommands to the ``runlab`` parser's ``commands``."""
    data = commands.add_parser("data", help="versioned datasets: add, ls, log, get, diff, rm")
    data.set_defaults(usage_parser=data)
    data_commands = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    add = data_commands.add_parser("add", help="commit a folder or file as the next version of a dataset")
    add.add_argument("name", metavar="NAME")
    add.add_argument("path", metavar="PATH")
    add.add_argument("-m", "--message", default="", help="what this version is")
    add.set_defaults(run=_add)

    listing = data_commands.add_parser("ls", help="list the project's datasets")
    listing.set_defaults(run=_ls)

    log = data_commands.add_parser("log", help="list a dataset's versions, newest first")
    log.add_argument("name", metavar="NAME")
    log.set_defaults(run=_log)

    get = data_commands.add_parser("get", help="materialize a version in the local cache (and into DEST)")
    get.add_argument("ref", metavar="NAME[@vN]")
    get.add_argument("dest", metavar="DEST", nargs="?", help="a new folder to put the files in")
    get.add_argument(
        "--copy",
        action="store_true",
        help="write writable copies into DEST (default: read-only hardlinks to the cache where possible)",
    )
    get.set_defaults(run=_get)

    diff = data_commands.add_parser("diff", help="what changed between two versions")
    diff.add_argument("name", metavar="NAME")
    diff.add_argument("from_version", metavar="FROM")
    diff.add_argument("to_version", metavar="TO")
    diff.add_argument("--limit", type=int, default=50, help="files listed per category (default 50)")
    diff.set_defaults(run=_diff)

    rm = data_commands.add_parser("rm", help="delete a version (NAME@vN), or a whole dataset (NAME --all)")
    rm.add_argument("ref", metavar="NAME@vN | NAME")
    rm.add_argument("--all", action="store_true", help="delete the whole dataset, every version")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(run=_rm)

    for sub in (add, listing, log, get, diff, rm):
        add_connection_options(sub)
        sub.add_argument("--no-progress", action="store_true", help="no progress bars")


def _progress(args: argparse.Namespace) -> bool | None:
    # None: bars on a terminal only.
    return False if getattr(args, "no_progress", False) else None


def _handle(ref: str) -> Any:
    from runlab.datasets.api import Dataset

    return Dataset(ref)


# -- commands ---------------------------------------------------------------------------------------


def _add(args: argparse.Namespace) -> None:
    handle = _handle(args.name)
    if handle.requested_version:
        raise UsageError("give the dataset's name without @version to add a new version")
    path = Path(args.path)
    if not path.exists():
        raise RunlabError("not_found", f"{args.path} does not exist")
    version = handle.commit(path, message=args.message, progress=_progress(args))
    stats = version.commit_stats
    if version.is_new:
        print(
            f"Committed {version.ref} to project {version.project}: {_files(version.file_count)}, {format_bytes(version.size)}"
        )
    else:
        print(f"Unchanged: {version.ref} already has this content (no new version)")
    if stats is not None:
        print(
            f"  hashed {format_bytes(stats.hashed_bytes)} in {_files(stats.hashed_files)}, "
            f"uploaded {format_bytes(stats.uploaded_bytes)} in {stats.uploaded_chunks:,} new chunks "
            f"({format_bytes(stats.sent_bytes)} sent), {stats.seconds:.2f} s"
        )


def _ls(args: argparse.Namespace) -> None:
    from runlab.datasets.api import _parse_time

    project = config.project_for()
    try:
        datasets = Client.from_settings().list_datasets(project)
    except RunlabError as error:
        if error.code != "not_found":
            raise
        datasets = []  # a project is made by its first run or dataset commit
    if not datasets:
        print(f"No datasets in project {project} yet: `runlab data add NAME PATH` makes one.")
        return
    rows = []
    for item in sorted(datasets, key=lambda d: d["name"]):
        latest = item.get("latest") or {}
        rows.append(
            [
                item["name"],
                str(item.get("versionCount", 0)),
                latest.get("label", "-"),
                f"{latest.get('fileCount', 0):,}" if latest else "-",
                format_bytes(latest["size"]) if latest else "-",
                _when(_parse_time(latest.get("createdAt"))) if latest else "-",
            ]
        )
    _table(["NAME", "VERSIONS", "LATEST", "FILES", "SIZE", "UPDATED"], rows, right={1, 3, 4})


def _log(args: argparse.Namespace) -> None:
    handle = _handle(args.name)
    versions = handle.versions()
    rows = []
    for version in versions:
        summary = version.summary
        if summary is None:
            changes = "first version"
        else:
            changes = f"+{summary['added']} -{summary['removed']} ~{summary['changed']}"
        rows.append(
            [
                f"{version.label} (damaged)" if version.damaged else version.label,
                _when(version.created),
                f"{version.file_count:,}",
                format_bytes(version.size),
                changes,
                version.hash[:12],
                (version.produced_by_run_id or "-")[:12],
                version.author or "-",
                (version.message.splitlines() or [""])[0][:60],
            ]
        )
    print(f"{handle.name} in project {handle.project}: {len(versions)} version{'s' if len(versions) != 1 else ''}")
    if any(version.damaged for version in versions):
        print(
            "Damaged versions lost chunks to `runlab-server fsck --repair`; committing the same files again restores them."
        )
    _table(["VERSION", "CREATED", "FILES", "SIZE", "CHANGES", "HASH", "RUN", "AUTHOR", "MESSAGE"], rows, right={2, 3})


def _rm(args: argparse.Namespace) -> None:
    handle = _handle(args.ref)
    if handle.requested_version is None and not args.all:
        raise UsageError(
            f"to delete one version give {handle.name}@vN (`runlab data log {handle.name}` lists them); "
            f"to delete {handle.name} with every version add --all"
        )
    if handle.requested_version is not None and args.all:
        raise UsageError("--all deletes the whole dataset: give its NAME without @version")
    if handle.requested_version is not None:
        version = handle.version(handle.requested_version)  # 404 here names what does not exist
        what = f"{version.ref} ({_files(version.file_count)})"
    else:
        count = handle.client.get_dataset(handle.project, handle.name)["versionCount"]
        what = f"dataset {handle.name} and its {count} version{'s' if count != 1 else ''}"
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"deleting {what} cannot be undone: add --yes to confirm")
        answer = input(f"Delete {what} from project {handle.project}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return
    handle.delete()
    print(f"Deleted {what}. `npx runlab-server gc` on the server frees the space it alone used.")


def _get(args: argparse.Namespace) -> None:
    from runlab.datasets.api import materialize, normalize_version, place_files
    from runlab.datasets.transfer import FetchStats, entries_from_manifest

    handle = _handle(args.ref)
    label = handle.requested_version or "latest"
    dest = Path(args.dest) if args.dest else None
    if dest is not None and dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} already exists and is not an empty folder; choose a new folder")
    stats = FetchStats()
    started = time.perf_counter()
    version, folder = materialize(
        handle.client,
        handle.cache,
        handle.project,
        handle.name,
        normalize_version(label),
        progress=_progress(args),
        stats=stats,
    )
    if dest is None:
        print(folder)
    else:
        entries = entries_from_manifest(
            handle.client.dataset_manifest(handle.project, handle.name, version.label)["files"]
        )
        if dest.exists():
            dest.rmdir()
        dest.parent.mkdir(parents=True, exist_ok=True)
        temporary = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            place_files(handle.cache, entries, temporary, link=not args.copy)
            os.rename(temporary, dest)
        finally:
            if temporary.exists():
                import shutil

                shutil.rmtree(temporary, ignore_errors=True)
        print(dest)
    print(
        f"{version.ref}: {_files(version.file_count)}, downloaded {stats.chunks_fetched:,} chunks "
        f"({format_bytes(stats.bytes_fetched)}), {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )


def _diff(args: argparse.Namespace) -> None:
    handle = _handle(args.name)
    diff = handle.diff(args.from_version, args.to_version, limit=args.limit)
    s = diff.summary
    print(f"{handle.name}: {diff.from_version.label} → {diff.to_version.label}")
    print(
        f"  {s['added']} added ({format_bytes(s['bytesAdded'])}), {s['removed']} removed "
        f"({format_bytes(s['bytesRemoved'])}), {s['changed']} changed ({format_bytes(s['bytesChanged'])}), "
        f"{s['unchanged']} unchanged; {format_bytes(s['newChunkBytes'])} of new content"
    )
    for mark, entries in (("A", diff.added), ("D", diff.removed), ("M", diff.changed)):
        for entry in entries:
            sizes = _size_change(entry.get("fromSize"), entry.get("toSize"))
            print(f"  {mark} {entry['path']}  {sizes}")
    if diff.truncated:
        print(f"  (lists cut at {args.limit} per category; --limit N shows more)")


# -- formatting -------------------------------------------------------------------------------------


def _files(count: int) -> str:
    return "1 file" if count == 1 else f"{count:,} files"


def _size_change(before: int | None, after: int | None) -> str:
    if before is None and after is not None:
        return format_bytes(after)
    if after is None and before is not None:
        return format_bytes(before)
    return f"{format_bytes(before or 0)} → {format_bytes(after or 0)}"


def _when(moment: Any) -> str:
    if moment is None:
        return "-"
    return str(moment.astimezone().strftime("%Y-%m-%d %H:%M"))


def _table(headers: list[str], rows: list[list[str]], *, right: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in rows)) if rows else len(headers[i]) for i in range(len(headers))
    ]

    def line(cells: list[str]) -> str:
        parts = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    print(line(headers))
    for row in rows:
        print(line(row))
