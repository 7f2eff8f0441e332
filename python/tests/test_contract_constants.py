"""Every value the Python package copies from the contract, checked against the live server's
`/api/openapi.json`: key and path patterns, lengths, whole-number ranges, batch and chunk limits,
the words of its enums, and the error codes the client raises or branches on.

Each check reads the value where the document states it and compares it with the package's own
constant, so a change on either side alone fails here instead of as a refused request in use.
Values beyond the schemas (chunker parameters, chunk framing, error statuses, raw body limits)
are the document's `x-runlab-*` extensions, listed in `EXTENSIONS`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from conftest import PYTHON_DIR, RunningServer

from runlab import client as client_module
from runlab import config
from runlab.client import Client
from runlab.datasets import api as datasets_api
from runlab.datasets import chunking, framing, transfer
from runlab.runs import api as runs
from runlab.runs import batcher, environment

MAX_WHOLE_NUMBER = 2**53 - 1  # the contract's MAX_WHOLE_NUMBER (Number.MAX_SAFE_INTEGER)

# Values the package copies that the document states outside its schemas: the extension key
# (looked for anywhere in the document, or the part given) and what it holds.
EXTENSIONS = {
    "x-runlab-chunker": "the FastCDC parameters every client cuts with: {minBytes, averageBytes, maxBytes}",
    "x-runlab-chunk-frame": "the chunk framing of POST /api/chunks: {headerBytes, codecs: {raw, zstd}}",
    "x-runlab-error-status": "each ErrorCode's HTTP status: {code: status}",
    "uploadChunks x-runlab-max-bytes": "the largest POST /api/chunks body, as the JSON bodies state theirs",
}


@pytest.fixture(scope="module")
def document(runlab_server: RunningServer) -> Iterator[dict[str, Any]]:
    with Client(runlab_server.url, runlab_server.token) as api:
        yield api.request("GET", "/api/openapi.json")


# -- reading the document -----------------------------------------------------------------------


def operation(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for path_item in document["paths"].values():
        for candidate in path_item.values():
            if isinstance(candidate, dict) and candidate.get("operationId") == operation_id:
                return candidate
    raise AssertionError(f"the OpenAPI document has no operation {operation_id!r}")


def body(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    schema: dict[str, Any] = operation(document, operation_id)["requestBody"]["content"]["application/json"]["schema"]
    return schema


def parameter(document: dict[str, Any], operation_id: str, name: str) -> dict[str, Any]:
    for candidate in operation(document, operation_id)["parameters"]:
        if candidate["name"] == name:
            schema: dict[str, Any] = candidate["schema"]
            return schema
    raise AssertionError(f"{operation_id} has no parameter {name!r}")


def branch(schema: dict[str, Any], kind: str) -> dict[str, Any]:
    """The ``anyOf`` alternative of JSON type ``kind`` (a nullable field's non-null side)."""
    if schema.get("type") == kind:
        return schema
    for alternative in schema.get("anyOf", []):
        if alternative.get("type") == kind:
            return alternative  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind} alternative in {schema}")


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if reference is None:
        return schema
    target: Any = document
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    return target  # type: ignore[no-any-return]


