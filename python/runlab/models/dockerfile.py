"""``runlab models dockerfile [REF] [-o FILE] [--force]``: the Dockerfile of the serving image that
Kubernetes deployments run.

Each pod runs ``python -m runlab serve-model --deployment ID --server URL --host 0.0.0.0 --port 8080``
with its deployment's token (RUNLAB_TOKEN) and the revision its template pins
(RUNLAB_DEPLOYMENT_REVISION); the image holds Python and runlab, and, given a model version, that
version's pinned requirements, so a pod starts without installing anything. The model files are
not in the image: a pod fetches them from the companion server at start, so one image serves every
version with the same requirements.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import runlab

SERVING_PORT = 8080
# A fixed, numeric non-root user: Kubernetes' runAsNonRoot can check a number, not a name.
SERVING_UID = 10001
# `churn:3` (a Docker-style tag) means `churn@v3`.
_TAG_REF = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,63}):v?([1-9][0-9]{0,8})$")


def normalize_ref(ref: str) -> str:
    """``churn:3`` → ``churn@v3``; every other reference (``churn@production``, ``churn@v3``) as given."""
    match = _TAG_REF.fullmatch(ref.strip())
    return f"{match.group(1)}@v{match.group(2)}" if match else ref.strip()


def python_tag() -> str:
    """``3.12``: the image's Python is the one running this command (the one the model was checked with)."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def dockerfile_text(version: dict[str, Any] | None = None, *, ref: str | None = None) -> str:
    """The Dockerfile: generic without ``version``, with its pinned requirements installed with it."""
    packages = [f"runlab=={runlab.__version__}"]
    lines = [
        "# The serving image of Runlab's Kubernetes deployments (written by `runlab models dockerfile`).",
        "# Each pod runs `python -m runlab serve-model --deployment ID --server URL --host 0.0.0.0 --port 8080`",
        "# with RUNLAB_TOKEN (its deployment's token) and RUNLAB_DEPLOYMENT_REVISION set by its pod template.",
        "# The model is not baked in: each pod fetches its deployment's model files from the companion server",
        "# at start, with its deployment token.",
    ]
    if version is not None:
        name = f"{version.get('modelName')}@v{version.get('version')}"
        asked = f" ({ref})" if ref and normalize_ref(ref) != name else ""
        lines.append(f"# Requirements pinned by model version {name}{asked}, id {version.get('id')}.")
        # runlab itself is pinned once, to the version writing this file (the one the server speaks).
        packages += [
            requirement
            for requirement in version.get("requirements") or []
            if _distribution_name(requirement) != "runlab"
        ]
    install = " \\\n    ".join(shlex.quote(package) for package in packages)
    lines += [
        "",
        f"FROM python:{python_tag()}-slim",
        "",
        "ENV PYTHONUNBUFFERED=1 \\",
        "    PIP_NO_CACHE_DIR=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1",
        "",
        "# One pip install: the resolver sees runlab's and the model's pins together.",
        f"RUN pip install \\\n    {install}",
        "",
        f"RUN useradd --create-home --uid {SERVING_UID} runlab",
        f"USER {SERVING_UID}",
        "WORKDIR /home/runlab",
        "",
        f"EXPOSE {SERVING_PORT}",
        'ENTRYPOINT ["python", "-m", "runlab", "serve-model"]',
        "",
    ]
    return "\n".join(lines)


def _distribution_name(requirement: str) -> str:
    name = re.split(r"[\s<>=!~;\[@]", requirement.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def register(sub: Any, add_connection_options: Any) -> argparse.ArgumentParser:
    """Add ``dockerfile`` to ``runlab models``' subcommands."""
    parser = sub.add_parser(
        "dockerfile",
        help="write the Dockerfile of the serving image Kubernetes deployments run",
        description="Write the Dockerfile of the serving image Kubernetes deployments run: Python and runlab, "
        "plus REF's pinned requirements when given. The model is not baked in (pods fetch it at start).",
    )
    parser.add_argument(
        "ref", metavar="REF", nargs="?", help="a model version whose requirements to install: churn@production, churn:3"
    )
    parser.add_argument("-o", "--output", metavar="FILE", default="-", help="where to write it (default -: stdout)")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    parser.set_defaults(run=run)
    add_connection_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    from runlab.cli import UsageError
    from runlab.client import Client, RunlabError
    from runlab.models.refs import parse_ref
    from runlab.models.registry import resolve

    version = None
    if args.ref:
        ref = normalize_ref(args.ref)
        try:
            parse_ref(ref)
        except RunlabError as error:
            raise UsageError(f"{error.message} (or NAME:N, e.g. churn:3)") from None
        version = resolve(ref, client=Client.from_settings())
    text = dockerfile_text(version, ref=args.ref)
    if args.output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    path = Path(args.output)
    if path.is_dir():
        raise UsageError(f"-o {args.output}: is a directory; give a file name (e.g. {path / 'Dockerfile'})")
    try:
        # "x" refuses an existing file in the same step that creates it.
        with open(path, "w" if args.force else "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        print(f"runlab: {args.output} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"runlab: cannot write {args.output}: {error.strerror}", file=sys.stderr)
        return 1
    what = f"{version['modelName']}@v{version['version']}'s requirements" if version else "no model requirements"
    print(f"Wrote {args.output} (python {python_tag()}, runlab {runlab.__version__}, {what})", file=sys.stderr)
    return 0
