"""The ``%runlab`` line magic: parse arguments, call the public API, print the result.

Bad arguments print usage, never a traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import NoReturn

from IPython.core.magic import Magics, line_magic, magics_class

import runlab


class _UsageError(Exception):
    """argparse wanted to exit; the text to show instead is the message."""


class _ArgumentParser(argparse.ArgumentParser):
    # argparse exits the process on --help and on errors; a magic must return to the notebook.
    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _UsageError(message or "")

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.format_usage()}{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="%runlab",
        description="Runlab in this kernel: connection status and settings.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{status,configure}")
    commands.add_parser(
        "status",
        prog="%runlab status",
        help="show the server, project, notebook and connection state",
    )
    configure = commands.add_parser(
        "configure",
        prog="%runlab configure",
        help="set the server, token, project or notebook for this kernel",
    )
    configure.add_argument("--url", metavar="URL", help="companion server URL, e.g. http://127.0.0.1:8765")
    configure.add_argument("--token", help="API token secret (see `runlab token create`)")
    configure.add_argument("--project", help="project name")
    configure.add_argument("--notebook", dest="notebook_path", metavar="PATH", help="notebook path")
    return parser


def run_line(line: str) -> None:
    """Run one ``%runlab`` command line."""
    parser = build_parser()
    try:
        args = parser.parse_args(shlex.split(line))
    except ValueError as error:  # unbalanced quotes from shlex
        sys.stderr.write(f"{parser.format_usage()}%runlab: error: {error}\n")
        return
    except _UsageError as usage:
        text = str(usage)
        if text:
            sys.stderr.write(text)
        return

    if args.command == "status":
        print(runlab.status())
    elif args.command == "configure":
        runlab.configure(
            url=args.url, token=args.token, project=args.project, notebook_path=args.notebook_path
        )
        print(runlab.status())
    else:
        parser.print_help()


@magics_class
class RunlabMagics(Magics):
    @line_magic
    def runlab(self, line: str) -> None:
        """Runlab status and settings; `%runlab --help` for usage."""
        run_line(line)
