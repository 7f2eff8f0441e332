"""Requests to numpy arrays and predictions back to JSON, checked against the model's signature.

Everything here runs on the event loop for every request, so it avoids pandas and per-value
Python loops on the common path: a list of numbers goes to ``np.asarray`` once, and only when
that does not give numbers do we walk the values to name the first bad one in the error.

The array handed to the model has the rows on axis 0: for a column signature a 2-D table with
the columns in signature order (so concurrent requests can be stacked into one batch); for a
tensor signature the tensor itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

# Open Inference Protocol datatypes and the numpy dtype each decodes to.
OIP_DTYPES: dict[str, Any] = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": object,
}
_FLOATS = {"FP16", "FP32", "FP64"}
_INTEGERS = {"UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"}
_DATATYPE_LIST = ", ".join(OIP_DTYPES)


class InputError(Exception):
    """The request does not fit the model: answered 400 with this message."""


@dataclass
class Field:
    name: str
    datatype: str
    shape: list[int]
    required: bool = True


@dataclass
class InputSchema:
    """A signature compiled once per model version, for checking every request quickly."""

    kind: str  # "columns" | "tensor" | "free" (no signature: take the request as it comes)
    fields: list[Field]
    index: dict[str, int]
    table_dtype: Any  # numpy dtype of the stacked table (columns), or of the tensor

    @property
    def column_names(self) -> list[str]:
        return [field.name for field in self.fields]


def compile_signature(signature: dict | None) -> InputSchema:
    if not signature or not signature.get("inputs"):
        return InputSchema("free", [], {}, None)
    fields = [
        Field(
            name=spec.get("name") or ("input" if len(signature["inputs"]) == 1 else f"input-{position}"),
            datatype=spec.get("datatype", "FP64"),
            shape=list(spec.get("shape") or [-1]),
            required=spec.get("required", True),
        )
        for position, spec in enumerate(signature["inputs"])
    ]
    tensors = [spec for spec in signature["inputs"] if spec.get("kind") == "tensor"]
    if len(fields) == 1 and tensors:
        return InputSchema("tensor", fields, {fields[0].name: 0}, OIP_DTYPES[fields[0].datatype])
    return InputSchema("columns", fields, {f.name: i for i, f in enumerate(fields)}, _table_dtype(fields))


def _table_dtype(fields: list[Field]) -> Any:
    """One dtype for the stacked table: numbers stay numbers (promoted), anything with text is object."""
    if any(field.datatype == "BYTES" for field in fields):
        return object
    return np.result_type(*(OIP_DTYPES[field.datatype] for field in fields))


def metadata_fields(signature_fields: list[dict] | None, unnamed: str = "input") -> list[dict]:
    """A signature's inputs or outputs as OIP model metadata lists them (unnamed ones as infer names them)."""
    fields = signature_fields or []
    return [
        {
            "name": spec.get("name") or (unnamed if len(fields) == 1 else f"{unnamed}-{i}"),
            "datatype": spec.get("datatype", "FP64"),
            "shape": spec.get("shape"),
        }
        for i, spec in enumerate(fields)
    ]


# -- decoding ------------------------------------------------------------------------------------


@dataclass
class Decoded:
    """One request, ready to batch: ``array`` has the rows on axis 0."""

    array: np.ndarray
    columns: list[str] | None  # column names in array order (None for a tensor)

    @property
    def rows(self) -> int:
        return int(self.array.shape[0]) if self.array.ndim else 1

    @property
    def batch_key(self) -> tuple:
        """Requests with the same key can be stacked into one predict call."""
        return (self.array.dtype.str, self.array.shape[1:], None if self.columns is None else tuple(self.columns))


def decode_oip_inputs(schema: InputSchema, inputs: Any) -> Decoded:
    """The ``inputs`` of an OIP infer request, checked against ``schema``."""
    if not isinstance(inputs, list) or not inputs:
        raise InputError("'inputs' must be a non-empty list of {name, shape, datatype, data}")
    tensors = [_oip_tensor(position, item) for position, item in enumerate(inputs)]
    if schema.kind == "tensor":
        return _decode_tensor(schema, tensors)
    if schema.kind == "free":
        return _decode_free(tensors)
    return _decode_columns(schema, tensors)


@dataclass
class _Tensor:
    name: str
    shape: list[int]
    datatype: str
    data: Any


