"""Signatures inferred from examples, and their round trip through MLflow's format (read back by
the real mlflow client's own parser)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from runlab.models.signature import example_json, from_mlflow, infer_signature, to_mlflow


def _column(name, datatype, required=True):
    return {"name": name, "kind": "column", "datatype": datatype, "shape": [-1], "required": required}


def test_dataframe_columns_with_their_datatypes() -> None:
    frame = pd.DataFrame(
        {
            "age": [31.5, 40.0],
            "visits": np.array([3, 4], dtype=np.int64),
            "small": np.array([1, 2], dtype=np.int32),
            "ratio": np.array([0.5, 0.25], dtype=np.float32),
            "active": [True, False],
            "plan": ["basic", "pro"],
            "mixed": pd.Series([1, None], dtype=object),
        }
    )
    signature = infer_signature(frame, np.array([0, 1]))
    assert signature["inputs"] == [
        _column("age", "FP64"),
        _column("visits", "INT64"),
        _column("small", "INT32"),
        _column("ratio", "FP32"),
        _column("active", "BOOL"),
        _column("plan", "BYTES"),
        _column("mixed", "INT64"),
    ]
    assert signature["outputs"] == [
        {"name": None, "kind": "tensor", "datatype": "INT64", "shape": [-1], "required": True}
    ]


def test_ndarray_is_one_unnamed_tensor_of_any_length() -> None:
    signature = infer_signature(np.zeros((5, 3, 2), dtype=np.float32), np.zeros((5, 2)))
    assert signature == {
        "inputs": [{"name": None, "kind": "tensor", "datatype": "FP32", "shape": [-1, 3, 2], "required": True}],
        "outputs": [{"name": None, "kind": "tensor", "datatype": "FP64", "shape": [-1, 2], "required": True}],
    }
    assert infer_signature(np.array(["a", "b"], dtype=object))["inputs"][0]["datatype"] == "BYTES"
    assert infer_signature(np.array([b"x"]))["inputs"][0]["datatype"] == "BYTES"


def test_lists_of_rows_and_of_dicts() -> None:
    assert infer_signature([[1.0, 2.0], [3.0, 4.0]])["inputs"] == [
        {"name": None, "kind": "tensor", "datatype": "FP64", "shape": [-1, 2], "required": True}
    ]
    records = [{"age": 31, "plan": "basic", "score": 0.5}, {"age": 40, "plan": "pro", "coupon": True}]
    assert infer_signature(records)["inputs"] == [
        _column("age", "INT64"),
        _column("plan", "BYTES"),
        _column("score", "FP64", required=False),
        _column("coupon", "BOOL", required=False),
    ]
    assert example_json(records) == {
        "columns": ["age", "plan", "score", "coupon"],
        "data": [[31, "basic", 0.5, None], [40, "pro", None, True]],
    }


def test_outputs_from_dataframes_dicts_and_undescribable_predictions() -> None:
    frame = pd.DataFrame({"x": [1.0]})
    assert infer_signature(frame, pd.DataFrame({"p": [0.2]}))["outputs"] == [_column("p", "FP64")]
    assert infer_signature(frame, pd.Series([1], name="label"))["outputs"] == [_column("label", "INT64")]
    named = infer_signature(frame, {"label": np.array([1]), "probabilities": np.array([[0.1, 0.9]])})["outputs"]
    assert [(f["name"], f["shape"]) for f in named] == [("label", [-1]), ("probabilities", [-1, 2])]
    assert infer_signature(frame)["outputs"] is None
    with pytest.raises(ValueError, match="needs an input example"):
        infer_signature(None)


def test_example_json_is_mlflow_format_and_small() -> None:
    frame = pd.DataFrame({"a": np.arange(20.0), "b": ["x"] * 20})
    frame.loc[0, "a"] = np.nan
    assert example_json(frame, 3) == {"columns": ["a", "b"], "data": [[None, "x"], [1.0, "x"], [2.0, "x"]]}
    assert example_json(np.arange(12).reshape(6, 2), 2) == [[0, 1], [2, 3]]
    assert example_json({"ids": np.array([1, 2, 3])}, 2) == {"ids": [1, 2]}


def test_round_trip_through_mlflow_format() -> None:
    from mlflow.models.signature import ModelSignature

    table = infer_signature(
        pd.DataFrame({"age": [1.0], "n": [1], "ok": [True], "plan": ["a"], "r": np.array([1.0], dtype=np.float32)}),
        np.array([1]),
    )
    tensor = infer_signature(np.zeros((2, 4), dtype=np.float32), {"label": np.array([1, 0]), "p": np.zeros((2, 3))})
    for signature in (table, tensor):
        block = to_mlflow(signature)
        assert isinstance(block["inputs"], str) and block["params"] is None
        assert from_mlflow(block) == signature
        # MLflow's own parser reads it, and writes back what Runlab reads the same way.
        parsed = ModelSignature.from_dict(block)
        again = from_mlflow(parsed.to_dict())
        assert again == signature

    assert [json.loads(to_mlflow(table)["inputs"])[i]["type"] for i in range(5)] == [
        "double",
        "long",
        "boolean",
        "string",
        "float",
    ]


def test_mlflow_written_signatures_read_into_runlab(tmp_path: Path) -> None:
    import mlflow.models

    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [1, 0], "c": ["x", "y"]})
    signature = mlflow.models.infer_signature(frame, np.array([0, 1]))
    assert from_mlflow(signature.to_dict()) == {
        "inputs": [_column("a", "FP64"), _column("b", "INT64"), _column("c", "BYTES")],
        "outputs": [{"name": None, "kind": "tensor", "datatype": "INT64", "shape": [-1], "required": True}],
    }
    tensors = mlflow.models.infer_signature(np.zeros((3, 2), dtype=np.float64), np.zeros(3, dtype=np.int32))
    assert from_mlflow(tensors.to_dict()) == {
        "inputs": [{"name": None, "kind": "tensor", "datatype": "FP64", "shape": [-1, 2], "required": True}],
        "outputs": [{"name": None, "kind": "tensor", "datatype": "INT32", "shape": [-1], "required": True}],
    }
    # MLflow's unnamed column outputs (what older sklearn logs carry).
    block = {
        "inputs": '[{"type": "double", "name": "a", "required": true}]',
        "outputs": '[{"type": "long", "required": true}]',
    }
    assert from_mlflow(block)["outputs"] == [_column(None, "INT64")]
    assert from_mlflow(None) is None
    assert from_mlflow({"inputs": None}) is None
