"""What a runner reports about its machine: the contract's RunnerCapacity."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

from runlab.runners import capacity


def test_capacity_reports_cpus_memory_os_and_python() -> None:
    reported = capacity.capacity()
    assert reported["cpus"] >= 1
    assert reported["memoryBytes"] > 64 * 1024 * 1024
    assert reported["python"] == platform.python_version()
    assert reported["os"] and set(reported) == {"cpus", "memoryBytes", "gpus", "os", "python"}


def test_gpus_come_from_nvidia_smi_when_it_is_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'NVIDIA A100-SXM4-40GB, 40960'\necho 'NVIDIA A100-SXM4-40GB, 40960'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert capacity.gpus() == [{"model": "NVIDIA A100-SXM4-40GB", "memoryBytes": 40960 * 1024 * 1024}] * 2


def test_no_gpus_without_nvidia_smi_or_when_it_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert capacity.gpus() == []
    broken = tmp_path / "nvidia-smi"
    broken.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    broken.chmod(0o755)
    assert capacity.gpus() == []
    assert capacity.parse_nvidia_smi("Tesla T4, [N/A]\n\n") == [{"model": "Tesla T4", "memoryBytes": 0}]
