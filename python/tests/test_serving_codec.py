"""The serving runtime's request decoding: each validation error names the field and what was expected."""

from __future__ import annotations

import numpy as np
import pytest

from runlab.serving.codec import (
    InputError,
    compile_signature,
    decode_mlflow,
    decode_oip_inputs,
    encode_oip_outputs,
)

COLUMNS = compile_signature(
    {
        "inputs": [
            {"name": "sepal_length", "kind": "column", "datatype": "FP64", "shape": [-1], "required": True},
            {"name": "sepal_width", "kind": "column", "datatype": "FP64", "shape": [-1], "required": True},
            {"name": "petals", "kind": "column", "datatype": "INT64", "shape": [-1], "required": True},
            {"name": "note", "kind": "column", "datatype": "FP64", "shape": [-1], "required": False},
        ],
        "outputs": None,
    }
)
TENSOR = compile_signature(
    {
        "inputs": [{"name": None, "kind": "tensor", "datatype": "FP32", "shape": [-1, 3], "required": True}],
        "outputs": None,
    }
)


def column(name: str, data: list, datatype: str = "FP64", shape: list | None = None) -> dict:
    return {"name": name, "shape": shape or [len(data)], "datatype": datatype, "data": data}


def good_columns(**override: dict) -> list[dict]:
    inputs = {
        "sepal_length": column("sepal_length", [5.1, 6.2]),
        "sepal_width": column("sepal_width", [3.5, 2.9]),
        "petals": column("petals", [4, 5], "INT64"),
    }
    inputs.update(override)
    return [value for value in inputs.values() if value is not None]


def error_of(schema, inputs) -> str:
    with pytest.raises(InputError) as caught:
        decode_oip_inputs(schema, inputs)
    return str(caught.value)


def test_named_columns_become_one_table_in_signature_order_with_optional_ones_missing():
    decoded = decode_oip_inputs(COLUMNS, list(reversed(good_columns())))
    assert decoded.array.dtype == np.float64
    assert decoded.columns == ["sepal_length", "sepal_width", "petals", "note"]
    np.testing.assert_array_equal(decoded.array[:, :3], [[5.1, 3.5, 4], [6.2, 2.9, 5]])
    assert np.isnan(decoded.array[:, 3]).all()


def test_one_two_dimensional_input_is_the_table_in_signature_order():
    decoded = decode_oip_inputs(COLUMNS, [column("x", [1, 2, 3, 4, 5, 6, 7, 8], "FP64", [2, 4])])
    np.testing.assert_array_equal(decoded.array, [[1, 2, 3, 4], [5, 6, 7, 8]])
    # nested data (row-major) is accepted as KServe and MLServer accept it
    nested = decode_oip_inputs(COLUMNS, [column("x", [[1, 2, 3, 4]], "FP64", [1, 4])])
    np.testing.assert_array_equal(nested.array, [[1, 2, 3, 4]])


def test_wrong_datatype_names_the_input_and_both_datatypes():
    message = error_of(COLUMNS, good_columns(sepal_length=column("sepal_length", ["a", "b"], "BYTES")))
    assert message == "input 'sepal_length': expected datatype FP64, got BYTES"
    # widening integers to a float column is fine, floats to an integer column are not
    decode_oip_inputs(COLUMNS, good_columns(sepal_length=column("sepal_length", [5, 6], "INT32")))
    message = error_of(COLUMNS, good_columns(petals=column("petals", [4.0, 5.0], "FP64")))
    assert message == "input 'petals': expected datatype INT64, got FP64"


def test_missing_and_extra_columns():
    message = error_of(COLUMNS, good_columns(petals=None))
    assert message.startswith("missing input 'petals' (datatype INT64, shape [-1])")
    assert "sepal_length, sepal_width, petals, note" in message
    message = error_of(COLUMNS, [*good_columns(), column("colour", [1.0, 2.0])])
    assert message.startswith("unexpected input 'colour': the model's inputs are sepal_length")


def test_wrong_shapes():
    message = error_of(COLUMNS, [column("x", [1.0] * 6, "FP64", [2, 3])])
    assert message.startswith("input 'x': expected shape [-1, 4]")
    message = error_of(COLUMNS, good_columns(sepal_width=column("sepal_width", [1.0] * 4, "FP64", [2, 2])))
    assert message == "input 'sepal_width': expected shape [-1] (one value per row), got [2, 2]"
    message = error_of(COLUMNS, good_columns(sepal_width=column("sepal_width", [1.0, 2.0, 3.0])))
    assert message == "input 'sepal_width': has 3 rows, the other inputs have 2"
    message = error_of(TENSOR, [column("t", [1.0] * 8, "FP32", [2, 4])])
    assert message == "input 't': expected shape [-1, 3] (-1: any length), got [2, 4]"


def test_data_length_must_be_the_product_of_the_shape():
    message = error_of(TENSOR, [column("t", [1.0] * 5, "FP32", [2, 3])])
    assert message == "input 't': shape [2, 3] needs 6 values, 'data' has 5"