def find_extension(value: Any, key: str) -> Any:
    """The first value stored under ``key`` anywhere in the document, or None."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_extension(child, key)
        if found is not None:
            return found
    return None


def stated(where: dict[str, Any], key: str, name: str | None = None) -> Any:
    """The value under ``key`` in ``where`` (the document, or a part of it); fails naming what is
    missing when the document does not state it."""
    found = find_extension(where, key)
    name = name or key
    assert found is not None, f"the OpenAPI document does not state {name}: {EXTENSIONS[name]}"
    return found


def error_codes(document: dict[str, Any]) -> set[str]:
    envelope = resolve(document, document["components"]["schemas"]["ErrorResponse"])
    return set(envelope["properties"]["error"]["properties"]["code"]["enum"])


# -- runs ---------------------------------------------------------------------------------------


def test_log_keys_follow_the_contracts_pattern_and_length(document: dict[str, Any]) -> None:
    log = body(document, "logToRun")
    create = body(document, "createRun")
    key_schemas = {
        "logToRun params": log["properties"]["params"]["propertyNames"],
        "logToRun tags": log["properties"]["tags"]["propertyNames"],
        "logToRun metrics": log["properties"]["metrics"]["items"]["properties"]["key"],
        "logToRun metricColumns": log["properties"]["metricColumns"]["properties"]["keys"]["items"],
        "createRun params": create["properties"]["params"]["propertyNames"],
        "createRun tags": create["properties"]["tags"]["propertyNames"],
        "getMetricHistory key": parameter(document, "getMetricHistory", "key"),
    }
    for where, schema in key_schemas.items():
        assert (schema["pattern"], schema["minLength"], schema["maxLength"]) == (
            batcher.LOG_KEY.pattern,
            1,
            batcher.LOG_KEY_MAX_LENGTH,
        ), where
    # JavaScript's \w is ASCII-only; Python's is not, unless told.
    assert batcher.LOG_KEY.flags & re.ASCII
    assert batcher.is_log_key("train/loss") and not batcher.is_log_key("naïve")


def test_steps_are_whole_numbers_up_to_the_contracts_largest(document: dict[str, Any]) -> None:
    log = body(document, "logToRun")["properties"]
    step = log["metrics"]["items"]["properties"]["step"]
    column_step = branch(log["metricColumns"]["properties"]["steps"]["items"], "integer")
    for schema in (step, column_step):
        assert (schema["minimum"], schema["maximum"]) == (0, batcher.MAX_STEP)
    assert batcher.MAX_STEP == MAX_WHOLE_NUMBER


def test_log_batches_stay_within_the_contracts_limits(document: dict[str, Any]) -> None:
    log = body(document, "logToRun")["properties"]
    columns = log["metricColumns"]["properties"]
    for name in ("keyIndex", "values", "steps", "timestamps"):
        assert columns[name]["maxItems"] >= batcher.MAX_BATCH_POINTS, name
    assert log["metrics"]["maxItems"] >= batcher.MAX_BATCH_POINTS
    assert batcher.MAX_BATCH_KEYS == columns["keys"]["maxItems"] == columns["keyIndex"]["items"]["maximum"] + 1
    assert batcher.MAX_BATCH_IO == log["inputs"]["maxItems"] == log["outputs"]["maxItems"]
    assert operation(document, "logToRun")["requestBody"]["x-runlab-max-bytes"] >= batcher.MAX_BATCH_BYTES
    # The fields the sender fills from queued records.
    assert set(batcher._LOG_KINDS.values()) <= set(log)


def test_metric_values_without_a_number_travel_by_the_contracts_names(document: dict[str, Any]) -> None:
    value = body(document, "logToRun")["properties"]["metrics"]["items"]["properties"]["value"]
    assert {"NaN", *batcher._NON_FINITE.values()} == set(branch(value, "string")["enum"])
    assert batcher._json_value(float("nan")) == "NaN"


def test_params_tags_and_errors_are_cut_at_the_contracts_lengths(document: dict[str, Any]) -> None:
    for operation_id in ("createRun", "logToRun"):
        properties = body(document, operation_id)["properties"]
        assert properties["params"]["additionalProperties"]["maxLength"] == runs.MAX_PARAM_LENGTH, operation_id
        assert properties["tags"]["additionalProperties"]["maxLength"] == runs.MAX_TAG_LENGTH, operation_id
    error = branch(body(document, "updateRun")["properties"]["error"], "object")["properties"]
    assert error["message"]["maxLength"] == runs.MAX_ERROR_MESSAGE_LENGTH
    assert branch(error["traceback"], "string")["maxLength"] == runs.MAX_TRACEBACK_LENGTH


def test_run_statuses_sources_and_io_kinds_are_the_contracts_words(document: dict[str, Any]) -> None:
    statuses = set(body(document, "updateRun")["properties"]["status"]["enum"])
    assert set(get_args(runs.EndStatus)) | {"running"} == statuses
    source_kinds = body(document, "createRun")["properties"]["source"]["properties"]["kind"]["enum"]
    assert set(get_args(environment.SourceKind)) == set(source_kinds)
    io_kinds = body(document, "logToRun")["properties"]["inputs"]["items"]["properties"]["kind"]["enum"]
    assert set(get_args(runs.IOKind)) == set(io_kinds)


def test_the_default_project_is_a_valid_project_name(document: dict[str, Any]) -> None:
    project = body(document, "createRun")["properties"]["project"]
    assert re.fullmatch(project["pattern"], config.DEFAULT_PROJECT)
    assert project["minLength"] <= len(config.DEFAULT_PROJECT) <= project["maxLength"]


def test_snapshots_and_environments_stay_within_the_contracts_limits(document: dict[str, Any]) -> None:
    assert body(document, "createSnapshot")["properties"]["files"]["maxItems"] == environment.MAX_SNAPSHOT_FILES
    create = body(document, "createRun")["properties"]
    assert create["moduleFiles"]["maxItems"] == environment.MAX_SNAPSHOT_FILES
    run_environment = branch(create["environment"], "object")["properties"]
    assert run_environment["platform"]["maxLength"] == environment.MAX_PLATFORM_LENGTH
    assert run_environment["hostname"]["maxLength"] == environment.MAX_HOSTNAME_LENGTH
    packages = run_environment["packages"]
    assert packages["propertyNames"]["maxLength"] == environment.MAX_PACKAGE_TEXT_LENGTH
    assert packages["additionalProperties"]["maxLength"] == environment.MAX_PACKAGE_TEXT_LENGTH
    assert len(environment.environment()["python"]) <= run_environment["python"]["maxLength"]


def test_idempotency_keys_have_a_length_the_contract_accepts(document: dict[str, Any]) -> None:
    key = uuid.uuid4().hex  # what the client sends with creates, batches and commits
    for operation_id in ("createRun", "logToRun", "commitDatasetVersion"):
        schema = body(document, operation_id)["properties"]["idempotencyKey"]
        assert schema["minLength"] <= len(key) <= schema["maxLength"], operation_id
    assert len(batcher._Batch().key) == len(key)


# -- datasets -----------------------------------------------------------------------------------


def test_dataset_names_and_version_refs_follow_the_contracts_patterns(document: dict[str, Any]) -> None:
    for operation_id in ("getDataset", "commitDatasetVersion", "getDatasetVersion", "diffDatasetVersions"):
        name = parameter(document, operation_id, "name")
        assert (name["pattern"], name["maxLength"]) == (
            datasets_api.DATASET_NAME_PATTERN,
            datasets_api.DATASET_NAME_MAX_LENGTH,
        ), operation_id
    versions = [
        parameter(document, "getDatasetVersion", "version"),
        parameter(document, "deleteDatasetVersion", "version"),
        parameter(document, "getDatasetManifest", "version"),
        parameter(document, "diffDatasetVersions", "from"),
        parameter(document, "diffDatasetVersions", "to"),
    ]
    for version in versions:
        assert version["pattern"] == datasets_api.VERSION_REF_PATTERN
    assert datasets_api._NAME.pattern == datasets_api.DATASET_NAME_PATTERN
    assert datasets_api._VERSION.pattern == datasets_api.VERSION_REF_PATTERN


def test_relative_paths_follow_the_contracts_rule(document: dict[str, Any]) -> None:
    manifest_path = body(document, "commitDatasetVersion")["properties"]["files"]["items"]["properties"]["path"]
    artifact_path = parameter(document, "uploadArtifact", "path")
    for schema in (manifest_path, artifact_path):
        assert schema["pattern"] == transfer.RELATIVE_PATH_PATTERN
    # The pattern decides: what it refuses, the client refuses to write, and says why.
    assert transfer.path_problem("a/b.txt") is None
    for unsafe in ("", "/etc/passwd", "C:/x", "a\\b", "a/../b", "a//b", "a/", "./a"):
        assert transfer.path_problem(unsafe) is not None, unsafe


def test_chunks_stay_within_the_contracts_limits(document: dict[str, Any]) -> None:
    files = body(document, "commitDatasetVersion")["properties"]["files"]["items"]["properties"]
    chunk_size = files["chunks"]["items"]["prefixItems"][1]
    assert (chunk_size["minimum"], chunk_size["maximum"]) == (0, framing.MAX_CHUNK_BYTES)
    assert chunking.MIN_CHUNK <= chunking.AVG_CHUNK <= chunking.MAX_CHUNK <= framing.MAX_CHUNK_BYTES
    assert body(document, "fetchChunks")["properties"]["hashes"]["maxItems"] == transfer.FETCH_BATCH_CHUNKS
    assert body(document, "findMissingChunks")["properties"]["hashes"]["maxItems"] >= transfer.MISSING_BATCH

    chunker = stated(document, "x-runlab-chunker")
    assert (chunker["minBytes"], chunker["averageBytes"], chunker["maxBytes"]) == (
        chunking.MIN_CHUNK,
        chunking.AVG_CHUNK,
        chunking.MAX_CHUNK,
    )
    frame = stated(document, "x-runlab-chunk-frame")
    assert frame["headerBytes"] == framing.HEADER.size
    assert frame["codecs"] == {"raw": framing.CODEC_RAW, "zstd": framing.CODEC_ZSTD}
    upload_limit = stated(
        operation(document, "uploadChunks")["requestBody"], "x-runlab-max-bytes", "uploadChunks x-runlab-max-bytes"
    )
    assert upload_limit > transfer.UPLOAD_BUNDLE_BYTES + framing.MAX_CHUNK_BYTES


# -- errors -------------------------------------------------------------------------------------

# Where the package names an error code: raising one, or comparing with one.
_CODE_USES = (
    re.compile(r"RunlabError\(\s*\"(\w+)\""),
    re.compile(r"super\(\)\.__init__\(\s*\"(\w+)\""),
    re.compile(r"\bcode\s*[!=]=\s*\"(\w+)\""),
    re.compile(r"\bcode\s+(?:not\s+)?in\s+\(([^)]*)\)"),
)


def codes_named_in_the_package() -> dict[str, set[str]]:
    """code → the files that name it."""
    named: dict[str, set[str]] = {}
    package = PYTHON_DIR / "runlab"
    for source in sorted(package.rglob("*.py")):
        text = source.read_text(encoding="utf-8")
        for use in _CODE_USES:
            for match in use.finditer(text):
                for code in re.findall(r"\w+", match.group(1)):
                    named.setdefault(code, set()).add(str(source.relative_to(package)))
    return named


def test_every_error_code_the_client_names_is_the_contracts_or_its_own(document: dict[str, Any]) -> None:
    server_codes = error_codes(document)
    named = codes_named_in_the_package()
    # The scan finds what the client raises and branches on (a scan that found nothing proves nothing).
    assert {"unreachable", "payload_too_large", "internal", "data_corrupt", "not_found"} <= set(named)
    unknown = {
        code: files for code, files in named.items() if code not in server_codes | client_module.CLIENT_ERROR_CODES
    }
    assert unknown == {}, "codes that are neither the server's (ErrorCode) nor listed in CLIENT_ERROR_CODES"
    # A client-only code the server also used would be one word for two conditions.
    assert client_module.CLIENT_ERROR_CODES.isdisjoint(server_codes)
    # Codes given to answers without the server's envelope are the server's own words.
    assert set(client_module._CODE_BY_STATUS.values()) <= server_codes
    assert client_module.code_for_status(502) in server_codes
    assert client_module.code_for_status(418) in client_module.CLIENT_ERROR_CODES

    statuses = stated(document, "x-runlab-error-status")
    for status, code in client_module._CODE_BY_STATUS.items():
        assert statuses[code] == status, code
