"""Moving chunks: the commit protocol (scan → missing → upload → commit) and building a
version's files in the local cache from cached and fetched chunks.

A commit is resumable by construction: chunks are content-addressed and the server keeps every
acknowledged upload, so re-running an interrupted commit uploads only what is still missing, and
a version becomes visible only once the commit request (sent last) succeeds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runlab.client import Client, RunlabError
from runlab.datasets import framing
from runlab.datasets.cache import ChunkList, LocalCache, file_hash
from runlab.datasets.chunking import ScanError, ScannedFile, list_files, scan
from runlab.datasets.progress import byte_bar

# Upload bundles of about this many uncompressed bytes, a few in flight (the server takes up
# to 64 MiB per request). RUNLAB_UPLOAD_BUNDLE_BYTES / RUNLAB_UPLOAD_PAUSE_S exist for tests that
# interrupt a commit half-way.
UPLOAD_BUNDLE_BYTES = 16 << 20
UPLOAD_WORKERS = 3
MISSING_BATCH = 50_000
# Chunks per fetch request (the server's limit is 4,096) and bytes per request.
FETCH_BATCH_CHUNKS = 4096
FETCH_BATCH_BYTES = 16 << 20
FETCH_AHEAD = 2


@dataclass
class CommitStats:
    """What a commit did; ``uploaded_bytes`` is what dedup could not save."""

    files: int = 0
    total_bytes: int = 0
    hashed_files: int = 0
    hashed_bytes: int = 0
    chunks: int = 0
    unique_chunks: int = 0
    checked_missing: bool = False
    missing_chunks: int = 0
    uploaded_chunks: int = 0
    uploaded_bytes: int = 0  # uncompressed
    sent_bytes: int = 0  # on the wire, after compression
    scan_seconds: float = 0.0
    upload_seconds: float = 0.0
    seconds: float = 0.0


def _upload_bundle_bytes() -> int:
    try:
        return max(1, int(os.environ.get("RUNLAB_UPLOAD_BUNDLE_BYTES", "")))
    except ValueError:
        return UPLOAD_BUNDLE_BYTES


def _upload_pause() -> float:
    try:
        return max(0.0, float(os.environ.get("RUNLAB_UPLOAD_PAUSE_S", "")))
    except ValueError:
        return 0.0


class _Clients:
    """One client (one HTTP session) per worker thread: sessions are not shared across threads."""

    def __init__(self, base: Client) -> None:
        self._base = base
        self._local = threading.local()
        self._all: list[Client] = []
        self._lock = threading.Lock()

    def get(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = Client(self._base.url, self._base.token, timeout=self._base.timeout)
            with self._lock:
                self._all.append(client)
        return client

    def close(self) -> None:
        for client in self._all:
            client.close()


def commit(
    client: Client,
    cache: LocalCache,
    server_key: str,
    project: str,
    name: str,
    root: Path,
    *,
    message: str = "",
    run_id: str | None = None,
    progress: bool | None = True,
) -> tuple[dict[str, Any], bool, CommitStats]:
    """Commit the files under ``root`` as the next version of ``project/name``; returns the
    server's DatasetVersion, whether it was created (False: equal to the latest), and stats."""
    started = time.perf_counter()
    stats = CommitStats()
    if not root.exists():
        raise RunlabError("not_found", f"{root} does not exist; nothing to commit")

    bar = byte_bar(f"hashing {name}", 0, enabled=False)
    bars: list[Any] = []

    def on_total(total: int) -> None:
        nonlocal bar
        bar = byte_bar(f"hashing {name}", total, enabled=progress)
        bars.append(bar)

    root = root.absolute()
    # Equal to the latest version? Then that is the answer: no manifest upload, no chunk checks.
    # (Inside a run the commit is always sent, so the server can link the run to the version.)
    latest: dict[str, Any] | None = None
    listing = None
    if run_id is None:
        # Asked while the folder is listed: the round trip costs nothing when the folder is
        # unchanged, which is the case users repeat most.
        latest_future = _in_background(lambda: _latest_version(client, project, name))
        snapshot = cache.folder_snapshot(str(root))
        listing = list_files(root, key_only=snapshot is not None)
        latest = latest_future.result()
        # A folder whose every stat is as at its last commit has that commit's manifest hash:
        # nothing is read or even looked up per file.
        # A damaged latest version (see `runlab-server fsck --repair`) is committed again: that heals it.
        if latest is not None and latest.get("damaged"):
            snapshot = None
        if latest is not None and snapshot is not None and snapshot == (listing.key, latest.get("hash")):
            stats.files, stats.total_bytes = listing.count, listing.total_bytes
            stats.seconds = time.perf_counter() - started
            return latest, False, stats

    try:
        scanned = scan(root, cache, on_bytes=lambda n: bar.update(n), on_total=on_total, listing=listing)
    except ScanError as error:
        raise RunlabError("invalid_request", str(error)) from error
    finally:
        for open_bar in bars:
            open_bar.close()
    files = scanned.files
    stats.files, stats.total_bytes = len(files), scanned.total_bytes
    stats.hashed_files, stats.hashed_bytes, stats.scan_seconds = (
        scanned.hashed_files,
        scanned.hashed_bytes,
        scanned.seconds,
    )
    local_hash = manifest_hash(files)

    def remember_folder() -> None:
        if scanned.stat_key is not None:
            cache.remember_folder(str(root), scanned.stat_key, local_hash)

    if latest is not None and latest.get("hash") == local_hash and not latest.get("damaged"):
        remember_folder()
        stats.seconds = time.perf_counter() - started
        return latest, False, stats

    # Where each distinct chunk can be read: (file, offset, size), first occurrence.
    where: dict[bytes, tuple[ScannedFile, int, int]] = {}
    for item in files:
        offset = 0
        for digest, size in item.chunks:
            stats.chunks += 1
            if digest not in where:
                where[digest] = (item, offset, size)
            offset += size
    stats.unique_chunks = len(where)

    body = json.dumps(
        {
            "files": [
                {
                    "path": item.path,
                    "size": item.size,
                    "mode": item.mode & 0o777,
                    "chunks": [[digest.hex(), size] for digest, size in item.chunks],
                }
                for item in files
            ],
            "message": message,
            "runId": run_id,
            "idempotencyKey": uuid.uuid4().hex,
        },
        separators=(",", ":"),
    ).encode()

    upload_started = time.perf_counter()
    known = cache.known_chunks(server_key)
    all_known = all(digest in known for digest in where)
    if not all_known:
        _send_missing(client, cache, server_key, where, known, stats, name, progress)
    stats.upload_seconds = time.perf_counter() - upload_started

    try:
        answer = client.commit_dataset(project, name, body)
    except RunlabError as error:
        if error.status != 409:
            raise
        # The server lacks chunks this cache believed it had (its store was reset or restored):
        # ask it, upload what it lacks, and commit again with the same key.
        cache.forget_known(server_key)
        _send_missing(client, cache, server_key, where, set(), stats, name, progress)
        answer = client.commit_dataset(project, name, body)
        all_known = False
    if not all_known:
        cache.remember_known(server_key, where.keys())
    if answer["version"].get("hash") == local_hash:
        remember_folder()
    stats.seconds = time.perf_counter() - started
    return answer["version"], bool(answer["created"]), stats


