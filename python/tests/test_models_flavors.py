"""Model directories: every flavor saved by Runlab loads in Runlab and in MLflow (the real
``mlflow.pyfunc.load_model``), and MLflow-logged sklearn directories load in Runlab without mlflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import PYTHON_DIR
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from runlab.client import RunlabError
from runlab.models.flavors import detect_flavor, load_model_dir, save_model, selects_columns_by_name
from runlab.models.requirements import model_requirements


@pytest.fixture(autouse=True)
def _mlflow_may_unpickle(monkeypatch: pytest.MonkeyPatch) -> None:
    # MLflow 3 refuses to unpickle any model unless told to (the sklearn flavor is pickles).
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 12, 300),
            "plan": rng.choice(["basic", "plus", "pro"], 300),
            "visits": rng.integers(0, 30, 300),
        }
    )
    labels = ((frame["age"] > 40) ^ (frame["plan"] == "pro")).astype(int).to_numpy()
    return frame, labels


@pytest.fixture(scope="module")
def arrays() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(200, 4)).astype(np.float32)
    return features, (features[:, 0] + features[:, 1] > 0).astype(int)


def _pipeline(frame: pd.DataFrame, labels: np.ndarray) -> Pipeline:
    columns = ColumnTransformer([("num", StandardScaler(), ["age", "visits"]), ("cat", OneHotEncoder(), ["plan"])])
    return Pipeline([("prepare", columns), ("classify", LogisticRegression())]).fit(frame, labels)


class Doubler:
    """A plain object with predict: the python flavor."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def predict(self, inputs):
        return np.asarray(inputs, dtype=np.float64).sum(axis=1) * self.factor


def _mlmodel(directory: Path) -> dict:
    return yaml.safe_load((directory / "MLmodel").read_text())


def test_sklearn_estimator_round_trips_through_runlab_and_mlflow(tmp_path: Path, arrays) -> None:
    import mlflow.pyfunc

    features, labels = arrays
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(features, labels)
    saved = save_model(forest, tmp_path / "forest", input_example=features[:5])

    assert saved.flavor == "sklearn"
    assert sorted(saved.files) == ["MLmodel", "input_example.json", "model.pkl", "python_env.yaml", "requirements.txt"]
    assert saved.signature == {
        "inputs": [{"name": None, "kind": "tensor", "datatype": "FP32", "shape": [-1, 4], "required": True}],
        "outputs": [{"name": None, "kind": "tensor", "datatype": "INT64", "shape": [-1], "required": True}],
    }
    names = {line.split("==")[0] for line in saved.requirements}
    assert {"scikit-learn", "numpy", "scipy", "joblib", "cloudpickle"} <= names
    assert all("==" in line for line in saved.requirements)
    mlmodel = _mlmodel(saved.directory)
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert "mlflow_version" not in mlmodel and mlmodel["runlab_version"]
    assert json.loads((saved.directory / "input_example.json").read_text()) == features[:5].tolist()

    loaded = load_model_dir(saved.directory)
    assert (loaded.flavor, loaded.needs_dataframe) == ("sklearn", False)
    assert loaded.signature == saved.signature
    np.testing.assert_array_equal(loaded.predict(features[:20]), forest.predict(features[:20]))
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(str(saved.directory)).predict(features[:20]), forest.predict(features[:20])
    )


def test_pipeline_selecting_columns_by_name_needs_a_dataframe(tmp_path: Path, table) -> None:
    import mlflow.pyfunc

    frame, labels = table
    pipeline = _pipeline(frame, labels)
    saved = save_model(pipeline, tmp_path / "pipeline", input_example=frame.head(8))

    assert [(f["name"], f["kind"], f["datatype"]) for f in saved.signature["inputs"]] == [
        ("age", "column", "FP64"),
        ("plan", "column", "BYTES"),
        ("visits", "column", "INT64"),
    ]
    # Five rows kept, in MLflow's split format.
    example = json.loads((saved.directory / "input_example.json").read_text())
    assert example["columns"] == ["age", "plan", "visits"] and len(example["data"]) == 5
    assert any(line.startswith("pandas==") for line in saved.requirements)

    loaded = load_model_dir(saved.directory)
    assert loaded.needs_dataframe is True
    np.testing.assert_array_equal(loaded.predict(frame), pipeline.predict(frame))
    np.testing.assert_array_equal(
        mlflow.pyfunc.load_model(str(saved.directory)).predict(frame), pipeline.predict(frame)
    )