def _oip_tensor(position: int, item: Any) -> _Tensor:
    if not isinstance(item, dict):
        raise InputError(f"inputs[{position}] must be an object {{name, shape, datatype, data}}")
    name = item.get("name")
    label = f"input '{name}'" if isinstance(name, str) else f"inputs[{position}]"
    if not isinstance(name, str) or not name:
        raise InputError(f"{label}: 'name' is required (a string)")
    shape = item.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise InputError(f"{label}: 'shape' must be a list of non-negative integers, got {shape!r}")
    datatype = item.get("datatype")
    if datatype not in OIP_DTYPES:
        raise InputError(f"{label}: unknown datatype {datatype!r}; expected one of {_DATATYPE_LIST}")
    if "data" not in item:
        raise InputError(f"{label}: 'data' is required")
    return _Tensor(name, shape, datatype, item["data"])


def _check_datatype(label: str, expected: str, got: str) -> None:
    if expected == got:
        return
    # Widening is safe and what clients do (integers sent for a float column).
    if expected in _FLOATS and (got in _FLOATS or got in _INTEGERS):
        return
    if expected in _INTEGERS and got in _INTEGERS:
        return
    raise InputError(f"{label}: expected datatype {expected}, got {got}")


def _decode_columns(schema: InputSchema, tensors: list[_Tensor]) -> Decoded:
    count = len(schema.fields)
    # One 2-D input whose second dimension is the column count: the table itself, in signature order.
    if len(tensors) == 1 and len(tensors[0].shape) == 2 and tensors[0].name not in schema.index:
        tensor = tensors[0]
        label = f"input '{tensor.name}'"
        if tensor.shape[1] != count:
            raise InputError(
                f"{label}: expected shape [-1, {count}] (one column per model input: {_names(schema)}), "
                f"got {tensor.shape}"
            )
        if schema.table_dtype is object:
            # Text and numbers in one table: one datatype cannot describe it, so each column's values are checked.
            return Decoded(_mixed_table(schema, label, tensor), schema.column_names)
        # The table has one dtype (the columns' promoted): FP64 for float and integer columns mixed.
        _check_datatype(label, oip_datatype(np.empty(0, dtype=schema.table_dtype)), tensor.datatype)
        return Decoded(
            _to_array(label, tensor.data, tensor.datatype, tensor.shape, schema.table_dtype), schema.column_names
        )

    columns: dict[str, np.ndarray] = {}
    rows: int | None = None
    for tensor in tensors:
        label = f"input '{tensor.name}'"
        position = schema.index.get(tensor.name)
        if position is None:
            raise InputError(f"unexpected {label}: the model's inputs are {_names(schema)}")
        if tensor.name in columns:
            raise InputError(f"{label} is given twice")
        field = schema.fields[position]
        if (len(tensor.shape) == 2 and tensor.shape[1] == 1) or len(tensor.shape) == 1:
            length = tensor.shape[0]
        else:
            raise InputError(f"{label}: expected shape [-1] (one value per row), got {tensor.shape}")
        _check_datatype(label, field.datatype, tensor.datatype)
        if rows is None:
            rows = length
        elif length != rows:
            raise InputError(f"{label}: has {length} rows, the other inputs have {rows}")
        columns[tensor.name] = _to_array(label, tensor.data, tensor.datatype, [length], _column_dtype(schema, field))
    return Decoded(_stack_columns(schema, columns, rows or 0), schema.column_names)


def _mixed_table(schema: InputSchema, label: str, tensor: _Tensor) -> np.ndarray:
    try:
        table = np.asarray(tensor.data, dtype=object)
    except ValueError:
        raise InputError(f"{label}: 'data' must be a flat list of values (or nested lists of equal length)") from None
    if table.size != math.prod(tensor.shape):
        raise InputError(
            f"{label}: shape {tensor.shape} needs {math.prod(tensor.shape)} values, 'data' has {table.size}"
        )
    table = table.reshape(tensor.shape)
    for j, field in enumerate(schema.fields):
        column_label = f"{label} (column '{field.name}')"
        table[:, j] = _to_array(column_label, table[:, j].tolist(), field.datatype, None, _column_dtype(schema, field))
    return table


def _column_dtype(schema: InputSchema, field: Field) -> Any:
    return object if schema.table_dtype is object and field.datatype == "BYTES" else OIP_DTYPES[field.datatype]


