"""bench/monitoring.py's Evidently half, run by the Python of Evidently's own venv (see
python/requirements-bench-evidently.txt): its DataDriftPreset on the reference and current
matrices the benchmark wrote, timed here (building the DataFrames is not counted).

    python bench/monitoring_evidently.py time    REFERENCE.npy MATRIX.bin ROWS FEATURES REPS
    python bench/monitoring_evidently.py windows REFERENCE.npy WINDOWS.bin ROWS FEATURES COUNT

Matrix files are float64, column-major, as bench/monitoring_drift.mjs reads them. Prints one
JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def frame(matrix: np.ndarray, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: matrix[j] for j, name in enumerate(names)})


def judge(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """DataDriftPreset's dataset verdict and drifted columns, read from the snapshot's metrics."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    began = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
    result = snapshot.dict()
    seconds = time.perf_counter() - began
    drifted_count, share, columns, methods = None, None, [], set()
    for metric in result["metrics"]:
        name = metric.get("metric_name", "")
        value = metric.get("value")
        if name.startswith("DriftedColumnsCount"):
            drifted_count, share = value["count"], value["share"]
        elif name.startswith("ValueDrift"):
            config = metric.get("config", {})
            column = config.get("column")
            method = config.get("method")
            threshold = config.get("threshold")
            methods.add(str(method))
            # ValueDrift's value is the test's score: a p-value (drifted below the threshold) or
            # a distance (drifted above it), as its method says.
            if value is not None and threshold is not None:
                p_value_like = "p_value" in str(method).lower() or "test" in str(method).lower()
                drifted = value < threshold if p_value_like else value >= threshold
                if drifted:
                    columns.append(column)
    # The preset's dataset-level verdict: drifted when the share of drifted columns reaches 0.5 (its drift_share).
    dataset_drift = share is not None and share >= 0.5
    return {
        "seconds": seconds,
        "dataset_drift": dataset_drift,
        "drifted_count": drifted_count,
        "drifted_share": share,
        "drifted_columns": columns,
        "methods": sorted(methods),
    }


def main() -> None:
    mode, reference_path, matrix_path, rows_text, features_text, repeat_text = sys.argv[1:7]
    rows, features, repeat = int(rows_text), int(features_text), int(repeat_text)
    reference_matrix = np.load(reference_path)
    names = [f"f{j}" for j in range(features)]
    reference = pd.DataFrame(reference_matrix, columns=names)
    import evidently

    out: dict[str, Any] = {"version": evidently.__version__}
    if mode == "time":
        current = frame(np.fromfile(matrix_path, dtype=np.float64).reshape(features, rows), names)
        runs = [judge(reference, current) for _ in range(repeat)]
        out.update(runs[-1])
        out["seconds"] = [run["seconds"] for run in runs]
    elif mode == "windows":
        windows = np.memmap(matrix_path, dtype=np.float64, mode="r", shape=(repeat, features, rows))
        out["windows"] = [judge(reference, frame(np.asarray(windows[i]), names)) for i in range(repeat)]
    else:
        raise SystemExit(f"unknown mode {mode}: time or windows")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
