"""Saving and loading model directories: MLflow's format, so MLflow and Runlab read each other's.

    MLmodel              YAML: flavors, signature, saved_input_example_info, runlab_version, model_uuid
    model.pkl            sklearn (cloudpickle; MLflow's sklearn flavor)
    model.onnx           onnx (MLflow's onnx flavor)
    python_model.pkl     python: a function or an object with predict (cloudpickle)
    requirements.txt     pinned packages
    python_env.yaml      for `mlflow models serve` (Python version, requirements)
    input_example.json   MLflow's format: {"columns", "data"} for tables, a nested list for arrays

Each directory's ``python_function`` flavor names a loader (``mlflow.sklearn``, ``mlflow.onnx``,
``runlab.models.pyfunc``), so ``mlflow.pyfunc.load_model(directory)`` works on every one.
``load_model_dir`` reads these and MLflow-logged sklearn and onnx directories without mlflow.
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import shutil
import sys
import sysconfig
import types
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from runlab.client import RunlabError
from runlab.models import requirements as requirements_module
from runlab.models import signature as signatures

FLAVORS = ("sklearn", "onnx", "python")
MLMODEL = "MLmodel"
INPUT_EXAMPLE = "input_example.json"
REQUIREMENTS = "requirements.txt"
# Rows of the input example kept in the directory (and shown as the try-it request).
EXAMPLE_ROWS = 5

# The sklearn flavor file name and format MLflow writes; Runlab writes the same.
SKLEARN_FILE = "model.pkl"
ONNX_FILE = "model.onnx"
PYTHON_FILE = "python_model.pkl"


@dataclass
class SavedModel:
    """What ``save_model`` wrote: the directory, its flavor, signature, example and requirements."""

    directory: Path
    flavor: str
    signature: dict[str, Any] | None
    input_example: Any  # MLflow's input_example.json content, or None
    requirements: list[str]
    # The model's predictions on the whole input example (for the reference profile), or None.
    predictions: Any = None
    files: list[str] = field(default_factory=list)


class LoadedModel:
    """A model ready to predict, whatever its flavor.

    ``predict(inputs)`` takes a 2-D numpy array (columns in signature order) or, when
    ``needs_dataframe``, a pandas DataFrame; it returns a numpy array (1-D or 2-D) or a dict
    name → numpy array (a model with several outputs).
    """

    flavor: str
    signature: dict[str, Any] | None
    input_example: Any
    needs_dataframe: bool

    def __init__(
        self,
        *,
        flavor: str,
        directory: Path,
        metadata: dict[str, Any],
        signature: dict[str, Any] | None,
        input_example: Any,
        needs_dataframe: bool,
        model: Any,
    ) -> None:
        self.flavor = flavor
        self.directory = directory
        self.metadata = metadata
        self.signature = signature
        self.input_example = input_example
        self.needs_dataframe = needs_dataframe
        # The flavor's own object: the estimator, the onnxruntime session, the function.
        self.model = model
        # The registry's ModelVersion (JSON) when loaded by reference (runlab.load_model).
        self.version: dict[str, Any] | None = None

    def predict(self, inputs: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<runlab LoadedModel flavor={self.flavor} from {str(self.directory)!r}>"


class SklearnModel(LoadedModel):
    def predict(self, inputs: Any) -> Any:
        return _as_output(self.model.predict(inputs))


class PythonModel(LoadedModel):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        predict = getattr(self.model, "predict", None)
        self._call = predict if callable(predict) else self.model

    def predict(self, inputs: Any) -> Any:
        return _as_output(self._call(inputs))


# onnxruntime's element types → numpy.
_ONNX_NUMPY = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


class OnnxModel(LoadedModel):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        session = self.model
        self._inputs = [(i.name, _ONNX_NUMPY.get(i.type, np.float32), i.shape) for i in session.get_inputs()]
        self._outputs = [o.name for o in session.get_outputs()]

    def predict(self, inputs: Any) -> Any:
        if hasattr(inputs, "to_numpy") and not isinstance(inputs, np.ndarray):
            inputs = inputs.to_numpy()
        if isinstance(inputs, Mapping):
            feeds = {name: np.asarray(inputs[name], dtype=dtype) for name, dtype, _ in self._inputs}
        elif len(self._inputs) == 1:
            name, dtype, _ = self._inputs[0]
            feeds = {name: np.asarray(inputs, dtype=dtype)}
        else:
            # Several inputs and one table: each input takes its width of columns, in order.
            array = np.asarray(inputs)
            feeds, start = {}, 0
            for name, dtype, shape in self._inputs:
                width = shape[1] if len(shape) > 1 and isinstance(shape[1], int) else 1
                feeds[name] = array[:, start : start + width].astype(dtype)
                start += width
        results = self.model.run(None, feeds)
        outputs = [_onnx_output(value) for value in results]
        return outputs[0] if len(outputs) == 1 else dict(zip(self._outputs, outputs, strict=True))


def _onnx_output(value: Any) -> np.ndarray:
    # skl2onnx classifiers return probabilities as a list of {label: p} (ZipMap): a 2-D array.
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        keys = list(value[0])
        return np.asarray([[row[k] for k in keys] for row in value])
    return np.asarray(value)


def _as_output(result: Any) -> Any:
    if isinstance(result, Mapping):
        return {str(k): np.asarray(v) for k, v in result.items()}
    if hasattr(result, "to_numpy") and not isinstance(result, np.ndarray):
        return result.to_numpy()
    return np.asarray(result)


# -- flavor detection -------------------------------------------------------------------------------


def _is_sklearn(obj: Any) -> bool:
    base = sys.modules.get("sklearn.base")
    return base is not None and isinstance(obj, base.BaseEstimator)


def _is_onnx_proto(obj: Any) -> bool:
    return type(obj).__name__ == "ModelProto" and type(obj).__module__.split(".", 1)[0] == "onnx"


def detect_flavor(obj: Any) -> str:
    """``sklearn`` for estimators and pipelines, ``onnx`` for an .onnx file or an ONNX ModelProto,
    ``python`` for a function or an object with ``predict``."""
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if path.suffix.lower() == ".onnx":
            if not path.is_file():
                raise RunlabError("invalid_request", f"{str(path)!r}: no such ONNX file")
            return "onnx"
        raise RunlabError(
            "invalid_request",
            f"{str(path)!r} is not a model Runlab can log: give an .onnx file, an MLflow model directory, "
            "or the model object (a scikit-learn estimator, a function, an object with predict)",
        )
    if _is_sklearn(obj):
        return "sklearn"
    if _is_onnx_proto(obj):
        return "onnx"
    if callable(getattr(obj, "predict", None)) or callable(obj):
        return "python"
    raise RunlabError(
        "invalid_request",
        f"cannot tell the flavor of a {type(obj).__name__}: log a scikit-learn estimator or pipeline, an ONNX "
        "model (.onnx file or ModelProto), or a function or object with a predict method",
    )


def _check_flavor(obj: Any, flavor: str) -> None:
    if flavor not in FLAVORS:
        raise RunlabError(
            "invalid_request",
            f"flavor {flavor!r} is not one Runlab logs: use {', '.join(FLAVORS)} (or None to detect it)",
        )
    if flavor == "sklearn" and not _is_sklearn(obj):
        raise RunlabError(
            "invalid_request", f"flavor 'sklearn' needs a scikit-learn estimator, not a {type(obj).__name__}"
        )
    if flavor == "onnx" and not (_is_onnx_proto(obj) or isinstance(obj, (str, os.PathLike))):
        raise RunlabError(
            "invalid_request", f"flavor 'onnx' needs an .onnx file or an ONNX ModelProto, not a {type(obj).__name__}"
        )
    if flavor == "python" and not (callable(getattr(obj, "predict", None)) or callable(obj)):
        raise RunlabError(
            "invalid_request", f"flavor 'python' needs a function or an object with predict, not a {type(obj).__name__}"
        )


# -- saving -----------------------------------------------------------------------------------------


def save_model(
    obj_or_path: Any, directory: str | os.PathLike[str], *, flavor: str | None = None, input_example: Any = None
) -> SavedModel:
    """Write ``obj_or_path`` as an MLflow model directory at ``directory`` (created; must be empty).

    The signature is inferred from ``input_example`` and the model's predictions on it (the model
    is loaded back from the directory to predict, so a model that does not survive saving fails
    here, not when deployed)."""
    import yaml

    target = Path(directory)
    if isinstance(obj_or_path, (str, os.PathLike)) and (Path(obj_or_path) / MLMODEL).is_file():
        return _copy_model_directory(Path(obj_or_path), target)
    flavor = flavor or detect_flavor(obj_or_path)
    _check_flavor(obj_or_path, flavor)
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise RunlabError("invalid_request", f"{str(target)!r} is not empty: save a model into a new directory")

    python_version = platform.python_version()
    env = {"virtualenv": "python_env.yaml"}
    flavors: dict[str, Any]
    if flavor == "sklearn":
        import sklearn

        with open(target / SKLEARN_FILE, "wb") as handle:
            _dump_with_local_code(obj_or_path, handle)
        flavors = {
            "python_function": {
                "env": env,
                "loader_module": "mlflow.sklearn",
                "model_path": SKLEARN_FILE,
                "predict_fn": "predict",
                "python_version": python_version,
            },
            "sklearn": {
                "code": None,
                "pickled_model": SKLEARN_FILE,
                "serialization_format": "cloudpickle",
                "sklearn_version": sklearn.__version__,
            },
        }
    elif flavor == "onnx":
        if isinstance(obj_or_path, (str, os.PathLike)):
            shutil.copyfile(obj_or_path, target / ONNX_FILE)
        else:
            (target / ONNX_FILE).write_bytes(obj_or_path.SerializeToString())
        flavors = {
            "python_function": {
                "env": env,
                "loader_module": "mlflow.onnx",
                "data": ONNX_FILE,
                "python_version": python_version,
            },
            "onnx": {"code": None, "data": ONNX_FILE, "providers": ["CPUExecutionProvider"], **_onnx_version()},
        }
    else:
        with open(target / PYTHON_FILE, "wb") as handle:
            _dump_with_local_code(obj_or_path, handle)
        flavors = {
            "python_function": {
                "env": env,
                "loader_module": "runlab.models.pyfunc",
                "data": PYTHON_FILE,
                "python_version": python_version,
            },
            "runlab_python": {
                "pickled_model": PYTHON_FILE,
                "serialization_format": "cloudpickle",
                "callable": "object" if callable(getattr(obj_or_path, "predict", None)) else "function",
                # A table example means the function reads columns by name: the server gives it a DataFrame.
                "needs_dataframe": _is_table(input_example),
            },
        }

    from runlab import __version__

    mlmodel: dict[str, Any] = {
        "flavors": flavors,
        "model_uuid": uuid.uuid4().hex,
        "runlab_version": __version__,
        "utc_time_created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    _write_mlmodel(target, mlmodel)

    loaded = load_model_dir(target)
    predictions = None
    signature: dict[str, Any] | None = None
    example_json = None
    if input_example is not None:
        try:
            predictions = loaded.predict(_model_input(input_example, loaded))
        except Exception as error:
            raise RunlabError(
                "invalid_request",
                f"the model's predict failed on input_example ({type(error).__name__}: {error}); pass an "
                "input_example the model accepts (a few rows of its training inputs)",
            ) from error
        signature = signatures.infer_signature(input_example, predictions)
        example_json = signatures.example_json(input_example, EXAMPLE_ROWS)
        (target / INPUT_EXAMPLE).write_text(json.dumps(example_json), encoding="utf-8")
        mlmodel["saved_input_example_info"] = _example_info(input_example)
    elif flavor == "onnx":
        signature = _onnx_signature(loaded.model)
    if signature is not None:
        mlmodel["signature"] = signatures.to_mlflow(signature)
    _write_mlmodel(target, mlmodel)

    extra = ["pandas"] if _is_table(input_example) or loaded.needs_dataframe else []
    model_object = obj_or_path if flavor != "onnx" else None
    requirements = requirements_module.model_requirements(model_object, flavor, extra=extra)
    (target / REQUIREMENTS).write_text("".join(f"{line}\n" for line in requirements), encoding="utf-8")
    env_yaml = {"python": python_version, "build_dependencies": ["pip"], "dependencies": ["-r requirements.txt"]}
    (target / "python_env.yaml").write_text(yaml.safe_dump(env_yaml, sort_keys=False), encoding="utf-8")
    return SavedModel(
        directory=target,
        flavor=flavor,
        signature=signature,
        input_example=example_json,
        requirements=requirements,
        predictions=predictions,
        files=_files(target),
    )


def _copy_model_directory(source: Path, target: Path) -> SavedModel:
    """An existing MLflow model directory, logged as it is."""
    if target.exists() and any(target.iterdir()):
        raise RunlabError("invalid_request", f"{str(target)!r} is not empty: save a model into a new directory")
    shutil.copytree(source, target, dirs_exist_ok=True)
    loaded = load_model_dir(target)
    requirements_path = target / REQUIREMENTS
    requirements = (
        [
            line.strip()
            for line in requirements_path.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        if requirements_path.is_file()
        else []
    )
    return SavedModel(
        directory=target,
        flavor=loaded.flavor,
        signature=loaded.signature,
        input_example=loaded.input_example,
        requirements=requirements,
        files=_files(target),
    )


def _local_modules(obj: Any) -> list[types.ModuleType]:
    """The user's own modules (not installed packages, not the standard library) whose classes or
    functions ``obj`` holds: a notebook's ``features.py`` with a custom transformer, say."""
    installed = {
        Path(p).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib") if (p := sysconfig.get_path(key))
    }
    found: dict[str, types.ModuleType] = {}
    for name in requirements_module.module_names_of(obj):
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if module is None or not file or name == "__main__" or name.split(".", 1)[0] == "runlab":
            continue
        path = Path(file).resolve()
        if not any(path.is_relative_to(root) for root in installed):
            found[name] = module
    return list(found.values())


