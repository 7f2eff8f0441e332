"""What a runner machine offers, as the contract's RunnerCapacity: CPU cores, memory, GPUs, OS and
Python. Read from the standard library and ``nvidia-smi`` (when installed), so a runner needs no
extra package to describe itself.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from typing import Any

# nvidia-smi answers in a second on a healthy machine; a wedged driver must not hold up the start.
_NVIDIA_SMI_TIMEOUT_S = 10


def cpu_count() -> int:
    """Cores this process may use (its affinity mask, where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def memory_bytes() -> int:
    """Physical memory in bytes; 0 when it cannot be read."""
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and page_size > 0:
            return int(pages * page_size)
    except (AttributeError, ValueError, OSError):
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    return 0


def parse_nvidia_smi(text: str) -> list[dict[str, Any]]:
    """GpuInfo entries from ``nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits``
    (one ``name, MiB`` line per GPU); lines that do not parse are skipped."""
    gpus: list[dict[str, Any]] = []
    for line in text.splitlines():
        name, _, memory = line.rpartition(",")
        name, memory = name.strip(), memory.strip()
        if not name:
            continue
        try:
            memory_mib = int(float(memory))
        except ValueError:
            memory_mib = 0
        gpus.append({"model": name[:200], "memoryBytes": max(0, memory_mib) * 1024 * 1024})
    return gpus[:64]


def gpus() -> list[dict[str, Any]]:
    """The machine's NVIDIA GPUs; none when ``nvidia-smi`` is absent or fails."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return []
    try:
        answer = subprocess.run(
            [executable, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=_NVIDIA_SMI_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return parse_nvidia_smi(answer.stdout) if answer.returncode == 0 else []


def capacity() -> dict[str, Any]:
    """This machine as the contract's RunnerCapacity."""
    return {
        "cpus": cpu_count(),
        "memoryBytes": memory_bytes(),
        "gpus": gpus(),
        "os": platform.platform()[:200],
        "python": platform.python_version()[:50],
    }
