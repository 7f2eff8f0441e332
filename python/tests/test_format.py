"""Sizes as people read them: one rule in the CLI, progress bars and reprs (and the extension)."""

from __future__ import annotations

import json
import random
import subprocess

import pytest
from conftest import REPO

from runlab.datasets.api import DatasetVersion
from runlab.datasets.progress import byte_bar
from runlab.format import format_bytes

KiB, MiB, GiB, TiB = 1024, 1024**2, 1024**3, 1024**4
FORMAT_JS = REPO / "server" / "dist" / "contract" / "format.js"


SIZES = [
    (0, "0 B"),
    (512, "512 B"),
    (1023, "1023 B"),
    (1024, "1.0 KiB"),
    (1280, "1.3 KiB"),  # 1.25: halves round up
    (1536, "1.5 KiB"),
    (int(99.94 * KiB), "99.9 KiB"),
    (int(99.96 * KiB), "100.0 KiB"),
    (int(136.7 * KiB), "136.7 KiB"),
    (150 * KiB, "150.0 KiB"),
    (MiB - 1, "1.0 MiB"),  # never "1024.0 KiB"
    (int(1.2 * MiB), "1.2 MiB"),
    (5 * GiB, "5.0 GiB"),
    (2 * TiB, "2.0 TiB"),
    (2048 * TiB, "2048.0 TiB"),
    (-2048, "-2.0 KiB"),
]


@pytest.mark.parametrize(("size", "text"), SIZES)
def test_sizes_are_written_in_base_1024_with_one_rule(size: int, text: str) -> None:
    assert format_bytes(size) == text


def test_python_writes_every_size_as_the_server_and_the_extension_do() -> None:
    """The TypeScript formatter (server/src/contract/format.ts, which the extension uses too), run
    by Node from the built server, on the table above and on sizes around every unit boundary."""
    sizes = [size for size, _ in SIZES]
    for exponent in range(1, 5):
        boundary = 1024**exponent
        sizes += [boundary - 1, boundary, boundary + 1, int(boundary * 99.95), int(boundary * 1023.95)]
    sizes += [random.Random(seed).randrange(0, 10 * TiB) for seed in range(200)]
    script = (
        f"const {{ formatBytes }} = require({json.dumps(str(FORMAT_JS))});"
        "const sizes = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(sizes.map(formatBytes)));"
    )
    typescript = subprocess.run(
        ["node", "-e", script], input=json.dumps(sizes), capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(typescript.stdout) == [format_bytes(size) for size in sizes]


def test_progress_bars_and_reprs_write_sizes_the_same_way() -> None:
    bar = byte_bar("uploading iris", 3 * MiB, enabled=True, delay=60)  # never drawn: a minute's delay
    try:
        bar.update(3 * MiB // 2)
        assert "1.5 MiB/3.0 MiB" in str(bar)
    finally:
        bar.close()
    version = DatasetVersion(
        dataset="iris",
        project="p",
        number=3,
        label="v3",
        hash="ab" * 32,
        size=150 * KiB,
        file_count=2,
        message="",
        author="",
        created=None,
        produced_by_run_id=None,
        id="x",
    )
    assert "· 150.0 KiB ·" in repr(version)