def _dump_with_local_code(obj: Any, handle: Any) -> None:
    """cloudpickle ``obj``, with the code of the user's own modules inside (by value), so the model
    loads where those modules are not on the path: a server, the serving runtime."""
    import cloudpickle

    registered = []
    for module in _local_modules(obj):
        try:
            cloudpickle.register_pickle_by_value(module)
        except ValueError:
            continue
        registered.append(module)
    try:
        cloudpickle.dump(obj, handle)
    finally:
        for module in registered:
            cloudpickle.unregister_pickle_by_value(module)


def _files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def _write_mlmodel(directory: Path, mlmodel: dict[str, Any]) -> None:
    import yaml

    (directory / MLMODEL).write_text(
        yaml.safe_dump(mlmodel, sort_keys=True, default_flow_style=False), encoding="utf-8"
    )


def _onnx_version() -> dict[str, str]:
    try:
        import onnx
    except ImportError:
        return {}
    return {"onnx_version": onnx.__version__}


def _is_table(example: Any) -> bool:
    if signatures._is_dataframe(example):
        return True
    return (
        isinstance(example, Sequence)
        and not isinstance(example, (str, bytes))
        and bool(example)
        and isinstance(example[0], Mapping)
    )


def _example_info(example: Any) -> dict[str, Any]:
    if _is_table(example):
        return {"artifact_path": INPUT_EXAMPLE, "pandas_orient": "split", "type": "dataframe"}
    if isinstance(example, Mapping):
        return {"artifact_path": INPUT_EXAMPLE, "type": "json_object"}
    return {"artifact_path": INPUT_EXAMPLE, "type": "ndarray"}


