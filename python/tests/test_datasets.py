"""Versioned datasets against a real server: commit, dedup, resumable uploads, the local cache,
corruption, path safety, run inputs/outputs, notebook pins and the `runlab data` CLI."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import resource
import signal
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import PYTHON_DIR, RUNLAB_ENV, SERVER_CLI, RunningServer, attach, execute, start_server, stop_server

import runlab
from runlab.datasets import api as datasets_api
from runlab.datasets.cache import LocalCache
from runlab.datasets.chunking import scan
from runlab.datasets.transfer import FetchStats, ManifestEntry, entries_from_manifest, manifest_hash


@pytest.fixture
def project(runlab_server: RunningServer) -> Iterator[str]:
    """A fresh project on the real server, configured for this process; no run left active."""
    name = f"data-{uuid.uuid4().hex[:8]}"
    runlab.configure(url=runlab_server.url, token=runlab_server.token, project=name)
    yield name
    if runlab.active_run() is not None:
        runlab.end()


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh local cache per test."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("RUNLAB_CACHE_DIR", str(directory))
    return directory


def server_client(server: RunningServer) -> runlab.Client:
    return runlab.Client(server.url, server.token)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(root: Path) -> dict[str, tuple[str, int]]:
    """relative path → (sha256, permission bits) of every file below root."""
    return {
        p.relative_to(root).as_posix(): (sha256(p), stat.S_IMODE(p.stat().st_mode))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def age(root: Path, seconds: float = 60.0) -> None:
    """Move every mtime into the past, as for files not edited just now: the stat cache does not
    trust a file changed in the last moment (its ctime, which utime sets to now, included)."""
    past = time.time() - seconds
    for p in root.rglob("*"):
        os.utime(p, (past, past))
    time.sleep(0.2)


def make_tree(root: Path) -> None:
    rng = random.Random(7)
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "empty-dir-sibling").mkdir()
    (root / "big.bin").write_bytes(rng.randbytes(1_500_000))
    (root / "nested" / "table.csv").write_text("".join(f"{i},{rng.random():.6f},cat{i % 7}\n" for i in range(20_000)))
    (root / "nested" / "deeper" / "tiny.txt").write_text("hello\n")
    (root / "nested" / "deeper" / "empty.dat").write_bytes(b"")
    (root / "empty-dir-sibling" / "also-empty").write_bytes(b"")
    (root / "exact-min.bin").write_bytes(rng.randbytes(16 * 1024))
    script = root / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    (root / "private.txt").write_text("secret\n")
    (root / "private.txt").chmod(0o600)


# -- commit and materialize ----------------------------------------------------------------------


def test_commit_then_path_reproduces_every_file_byte_for_byte(project: str, tmp_path: Path) -> None:
    source = tmp_path / "src"
    make_tree(source)
    version = runlab.dataset("iris").commit(source, message="first cut", progress=False)

    assert (version.number, version.label, version.ref) == (1, "v1", "iris@v1")
    assert version.is_new is True
    assert version.file_count == 8
    assert version.size == sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    assert version.message == "first cut" and version.project == project
    assert "iris@v1" in repr(version) and "8 files" in repr(version)
    # The client computes the version hash as the server does (it skips re-sending equal content).
    assert manifest_hash(scan(source, None).files) == version.hash

    folder = runlab.dataset("iris@v1").path(progress=False)
    assert (folder.parent.parent.name, folder.parent.name, folder.name) == (project, "iris", "v1")
    original, materialized = tree(source), tree(folder)
    assert materialized.keys() == original.keys()
    for path, (digest, mode) in original.items():
        assert materialized[path][0] == digest, path
        # Materialized files are read-only hardlinks into the cache, with the recorded x/r bits.
        assert materialized[path][1] == mode & 0o555, path
    assert (folder / "nested" / "deeper" / "empty.dat").stat().st_size == 0
    assert os.access(folder / "run.sh", os.X_OK)

    # Again: the same folder, nothing downloaded.
    stats = FetchStats()
    with server_client_from_settings() as client:
        again_version, again = datasets_api.materialize(
            client, LocalCache(), project, "iris", "v1", progress=False, stats=stats
        )
    assert again == folder and again_version.hash == version.hash
    assert stats.chunks_fetched == 0 and stats.files_built == 0


def test_the_cache_follows_the_server_not_its_port(runlab_server: RunningServer, tmp_path: Path) -> None:
    """`npm start` may put the same server on another port: what is cached about it (the version
    folder, the chunks it is known to hold) is found again; another server on the old address is
    never taken for it."""
    data_dir = tmp_path / "server-data"
    process, first = start_server(data_dir)
    try:
        runlab.configure(url=first.url, token=first.token, project="moving")
        source = tmp_path / "src"
        make_tree(source)
        runlab.dataset("iris").commit(source, progress=False)
        folder = runlab.dataset("iris@v1").path(progress=False)
    finally:
        stop_server(process)
    process, moved = start_server(data_dir)
    try:
        assert moved.url != first.url
        runlab.configure(url=moved.url, token=moved.token, project="moving")
        stats = FetchStats()
        with runlab.Client(moved.url, moved.token) as client:
            _, again = datasets_api.materialize(
                client, LocalCache(), "moving", "iris", "v1", progress=False, stats=stats
            )
        assert again == folder and stats.chunks_fetched == 0 and stats.files_built == 0
        # The same content committed again: the chunks are known to be on this server already.
        assert runlab.dataset("iris").commit(source, progress=False).number == 1
    finally:
        stop_server(process)
    # While the server is down, its versions are still found by the identity last seen there.
    with runlab.Client(moved.url, moved.token) as client:
        _, offline = datasets_api.materialize(client, LocalCache(), "moving", "iris", "v1", progress=False)
    assert offline == folder
    # Another server on the shared test server's address has another identity: another folder.
    with runlab.Client(runlab_server.url, runlab_server.token) as client:
        assert datasets_api.server_key(client, LocalCache()) != datasets_api.server_key(
            runlab.Client(moved.url, moved.token), LocalCache()
        )


def server_client_from_settings() -> runlab.Client:
    return runlab.Client.from_settings()


def test_unchanged_recommit_returns_the_same_version_and_uploads_nothing(project: str, tmp_path: Path) -> None:
    source = tmp_path / "many"
    source.mkdir()
    for i in range(300):
        (source / f"part-{i:04d}.txt").write_text(f"row {i}\n" * (i + 1))
    age(source)
    handle = runlab.dataset("many")
    first = handle.commit(source, progress=False)
    assert first.commit_stats is not None and first.commit_stats.uploaded_chunks == 300

    second = handle.commit(source, progress=False)
    assert second.number == first.number == 1
    assert second.is_new is False and second.hash == first.hash
    stats = second.commit_stats
    assert stats is not None
    assert stats.uploaded_chunks == 0 and stats.uploaded_bytes == 0
    # Unchanged files are only stat()ed: not one was read again.
    assert stats.hashed_files == 0 and stats.hashed_bytes == 0
    assert len(handle.versions()) == 1

    # Same size, new content: the stat (ctime) changed, so the change is seen.
    (source / "part-0007.txt").write_text("ROW 7\n" * 8)
    third = handle.commit(source, progress=False)
    assert third.number == 2 and third.is_new is True
    assert third.commit_stats is not None and third.commit_stats.hashed_files == 1
    assert (runlab.dataset("many@v2").path(progress=False) / "part-0007.txt").read_text() == "ROW 7\n" * 8


def test_unchanged_folder_shortcut_still_sees_renames_deletes_and_nested_edits(project: str, tmp_path: Path) -> None:
    """The whole-folder stat key answers an unchanged folder without a per-file lookup; every
    kind of change under it must still make a new version."""
    source = tmp_path / "tree"
    make_tree(source)
    age(source)
    handle = runlab.dataset("tree")
    assert handle.commit(source, progress=False).number == 1
    assert handle.commit(source, progress=False).is_new is False  # the shortcut's answer

    def commit_after(change: Callable[[], None]) -> set[str]:
        change()
        version = handle.commit(source, progress=False)
        assert version.is_new is True
        assert handle.commit(source, progress=False).is_new is False
        return set(tree(version.path(progress=False)))

    # Renamed: same stat numbers, another path.
    files = commit_after(
        lambda: os.rename(source / "nested" / "deeper" / "tiny.txt", source / "nested" / "deeper" / "small.txt")
    )
    assert "nested/deeper/small.txt" in files and "nested/deeper/tiny.txt" not in files
    # Deleted, deep down.
    files = commit_after(lambda: (source / "nested" / "deeper" / "empty.dat").unlink())
    assert "nested/deeper/empty.dat" not in files
    # Edited in place in a nested folder: the folder's own mtime does not move.
    table = source / "nested" / "table.csv"
    files = commit_after(lambda: table.write_bytes(table.read_bytes().replace(b"cat3", b"CAT3")))
    assert (runlab.dataset("tree").path(progress=False) / "nested" / "table.csv").read_bytes().count(b"CAT3") > 0
    # Only its mode changed.
    commit_after(lambda: (source / "run.sh").chmod(0o700))
    assert [v.number for v in handle.versions()] == [5, 4, 3, 2, 1]


def test_small_edit_in_a_large_file_uploads_a_few_percent(project: str, tmp_path: Path) -> None:
    source = tmp_path / "big"
    source.mkdir()
    rng = random.Random(11)
    rows = [
        f"{i},{rng.random():.8f},{rng.choice(['red', 'green', 'blue'])},{rng.randint(0, 10**6)}\n"
        for i in range(80_000)
    ]
    data = source / "table.csv"
    data.write_text("".join(rows))
    size = data.stat().st_size
    assert size > 2_000_000
    handle = runlab.dataset("table")
    handle.commit(source, progress=False)

    middle = len(rows) // 2
    for i in range(middle, middle + 5):
        rows[i] = f"{i},EDITED,purple,0\n"
    data.write_text("".join(rows))
    second = handle.commit(source, progress=False)
    stats = second.commit_stats
    assert stats is not None and second.number == 2
    assert 0 < stats.uploaded_bytes <= 0.05 * size, stats
    # The server agrees on what was new.
    assert second.summary is not None and second.summary["newChunkBytes"] <= 0.05 * size
    assert second.summary["changed"] == 1

    # Materializing v2 after v1 fetches only the new chunks, too.
    cache = LocalCache()
    with server_client_from_settings() as client:
        first_stats, second_stats = FetchStats(), FetchStats()
        datasets_api.materialize(client, cache, project, "table", "v1", progress=False, stats=first_stats)
        _, folder = datasets_api.materialize(client, cache, project, "table", "v2", progress=False, stats=second_stats)
    assert first_stats.bytes_fetched == size
    assert 0 < second_stats.bytes_fetched <= 0.05 * size
    assert sha256(folder / "table.csv") == sha256(data)


def test_a_bad_dataset_name_or_version_says_what_is_wrong() -> None:
    with pytest.raises(runlab.RunlabError, match="not a dataset name"):
        runlab.dataset("bad/name")
    with pytest.raises(runlab.RunlabError, match="version must be"):
        runlab.dataset("iris@vX")


# -- resumable commits --------------------------------------------------------------------------------


def test_interrupted_commit_leaves_no_version_and_resumes_uploading_only_the_rest(
    runlab_server: RunningServer, project: str, tmp_path: Path, cache_dir: Path
) -> None:
    source = tmp_path / "payload"
    source.mkdir()
    (source / "noise.bin").write_bytes(random.Random(5).randbytes(6_000_000))
    all_chunks = sorted({digest.hex() for item in scan(source, None).files for digest, _ in item.chunks})

    script = textwrap.dedent(
        f"""
        import runlab
        runlab.configure(url={runlab_server.url!r}, token={runlab_server.token!r}, project={project!r})
        runlab.dataset("resumable").commit({str(source)!r}, progress=False)
        print("COMMITTED")
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env.update(
        PYTHONPATH=str(PYTHON_DIR),
        RUNLAB_CACHE_DIR=str(cache_dir),
        RUNLAB_DATA_DIR=str(tmp_path / "no-local-server"),
        # Small bundles, one at a time, with a pause after each: slow enough to interrupt.
        RUNLAB_UPLOAD_BUNDLE_BYTES=str(256 * 1024),
        RUNLAB_UPLOAD_PAUSE_S="0.3",
    )
    process = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    client = server_client(runlab_server)
    try:
        deadline = time.monotonic() + 60
        while True:
            missing = client.missing_chunks(all_chunks)
            if len(missing) < len(all_chunks):
                break  # the first bundle is acknowledged
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no bundle was acknowledged within 60 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        stored_before = len(all_chunks) - len(client.missing_chunks(all_chunks))
        assert 0 < stored_before < len(all_chunks)

        # No version is visible: it appears only when the commit request succeeds.
        with pytest.raises(runlab.RunlabError) as refused:
            client.get_dataset_version(project, "resumable", "latest")
        assert refused.value.status == 404

        version = runlab.dataset("resumable").commit(source, progress=False)
        stats = version.commit_stats
        assert stats is not None and version.number == 1
        assert stats.uploaded_chunks == len(all_chunks) - stored_before
        assert stats.uploaded_bytes < 6_000_000
        folder = runlab.dataset("resumable@v1").path(progress=False)
        assert sha256(folder / "noise.bin") == sha256(source / "noise.bin")
    finally:
        if process.poll() is None:
            process.kill()
        client.close()


