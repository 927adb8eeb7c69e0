"""``slogate worker``: join a distributed run as one of its load-generating hosts.

Thin (STYLE.md rule 20): flags -> :class:`~scenarios.distributed.worker.WorkerOptions` ->
:func:`~scenarios.distributed.worker.run_worker`. Importing that module imports Locust,
which monkey-patches this process with gevent: that is why it is imported only here, when
this command runs.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from foundation.errors import UsageError

__all__ = ["add_parser", "run"]

_DESCRIPTION = """\
Join a run started elsewhere with 'slogate run --expect-workers N': connect to its master
(Locust's master/worker engine, ZeroMQ on TCP port 5557 by default), take this host's share
of the HTTP users and WebSocket sessions, record every sample exactly as a local run does,
and ship them to the master about once a second. The master writes the one run record.

The worker needs the same slogate (and Locust) version as the master, network access to
the target, and the master's port open; the master accepts it only from loopback or from
an address in its --allow-remote list.
"""

_EPILOG = """\
exit codes: 0 this host's share ran and everything was shipped (the verdict is the
master's), 2 bad flags, 3 no master answered, the master refused this host, or the run
could not be completed.

examples:
  slogate worker --master 10.0.0.5
  slogate worker --master loadmaster.internal:5557 --source-address 10.0.1.7,10.0.1.8
"""

SKEW_ENV = "SLOGATE_TEST_CLOCK_SKEW_S"  # test hook: pretend this host's clock is off by N s
DRIFT_ENV = "SLOGATE_TEST_CLOCK_DRIFT_PPM"  # test hook: ... and runs fast by N millionths


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "worker",
        help="join a distributed run as a load-generating host",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--master", required=True, metavar="HOST[:PORT]", help="the master's address (port default 5557)"
    )
    parser.add_argument(
        "--join-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="give up when no master answers within this long (default 120)",
    )
    parser.add_argument(
        "--source-address",
        default="",
        metavar="IP[,IP...]",
        help="local addresses WebSocket sessions connect from, round robin (each adds about "
        "28k connections per target address); default: the OS chooses",
    )
    parser.add_argument(
        "--scratch",
        type=Path,
        metavar="DIR",
        help="where local sample streams live until shipped (default: a temporary directory, removed after)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from scenarios.distributed.protocol import parse_master_address

    try:
        host, port = parse_master_address(args.master)
    except ValueError as exc:
        raise UsageError(f"--master: {exc}") from exc
    if args.join_timeout <= 0:
        raise UsageError("--join-timeout must be more than 0 seconds")
    sources = tuple(a.strip() for a in args.source_address.split(",") if a.strip())
    for addr in sources:
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            raise UsageError(f"--source-address: {addr!r} is not an IP address") from None
    try:
        skew = float(os.environ.get(SKEW_ENV, "0") or 0)
        drift = float(os.environ.get(DRIFT_ENV, "0") or 0)
    except ValueError:
        raise UsageError(f"${SKEW_ENV} and ${DRIFT_ENV} must be numbers") from None
    from scenarios.distributed.worker import WorkerOptions, run_worker

    def say(text: str) -> None:
        print(f"slogate worker: {text}", file=sys.stderr, flush=True)

    return run_worker(
        WorkerOptions(
            master_host=host,
            master_port=port,
            join_timeout_s=args.join_timeout,
            scratch_dir=args.scratch,
            source_addresses=sources,
            clock_skew_s=skew,
            clock_drift_ppm=drift,
            say=say,
        )
    )