def _stack_columns(schema: InputSchema, columns: dict[str, Any], rows: int) -> np.ndarray:
    """Columns by name to one table in signature order; optional missing columns become missing values."""
    table = np.empty((rows, len(schema.fields)), dtype=schema.table_dtype)
    for j, field in enumerate(schema.fields):
        column = columns.get(field.name)
        if column is None:
            if field.required:
                raise InputError(
                    f"missing input '{field.name}' (datatype {field.datatype}, shape [-1]); "
                    f"the model's inputs are {_names(schema)}"
                )
            table[:, j] = None if schema.table_dtype is object else np.nan
        else:
            table[:, j] = column
    return table


def _decode_tensor(schema: InputSchema, tensors: list[_Tensor]) -> Decoded:
    field = schema.fields[0]
    if len(tensors) != 1:
        raise InputError(f"the model takes one input tensor ('{field.name}'), got {len(tensors)}")
    tensor = tensors[0]
    label = f"input '{tensor.name}'"
    _check_shape(label, field.shape, tensor.shape)
    _check_datatype(label, field.datatype, tensor.datatype)
    return Decoded(_to_array(label, tensor.data, tensor.datatype, tensor.shape, OIP_DTYPES[field.datatype]), None)


def _decode_free(tensors: list[_Tensor]) -> Decoded:
    """No signature: one tensor as it is, or several 1-D inputs as the columns of a table."""
    if len(tensors) == 1:
        tensor = tensors[0]
        array = _to_array(f"input '{tensor.name}'", tensor.data, tensor.datatype, tensor.shape)
        return Decoded(array if array.ndim else array.reshape(1), None)
    names = [tensor.name for tensor in tensors]
    arrays = []
    for tensor in tensors:
        label = f"input '{tensor.name}'"
        if len(tensor.shape) != 1 or tensor.shape[0] != tensors[0].shape[0]:
            raise InputError(f"{label}: several inputs must each be one column of the same length (shape [n])")
        arrays.append(_to_array(label, tensor.data, tensor.datatype, tensor.shape))
    dtype = object if any(a.dtype == object for a in arrays) else np.result_type(*arrays)
    table = np.empty((len(arrays[0]), len(arrays)), dtype=dtype)
    for j, array in enumerate(arrays):
        table[:, j] = array
    return Decoded(table, names)


def _check_shape(label: str, expected: list[int], got: list[int]) -> None:
    if len(expected) != len(got) or any(e not in (-1, g) for e, g in zip(expected, got, strict=True)):
        raise InputError(f"{label}: expected shape {expected} (-1: any length), got {got}")


def _to_array(label: str, data: Any, datatype: str, shape: list[int] | None, dtype: Any = None) -> np.ndarray:
    """``data`` (flat or nested, row-major) as an array of ``datatype``'s values in ``shape``."""
    target = OIP_DTYPES[datatype] if dtype is None else dtype
    if datatype == "BYTES":
        array = np.asarray(data, dtype=object)
        bad = next((v for v in array.reshape(-1) if not isinstance(v, str)), _NONE)
        if bad is not _NONE and bad is not None:
            raise InputError(f"{label}: expected strings (BYTES), got {bad!r}")
    else:
        try:
            array = np.asarray(data)
        except ValueError:
            raise InputError(
                f"{label}: 'data' must be a flat list of values (or nested lists of equal length)"
            ) from None
        kind = array.dtype.kind
        if kind not in "iuf" and not (kind == "b" and datatype == "BOOL"):
            if kind in "US":  # numpy turned numbers mixed with text into text: look at the values as sent
                array = np.asarray(data, dtype=object)
            array = _numbers_with_missing(label, array, datatype)
        elif datatype in _INTEGERS and kind == "f":
            if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
                raise InputError(f"{label}: expected integers ({datatype}), got fractional or missing values")
        elif datatype == "BOOL" and kind != "b" and not np.isin(array, (0, 1)).all():
            raise InputError(f"{label}: expected booleans (BOOL), got numbers other than 0 and 1")
    if shape is not None:
        needed = math.prod(shape)
        if array.size != needed:
            raise InputError(f"{label}: shape {shape} needs {needed} values, 'data' has {array.size}")
        array = array.reshape(shape)
    try:
        return array.astype(target, copy=False)
    except (ValueError, TypeError, OverflowError) as error:
        raise InputError(f"{label}: values do not fit {datatype} ({error})") from None


_NONE = object()


