"""One worker's state: what it serves, how it gets it, and how it swaps to a new revision.

The event loop only reads ``Runtime.revision``; a control thread builds revisions (downloading
and loading models off the loop) and publishes each with ``loop.call_soon_threadsafe``. The first
revision is published before its models are loaded, so ``/ready`` answers 503 and infer requests
wait for the load; later revisions are published only once every slot is loaded, so a swap never
makes a request wait or fail.

Sources of models:
- ``--model-dir DIR`` (plus ``--canary-dir`` / ``--shadow-dir`` for a local split): a directory;
- ``REF`` (``churn@production``): the registry, through ``runlab.models.registry.download_version``;
- ``--deployment ID --server URL``: the deployment's ``ServingSpec``, re-polled every ``pollSeconds``.
  With ``--revision N`` (or RUNLAB_DEPLOYMENT_REVISION=N, as a Kubernetes pod template sets) the
  runtime serves that one revision for its whole life: it fetches ``spec?revision=N`` and never
  swaps, because there a new revision is rolled out as new pods, not inside a running one.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runlab.serving import metrics
from runlab.serving.batching import Batcher
from runlab.serving.codec import compile_signature
from runlab.serving.router import Revision, Slot
from runlab.serving.telemetry import FileSink, Reporter, SampleBudget, Telemetry, replica_name

FATAL_EXIT = 3  # a worker's "this cannot work, do not restart me" (the parent exits 1)


class FatalStartError(Exception):
    """The runtime cannot serve as asked (no such model, token refused …): exit 1 with this message."""


@dataclass
class Options:
    port: int
    host: str = "127.0.0.1"
    worker: int = 0
    model_dir: str | None = None
    name: str | None = None
    canary_dir: str | None = None
    shadow_dir: str | None = None
    percent: float = 10.0
    ref: str | None = None
    deployment: str | None = None
    # Serve exactly this revision of the deployment, never a newer one (a Kubernetes pod's pin).
    revision: int | None = None
    server: str | None = None
    token: str | None = None
    url: str | None = None
    project: str | None = None
    cache_dir: str | None = None
    load_wait_seconds: float = 10.0
    max_batch_rows: int = 1024
    prediction_log: str | None = None
    sample_rate: float = 1.0
    extra: dict = field(default_factory=dict)


class Runtime:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.revision: Revision | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.published: asyncio.Event | None = None
        # Threads for predict calls: one per slot in flight at a time, plus room for a swap's overlap.
        self.executor = ThreadPoolExecutor(max_workers=6, thread_name_prefix="runlab-predict")
        self.telemetry: Telemetry | None = None
        self.reporter: Reporter | None = None
        self.sample_rate = 0.0
        self.sample_budget = SampleBudget(None)
        self.poll_seconds = 5.0
        self.spec_revision_seen = 0
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.fatal: str | None = None
        self.models: dict[str, tuple[Any, Batcher, float]] = {}  # cache key → (model, batcher, load seconds)
        self.control: threading.Thread | None = None
        self.client: Any = None

    # -- called on the event loop ----------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.published = asyncio.Event()
        options = self.options
        if options.deployment:
            self.telemetry = Telemetry()
            self.client = DeploymentClient(
                options.server or "", options.token or "", options.deployment, revision=options.revision
            )
            self.reporter = Reporter(
                self.telemetry,
                self.client.report,
                interval=lambda: self.poll_seconds,
                revision=lambda: self.revision.number if self.revision and self.revision.number else 1,
                replica=replica_name(options.port, options.worker),
                on_revision=self._server_revision,
            )
            self.reporter.start()
            target = self._serve_deployment
        else:
            if options.prediction_log:
                self.telemetry = Telemetry()
                self.sample_rate = options.sample_rate
                self.reporter = Reporter(
                    self.telemetry,
                    FileSink(Path(options.prediction_log)),
                    interval=lambda: 1.0,
                    revision=lambda: 1,
                    replica=replica_name(options.port, options.worker),
                )
                self.reporter.start()
            target = self._serve_local
        self.control = threading.Thread(target=self._control, args=(target,), name="runlab-control", daemon=True)
        self.control.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        if self.reporter is not None:
            self.reporter.stop(flush=True)
        self.executor.shutdown(wait=False, cancel_futures=False)

    def _publish(self, revision: Revision) -> None:
        def publish() -> None:
            self.revision = revision
            self.published.set()

        self.loop.call_soon_threadsafe(publish)

    # -- the control thread ----------------------------------------------------------------------

    def _control(self, target: Any) -> None:
        try:
            target()
        except FatalStartError as error:
            self.fatal = str(error)
            print(f"runlab serve-model: {error}", file=sys.stderr, flush=True)
            os._exit(FATAL_EXIT)
        except Exception as error:  # a bug: say so and let the parent restart this worker
            print(
                f"runlab serve-model: the worker failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True
            )
            os._exit(1)

    def _serve_local(self) -> None:
        options = self.options
        if options.ref:
            directory, slot = self._resolve_ref(options.ref)
            specs = [(slot, directory)]
        else:
            directory = Path(options.model_dir or "")
            name = options.name or directory.resolve().name
            specs = [(Slot("stable", name, None, None, 100.0), directory)]
            for role, second in (("canary", options.canary_dir), ("shadow", options.shadow_dir)):
                if second:
                    percent = options.percent
                    specs.append((Slot(role, name, None, None, percent), Path(second)))
                    if role == "canary":
                        specs[0][0].percent = 100.0 - percent
        # Versions of local directories: 1 for the stable one, 2 for the second (so answers say which).
        for number, (slot, _) in enumerate(specs, start=1):
            if slot.version is None:
                slot.version = number
                slot.model_version_id = f"local-{number}"
        for slot, directory in specs:
            _describe_from_mlmodel(slot, directory)
        revision = Revision(None, specs[0][0].model_name, [slot for slot, _ in specs])
        self._load_first(revision, [lambda d=d: d for _, d in specs])

    def _resolve_ref(self, ref: str) -> tuple[Path, Slot]:
        from runlab import config
        from runlab.client import RunlabError, ServerUnreachable
        from runlab.models import registry

        options = self.options
        config.configure(url=options.url, token=options.token, project=options.project)
        try:
            version, directory = registry.download_version(ref)
        except ServerUnreachable as error:
            raise FatalStartError(
                f"{error.message}: start the companion server or pass --url / set RUNLAB_URL"
            ) from None
        except RunlabError as error:
            raise FatalStartError(f"cannot serve {ref!r}: {error}") from None
        slot = Slot(
            "stable",
            version.get("modelName") or ref.split("@", 1)[0],
            version.get("version"),
            version.get("id"),
            100.0,
            flavor=version.get("flavor"),
            signature=version.get("signature"),
        )
        slot.schema = compile_signature(slot.signature)
        return Path(directory), slot

    def _load_first(self, revision: Revision, directories: list[Any]) -> None:
        """Publish the revision at once (not ready), then load its slots."""
        for slot in revision.slots:
            slot.loaded = asyncio.Event()
        self._publish(revision)
        for slot, directory in zip(revision.slots, directories, strict=True):
            started = time.perf_counter()
            try:
                model = self._load(directory())
            except FatalStartError:
                raise
            except Exception as error:
                raise FatalStartError(f"cannot load the {slot.role} model: {type(error).__name__}: {error}") from None
            self._attach(slot, model, time.perf_counter() - started)
        self.loop.call_soon_threadsafe(lambda: [s.loaded.set() for s in revision.slots])

    def _load(self, directory: Path) -> Any:
        from runlab.models.flavors import load_model_dir

        if not Path(directory).is_dir():
            raise FatalStartError(
                f"{str(directory)!r} is not a directory: pass a model directory (with an MLmodel file)"
            )
        return load_model_dir(directory)

    def _attach(self, slot: Slot, model: Any, seconds: float, batcher: Batcher | None = None) -> None:
        label = (slot.model_name, slot.version_label)
        if batcher is None:
            _warm_up(model, slot)
            batch_size = metrics.BATCH_SIZE.labels(*label)
            predict_time = metrics.PREDICT_DURATION.labels(*label)

            def on_batch(rows: int, took: float) -> None:
                batch_size.observe(rows)
                predict_time.observe(took)

            batcher = Batcher(
                model,
                self.executor,
                output_name=_output_name(model, slot),
                max_rows=self.options.max_batch_rows,
                on_batch=on_batch,
            )
        slot.load_seconds = seconds
        if slot.signature is None and getattr(model, "signature", None):
            slot.signature = model.signature
            slot.schema = compile_signature(model.signature)
        slot.flavor = slot.flavor or getattr(model, "flavor", None)
        metrics.MODEL_LOAD_SECONDS.labels(*label).set(seconds)
        metrics.MODEL_READY.labels(*label, slot.role).set(1)
        # The batcher is what makes a slot ready; assigned last, on the loop.
        self.loop.call_soon_threadsafe(setattr, slot, "batcher", batcher)
        if slot.model_version_id:
            self.models[slot.model_version_id] = (model, batcher, seconds)

    # -- deployment mode ---------------------------------------------------------------------------

    def _server_revision(self, revision: int) -> None:
        """A telemetry answer named the deployment's revision: newer than ours → fetch the spec now
        (unless pinned: a pinned runtime is replaced by new pods, it does not swap)."""
        if self.options.revision is not None:
            return
        current = self.revision.number if self.revision and self.revision.number else 0
        if revision > current:
            self.wake.set()

    def _serve_deployment(self) -> None:
        client = self.client
        spec = client.spec(first=True)
        self._apply_settings(spec)
        revision = self._revision_from_spec(spec)
        self._load_first(revision, [lambda s=s: self._download(s) for s in spec["slots"]])
        self.spec_revision_seen = spec["revision"]
        failures = 0
        while not self.stopping.is_set():
            self.wake.wait(self.poll_seconds if not failures else min(self.poll_seconds * 2**failures, 60.0))
            self.wake.clear()
            if self.stopping.is_set():
                return
            try:
                spec = client.spec()
                self._apply_settings(spec)
                if self.options.revision is None and spec["revision"] != (
                    self.revision.number if self.revision else None
                ):
                    self._swap(spec)
                failures = 0
            except Exception as error:
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    print(
                        f"runlab serve-model: could not update the spec ({error}); serving the current revision",
                        file=sys.stderr,
                        flush=True,
                    )

    def _apply_settings(self, spec: dict) -> None:
        self.poll_seconds = float(spec.get("pollSeconds") or 5.0)
        self.sample_rate = float(spec.get("predictionSampleRate") or 0.0)
        limit = spec.get("predictionLimitPerSecond")
        if self.sample_budget.per_second != limit:
            self.sample_budget = SampleBudget(float(limit) if limit else None)

    def _revision_from_spec(self, spec: dict) -> Revision:
        slots = []
        for entry in spec["slots"]:
            slot = Slot(
                entry["role"],
                entry["modelName"],
                entry["version"],
                entry["modelVersionId"],
                float(entry["percent"]),
                flavor=entry.get("flavor"),
                signature=entry.get("signature"),
            )
            slot.schema = compile_signature(slot.signature)
            slots.append(slot)
        if not any(slot.role == "stable" for slot in slots):
            raise FatalStartError(f"deployment {spec.get('deploymentId')}: the spec has no stable slot")
        return Revision(
            spec["revision"],
            spec.get("name") or slots[0].model_name,
            slots,
            float(spec.get("predictionSampleRate") or 0.0),
        )

    def _swap(self, spec: dict) -> None:
        """Load the new revision's slots (reusing loaded versions), then switch to it in one step."""
        revision = self._revision_from_spec(spec)
        for entry, slot in zip(spec["slots"], revision.slots, strict=True):
            slot.loaded = asyncio.Event()
            cached = self.models.get(slot.model_version_id)
            if cached is not None:
                model, batcher, seconds = cached
                self._attach(slot, model, seconds, batcher)
            else:
                started = time.perf_counter()
                model = self._load(self._download(entry))
                self._attach(slot, model, time.perf_counter() - started)
        old = self.revision

        def switch() -> None:
            for slot in revision.slots:
                slot.loaded.set()
            self.revision = revision

        # After the batcher assignments queued by _attach: call_soon_threadsafe keeps the order.
        self.loop.call_soon_threadsafe(switch)
        print(
            f"runlab serve-model: now serving revision {revision.number} "
            f"({', '.join(f'{s.role} v{s.version} {s.percent:g}%' for s in revision.slots)})",
            file=sys.stderr,
            flush=True,
        )
        if old is not None:
            kept = {slot.model_version_id for slot in revision.slots}
            kept_roles = {(slot.model_version_id, slot.role) for slot in revision.slots}
            for slot in old.slots:
                if slot.model_version_id not in kept:
                    self.models.pop(slot.model_version_id, None)
                if (slot.model_version_id, slot.role) not in kept_roles:  # gone, or promoted to another role
                    metrics.MODEL_READY.labels(slot.model_name, slot.version_label, slot.role).set(0)

    def _download(self, entry: dict) -> Path:
        return self.client.download(entry, Path(self.options.cache_dir) if self.options.cache_dir else default_cache())


