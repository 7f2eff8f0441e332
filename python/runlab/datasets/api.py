"""``runlab.dataset("iris")``: versioned datasets from Python.

    iris = runlab.dataset("iris")
    v = iris.commit("data/iris/", message="cleaned labels")   # DatasetVersion iris@v3
    folder = runlab.dataset("iris@v3").path()                  # materialized, read-only

Which version ``.path()`` uses: an explicit ``@vN``; else the notebook's pin (set by the
JupyterLab extension through ``runlab._kernel_pins``); else the latest. Every ``.path()`` records
``name@vN`` as an input of the current run (or of the next run started in this process).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from runlab import config
from runlab.client import Client, RunlabError, ServerUnreachable
from runlab.datasets.cache import LocalCache, cached_mode
from runlab.datasets.transfer import (
    CommitStats,
    FetchStats,
    ManifestEntry,
    build_files,
    commit,
    entries_from_manifest,
    path_problem,
)
from runlab.format import format_bytes

# The contract's DatasetName and VersionRef, patterns exactly as the OpenAPI document states them.
DATASET_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
DATASET_NAME_MAX_LENGTH = 64
VERSION_REF_PATTERN = r"^(latest|v?[1-9][0-9]{0,8})$"
_NAME = re.compile(DATASET_NAME_PATTERN)
_VERSION = re.compile(VERSION_REF_PATTERN)

# The notebook's pinned versions, {dataset name: "v3"}; set by the JupyterLab extension.
_pins: dict[str, str] = {}


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``"iris"`` → ("iris", None); ``"iris@v3"`` / ``"iris@3"`` → ("iris", "v3");
    ``"iris@latest"`` → ("iris", "latest")."""
    name, at, version = str(ref).partition("@")
    if len(name) > DATASET_NAME_MAX_LENGTH or not _NAME.fullmatch(name):
        raise RunlabError(
            "invalid_request",
            f"{ref!r} is not a dataset name: start with a letter or digit; use letters, digits, . _ - "
            "(and @v3 for a version)",
        )
    if not at:
        return name, None
    return name, normalize_version(version, ref)


def normalize_version(version: str, ref: str | None = None) -> str:
    text = version.strip()
    if not _VERSION.fullmatch(text):
        raise RunlabError(
            "invalid_request",
            f"{(ref or version)!r}: the version must be v1, v2, … (or 1, 2, …) or latest",
        )
    return text if text == "latest" else f"v{text.removeprefix('v')}"


def set_pins(pins: Mapping[str, str] | None) -> dict[str, str]:
    """Replace the notebook's pins, ``{"iris": "v3"}``; invalid entries are dropped."""
    cleaned: dict[str, str] = {}
    for name, version in (pins or {}).items():
        try:
            parsed_name, _ = parse_ref(str(name))
            normalized = normalize_version(str(version))
        except RunlabError:
            continue
        if normalized != "latest":
            cleaned[parsed_name] = normalized
    _pins.clear()
    _pins.update(cleaned)
    return dict(_pins)


def pins() -> dict[str, str]:
    return dict(_pins)


def _pins_from_environment() -> None:
    """In a runner job's kernel the job's dataset versions arrive as RUNLAB_DATASET_PINS (JSON)."""
    text = os.environ.get(config.ENV_DATASET_PINS)
    if not text:
        return
    try:
        value = json.loads(text)
    except ValueError:
        return
    if isinstance(value, dict):
        set_pins({str(name): str(version) for name, version in value.items()})


_pins_from_environment()


def address_key(url: str) -> str:
    """A folder name for a server address: its host and port (and path). Only for a server never
    reached from this cache, whose identity is unknown."""
    parts = urlsplit(url)
    text = (parts.hostname or "server") + (f"-{parts.port}" if parts.port else "") + parts.path
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "server"


