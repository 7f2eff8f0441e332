"""Schema-driven fuzzing of the REST API with Schemathesis.

The schema is the live server's own `/api/openapi.json`, so these tests check that the document
tells the whole truth: a request it allows is not refused for its form (no 400), a request it
does not allow is refused, no request makes a 5xx, a method a path does not take is a 405 with
`Allow`, and every answer has a documented status code, content type and body shape.

Each API operation is its own test, `test_…[METHOD /path][live-server]`, so a failure names it
(select one with `-k "POST and /api/runs/{id}/log"`). Path and query parameters are drawn half of
the time from seeded objects (a project with runs, metrics, an artifact, a snapshot and dataset
versions), so checks reach real objects and not only 404s. The fuzz runs on throwaway tokens;
operations that delete or revoke run last, on a token and on objects seeded for them alone.
(Schemathesis leaves out GET /api/openapi.json, the document it reads; the jest tests cover it.)

`RUNLAB_FUZZ_EXAMPLES` sets the generated examples per operation (default 10; each operation also
gets Schemathesis's boundary and wrong-method cases), `RUNLAB_FUZZ_SEED` the seed (default 1).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import schemathesis
from conftest import RunningServer, start_server, stop_server
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

MAX_EXAMPLES = int(os.environ.get("RUNLAB_FUZZ_EXAMPLES", "10"))
# Fixed, so a push fails only for what it changed; set another to explore further.
FUZZ_SEED = int(os.environ.get("RUNLAB_FUZZ_SEED", "1"))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    positive_data_acceptance,
    negative_data_rejection,
    unsupported_method,
]
# Run after everything else, each on objects seeded for it alone.
DESTRUCTIVE = ["revokeToken", "deleteProject", "deleteRun", "deleteDataset", "deleteDatasetVersion"]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class Seed:
    """Objects the fuzzer's path parameters can point at."""

    project_id: str
    renamable_project_id: str
    doomed_project_id: str
    run_ids: list[str]
    updatable_run_id: str
    doomed_run_id: str
    version_id: str
    chunk_hash: str


PROJECT = "fuzz-seed"
DATASET = "iris"
DOOMED_DATASET = "scratch"
TRIMMED_DATASET = "trimmed"  # loses versions to deleteDatasetVersion
METRIC = "train/loss"
PLAIN_METRIC = "accuracy"  # Schemathesis never puts a `/` in a path parameter
ARTIFACT = "model/weights.bin"


