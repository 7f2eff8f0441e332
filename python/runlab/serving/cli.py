"""``runlab serve-model``: serve a model over the Open Inference Protocol v2 and MLflow's /invocations.

runlab serve-model REF [--port 8080] [--host 127.0.0.1] [--workers N]     REF: churn@production, churn@v3, churn
runlab serve-model --model-dir DIR [--name churn] [--canary-dir DIR2 | --shadow-dir DIR2 --percent P]
runlab serve-model --deployment ID --server URL [--workers N]            token in RUNLAB_TOKEN
                   [--revision N]     serve only revision N (default: RUNLAB_DEPLOYMENT_REVISION; else follow)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8080
# Set by the Kubernetes target's pod template: each pod serves one revision, a new one is a rollout.
REVISION_ENV = "RUNLAB_DEPLOYMENT_REVISION"


def register(commands: Any, add_connection_options: Callable[[argparse.ArgumentParser], None]) -> None:
    serve = commands.add_parser(
        "serve-model",
        help="serve a model (Open Inference Protocol v2, MLflow /invocations, Prometheus /metrics)",
        description="Serve a registered model, a model directory, or a deployment of the companion server.",
        epilog="Endpoints: /v2, /v2/health/{live,ready}, /v2/models/NAME[/versions/V][/ready|/infer], /invocations, "
        "/ping, /health, /metrics, /runlab/status. SIGTERM finishes the requests in flight and exits 0.",
    )
    serve.add_argument("ref", metavar="REF", nargs="?", help="a registered model: churn@production, churn@v3, churn")
    serve.add_argument(
        "--model-dir", metavar="DIR", help="serve a model directory (MLmodel) instead of a registry model"
    )
    serve.add_argument("--name", help="the model's name in URLs with --model-dir (default: the directory's name)")
    serve.add_argument(
        "--canary-dir", metavar="DIR", help="with --model-dir: a canary that answers --percent %% of requests"
    )
    serve.add_argument(
        "--shadow-dir", metavar="DIR", help="with --model-dir: a shadow that gets a copy of --percent %% of requests"
    )
    serve.add_argument("--percent", type=float, default=10.0, help="the canary's or shadow's share (default 10)")
    serve.add_argument("--deployment", metavar="ID", help="serve this deployment of the companion server (--server)")
    serve.add_argument("--server", metavar="URL", help="the companion server, with --deployment (token: RUNLAB_TOKEN)")
    serve.add_argument(
        "--revision",
        metavar="N",
        help="with --deployment: serve exactly revision N for the process's life, never swapping to a newer one "
        f"(default: {REVISION_ENV}, as a Kubernetes pod sets it; unset: follow the deployment's revisions)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: a free one)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes sharing the port (default 1; each loads the model and batches on its own — "
        "use about one per CPU left after the clients)",
    )
    serve.add_argument("--cache-dir", help="where downloaded model files are kept (default ~/.cache/runlab/serving)")
    serve.add_argument(
        "--load-wait", type=float, default=10.0, help="seconds a request waits for a loading model before a 503"
    )
    serve.add_argument("--max-batch", type=int, default=1024, help="most rows stacked into one predict call")
    serve.add_argument(
        "--prediction-log", metavar="FILE", help="without --deployment: append sampled predictions to FILE (JSON lines)"
    )
    serve.add_argument("--sample-rate", type=float, default=1.0, help="share of requests written to --prediction-log")
    add_connection_options(serve)
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from runlab import config
    from runlab.cli import UsageError
    from runlab.serving.runtime import Options
    from runlab.serving.supervisor import StartError, Supervisor

    config.configure(
        url=getattr(args, "url", None), token=getattr(args, "token", None), project=getattr(args, "project", None)
    )
    sources = [bool(args.ref), bool(args.model_dir), bool(args.deployment)]
    if sum(sources) != 1:
        raise UsageError("serve-model needs one of REF, --model-dir DIR or --deployment ID (see --help)")
    if (args.canary_dir or args.shadow_dir) and not args.model_dir:
        raise UsageError(
            "--canary-dir and --shadow-dir go with --model-dir (deployments take their split from the server)"
        )
    if args.canary_dir and args.shadow_dir:
        raise UsageError("give --canary-dir or --shadow-dir, not both")
    if not 0 < args.percent < 100:
        raise UsageError("--percent must be between 0 and 100")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.revision is not None and not args.deployment:
        raise UsageError("--revision goes with --deployment ID (it pins the deployment's revision)")
    options = Options(
        port=args.port,
        host=args.host,
        model_dir=args.model_dir,
        name=args.name,
        canary_dir=args.canary_dir,
        shadow_dir=args.shadow_dir,
        percent=args.percent,
        ref=args.ref,
        cache_dir=args.cache_dir,
        load_wait_seconds=args.load_wait,
        max_batch_rows=args.max_batch,
        prediction_log=args.prediction_log,
        sample_rate=args.sample_rate,
    )
    if args.deployment:
        server = args.server or os.environ.get("RUNLAB_URL")
        token = os.environ.get("RUNLAB_TOKEN") or getattr(args, "token", None)
        if not server:
            raise UsageError("--deployment needs --server URL (the companion server)")
        if not token:
            print("runlab serve-model: set RUNLAB_TOKEN to the deployment's token", file=sys.stderr)
            return 1
        options.deployment, options.server, options.token = args.deployment, server, token
        options.revision = pinned_revision(args.revision)
        description = f"deployment {args.deployment} of {server}"
        if options.revision is not None:
            description += f", pinned to revision {options.revision}"
    elif args.model_dir:
        for role, directory in (("model", args.model_dir), ("canary", args.canary_dir), ("shadow", args.shadow_dir)):
            if directory and not (Path(directory) / "MLmodel").is_file():
                print(
                    f"runlab serve-model: {directory!r} is not a model directory (no MLmodel file): pass the {role} "
                    "directory that runlab or MLflow saved",
                    file=sys.stderr,
                )
                return 1
        description = f"{args.model_dir}"
    else:
        # The registry reference is resolved in the workers (so the port answers 503 meanwhile);
        # they need the same server settings as this process.
        settings = config.resolve()
        options.url, options.token, options.project = settings.url, settings.token, settings.project
        description = args.ref
    try:
        return Supervisor(options, args.workers, description).run()
    except StartError as error:
        print(f"runlab serve-model: {error}", file=sys.stderr)
        return 1


def pinned_revision(option: str | None) -> int | None:
    """The revision to pin: ``--revision`` wins over RUNLAB_DEPLOYMENT_REVISION; None follows the deployment."""
    from runlab.cli import UsageError

    if option is not None:
        text, source = option, "--revision"
    else:
        text, source = os.environ.get(REVISION_ENV, "").strip(), REVISION_ENV
        if not text:
            return None
    try:
        revision = int(text)
    except ValueError:
        revision = 0
    if revision < 1:
        raise UsageError(f"{source}={text!r}: give a revision number (a positive integer)")
    return revision