def _model_input(example: Any, loaded: LoadedModel) -> Any:
    """The example as the model's predict takes it."""
    if isinstance(example, Sequence) and not isinstance(example, (str, bytes)) and example:
        if isinstance(example[0], Mapping):
            import pandas as pd

            return pd.DataFrame.from_records(list(example))
        return np.asarray(example)
    return example


def _onnx_signature(session: Any) -> dict[str, Any]:
    """Named tensors from the ONNX graph, when no example was given."""

    def fields(items: Any) -> list[dict[str, Any]]:
        result = []
        for item in items:
            dtype = _ONNX_NUMPY.get(item.type)
            shape = [n if isinstance(n, int) and n > 0 else -1 for n in (item.shape or [-1])]
            datatype = signatures.datatype_of(dtype) if dtype is not None and dtype is not np.object_ else "BYTES"
            result.append({"name": item.name, "kind": "tensor", "datatype": datatype, "shape": shape, "required": True})
        return result

    outputs = [o for o in session.get_outputs() if o.type.startswith("tensor(")]
    return {"inputs": fields(session.get_inputs()), "outputs": fields(outputs) or None}


# -- loading ----------------------------------------------------------------------------------------


def read_mlmodel(directory: str | os.PathLike[str]) -> dict[str, Any]:
    import yaml

    path = Path(directory) / MLMODEL
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunlabError(
            "invalid_request", f"{str(directory)!r} is not a model directory: it has no MLmodel file"
        ) from None
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
        raise RunlabError("invalid_request", f"{str(path)!r} is not an MLmodel file (no flavors)")
    return data