def test_non_numeric_value_in_a_numeric_field_is_named():
    message = error_of(COLUMNS, good_columns(sepal_width=column("sepal_width", [3.5, "wide"])))
    assert message == "input 'sepal_width': expected numbers or null (FP64), got 'wide'"
    message = error_of(COLUMNS, good_columns(petals=column("petals", [4, None], "INT64")))
    assert message == "input 'petals': expected numbers (INT64), got None"
    # null in a float field is a missing value
    decoded = decode_oip_inputs(COLUMNS, good_columns(sepal_width=column("sepal_width", [3.5, None])))
    assert np.isnan(decoded.array[1, 1])


def test_malformed_requests():
    assert error_of(COLUMNS, []) == "'inputs' must be a non-empty list of {name, shape, datatype, data}"
    message = error_of(COLUMNS, [{"name": "x", "shape": [1], "datatype": "FLOAT", "data": [1]}])
    assert message.startswith("input 'x': unknown datatype 'FLOAT'; expected one of BOOL, UINT8")
    assert (
        error_of(COLUMNS, [{"shape": [1], "datatype": "FP64", "data": [1]}])
        == "inputs[0]: 'name' is required (a string)"
    )
    message = error_of(COLUMNS, [{"name": "x", "shape": [-2], "datatype": "FP64", "data": [1]}])
    assert message == "input 'x': 'shape' must be a list of non-negative integers, got [-2]"


def test_every_oip_datatype_decodes_to_its_numpy_type():
    free = compile_signature(None)
    for datatype, data, dtype in [
        ("BOOL", [True, False], np.bool_),
        ("UINT8", [1, 255], np.uint8),
        ("UINT16", [1, 2], np.uint16),
        ("UINT32", [1, 2], np.uint32),
        ("UINT64", [1, 2], np.uint64),
        ("INT8", [-1, 2], np.int8),
        ("INT16", [-1, 2], np.int16),
        ("INT32", [-1, 2], np.int32),
        ("INT64", [-1, 2], np.int64),
        ("FP16", [0.5, 1.5], np.float16),
        ("FP32", [0.5, 1.5], np.float32),
        ("FP64", [0.5, 1.5], np.float64),
        ("BYTES", ["a", "b"], object),
    ]:
        decoded = decode_oip_inputs(free, [column("x", data, datatype)])
        assert decoded.array.dtype == np.dtype(dtype), datatype
        assert decoded.array.tolist() == data


def test_mlflow_formats_give_the_same_table():
    expected = [[5.1, 3.5, 4.0, np.nan], [6.2, 2.9, 5.0, np.nan]]
    columns = ["sepal_length", "sepal_width", "petals"]
    rows = [[5.1, 3.5, 4], [6.2, 2.9, 5]]
    bodies = [
        {"dataframe_split": {"columns": columns, "data": rows}},
        {"dataframe_split": {"columns": list(reversed(columns)), "data": [list(reversed(r)) for r in rows]}},
        {"dataframe_records": [dict(zip(columns, row, strict=True)) for row in rows]},
        {"instances": [dict(zip(columns, row, strict=True)) for row in rows]},
        {"inputs": {name: [row[j] for row in rows] for j, name in enumerate(columns)}},
        {"instances": [[*row, None] for row in rows]},
    ]
    for body in bodies:
        decoded = decode_mlflow(COLUMNS, body)
        np.testing.assert_array_equal(decoded.array, expected, err_msg=str(body))
    tensor = decode_mlflow(TENSOR, {"inputs": [[1, 2, 3], [4, 5, 6]]})
    assert tensor.array.dtype == np.float32 and tensor.array.shape == (2, 3)


def test_mlflow_errors():
    with pytest.raises(
        InputError, match="exactly one of the keys dataframe_split, dataframe_records, instances, inputs"
    ):
        decode_mlflow(COLUMNS, {"data": []})
    with pytest.raises(InputError, match="unexpected column 'colour'"):
        decode_mlflow(COLUMNS, {"dataframe_records": [{"sepal_length": 1, "colour": 2}]})
    with pytest.raises(InputError, match="missing input 'petals'"):
        decode_mlflow(COLUMNS, {"dataframe_split": {"columns": ["sepal_length", "sepal_width"], "data": [[1, 2]]}})
    with pytest.raises(InputError, match=r"column 'sepal_width': expected numbers or null \(FP64\), got 'x'"):
        decode_mlflow(
            COLUMNS, {"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petals"], "data": [[1, "x", 2]]}}
        )


def test_outputs_are_encoded_with_their_datatype_and_shape():
    outputs = {"predict": np.array([0, 2]), "proba": np.array([[0.9, 0.1], [0.2, 0.8]], dtype=np.float32)}
    encoded = encode_oip_outputs(outputs, None)
    assert [(o["name"], o["datatype"], o["shape"]) for o in encoded] == [
        ("predict", "INT64", [2]),
        ("proba", "FP32", [2, 2]),
    ]
    assert encoded[1]["data"].tolist() == pytest.approx([0.9, 0.1, 0.2, 0.8])
    labels = encode_oip_outputs({"predict": np.array(["setosa", "virginica"], dtype=object)}, None)
    assert labels[0]["datatype"] == "BYTES" and labels[0]["data"] == ["setosa", "virginica"]
