"""Runners and jobs on the command line.

    runlab runner start --server URL --token T [--name N] [--labels gpu,bigmem] [--max-jobs K]
                        [--work-dir D] [--drain-grace S]      run jobs on this machine
                        [--once [--idle-timeout S]]           one job, then exit (a Kubernetes Job's pod)
    runlab runners add NAME [--labels ...] [--max-jobs K]     register a runner; prints its command
    runlab runners list                                       runners, their status and jobs
    runlab jobs submit NOTEBOOK [-p key=value ...] [--dataset name@vN ...] [--labels ...]
                       [--env recreate] [--timeout S] [--wait]
    runlab jobs list | show ID | logs ID | cancel ID
    runlab rerun RUN_ID [--env recreate] [--wait]             re-produce a run on a runner

``runlab.cli`` dispatches here; server, token and project come from its connection options.
``--wait`` exits 0 when the job finished, 1 when it failed, was cancelled or timed out.
``runner start --once`` (or RUNLAB_RUNNER_ONCE=1) exits the same way after its one job, and 3 when
no job was offered within ``--idle-timeout`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runlab import config
from runlab.cli import UsageError
from runlab.client import Client, RunlabError

_ENDED = ("finished", "failed", "cancelled", "timed_out")
_POLL_S = 0.5
# Set in a Kubernetes Job's pod template: the same as --once.
ONCE_ENV = "RUNLAB_RUNNER_ONCE"


def register(commands: Any, add_connection_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``runner``, ``runners``, ``jobs`` and ``rerun`` to the ``runlab`` parser's ``commands``."""
    runner = commands.add_parser("runner", help="run jobs on this machine: runner start")
    runner.set_defaults(usage_parser=runner)
    runner_commands = runner.add_subparsers(dest="runner_command", metavar="SUBCOMMAND")
    start = runner_commands.add_parser(
        "start",
        help="connect to the server and run its jobs until SIGTERM/Ctrl-C (which drains)",
        description="Connect to the server and run its jobs here. SIGTERM or Ctrl-C drains: no new jobs, "
        "running ones get --drain-grace seconds to finish, then are stopped and requeued by the server.",
    )
    start.add_argument("--server", dest="url", default=argparse.SUPPRESS, help="the server URL (default: RUNLAB_URL)")
    start.add_argument(
        "--token", default=argparse.SUPPRESS, help="the runner token `runlab runners add` printed (or RUNLAB_TOKEN)"
    )
    start.add_argument("--name", help="a name for the logs (default: the name the runner was added with)")
    start.add_argument("--labels", default="", help="extra labels, comma-separated (e.g. gpu,bigmem)")
    start.add_argument("--max-jobs", type=int, help="run at most K jobs at once (may lower what it was added with)")
    start.add_argument("--work-dir", type=Path, help="where jobs run (default: $RUNLAB_DATA_DIR/runner)")
    start.add_argument(
        "--drain-grace",
        type=float,
        default=60.0,
        help="seconds running jobs get to finish after SIGTERM (default 60)",
    )
    start.add_argument(
        "--once",
        action="store_true",
        help=f"take one job and exit when it has ended and been reported: 0 if it finished, 1 if not; "
        f"3 if no job came within --idle-timeout (also: {ONCE_ENV}=1)",
    )
    start.add_argument(
        "--idle-timeout",
        type=float,
        default=None,
        metavar="S",
        help="with --once: exit with code 3 when no job was offered within S seconds (default 300)",
    )
    start.set_defaults(run=_runner_start)

    runners = commands.add_parser("runners", help="machines that run jobs: add, list")
    runners.set_defaults(usage_parser=runners)
    runners_commands = runners.add_subparsers(dest="runners_command", metavar="SUBCOMMAND")
    add = runners_commands.add_parser("add", help="register a runner and print the command to run on it")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--labels", default="", help="comma-separated labels jobs may require (e.g. gpu,bigmem)")
    add.add_argument("--max-jobs", type=int, default=1, help="jobs it runs at once (default 1)")
    add.set_defaults(run=_runners_add)
    listing = runners_commands.add_parser("list", help="runners with their status and running jobs")
    listing.set_defaults(run=_runners_list)

    jobs = commands.add_parser("jobs", help="notebooks run on runners: submit, list, show, logs, cancel")
    jobs.set_defaults(usage_parser=jobs)
    jobs_commands = jobs.add_subparsers(dest="jobs_command", metavar="SUBCOMMAND")
    submit = jobs_commands.add_parser("submit", help="queue a notebook to run on a runner")
    submit.add_argument("notebook", metavar="NOTEBOOK", help="the .ipynb file (sent as it is on disk)")
    submit.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter (VALUE is JSON when it parses, else a string); repeatable",
    )
    submit.add_argument(
        "--dataset", action="append", default=[], metavar="NAME@vN", help="a dataset version to use; repeatable"
    )
    submit.add_argument("--labels", default="", help="labels the runner must have, comma-separated")
    _add_job_options(submit)
    submit.add_argument("--name", help="the job's name (default: the notebook's)")
    submit.set_defaults(run=_jobs_submit)

    jobs_list = jobs_commands.add_parser("list", help="jobs, newest first")
    jobs_list.add_argument("--status", choices=["queued", "running", *_ENDED])
    jobs_list.add_argument("--limit", type=int, default=50)
    jobs_list.set_defaults(run=_jobs_list)
    show = jobs_commands.add_parser("show", help="a job with its attempts")
    show.add_argument("job_id", metavar="ID")
    show.set_defaults(run=_jobs_show)
    logs = jobs_commands.add_parser("logs", help="a job's output")
    logs.add_argument("job_id", metavar="ID")
    logs.set_defaults(run=_jobs_logs)
    cancel = jobs_commands.add_parser("cancel", help="cancel a job (a running one is interrupted)")
    cancel.add_argument("job_id", metavar="ID")
    cancel.set_defaults(run=_jobs_cancel)

    rerun = commands.add_parser("rerun", help="re-produce a run on a runner: its snapshot, datasets, parameters")
    rerun.add_argument("run_id", metavar="RUN_ID")
    rerun.add_argument(
        "-p", "--parameter", action="append", default=[], metavar="KEY=VALUE", help="override a parameter"
    )
    rerun.add_argument("--labels", default=None, help="labels the runner must have, comma-separated")
    _add_job_options(rerun)
    rerun.set_defaults(run=_rerun)

    for sub in (add, listing, submit, jobs_list, show, logs, cancel, rerun):
        add_connection_options(sub)


