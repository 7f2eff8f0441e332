"""The HTTP API of the serving runtime: a plain ASGI application (run by uvicorn with httptools).

No framework on the hot path: one dict lookup routes the fixed paths, ``/v2/models/...`` is split
by hand, bodies are parsed by orjson and answers written by orjson (numpy arrays included).

Endpoints, as KServe and MLServer implement the Open Inference Protocol v2 (REST):
    GET  /v2                                   server metadata
    GET  /v2/health/live | /v2/health/ready
    GET  /v2/models/{name}[/versions/{v}]      model metadata (inputs and outputs from the signature)
    GET  /v2/models/{name}[/versions/{v}]/ready
    POST /v2/models/{name}[/versions/{v}]/infer
and MLflow's scoring server: POST /invocations, GET /ping, /health, /version; plus /metrics
(Prometheus) and GET /runlab/status.

Errors are ``{"error": "..."}``: 400 the request does not fit the model, 404 no such model or
version, 503 not loaded yet (with Retry-After; infer requests first wait up to
``load_wait_seconds`` for the load).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import time
import uuid
from typing import Any

import orjson

from runlab import __version__
from runlab.serving import metrics
from runlab.serving.batching import PredictionFailed
from runlab.serving.codec import (
    Decoded,
    InputError,
    decode_mlflow,
    decode_oip_inputs,
    encode_oip_outputs,
    metadata_fields,
    mlflow_predictions,
)
from runlab.serving.router import Revision, Slot
from runlab.serving.runtime import Runtime
from runlab.serving.telemetry import prediction_record

JSON = b"application/json"
_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
# Shadow copies wait behind at most this many queued requests; past it they are dropped (counted).
MAX_SHADOW_QUEUE = 256


# Every answer may be read by a page on another origin: the endpoint takes no cookies or
# credentials (it listens on loopback, or behind the user's own ingress), and the try-it box in
# JupyterLab reads which version answered from the headers.
_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"X-Runlab-Model-Version, X-Runlab-Role, X-Runlab-Revision"),
]
_PREFLIGHT = [
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type, X-Request-Id"),
    (b"access-control-max-age", b"600"),
]


class Answer(Exception):
    """An error answer: ``{"error": message}`` with ``status`` (and extra headers)."""

    def __init__(self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []
        self.counted = False  # already in the request metrics (with its model and role)


class ServingApp:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.request_metrics = metrics.RequestMetrics()
        self.shadow_tasks: set[asyncio.Task] = set()
        self._routes = {
            ("GET", "/v2"): self._server_metadata,
            ("GET", "/v2/"): self._server_metadata,
            ("GET", "/v2/health/live"): self._live,
            ("GET", "/v2/health/ready"): self._ready,
            ("GET", "/ping"): self._ping,
            ("GET", "/health"): self._ping,
            ("GET", "/version"): self._version,
            ("GET", "/metrics"): self._metrics,
            ("GET", "/runlab/status"): self._status,
        }

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = scope["method"]
        path = scope["path"]
        if method == "OPTIONS":
            # A browser's preflight (the Deploy dialog's try-it box runs on JupyterLab's origin).
            await send({"type": "http.response.start", "status": 204, "headers": [*_CORS, *_PREFLIGHT]})
            await send({"type": "http.response.body", "body": b""})
            return
        try:
            handler = self._routes.get((method, path))
            if handler is not None:
                status, body, headers, content_type = await handler()
            elif path.startswith("/v2/models/"):
                status, body, headers, content_type = await self._models(scope, receive, method, path)
            elif path == "/invocations":
                if method != "POST":
                    raise Answer(405, "POST a JSON body to /invocations")
                status, body, headers, content_type = await self._invocations(scope, await _read_body(receive))
            else:
                raise Answer(404, f"no such endpoint: {method} {path} (see /v2 and /invocations)")
        except Answer as answer:
            status, headers, content_type = answer.status, answer.headers, JSON
            prediction = path == "/invocations" or path.endswith("/infer")
            if prediction and not answer.counted:
                self._count_unrouted(status)
            if path == "/invocations":
                # MLflow's scoring server answers errors as {error_code, message}; "error" as OIP has it.
                code = _MLFLOW_ERROR_CODES.get(status, "INTERNAL_ERROR")
                body = orjson.dumps({"error_code": code, "message": answer.message, "error": answer.message})
            else:
                body = _error(answer.message)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", b"%d" % len(body)), *_CORS, *headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.runtime.start(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.shadow_tasks:
                    await asyncio.wait(list(self.shadow_tasks), timeout=5)
                await asyncio.get_running_loop().run_in_executor(None, self.runtime.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -- health and metadata ---------------------------------------------------------------------

    def _revision_headers(self) -> list[tuple[bytes, bytes]]:
        revision = self.runtime.revision
        if revision is None or revision.number is None:
            return []
        return [(b"x-runlab-revision", str(revision.number).encode())]

    async def _server_metadata(self) -> tuple:
        body = {"name": "runlab", "version": __version__, "extensions": []}
        return 200, orjson.dumps(body), [], JSON

    async def _live(self) -> tuple:
        return 200, b'{"live":true}', [], JSON

    async def _ready(self) -> tuple:
        revision = self.runtime.revision
        if revision is not None and revision.ready:
            return 200, b'{"ready":true}', self._revision_headers(), JSON
        body = {"ready": False, "error": self._not_ready_reason(revision)}
        return 503, orjson.dumps(body), [(b"retry-after", b"1"), *self._revision_headers()], JSON

    async def _ping(self) -> tuple:
        revision = self.runtime.revision
        if revision is not None and revision.ready:
            return 200, b"\n", self._revision_headers(), b"text/plain"
        return 503, _error(self._not_ready_reason(revision)), [(b"retry-after", b"1")], JSON

    async def _version(self) -> tuple:
        return 200, __version__.encode(), [], b"text/plain"

    async def _metrics(self) -> tuple:
        body = await asyncio.get_running_loop().run_in_executor(None, metrics.render)
        return 200, body, [], metrics.CONTENT_TYPE.encode()

    async def _status(self) -> tuple:
        revision = self.runtime.revision
        if revision is None:
            return 200, orjson.dumps({"revision": None, "ready": False, "slots": []}), [], JSON
        return 200, orjson.dumps(revision.status()), self._revision_headers(), JSON

    def _not_ready_reason(self, revision: Revision | None) -> str:
        if revision is None:
            return "the runtime is fetching what to serve"
        loading = [f"{slot.role} {slot.model_name} v{slot.version_label}" for slot in revision.slots if not slot.ready]
        return "loading " + ", ".join(loading) if loading else "not ready"

    # -- /v2/models/... ---------------------------------------------------------------------------

    async def _models(self, scope: dict, receive: Any, method: str, path: str) -> tuple:
        parts = path[len("/v2/models/") :].split("/")
        name = parts[0]
        version = None
        rest = parts[1:]
        if len(rest) >= 2 and rest[0] == "versions":
            version, rest = rest[1], rest[2:]
        action = rest[0] if rest else ""
        if len(rest) > 1 or action not in ("", "ready", "infer"):
            raise Answer(404, f"no such endpoint: {method} {path}")
        if action == "infer":
            if method != "POST":
                raise Answer(405, f"POST the inference request to {path}")
            return await self._infer(scope, await _read_body(receive), name, version)
        if method != "GET":
            raise Answer(405, f"use GET on {path}")
        revision = self.runtime.revision
        if revision is None and action == "ready":
            raise Answer(503, "the runtime is fetching what to serve", [(b"retry-after", b"1")])
        if revision is None:  # metadata: worth waiting for (bounded), as infer does
            revision = await self._revision_for_request(time.perf_counter())
        slot = self._slot(revision, name, version)
        if action == "ready":
            body = {"name": name, "ready": slot is not None and slot.ready if version else revision.ready}
            ready = body["ready"]
            return (200 if ready else 503), orjson.dumps(body), self._revision_headers(), JSON
        return 200, orjson.dumps(self._model_metadata(revision, name, version, slot)), self._revision_headers(), JSON

    def _slot(self, revision: Revision, name: str, version: str | None) -> Slot | None:
        if not revision.serves(name):
            raise Answer(404, f"model '{name}' is not served here; this server serves '{revision.stable.model_name}'")
        if version is None:
            return None
        slot = revision.by_version(version)
        if slot is None:
            served = ", ".join(revision.versions()) or "none"
            raise Answer(404, f"version '{version}' of model '{name}' is not served here (served versions: {served})")
        return slot

    def _model_metadata(self, revision: Revision, name: str, version: str | None, slot: Slot | None) -> dict:
        described = slot or revision.stable
        signature = described.signature or {}
        return {
            "name": name,
            "versions": [version] if version else revision.versions(),
            "platform": described.flavor or "",
            "inputs": metadata_fields(signature.get("inputs")),
            "outputs": metadata_fields(signature.get("outputs"), "predict"),
        }

    # -- predictions --------------------------------------------------------------------------------

    async def _revision_for_request(self, started: float) -> Revision:
        revision = self.runtime.revision
        if revision is None:
            await self._wait(self.runtime.published.wait(), started, "the runtime is fetching what to serve")
            revision = self.runtime.revision
        return revision

    async def _wait(self, waiting: Any, started: float, reason: str) -> None:
        remaining = self.runtime.options.load_wait_seconds - (time.perf_counter() - started)
        try:
            await asyncio.wait_for(waiting, max(remaining, 0.001))
        except asyncio.TimeoutError:
            raise Answer(503, f"{reason}; retry shortly", [(b"retry-after", b"1")]) from None

    async def _ready_slot(self, revision: Revision, slot: Slot, started: float) -> Slot:
        if not slot.ready:
            await self._wait(slot.loaded.wait(), started, f"model '{slot.model_name}' v{slot.version_label} is loading")
            if not slot.ready:
                raise Answer(503, f"model '{slot.model_name}' could not be loaded", [(b"retry-after", b"5")])
        return slot

    async def _infer(self, scope: dict, body: bytes, name: str, version: str | None) -> tuple:
        started = time.perf_counter()
        revision = await self._revision_for_request(started)
        direct = self._slot(revision, name, version)
        request = _parse_json(body)
        if not isinstance(request, dict):
            raise Answer(400, "the body must be a JSON object {id?, parameters?, inputs: [...], outputs?}")
        request_id = request.get("id")
        if request_id is not None and not isinstance(request_id, str):
            raise Answer(400, "'id' must be a string")
        request_id = request_id or _header(scope, b"x-request-id")
        slot = direct or revision.choose(request_id)
        slot = await self._ready_slot(revision, slot, started)
        wanted = _wanted_outputs(request.get("outputs"))

        def decode(target: Slot) -> Decoded:
            return decode_oip_inputs(target.schema, request.get("inputs"))

        outputs = await self._predict(revision, slot, decode, request_id, started, direct is None)
        if wanted is not None:
            missing = [n for n in wanted if n not in outputs]
            if missing:
                self._count(slot, 400, started)
                raise _counted(
                    Answer(400, f"unknown output '{missing[0]}': the model's outputs are {', '.join(outputs)}")
                )
        answer = {
            "model_name": slot.model_name,
            "model_version": slot.version_label,
            "id": request_id or uuid.uuid4().hex,
            "parameters": {},
            "outputs": encode_oip_outputs(outputs, wanted),
        }
        return 200, orjson.dumps(answer, option=_DUMP_OPTIONS), self._answer_headers(slot), JSON

    async def _invocations(self, scope: dict, body: bytes) -> tuple:
        started = time.perf_counter()
        revision = await self._revision_for_request(started)
        content_type = (_header(scope, b"content-type") or "application/json").split(";")[0].strip().lower()
        if content_type == "text/csv":
            request: Any = {"dataframe_split": _csv_split(body)}
        elif content_type in ("application/json", "application/*+json", "*/*", ""):
            request = _parse_json(body)
        else:
            raise Answer(415, f"Content-Type {content_type} is not supported: send application/json or text/csv")
        request_id = _header(scope, b"x-request-id")
        slot = await self._ready_slot(revision, revision.choose(request_id), started)

        def decode(target: Slot) -> Decoded:
            return decode_mlflow(target.schema, request)

        outputs = await self._predict(revision, slot, decode, request_id, started, True)
        body = orjson.dumps({"predictions": mlflow_predictions(outputs)}, option=_DUMP_OPTIONS)
        return 200, body, self._answer_headers(slot), JSON

    def _answer_headers(self, slot: Slot) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-runlab-model-version", slot.version_label.encode()),
            (b"x-runlab-role", slot.role.encode()),
            *self._revision_headers(),
        ]

    async def _predict(
        self, revision: Revision, slot: Slot, decode: Any, request_id: str | None, started: float, split: bool
    ) -> dict:
        """Decode for ``slot``, predict (batched), copy to the shadow when its share says so, count and sample."""
        try:
            decoded = decode(slot)
        except InputError as error:
            self._count(slot, 400, started)
            raise _counted(Answer(400, str(error))) from None
        if split:
            shadow = revision.shadow_copy(request_id)
            if shadow is not None:
                request_id = request_id or uuid.uuid4().hex
                self._copy_to_shadow(shadow, decode, decoded, slot, request_id)
        else:
            shadow = None
        try:
            outputs = await slot.batcher.predict(decoded)
        except PredictionFailed as error:
            self._count(slot, 500, started, decoded, None, request_id, str(error), always=shadow is not None)
            raise _counted(Answer(500, str(error))) from None
        self._count(slot, 200, started, decoded, outputs, request_id, None, always=shadow is not None)
        return outputs

    def _count(
        self,
        slot: Slot,
        status: int,
        started: float,
        decoded: Decoded | None = None,
        outputs: dict | None = None,
        request_id: str | None = None,
        error: str | None = None,
        *,
        always: bool = False,
    ) -> None:
        seconds = time.perf_counter() - started
        self.request_metrics.observe(slot.model_name, slot.version_label, slot.role, status, seconds)
        telemetry = self.runtime.telemetry
        if telemetry is None:
            return
        version_id = slot.model_version_id or ""
        telemetry.count(slot.role, version_id, status, seconds * 1000.0 if slot.role != "shadow" else None)
        # A request copied to the shadow is always logged on both sides, so the two answers can be compared.
        if decoded is not None and (
            always or (random.random() < self.runtime.sample_rate and self.runtime.sample_budget.take())
        ):
            telemetry.record(
                prediction_record(
                    request_id or uuid.uuid4().hex,
                    slot.role,
                    version_id,
                    seconds * 1000.0,
                    decoded.columns,
                    decoded.array,
                    outputs,
                    status,
                    error,
                )
            )

    def _count_unrouted(self, status: int) -> None:
        """An answer given before a slot was chosen (unknown model, not loaded yet, bad JSON)."""
        self.request_metrics.observe("", "", "", status, 0.0)
        revision = self.runtime.revision
        if self.runtime.telemetry is not None and revision is not None:
            # The deployment's error rate counts them: they are requests it did not answer.
            self.runtime.telemetry.count("stable", revision.stable.model_version_id or "", status, None)

    def _copy_to_shadow(self, shadow: Slot, decode: Any, decoded: Decoded, slot: Slot, request_id: str) -> None:
        if shadow.batcher.queued >= MAX_SHADOW_QUEUE:
            metrics.SHADOW_DROPPED.labels(shadow.model_name, shadow.version_label).inc()
            return
        if shadow.signature != slot.signature:
            try:
                decoded = decode(shadow)
            except InputError as error:
                self._count(shadow, 400, time.perf_counter(), None, None, request_id, str(error))
                return
        task = asyncio.get_running_loop().create_task(self._shadow(shadow, decoded, request_id))
        self.shadow_tasks.add(task)
        task.add_done_callback(self.shadow_tasks.discard)

    async def _shadow(self, shadow: Slot, decoded: Decoded, request_id: str) -> None:
        """Off the response path: the shadow's answer is counted and logged, never returned."""
        started = time.perf_counter()
        try:
            outputs = await shadow.batcher.predict(decoded)
        except PredictionFailed as error:
            self._count(shadow, 500, started, decoded, None, request_id, str(error), always=True)
            return
        self._count(shadow, 200, started, decoded, outputs, request_id, None, always=True)


