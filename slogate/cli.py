"""``slogate`` command line: parse flags, call one command function, map the outcome to an exit code.

Every subcommand lives in ``slogate/commands/<name>.py`` and exposes two functions:

``add_parser(subparsers) -> argparse.ArgumentParser``
    declares its flags (``--help`` text documents every one);
``run(args: argparse.Namespace) -> int``
    turns the namespace into a typed request, calls the pipeline, returns the exit code.
    It never passes the namespace further in.

This is the one place that catches :class:`foundation.errors.HarnessError` and prints it as one
sentence, so no command prints a traceback for a user error. Exit codes (DESIGN.md):
0 pass · 1 gate failed · 2 usage or invalid input · 3 run could not be completed or judged.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from foundation.errors import EXIT_INCOMPLETE, EXIT_USAGE, HarnessError

__all__ = ["COMMANDS", "build_parser", "main"]

# Order is the order shown by --help. Only the module of the command being run is imported:
# importing every command costs seconds (pandas, pyarrow, FastAPI), and a command that drives
# Locust must never be imported by another. The others appear in --help from this table.
COMMANDS: dict[str, str] = {
    "run": "run a load scenario, then judge it against SLOs and write reports",
    "target": "run the reference multi-tenant AI-orchestration service",
    "evaluate": "judge a run record against an SLO file (verdict.json)",
    "report": "render reports (HTML, Markdown, JSON, JUnit) from a run record",
    "readiness": "a judged run's GO / NO-GO as an exit code (readiness.json), without rendering",
    "compare": "compare a candidate run with a baseline: did this release regress?",
    "alerts": "Prometheus burn-rate alerting rules (and their promtool test) from an SLO file",
    "worker": "join a distributed run as a load-generating host (slogate run --expect-workers)",
    "capacity": "search for the largest load the target holds within its SLO",
}


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


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The full parser for ``selected`` (every command when None); one-line stubs for others."""
    parser = argparse.ArgumentParser(
        prog="slogate",
        description="Load testing and SLO verification: run load, judge it, report readiness.",
        epilog="Exit codes: 0 pass, 1 gate failed, 2 usage or invalid input, "
        "3 run could not be completed or judged.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, summary in COMMANDS.items():
        command = _load(name) if selected in (None, name) else None
        if command is not None:
            sub = command.add_parser(subparsers)
            sub.set_defaults(_command=command)
        else:
            subparsers.add_parser(name, help=summary, description=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    selected = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(selected) if selected is not None else build_parser("")
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
