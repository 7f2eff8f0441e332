"""HTTP client for the Runlab companion server.

Every call has a timeout, so a slow or stopped server costs the user seconds, not a hung cell.
Failures surface as one typed error: ``RunlabError`` carries the server's error envelope
(``{"error": {"code", "message", "details"}}``); ``ServerUnreachable`` (also a builtin
``ConnectionError``) means no answer came at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from runlab.config import ATTEMPT_HEADER, Settings, attempt_id, resolve

if TYPE_CHECKING:
    import requests

# (connect, read) in seconds.
Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (2.0, 10.0)
# Chunk uploads and downloads carry up to tens of MiB, and commits of large manifests.
TRANSFER_TIMEOUT: Timeout = (5.0, 300.0)

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

# The server's code (the contract's ErrorCode) for an error answer that lacks the server's
# envelope (a proxy's, say), by HTTP status.
_CODE_BY_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    507: "insufficient_storage",
    503: "unavailable",
}

# Codes for conditions only the client sees; every other code is the server's (its ErrorCode):
# no answer at all, an answer that is not JSON, an error answer without the server's envelope and
# of a status the server does not use, and a dataset version whose lost chunks (the server's
# `damaged` versions) no cache here holds either.
CLIENT_ERROR_CODES = frozenset({"unreachable", "invalid_response", "http_error", "data_damaged"})


class RunlabError(Exception):
    """A request the companion server refused or could not answer."""

    def __init__(
        self,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: list[dict[str, Any]] = list(details or [])
        self.status = status

    def __str__(self) -> str:
        text = f"{self.message} [{self.code}]"
        # The server's message usually names the offending fields already; add them only if not.
        problems = [
            f"{d.get('path', '?')}: {d.get('message', '')}"
            for d in self.details
            if str(d.get("path", "")) not in self.message
        ]
        return f"{text} ({'; '.join(problems)})" if problems else text


class ServerUnreachable(RunlabError, ConnectionError):
    """No answer from the companion server: not running, wrong URL, or too slow."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__("unreachable", message)
        self.url = url


