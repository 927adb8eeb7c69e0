"""Flags of ``python -m target_service`` (and of ``slogate target``, which reuses them)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from target_service.serve import ServeOptions, StartupError, serve

__all__ = ["add_arguments", "main", "options_from"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (0 = a free one; default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes; more than 1 needs --redis-url"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy async URL, e.g. postgresql+asyncpg://postgres@127.0.0.1/db "
        "(default: SQLite file ./slogate-target.db)",
    )
    parser.add_argument(
        "--redis-url", default=None, help="redis://127.0.0.1:6379/0 to share quotas and events across workers"
    )
    parser.add_argument(
        "--admin-token",
        default=None,
        help="platform admin bearer token (default: $SLOGATE_ADMIN_TOKEN, else generated and printed once)",
    )
    parser.add_argument(
        "--faults", default=None, help="fault configuration JSON applied at start, e.g. '{\"stall_s\": 1}'"
    )
    parser.add_argument(
        "--state-file",
        default=None,
        help="where the worker supervisor writes worker pids and readiness (JSON, every 0.2 s)",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )


def options_from(args: argparse.Namespace) -> ServeOptions:
    if args.workers < 1:
        raise StartupError("--workers must be at least 1")
    return ServeOptions(
        host=args.host,
        port=args.port,
        workers=args.workers,
        database_url=args.database_url,
        redis_url=args.redis_url,
        admin_token=args.admin_token,
        faults=args.faults,
        log_level=args.log_level,
        state_file=args.state_file,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m target_service", description="The slogate reference target service."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        serve(options_from(args))
    except StartupError as exc:
        print(f"target_service: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
