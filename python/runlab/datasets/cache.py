"""The local cache: whole files by content hash, and an SQLite index beside them.

Layout under ``RUNLAB_CACHE_DIR`` (default ``~/.cache/runlab``)::

    index.db                 stat cache, chunk locations, chunks known to be on each server
    files/ab/<file hash>     one read-only file per content (hash as in the manifest)
    datasets/<server>/<project>/<name>/v<N>/   materialized versions (hardlinks into files/)
    tmp/                     half-written files; renamed into place only when complete

Everything is written to a temporary name and renamed, so a crash never leaves a file or a
version folder with the wrong content under its final name.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import struct
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

ENV_CACHE_DIR = "RUNLAB_CACHE_DIR"

# One chunk in a stored chunk list: 32-byte sha256 digest, then its size (big-endian uint32).
_CHUNK_RECORD = struct.Struct(">32sI")

ChunkList = list[tuple[bytes, int]]

# Bumped when the tables change; a cache is disposable, so an older one is simply emptied.
_SCHEMA_VERSION = 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS stat_cache (
  path     TEXT PRIMARY KEY,
  size     INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  inode    INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  chunks   BLOB NOT NULL,
  file_hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chunk_locations (
  hash      BLOB PRIMARY KEY,
  file_hash BLOB NOT NULL,
  offset    INTEGER NOT NULL,
  size      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS folder_snapshots (
  root          TEXT PRIMARY KEY,
  stat_key      BLOB NOT NULL,
  manifest_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS known_chunks (
  server TEXT NOT NULL,
  hash   BLOB NOT NULL,
  PRIMARY KEY (server, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS server_addresses (
  url       TEXT PRIMARY KEY,
  server_id TEXT NOT NULL
);
"""


def default_root() -> Path:
    return Path(os.environ.get(ENV_CACHE_DIR) or "~/.cache/runlab").expanduser()


def encode_chunks(chunks: Sequence[tuple[bytes, int]]) -> bytes:
    return b"".join(_CHUNK_RECORD.pack(digest, size) for digest, size in chunks)


def decode_chunks(blob: bytes) -> ChunkList:
    return list(_CHUNK_RECORD.iter_unpack(blob))


def file_hash(chunks: Iterable[tuple[bytes, int]]) -> bytes:
    """A file's content hash, as the server computes it: sha256 of its chunks' binary digests
    concatenated in order (so an empty file hashes like empty input)."""
    digest = hashlib.sha256()
    for chunk_digest, _size in chunks:
        digest.update(chunk_digest)
    return digest.digest()