def test_a_full_disk_fails_the_commit_clearly_and_it_resumes_once_there_is_room(
    tmp_path: Path, cache_dir: Path
) -> None:
    # A full disk, simulated: the server may not write a file past 8 MB (RLIMIT_FSIZE; a fresh
    # server's migrations already write more than 3 MB of write-ahead log), so storing the
    # upload's pack fails mid-write (EFBIG) as with ENOSPC. A real small file system would need
    # root to mount.
    data_dir = tmp_path / "small-disk"
    data_dir.mkdir()
    process, server = start_server(data_dir, max_file_bytes=8_000_000)
    try:
        runlab.configure(url=server.url, token=server.token, project="full-disk")
        source = tmp_path / "big"
        source.mkdir()
        (source / "noise.bin").write_bytes(random.Random(8).randbytes(16_000_000))
        with pytest.raises(runlab.RunlabError) as raised:
            runlab.dataset("big").commit(source, progress=False)
        assert raised.value.code == "insufficient_storage" and raised.value.status == 507
        assert "ran out of disk space" in str(raised.value) and "try again" in str(raised.value)
        # Nothing visible, no half-written pack left behind, and the server still answers.
        with pytest.raises(runlab.RunlabError) as missing:
            runlab.dataset("big").versions()
        assert missing.value.status == 404
        chunks = data_dir / "chunks"
        assert not list((chunks / "packs").glob("*")) and not list((chunks / "tmp").glob("*"))

        # Room again: the same commit goes through, and the version reads back byte for byte.
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        version = runlab.dataset("big").commit(source, progress=False)
        assert version.number == 1
        assert tree(runlab.dataset("big@v1").path(progress=False)) == tree_without_write_bits(source)
    finally:
        stop_server(process)


