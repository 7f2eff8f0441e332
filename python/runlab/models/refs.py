"""Model references: ``churn``, ``churn@v3``, ``churn@latest``, ``churn@production`` (and MLflow's
``models:/churn@production`` / ``models:/churn/3``), checked as the contract does. No numpy here:
the CLI imports this on every start."""

from __future__ import annotations

import re
from urllib.parse import quote

from runlab.client import RunlabError

# The contract's ModelName and ModelRefPattern (server/src/contract/models.ts).
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
MODEL_REF_PATTERN = r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63})(?:@(latest|v?[1-9][0-9]{0,8}|[A-Za-z][A-Za-z0-9_-]{0,63}))?$"
_NAME = re.compile(MODEL_NAME_PATTERN)
_REF = re.compile(MODEL_REF_PATTERN)


def check_name(name: str) -> str:
    if not isinstance(name, str) or len(name) > 64 or not _NAME.fullmatch(name):
        raise RunlabError(
            "invalid_request",
            f"{name!r} is not a model name: start with a letter or digit; use letters, digits, . _ - (at most 64)",
        )
    return name


def parse_ref(ref: str) -> tuple[str, str]:
    """``"churn"`` → ("churn", "latest"); ``"churn@v3"`` → ("churn", "v3");
    ``"churn@production"`` → ("churn", "production")."""
    text = str(ref).strip()
    if text.startswith("models:/"):
        # MLflow's URI, for people who type it out of habit: models:/churn@production, models:/churn/3.
        text = text[len("models:/") :]
        name, slash, version = text.partition("/")
        text = f"{name}@{version}" if slash else name
    match = _REF.fullmatch(text)
    if match is None:
        raise RunlabError(
            "invalid_request",
            f"{ref!r} is not a model reference: write NAME, NAME@vN, NAME@latest or NAME@ALIAS (e.g. churn@production)",
        )
    return match.group(1), match.group(2) or "latest"


def api_path(name: str, *rest: str) -> str:
    """``/api/models/<name>/<rest…>``, each segment quoted."""
    return "/".join(["/api/models", quote(name, safe=""), *(quote(part, safe="") for part in rest)])