class LocalCache:
    """One cache directory. Safe to share between threads and processes (SQLite in WAL mode,
    files written under temporary names)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.files_dir = self.root / "files"
        self.datasets_dir = self.root / "datasets"
        self.tmp_dir = self.root / "tmp"
        self._files_prefix = str(self.files_dir) + os.sep
        self._made_dirs: set[str] = set()
        for directory in (self.files_dir, self.datasets_dir, self.tmp_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.root / "index.db", timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        if self._db.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
            for table in ("stat_cache", "chunk_locations", "known_chunks", "folder_snapshots", "server_addresses"):
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- servers: what is cached about a server is keyed by its identity, not its address --------

    def remember_server(self, url: str, server_id: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO server_addresses VALUES (?, ?)", (url, server_id))

    def server_at(self, url: str) -> str | None:
        """The identity last seen at ``url`` (for reading cached versions while it is down)."""
        with self._lock:
            row = self._db.execute("SELECT server_id FROM server_addresses WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    # -- stat cache: (path, size, mtime, inode, ctime) → chunk list -------------------------------

    def stat_entries(self, paths_under: str) -> dict[str, tuple[int, int, int, int, bytes, bytes]]:
        """Every stat cache row for ``paths_under`` (an absolute file path, or a folder: all
        files below it)."""
        columns = "SELECT path, size, mtime_ns, inode, ctime_ns, chunks, file_hash FROM stat_cache"
        with self._lock:
            if os.path.isdir(paths_under):
                prefix = paths_under.rstrip(os.sep) + os.sep
                # A range on the primary key: everything that starts with "<folder>/".
                query = (columns + " WHERE path >= ? AND path < ?", (prefix, prefix[:-1] + chr(ord(os.sep) + 1)))
            else:
                query = (columns + " WHERE path = ?", (paths_under,))
            rows = self._db.execute(*query).fetchall()
        return {row[0]: row[1:] for row in rows}

    def remember_stats(self, rows: Sequence[tuple[str, int, int, int, int, bytes, bytes]]) -> None:
        if not rows:
            return
        with self._lock, self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO stat_cache VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    # -- whole folders: the stat of every file → the manifest hash ------------------------------

    def folder_snapshot(self, root: str) -> tuple[bytes, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT stat_key, manifest_hash FROM folder_snapshots WHERE root = ?", (root,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def remember_folder(self, root: str, stat_key: bytes, manifest_hash: str) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO folder_snapshots VALUES (?, ?, ?)", (root, stat_key, manifest_hash)
            )

    # -- chunks known to be on a server ---------------------------------------------------------

    def known_chunks(self, server: str) -> set[bytes]:
        with self._lock:
            rows = self._db.execute("SELECT hash FROM known_chunks WHERE server = ?", (server,)).fetchall()
        return {row[0] for row in rows}

    def remember_known(self, server: str, hashes: Iterable[bytes]) -> None:
        with self._lock, self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO known_chunks VALUES (?, ?)", ((server, h) for h in hashes))

    def forget_known(self, server: str) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM known_chunks WHERE server = ?", (server,))

    # -- cached files and the chunks inside them -------------------------------------------------

    def file_path(self, content_hash: bytes | str) -> Path:
        return Path(self.file_name(content_hash))

    def file_name(self, content_hash: bytes | str) -> str:
        """``file_path`` as a string (cheaper, for loops over many files)."""
        text = content_hash if isinstance(content_hash, str) else content_hash.hex()
        return f"{self._files_prefix}{text[:2]}{os.sep}{text}"

    def has_file(self, content_hash: bytes | str, size: int) -> bool:
        try:
            return os.stat(self.file_name(content_hash)).st_size == size
        except OSError:
            return False

    def chunk_locations(self, hashes: Iterable[bytes]) -> dict[bytes, tuple[bytes, int, int]]:
        """chunk hash → (file hash, offset, size) for the chunks inside cached files."""
        found: dict[bytes, tuple[bytes, int, int]] = {}
        wanted = list(hashes)
        with self._lock:
            for start in range(0, len(wanted), 900):
                part = wanted[start : start + 900]
                marks = ",".join("?" * len(part))
                for row in self._db.execute(
                    f"SELECT hash, file_hash, offset, size FROM chunk_locations WHERE hash IN ({marks})", part
                ):
                    found[row[0]] = (row[1], row[2], row[3])
        return found

    def add_file(self, temporary: str | Path, content_hash: bytes, mode: int) -> str:
        """Move a complete, verified file into the cache (read-only); index its chunks with
        ``index_chunks`` (in batches: one transaction per file would dominate for small files)."""
        final = self.file_name(content_hash)
        directory = os.path.dirname(final)
        if directory not in self._made_dirs:
            os.makedirs(directory, exist_ok=True)
            self._made_dirs.add(directory)
        os.chmod(temporary, cached_mode(mode))
        os.replace(temporary, final)
        return final

    def index_chunks(self, files: Sequence[tuple[bytes, ChunkList]]) -> None:
        """Record where each chunk of these cached files is: (file hash, chunk list) pairs."""
        rows = []
        for content_hash, chunks in files:
            offset = 0
            for digest, size in chunks:
                rows.append((digest, content_hash, offset, size))
                offset += size
        if not rows:
            return
        with self._lock, self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO chunk_locations VALUES (?, ?, ?, ?)", rows)

    def temporary_path(self, label: str = "part") -> str:
        return os.path.join(self.tmp_dir, f"{label}-{uuid.uuid4().hex}")

    # -- helpers ----------------------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


def cached_mode(mode: int) -> int:
    """Permission bits of a cached (and hardlinked) file: the recorded ones without write bits,
    so editing a materialized file cannot change the cache behind it."""
    return (mode & 0o555) or 0o444


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")