def _add_job_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        choices=["runner", "recreate"],
        default="runner",
        help="runner: the runner's Python (default); recreate: the packages the original run recorded",
    )
    parser.add_argument("--timeout", type=int, metavar="S", help="stop the job after S seconds")
    parser.add_argument("--wait", action="store_true", help="follow the job; exit 0 if it finished, 1 if not")


# -- parsing --------------------------------------------------------------------------------------


def _labels(text: str | None) -> list[str]:
    return [label.strip() for label in (text or "").split(",") if label.strip()]


def parse_parameters(items: list[str]) -> dict[str, Any]:
    """``["epochs=10", "name=resnet"]`` → ``{"epochs": 10, "name": "resnet"}``: JSON when it parses."""
    values: dict[str, Any] = {}
    for item in items:
        key, equals, text = item.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"-p {item!r}: write a parameter as KEY=VALUE (e.g. -p epochs=10)")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        values[key.strip()] = value
    return values


def parse_datasets(items: list[str]) -> dict[str, str]:
    from runlab.datasets.api import parse_ref

    datasets: dict[str, str] = {}
    for item in items:
        try:
            name, version = parse_ref(item)
        except RunlabError as error:
            raise UsageError(f"--dataset {item!r}: {error.message}") from None
        if version is None:
            raise UsageError(f"--dataset {item!r}: give a version, as NAME@vN (e.g. iris@v3)")
        datasets[name] = version
    return datasets


