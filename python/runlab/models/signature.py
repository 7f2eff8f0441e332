"""Model signatures: what a model takes and returns, inferred from an example.

Runlab's format is the contract's ``ModelSignature``::

    {"inputs": [{"name": "age", "kind": "column", "datatype": "FP64", "shape": [-1], "required": True}, ...],
     "outputs": [{"name": None, "kind": "tensor", "datatype": "INT64", "shape": [-1], "required": True}]}

Datatypes are the Open Inference Protocol's (what ``/v2/models/.../infer`` takes). A table
(a pandas DataFrame, a list of dicts) gives one ``column`` per column; an array gives one unnamed
``tensor`` whose first dimension is ``-1`` (any number of rows). ``to_mlflow`` / ``from_mlflow``
convert to and from the ``signature`` block of an MLflow ``MLmodel`` file, so MLflow and Runlab read
each other's models.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# numpy dtype kind+size → OIP datatype.
_OIP_BY_NUMPY = {
    "b1": "BOOL",
    "i1": "INT8",
    "i2": "INT16",
    "i4": "INT32",
    "i8": "INT64",
    "u1": "UINT8",
    "u2": "UINT16",
    "u4": "UINT32",
    "u8": "UINT64",
    "f2": "FP16",
    "f4": "FP32",
    "f8": "FP64",
}
# OIP datatype → numpy dtype (BYTES: Python objects, str or bytes).
NUMPY_BY_OIP = {
    "BOOL": "bool",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
# MLflow's column types (mlflow.types.DataType) ↔ OIP. MLflow has fewer integer widths, so
# narrower ones widen on the way out.
_OIP_BY_MLFLOW = {
    "double": "FP64",
    "float": "FP32",
    "long": "INT64",
    "integer": "INT32",
    "boolean": "BOOL",
    "string": "BYTES",
    "binary": "BYTES",
    "datetime": "BYTES",
}
_MLFLOW_BY_OIP = {
    "FP64": "double",
    "FP32": "float",
    "FP16": "float",
    "INT64": "long",
    "UINT64": "long",
    "UINT32": "long",
    "INT32": "integer",
    "INT16": "integer",
    "INT8": "integer",
    "UINT16": "integer",
    "UINT8": "integer",
    "BOOL": "boolean",
    "BYTES": "string",
}


def datatype_of(dtype: Any, values: Any = None) -> str:
    """The OIP datatype of a numpy (or pandas) dtype; for object columns, of the first value."""
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        # A pandas extension dtype: nullable integers/booleans/floats expose numpy_dtype; strings
        # and categories are BYTES.
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        if numpy_dtype is not None and np.dtype(numpy_dtype).kind in "biuf":
            return datatype_of(numpy_dtype)
        return "BYTES"
    if np_dtype.kind in "biuf":
        return _OIP_BY_NUMPY[f"{np_dtype.kind}{np_dtype.itemsize}"]
    if np_dtype.kind == "O" and values is not None:
        return _python_datatype(values)
    # Strings, bytes, dates, anything else: sent as text.
    return "BYTES"


def _python_datatype(values: Any) -> str:
    """The OIP datatype of plain Python values (the first that is not missing decides)."""
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, (bool, np.bool_)):
            return "BOOL"
        if isinstance(value, (int, np.integer)):
            return "INT64"
        if isinstance(value, (float, np.floating)):
            return "FP64"
        return "BYTES"
    return "FP64"


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns") and hasattr(value, "dtypes")


def _is_series(value: Any) -> bool:
    return type(value).__name__ == "Series" and hasattr(value, "dtype") and hasattr(value, "name")


def _column(name: str | None, datatype: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "kind": "column", "datatype": datatype, "shape": [-1], "required": required}


def _tensor(name: str | None, array: np.ndarray) -> dict[str, Any]:
    shape = [-1, *(int(n) for n in array.shape[1:])] if array.ndim else [-1]
    flat = array.ravel()[:100] if array.dtype.kind == "O" else None
    return {
        "name": name,
        "kind": "tensor",
        "datatype": datatype_of(array.dtype, flat),
        "shape": shape,
        "required": True,
    }


def describe(value: Any) -> list[dict[str, Any]]:
    """The signature fields of one value: an input example or a model's predictions."""
    if _is_dataframe(value):
        return [
            _column(str(name), datatype_of(dtype, value[name].head(100).tolist()))
            for name, dtype in value.dtypes.items()
        ]
    if _is_series(value):
        return [_column(None if value.name is None else str(value.name), datatype_of(value.dtype, value.head(100)))]
    if isinstance(value, Mapping):
        # Named tensors (a dict of arrays), as a multi-input model takes them.
        return [_tensor(str(name), np.asarray(array)) for name, array in value.items()]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and value and isinstance(value[0], Mapping):
        return _records_fields(value)
    return [_tensor(None, np.asarray(value))]