def server_key(client: Client, cache: LocalCache) -> str:
    """What the cache files a server's versions and known chunks under: its identity, so the
    same server on another port (a new `npm start`) finds its cache, and another server on the
    same address never reads this one's. While the server is down, the identity last seen at
    its address."""
    try:
        identity = client.server_id()
    except ServerUnreachable:
        return cache.server_at(client.url) or address_key(client.url)
    cache.remember_server(client.url, identity)
    return identity


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable version of a dataset."""

    dataset: str
    project: str
    number: int
    label: str
    hash: str
    size: int
    file_count: int
    message: str
    author: str
    created: datetime | None
    produced_by_run_id: str | None
    id: str
    summary: dict[str, Any] | None = None
    # Some chunks were dropped as corrupt by `runlab-server fsck --repair`; committing the same files heals it.
    damaged: bool = False
    # From commit(): False when the content equalled the latest version, which is answered.
    is_new: bool | None = None
    # From commit(): what it hashed and uploaded.
    commit_stats: CommitStats | None = field(default=None, compare=False, repr=False)
    _handle: Dataset | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_server(cls, data: Mapping[str, Any], handle: Dataset | None = None, **extra: Any) -> DatasetVersion:
        return cls(
            dataset=str(data["datasetName"]),
            project=str(data["projectName"]),
            number=int(data["number"]),
            label=str(data.get("label") or f"v{data['number']}"),
            hash=str(data["hash"]),
            size=int(data["size"]),
            file_count=int(data["fileCount"]),
            message=str(data.get("message") or ""),
            author=str(data.get("author") or ""),
            created=_parse_time(data.get("createdAt")),
            produced_by_run_id=data.get("producedByRunId"),
            id=str(data["id"]),
            summary=data.get("summary"),
            damaged=bool(data.get("damaged", False)),
            _handle=handle,
            **extra,
        )

    @property
    def ref(self) -> str:
        """``iris@v3``"""
        return f"{self.dataset}@{self.label}"

    def path(self, *, progress: bool | None = True) -> Path:
        """Materialize this version in the local cache and return its folder (see Dataset.path)."""
        handle = self._handle or Dataset(self.dataset, project=self.project)
        return handle._materialize(self.label, progress=progress)

    def __repr__(self) -> str:
        when = self.created.strftime("%Y-%m-%d %H:%M UTC") if self.created else "?"
        files = "1 file" if self.file_count == 1 else f"{self.file_count:,} files"
        text = f"<DatasetVersion {self.ref} · {files} · {format_bytes(self.size)} · {self.hash[:12]} · {when}"
        if self.message:
            text += f" · {self.message.splitlines()[0][:60]!r}"
        if self.is_new is False:
            text += " · unchanged"
        return text + ">"


@dataclass(frozen=True)
class DatasetDiff:
    """What changed between two versions (the server's diff)."""

    from_version: DatasetVersion
    to_version: DatasetVersion
    summary: dict[str, Any]
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    truncated: bool

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<DatasetDiff {self.from_version.ref} → {self.to_version.label}: +{s['added']} added, "
            f"-{s['removed']} removed, ~{s['changed']} changed, {s['unchanged']} unchanged; "
            f"{format_bytes(s['newChunkBytes'])} of new content>"
        )