def _latest_version(client: Client, project: str, name: str) -> dict[str, Any] | None:
    try:
        return client.get_dataset_version(project, name, "latest")
    except RunlabError as error:
        if error.status == 404:
            return None
        raise


def _in_background(work: Callable[[], Any]) -> Future[Any]:
    """``work()`` on a thread of its own; its result (or exception) in the future."""
    future: Future[Any] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as error:  # handed to whoever waits for the result
            future.set_exception(error)

    threading.Thread(target=run, name="runlab-background", daemon=True).start()
    return future


def manifest_hash(files: list[ScannedFile]) -> str:
    """A version's hash as the server computes it: sha256 of the sorted lines
    ``path\tmode\tsize\thash\n`` (mode & 0o777 and size in decimal, hash = the file's hex hash)."""
    lines = sorted(
        (item.path, f"{item.path}\t{item.mode & 0o777}\t{item.size}\t{item.content_hash.hex()}\n") for item in files
    )
    digest = hashlib.sha256()
    for _path, line in lines:
        digest.update(line.encode())
    return digest.hexdigest()


def _send_missing(
    client: Client,
    cache: LocalCache,
    server_key: str,
    where: dict[bytes, tuple[ScannedFile, int, int]],
    known: set[bytes],
    stats: CommitStats,
    name: str,
    progress: bool | None,
) -> None:
    candidates = [digest for digest in where if digest not in known]
    missing: list[bytes] = []
    stats.checked_missing = True
    for start in range(0, len(candidates), MISSING_BATCH):
        part = candidates[start : start + MISSING_BATCH]
        missing.extend(bytes.fromhex(h) for h in client.missing_chunks([d.hex() for d in part]))
    stats.missing_chunks = len(missing)
    present = set(candidates) - set(missing)
    if present:
        cache.remember_known(server_key, present)
    if not missing:
        return

    bundle_limit = _upload_bundle_bytes()
    pause = _upload_pause()
    bundles: list[list[bytes]] = []
    current: list[bytes] = []
    current_bytes = 0
    for digest in missing:
        size = where[digest][2]
        if current and current_bytes + size > bundle_limit:
            bundles.append(current)
            current, current_bytes = [], 0
        current.append(digest)
        current_bytes += size
    if current:
        bundles.append(current)

    total = sum(where[d][2] for d in missing)
    bar = byte_bar(f"uploading {name}", total, enabled=progress)
    clients = _Clients(client)
    lock = threading.Lock()

    def send(bundle: list[bytes]) -> None:
        framed = bytearray()
        raw_bytes = 0
        handles: dict[str, int] = {}
        try:
            for digest in bundle:
                item, offset, size = where[digest]
                fd = handles.get(item.source)
                if fd is None:
                    fd = handles[item.source] = os.open(item.source, os.O_RDONLY)
                data = os.pread(fd, size, offset)
                if len(data) != size:
                    raise RunlabError(
                        "invalid_request", f"{item.source} changed while it was being committed; commit again"
                    )
                framed += framing.frame(digest, data)
                raw_bytes += size
        except OSError as error:
            raise RunlabError("invalid_request", f"cannot read {error.filename}: {error.strerror}") from error
        finally:
            for fd in handles.values():
                os.close(fd)
        try:
            clients.get().upload_chunks(bytes(framed))
        except RunlabError as error:
            raise _explain_upload_error(error, where) from error
        cache.remember_known(server_key, bundle)
        with lock:
            stats.uploaded_chunks += len(bundle)
            stats.uploaded_bytes += raw_bytes
            stats.sent_bytes += len(framed)
            bar.update(raw_bytes)
        if pause:
            time.sleep(pause)

    workers = 1 if pause else UPLOAD_WORKERS
    pool = ThreadPoolExecutor(workers, thread_name_prefix="runlab-upload")
    try:
        pending: set[Future[None]] = set()
        for bundle in bundles:
            # Bounded read-ahead: each waiting bundle holds its bytes in memory.
            if len(pending) >= workers * 2:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
            pending.add(pool.submit(send, bundle))
        for future in pending:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
        clients.close()