def load_model_dir(directory: str | os.PathLike[str]) -> LoadedModel:
    """Load a model directory written by Runlab or MLflow (sklearn pickle/cloudpickle, onnx,
    Runlab's python flavor); mlflow is not imported."""
    root = Path(directory)
    mlmodel = read_mlmodel(root)
    flavors: dict[str, Any] = mlmodel["flavors"]
    signature = signatures.from_mlflow(mlmodel.get("signature"))
    common = {
        "directory": root,
        "metadata": mlmodel,
        "signature": signature,
        "input_example": _read_example(root, mlmodel),
    }
    if "sklearn" in flavors:
        model = _load_sklearn(root, flavors)
        _quiet_feature_name_warning(model)
        return SklearnModel(flavor="sklearn", needs_dataframe=selects_columns_by_name(model), model=model, **common)
    if "onnx" in flavors:
        import onnxruntime

        conf = flavors["onnx"]
        session = onnxruntime.InferenceSession(
            str(root / conf.get("data", ONNX_FILE)), providers=["CPUExecutionProvider"]
        )
        return OnnxModel(flavor="onnx", needs_dataframe=False, model=session, **common)
    if "runlab_python" in flavors:
        import cloudpickle

        conf = flavors["runlab_python"]
        with open(root / conf.get("pickled_model", PYTHON_FILE), "rb") as handle:
            model = cloudpickle.load(handle)
        return PythonModel(flavor="python", needs_dataframe=bool(conf.get("needs_dataframe")), model=model, **common)
    names = ", ".join(sorted(flavors)) or "none"
    raise RunlabError(
        "invalid_request",
        f"{str(root)!r} holds a model of flavor(s) {names}, which Runlab cannot load: it loads sklearn, onnx "
        "and Runlab's python models",
    )