def _client() -> Client:
    return Client.from_settings()


# -- runner start ---------------------------------------------------------------------------------


def _runner_start(args: argparse.Namespace) -> int:
    from runlab.runners.agent import AgentOptions, main_loop

    settings = config.resolve()
    if settings.url is None:
        raise UsageError("give the server: --server URL (the line `runlab runners add` printed has it)")
    if not settings.token:
        raise UsageError("give the runner token: --token T (the line `runlab runners add` printed has it)")
    if args.max_jobs is not None and not 1 <= args.max_jobs <= 256:
        raise UsageError("--max-jobs must be between 1 and 256")
    if args.drain_grace < 0:
        raise UsageError("--drain-grace must be 0 or more seconds")
    once = args.once or _env_flag(ONCE_ENV)
    if args.idle_timeout is not None and not once:
        raise UsageError(f"--idle-timeout goes with --once (or {ONCE_ENV}=1)")
    if args.idle_timeout is not None and args.idle_timeout <= 0:
        raise UsageError("--idle-timeout must be more than 0 seconds")
    if once and args.max_jobs not in (None, 1):
        raise UsageError("--once runs one job: leave out --max-jobs (or give 1)")
    # Checked here, so a wrong token or address is one clear line, not a reconnect loop.
    with Client(settings.url, settings.token) as client:
        who = client.whoami()
    if who.get("scope") != "runner":
        raise RunlabError(
            "forbidden",
            f"this token ({who.get('name')}) has scope {who.get('scope')!r}, not 'runner': use the token "
            "`runlab runners add NAME` printed",
            status=403,
        )
    options = AgentOptions(
        server=settings.url,
        token=settings.token,
        name=args.name or str(who.get("name") or "runner"),
        labels=_labels(args.labels),
        max_jobs=args.max_jobs,
        drain_grace_s=args.drain_grace,
        once=once,
    )
    if args.idle_timeout is not None:
        options.idle_timeout_s = args.idle_timeout
    if args.work_dir is not None:
        options.work_dir = args.work_dir
    return main_loop(options)