def _explain_upload_error(error: RunlabError, where: dict[bytes, tuple[ScannedFile, int, int]]) -> RunlabError:
    """The server names a chunk whose bytes did not match its hash: the file changed under us."""
    if error.status == 400:
        match = re.search(r"\b([0-9a-f]{64})\b", error.message)
        if match is not None:
            located = where.get(bytes.fromhex(match.group(1)))
            if located is not None:
                return RunlabError(
                    "invalid_request",
                    f"{located[0].source} changed while it was being committed; commit again",
                    status=400,
                )
    return error


# -- building files in the local cache ------------------------------------------------------------


@dataclass
class ManifestEntry:
    path: str
    size: int
    mode: int
    chunks: ChunkList
    hash: bytes


@dataclass
class FetchStats:
    files_built: int = 0
    chunks_fetched: int = 0
    bytes_fetched: int = 0  # uncompressed
    bytes_from_cache: int = 0
    seconds: float = 0.0


def corrupt_chunk_error(digest: bytes, problem: str) -> RunlabError:
    return RunlabError(
        "data_corrupt",
        f"chunk {digest.hex()} from the server {problem}; nothing was written. The server's copy may "
        "be damaged: run `npx runlab-server fsck` on the server (in a Runlab checkout).",
    )


def build_files(
    client: Client,
    cache: LocalCache,
    entries: list[ManifestEntry],
    *,
    label: str,
    progress: bool | None = True,
) -> FetchStats:
    """Make sure every entry's content is in the cache: assemble each missing file from chunks
    already in cached files and chunks fetched (and verified) from the server."""
    started = time.perf_counter()
    stats = FetchStats()
    needed: list[ManifestEntry] = []
    seen_files: set[bytes] = set()
    for entry in entries:
        if entry.hash in seen_files or cache.has_file(entry.hash, entry.size):
            continue
        seen_files.add(entry.hash)
        needed.append(entry)
    if not needed:
        return stats

    ordered: list[bytes] = []
    sizes: dict[bytes, int] = {}
    for entry in needed:
        for digest, size in entry.chunks:
            if digest not in sizes:
                sizes[digest] = size
                ordered.append(digest)
    located = cache.chunk_locations(ordered)
    usable: dict[bytes, tuple[str, int, int]] = {}
    present_files: dict[bytes, bool] = {}
    for digest, (holder, offset, size) in located.items():
        if holder not in present_files:
            present_files[holder] = os.path.exists(cache.file_name(holder))
        if present_files[holder]:
            usable[digest] = (cache.file_name(holder), offset, size)
    to_fetch = [digest for digest in ordered if digest not in usable]

    total = sum(entry.size for entry in needed)
    bar = byte_bar(f"downloading {label}", total, enabled=progress)
    batches = _Fetcher(client, to_fetch, sizes) if to_fetch else None
    current: dict[bytes, bytes] = {}
    temporary: str | None = None
    built: list[tuple[bytes, ChunkList]] = []
    try:
        for entry in needed:
            temporary = cache.temporary_path("file")
            with open(temporary, "wb") as out:
                written = 0
                for digest, size in entry.chunks:
                    data = current.get(digest)
                    if data is None:
                        source = usable.get(digest)
                        if source is not None:
                            if source[0] == temporary:
                                out.flush()  # a chunk repeated within this very file
                            data = _read_at(*source)
                            stats.bytes_from_cache += size
                        else:
                            assert batches is not None
                            while digest not in current:
                                current = batches.next()
                            data = current[digest]
                    if len(data) != size:
                        raise corrupt_chunk_error(digest, f"is {len(data)} bytes, the manifest says {size}")
                    # Later files read it from here, so nothing is fetched twice.
                    if digest not in usable:
                        usable[digest] = (temporary, written, size)
                    out.write(data)
                    written += size
                    bar.update(size)
            if written != entry.size:
                raise RunlabError(
                    "data_corrupt",
                    f"{entry.path}: its chunks add up to {written} bytes, the manifest says {entry.size}",
                )
            final = cache.add_file(temporary, entry.hash, entry.mode)
            moved_from, temporary = temporary, None
            for digest, _size in entry.chunks:
                location = usable.get(digest)
                if location is not None and location[0] == moved_from:
                    usable[digest] = (final, location[1], location[2])
            built.append((entry.hash, entry.chunks))
            stats.files_built += 1
            if len(built) >= 2000:
                cache.index_chunks(built)
                built = []
    finally:
        cache.index_chunks(built)
        bar.close()
        if batches is not None:
            batches.close()
            stats.chunks_fetched, stats.bytes_fetched = batches.chunks, batches.bytes
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    stats.seconds = time.perf_counter() - started
    return stats