def _load_sklearn(root: Path, flavors: dict[str, Any]) -> Any:
    conf = flavors["sklearn"]
    filename = conf.get("pickled_model") or flavors.get("python_function", {}).get("model_path") or SKLEARN_FILE
    serialization = conf.get("serialization_format", "pickle")
    with open(root / filename, "rb") as handle:
        if serialization == "cloudpickle":
            import cloudpickle

            return cloudpickle.load(handle)
        if serialization == "pickle":
            return pickle.load(handle)
    if serialization == "skops":
        # MLflow 3's default for sklearn; the MLmodel lists the types beyond skops' defaults to trust.
        try:
            import skops.io
        except ImportError:
            raise RunlabError(
                "invalid_request",
                f"{str(root)!r}: the sklearn model is saved in the skops format: `pip install skops` to load it "
                "(or log it with serialization_format='cloudpickle')",
            ) from None
        return skops.io.load(root / filename, trusted=conf.get("skops_trusted_types"))
    raise RunlabError(
        "invalid_request",
        f"{str(root)!r}: the sklearn model is saved as {serialization!r}; Runlab loads pickle, cloudpickle and skops "
        "(log it with serialization_format='cloudpickle')",
    )


def _read_example(root: Path, mlmodel: Mapping[str, Any]) -> Any:
    info = mlmodel.get("saved_input_example_info") or {}
    path = root / str(info.get("artifact_path") or INPUT_EXAMPLE)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _quiet_feature_name_warning(model: Any) -> None:
    # A model fitted on a DataFrame warns on every array it predicts on; the serving runtime sends
    # arrays in signature order on purpose, so the warning says nothing there.
    if getattr(model, "feature_names_in_", None) is not None:
        warnings.filterwarnings("ignore", message="X does not have valid feature names", category=UserWarning)


def selects_columns_by_name(estimator: Any, _depth: int = 0) -> bool:
    """True when a ColumnTransformer somewhere in ``estimator`` selects columns by name (strings,
    or a selector callable), so predict needs a DataFrame with those column names."""
    if _depth > 20 or not _is_sklearn(estimator):
        return False
    from sklearn.compose import ColumnTransformer

    if isinstance(estimator, ColumnTransformer):
        transformers = getattr(estimator, "transformers_", None) or estimator.transformers
        for _name, _transformer, columns in transformers:
            if isinstance(columns, str) or callable(columns):
                return True
            if isinstance(columns, (list, tuple, np.ndarray)) and any(isinstance(c, str) for c in columns):
                return True
    for value in estimator.get_params(deep=False).values():
        children = value if isinstance(value, (list, tuple)) else [value]
        for child in children:
            parts = child if isinstance(child, tuple) else (child,)
            if any(selects_columns_by_name(part, _depth + 1) for part in parts):
                return True
    return False