class Api:
    def __init__(self, server: RunningServer, token: str) -> None:
        self.url = server.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, expected: int, **kwargs: Any) -> Any:
        response = self.session.request(method, self.url + path, timeout=30, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else None


def frame_chunk(data: bytes) -> bytes:
    """One raw chunk in `POST /api/chunks` framing (see the contract)."""
    return hashlib.sha256(data).digest() + struct.pack(">BII", 0, len(data), len(data)) + data


def seed(api: Api) -> Seed:
    project = api("POST", "/api/projects", 201, json={"name": PROJECT, "description": "fuzz target"})
    renamable = api("POST", "/api/projects", 201, json={"name": "fuzz-renamable"})
    doomed_project = api("POST", "/api/projects", 201, json={"name": "fuzz-doomed"})

    def run(name: str) -> str:
        return api("POST", "/api/runs", 201, json={"project": PROJECT, "name": name, "params": {"lr": "0.1"}})["id"]

    runs = [run("seed-a"), run("seed-b")]
    for index, run_id in enumerate(runs):
        points = [
            {"key": key, "value": 1.0 / (step + 1 + index), "step": step}
            for key in (METRIC, PLAIN_METRIC)
            for step in range(20)
        ]
        api(
            "POST",
            f"/api/runs/{run_id}/log",
            200,
            json={"idempotencyKey": f"seed-{run_id}", "metrics": points, "tags": {"stage": "seed"}},
        )
    api(
        "PUT",
        f"/api/runs/{runs[0]}/artifacts",
        201,
        params={"path": ARTIFACT},
        data=b"\x00weights",
        headers={"Content-Type": "application/octet-stream"},
    )
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "id": "c1",
                "metadata": {},
                "source": "print(1)",
                "outputs": [],
                "execution_count": None,
            }
        ],
    }
    api("POST", f"/api/runs/{runs[0]}/snapshot", 201, json={"notebookPath": "train.ipynb", "notebook": notebook})

    content = b"sepal_length,sepal_width\n5.1,3.5\n"
    api("POST", "/api/chunks", 200, data=frame_chunk(content), headers={"Content-Type": "application/octet-stream"})
    chunk_hash = hashlib.sha256(content).hexdigest()
    manifest = {
        "files": [
            {"path": "data/iris.csv", "size": len(content), "mode": 0o644, "chunks": [[chunk_hash, len(content)]]}
        ]
    }
    version = api(
        "POST",
        f"/api/projects/{PROJECT}/datasets/{DATASET}/versions",
        201,
        json={**manifest, "message": "v1", "runId": runs[0]},
    )["version"]
    api("POST", f"/api/projects/{PROJECT}/datasets/{DATASET}/versions", 201, json={"files": [], "message": "v2"})
    for dataset in (DOOMED_DATASET, TRIMMED_DATASET):
        api("POST", f"/api/projects/{PROJECT}/datasets/{dataset}/versions", 201, json=manifest)
    api("POST", f"/api/projects/{PROJECT}/datasets/{TRIMMED_DATASET}/versions", 201, json={"files": []})
    return Seed(
        project_id=project["id"],
        renamable_project_id=renamable["id"],
        doomed_project_id=doomed_project["id"],
        run_ids=runs,
        updatable_run_id=run("seed-updatable"),
        doomed_run_id=run("seed-doomed"),
        version_id=version["id"],
        chunk_hash=chunk_hash,
    )


def throwaway_token(server: RunningServer, name: str) -> str:
    """A fresh user token, so nothing the fuzzer revokes can lock out the admin token."""
    return Api(server, server.token)("POST", "/api/tokens", 201, json={"name": name})["secret"]


def tokens_owned_by(server: RunningServer, token: str, count: int) -> list[str]:
    """Ids of tokens that `token` created, which it may revoke."""
    api = Api(server, token)
    return [api("POST", "/api/tokens", 201, json={"name": f"doomed-{index}"})["token"]["id"] for index in range(count)]


def bindings(*groups: tuple[list[str], dict[str, str]]) -> list[dict[str, Any]]:
    """Per-operation config: each parameter comes from its dictionary half of the time. One entry
    per operation, since Schemathesis takes `parameters` from the first entry that has any."""
    by_operation: dict[str, dict[str, str]] = {}
    for operation_ids, parameters in groups:
        for operation_id in operation_ids:
            by_operation.setdefault(operation_id, {}).update(parameters)
    return [
        {
            "include-operation-id": operation_id,
            "parameters": {
                name: {"dictionary": dictionary, "probability": 0.5} for name, dictionary in parameters.items()
            },
        }
        for operation_id, parameters in by_operation.items()
    ]