def _numbers_with_missing(label: str, array: np.ndarray, datatype: str) -> np.ndarray:
    """Numbers mixed with nulls (missing values, NaN in float fields); anything else names the first bad value."""
    for value in array.reshape(-1):
        ok = (
            (value is None and datatype in _FLOATS)
            or (isinstance(value, (int, float, np.number)) and not isinstance(value, bool))
            or (isinstance(value, (bool, np.bool_)) and datatype == "BOOL")
        )
        if not ok:
            kind = "booleans" if datatype == "BOOL" else "numbers"
            missing = "" if datatype not in _FLOATS else " or null"
            raise InputError(f"{label}: expected {kind}{missing} ({datatype}), got {value!r}")
    return array.astype(np.float64 if datatype in _FLOATS else OIP_DTYPES[datatype])


def _names(schema: InputSchema) -> str:
    names = schema.column_names
    shown = ", ".join(names[:20]) + (f", … ({len(names)} in all)" if len(names) > 20 else "")
    return shown


# -- MLflow /invocations ---------------------------------------------------------------------------

MLFLOW_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def decode_mlflow(schema: InputSchema, body: Any) -> Decoded:
    """An MLflow scoring request: ``dataframe_split``, ``dataframe_records``, ``instances`` or ``inputs``."""
    if not isinstance(body, dict):
        raise InputError(f"the body must be a JSON object with one of the keys {', '.join(MLFLOW_FORMATS)}")
    present = [key for key in MLFLOW_FORMATS if key in body]
    if len(present) != 1:
        raise InputError(
            f"the body must have exactly one of the keys {', '.join(MLFLOW_FORMATS)}, got {sorted(body) or 'none'}"
        )
    key = present[0]
    value = body[key]
    if key == "dataframe_split":
        if not isinstance(value, dict) or not isinstance(value.get("data"), list):
            raise InputError('\'dataframe_split\' must be {"columns": [...], "data": [[...], ...]}')
        columns = value.get("columns")
        if columns is None:
            return _decode_rows(schema, value["data"], key)
        return _decode_split(schema, columns, value["data"])
    if key == "dataframe_records":
        return _decode_records(schema, value)
    # instances / inputs: records, a dict of columns, or a plain tensor (rows of values).
    if isinstance(value, dict):
        return _decode_column_dict(schema, value, key)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _decode_records(schema, value)
    return _decode_rows(schema, value, key)


def _decode_split(schema: InputSchema, columns: Any, data: list) -> Decoded:
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise InputError("'dataframe_split.columns' must be a list of column names")
    if schema.kind != "columns":
        return _decode_rows(schema, data, "dataframe_split")
    _check_column_names(schema, columns)
    try:
        array = np.asarray(data) if schema.table_dtype is not object else np.asarray(data, dtype=object)
        if array.dtype.kind in "US":  # text among numbers: keep each value as sent
            array = np.asarray(data, dtype=object)
    except ValueError:
        raise InputError("'dataframe_split.data' rows must all have one value per column") from None
    if array.size == 0:
        array = array.reshape(0, len(columns))
    if array.ndim != 2 or array.shape[1] != len(columns):
        raise InputError(f"'dataframe_split.data' must be rows of {len(columns)} values (one per column)")
    if columns == schema.column_names and array.dtype.kind in "iuf" and schema.table_dtype is not object:
        return Decoded(array.astype(schema.table_dtype, copy=False), schema.column_names)
    by_name = {name: array[:, j] for j, name in enumerate(columns)}
    return _typed_table(schema, by_name, array.shape[0])


def _decode_records(schema: InputSchema, records: Any) -> Decoded:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError("'dataframe_records' must be a list of objects, one per row ({column: value})")
    if schema.kind != "columns":
        raise InputError("this model takes a tensor: send 'instances' or 'inputs' as a (nested) list")
    names = list(dict.fromkeys(name for record in records for name in record))
    _check_column_names(schema, names)
    by_name = {name: [record.get(name) for record in records] for name in names}
    return _typed_table(schema, by_name, len(records))


def _decode_column_dict(schema: InputSchema, value: dict, key: str) -> Decoded:
    if schema.kind != "columns":
        raise InputError(f"this model takes a tensor: send '{key}' as a (nested) list")
    _check_column_names(schema, list(value))
    lengths = {name: len(column) if isinstance(column, list) else 1 for name, column in value.items()}
    rows = max(lengths.values(), default=0)
    by_name = {}
    for name, column in value.items():
        if lengths[name] != rows:
            raise InputError(f"column '{name}': has {lengths[name]} values, the other columns have {rows}")
        by_name[name] = column if isinstance(column, list) else [column]
    return _typed_table(schema, by_name, rows)