def test_column_selection_by_position_does_not_need_a_dataframe(arrays) -> None:
    features, labels = arrays
    by_position = Pipeline(
        [
            ("prepare", ColumnTransformer([("scale", StandardScaler(), [0, 1])], remainder="passthrough")),
            ("fit", LogisticRegression()),
        ]
    ).fit(features, labels)
    assert selects_columns_by_name(by_position) is False
    assert selects_columns_by_name(LogisticRegression()) is False


def test_onnx_model_and_file(tmp_path: Path, arrays) -> None:
    pytest.importorskip("onnxruntime")
    import mlflow.pyfunc
    from skl2onnx import to_onnx

    features, labels = arrays
    regression = LogisticRegression().fit(features, labels)
    proto = to_onnx(regression, features[:1], options={"zipmap": False})
    expected = regression.predict(features[:10])

    saved = save_model(proto, tmp_path / "onnx", input_example=features[:5])
    assert saved.flavor == "onnx" and (saved.directory / "model.onnx").is_file()
    assert {line.split("==")[0] for line in saved.requirements} >= {"onnxruntime", "numpy"}
    assert [f["name"] for f in saved.signature["outputs"]] == ["label", "probabilities"]
    loaded = load_model_dir(saved.directory)
    result = loaded.predict(features[:10])
    np.testing.assert_array_equal(result["label"], expected)
    assert result["probabilities"].shape == (10, 2)
    via_mlflow = mlflow.pyfunc.load_model(str(saved.directory)).predict(features[:10])
    np.testing.assert_array_equal(via_mlflow["label"], expected)

    # A file on disk, no example: the signature comes from the graph.
    path = tmp_path / "regression.onnx"
    path.write_bytes(proto.SerializeToString())
    assert detect_flavor(str(path)) == "onnx"
    from_file = save_model(path, tmp_path / "from-file")
    assert from_file.signature["inputs"][0]["datatype"] == "FP32"
    assert from_file.signature["inputs"][0]["shape"] == [-1, 4]
    np.testing.assert_array_equal(load_model_dir(from_file.directory).predict(features[:10])["label"], expected)


def test_function_and_object_with_predict(tmp_path: Path, arrays) -> None:
    import mlflow.pyfunc

    features, _ = arrays

    def total(inputs):
        return np.asarray(inputs).sum(axis=1)

    for label, obj, factor in (("function", total, 1.0), ("object", Doubler(2.0), 2.0)):
        saved = save_model(obj, tmp_path / label, input_example=features[:4])
        assert saved.flavor == "python"
        mlmodel = _mlmodel(saved.directory)
        assert mlmodel["flavors"]["python_function"]["loader_module"] == "runlab.models.pyfunc"
        assert mlmodel["flavors"]["runlab_python"]["callable"] == label
        expected = features[:6].astype(np.float64).sum(axis=1) * factor
        loaded = load_model_dir(saved.directory)
        assert loaded.flavor == "python" and loaded.needs_dataframe is False
        np.testing.assert_allclose(loaded.predict(features[:6]), expected, rtol=1e-6)
        np.testing.assert_allclose(
            mlflow.pyfunc.load_model(str(saved.directory)).predict(features[:6]), expected, rtol=1e-6
        )


def test_python_model_on_a_table_gets_a_dataframe(tmp_path: Path, table) -> None:
    frame, _ = table

    def older_than_forty(rows):
        return (rows["age"] > 40).to_numpy()

    saved = save_model(older_than_forty, tmp_path / "rule", input_example=frame.head(5))
    loaded = load_model_dir(saved.directory)
    assert loaded.needs_dataframe is True
    assert saved.signature["outputs"][0]["datatype"] == "BOOL"
    np.testing.assert_array_equal(loaded.predict(frame), (frame["age"] > 40).to_numpy())