def _describe_from_mlmodel(slot: Slot, directory: Path) -> None:
    """Signature and flavor from the MLmodel file, before the (slow) load: metadata answers at once."""
    from runlab.models import signature as signatures
    from runlab.models.flavors import read_mlmodel

    try:
        mlmodel = read_mlmodel(directory)
        slot.signature = signatures.from_mlflow(mlmodel.get("signature"))
    except Exception:
        return  # the load says what is wrong
    slot.schema = compile_signature(slot.signature)
    flavors = mlmodel.get("flavors") or {}
    slot.flavor = next((name for name in ("sklearn", "onnx") if name in flavors), "python" if flavors else None)


def _warm_up(model: Any, slot: Slot) -> None:
    """One prediction on the input example before the slot is ready, so the first request is not
    the one that pays for lazy imports and cold caches."""
    from runlab.serving.batching import Batcher as _Batcher
    from runlab.serving.codec import InputError, decode_mlflow

    example = getattr(model, "input_example", None)
    if example is None:
        return
    schema = slot.schema if slot.schema.kind != "free" else compile_signature(getattr(model, "signature", None))
    body = {"dataframe_split": example} if isinstance(example, dict) else {"instances": example}
    try:
        decoded = decode_mlflow(schema, body)
        _Batcher(model, None)._call(decoded.array, decoded.columns)  # type: ignore[arg-type]
    except (InputError, Exception):
        pass  # the example may not fit the model as served; requests will tell