def fuzz_config(server: RunningServer, token: str, data: Seed, revocable_token_ids: list[str]) -> Any:
    run_operations = [
        "getRun",
        "logToRun",
        "getMetricHistory",
        "uploadArtifact",
        "downloadArtifact",
        "createSnapshot",
        "getSnapshotNotebook",
    ]
    dataset_operations = [
        "getDataset",
        "listDatasetVersions",
        "commitDatasetVersion",
        "getDatasetVersion",
        "getDatasetManifest",
        "diffDatasetVersions",
    ]
    return schemathesis.Config.from_dict(
        {
            "base-url": server.url,
            "headers": {"Authorization": f"Bearer {token}"},
            "seed": FUZZ_SEED,
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "dictionaries": {
                "project_ids": {"values": [data.project_id]},
                "renamable_project_ids": {"values": [data.renamable_project_id]},
                "doomed_project_ids": {"values": [data.doomed_project_id]},
                "run_ids": {"values": data.run_ids},
                "updatable_run_ids": {"values": [data.updatable_run_id]},
                "doomed_run_ids": {"values": [data.doomed_run_id]},
                "revocable_token_ids": {"values": revocable_token_ids or ["no-such-token"]},
                "project_names": {"values": [PROJECT]},
                "dataset_names": {"values": [DATASET]},
                "doomed_dataset_names": {"values": [DOOMED_DATASET]},
                "trimmed_dataset_names": {"values": [TRIMMED_DATASET]},
                "versions": {"values": ["v1", "2", "latest"]},
                "metric_keys": {"values": [PLAIN_METRIC]},
                "artifact_paths": {"values": [ARTIFACT]},
                "compare_ids": {"values": [",".join(data.run_ids)]},
                "provenance_nodes": {
                    "values": [
                        f"run:{data.run_ids[0]}",
                        f"dataset_version:{data.version_id}",
                        f"artifact:{data.run_ids[0]}/{ARTIFACT}",
                    ]
                },
                "chunk_hashes": {"values": [data.chunk_hash]},
            },
            "operations": bindings(
                (["getProject"], {"path.id": "project_ids"}),
                (["updateProject"], {"path.id": "renamable_project_ids"}),
                (["deleteProject"], {"path.id": "doomed_project_ids"}),
                (run_operations, {"path.id": "run_ids"}),
                (["updateRun"], {"path.id": "updatable_run_ids"}),
                (["deleteRun"], {"path.id": "doomed_run_ids"}),
                (["revokeToken"], {"path.id": "revocable_token_ids"}),
                (["getMetricHistory"], {"path.key": "metric_keys"}),
                (["uploadArtifact", "downloadArtifact"], {"query.path": "artifact_paths"}),
                (["listDatasets"], {"path.project": "project_names"}),
                (dataset_operations, {"path.project": "project_names", "path.name": "dataset_names"}),
                (["deleteDataset"], {"path.project": "project_names", "path.name": "doomed_dataset_names"}),
                (["deleteDatasetVersion"], {"path.project": "project_names", "path.name": "trimmed_dataset_names"}),
                (["getDatasetVersion", "getDatasetManifest", "deleteDatasetVersion"], {"path.version": "versions"}),
                (["diffDatasetVersions"], {"query.from": "versions", "query.to": "versions"}),
                (["compareRuns"], {"query.ids": "compare_ids"}),
                (["getProvenance"], {"query.node": "provenance_nodes"}),
                (["fetchChunks", "findMissingChunks"], {"body.hashes[*]": "chunk_hashes"}),
            ),
        }
    )


