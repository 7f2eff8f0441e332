"""How Runlab writes sizes for people, the same in the CLI, progress bars and reprs as in the
JupyterLab extension and the server (server/src/contract/format.ts, checked against this one in
python/tests/test_format.py), so one dataset version shows one size everywhere."""

from __future__ import annotations

import math

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_bytes(size: float) -> str:
    """``size`` bytes in base 1024 with units B, KiB, MiB, GiB, TiB: bytes as a whole number
    (``512 B``), otherwise with one decimal (``1.5 KiB``, ``5.0 MiB``).

    The rule, exactly: the unit is the largest that ``size`` reaches; the number is rounded half
    up to tenths, and one that rounds to 1024.0 moves to the next unit (``1.0 MiB``, never
    ``1024.0 KiB``); a negative size keeps its sign."""
    if size < 0:
        return "-" + format_bytes(-size)
    exponent = 0
    while exponent < len(_UNITS) - 1 and size >= 1024 ** (exponent + 1):
        exponent += 1
    if exponent == 0:
        return f"{_round_half_up(size)} B"
    tenths = _round_half_up(size * 10 / 1024**exponent)
    if tenths >= 10240 and exponent < len(_UNITS) - 1:
        exponent += 1
        tenths = _round_half_up(size * 10 / 1024**exponent)
    return f"{tenths // 10}.{tenths % 10} {_UNITS[exponent]}"


def _round_half_up(value: float) -> int:
    # What Math.floor(x + 0.5) gives in TypeScript: the same float operations, the same digits.
    return math.floor(value + 0.5)
