"""``runlab`` on the command line (also ``python -m runlab``): the program for users and runner
machines. This module only dispatches; each feature's verbs live in its own ``cli`` module:

    runlab data …                          versioned datasets (runlab/datasets/cli.py)
    runlab runner / runners / jobs / rerun  runners and jobs (runlab/runners/cli.py)
    runlab serve-model                      the model serving runtime (runlab/serving/cli.py)
    runlab models …                        the model registry (runlab/models/cli.py)
    runlab sweep …                         hyper-parameter sweeps (runlab/sweeps/cli.py)

The companion server's admin commands (serve, token, gc, fsck) belong to the server's own program,
``runlab-server``; asked for here, they are answered with where to find them.

Server, token and project come from ``--url`` / ``--token`` / ``--project``, else from the usual
settings (RUNLAB_URL, RUNLAB_TOKEN, RUNLAB_PROJECT, or the companion server on this machine).
Exit codes: 0 done, 1 the operation failed (the message says why and what to do), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from runlab import config
from runlab.client import RunlabError, ServerUnreachable

# `runlab-server`'s commands, which users may type here out of habit.
SERVER_COMMANDS = ("serve", "token", "gc", "fsck")
_CONNECTION_OPTIONS = ("--url", "--token", "--project")


class UsageError(Exception):
    """Bad arguments: exit code 2."""


def add_connection_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--url``, ``--token`` and ``--project``, accepted before and after a command."""
    # A subcommand's default must not overwrite a value given before the command.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--url", default=default, help="companion server URL (default: RUNLAB_URL or the local server)")
    parser.add_argument("--token", default=default, help="API token (default: RUNLAB_TOKEN or the local admin token)")
    parser.add_argument("--project", default=default, help="project name (default: RUNLAB_PROJECT, else default)")


def build_parser() -> argparse.ArgumentParser:
    from runlab.datasets import cli as datasets_cli
    from runlab.models import cli as models_cli
    from runlab.runners import cli as runners_cli
    from runlab.serving import cli as serving_cli
    from runlab.sweeps import cli as sweeps_cli

    parser = argparse.ArgumentParser(
        prog="runlab",
        description="Runlab for users and runner machines.",
        epilog="The companion server's admin commands (serve, token, gc, fsck) are its own program's: "
        "`npx runlab-server …` in a Runlab checkout.",
    )
    add_connection_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    datasets_cli.register(commands, add_connection_options)
    runners_cli.register(commands, add_connection_options)
    models_cli.register(commands, add_connection_options)
    serving_cli.register(commands, add_connection_options)
    sweeps_cli.register(commands, add_connection_options)
    return parser


def server_command_message(command: str) -> str:
    return (
        f"`runlab {command}` is the companion server's admin command: run `npx runlab-server {command} …` "
        "(in a Runlab checkout). This `runlab` is for users and runner machines: `runlab --help` lists its commands."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = _command(args_list)
    if command in SERVER_COMMANDS:
        print(f"runlab: {server_command_message(command)}", file=sys.stderr)
        return 2
    if command == "serve-model":
        # Straight to the serving runtime, without importing every other command: a deployment's
        # start-up time is what users wait for.
        from runlab.serving.__main__ import main as serve_model

        position = args_list.index(command)
        return serve_model(args_list[:position] + args_list[position + 1 :])
    parser = build_parser()
    args = parser.parse_args(args_list)
    run = getattr(args, "run", None)
    if run is None:
        # `runlab` or `runlab data` alone: what it can do.
        getattr(args, "usage_parser", parser).print_help(sys.stderr)
        return 2
    try:
        config.configure(url=args.url, token=args.token, project=args.project)
        code = run(args)
        return code if isinstance(code, int) else 0
    except UsageError as error:
        print(f"runlab: {error}", file=sys.stderr)
        return 2
    except ServerUnreachable as error:
        print(
            f"runlab: {error.message}. Start the server (`npm start`, or `npx runlab-server serve` in a Runlab "
            "checkout), or pass --url / set RUNLAB_URL.",
            file=sys.stderr,
        )
        return 1
    except RunlabError as error:
        print(f"runlab: {_explain(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("runlab: interrupted", file=sys.stderr)
        return 130


def _command(args: list[str]) -> str | None:
    """The first word that is neither an option nor a connection option's value."""
    words = iter(args)
    for word in words:
        if word in _CONNECTION_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _explain(error: RunlabError) -> str:
    text = str(error)
    if error.status == 401:
        text += " — pass --token or set RUNLAB_TOKEN (`npx runlab-server token create` in a Runlab checkout makes one)"
    return text


if __name__ == "__main__":
    sys.exit(main())
