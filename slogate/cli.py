"""``slogate`` command line: parse flags, call one command function, map the outcome to an exit code.

Every subcommand lives in ``slogate/commands/<name>.py`` and exposes two functions:

``add_parser(subparsers) -> argparse.ArgumentParser``
    declares its flags (``--help`` text documents every one);
``run(args: argparse.Namespace) -> int``
    turns the namespace into a typed request, calls the pipeline, returns the exit code.
    It never passes the namespace further in.

This is the one place that catches :class:`slogate.errors.HarnessError` and prints it as one
sentence, so no command prints a traceback for a user error. Exit codes (DESIGN.md):
0 pass · 1 gate failed · 2 usage or invalid input · 3 run could not be completed or judged.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from slogate.errors import EXIT_INCOMPLETE, EXIT_USAGE, HarnessError

__all__ = ["COMMANDS", "build_parser", "main"]

# Order is the order shown by --help. Modules are imported lazily by name so that a command
# that drives Locust (which monkey-patches the process) is only imported when it runs.
COMMANDS: tuple[str, ...] = ("run", "target", "evaluate", "report", "compare", "capacity")


class _Command(Protocol):
    def add_parser(
        self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
    ) -> argparse.ArgumentParser: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> _Command | None:
    try:
        module = importlib.import_module(f"slogate.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"slogate.commands.{name}":
            return None  # command not built yet
        raise
    return cast(_Command, module)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slogate",
        description="Load testing and SLO verification: run load, judge it, report readiness.",
        epilog="Exit codes: 0 pass, 1 gate failed, 2 usage or invalid input, "
        "3 run could not be completed or judged.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        command = _load(name)
        if command is not None:
            sub = command.add_parser(subparsers)
            sub.set_defaults(_command=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own message; keep its code (0 or 2)
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    command = cast(_Command, args._command)
    try:
        return command.run(args)
    except HarnessError as exc:
        print(f"slogate {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"slogate {args.command}: interrupted", file=sys.stderr)
        return EXIT_INCOMPLETE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
