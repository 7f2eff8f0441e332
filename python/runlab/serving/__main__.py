"""``python -m runlab.serving …``: ``runlab serve-model`` without loading the other commands
(what the companion server's local target runs, so a deployment starts as fast as it can)."""

from __future__ import annotations

import argparse
import sys

from runlab.cli import UsageError, add_connection_options
from runlab.serving import cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="runlab")
    commands = parser.add_subparsers(dest="command")
    cli.register(commands, add_connection_options)
    args = parser.parse_args(["serve-model", *(sys.argv[1:] if argv is None else argv)])
    try:
        return cli.run(args)
    except UsageError as error:
        print(f"runlab serve-model: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