def _env_flag(name: str) -> bool:
    """``1``, ``true``, ``yes`` or ``on`` (any case) mean yes; unset, empty, ``0``, ``false``… mean no."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise UsageError(f"{name}={os.environ[name]!r}: set it to 1 (one job, then exit) or 0")


# -- runners ----------------------------------------------------------------------------------------


def _runners_add(args: argparse.Namespace) -> None:
    body = {"name": args.name, "labels": _labels(args.labels), "maxJobs": args.max_jobs}
    answer = _client().add_runner(body)
    print(answer["command"])


def _runners_list(args: argparse.Namespace) -> None:
    runners = _client().list_runners()
    if not runners:
        print("No runners. Add one with `runlab runners add NAME`.")
        return
    for runner in runners:
        labels = ",".join(runner.get("labels") or []) or "-"
        jobs = len(runner.get("runningJobs") or [])
        cap = runner.get("capacity") or {}
        machine = f"{cap.get('cpus')} CPUs, {len(cap.get('gpus') or [])} GPUs" if cap else "never connected"
        print(
            f"{runner['name']:<20} {runner['status']:<9} labels {labels:<16} "
            f"jobs {jobs}/{runner['maxJobs']}  {machine}  {runner['id']}"
        )


# -- jobs -------------------------------------------------------------------------------------------


def _jobs_submit(args: argparse.Namespace) -> int:
    path = Path(args.notebook)
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{args.notebook}: no such notebook") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"{args.notebook}: not a notebook file (.ipynb JSON): {error}") from None
    if not isinstance(notebook, dict) or "cells" not in notebook:
        raise UsageError(f"{args.notebook}: not a notebook file (.ipynb JSON with cells)")
    body: dict[str, Any] = {
        "project": config.project_for(),
        "notebookPath": path.name,
        "notebook": notebook,
        "parameters": parse_parameters(args.parameter),
        "datasets": parse_datasets(args.dataset),
        "labels": _labels(args.labels),
        "env": args.env,
        "timeoutS": args.timeout,
    }
    if args.name:
        body["name"] = args.name
    with _client() as client:
        job = client.submit_job(body)
        print(f"Queued job {job['id']} (run {job['runId']}) in project {job['projectName']}")
        return _follow(client, job) if args.wait else 0


def _rerun(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"env": args.env, "timeoutS": args.timeout}
    if args.parameter:
        body["parameters"] = parse_parameters(args.parameter)
    if args.labels is not None:
        body["labels"] = _labels(args.labels)
    with _client() as client:
        job = client.rerun_run(args.run_id, body)
        print(f"Queued job {job['id']} re-running run {args.run_id} as run {job['runId']}")
        return _follow(client, job) if args.wait else 0


def _jobs_list(args: argparse.Namespace) -> None:
    settings = config.resolve()
    listing = _client().list_jobs(project=settings.project, status=args.status, limit=args.limit)
    if not listing["jobs"]:
        print("No jobs.")
        return
    for job in listing["jobs"]:
        print(
            f"{job['id']}  {job['status']:<9} {job['projectName']}/{job['notebookPath']}  "
            f"attempts {job['attemptCount']}  runner {job.get('runnerName') or '-'}  {job['createdAt']}"
        )


def _jobs_show(args: argparse.Namespace) -> None:
    job = _client().get_job(args.job_id)
    print(f"Job {job['id']}: {job['status']}{' — ' + job['error'] if job.get('error') else ''}")
    print(f"  notebook   {job['projectName']}/{job['notebookPath']} at {job['snapshotCommit'][:12]}")
    print(f"  run        {job['runId']}{'  (re-run of ' + job['rerunOf'] + ')' if job.get('rerunOf') else ''}")
    if job.get("parameters"):
        print(f"  parameters {json.dumps(job['parameters'])}")
    if job.get("datasets"):
        print("  datasets   " + ", ".join(f"{name}@{version}" for name, version in job["datasets"].items()))
    progress = job.get("progress")
    if progress and job["status"] == "running":
        print(f"  progress   {_progress_text(progress)}")
    for attempt in job.get("attempts") or []:
        error = f" — {attempt['error']}" if attempt.get("error") else ""
        print(f"  attempt {attempt['number']} on {attempt.get('runnerName') or '-'}: {attempt['status']}{error}")


def _jobs_logs(args: argparse.Namespace) -> None:
    sys.stdout.write(_client().job_log(args.job_id))
    sys.stdout.flush()


def _jobs_cancel(args: argparse.Namespace) -> None:
    job = _client().cancel_job(args.job_id)
    print(f"Job {job['id']}: {job['status']}" + (" (stopping)" if job["status"] == "running" else ""))


def _progress_text(progress: dict[str, Any]) -> str:
    cell = progress.get("cell")
    if cell is None:
        return str(progress.get("state") or "starting")
    return f"cell {cell + 1} of {progress.get('cells')}"


def _follow(client: Client, job: dict[str, Any]) -> int:
    """Print the job's progress and output until it ends; 0 when it finished, 1 otherwise."""
    job_id = job["id"]
    shown_log = 0
    last_line = ""
    while True:
        job = client.get_job(job_id)
        line = job["status"]
        if job["status"] == "running":
            where = _progress_text(job["progress"]) if job.get("progress") else "starting"
            line = f"running on {job.get('runnerName') or '?'}: {where}"
        if line != last_line:
            print(f"[{job_id[:8]}] {line}", flush=True)
            last_line = line
        text = client.job_log(job_id)
        if len(text) > shown_log:
            sys.stdout.write(text[shown_log:])
            sys.stdout.flush()
            shown_log = len(text)
        if job["status"] in _ENDED:
            error = f": {job['error']}" if job.get("error") else ""
            print(f"Job {job_id} {job['status']}{error}", flush=True)
            return 0 if job["status"] == "finished" else 1
        time.sleep(_POLL_S)