def _records_fields(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Columns of a list of dicts: every key seen, in order; optional when some row lacks it."""
    names: dict[str, None] = {}
    for record in records:
        for key in record:
            names.setdefault(str(key), None)
    fields = []
    for name in names:
        present = [record[name] for record in records if name in record]
        fields.append(_column(name, _python_datatype(present), required=len(present) == len(records)))
    return fields


def infer_signature(example: Any, predictions: Any = None) -> dict[str, Any]:
    """The signature of a model from an input example and (optionally) its predictions on it."""
    if example is None:
        raise ValueError("infer_signature needs an input example (a DataFrame, an array or a list of rows)")
    outputs = None
    if predictions is not None:
        try:
            outputs = describe(predictions)
        except (TypeError, ValueError):
            outputs = None  # predictions we cannot describe: the contract's outputs: null
    return {"inputs": describe(example), "outputs": outputs}


# -- MLflow's format --------------------------------------------------------------------------------


def _field_to_mlflow(field: Mapping[str, Any]) -> dict[str, Any]:
    if field["kind"] == "column":
        spec: dict[str, Any] = {"type": _MLFLOW_BY_OIP[field["datatype"]]}
        if field.get("name") is not None:
            spec["name"] = field["name"]
        spec["required"] = bool(field.get("required", True))
        return spec
    tensor: dict[str, Any] = {
        "type": "tensor",
        "tensor-spec": {"dtype": NUMPY_BY_OIP[field["datatype"]], "shape": list(field["shape"])},
    }
    if field.get("name") is not None:
        tensor["name"] = field["name"]
    return tensor


def to_mlflow(signature: Mapping[str, Any]) -> dict[str, Any]:
    """The ``signature`` block of an MLflow ``MLmodel`` file (inputs/outputs as JSON strings)."""
    outputs = signature.get("outputs")
    return {
        "inputs": json.dumps([_field_to_mlflow(f) for f in signature["inputs"]]),
        "outputs": json.dumps([_field_to_mlflow(f) for f in outputs]) if outputs else None,
        "params": None,
    }


def _field_from_mlflow(spec: Mapping[str, Any]) -> dict[str, Any]:
    name = spec.get("name")
    if spec.get("type") == "tensor":
        tensor = spec.get("tensor-spec") or {}
        shape = [int(n) for n in tensor.get("shape") or [-1]]
        dtype = str(tensor.get("dtype", "float64"))
        try:
            datatype = datatype_of(dtype)
        except TypeError:
            datatype = "BYTES"
        return {"name": name, "kind": "tensor", "datatype": datatype, "shape": shape, "required": True}
    # Columns; MLflow's newer compound types (array, object, map) travel as JSON text.
    datatype = _OIP_BY_MLFLOW.get(str(spec.get("type")), "BYTES")
    return _column(name, datatype, bool(spec.get("required", True)))


def _parse_fields(value: Any) -> list[Mapping[str, Any]] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return list(value)


def from_mlflow(mlmodel_signature: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Runlab's signature from an ``MLmodel`` ``signature`` block (None when there is none)."""
    if not mlmodel_signature:
        return None
    inputs = _parse_fields(mlmodel_signature.get("inputs"))
    if not inputs:
        return None
    outputs = _parse_fields(mlmodel_signature.get("outputs"))
    return {
        "inputs": [_field_from_mlflow(f) for f in inputs],
        "outputs": [_field_from_mlflow(f) for f in outputs] if outputs else None,
    }


# -- input examples (MLflow's input_example.json) -----------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def example_json(example: Any, max_rows: int = 10) -> Any:
    """An input example in MLflow's ``input_example.json`` format, at most ``max_rows`` rows:
    ``{"columns": [...], "data": [[...]]}`` for tables, a nested list for arrays, ``{name: list}``
    for named tensors."""
    if _is_dataframe(example):
        head = example.head(max_rows)
        data = [[_json_value(v) for v in row] for row in head.itertuples(index=False, name=None)]
        return {"columns": [str(c) for c in head.columns], "data": data}
    if _is_series(example):
        return example_json(example.to_frame(), max_rows)
    if isinstance(example, Mapping):
        return {str(name): _nested(np.asarray(array)[:max_rows]) for name, array in example.items()}
    if (
        isinstance(example, Sequence)
        and not isinstance(example, (str, bytes))
        and example
        and isinstance(example[0], Mapping)
    ):
        columns = [f["name"] for f in _records_fields(example)]
        rows = [[_json_value(record.get(c)) for c in columns] for record in example[:max_rows]]
        return {"columns": columns, "data": rows}
    return _nested(np.asarray(example)[:max_rows])


def _nested(array: np.ndarray) -> Any:
    if array.ndim == 0:
        return _json_value(array.item())
    return [_nested(item) for item in array] if array.ndim > 1 else [_json_value(v) for v in array.tolist()]
