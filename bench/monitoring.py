"""Monitoring: Runlab's drift judgement and prediction-log ingest, next to Evidently's
DataDriftPreset on the same data, in one run on this machine. Prints figures; never asserts on time.

1. Drift over 1,000,000 rows × 20 numeric features against a reference profile built by Runlab's
   own python/runlab/models/profile.py from 100,000 training rows: Runlab's `judgeWindow`
   (server/dist/monitoring/drift.js, timed in Node by bench/monitoring_drift.mjs, median of 3)
   and end to end through a real companion server (the rows sent as TelemetryReports with the
   deployment's token; from the last report's answer to the window listed by GET …/drift), vs
   Evidently's DataDriftPreset on the 100,000 training rows (reference) and the 1,000,000 rows
   (current). Targets: ≤ 1 s, ≥ 20× faster than Evidently.
2. Prediction-log ingest into one companion server: rows/s of TelemetryReports as the serving
   runtime batches them (records of many rows). Target ≥ 100,000 rows/s.
3. False alarms: 100 windows of 100,000 rows drawn from the training distribution (seeded): how
   many Runlab flags (dataset verdict, and any feature) next to Evidently's verdict and drifted
   columns on the same windows. Target ≤ 1 alert.
4. Reference profile size per feature (bytes of JSON), numeric and categorical.

Evidently (pinned in python/requirements-bench-evidently.txt) lives in its own venv under
~/.cache/runlab/bench/, like MLServer in bench/serving.py; it reads the same matrices from files.

    .venv/bin/python bench/monitoring.py [--quick] [--only drift,ingest,false-alarms,profile]
                                         [--rows 1000000] [--windows 100] [--window-rows 100000]
                                         [--evidently-windows N]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402

PARTS = ("drift", "ingest", "false-alarms", "profile")
FEATURES = 20
SEED = 15
EVIDENTLY_REQUIREMENTS = REPO / "python" / "requirements-bench-evidently.txt"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "runlab" / "bench"
NAMES = [f"f{j}" for j in range(FEATURES)]
# The rows of one logged prediction and the records of one report, as the runtime sends them
# (python/runlab/serving/telemetry.py: up to 1,000 rows a record, 5,000 records a report).
ROWS_PER_RECORD = 100
RECORDS_PER_REPORT = 100


# -- the data -------------------------------------------------------------------------------------


class Distribution:
    """20 features of four shapes (normal, log-normal, uniform, a two-peak mixture), seeded."""

    def __init__(self) -> None:
        rng = np.random.default_rng(SEED)
        self.location = rng.normal(0, 5, FEATURES)
        self.scale = rng.uniform(0.5, 3, FEATURES)

    def sample(self, rows: int, seed: int, drifted: bool = False) -> np.ndarray:
        """rows × FEATURES float64, column-major (each feature's values contiguous)."""
        rng = np.random.default_rng([SEED, seed])
        out = np.empty((FEATURES, rows))
        for j in range(FEATURES):
            shape = j % 4
            if shape == 0:
                values = rng.standard_normal(rows)
            elif shape == 1:
                values = rng.lognormal(0, 0.5, rows)
            elif shape == 2:
                values = rng.uniform(-1, 1, rows)
            else:
                values = np.where(rng.random(rows) < 0.3, rng.normal(-2, 0.5, rows), rng.normal(1, 0.7, rows))
            out[j] = self.location[j] + self.scale[j] * values
        if drifted:
            # Four features change, the others do not: what a dataset-level verdict at a drift
            # share of 0.5 calls "no drift", and each feature's test should name.
            out[0] += 0.25 * self.scale[0]  # a mean shift of a quarter of a standard deviation
            out[1] = self.location[1] + (out[1] - self.location[1]) * 1.5  # wider
            out[2] += 0.2 * self.scale[2]  # a uniform moved
            out[3] = out[3][::-1] + rng.normal(0, 0.5 * self.scale[3], rows)  # blurred peaks
        return out


def write_matrix(path: Path, matrix: np.ndarray, append: bool = False) -> None:
    with open(path, "ab" if append else "wb") as sink:
        np.ascontiguousarray(matrix, dtype=np.float64).tofile(sink)


# -- processes ------------------------------------------------------------------------------------


def node_drift(mode: str, profile: Path, matrix: Path, rows: int, repeat: int) -> dict[str, Any]:
    command = ["node", str(REPO / "bench" / "monitoring_drift.mjs"), mode, str(profile), str(matrix)]
    done = subprocess.run([*command, str(rows), str(FEATURES), str(repeat)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench/monitoring_drift.mjs failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def evidently_venv() -> Path:
    """A venv keyed by the pinned requirements and the Python version; reused when present."""
    pins = [
        line.strip()
        for line in EVIDENTLY_REQUIREMENTS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    key = hashlib.sha256("\n".join([*pins, platform.python_version()]).encode()).hexdigest()[:12]
    venv = CACHE / f"evidently-venv-{key}"
    if (venv / ".complete").exists():
        return venv
    print(f"  creating Evidently's venv in {venv} ({', '.join(pins)}; first run only)…", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    base_python = getattr(sys, "_base_executable", None) or shutil.which("python3") or "python3"
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*install, *pins], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"installing Evidently into {venv} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    (venv / ".complete").write_text("\n".join(pins) + "\n")
    return venv


def evidently(venv: Path, mode: str, reference: Path, matrix: Path, rows: int, repeat: int) -> dict[str, Any]:
    command = [str(venv / "bin" / "python"), str(REPO / "bench" / "monitoring_evidently.py"), mode]
    command += [str(reference), str(matrix), str(rows), str(FEATURES), str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench/monitoring_evidently.py failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- a companion server with one deployment -------------------------------------------------------


def http(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 120) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


@dataclass
class Companion:
    url: str
    token: str
    pid: int
    log: Path


@contextlib.contextmanager
def companion_server(work: Path, name: str) -> Iterator[Companion]:
    """`node server/dist/cli.js serve --port 0` on a fresh data directory; its local target runs
    `runlab serve-model` with this Python."""
    data_dir = work / f"{name}-data"
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    env.update(
        RUNLAB_LOG_LEVEL="warn",
        RUNLAB_SERVING_PYTHON=sys.executable,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "python"), os.environ.get("PYTHONPATH")])),
    )
    command = ["node", str(REPO / "server" / "dist" / "cli.js"), "serve", "--port", "0", "--data-dir", str(data_dir)]
    log = work / f"{name}-server.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                info = json.loads((data_dir / "server.json").read_text())
                token = (data_dir / "admin-token").read_text().strip()
                break
            except (OSError, ValueError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the companion server did not start:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.05)
        yield Companion(info["url"].rstrip("/"), token, process.pid, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, 9)


def deployment_token(server: Companion, deployment_id: str) -> str:
    """The deployment token the server handed its runtime (in the runtime's environment): what a
    serving runtime presents when it reports telemetry."""
    import psutil

    for child in psutil.Process(server.pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if deployment_id in " ".join(child.cmdline()):
                token = child.environ().get("RUNLAB_TOKEN")
                if token:
                    return token
    raise SystemExit(f"no runtime of deployment {deployment_id} found under the server (pid {server.pid})")


@dataclass
class Deployed:
    id: str
    token: str
    revision: int
    version_id: str
    output: str  # the name of the prediction column in the profile


def deploy_model(server: Companion, train: np.ndarray, name: str) -> Deployed:
    """A LinearRegression on the training rows, logged with their profile and deployed locally."""
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    import runlab

    frame = pd.DataFrame(train.T, columns=NAMES)
    target = frame.to_numpy() @ np.linspace(-1, 1, FEATURES)
    runlab.configure(url=server.url, token=server.token, project="bench-monitoring")
    with runlab.start(name="monitoring benchmark"):
        version = runlab.model(
            LinearRegression().fit(frame, target), name=name, input_example=frame[:5], profile_data=frame
        )
    number = getattr(version, "version", None) or getattr(version, "number", 1)
    profile = http("GET", f"{server.url}/api/models/{name}/versions/{number}/profile", token=server.token)
    output = profile["predictions"][0]["name"] if profile.get("predictions") else "predict"
    created = http("POST", f"{server.url}/api/deployments", {"model": name, "version": str(number)}, server.token)
    deadline = time.monotonic() + 120
    deployment = created
    while deployment["status"] != "ready":
        if deployment["status"] == "failed" or time.monotonic() > deadline:
            raise SystemExit(f"deployment {name} not ready: {deployment.get('statusMessage')}")
        time.sleep(0.1)
        deployment = http("GET", f"{server.url}/api/deployments/{created['id']}", token=server.token)
    slot = deployment["slots"][0]
    return Deployed(
        created["id"],
        deployment_token(server, created["id"]),
        deployment["revision"],
        slot["modelVersionId"],
        output,
    )


def reports(deployed: Deployed, matrix: np.ndarray, predictions: np.ndarray, tag: str) -> list[bytes]:
    """The rows as TelemetryReport bodies, serialized beforehand (the server's cost is measured)."""
    import orjson

    rows = matrix.shape[1]
    bodies = []
    now = int(time.time() * 1000)
    for start in range(0, rows, ROWS_PER_RECORD * RECORDS_PER_REPORT):
        records = []
        for begin in range(start, min(rows, start + ROWS_PER_RECORD * RECORDS_PER_REPORT), ROWS_PER_RECORD):
            end = min(rows, begin + ROWS_PER_RECORD)
            records.append(
                {
                    "requestId": f"{tag}-{begin}",
                    "role": "stable",
                    "modelVersionId": deployed.version_id,
                    "at": now,
                    "latencyMs": 1.5,
                    "inputs": {name: matrix[j, begin:end] for j, name in enumerate(NAMES)},
                    "outputs": {deployed.output: predictions[begin:end]},
                    "status": 200,
                    "error": None,
                }
            )
        report = {
            "revision": deployed.revision,
            "replica": "bench/0",
            "intervalSeconds": 2,
            "counts": [{"role": "stable", "modelVersionId": deployed.version_id, "status": 200, "count": len(records)}],
            "latency": {"bucketsMs": [1, 2, 5], "counts": [0, len(records), len(records), len(records)]},
            "predictions": records,
        }
        bodies.append(orjson.dumps(report, option=orjson.OPT_SERIALIZE_NUMPY))
    return bodies


def send_reports(server: Companion, deployed: Deployed, bodies: list[bytes], clients: int = 2) -> float:
    """POST them all (``clients`` at a time, keep-alive); seconds from the first to the last answer."""
    import requests

    url = f"{server.url}/api/deployments/{deployed.id}/telemetry"
    local = threading.local()

    def post(body: bytes) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers.update({"Authorization": f"Bearer {deployed.token}", "Content-Type": "application/json"})
        answer = session.post(url, data=body, timeout=300)
        if answer.status_code != 200:
            raise SystemExit(f"telemetry refused ({answer.status_code}): {answer.text[:500]}")

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post, bodies))
    return time.perf_counter() - began