class Dataset:
    """A named dataset in a project, optionally at one version (``iris@v3``)."""

    def __init__(
        self,
        ref: str,
        *,
        project: str | None = None,
        client: Client | None = None,
        cache: LocalCache | None = None,
    ) -> None:
        self.name, self.requested_version = parse_ref(ref)
        self._project = project
        self._client = client
        self._cache = cache

    def __repr__(self) -> str:
        version = f"@{self.requested_version}" if self.requested_version else ""
        return f"<Dataset {self.name}{version} project={self.project!r}>"

    # -- where -------------------------------------------------------------------------------------

    @property
    def project(self) -> str:
        """The project given, else the one runs go to (see ``runlab.config.project_for``)."""
        return config.project_for(self._project)

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client.from_settings()
        return self._client

    @property
    def cache(self) -> LocalCache:
        if self._cache is None:
            self._cache = _shared_cache()
        return self._cache

    # -- committing --------------------------------------------------------------------------------

    def commit(
        self, path: str | os.PathLike[str], message: str | None = None, *, progress: bool | None = True
    ) -> DatasetVersion:
        """Commit the files under ``path`` (a folder, or one file) as the next version. Unchanged
        content answers the latest version (``is_new`` False). Inside an active run, the version
        becomes the run's output (a data run)."""
        from runlab import runs

        run_id: str | None = None
        run = runs.active_run()
        if run is not None and not run.ended:
            if run.id is None:
                run.flush(timeout=30)  # the run is being created in the background
            run_id = run.id
            if run_id is None:
                from runlab.warning import warn

                warn("the current run has no id yet (the server is unreachable); committing without linking it.")
        version, created, stats = commit(
            self.client,
            self.cache,
            server_key(self.client, self.cache),
            self.project,
            self.name,
            Path(path),
            message=message or "",
            run_id=run_id,
            progress=progress,
        )
        return DatasetVersion.from_server(version, self, is_new=created, commit_stats=stats)

    def delete(self) -> None:
        """Delete this version (``runlab.dataset("iris@v2").delete()``), or, for a handle without
        a version, the whole dataset with every version. Version numbers are never given again;
        runs keep their record of what they read. `npx runlab-server gc` on the server frees the space."""
        if self.requested_version is not None:
            self.client.delete_dataset_version(self.project, self.name, normalize_version(self.requested_version))
        else:
            self.client.delete_dataset(self.project, self.name)

    # -- reading -----------------------------------------------------------------------------------

    def version(self, ref: str | None = None) -> DatasetVersion:
        """The version ``ref`` (``v3``, ``3``, ``latest``); default: this handle's version, the
        notebook's pin, or the latest."""
        label = normalize_version(ref) if ref is not None else self._default_version()
        return DatasetVersion.from_server(self.client.get_dataset_version(self.project, self.name, label), self)

    def versions(self) -> list[DatasetVersion]:
        """Every version, newest first."""
        return [DatasetVersion.from_server(v, self) for v in self.client.list_dataset_versions(self.project, self.name)]

    def diff(self, from_version: str, to_version: str, *, limit: int | None = None) -> DatasetDiff:
        answer = self.client.dataset_diff(
            self.project, self.name, normalize_version(from_version), normalize_version(to_version), limit
        )
        return DatasetDiff(
            from_version=DatasetVersion.from_server(answer["from"], self),
            to_version=DatasetVersion.from_server(answer["to"], self),
            summary=answer["summary"],
            added=answer["added"],
            removed=answer["removed"],
            changed=answer["changed"],
            truncated=bool(answer["truncated"]),
        )

    def path(self, *, progress: bool | None = True) -> Path:
        """Materialize the version (explicit ``@vN``, else the notebook's pin, else the latest) in
        the local cache and return its folder. Its files are read-only hardlinks into the cache;
        only chunks not already cached are downloaded. Records ``name@vN`` as an input of the
        current run (or of the next one started in this process)."""
        return self._materialize(self._default_version(), progress=progress)

    def _default_version(self) -> str:
        return self.requested_version or _pins.get(self.name) or "latest"

    def _materialize(self, label: str, *, progress: bool | None = True) -> Path:
        version, folder = materialize(self.client, self.cache, self.project, self.name, label, progress=progress)
        from runlab import runs

        runs.record_dataset_input(version.ref, version.hash)
        return folder


_cache_instances: dict[Path, LocalCache] = {}


def _shared_cache() -> LocalCache:
    from runlab.datasets.cache import default_root

    root = default_root()
    cache = _cache_instances.get(root)
    if cache is None:
        cache = _cache_instances[root] = LocalCache(root)
    return cache


def version_folder(cache: LocalCache, server: str, project: str, name: str, number: int) -> Path:
    return cache.datasets_dir / server / project / name / f"v{number}"


def materialize(
    client: Client,
    cache: LocalCache,
    project: str,
    name: str,
    label: str,
    *,
    progress: bool | None = True,
    stats: FetchStats | None = None,
) -> tuple[DatasetVersion, Path]:
    """The version's folder under ``<cache>/datasets/<server>/<project>/<name>/v<N>/``, made
    (once) from cached files by hardlinking, in a temporary folder renamed into place."""
    offline_meta: Path | None = None
    server = server_key(client, cache)
    try:
        data = client.get_dataset_version(project, name, label)
    except ServerUnreachable:
        # An explicit version already materialized still works with the server down.
        if label == "latest":
            raise
        offline_meta = version_folder(cache, server, project, name, int(label[1:])).parent / f".{label}.json"
        try:
            data = json.loads(offline_meta.read_text())
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise
    version = DatasetVersion.from_server(data)
    folder = version_folder(cache, server, project, name, version.number)
    meta = folder.parent / f".{version.label}.json"
    if folder.is_dir():
        try:
            if json.loads(meta.read_text()).get("hash") == version.hash:
                return version, folder
        except (OSError, ValueError):
            pass
        if offline_meta is not None:
            return version, folder
        # Made from another server that once answered at this address: set it aside.
        _remove_tree(folder, cache)

    manifest = client.dataset_manifest(project, name, version.label)
    entries = entries_from_manifest(manifest["files"])
    try:
        fetched = build_files(client, cache, entries, label=version.ref, progress=progress)
    except RunlabError as error:
        if error.status == 404 and data.get("damaged"):
            raise RunlabError(
                "data_damaged",
                f"{version.ref} is damaged: the server dropped some of its chunks as corrupt (`runlab-server fsck --repair`), "
                f"and this machine's cache does not hold them. Commit the same files again to restore it "
                f"(runlab.dataset({name!r}).commit(folder), or `runlab data add {name} <folder>`).",
                status=404,
            ) from error
        raise
    if stats is not None:
        stats.__dict__.update(fetched.__dict__)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = folder.parent / f".tmp-{version.label}-{uuid.uuid4().hex[:8]}"
    try:
        place_files(cache, entries, temporary, link=True)
        meta_temporary = meta.with_name(meta.name + f".{uuid.uuid4().hex[:8]}")
        meta_temporary.write_text(json.dumps(data))
        os.replace(meta_temporary, meta)
        try:
            os.rename(temporary, folder)
        except OSError:
            if not folder.is_dir():
                raise
            # Another process made it first: theirs is the same content.
    finally:
        if temporary.exists():
            _remove_tree(temporary, cache)
    return version, folder