def _counted(answer: Answer) -> Answer:
    answer.counted = True
    return answer


# The largest request body read (RUNLAB_SERVING_MAX_BODY_BYTES): a bigger one is refused with 413
# before it fills the worker's memory; send large inputs as several requests.
MAX_BODY_BYTES = int(os.environ.get("RUNLAB_SERVING_MAX_BODY_BYTES", str(64 * 1024 * 1024)))


async def _read_body(receive: Any) -> bytes:
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
        return body
    chunks, size = [body], len(body)
    while message.get("more_body"):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> Answer:
    return Answer(
        413,
        f"the request body is larger than {MAX_BODY_BYTES} bytes (RUNLAB_SERVING_MAX_BODY_BYTES): "
        "send fewer rows per request",
    )


def _parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Answer(400, f"the body is not valid JSON: {error}") from None


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _wanted_outputs(outputs: Any) -> list[str] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, list) or not all(
        isinstance(o, dict) and isinstance(o.get("name"), str) for o in outputs
    ):
        raise Answer(400, "'outputs' must be a list of {name}")
    return [o["name"] for o in outputs]


def _csv_split(body: bytes) -> dict:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8", "replace"))))
    if not rows:
        raise Answer(400, "the CSV body is empty: send a header row and one row per prediction")
    return {"columns": rows[0], "data": [[_csv_value(v) for v in row] for row in rows[1:] if row]}


def _csv_value(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None if text == "" else text


_MLFLOW_ERROR_CODES = {
    400: "BAD_REQUEST",
    404: "RESOURCE_DOES_NOT_EXIST",
    413: "BAD_REQUEST",
    415: "BAD_REQUEST",
    503: "TEMPORARILY_UNAVAILABLE",
}


def _error(message: str) -> bytes:
    return orjson.dumps({"error": message})