class Client:
    """A thin, typed wrapper over the companion server's REST API."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._server_id: str | None = None
        import requests  # imported on first use: `import runlab` stays quick at kernel start

        self._session = requests.Session()
        if (urlsplit(self.url).hostname or "") in _LOOPBACK_HOSTS:
            # A proxy from the environment cannot reach this machine's server.
            self._session.trust_env = False

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, timeout: Timeout = DEFAULT_TIMEOUT) -> Client:
        """A client for the configured server; raises ServerUnreachable if there is none."""
        settings = settings if settings is not None else resolve()
        if settings.url is None:
            raise ServerUnreachable(
                "No Runlab server configured: start one with `npm start` or `npx runlab-server serve` "
                "(in a Runlab checkout), or set RUNLAB_URL."
            )
        return cls(settings.url, settings.token, timeout=timeout)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- API ------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "version": ..., "serverId": ...}``; needs no token."""
        health: dict[str, Any] = self.request("GET", "/api/health", authenticated=False)
        return health

    def server_id(self) -> str:
        """Who the server is: the same for its data directory at any address (asked once per
        client). Raises ServerUnreachable like any request."""
        if self._server_id is None:
            self._server_id = str(self.health()["serverId"])
        return self._server_id

    def whoami(self) -> dict[str, Any]:
        """The presented token: ``{"tokenId", "name", "scope"}``."""
        who: dict[str, Any] = self.request("GET", "/api/auth/whoami")
        return who

    def list_projects(self, name: str | None = None) -> list[dict[str, Any]]:
        params = {"name": name} if name is not None else None
        projects: list[dict[str, Any]] = self.request("GET", "/api/projects", params=params)["projects"]
        return projects

    def create_project(self, name: str, description: str = "") -> dict[str, Any]:
        project: dict[str, Any] = self.request("POST", "/api/projects", json={"name": name, "description": description})
        return project

    # -- runs -----------------------------------------------------------------------------------

    def create_run(self, body: dict[str, Any], *, timeout: Timeout | None = None) -> dict[str, Any]:
        """``POST /api/runs`` with a CreateRunRequest; the project is created on first use."""
        run: dict[str, Any] = self.request("POST", "/api/runs", json=body, timeout=timeout)
        return run

    def update_run(self, run_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``PATCH /api/runs/:id``: status, endedAt, error, name."""
        run: dict[str, Any] = self.request("PATCH", f"/api/runs/{_quote(run_id)}", json=body)
        return run

    def get_run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.request("GET", f"/api/runs/{_quote(run_id)}")
        return run

    def list_runs(self, **query: Any) -> dict[str, Any]:
        """``GET /api/runs``: ``{"runs", "total"}``; query keys as in the contract (project, status,
        notebookPath, filter, sort, limit, offset); None values are left out."""
        params = {key: value for key, value in query.items() if value is not None}
        listing: dict[str, Any] = self.request("GET", "/api/runs", params=params)
        return listing

    def log_batch(self, run_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/runs/:id/log`` with a LogBatchRequest: ``{"stored", "duplicate"}``."""
        result: dict[str, Any] = self.request("POST", f"/api/runs/{_quote(run_id)}/log", json=batch)
        return result

    def post_log_batch(self, run_id: str, encoded_batch: bytes) -> dict[str, Any]:
        """``log_batch`` with the body already encoded: the sender encodes once, retries as is."""
        result: dict[str, Any] = self.request(
            "POST",
            f"/api/runs/{_quote(run_id)}/log",
            data=encoded_batch,
            content_type="application/json",
        )
        return result

    def metric_history(self, run_id: str, key: str, max_points: int = 2000) -> dict[str, Any]:
        """``{"points": [{"step", "value", "timestamp"}], "total", "downsampled"}``."""
        history: dict[str, Any] = self.request(
            "GET",
            f"/api/runs/{_quote(run_id)}/metrics/{_quote(key)}",
            params={"maxPoints": max_points},
        )
        return history

    def upload_artifact(self, run_id: str, path: str, content: bytes) -> dict[str, Any]:
        """``PUT /api/runs/:id/artifacts?path=``: the Artifact ``{path, size, digest, createdAt}``."""
        artifact: dict[str, Any] = self.request(
            "PUT",
            f"/api/runs/{_quote(run_id)}/artifacts",
            params={"path": path},
            data=content,
            content_type="application/octet-stream",
        )
        return artifact

    def create_snapshot(self, run_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/runs/:id/snapshot``: used for scripts; the browser snapshots notebooks."""
        snapshot: dict[str, Any] = self.request("POST", f"/api/runs/{_quote(run_id)}/snapshot", json=body)
        return snapshot

    # -- datasets ---------------------------------------------------------------------------------

    def missing_chunks(self, hashes: list[str]) -> list[str]:
        """``POST /api/chunks/missing``: which of ``hashes`` (sha256 hex) the server lacks."""
        answer: dict[str, Any] = self.request(
            "POST", "/api/chunks/missing", json={"hashes": hashes}, timeout=TRANSFER_TIMEOUT
        )
        return list(answer["missing"])

    def upload_chunks(self, framed: bytes) -> dict[str, Any]:
        """``POST /api/chunks`` with framed chunks: ``{"stored", "alreadyPresent", "storedBytes"}``."""
        answer: dict[str, Any] = self.request(
            "POST",
            "/api/chunks",
            data=framed,
            content_type="application/octet-stream",
            timeout=TRANSFER_TIMEOUT,
        )
        return answer

    def fetch_chunks(self, hashes: list[str]) -> bytes:
        """``POST /api/chunks/fetch``: the chunks, framed (at most 4,096 per request)."""
        body: bytes = self.request(
            "POST", "/api/chunks/fetch", json={"hashes": hashes}, timeout=TRANSFER_TIMEOUT, raw=True
        )
        return body

    def list_datasets(self, project: str) -> list[dict[str, Any]]:
        datasets: list[dict[str, Any]] = self.request("GET", f"{_dataset_base(project)}")["datasets"]
        return datasets

    def get_dataset(self, project: str, name: str) -> dict[str, Any]:
        dataset: dict[str, Any] = self.request("GET", _dataset_base(project, name))
        return dataset

    def commit_dataset(self, project: str, name: str, body: dict[str, Any] | bytes) -> dict[str, Any]:
        """``POST .../datasets/:name/versions`` with a CommitDatasetRequest (a dict, or already
        encoded JSON): ``{"version", "created"}``."""
        if isinstance(body, bytes):
            answer: dict[str, Any] = self.request(
                "POST",
                f"{_dataset_base(project, name)}/versions",
                data=body,
                content_type="application/json",
                timeout=TRANSFER_TIMEOUT,
            )
        else:
            answer = self.request(
                "POST", f"{_dataset_base(project, name)}/versions", json=body, timeout=TRANSFER_TIMEOUT
            )
        return answer

    def list_dataset_versions(self, project: str, name: str) -> list[dict[str, Any]]:
        """Newest first."""
        versions: list[dict[str, Any]] = self.request("GET", f"{_dataset_base(project, name)}/versions")["versions"]
        return versions

    def get_dataset_version(self, project: str, name: str, version: str) -> dict[str, Any]:
        """``version``: ``v3``, ``3`` or ``latest``."""
        answer: dict[str, Any] = self.request("GET", f"{_dataset_base(project, name)}/versions/{_quote(version)}")
        return answer

    def delete_dataset_version(self, project: str, name: str, version: str) -> None:
        self.request("DELETE", f"{_dataset_base(project, name)}/versions/{_quote(version)}")

    def delete_dataset(self, project: str, name: str) -> None:
        """The dataset and every version of it."""
        self.request("DELETE", _dataset_base(project, name))

    def dataset_manifest(self, project: str, name: str, version: str) -> dict[str, Any]:
        """``{"version", "files": [{"path", "size", "mode", "chunks", "hash"}]}``."""
        answer: dict[str, Any] = self.request(
            "GET", f"{_dataset_base(project, name)}/versions/{_quote(version)}/manifest", timeout=TRANSFER_TIMEOUT
        )
        return answer

    def dataset_diff(
        self, project: str, name: str, from_version: str, to_version: str, limit: int | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"from": from_version, "to": to_version}
        if limit is not None:
            params["limit"] = limit
        answer: dict[str, Any] = self.request("GET", f"{_dataset_base(project, name)}/diff", params=params)
        return answer

    # -- runners and jobs -------------------------------------------------------------------------

    def add_runner(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/runners``: ``{"runner", "token", "command"}`` (the token is shown once)."""
        answer: dict[str, Any] = self.request("POST", "/api/runners", json=body)
        return answer

    def list_runners(self) -> list[dict[str, Any]]:
        runners: list[dict[str, Any]] = self.request("GET", "/api/runners")["runners"]
        return runners

    def submit_job(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/jobs`` with a SubmitJobRequest: the queued Job."""
        job: dict[str, Any] = self.request("POST", "/api/jobs", json=body, timeout=TRANSFER_TIMEOUT)
        return job

    def list_jobs(self, **query: Any) -> dict[str, Any]:
        """``GET /api/jobs``: ``{"jobs", "total"}``; query keys project, status, limit."""
        params = {key: value for key, value in query.items() if value is not None}
        listing: dict[str, Any] = self.request("GET", "/api/jobs", params=params)
        return listing

    def get_job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.request("GET", f"/api/jobs/{_quote(job_id)}")
        return job

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.request("POST", f"/api/jobs/{_quote(job_id)}/cancel")
        return job

    def job_log(self, job_id: str) -> str:
        """The job's output so far, as text."""
        body: bytes = self.request("GET", f"/api/jobs/{_quote(job_id)}/log", raw=True)
        return body.decode("utf-8", errors="replace")

    def rerun_run(self, run_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/runs/:id/rerun`` with a RerunRequest: the queued Job."""
        job: dict[str, Any] = self.request("POST", f"/api/runs/{_quote(run_id)}/rerun", json=body)
        return job

    # sweeps

    def create_sweep(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/sweeps`` with a CreateSweepRequest: the started Sweep."""
        sweep: dict[str, Any] = self.request("POST", "/api/sweeps", json=body, timeout=TRANSFER_TIMEOUT)
        return sweep

    def list_sweeps(self, project: str | None = None) -> list[dict[str, Any]]:
        query = {"project": project} if project else None
        answer: dict[str, Any] = self.request("GET", "/api/sweeps", params=query)
        return list(answer["sweeps"])

    def get_sweep(self, sweep_id: str) -> dict[str, Any]:
        sweep: dict[str, Any] = self.request("GET", f"/api/sweeps/{_quote(sweep_id)}")
        return sweep

    def sweep_trials(self, sweep_id: str) -> list[dict[str, Any]]:
        answer: dict[str, Any] = self.request("GET", f"/api/sweeps/{_quote(sweep_id)}/trials")
        return list(answer["trials"])

    def sweep_action(self, sweep_id: str, action: str) -> dict[str, Any]:
        """``POST /api/sweeps/:id/pause|resume|cancel``: the Sweep after it."""
        sweep: dict[str, Any] = self.request("POST", f"/api/sweeps/{_quote(sweep_id)}/{action}")
        return sweep

    def attempt_notebook(self, attempt_id: str) -> dict[str, Any]:
        """For a runner: the AttemptNotebook of an attempt it holds."""
        answer: dict[str, Any] = self.request(
            "GET", f"/api/runner/attempts/{_quote(attempt_id)}/notebook", timeout=TRANSFER_TIMEOUT
        )
        return answer

    def put_executed_notebook(self, attempt_id: str, notebook: dict[str, Any]) -> None:
        """For a runner: the executed notebook of an attempt it holds."""
        self.request(
            "PUT", f"/api/runner/attempts/{_quote(attempt_id)}/notebook", json=notebook, timeout=TRANSFER_TIMEOUT
        )

    # -- transport ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        authenticated: bool = True,
        timeout: Timeout | None = None,
        raw: bool = False,
    ) -> Any:
        """Send one request; return the decoded JSON body (the bytes, with ``raw``), or raise
        RunlabError."""
        import requests

        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if authenticated and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        attempt = attempt_id()
        if attempt:
            # In a runner job's kernel: the server refuses what a stale attempt still sends.
            headers[ATTEMPT_HEADER] = attempt
        timeout = timeout if timeout is not None else self.timeout
        try:
            response = self._session.request(
                method,
                self.url + path,
                params=params,
                json=json,
                data=data,
                headers=headers,
                timeout=timeout,
            )
        except requests.Timeout as error:
            raise ServerUnreachable(
                f"The Runlab server at {self.url} did not answer within {max(timeout):g} s",
                url=self.url,
            ) from error
        except requests.ConnectionError as error:
            raise ServerUnreachable(f"Cannot connect to the Runlab server at {self.url}", url=self.url) from error
        except requests.RequestException as error:
            raise ServerUnreachable(
                f"Request to the Runlab server at {self.url} failed: {error}", url=self.url
            ) from error

        if not response.ok:
            raise _error_from_response(response)
        if raw:
            return response.content
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise RunlabError(
                "invalid_response",
                f"The server at {self.url} answered {method} {path} with something other than JSON",
                status=response.status_code,
            ) from error


def _quote(segment: str) -> str:
    # Run ids and metric keys go into the path; keys may hold "/" and spaces.
    return quote(segment, safe="")


def _dataset_base(project: str, name: str | None = None) -> str:
    base = f"/api/projects/{_quote(project)}/datasets"
    return base if name is None else f"{base}/{_quote(name)}"


def code_for_status(status: int) -> str:
    """The error code for an error answer of ``status`` that does not name its own."""
    return _CODE_BY_STATUS.get(status) or ("internal" if status >= 500 else "http_error")


def _error_from_response(response: requests.Response) -> RunlabError:
    status = response.status_code
    code = code_for_status(status)
    message = f"HTTP {status} {response.reason or ''}".strip()
    details: list[dict[str, Any]] = []
    try:
        body = response.json()
    except ValueError:
        body = None
    envelope = body.get("error") if isinstance(body, dict) else None
    if isinstance(envelope, dict):
        code = str(envelope.get("code") or code)
        message = str(envelope.get("message") or message)
        if isinstance(envelope.get("details"), list):
            details = [d for d in envelope["details"] if isinstance(d, dict)]
    return RunlabError(code, message, details, status)
