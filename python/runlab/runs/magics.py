"""``%runlab`` and ``%%track``: parse arguments, call the public API, show the result.

Bad arguments print usage, never a traceback.
"""

from __future__ import annotations

import argparse
import ast
import shlex
import sys
import time
import traceback
from typing import Any, NoReturn

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

import runlab
from runlab.client import RunlabError
from runlab.runs import api as runs
from runlab.runs.table import RunsTable, list_runs


class _UsageError(Exception):
    """argparse wanted to exit; the text to show instead is the message."""


class _ArgumentParser(argparse.ArgumentParser):
    # argparse exits the process on --help and on errors; a magic must return to the notebook.
    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _UsageError(message or "")

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.format_usage()}{self.prog}: error: {message}\n")


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="%runlab",
        description="Runlab in this kernel: connection status, settings, and logging to the current run.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{status,configure,param,metric,runs}")
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
    configure.add_argument("--token", help="API token secret (`npx runlab-server token create` makes one)")
    configure.add_argument("--project", help="project name")
    configure.add_argument("--notebook", dest="notebook_path", metavar="PATH", help="notebook path")

    param = commands.add_parser(
        "param",
        prog="%runlab param",
        help="record params on the current run (started if none is active)",
    )
    param.add_argument("pairs", nargs="+", type=_key_value, metavar="key=value")

    metric = commands.add_parser(
        "metric",
        prog="%runlab metric",
        help="log one metric point on the current run (started if none is active)",
    )
    metric.add_argument("key")
    metric.add_argument("value", type=float)
    metric.add_argument("--step", type=int, help="step of the point (default: one past the latest)")

    listing = commands.add_parser(
        "runs",
        prog="%runlab runs",
        help="show the latest runs of this project as a table",
    )
    listing.add_argument("--last", type=int, default=10, metavar="N", help="how many runs (default 10)")
    return parser


def build_track_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="%%track",
        description=(
            "Run the cell as a Runlab run: it finishes when the cell does, or fails with the "
            "cell's traceback (the exception still shows as usual)."
        ),
    )
    parser.add_argument("--name", help="run name (default: chosen by the server)")
    parser.add_argument(
        "--param",
        dest="params",
        action="append",
        type=_key_value,
        default=[],
        metavar="key=value",
        help="a param of the run; repeat for more",
    )
    return parser


def _parse(parser: argparse.ArgumentParser, line: str) -> argparse.Namespace | None:
    """Parsed arguments, or None after printing usage (bad arguments or --help)."""
    try:
        return parser.parse_args(shlex.split(line))
    except ValueError as error:  # unbalanced quotes from shlex
        sys.stderr.write(f"{parser.format_usage()}{parser.prog}: error: {error}\n")
    except _UsageError as usage:
        text = str(usage)
        if text:
            # --help goes to stdout like any help text; errors to stderr.
            (sys.stderr if ": error:" in text else sys.stdout).write(text)
    return None


def run_line(line: str) -> RunsTable | None:
    """Run one ``%runlab`` command line; ``runs`` returns its table (the cell's output)."""
    parser = build_parser()
    args = _parse(parser, line)
    if args is None:
        return None

    if args.command == "status":
        print(runlab.status())
    elif args.command == "configure":
        runlab.configure(url=args.url, token=args.token, project=args.project, notebook_path=args.notebook_path)
        print(runlab.status())
    elif args.command == "param":
        runlab.params(dict(args.pairs))
    elif args.command == "metric":
        runlab.metric(args.key, args.value, step=args.step)
    elif args.command == "runs":
        if args.last < 1:
            sys.stderr.write(f"{parser.format_usage()}%runlab runs: error: --last must be at least 1\n")
            return None
        try:
            return list_runs(last=args.last)
        except RunlabError as error:
            sys.stderr.write(f"Runlab: cannot list runs: {error}\n")
    else:
        parser.print_help()
    return None


def track_cell(shell: Any, line: str, cell: str) -> Any:
    """Run ``cell`` as a run; return its last expression's value, as the cell would."""
    __tracebackhide__ = True  # IPython leaves this frame out of tracebacks
    args = _parse(build_track_parser(), line)
    if args is None:
        return None  # usage was printed; the cell does not run
    run = runs.start(name=args.name, params=dict(args.params), source="cell", cell=cell)
    started = time.perf_counter()
    try:
        value = _execute(shell, cell)
    except BaseException as error:
        status: runs.EndStatus = "killed" if isinstance(error, KeyboardInterrupt) else "failed"
        run.end(status, error=error, traceback_text=_user_traceback(error))
        raise  # IPython shows it as for any cell
    run.metric("duration_s", time.perf_counter() - started)
    run.end("finished")
    return value


def _execute(shell: Any, cell: str) -> Any:
    """Execute the cell in the user's namespace as IPython would (magics, last-expression value)."""
    __tracebackhide__ = True
    source = shell.transform_cell(cell)
    tree = shell.transform_ast(shell.compile.ast_parse(source))
    last: ast.Expression | None = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    # A cached file name lets tracebacks show the cell's lines.
    filename = shell.compile.cache(source, shell.execution_count, raw_code=cell)
    namespace = shell.user_ns
    exec(shell.compile(tree, filename, "exec"), shell.user_global_ns, namespace)
    if last is None:
        return None
    return eval(shell.compile(last, filename, "eval"), shell.user_global_ns, namespace)


def _user_traceback(error: BaseException) -> str:
    """The traceback from the cell's code on: this module's frames are not the user's."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


@magics_class
class RunlabMagics(Magics):
    @line_magic
    def runlab(self, line: str) -> RunsTable | None:
        """Runlab status, settings and logging; `%runlab --help` for usage."""
        return run_line(line)

    @cell_magic
    def track(self, line: str, cell: str) -> Any:
        """Run the cell as a Runlab run; `%%track --help` for usage."""
        __tracebackhide__ = True
        return track_cell(self.shell, line, cell)
