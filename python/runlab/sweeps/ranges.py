"""The ranges a sweep draws a parameter from, as the server's sweep spec spells them.

``runlab.loguniform(1e-4, 1e-1)`` is ``{"type": "loguniform", "low": 0.0001, "high": 0.1}``, the
same object a YAML/JSON spec gives and ``POST /api/sweeps`` takes (server/src/contract/sweeps.ts).
``points`` says how many values a grid takes from a continuous range.
"""

from __future__ import annotations

import math
from typing import Any

#: How many values a grid takes from a uniform or log-uniform range without ``points``.
DEFAULT_GRID_POINTS = 5


class RangeError(ValueError):
    """A range that cannot be drawn from, with what to change."""


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RangeError(f"{name} must be a finite number, not {value!r}")
    return value


def _points(points: int | None) -> dict[str, int]:
    if points is None:
        return {}
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= 1000:
        raise RangeError(f"points must be a whole number from 2 to 1000, not {points!r}")
    return {"points": points}


def uniform(low: float, high: float, *, points: int | None = None) -> dict[str, Any]:
    """Any number from ``low`` to ``high``, every value as likely."""
    low, high = _number("low", low), _number("high", high)
    if not low < high:
        raise RangeError(f"uniform({low}, {high}): low must be below high")
    return {"type": "uniform", "low": low, "high": high, **_points(points)}


def loguniform(low: float, high: float, *, points: int | None = None) -> dict[str, Any]:
    """A number from ``low`` to ``high`` whose logarithm is uniform (learning rates, regularisation)."""
    low, high = _number("low", low), _number("high", high)
    if not 0 < low < high:
        raise RangeError(f"loguniform({low}, {high}): needs 0 < low < high (a logarithm of 0 or less has no value)")
    return {"type": "loguniform", "low": low, "high": high, **_points(points)}


def intrange(low: int, high: int, *, step: int = 1) -> dict[str, Any]:
    """A whole number from ``low`` to ``high`` (both included), in steps of ``step``."""
    for name, value in (("low", low), ("high", high), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RangeError(f"intrange: {name} must be a whole number, not {value!r}")
    if not low < high:
        raise RangeError(f"intrange({low}, {high}): low must be below high")
    if step < 1 or (high - low) % step != 0:
        raise RangeError(f"intrange({low}, {high}, step={step}): step must be positive and divide high - low")
    return {"type": "intrange", "low": low, "high": high, **({"step": step} if step != 1 else {})}


def choice(values: list[Any]) -> dict[str, Any]:
    """One of ``values`` (numbers, strings, true/false or None), each as likely."""
    values = list(values)
    if not values:
        raise RangeError("choice([]): give at least one value")
    for value in values:
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise RangeError(f"choice: {value!r} is not a number, string, true/false or None")
    return {"type": "choice", "values": values}


def grid_values(spec: dict[str, Any]) -> list[Any]:
    """The values a grid search tries for one range, in order."""
    kind = spec["type"]
    if kind == "choice":
        return list(spec["values"])
    if kind == "intrange":
        return list(range(spec["low"], spec["high"] + 1, spec.get("step", 1)))
    points = spec.get("points", DEFAULT_GRID_POINTS)
    low, high = spec["low"], spec["high"]
    if kind == "loguniform":
        ratio = math.log(high / low) / (points - 1)
        inner = [low * math.exp(ratio * i) for i in range(1, points - 1)]
    else:
        inner = [low + (high - low) * i / (points - 1) for i in range(1, points - 1)]
    # 12 significant digits: 1e-3, not the 0.0009999999999999998 the arithmetic gives.
    return [low, *(float(f"{value:.12g}") for value in inner), high]