def monitoring_routes(server: Companion, deployed: Deployed) -> bool:
    try:
        http("GET", f"{server.url}/api/deployments/{deployed.id}/drift?limit=1", token=server.token)
        return True
    except urllib.error.HTTPError as error:
        return error.code != 404


def set_window(server: Companion, deployed: Deployed, rows: int) -> None:
    body = {"window": {"kind": "rows", "size": rows}, "minRows": 100}
    http("PATCH", f"{server.url}/api/deployments/{deployed.id}/monitoring", body, server.token)


def windows_of(server: Companion, deployed: Deployed) -> list[dict[str, Any]]:
    return http("GET", f"{server.url}/api/deployments/{deployed.id}/drift?limit=1000", token=server.token)["windows"]


# -- figures --------------------------------------------------------------------------------------

ROWS_OUT: list[tuple[str, str, str, str]] = []  # (figure, Runlab, Evidently, target)
TARGETS: list[str] = []


def figure(what: str, ours: str, theirs: str = "—", target: str = "") -> None:
    ROWS_OUT.append((what, ours, theirs, target))
    print(f"  {what}: Runlab {ours}   Evidently {theirs}   {target}", flush=True)


def verdict(ok: bool, target: str) -> str:
    word = "met" if ok else "NOT met"
    TARGETS.append(f"{target} — {word}")
    return word


