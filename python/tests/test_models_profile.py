"""Reference profiles: what they hold, that they are seeded, and how big they are."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from runlab.models.profile import build_profile


def _by_name(profiles: list[dict]) -> dict[str, dict]:
    return {p["name"]: p for p in profiles}


def test_numeric_and_categorical_features_and_predictions() -> None:
    rng = np.random.default_rng(11)
    rows = 5000
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.6, 0.3, 0.1]),
            "id": [f"user-{i}" for i in range(rows)],
            "active": rng.random(rows) > 0.5,
        }
    )
    frame.loc[:9, "age"] = np.nan
    frame.loc[10, "age"] = np.inf
    frame.loc[:4, "plan"] = None
    predictions = rng.random((rows, 2))
    profile = build_profile(frame, predictions)

    assert profile["rows"] == rows
    features = _by_name(profile["features"])
    age = features["age"]
    assert (age["kind"], age["count"], age["missing"]) == ("numeric", rows, 11)
    numeric = age["numeric"]
    assert len(numeric["quantiles"]) == 101 and numeric["quantiles"] == sorted(numeric["quantiles"])
    assert numeric["quantiles"][0] == numeric["min"] and numeric["quantiles"][-1] == numeric["max"]
    assert len(numeric["histogram"]["edges"]) == 65 and len(numeric["histogram"]["counts"]) == 64
    assert sum(numeric["histogram"]["counts"]) == rows - 11
    assert len(numeric["sample"]) == 1000
    assert abs(numeric["mean"] - 40) < 1 and abs(numeric["std"] - 10) < 1
    assert age["categorical"] is None

    plan = features["plan"]
    assert (plan["kind"], plan["missing"]) == ("categorical", 5)
    assert set(plan["categorical"]["counts"]) == {"basic", "plus", "pro"}
    assert plan["categorical"]["other"] == 0 and plan["categorical"]["distinct"] == 3
    ids = features["id"]["categorical"]
    # The 100 most frequent, the rest counted as other.
    assert len(ids["counts"]) == 100 and ids["other"] == rows - 100 and ids["distinct"] == rows
    assert features["active"]["categorical"]["counts"].keys() == {"True", "False"}

    assert [p["name"] for p in profile["predictions"]] == ["prediction_0", "prediction_1"]
    assert all(p["kind"] == "numeric" for p in profile["predictions"])
    # Seeded: the same data gives the same profile.
    assert build_profile(frame, predictions) == profile


def test_arrays_get_names_from_the_signature_or_their_position() -> None:
    features = np.arange(20.0).reshape(10, 2)
    named = build_profile(features, np.arange(10), feature_names=["a", "b"])
    assert [f["name"] for f in named["features"]] == ["a", "b"]
    assert [p["name"] for p in named["predictions"]] == ["prediction"]
    unnamed = build_profile(features, {"label": np.zeros(10), "probabilities": np.ones((10, 2))})
    assert [f["name"] for f in unnamed["features"]] == ["0", "1"]
    assert [p["name"] for p in unnamed["predictions"]] == ["label", "probabilities_0", "probabilities_1"]
    records = build_profile([{"x": 1, "y": "a"}, {"x": None, "y": "b"}])
    x, y = records["features"]
    assert (x["kind"], x["missing"], y["kind"]) == ("numeric", 1, "categorical")
    assert records["predictions"] == []


def test_constant_and_empty_columns() -> None:
    profile = build_profile(pd.DataFrame({"same": [3.0] * 50, "none": [np.nan] * 50}))
    same, none = profile["features"]
    assert same["numeric"]["min"] == same["numeric"]["max"] == 3.0
    assert sum(same["numeric"]["histogram"]["counts"]) == 50
    assert none["missing"] == 50 and none["numeric"]["quantiles"] == [] and none["numeric"]["mean"] is None


def test_profile_is_compact() -> None:
    rng = np.random.default_rng(0)
    rows = 100_000
    frame = pd.DataFrame({f"f{i}": rng.normal(size=rows) for i in range(10)})
    frame["plan"] = rng.choice([f"plan-{i}" for i in range(500)], rows)
    profile = build_profile(frame, rng.integers(0, 2, rows))
    sizes = {f["name"]: len(json.dumps(f, separators=(",", ":"))) for f in profile["features"] + profile["predictions"]}
    total = len(json.dumps(profile, separators=(",", ":")))
    print(f"\nprofile of {rows:,} rows x {len(frame.columns)} features: {total:,} bytes; per feature: {sizes}")
    # About 10 KB per numeric feature (1000-value sample, 101 quantiles, 64 bins, 6 digits),
    # a few KB per categorical one, whatever the number of rows.
    assert all(size < 14_000 for size in sizes.values())
    assert sizes["plan"] < 5_000
    assert total < 160_000