def _read_at(path: str, offset: int, size: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(size)


class _Fetcher:
    """Fetches chunks in order, in batches, a couple of batches ahead, on a background thread;
    every chunk is verified there (length and sha256) before it is handed over."""

    def __init__(self, client: Client, hashes: list[bytes], sizes: dict[bytes, int]) -> None:
        self._client = Client(client.url, client.token, timeout=client.timeout)
        self._batches = list(_batched(hashes, sizes))
        self._queue: queue.Queue[dict[bytes, bytes] | BaseException | None] = queue.Queue(maxsize=FETCH_AHEAD)
        self._stop = threading.Event()
        self.chunks = 0  # received and verified
        self.bytes = 0
        self._thread = threading.Thread(target=self._run, name="runlab-fetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for batch in self._batches:
                if self._stop.is_set():
                    return
                body = self._client.fetch_chunks([d.hex() for d in batch])
                received: dict[bytes, bytes] = {}
                try:
                    for digest, data in framing.parse(body):
                        received[digest] = data
                        self.chunks += 1
                        self.bytes += len(data)
                except framing.ChunkProblem as problem:
                    raise corrupt_chunk_error(problem.digest, problem.problem) from None
                for digest in batch:
                    if digest not in received:
                        raise RunlabError("data_corrupt", f"the server did not send chunk {digest.hex()}")
                self._put(received)
        except BaseException as error:  # handed to the consumer, raised there
            self._put(error)
        else:
            self._put(None)

    def _put(self, item: dict[bytes, bytes] | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def next(self) -> dict[bytes, bytes]:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        if item is None:
            raise RunlabError("data_corrupt", "the server sent fewer chunks than the manifest needs")
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._client.close()


def _batched(hashes: list[bytes], sizes: dict[bytes, int]) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    batch_bytes = 0
    for digest in hashes:
        size = sizes[digest]
        if batch and (len(batch) >= FETCH_BATCH_CHUNKS or batch_bytes + size > FETCH_BATCH_BYTES):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(digest)
        batch_bytes += size
    if batch:
        yield batch


def entries_from_manifest(files: list[dict[str, Any]]) -> list[ManifestEntry]:
    """Check a manifest from the server before anything is written: safe relative paths only,
    chunk sizes adding up, and each file's hash matching its chunks."""
    entries: list[ManifestEntry] = []
    for item in files:
        path = str(item["path"])
        problem = path_problem(path)
        if problem is not None:
            raise RunlabError(
                "data_corrupt",
                f"the manifest entry {path!r} would be written outside the version folder ({problem}); "
                "nothing was written",
            )
        chunks = [(bytes.fromhex(digest), int(size)) for digest, size in item["chunks"]]
        size = int(item["size"])
        if sum(s for _, s in chunks) != size:
            raise RunlabError("data_corrupt", f"the manifest entry {path!r}: chunk sizes do not add up to {size}")
        content_hash = file_hash(chunks)
        if "hash" in item and item["hash"] != content_hash.hex():
            raise RunlabError("data_corrupt", f"the manifest entry {path!r}: its hash does not match its chunks")
        entries.append(ManifestEntry(path, size, int(item.get("mode", 0o644)), chunks, content_hash))
    return entries


# The contract's RelativePath rule, its pattern exactly as the OpenAPI document states it:
# "/"-separated segments, none empty, "." or "..", no drive letter, no backslash, no NUL.
RELATIVE_PATH_PATTERN = r"^(?![A-Za-z]:)(?!\.\.?(?:/|$))[^/\\\x00]+(?:/(?!\.\.?(?:/|$))[^/\\\x00]+)*$"
_RELATIVE_PATH = re.compile(RELATIVE_PATH_PATTERN)


def path_problem(path: str) -> str | None:
    """Why a manifest path is unsafe to write below a folder, or None (the server's rule)."""
    if _RELATIVE_PATH.fullmatch(path):
        return None
    if not path:
        return "empty path"
    if "\\" in path or "\0" in path:
        return "backslash or NUL"
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return "absolute path"
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            return f"segment {segment!r}"
    return "not a relative path"


ProgressCallback = Callable[[int], None]