def print_table() -> None:
    widths = [max(len(row[i]) for row in [("figure", "Runlab", "Evidently", "target"), *ROWS_OUT]) for i in range(4)]
    print()
    for row in [("figure", "Runlab", "Evidently", "target"), tuple("-" * w for w in widths), *ROWS_OUT]:
        print("  " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


# -- the parts ------------------------------------------------------------------------------------


@dataclass
class Work:
    directory: Path
    distribution: Distribution
    train: np.ndarray  # FEATURES × reference rows
    profile: Path
    reference_npy: Path  # rows × FEATURES, for Evidently
    evidently: Path | None


def prepare(directory: Path, reference_rows: int, with_evidently: bool) -> Work:
    from runlab.models.profile import build_profile

    distribution = Distribution()
    train = distribution.sample(reference_rows, seed=0)
    began = time.perf_counter()
    profile = build_profile(train.T, feature_names=NAMES)
    print(
        f"  reference profile of {reference_rows:,} training rows × {FEATURES} features built by"
        f" runlab.models.profile.build_profile in {time.perf_counter() - began:.2f} s",
        flush=True,
    )
    profile_path = directory / "profile.json"
    profile_path.write_text(json.dumps(profile))
    reference_npy = directory / "reference.npy"
    np.save(reference_npy, np.ascontiguousarray(train.T))
    venv = None
    if with_evidently:
        try:
            venv = evidently_venv()
        except SystemExit as error:
            print(f"  Evidently skipped: {error}")
    return Work(directory, distribution, train, profile_path, reference_npy, venv)


def bench_drift(work: Work, rows: int, with_server: bool) -> None:
    print(f"\n1. Drift: {rows:,} rows × {FEATURES} numeric features (4 of them drifted) against the reference")
    current = work.distribution.sample(rows, seed=1, drifted=True)
    matrix = work.directory / "current.bin"
    write_matrix(matrix, current)
    ours = node_drift("time", work.profile, matrix, rows, 3)
    median = statistics.median(ours["seconds"])
    print(
        f"  Runlab judgeWindow (Node, in process): median {median:.3f} s of {', '.join(f'{s:.3f}' for s in ours['seconds'])};"
        f" verdict drifted={ours['drifted']} (share {ours['driftedShare']:.2f}), drifted features"
        f" {ours['driftedFeatures']}, tests {ours['tests']}",
        flush=True,
    )
    figure(f"drift {rows:,}×{FEATURES}: judgement (s)", f"{median:.3f}", target="≤ 1 s")
    verdict(median <= 1, f"drift judgement of {rows:,} rows: {median:.3f} s (target ≤ 1 s)")
    theirs = None
    if work.evidently:
        theirs = evidently(work.evidently, "time", work.reference_npy, matrix, rows, 1)
        seconds = theirs["seconds"][0]
        print(
            f"  Evidently {theirs['version']} DataDriftPreset: {seconds:.2f} s; dataset drift={theirs['dataset_drift']}"
            f" (share {theirs['drifted_share']}), drifted columns {theirs['drifted_columns']}, methods"
            f" {theirs['methods']}",
            flush=True,
        )
        ratio = seconds / median
        figure(f"drift {rows:,}×{FEATURES}: Evidently / Runlab", f"{ratio:.0f}× faster", f"{seconds:.2f} s", "≥ 20×")
        verdict(ratio >= 20, f"drift: {ratio:.0f}× faster than Evidently's DataDriftPreset (target ≥ 20×)")
        figure(
            "drift: features named (4 drifted)",
            ",".join(ours["driftedFeatures"]) or "none",
            ",".join(theirs["drifted_columns"]) or "none",
        )
    if with_server:
        try:
            bench_server(work, current, rows)
        except (Exception, SystemExit) as error:  # the other figures stand without it
            print(f"  the companion server part failed: {type(error).__name__}: {error}")


def bench_server(work: Work, current: np.ndarray, rows: int) -> None:
    """Part 1's end-to-end figure and part 2 (ingest) on one companion server."""
    print(f"\n1b/2. The same {rows:,} rows through a companion server as TelemetryReports")
    with companion_server(work.directory, "monitoring") as server:
        deployed = deploy_model(server, work.train, "drift-bench")
        predictions = current.T @ np.linspace(-1, 1, FEATURES)
        has_routes = monitoring_routes(server, deployed)
        if has_routes:
            set_window(server, deployed, rows)
        else:
            print("  the server has no drift routes yet: ingest only")
        bodies = reports(deployed, current, predictions, "drift")
        megabytes = sum(len(b) for b in bodies) / 1e6
        seconds = send_reports(server, deployed, bodies)
        done_at = time.perf_counter()
        rate = rows / seconds
        print(
            f"  ingest: {len(bodies)} reports of {ROWS_PER_RECORD * RECORDS_PER_REPORT:,} rows"
            f" ({RECORDS_PER_REPORT} records of {ROWS_PER_RECORD} rows, {megabytes / len(bodies):.1f} MB each),"
            f" 2 clients: {seconds:.1f} s, {rate:,.0f} rows/s ({megabytes / seconds:.0f} MB/s of JSON)",
            flush=True,
        )
        figure("prediction-log ingest (rows/s)", f"{rate:,.0f}", target="≥ 100,000")
        verdict(rate >= 100_000, f"prediction-log ingest: {rate:,.0f} rows/s (target ≥ 100,000)")
        if not has_routes:
            return
        deadline = time.monotonic() + 300
        window = None
        while time.monotonic() < deadline:
            listed = windows_of(server, deployed)
            if listed:
                window = listed[0]
                break
            time.sleep(0.02)
        if window is None:
            print(f"  no drift window listed within 300 s of the last report (server log: {server.log})")
            figure(f"drift {rows:,} rows end to end (s)", "no window")
            return
        waited = time.perf_counter() - done_at
        drifted = [f["name"] for f in window["features"] if f["drifted"]]
        print(
            f"  last report answered → window listed by GET …/drift: {waited:.2f} s; status {window['status']},"
            f" rows {window['rows']:,}, drifted={window['drifted']}, drifted features {drifted}",
            flush=True,
        )
        figure(f"drift {rows:,} rows end to end, after the last report (s)", f"{waited:.2f}")
        # What a production window size costs the ingest: the default 1,000-row windows, each judged.
        set_window(server, deployed, 1000)
        more = current[:, :200_000]
        bodies = reports(deployed, more, predictions[:200_000], "small-windows")
        before = len(windows_of(server, deployed))
        seconds = send_reports(server, deployed, bodies)
        rate = more.shape[1] / seconds
        time.sleep(1)
        judged = len(windows_of(server, deployed)) - before
        print(f"  ingest with 1,000-row windows: {rate:,.0f} rows/s ({judged} windows closed)", flush=True)
        figure("ingest with 1,000-row windows judged (rows/s)", f"{rate:,.0f}", target="≥ 100,000")


def bench_false_alarms(work: Work, windows: int, window_rows: int, evidently_windows: int | None) -> None:
    print(f"\n3. False alarms: {windows} windows of {window_rows:,} rows from the training distribution (seeded)")
    path = work.directory / "windows.bin"
    path.unlink(missing_ok=True)
    for index in range(windows):
        write_matrix(path, work.distribution.sample(window_rows, seed=1000 + index), append=True)
    ours = node_drift("windows", work.profile, path, window_rows, windows)["windows"]
    flagged = sum(1 for w in ours if w["drifted"])
    any_feature = sum(1 for w in ours if w["driftedFeatures"])
    features = sum(len(w["driftedFeatures"]) for w in ours)
    per_window = statistics.median(w["seconds"] for w in ours)
    print(
        f"  Runlab: {flagged} windows drifted (dataset verdict), {any_feature} with any feature drifted"
        f" ({features} feature verdicts of {windows * FEATURES}); {per_window * 1000:.0f} ms per window (median)",
        flush=True,
    )
    theirs_text = "—"
    if work.evidently:
        count = evidently_windows
        if count is None:
            # Time one window and stay within about ten minutes.
            one = evidently(work.evidently, "windows", work.reference_npy, path, window_rows, 1)["windows"][0]
            count = max(1, min(windows, int(600 / max(one["seconds"] + 0.5, 0.01))))
        theirs = evidently(work.evidently, "windows", work.reference_npy, path, window_rows, count)["windows"]
        dataset = sum(1 for w in theirs if w["dataset_drift"])
        columns = [w["drifted_count"] for w in theirs]
        with_any = sum(1 for c in columns if c)
        seconds = statistics.median(w["seconds"] for w in theirs)
        print(
            f"  Evidently on the first {count} windows: {dataset} dataset drift, {with_any} with any column drifted"
            f" (drifted columns per window: max {max(columns)}, total {sum(columns)}); {seconds:.2f} s per window",
            flush=True,
        )
        theirs_text = f"{dataset} of {count}"
        figure(f"no-drift windows with any feature drifted (of {windows})", f"{any_feature}", f"{with_any} of {count}")
    figure(f"false alarms: dataset drift in {windows} no-drift windows", f"{flagged} of {windows}", theirs_text, "≤ 1")
    verdict(flagged <= 1, f"false alarms: {flagged} of {windows} no-drift windows flagged (target ≤ 1)")


def bench_profile(work: Work) -> None:
    from runlab.models.profile import build_profile

    print("\n4. Reference profile size per feature (bytes of JSON)")
    profile = json.loads(work.profile.read_text())
    numeric = [len(json.dumps(f)) for f in profile["features"]]
    rng = np.random.default_rng(SEED)
    rows = work.train.shape[1]
    categorical = {
        "10 categories": rng.choice([f"plan-{i}" for i in range(10)], rows),
        "1,000 categories": rng.choice([f"city-{i}" for i in range(1000)], rows),
    }
    sizes = {
        name: len(json.dumps(build_profile({name: values})["features"][0])) for name, values in categorical.items()
    }
    print(f"  numeric ({rows:,} rows): median {statistics.median(numeric):,.0f} B, max {max(numeric):,} B")
    for name, size in sizes.items():
        print(f"  categorical, {name} ({rows:,} rows; the top 100 kept): {size:,} B")
    figure("profile: numeric feature (bytes)", f"{statistics.median(numeric):,.0f}")
    for name, size in sizes.items():
        figure(f"profile: categorical, {name} (bytes)", f"{size:,}")
    whole = work.profile.stat().st_size
    figure(f"profile: {FEATURES} numeric features, whole (bytes)", f"{whole:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100,000 rows, 5 windows of 20,000")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the drift window (part 1)")
    parser.add_argument("--reference-rows", type=int, default=100_000, help="training rows the profile is built from")
    parser.add_argument("--windows", type=int, default=100, help="no-drift windows (part 3)")
    parser.add_argument("--window-rows", type=int, default=100_000, help="rows of each no-drift window")
    parser.add_argument(
        "--evidently-windows", type=int, default=None, help="windows Evidently judges (default: what fits ~10 min)"
    )
    parser.add_argument("--no-evidently", action="store_true", help="Runlab's figures only")
    parser.add_argument("--no-server", action="store_true", help="skip the companion server (end to end, ingest)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.windows, args.window_rows = 100_000, 5, 20_000
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if unknown := [p for p in parts if p not in PARTS]:
        parser.error(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
    if not (REPO / "server" / "dist" / "monitoring" / "drift.js").exists():
        raise SystemExit("server/dist/monitoring/drift.js is missing: build the server (npm run build -w server)")

    began = time.perf_counter()
    load_avg = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"monitoring benchmark: {os.cpu_count()} CPUs (load average {load_avg}), Python {sys.version.split()[0]}")
    directory = Path(tempfile.mkdtemp(prefix="runlab-bench-monitoring-"))
    try:
        work = prepare(directory, args.reference_rows, not args.no_evidently)
        if "drift" in parts or "ingest" in parts:
            if "drift" in parts:
                bench_drift(work, args.rows, with_server=not args.no_server)
            else:
                bench_server(work, work.distribution.sample(args.rows, seed=1, drifted=True), args.rows)
        if "false-alarms" in parts:
            bench_false_alarms(work, args.windows, args.window_rows, args.evidently_windows)
        if "profile" in parts:
            bench_profile(work)
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"  kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print_table()
    if TARGETS:
        print("\nTargets:")
        for line in TARGETS:
            print(f"  {line}")
    print(f"\n(whole benchmark: {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