def _without_tuples(schema: Any) -> Any:
    """A tuple (`prefixItems`) as an array of its item types. Schemathesis 4.32.5 rewrites response
    tuples to draft-7 `items: [...]` and then refuses them as invalid 2020-12 (manifest chunks)."""
    if isinstance(schema, list):
        return [_without_tuples(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "prefixItems" in schema:
        rest = {key: value for key, value in schema.items() if key not in ("prefixItems", "items")}
        return {**rest, "items": {"anyOf": _without_tuples(schema["prefixItems"])}}
    return {key: _without_tuples(value) for key, value in schema.items()}


def load_schema(server: RunningServer, data: Seed, token_name: str, revocable_tokens: int = 0) -> Any:
    """The live server's own document, read with a throwaway token that the fuzz then uses."""
    token = throwaway_token(server, token_name)
    document = Api(server, token)("GET", "/api/openapi.json", 200)
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"] = _without_tuples(operation["responses"])
    revocable = tokens_owned_by(server, token, revocable_tokens)
    return schemathesis.openapi.from_dict(document, config=fuzz_config(server, token, data, revocable))


# -- rules the document can only describe -------------------------------------------------------
# JSON Schema has no words for rules across fields (columns of equal length, no path given twice,
# sizes that add up) or for the framing of raw uploads. The schemas describe them; here, generated
# valid requests are made to follow them too, so a 400 for one is still a real mismatch.


def _prefix_free(paths: list[str]) -> list[str]:
    """The paths in order, dropping repeats and any path that is a folder of, or inside, one kept."""
    kept: list[str] = []
    for path in paths:
        if all(
            path != other and not path.startswith(other + "/") and not other.startswith(path + "/") for other in kept
        ):
            kept.append(path)
    return kept


def _log_batch(body: dict[str, Any]) -> None:
    columns = body.get("metricColumns")
    if isinstance(columns, dict):
        names = ("keyIndex", "values", "steps", "timestamps")
        count = min(len(columns[name]) for name in names)
        for name in names:
            columns[name] = columns[name][:count]
        columns["keyIndex"] = [int(index) % len(columns["keys"]) for index in columns["keyIndex"]]


def _dataset_commit(body: dict[str, Any]) -> None:
    kept = set(_prefix_free([file["path"] for file in body["files"]]))
    files = []
    for file in body["files"]:
        if file["path"] in kept:
            kept.discard(file["path"])
            files.append({**file, "size": sum(int(size) for _, size in file["chunks"])})
    body["files"] = files


def _snapshot(body: dict[str, Any]) -> None:
    with_notebook = body.get("notebook") is not None
    paths = _prefix_free(
        ([body["notebookPath"]] if with_notebook else []) + [file["path"] for file in body.get("files", [])]
    )
    files = []
    for file in body.get("files", []):
        if file["path"] in paths and not (with_notebook and file["path"] == body["notebookPath"]):
            paths.remove(file["path"])
            files.append(file)
    body["files"] = files
    if not with_notebook and all(file["path"] != body["notebookPath"] for file in files):
        if files:
            body["notebookPath"] = files[0]["path"]
        else:
            files.append({"path": body["notebookPath"], "content": ""})


def _submit_job(body: dict[str, Any]) -> None:
    # Exactly one of commit or notebook: the notebook (a made-up commit is an unknown snapshot,
    # a 400 the issue asks for); parameters and pins must be the notebook's, which declares none.
    body.pop("commit", None)
    body["notebook"] = body.get("notebook") or {}
    body["parameters"] = {}
    body["datasets"] = {}
    _snapshot(body)


def _create_sweep(body: dict[str, Any]) -> None:
    # Exactly one of commit or notebook (the notebook, as for jobs); 1 to 20 ranges with low < high
    # (log: low > 0) and a step that divides them, each declared by the notebook's `parameters`
    # cell (untyped here: `x = 1 / 3` is checked against nothing); no fixed ones; a grid its size.
    body.pop("commit", None)
    ranges = dict(list((body.get("params") or {}).items())[:20]) or {"x": {"type": "uniform", "low": 0, "high": 1}}
    for spec in ranges.values():
        if spec["type"] == "choice":
            continue
        spec.pop("step", None)
        if spec["type"] == "loguniform":
            spec["low"] = abs(spec["low"]) or 1e-3
        if not spec["high"] > spec["low"]:
            spec["high"] = spec["low"] + 1 if spec["type"] == "intrange" else abs(spec["low"]) * 2 + 1
    if body.get("method") == "grid":
        ranges = {"x": {"type": "choice", "values": [1, 2]}}
        body.pop("trials", None)
    body["params"] = ranges
    body["fixed"] = {}
    body["datasets"] = {}
    source = "\n".join(f"{name} = 1 / 3" for name in ranges)
    body["notebook"] = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    _snapshot(body)


def _create_deployment(body: dict[str, Any]) -> None:
    # "kubernetes" goes with target kubernetes, and only with it; an autoscaler's max ≥ its min.
    if body.get("target") == "kubernetes" and not isinstance(body.get("kubernetes"), dict):
        body["target"] = "local"
    if body.get("target") != "kubernetes":
        body.pop("kubernetes", None)
    autoscale = (body.get("kubernetes") or {}).get("autoscale")
    if isinstance(autoscale, dict):
        autoscale["maxReplicas"] = max(autoscale["maxReplicas"], autoscale.get("minReplicas", 1))


def _update_deployment(body: dict[str, Any]) -> None:
    # Replicas or resources: a change needs one of them.
    if "replicas" not in body and "resources" not in body:
        body["replicas"] = 1


def _create_alert_rule(body: dict[str, Any]) -> None:
    # A feature for feature_drift rules only, and a threshold each kind can reach.
    kind = body.get("kind")
    body["feature"] = "x1" if kind == "feature_drift" else None
    comparison = body.get("comparison") or ("below" if kind == "accuracy" else "above")
    threshold = abs(body.get("threshold", 0.5))
    if kind in ("drift_share", "error_rate") or (kind == "accuracy" and comparison == "below"):
        threshold = min(threshold, 1)
    if kind == "latency_p99" or (kind == "accuracy" and comparison == "above"):
        threshold = threshold or 1
    body["threshold"] = threshold


def _update_monitoring_settings(body: dict[str, Any]) -> None:
    # largeWindowRows ≥ minRows, against the defaults (100, 5000) for the one not sent.
    minimum = body.get("minRows", 100)
    if body.get("largeWindowRows", 5000) < minimum:
        body["largeWindowRows"] = max(minimum, 100)


BEYOND_THE_SCHEMA = {
    "createAlertRule": _create_alert_rule,
    "updateMonitoringSettings": _update_monitoring_settings,
    "createDeployment": _create_deployment,
    "updateDeployment": _update_deployment,
    "logToRun": _log_batch,
    "commitDatasetVersion": _dataset_commit,
    "createSnapshot": _snapshot,
    "submitJob": _submit_job,
    "createSweep": _create_sweep,
}


def follow_rules_beyond_the_schema(case: Any) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id == "uploadChunks" and isinstance(case.body, (bytes, str)):
        # Any bytes, framed as one raw chunk (see the contract): the upload's framing.
        case.body = frame_chunk(case.body.encode() if isinstance(case.body, str) else case.body)
    elif operation_id in BEYOND_THE_SCHEMA and isinstance(case.body, dict):
        BEYOND_THE_SCHEMA[operation_id](case.body)


# -- real objects and reading back ---------------------------------------------------------------


def aim_at_seeded_objects(case: Any, seeded: Seed) -> None:
    """Boundary cases (Schemathesis's coverage phase, which draws no dictionary values) go to
    seeded objects, so extreme values reach the stores and not only a 404."""
    if case.meta is None or not case.meta.generation.mode.is_positive or case.meta.phase.name.value != "coverage":
        return
    targets = {
        "logToRun": {"id": seeded.run_ids[0]},
        "uploadArtifact": {"id": seeded.run_ids[0]},
        "createSnapshot": {"id": seeded.run_ids[1]},
        "updateRun": {"id": seeded.updatable_run_id},
        "getMetricHistory": {"id": seeded.run_ids[0], "key": PLAIN_METRIC},
    }.get(case.operation.definition.raw.get("operationId"), {})
    if targets and case.path_parameters:
        case.path_parameters.update(targets)


def reads_after(case: Any, response: Any) -> list[str]:
    """GETs that must answer 200 after this request succeeded: what was stored can be read back."""
    if not 200 <= response.status_code < 300 or response.status_code == 204:
        return []
    operation_id = case.operation.definition.raw.get("operationId")
    try:
        body = response.json()
    except ValueError:
        body = None
    run_id = (case.path_parameters or {}).get("id")
    if operation_id == "createRun":
        return [f"/api/runs/{body['id']}", f"/api/runs?project={quote(body['projectName'])}"]
    if operation_id in ("updateRun", "uploadArtifact", "createSnapshot"):
        return [f"/api/runs/{quote(run_id, safe='')}"]
    if operation_id == "logToRun":
        if body["duplicate"]:
            return []
        sent = case.body if isinstance(case.body, dict) else {}
        columns = sent.get("metricColumns") or {"keys": [], "keyIndex": []}
        keys = {point["key"] for point in sent.get("metrics", [])} | {columns["keys"][i] for i in columns["keyIndex"]}
        run = quote(run_id, safe="")
        other = next(seeded for seeded in SEEDED.run_ids if seeded != run_id)
        return [f"/api/runs/{run}", f"/api/runs/compare?ids={run},{other}"] + [
            f"/api/runs/{run}/metrics/{quote(key, safe='')}" for key in sorted(keys)[:5]
        ]
    if operation_id in ("createProject", "updateProject"):
        return [f"/api/projects/{body['id']}"]
    if operation_id == "commitDatasetVersion":
        version = body["version"]
        base = f"/api/projects/{quote(version['projectName'])}/datasets/{quote(version['datasetName'])}"
        return [f"{base}/versions/{version['number']}", f"{base}/versions/{version['number']}/manifest"]
    if operation_id == "createToken":
        return ["/api/tokens"]
    return []


def check_reads_back(case: Any, response: Any) -> None:
    api = Api(SERVER, SERVER.token)
    for path in reads_after(case, response):
        answer = api.session.get(api.url + path, timeout=30)
        assert answer.status_code == 200, (
            f"{case.method} {case.formatted_path} answered {response.status_code}, but then GET {path} answered "
            f"{answer.status_code}: {answer.text[:500]}\nReproduce with: {case.as_curl_command()}"
        )


# Schemathesis makes one test per operation while pytest collects, so the server runs from then:
# the operations under test are the live server's own. A server of its own, since the fuzzer
# leaves hundreds of projects, runs and tokens behind.
_DATA_ROOT = Path(tempfile.mkdtemp(prefix="runlab-fuzz-"))
_process, SERVER = start_server(_DATA_ROOT / "data")


def _stop_server() -> None:
    stop_server(_process)
    shutil.rmtree(_DATA_ROOT, ignore_errors=True)


atexit.register(_stop_server)  # also when only collecting (`--collect-only`, `-k` elsewhere)
SEEDED = seed(Api(SERVER, SERVER.token))
everyday = load_schema(SERVER, SEEDED, "fuzz").exclude(operation_id=DESTRUCTIVE)
# (`include` would widen the selection: the config's per-operation entries already include all.)
destructive = load_schema(SERVER, SEEDED, "fuzz-destructive", revocable_tokens=3).exclude(
    lambda context: context.operation.definition.raw.get("operationId") not in DESTRUCTIVE
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # pytest 9.2 names a test by its function and its parameters only, so the `[METHOD /path]`
    # that Schemathesis adds would be lost; as a parameter of its own, the server keeps it.
    if "server" in metafunc.fixturenames:
        metafunc.parametrize("server", [SERVER], ids=["live-server"], scope="module")


@pytest.fixture(scope="module", autouse=True)
def _stop_server_after_module() -> Iterator[None]:
    yield
    _stop_server()


@everyday.parametrize()
@FUZZ_SETTINGS
def test_operation_keeps_its_documented_promises(case: Any, server: RunningServer) -> None:
    follow_rules_beyond_the_schema(case)
    aim_at_seeded_objects(case, SEEDED)
    response = case.call_and_validate(base_url=server.url, checks=CHECKS)
    check_reads_back(case, response)


# Defined after the test above, so pytest runs these after every other operation.
@destructive.parametrize()
@FUZZ_SETTINGS
def test_deleting_operation_keeps_its_documented_promises(case: Any, server: RunningServer) -> None:
    case.call_and_validate(base_url=server.url, checks=CHECKS)


def test_deleting_operations_touched_only_the_objects_seeded_for_them() -> None:
    """After the whole fuzz, the admin token works and the objects the others used are intact."""
    api = Api(SERVER, SERVER.token)
    assert api("GET", f"/api/projects/{SEEDED.project_id}", 200)["name"] == PROJECT
    assert api("GET", f"/api/runs/{SEEDED.run_ids[0]}/metrics/{METRIC.replace('/', '%2F')}", 200)["total"] >= 20
    assert api("GET", f"/api/projects/{PROJECT}/datasets/{DATASET}/versions/v1", 200)["id"] == SEEDED.version_id
    assert api("GET", f"/api/runs/{SEEDED.run_ids[0]}/snapshot/notebook", 200)["notebookPath"] == "train.ipynb"
