"""``mlflow.pyfunc.load_model`` on a Runlab ``python`` model: the MLmodel's ``python_function``
flavor names this module as its loader, and MLflow calls ``_load_pyfunc(<data path>)``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class _RunlabPythonModel:
    """What MLflow calls ``predict(data, params=None)`` on."""

    def __init__(self, loaded: Any) -> None:
        self._loaded = loaded

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._loaded.predict(data)

    def get_raw_model(self) -> Any:
        return self._loaded.model


def _load_pyfunc(path: str | os.PathLike[str]) -> _RunlabPythonModel:
    from runlab.models.flavors import load_model_dir

    # MLflow passes the flavor's data file (python_model.pkl); the directory holds the MLmodel.
    directory = Path(path)
    if directory.is_file():
        directory = directory.parent
    return _RunlabPythonModel(load_model_dir(directory))