def test_commit_recovers_when_the_server_lacks_chunks_the_cache_believed_it_had(
    runlab_server: RunningServer, project: str, tmp_path: Path
) -> None:
    source = tmp_path / "fresh"
    source.mkdir()
    (source / "a.bin").write_bytes(random.Random(21).randbytes(300_000))
    hashes = [digest for item in scan(source, None).files for digest, _ in item.chunks]
    # As after the server's store was reset: the cache remembers chunks the server does not have.
    LocalCache().remember_known(runlab_server.url, hashes)

    version = runlab.dataset("recovers").commit(source, progress=False)
    assert version.number == 1 and version.commit_stats is not None
    assert version.commit_stats.uploaded_chunks == len(set(hashes))
    folder = runlab.dataset("recovers@v1").path(progress=False)
    assert sha256(folder / "a.bin") == sha256(source / "a.bin")


# -- corruption and path safety --------------------------------------------------------------------------


def commit_then_corrupt_its_pack(server: RunningServer, name: str, source: Path) -> None:
    """Commit ``source`` (one new pack on the server), then flip a byte in the middle of that pack."""
    packs = server.data_dir / "chunks" / "packs"
    before = set(packs.glob("*.pack")) if packs.exists() else set()
    runlab.dataset(name).commit(source, progress=False)
    (pack,) = sorted(set(packs.glob("*.pack")) - before)
    content = bytearray(pack.read_bytes())
    content[len(content) // 2] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(content))


def test_corrupt_chunk_on_the_server_raises_a_clear_error_and_writes_nothing(
    runlab_server: RunningServer, project: str, tmp_path: Path, cache_dir: Path
) -> None:
    source = tmp_path / "fragile"
    source.mkdir()
    (source / "only.bin").write_bytes(random.Random(99).randbytes(200_000))  # incompressible: stored raw
    commit_then_corrupt_its_pack(runlab_server, "fragile", source)

    with pytest.raises(runlab.RunlabError) as raised:
        runlab.dataset("fragile@v1").path(progress=False)
    assert raised.value.code == "data_corrupt"
    assert "fsck" in str(raised.value)
    assert "chunk" in str(raised.value)
    assert not any(p.is_file() for p in (cache_dir / "files").rglob("*"))
    assert not any(p.name == "v1" for p in (cache_dir / "datasets").rglob("*"))


def test_fsck_repair_then_the_same_commit_restores_a_damaged_version(
    runlab_server: RunningServer, project: str, tmp_path: Path, cache_dir: Path
) -> None:
    source = tmp_path / "mended"
    source.mkdir()
    (source / "random.bin").write_bytes(random.Random(5).randbytes(200_000))
    (source / "notes.txt").write_text("kept\n" * 1000)
    age(source)
    commit_then_corrupt_its_pack(runlab_server, "mended", source)

    repair = subprocess.run(
        ["node", str(SERVER_CLI), "fsck", "--repair", "--data-dir", str(runlab_server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert repair.returncode == 1, repair.stderr
    assert "Repaired the index" in repair.stdout
    assert runlab.dataset("mended").version("v1").damaged is True
    log = run_cli(runlab_server, cache_dir, "data", "log", "mended", project=project)
    assert log.returncode == 0 and "v1 (damaged)" in log.stdout and "committing the same files again" in log.stdout
    with pytest.raises(runlab.RunlabError) as raised:
        runlab.dataset("mended@v1").path(progress=False)
    assert raised.value.code == "data_damaged"
    assert "Commit the same files again" in str(raised.value)

    # The folder is unchanged, yet committing it is not short-circuited: the lost chunk goes up again.
    healed = runlab.dataset("mended").commit(source, progress=False)
    assert healed.number == 1 and healed.is_new is False and healed.damaged is False
    assert healed.commit_stats is not None and healed.commit_stats.uploaded_chunks >= 1
    assert tree(runlab.dataset("mended@v1").path(progress=False)) == tree_without_write_bits(source)


def tree_without_write_bits(root: Path) -> dict[str, tuple[str, int]]:
    """What a materialized (read-only, hardlinked) copy of ``root`` holds."""
    return {path: (digest, mode & 0o555) for path, (digest, mode) in tree(root).items()}


def test_server_refuses_manifest_paths_outside_the_dataset(runlab_server: RunningServer, project: str) -> None:
    with server_client(runlab_server) as client:
        for bad in ("../escape.txt", "/etc/passwd", "a/../../b", "a//b"):
            body = {"files": [{"path": bad, "size": 0, "mode": 0o644, "chunks": []}], "message": ""}
            with pytest.raises(runlab.RunlabError) as refused:
                client.commit_dataset(project, "unsafe", body)
            assert refused.value.status == 400, bad


def test_client_refuses_to_materialize_an_entry_escaping_the_folder(tmp_path: Path) -> None:
    for bad in ("../escape.txt", "/abs/path", "ok/../../x", "a\\b"):
        with pytest.raises(runlab.RunlabError, match="outside"):
            entries_from_manifest([{"path": bad, "size": 0, "mode": 0o644, "chunks": []}])
    # Even an entry that skipped that check is refused when placing files, before any is written.
    cache = LocalCache(tmp_path / "cache")
    good = entries_from_manifest([{"path": "fine.txt", "size": 0, "mode": 0o644, "chunks": []}])[0]
    cache.file_path(good.hash).parent.mkdir(parents=True, exist_ok=True)
    cache.file_path(good.hash).write_bytes(b"")
    forged = ManifestEntry("../escaped.txt", 0, 0o644, [], good.hash)
    with pytest.raises(runlab.RunlabError, match="outside"):
        datasets_api.place_files(cache, [forged, good], tmp_path / "target" / "inner", link=True)
    assert not (tmp_path / "target" / "escaped.txt").exists()


def test_copies_fall_back_where_the_kernel_cannot_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Mocked: copy_file_range refusing (EXDEV: another file system on an old kernel) cannot be
    # arranged on one machine. The copy must then go through shutil, with the same result.
    cache = LocalCache(tmp_path / "cache")
    content = random.Random(3).randbytes(300_000)
    entry = entries_from_manifest(
        [
            {
                "path": "a/b.bin",
                "size": len(content),
                "mode": 0o640,
                "chunks": [[hashlib.sha256(content).hexdigest(), len(content)]],
            }
        ]
    )[0]
    cache.file_path(entry.hash).parent.mkdir(parents=True, exist_ok=True)
    cache.file_path(entry.hash).write_bytes(content)

    def refuse(*_args: object) -> int:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", refuse)
    datasets_api.place_files(cache, [entry], tmp_path / "out", link=False)
    copied = tmp_path / "out" / "a" / "b.bin"
    assert copied.read_bytes() == content and stat.S_IMODE(copied.stat().st_mode) == 0o640


# -- runs: inputs and outputs, pins -----------------------------------------------------------------------


def test_path_records_the_version_as_an_input_and_commit_in_a_run_makes_a_data_run(
    runlab_server: RunningServer, project: str, tmp_path: Path
) -> None:
    source = tmp_path / "inputs"
    source.mkdir()
    (source / "x.csv").write_text("a,b\n1,2\n")
    with runlab.start(name="prepare") as producer:
        made = runlab.dataset("features").commit(source, progress=False)
    assert made.produced_by_run_id == producer.id

    # Read with no run active: recorded as an input of the next run this process starts.
    runlab.dataset("features").path(progress=False)
    with runlab.start(name="train") as consumer:
        (source / "x.csv").write_text("a,b\n1,2\n3,4\n")
        again = runlab.dataset("features").commit(source, progress=False)
        runlab.dataset("features@v2").path(progress=False)
    runlab.flush()

    with server_client(runlab_server) as client:
        stored = client.get_run(consumer.id)
        prepared = client.get_run(producer.id)
    inputs = {(io["kind"], io["name"], io["digest"]) for io in stored["inputs"]}
    assert ("dataset", "features@v1", made.hash) in inputs
    assert ("dataset", "features@v2", again.hash) in inputs
    assert again.produced_by_run_id == consumer.id
    assert prepared["status"] == "finished"


def test_notebook_pins_choose_the_version(project: str, tmp_path: Path) -> None:
    source = tmp_path / "pinned"
    source.mkdir()
    handle = runlab.dataset("pinned")
    for text in ("one", "two", "three"):
        (source / "value.txt").write_text(text)
        handle.commit(source, progress=False)
    try:
        assert runlab._kernel_pins({"pinned": "v2", "other": "7"}) == {"pins": {"pinned": "v2", "other": "v7"}}
        assert (runlab.dataset("pinned").path(progress=False) / "value.txt").read_text() == "two"
        # An explicit version wins over the pin.
        assert (runlab.dataset("pinned@v1").path(progress=False) / "value.txt").read_text() == "one"
        assert runlab.dataset("pinned").version().label == "v2"
        runlab._kernel_pins({})
        assert (runlab.dataset("pinned").path(progress=False) / "value.txt").read_text() == "three"
    finally:
        runlab._kernel_pins({})


def test_pins_set_silently_in_a_real_kernel(
    runlab_server: RunningServer,
    project: str,
    tmp_path: Path,
    kernel,
    cache_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    source = tmp_path / "kernel-data"
    source.mkdir()
    handle = runlab.dataset("kdata")
    for text in ("first", "second"):
        (source / "value.txt").write_text(text)
        handle.commit(source, progress=False)
    attach(kernel, runlab_server.url, runlab_server.token, project, "analysis.ipynb")
    execute(kernel, f"import os; os.environ['RUNLAB_CACHE_DIR'] = {str(cache_dir / 'kernel')!r}")
    reply = execute(
        kernel,
        "",
        silent=True,
        store_history=False,
        user_expressions={"pins": "__import__('runlab')._kernel_pins({'kdata': 'v1'})"},
    ).reply
    result = reply["content"]["user_expressions"]["pins"]
    assert result["status"] == "ok" and result["data"]["application/json"] == {"pins": {"kdata": "v1"}}
    shown = execute(kernel, "import runlab\nprint(open(runlab.dataset('kdata').path() / 'value.txt').read())")
    assert shown.stdout.strip() == "first"


# -- versions, diff, CLI ------------------------------------------------------------------------------------


def test_versions_and_diff(project: str, tmp_path: Path) -> None:
    source = tmp_path / "d"
    source.mkdir()
    (source / "keep.txt").write_text("same")
    (source / "change.txt").write_text("before")
    (source / "remove.txt").write_text("bye")
    handle = runlab.dataset("diffed")
    handle.commit(source, message="one", progress=False)
    (source / "change.txt").write_text("after, longer")
    (source / "remove.txt").unlink()
    (source / "add.txt").write_text("new")
    handle.commit(source, message="two", progress=False)

    versions = handle.versions()
    assert [v.label for v in versions] == ["v2", "v1"]
    assert [v.message for v in versions] == ["two", "one"]
    diff = handle.diff("v1", "2")
    assert (diff.summary["added"], diff.summary["removed"], diff.summary["changed"], diff.summary["unchanged"]) == (
        1,
        1,
        1,
        1,
    )
    assert [f["path"] for f in diff.added] == ["add.txt"]
    assert [f["path"] for f in diff.removed] == ["remove.txt"]
    assert [f["path"] for f in diff.changed] == ["change.txt"]
    assert "+1 added" in repr(diff)


def run_cli(
    server: RunningServer, cache_dir: Path, *args: str, project: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env.update(
        PYTHONPATH=str(PYTHON_DIR),
        RUNLAB_URL=server.url,
        RUNLAB_TOKEN=server.token,
        RUNLAB_CACHE_DIR=str(cache_dir),
        RUNLAB_DATA_DIR=str(cache_dir.parent / "no-local-server"),
    )
    extra = ["--project", project] if project else []
    return subprocess.run(
        [sys.executable, "-m", "runlab", *args, *extra], env=env, capture_output=True, text=True, timeout=60
    )


def test_delete_a_version_or_a_dataset_from_the_cli_and_the_api(
    runlab_server: RunningServer, project: str, tmp_path: Path, cache_dir: Path
) -> None:
    source = tmp_path / "doomed"
    source.mkdir()
    for content in ("first\n", "second\n"):
        (source / "table.csv").write_text(content)
        runlab.dataset("doomed").commit(source, progress=False)

    unclear = run_cli(runlab_server, cache_dir, "data", "rm", "doomed", project=project)
    assert unclear.returncode == 2 and "doomed@vN" in unclear.stderr and "--all" in unclear.stderr
    # Not a terminal, no --yes: nothing is deleted without a confirmation.
    unconfirmed = run_cli(runlab_server, cache_dir, "data", "rm", "doomed@v2", project=project)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    assert [v.number for v in runlab.dataset("doomed").versions()] == [2, 1]
    missing = run_cli(runlab_server, cache_dir, "data", "rm", "doomed@v7", "--yes", project=project)
    assert missing.returncode == 1 and "not found" in missing.stderr

    deleted = run_cli(runlab_server, cache_dir, "data", "rm", "doomed@v2", "--yes", project=project)
    assert deleted.returncode == 0, deleted.stderr
    assert "Deleted doomed@v2 (1 file)" in deleted.stdout and "runlab-server gc" in deleted.stdout
    assert [v.number for v in runlab.dataset("doomed").versions()] == [1]
    assert (runlab.dataset("doomed").path(progress=False) / "table.csv").read_text() == "first\n"

    runlab.dataset("doomed").delete()
    with pytest.raises(runlab.RunlabError) as gone:
        runlab.dataset("doomed").versions()
    assert gone.value.status == 404


def test_cli_add_ls_log_get_diff(runlab_server: RunningServer, project: str, tmp_path: Path, cache_dir: Path) -> None:
    source = tmp_path / "cli-src"
    make_tree(source)

    added = run_cli(
        runlab_server, cache_dir, "data", "add", "cli-set", str(source), "-m", "from the CLI", project=project
    )
    assert added.returncode == 0, added.stderr
    assert "Committed cli-set@v1" in added.stdout
    (source / "nested" / "deeper" / "tiny.txt").write_text("changed\n")
    (source / "added.txt").write_text("new file\n")
    again = run_cli(runlab_server, cache_dir, "data", "add", "cli-set", str(source), project=project)
    assert again.returncode == 0 and "cli-set@v2" in again.stdout
    same = run_cli(runlab_server, cache_dir, "data", "add", "cli-set", str(source), project=project)
    assert same.returncode == 0 and "Unchanged" in same.stdout

    listed = run_cli(runlab_server, cache_dir, "data", "ls", project=project)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()[:2]
    assert header.split() == ["NAME", "VERSIONS", "LATEST", "FILES", "SIZE", "UPDATED"]
    assert row.split()[:4] == ["cli-set", "2", "v2", "9"]

    log = run_cli(runlab_server, cache_dir, "data", "log", "cli-set", project=project)
    assert log.returncode == 0, log.stderr
    lines = log.stdout.splitlines()
    assert lines[1].split()[0] == "VERSION"
    assert lines[2].split()[0] == "v2" and lines[3].split()[0] == "v1"
    assert "from the CLI" in lines[3]

    dest = tmp_path / "checkout"
    got = run_cli(runlab_server, cache_dir, "data", "get", "cli-set@v1", str(dest), "--copy", project=project)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == str(dest)
    assert (dest / "nested" / "deeper" / "tiny.txt").read_text() == "hello\n"
    assert not (dest / "added.txt").exists()
    assert stat.S_IMODE((dest / "run.sh").stat().st_mode) == 0o755  # copies keep the exact modes
    assert stat.S_IMODE((dest / "private.txt").stat().st_mode) == 0o600
    assert sha256(dest / "big.bin") == sha256(source / "big.bin")  # 1.5 MB, copied in the kernel
    assert (dest / "nested" / "deeper" / "empty.dat").stat().st_size == 0

    cached = run_cli(runlab_server, cache_dir, "data", "get", "cli-set", project=project)
    assert cached.returncode == 0, cached.stderr
    assert Path(cached.stdout.strip()).name == "v2"
    assert (Path(cached.stdout.strip()) / "added.txt").read_text() == "new file\n"

    diff = run_cli(runlab_server, cache_dir, "data", "diff", "cli-set", "v1", "v2", project=project)
    assert diff.returncode == 0, diff.stderr
    assert "1 added" in diff.stdout and "1 changed" in diff.stdout
    assert "A added.txt" in diff.stdout and "M nested/deeper/tiny.txt" in diff.stdout

    missing = run_cli(runlab_server, cache_dir, "data", "get", "cli-set@v9", project=project)
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr and "v9" in missing.stderr
    bad = run_cli(runlab_server, cache_dir, "data", "get", "cli set@vX", project=project)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "name" in bad.stderr
    # No project set anywhere: the default project, as for runs (see the test below).
    no_project = run_cli(runlab_server, cache_dir, "data", "ls")
    assert no_project.returncode == 0, no_project.stderr
    server_side = run_cli(runlab_server, cache_dir, "fsck")
    assert server_side.returncode == 2 and "npx runlab-server fsck" in server_side.stderr


def test_with_no_project_set_datasets_go_to_the_default_project_as_runs_do(
    runlab_server: RunningServer, tmp_path: Path, cache_dir: Path
) -> None:
    runlab.configure(url=runlab_server.url, token=runlab_server.token)  # no project anywhere
    name = f"defaulted-{uuid.uuid4().hex[:8]}"
    source = tmp_path / "defaulted"
    source.mkdir()
    (source / "table.csv").write_text("a,b\n1,2\n")

    version = runlab.dataset(name).commit(source, progress=False)
    run = runlab.start(name="defaulted")
    run.end()
    assert runlab.flush(30) is True
    with server_client(runlab_server) as api:
        assert version.project == api.get_run(str(run.id))["projectName"] == "default"
    assert (runlab.dataset(f"{name}@v1").path(progress=False) / "table.csv").read_text() == "a,b\n1,2\n"
    listed = run_cli(runlab_server, cache_dir, "data", "ls")
    assert listed.returncode == 0, listed.stderr
    assert name in listed.stdout.split()


def test_received_chunks_are_verified_before_use() -> None:
    from runlab.datasets import framing

    data = b"abc" * 10_000
    digest = hashlib.sha256(data).digest()
    packed = framing.frame(digest, data)
    assert packed[32] == framing.CODEC_ZSTD and len(packed) < len(data)
    assert list(framing.parse(packed + framing.frame(digest, data, compress=False))) == [(digest, data), (digest, data)]
    raw = bytearray(framing.frame(digest, data, compress=False))
    raw[-1] ^= 0x01
    with pytest.raises(framing.ChunkProblem, match="sha256"):
        list(framing.parse(bytes(raw)))
    with pytest.raises(framing.ChunkProblem, match="bytes"):
        list(framing.parse(framing.HEADER.pack(digest, 0, len(data) + 1, len(data)) + data))
