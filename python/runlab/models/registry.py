"""The model registry from Python.

    with runlab.start():
        model.fit(X, y)
        v = runlab.model(model, name="churn", input_example=X[:5])   # ModelVersion churn@v3

    churn = runlab.load_model("churn@production")   # in any Python process; also "churn", "churn@v3"
    churn.predict(X_new)

``runlab.model`` saves the model as an MLflow model directory, uploads its files as the run's
artifacts under ``models/<name>/``, then asks the server for a version made of them: the version
links to the run (and so to its snapshot and datasets), and never changes afterwards.
``load_model`` downloads a version's files once into the cache (``$RUNLAB_CACHE_DIR``, default
``~/.cache/runlab``, under ``models/<version id>``) and loads them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runlab.client import TRANSFER_TIMEOUT, Client, RunlabError, ServerUnreachable
from runlab.models import flavors as flavors_module
from runlab.models.flavors import MLMODEL, LoadedModel, load_model_dir, save_model
from runlab.models.profile import build_profile
from runlab.models.refs import api_path as _path
from runlab.models.refs import check_name, parse_ref
from runlab.warning import warn

ARTIFACT_FOLDER = "models"
# The inputExample sent with a version (and shown in the try-it box) stays this small.
MAX_EXAMPLE_JSON_BYTES = 64 * 1024


@dataclass(frozen=True)
class ModelVersion:
    """A registered, immutable model version (the server's ModelVersion as ``info``)."""

    name: str
    version: int
    id: str
    flavor: str
    run_id: str | None
    aliases: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def ref(self) -> str:
        """``churn@v3``: what ``runlab.load_model`` and ``runlab serve-model`` take."""
        return f"{self.name}@v{self.version}"

    @property
    def signature(self) -> dict[str, Any] | None:
        return self.info.get("signature")

    @property
    def requirements(self) -> list[str]:
        return list(self.info.get("requirements") or [])

    def load(self) -> LoadedModel:
        return load_model(self.ref)

    def __repr__(self) -> str:
        aliases = f" aliases={','.join(self.aliases)}" if self.aliases else ""
        return f"<runlab.ModelVersion {self.ref} flavor={self.flavor} id={self.id!r} run={self.run_id!r}{aliases}>"

    @classmethod
    def from_json(cls, info: Mapping[str, Any]) -> ModelVersion:
        return cls(
            name=str(info["modelName"]),
            version=int(info["version"]),
            id=str(info["id"]),
            flavor=str(info["flavor"]),
            run_id=info.get("runId"),
            aliases=list(info.get("aliases") or []),
            info=dict(info),
        )


# -- refs -------------------------------------------------------------------------------------------


def _client(client: Client | None) -> Client:
    return client if client is not None else Client.from_settings()


def resolve(ref: str, *, client: Client | None = None) -> dict[str, Any]:
    """The server's ModelVersion (JSON) that ``ref`` names now."""
    name, selector = parse_ref(ref)
    api = _client(client)
    try:
        version: dict[str, Any] = api.request("GET", _path(name, "versions", selector))
    except RunlabError as error:
        if error.status == 404:
            raise RunlabError(
                "not_found",
                f"no model version {name}@{selector}: {error.message}. `runlab models list` shows the models, "
                f"`runlab models versions {name}` their versions and aliases",
                status=404,
            ) from None
        raise
    return version


# -- logging ----------------------------------------------------------------------------------------


def model(
    obj_or_path: Any,
    name: str,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    description: str = "",
    tags: Mapping[str, Any] | None = None,
    profile_data: Any = None,
) -> ModelVersion:
    """Log a model version from the current run.

    ``obj_or_path``: a scikit-learn estimator or pipeline, an ONNX model (``.onnx`` file or
    ModelProto), a function or an object with ``predict``, or an MLflow model directory.
    ``flavor`` is detected when None. ``input_example`` (a few rows of the training inputs)
    gives the signature and the reference profile; ``profile_data`` (more rows, say the
    training set) profiles those instead. Waits until the version exists on the server."""
    from runlab.runs.api import active_run

    check_name(name)
    run = active_run()
    if run is None or run.ended:
        raise RunlabError(
            "invalid_request",
            "runlab.model(...) logs a model version from a run, and no run is active: call runlab.start() "
            "first (or log inside `with runlab.start(): ...`)",
        )
    # Everything the run logged so far (its inputs: the dataset versions of the lineage) is on the
    # server before the version is made; this also waits for a run created in the background.
    run.flush()
    if run.id is None:
        raise ServerUnreachable(
            "the current run is not on the server yet (it is unreachable), so no model version can be made; "
            "retry runlab.model(...) once the server answers",
        )
    handle = run._handle
    with (
        Client(handle.url, handle.token, timeout=TRANSFER_TIMEOUT) as client,
        tempfile.TemporaryDirectory(prefix="runlab-model-") as temp,
    ):
        saved = save_model(obj_or_path, Path(temp) / "model", flavor=flavor, input_example=input_example)
        profile = _profile(saved, input_example, profile_data)
        folder = _free_artifact_folder(client, run.id, name)
        for relative in saved.files:
            client.upload_artifact(run.id, f"{folder}/{relative}", (saved.directory / relative).read_bytes())
        body = {
            "runId": run.id,
            "artifactPath": folder,
            "flavor": saved.flavor,
            "signature": saved.signature,
            "inputExample": _small_example(saved.input_example),
            "requirements": saved.requirements,
            "profile": profile,
            "description": description,
            "tags": {str(key): str(value) for key, value in (tags or {}).items()},
            "source": "runlab",
        }
        created = client.request("POST", _path(name, "versions"), json=body)
    return ModelVersion.from_json(created)


def _profile(saved: flavors_module.SavedModel, input_example: Any, profile_data: Any) -> dict[str, Any] | None:
    data = profile_data if profile_data is not None else input_example
    if data is None:
        return None
    if profile_data is None:
        predictions = saved.predictions
    else:
        loaded = load_model_dir(saved.directory)
        try:
            predictions = loaded.predict(flavors_module._model_input(profile_data, loaded))
        except Exception as error:
            raise RunlabError(
                "invalid_request",
                f"the model's predict failed on profile_data ({type(error).__name__}: {error}); pass rows the "
                "model accepts (its training inputs), or leave profile_data out to profile input_example",
            ) from error
    signature = saved.signature or {}
    feature_names = [f["name"] for f in signature.get("inputs") or [] if f.get("name")] or None
    output_names = [f["name"] for f in signature.get("outputs") or [] if f.get("name")] or None
    if isinstance(predictions, Mapping):
        output_names = None
    try:
        return build_profile(data, predictions, feature_names=feature_names, output_names=output_names)
    except Exception as error:  # a summary for later drift checks must not stop the model from being logged
        warn(f"the reference profile could not be built ({type(error).__name__}: {error}); the version has none.")
        return None


def _small_example(example: Any) -> Any:
    import json

    if example is None:
        return None
    text = json.dumps(example)
    return example if len(text) <= MAX_EXAMPLE_JSON_BYTES else None


def _free_artifact_folder(client: Client, run_id: str, name: str) -> str:
    """``models/<name>``, or ``models/<name>-2``… when the run already holds files there (a version
    is made of every file below its folder, so a second model of the same name needs its own)."""
    paths = [str(a.get("path", "")) for a in client.get_run(run_id).get("artifacts") or []]
    base = f"{ARTIFACT_FOLDER}/{name}"
    for attempt in range(1, 10_000):
        folder = base if attempt == 1 else f"{base}-{attempt}"
        if not any(path.startswith(f"{folder}/") for path in paths):
            return folder
    return f"{base}-{uuid.uuid4().hex[:8]}"


# -- loading ----------------------------------------------------------------------------------------


def cache_root() -> Path:
    return Path(os.environ.get("RUNLAB_CACHE_DIR") or "~/.cache/runlab").expanduser() / "models"


def download_version(
    ref_or_version: str | Mapping[str, Any] | ModelVersion,
    dest: str | os.PathLike[str] | None = None,
    *,
    client: Client | None = None,
) -> tuple[dict[str, Any], Path]:
    """The version (JSON) and a local directory holding its model files.

    Downloaded into ``dest`` (default: the cache, keyed by version id) through a temporary
    directory renamed into place, so a directory that exists is complete; it is reused as is
    (versions never change)."""
    api = _client(client)
    if isinstance(ref_or_version, ModelVersion):
        version = ref_or_version.info
    elif isinstance(ref_or_version, Mapping):
        version = dict(ref_or_version)
    else:
        version = resolve(ref_or_version, client=api)
    target = Path(dest) if dest is not None else cache_root() / str(version["id"])
    if not (target.is_dir() and any(target.iterdir())):
        _download_into(api, version, target)
    return version, _model_directory(target)


def _download_into(api: Client, version: Mapping[str, Any], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for file in version.get("files") or []:
            relative = str(file["path"])
            content: bytes = api.request(
                "GET",
                _path(str(version["modelName"]), "versions", str(version["version"]), "files"),
                params={"path": relative},
                raw=True,
                timeout=TRANSFER_TIMEOUT,
            )
            _check_digest(version, relative, content, str(file.get("digest") or ""))
            local = temp / relative
            if not local.resolve().is_relative_to(temp.resolve()):
                raise RunlabError("invalid_response", f"the server sent a file path outside the model: {relative!r}")
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(content)
        if target.exists() and not any(target.iterdir()):
            target.rmdir()
        try:
            os.rename(temp, target)
        except OSError:
            # Another process finished the same download first: its copy is as good as ours.
            if not (target.is_dir() and any(target.iterdir())):
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _check_digest(version: Mapping[str, Any], path: str, content: bytes, digest: str) -> None:
    expected = digest.removeprefix("sha256:")
    if re.fullmatch(r"[0-9a-f]{64}", expected) and hashlib.sha256(content).hexdigest() != expected:
        raise RunlabError(
            "data_corrupt",
            f"{version.get('modelName')}@v{version.get('version')}: {path} arrived damaged (its sha256 does not "
            "match the version's); try again, and run `runlab-server fsck` on the server if it persists",
        )


def _model_directory(root: Path) -> Path:
    """The folder holding the MLmodel: the root, or the shallowest folder below it that has one."""
    if (root / MLMODEL).is_file():
        return root
    found = sorted(root.rglob(MLMODEL), key=lambda p: len(p.parts))
    return found[0].parent if found else root


def load_model(ref: str, *, client: Client | None = None) -> LoadedModel:
    """``runlab.load_model("churn@production")``: the version ``ref`` names now, ready to predict
    (``.predict(inputs)``, plus ``.signature``, ``.input_example``, ``.flavor``). Works in any
    Python process that can reach the server (RUNLAB_URL / RUNLAB_TOKEN or the local server)."""
    version, directory = download_version(ref, client=client)
    loaded = load_model_dir(directory)
    loaded.version = version
    return loaded


__all__ = [
    "ModelVersion",
    "cache_root",
    "check_name",
    "download_version",
    "load_model",
    "model",
    "parse_ref",
    "resolve",
]