@pytest.mark.parametrize("serialization", ["pickle", "cloudpickle", "skops"])
def test_mlflow_logged_sklearn_directory_loads_without_mlflow(tmp_path: Path, table, serialization: str) -> None:
    import mlflow.sklearn

    frame, labels = table
    pipeline = _pipeline(frame, labels)
    directory = tmp_path / f"mlflow-{serialization}"
    mlflow.sklearn.save_model(pipeline, str(directory), serialization_format=serialization, input_example=frame.head(3))

    # A fresh interpreter with mlflow made unimportable: load_model_dir must not need it.
    script = f"""
import sys, json
sys.modules["mlflow"] = None
sys.path.insert(0, {str(PYTHON_DIR)!r})
import pandas as pd
from runlab.models.flavors import load_model_dir
model = load_model_dir({str(directory)!r})
frame = pd.DataFrame({frame.head(20).to_dict(orient="list")!r})
print(json.dumps({{"flavor": model.flavor, "needs_dataframe": model.needs_dataframe,
    "inputs": [f["name"] for f in model.signature["inputs"]], "example": model.input_example,
    "predictions": model.predict(frame).tolist()}}))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=os.environ)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["flavor"] == "sklearn" and answer["needs_dataframe"] is True
    assert answer["inputs"] == ["age", "plan", "visits"]
    assert answer["example"]["columns"] == ["age", "plan", "visits"]
    assert answer["predictions"] == pipeline.predict(frame.head(20)).tolist()


def test_an_mlflow_model_directory_can_be_saved_as_it_is(tmp_path: Path, arrays) -> None:
    import mlflow.sklearn

    features, labels = arrays
    source = tmp_path / "mlflow-model"
    mlflow.sklearn.save_model(LogisticRegression().fit(features, labels), str(source), input_example=features[:2])
    saved = save_model(source, tmp_path / "copy")
    assert saved.flavor == "sklearn"
    assert "model.skops" in saved.files and "MLmodel" in saved.files  # MLflow 3 saves sklearn with skops
    assert saved.signature["inputs"][0]["shape"] == [-1, 4]


def test_bad_flavors_and_objects_say_what_to_do(tmp_path: Path, arrays) -> None:
    features, labels = arrays
    regression = LogisticRegression().fit(features, labels)
    with pytest.raises(RunlabError, match="flavor 'xgboost' is not one Runlab logs: use sklearn, onnx, python"):
        save_model(regression, tmp_path / "a", flavor="xgboost")
    with pytest.raises(RunlabError, match="flavor 'sklearn' needs a scikit-learn estimator"):
        save_model(lambda x: x, tmp_path / "b", flavor="sklearn")
    with pytest.raises(RunlabError, match="cannot tell the flavor of a int"):
        save_model(3, tmp_path / "c")
    with pytest.raises(RunlabError, match="not a model Runlab can log"):
        save_model(str(tmp_path / "weights.bin"), tmp_path / "d")
    with pytest.raises(RunlabError, match="predict failed on input_example"):
        save_model(regression, tmp_path / "e", input_example=np.zeros((2, 9)))
    with pytest.raises(RunlabError, match="no MLmodel file"):
        load_model_dir(tmp_path)
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "MLmodel").write_text("flavors:\n  pytorch: {}\n")
    with pytest.raises(RunlabError, match="flavor\\(s\\) pytorch, which Runlab cannot load"):
        load_model_dir(tmp_path / "f")


def test_requirements_include_what_the_model_holds(table) -> None:
    frame, labels = table
    pipeline = _pipeline(frame, labels)
    pins = model_requirements(pipeline, "sklearn")
    assert [p.split("==")[0] for p in pins] == sorted({p.split("==")[0] for p in pins}, key=str.lower)

    import scipy.special

    def uses_scipy(rows):
        return scipy.special.expit(np.asarray(rows))

    names = {p.split("==")[0].lower() for p in model_requirements(uses_scipy, "python")}
    assert {"scipy", "numpy", "cloudpickle"} <= names
    assert not any(name in names for name in ("os", "sys", "json"))


def test_the_users_own_modules_travel_inside_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A helper module next to the notebook, which the serving machine does not have.
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "churn_rules.py").write_text(
        "import numpy as np\n\nclass Threshold:\n    def __init__(self, at):\n        self.at = at\n\n"
        "    def predict(self, rows):\n        return (np.asarray(rows)[:, 0] > self.at).astype(int)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    import churn_rules

    saved = save_model(churn_rules.Threshold(0.5), tmp_path / "rule", input_example=np.array([[0.2], [0.9]]))
    script = f"""
import sys, json
sys.path.insert(0, {str(PYTHON_DIR)!r})
import numpy as np
from runlab.models.flavors import load_model_dir
print(json.dumps(load_model_dir({str(saved.directory)!r}).predict(np.array([[0.1], [0.7]])).tolist()))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [0, 1]