def _decode_rows(schema: InputSchema, rows: Any, key: str) -> Decoded:
    if not isinstance(rows, list):
        raise InputError(f"'{key}' must be a list of rows")
    if schema.kind == "columns":
        count = len(schema.fields)
        try:
            array = np.asarray(rows, dtype=object) if schema.table_dtype is object else np.asarray(rows)
            if array.dtype.kind in "US":
                array = np.asarray(rows, dtype=object)
        except ValueError:
            raise InputError(f"'{key}' rows must all have {count} values") from None
        if array.ndim == 1 and count == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2 or array.shape[1] != count:
            raise InputError(
                f"'{key}': expected rows of {count} values ({_names(schema)}), got shape {list(array.shape)}"
            )
        if array.dtype.kind in "iuf" and schema.table_dtype is not object:
            return Decoded(array.astype(schema.table_dtype, copy=False), schema.column_names)
        return _typed_table(schema, {f.name: array[:, j] for j, f in enumerate(schema.fields)}, array.shape[0])
    if schema.kind == "tensor":
        field = schema.fields[0]
        array = _to_array(f"'{key}'", rows, field.datatype, None)
        _check_shape(f"'{key}'", field.shape, list(array.shape))
        return Decoded(array, None)
    array = np.asarray(rows, dtype=None if _all_numbers(rows) else object)
    return Decoded(array if array.ndim else array.reshape(1), None)


def _all_numbers(rows: list) -> bool:
    try:
        return np.asarray(rows).dtype.kind in "iufb"
    except ValueError:
        return False


def _check_column_names(schema: InputSchema, names: list[str]) -> None:
    extra = [name for name in names if name not in schema.index]
    if extra:
        raise InputError(f"unexpected column '{extra[0]}': the model's inputs are {_names(schema)}")


def _typed_table(schema: InputSchema, by_name: dict[str, Any], rows: int) -> Decoded:
    columns = {}
    for name, values in by_name.items():
        field = schema.fields[schema.index[name]]
        data = values.tolist() if isinstance(values, np.ndarray) else values
        columns[name] = _to_array(f"column '{name}'", data, field.datatype, [rows], _column_dtype(schema, field))
    return Decoded(_stack_columns(schema, columns, rows), schema.column_names)


# -- encoding ----------------------------------------------------------------------------------------

_KIND_TO_OIP = {"b": "BOOL", "O": "BYTES", "U": "BYTES", "S": "BYTES"}


def oip_datatype(array: np.ndarray) -> str:
    dtype = array.dtype
    if dtype.kind in _KIND_TO_OIP:
        return _KIND_TO_OIP[dtype.kind]
    return {"f": "FP", "i": "INT", "u": "UINT"}.get(dtype.kind, "FP") + str(dtype.itemsize * 8)


def json_values(array: np.ndarray) -> Any:
    """A flat (row-major) array in a form orjson writes directly: numeric arrays as they are."""
    flat = array.reshape(-1)
    if flat.dtype.kind in "biuf" and flat.dtype != np.float16:
        return np.ascontiguousarray(flat)
    if flat.dtype == np.float16:
        return flat.astype(np.float32)
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in flat.tolist()]


def as_outputs(prediction: Any, default_name: str) -> dict[str, np.ndarray]:
    """A model's answer as named arrays with the rows on axis 0."""
    if isinstance(prediction, dict):
        return {str(name): _as_array(value) for name, value in prediction.items()}
    if hasattr(prediction, "to_numpy") and hasattr(prediction, "columns"):  # a pandas DataFrame
        return {str(name): prediction[name].to_numpy() for name in prediction.columns}
    return {default_name: _as_array(prediction)}


def _as_array(value: Any) -> np.ndarray:
    array = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
    return array if array.ndim else array.reshape(1)


def encode_oip_outputs(outputs: dict[str, np.ndarray], wanted: list[str] | None) -> list[dict]:
    names = list(outputs) if wanted is None else wanted
    return [
        {
            "name": name,
            "shape": list(outputs[name].shape),
            "datatype": oip_datatype(outputs[name]),
            "data": json_values(outputs[name]),
        }
        for name in names
    ]


def mlflow_predictions(outputs: dict[str, np.ndarray]) -> Any:
    if len(outputs) == 1:
        return _listed(next(iter(outputs.values())))
    return {name: _listed(array) for name, array in outputs.items()}


def _listed(array: np.ndarray) -> Any:
    if array.dtype.kind in "biuf" and array.dtype != np.float16:
        return array
    return array.tolist()
