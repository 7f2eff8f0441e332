"""Reference profiles: a compact summary of a model's training inputs and its predictions on them,
kept with every version so drift can be checked later (contract ``ReferenceProfile``).

Per numeric feature: count, missing (None, NaN, ±inf), min, max, mean, std, 101 quantiles, a
64-bin histogram and a seeded uniform sample of at most 1000 values (for two-sample tests). Per
categorical feature: the 100 most frequent categories, how many rows hold another one, and how
many distinct there are. Numbers are rounded to 6 significant digits: a profile is a summary, and
rounding keeps a numeric feature to about 10 KB of JSON.

numpy only: pandas DataFrames are read column by column, but pandas is not needed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

QUANTILES = np.linspace(0.0, 1.0, 101)
HISTOGRAM_BINS = 64
SAMPLE_SIZE = 1000
TOP_CATEGORIES = 100
MAX_FEATURES = 10_000
MAX_PREDICTION_COLUMNS = 100
MAX_NAME_LENGTH = 250
MAX_CATEGORY_LENGTH = 500
SEED = 0


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def _finite_or_none(value: float) -> float | None:
    return _round(value) if math.isfinite(value) else None


def _columns(data: Any, names: Sequence[str] | None = None, prefix: str = "") -> list[tuple[str, np.ndarray]]:
    """``data`` as named 1-D columns: a DataFrame's, a dict's, a list of dicts', a 2-D array's
    (named by ``names``, else ``0``, ``1``, …), or one column for a 1-D array."""
    if type(data).__name__ == "DataFrame" and hasattr(data, "columns"):
        return [(str(name), _values(data[name])) for name in data.columns]
    if type(data).__name__ == "Series" and hasattr(data, "to_numpy"):
        name = data.name if data.name is not None else (names[0] if names else prefix or "0")
        return [(str(name), _values(data))]
    if isinstance(data, Mapping):
        columns = []
        for name, values in data.items():
            array = np.asarray(values)
            if array.ndim == 2 and array.shape[1] > 1:
                columns.extend(_columns(array, prefix=f"{name}_"))
            else:
                columns.append((str(name), array.reshape(-1) if array.ndim else array.reshape(1)))
        return columns
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)) and data and isinstance(data[0], Mapping):
        keys: dict[str, None] = {}
        for record in data:
            for key in record:
                keys.setdefault(str(key), None)
        return [(key, np.asarray([record.get(key) for record in data], dtype=object)) for key in keys]
    array = np.asarray(data)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim == 1:
        return [((names[0] if names else prefix.rstrip("_") or "0"), array)]
    flat = array.reshape(array.shape[0], -1)
    return [(names[i] if names and i < len(names) else f"{prefix}{i}", flat[:, i]) for i in range(flat.shape[1])]


def _values(column: Any) -> np.ndarray:
    try:
        return np.asarray(column.to_numpy())
    except (TypeError, ValueError):
        return np.asarray(list(column), dtype=object)


def _as_numeric(values: np.ndarray) -> np.ndarray | None:
    """float64 values (NaN where missing) when the column is numeric; None when categorical."""
    if values.dtype.kind in "iuf":
        return values.astype(np.float64)
    if values.dtype.kind != "O":
        return None
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not present or not all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) for v in present
    ):
        return None
    return np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _numeric_profile(name: str, values: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    count = int(values.size)
    numeric: dict[str, Any]
    if finite.size == 0:
        numeric = {
            "min": None,
            "max": None,
            "mean": None,
            "std": None,
            "quantiles": [],
            "histogram": {"edges": [], "counts": []},
            "sample": [],
        }
    else:
        low, high = float(finite.min()), float(finite.max())
        span = (low - 0.5, high + 0.5) if low == high else (low, high)
        counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS, range=span)
        sample = finite if finite.size <= SAMPLE_SIZE else rng.choice(finite, SAMPLE_SIZE, replace=False)
        numeric = {
            "min": _finite_or_none(low),
            "max": _finite_or_none(high),
            "mean": _finite_or_none(float(finite.mean())),
            "std": _finite_or_none(float(finite.std())),
            "quantiles": [_round(q) for q in np.quantile(finite, QUANTILES)],
            "histogram": {"edges": [_round(e) for e in edges], "counts": [int(c) for c in counts]},
            "sample": [_round(v) for v in sample],
        }
    return {
        "name": name[:MAX_NAME_LENGTH],
        "kind": "numeric",
        "count": count,
        "missing": count - int(finite.size),
        "numeric": numeric,
        "categorical": None,
    }


def _category(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value)[:MAX_CATEGORY_LENGTH]


def _categorical_profile(name: str, values: np.ndarray) -> dict[str, Any]:
    present = [v for v in values.tolist() if v is not None and not (isinstance(v, float) and math.isnan(v))]
    counter = Counter(_category(v) for v in present)
    top = counter.most_common(TOP_CATEGORIES)
    return {
        "name": name[:MAX_NAME_LENGTH],
        "kind": "categorical",
        "count": int(values.size),
        "missing": int(values.size) - len(present),
        "numeric": None,
        "categorical": {
            "counts": dict(top),
            "other": len(present) - sum(n for _, n in top),
            "distinct": len(counter),
        },
    }


def profile_features(
    data: Any, names: Sequence[str] | None = None, *, limit: int = MAX_FEATURES, prefix: str = ""
) -> list[dict[str, Any]]:
    """One FeatureProfile per column of ``data`` (at most ``limit``)."""
    profiles = []
    for index, (name, values) in enumerate(_columns(data, names, prefix)[:limit]):
        # One generator per feature, seeded by position: a feature's sample does not depend on the others.
        rng = np.random.default_rng([SEED, index])
        numeric = _as_numeric(values)
        profiles.append(
            _numeric_profile(name, numeric, rng) if numeric is not None else _categorical_profile(name, values)
        )
    return profiles


def _rows(data: Any) -> int:
    if hasattr(data, "shape") and getattr(data, "shape", None):
        return int(data.shape[0])
    if isinstance(data, Mapping):
        first = next(iter(data.values()), [])
        return len(np.asarray(first)) if np.ndim(first) else 1
    return len(data)


def build_profile(
    inputs: Any,
    predictions: Any = None,
    *,
    feature_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The ReferenceProfile of ``inputs`` (a DataFrame, a 2-D array, a list of dicts) and the
    model's ``predictions`` on them (an array, a DataFrame, a dict name → array). Unnamed array
    columns are named by ``feature_names`` / ``output_names``, else by position (``0``, ``1``…;
    predictions: ``prediction``, ``prediction_0``…)."""
    prediction_profiles: list[dict[str, Any]] = []
    if predictions is not None:
        array_like = not isinstance(predictions, Mapping) and type(predictions).__name__ not in ("DataFrame", "Series")
        if array_like and output_names is None:
            shape = np.shape(predictions)
            output_names = ["prediction"] if len(shape) <= 1 else None
        prediction_profiles = profile_features(
            predictions, output_names, limit=MAX_PREDICTION_COLUMNS, prefix="prediction_" if array_like else ""
        )
    return {
        "rows": _rows(inputs),
        "features": profile_features(inputs, feature_names),
        "predictions": prediction_profiles,
    }