def _output_name(model: Any, slot: Slot) -> str:
    signature = slot.signature or getattr(model, "signature", None) or {}
    outputs = signature.get("outputs") or []
    if len(outputs) == 1 and outputs[0].get("name"):
        return outputs[0]["name"]
    return "predict"


def default_cache() -> Path:
    """The registry's cache (keyed by version id, like ours): a version downloaded by either is reused."""
    from runlab.models.registry import cache_root

    return cache_root()


class DeploymentClient:
    """The three deployment-scope routes of the companion server, with the deployment's token."""

    def __init__(self, server: str, token: str, deployment: str, revision: int | None = None) -> None:
        import requests

        self.base = server.rstrip("/")
        self.deployment = deployment
        self.revision = revision
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.requests = requests

    def _url(self, tail: str) -> str:
        return f"{self.base}/api/deployments/{self.deployment}/{tail}"

    def spec(self, first: bool = False) -> dict:
        deadline = time.monotonic() + 30
        delay = 0.2
        while True:
            try:
                params = {"revision": self.revision} if self.revision is not None else None
                response = self.session.get(self._url("spec"), params=params, timeout=10)
            except self.requests.RequestException as error:
                if first and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    continue
                if first:
                    raise FatalStartError(
                        f"the companion server at {self.base} cannot be reached ({error}): start it or fix --server"
                    ) from None
                raise
            if response.status_code in (401, 403):
                message = (
                    f"the companion server refused the deployment token ({response.status_code}): set RUNLAB_TOKEN "
                    f"to deployment {self.deployment}'s token"
                )
                if first:
                    raise FatalStartError(message)
                raise RuntimeError(message)
            if response.status_code == 404:
                message = f"deployment {self.deployment!r} does not exist on {self.base}"
                if self.revision is not None:
                    message = (
                        f"deployment {self.deployment!r} on {self.base} has no revision {self.revision} "
                        f"(--revision / RUNLAB_DEPLOYMENT_REVISION): {_error_message(response)}"
                    )
                if first:
                    raise FatalStartError(message)
                raise RuntimeError(message)
            response.raise_for_status()
            spec = response.json()
            if self.revision is not None and spec.get("revision") != self.revision:
                # A server that ignores ?revision= answers its current one: serving that would break the pin.
                message = (
                    f"asked {self.base} for revision {self.revision} of deployment {self.deployment!r} and got "
                    f"revision {spec.get('revision')}: this companion server does not serve pinned revisions "
                    "(upgrade it)"
                )
                if first:
                    raise FatalStartError(message)
                raise RuntimeError(message)
            return spec

    def download(self, entry: dict, cache: Path) -> Path:
        """The slot's files in ``cache/<modelVersionId>`` (downloaded once; written whole or not at all)."""
        version_id = entry["modelVersionId"]
        target = cache / _safe_name(version_id)
        # Written into a temporary directory and renamed into place: a directory that exists is complete.
        if not (target.is_dir() and any(target.iterdir())):
            cache.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{_safe_name(version_id)}-", dir=cache))
            try:
                for file in entry["files"]:
                    self._fetch(version_id, file, staging)
                try:
                    os.rename(staging, target)
                except OSError:  # another worker finished first, or an empty leftover
                    if not any(target.iterdir()):
                        target.rmdir()
                        os.rename(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return target / _model_root(entry["files"])

    def _fetch(self, version_id: str, file: dict, staging: Path) -> None:
        path = file["path"]
        destination = staging / path
        if ".." in Path(path).parts or Path(path).is_absolute():
            raise RuntimeError(f"refusing the file path {path!r} (outside the model directory)")
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = _hasher(file.get("digest") or "")
        size = 0
        with self.session.get(
            self._url("files"), params={"modelVersionId": version_id, "path": path}, stream=True, timeout=60
        ) as response:
            response.raise_for_status()
            with open(destination, "wb") as out:
                for chunk in response.iter_content(1 << 20):
                    out.write(chunk)
                    size += len(chunk)
                    if digest is not None:
                        digest[0].update(chunk)
        if file.get("size") is not None and size != file["size"]:
            raise RuntimeError(f"{path}: downloaded {size} bytes, expected {file['size']}")
        if digest is not None and digest[0].hexdigest() != digest[1]:
            raise RuntimeError(f"{path}: the content does not match its digest")

    def report(self, report: dict) -> dict | None:
        import orjson  # a report holds thousands of records: orjson encodes them many times faster

        body = orjson.dumps(report, option=orjson.OPT_SERIALIZE_NUMPY)
        response = self.session.post(
            self._url("telemetry"), data=body, headers={"Content-Type": "application/json"}, timeout=10
        )
        if response.status_code >= 400:
            raise RuntimeError(f"telemetry answered {response.status_code}: {response.text[:300]}")
        return response.json()


def _error_message(response: Any) -> str:
    """The message of the server's error envelope (``{"error": {"code", "message"}}``), or the body."""
    try:
        error = response.json().get("error") or {}
        return str(error.get("message") or error.get("code") or response.text[:300])
    except ValueError:
        return response.text[:300]


def _safe_name(value: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in value)[:100]


def _model_root(files: list[dict]) -> str:
    """Where the MLmodel file is among the files (the shallowest one): the model directory."""
    candidates = [Path(f["path"]).parent for f in files if Path(f["path"]).name == "MLmodel"]
    if not candidates:
        return ""
    return str(min(candidates, key=lambda p: len(p.parts)))


def _hasher(digest: str) -> tuple[Any, str] | None:
    algorithm, _, value = digest.partition(":")
    if not value:
        algorithm, value = "sha256", digest
    if algorithm not in hashlib.algorithms_available or not value or len(value) < 32:
        return None
    return hashlib.new(algorithm), value.lower()