def place_files(cache: LocalCache, entries: list[ManifestEntry], target: Path, *, link: bool) -> dict[str, int]:
    """Write the entries below ``target`` (which must not exist): hardlinks to the cached
    files when ``link`` (read-only, like the cache), else writable copies with the recorded
    modes. Counts of each."""
    target.mkdir(parents=True)
    root = os.path.realpath(target)
    counts = {"linked": 0, "copied": 0}
    made: set[str] = {root}
    destinations: list[str] = []
    for entry in entries:
        # Every entry is checked before any file is written. Lexical checks suffice: every folder
        # below root is made here, so none is a symlink.
        problem = path_problem(entry.path)
        destination = os.path.normpath(os.path.join(root, entry.path)) if problem is None else ""
        if not destination.startswith(root + os.sep):
            raise RunlabError(
                "data_corrupt",
                f"the manifest entry {entry.path!r} would be written outside {target}; refused",
            )
        destinations.append(destination)
    copies: list[tuple[str, str, int]] = []
    for entry, destination in zip(entries, destinations, strict=True):
        parent = os.path.dirname(destination)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        source = cache.file_name(entry.hash)
        if link:
            if stat.S_IMODE(os.stat(source).st_mode) == cached_mode(entry.mode):
                try:
                    os.link(source, destination)
                    counts["linked"] += 1
                    continue
                except OSError:
                    pass  # another file system (EXDEV), or links not allowed: copy
            copies.append((source, destination, cached_mode(entry.mode)))
        else:
            copies.append((source, destination, entry.mode & 0o777))
    if copies:
        # Copying is system calls (sendfile) that release the GIL: a few at once keep the disk busy.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(4, thread_name_prefix="runlab-copy") as pool:
            for _ in pool.map(_copy, copies, chunksize=64):
                pass
        counts["copied"] = len(copies)
    return counts


def _copy(task: tuple[str, str, int]) -> None:
    source, destination, mode = task
    if not _copy_in_kernel(source, destination, mode):
        shutil.copyfile(source, destination)
        os.chmod(destination, mode)


# copy_file_range errors that mean "not here" (another file system on an old kernel, a file
# system without it), not "failed": the copy falls back to shutil.
_NO_KERNEL_COPY = {errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF}


def _copy_in_kernel(source: str, destination: str, mode: int) -> bool:
    """Copy with copy_file_range: the bytes never pass through this process (and file systems
    that share extents make it a reflink), with a handful of system calls per file, which counts
    for thousands of small files. False, with nothing written, where it is not available."""
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is None:
        return False
    src = os.open(source, os.O_RDONLY)
    try:
        dst = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            left = os.fstat(src).st_size
            while left > 0:
                try:
                    copied = copy_range(src, dst, left)
                except OSError as error:
                    if error.errno in _NO_KERNEL_COPY and os.fstat(dst).st_size == 0:
                        os.close(dst)
                        dst = -1
                        os.unlink(destination)
                        return False
                    raise
                if copied == 0:
                    raise RunlabError("invalid_request", f"{source} became shorter while it was copied")
                left -= copied
            os.fchmod(dst, mode)
        finally:
            if dst >= 0:
                os.close(dst)
    finally:
        os.close(src)
    return True


def _remove_tree(folder: Path, cache: LocalCache) -> None:
    aside = cache.tmp_dir / f"remove-{uuid.uuid4().hex}"
    try:
        os.rename(folder, aside)
    except OSError:
        aside = folder
    shutil.rmtree(aside, ignore_errors=True)


def dataset(ref: str, *, project: str | None = None) -> Dataset:
    """A handle on a dataset: ``runlab.dataset("iris")`` or ``runlab.dataset("iris@v3")``."""
    return Dataset(ref, project=project)
