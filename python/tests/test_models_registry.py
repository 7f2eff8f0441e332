"""``runlab.model`` inside a run → a version on the real server, with its lineage; ``runlab.load_model``
by alias in another Python process; ``runlab models …`` on the command line; and the errors."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import RunningServer, script_env
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import runlab
from runlab.client import Client, RunlabError
from runlab.models.registry import cache_root, download_version


@pytest.fixture(scope="module")
def training() -> tuple[pd.DataFrame, np.ndarray, Pipeline]:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 12, 400),
            "plan": rng.choice(["basic", "plus", "pro"], 400),
            "visits": rng.integers(0, 30, 400),
        }
    )
    labels = ((frame["age"] > 40) ^ (frame["plan"] == "pro")).astype(int).to_numpy()
    columns = ColumnTransformer([("num", StandardScaler(), ["age", "visits"]), ("cat", OneHotEncoder(), ["plan"])])
    pipeline = Pipeline([("prepare", columns), ("classify", LogisticRegression())]).fit(frame, labels)
    return frame, labels, pipeline


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RUNLAB_CACHE_DIR", str(tmp_path / "cache"))


def _name() -> str:
    return f"churn-{uuid.uuid4().hex[:8]}"


def _cli(server: RunningServer, tmp_path: Path, project: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = script_env(server, tmp_path, project)
    return subprocess.run(
        [sys.executable, "-m", "runlab", "models", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_model_logs_a_version_with_lineage_and_loads_by_alias_elsewhere(
    runlab_server: RunningServer, project: str, tmp_path: Path, training
) -> None:
    frame, _, pipeline = training
    name = _name()
    with runlab.start(name="train-churn") as run:
        runlab.param("C", 1.0)
        runlab.metric("accuracy", 0.91)
        first = runlab.model(
            pipeline,
            name=name,
            input_example=frame.head(5),
            profile_data=frame,
            description="baseline",
            tags={"team": "growth"},
        )
        # A second version from the same run, of another flavor: its own files only.
        second = runlab.model(
            lambda rows: (rows["age"] > 40).to_numpy().astype(int), name=name, input_example=frame.head(3)
        )

    assert (first.name, first.version, first.flavor, first.run_id) == (name, 1, "sklearn", run.id)
    assert first.ref == f"{name}@v1" and repr(first).startswith(f"<runlab.ModelVersion {name}@v1 flavor=sklearn")
    assert (second.version, second.flavor) == (2, "python")

    with Client(runlab_server.url, runlab_server.token) as client:
        version = client.request("GET", f"/api/models/{name}/versions/1")
        profile = client.request("GET", f"/api/models/{name}/versions/1/profile")
        later = client.request("GET", f"/api/models/{name}/versions/2")
    assert version["runId"] == run.id and version["runName"] == "train-churn" and version["projectName"] == project
    assert (
        version["source"] == "runlab" and version["description"] == "baseline" and version["tags"] == {"team": "growth"}
    )
    assert [f["name"] for f in version["signature"]["inputs"]] == ["age", "plan", "visits"]
    assert version["inputExample"]["columns"] == ["age", "plan", "visits"] and len(version["inputExample"]["data"]) == 5
    assert any(r.startswith("scikit-learn==") for r in version["requirements"]) and version["hasProfile"]
    assert {f["path"] for f in version["files"]} >= {"MLmodel", "model.pkl", "requirements.txt", "input_example.json"}
    assert "model.pkl" not in {f["path"] for f in later["files"]} and "python_model.pkl" in {
        f["path"] for f in later["files"]
    }
    # The profile is of profile_data (all 400 rows) and the model's predictions on it.
    assert profile["rows"] == 400
    assert [f["name"] for f in profile["features"]] == ["age", "plan", "visits"]
    assert profile["predictions"][0]["kind"] == "numeric" and profile["predictions"][0]["count"] == 400

    moved = _cli(runlab_server, tmp_path, project, "alias", name, "production", "v1", "--reason", "first release")
    assert moved.returncode == 0, moved.stderr
    assert f"{name}@production: (new) → v1 (set)" in moved.stdout

    # Another Python process, which knows only the server and the reference.
    script = f"""
import json, pandas as pd, runlab
model = runlab.load_model({name + "@production"!r})
rows = pd.DataFrame({frame.head(30).to_dict(orient="list")!r})
print(json.dumps({{"flavor": model.flavor, "version": model.version["version"], "needs_dataframe": model.needs_dataframe,
                  "predictions": model.predict(rows).tolist()}}))
