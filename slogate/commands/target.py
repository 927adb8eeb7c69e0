"""``slogate target``: run the reference target service in the foreground."""

from __future__ import annotations

import argparse

from foundation.errors import UsageError
from target_service.cli import add_arguments, options_from
from target_service.serve import StartupError, serve

__all__ = ["add_parser", "run"]


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "target",
        help="run the reference multi-tenant AI-orchestration service",
        description="Run the reference target service (same flags as python -m target_service). "
        "Stop it with Ctrl-C.",
    )
    add_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    try:
        serve(options_from(args))
    except StartupError as exc:
        raise UsageError(str(exc)) from exc
    except KeyboardInterrupt:
        pass
    return 0