"""
    env = script_env(runlab_server, tmp_path, project)
    env["RUNLAB_CACHE_DIR"] = str(tmp_path / "other-cache")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {
        "flavor": "sklearn",
        "version": 1,
        "needs_dataframe": True,
        "predictions": pipeline.predict(frame.head(30)).tolist(),
    }


def test_alias_rollback_history_and_listing_on_the_command_line(
    runlab_server: RunningServer, project: str, tmp_path: Path, training
) -> None:
    frame, _, pipeline = training
    name = _name()
    with runlab.start():
        for _ in range(2):
            runlab.model(pipeline, name=name, input_example=frame.head(4))

    assert _cli(runlab_server, tmp_path, project, "alias", name, "production", "1").returncode == 0
    promoted = _cli(runlab_server, tmp_path, project, "alias", name, "production", "2", "--reason", "better auc")
    assert f"{name}@production: v1 → v2 (set)  — better auc" in promoted.stdout
    rolled = _cli(runlab_server, tmp_path, project, "rollback", name, "production", "--reason", "p99 regressed")
    assert rolled.returncode == 0, rolled.stderr
    assert f"{name}@production: v2 → v1 (rollback)  — p99 regressed" in rolled.stdout
    assert runlab.load_model(f"{name}@production").version["version"] == 1

    history = _cli(runlab_server, tmp_path, project, "history", name, "--alias", "production")
    lines = history.stdout.strip().splitlines()
    assert len(lines) == 3 and "(rollback)" in lines[0] and "(new) → v1" in lines[2]

    listing = _cli(runlab_server, tmp_path, project, "list")
    assert listing.returncode == 0 and any(
        line.startswith(name) and "@production→v1" in line for line in listing.stdout.splitlines()
    )
    versions = _cli(runlab_server, tmp_path, project, "versions", name).stdout.splitlines()
    assert versions[0].startswith("v2") and versions[1].startswith("v1") and "@production" in versions[1]
    shown = _cli(runlab_server, tmp_path, project, "show", f"{name}@production")
    assert shown.returncode == 0 and f"{name}@v1  (sklearn, runlab)" in shown.stdout
    assert "inputs        age: FP64, plan: BYTES, visits: INT64" in shown.stdout
    as_json = json.loads(_cli(runlab_server, tmp_path, project, "show", f"{name}@v2", "--json").stdout)
    assert as_json["version"] == 2

    missing = _cli(runlab_server, tmp_path, project, "show", f"{name}@staging")
    assert missing.returncode == 1 and "runlab models versions" in missing.stderr
    bad = _cli(runlab_server, tmp_path, project, "alias", name, "production", "three")
    assert bad.returncode == 2 and "give a version number" in bad.stderr
    refused = _cli(runlab_server, tmp_path, project, "alias", name, "latest", "1")
    assert refused.returncode == 1


def test_downloads_are_cached_by_version_id(runlab_server: RunningServer, project: str, training) -> None:
    frame, _, pipeline = training
    name = _name()
    with runlab.start():
        logged = runlab.model(pipeline, name=name, input_example=frame.head(4))
    version, directory = download_version(f"{name}@latest")
    assert version["id"] == logged.id and directory == cache_root() / logged.id
    assert (directory / "MLmodel").is_file() and not list(directory.parent.glob(".*"))  # no temp dirs left
    stamp = (directory / "model.pkl").stat().st_mtime_ns
    _, again = download_version(logged)
    assert again == directory and (again / "model.pkl").stat().st_mtime_ns == stamp
    loaded = logged.load()
    np.testing.assert_array_equal(loaded.predict(frame.head(10)), pipeline.predict(frame.head(10)))
    # Into a folder of the caller's choosing (what the serving runtime does).
    _, chosen = download_version(version, Path(cache_root().parent / "elsewhere"))
    assert (chosen / "model.pkl").read_bytes() == (directory / "model.pkl").read_bytes()


def test_errors_say_what_to_do(runlab_server: RunningServer, project: str, training) -> None:
    frame, _, pipeline = training
    runlab.end()
    with pytest.raises(RunlabError, match=r"no run is active: call runlab.start\(\) first"):
        runlab.model(pipeline, name=_name(), input_example=frame.head(3))
    with pytest.raises(RunlabError, match="runlab models list"):
        runlab.load_model(f"{_name()}@production")
    with pytest.raises(RunlabError, match="is not a model reference"):
        runlab.load_model("churn@@v1")
    name = _name()
    with runlab.start():
        with pytest.raises(RunlabError, match="flavor 'keras' is not one Runlab logs"):
            runlab.model(pipeline, name=name, flavor="keras", input_example=frame.head(3))
        with pytest.raises(RunlabError, match="is not a model name"):
            runlab.model(pipeline, name="no spaces please", input_example=frame.head(3))
    with pytest.raises(RunlabError, match="runlab models list"):
        runlab.load_model(name)  # nothing was logged
