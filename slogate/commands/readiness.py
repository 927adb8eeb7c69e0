"""``slogate readiness RUN_DIR [--capacity DIR] [--json]``: the run's GO / NO-GO, as an exit code.

Reads the readiness judgement ``slo`` wrote beside ``verdict.json`` when the run was judged
(``readiness.json``: every claim with its evidence, the score, GO / NO-GO, risks, capacity by
tier) and prints the decision; renders nothing. A record without ``readiness.json`` (judged
before it existed, or an aborted run never evaluated) is judged now and the file written.
``--capacity DIR`` (a ``slogate capacity`` directory, repeat per tier) re-judges claim 5 from
those searches and rewrites ``readiness.json``.

Exit codes: 0 GO · 1 NO-GO · 2 bad flag · 3 cannot judge (no run.json, a complete run never
evaluated -- run ``slogate evaluate RUN_DIR`` first -- or an unreadable readiness.json).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from foundation.errors import EXIT_GATE_FAILED, EXIT_OK, ConfigError, RunIncompleteError
from foundation.layout import RunLayout

__all__ = ["add_parser", "run"]


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "readiness",
        help="GO / NO-GO of a judged run as an exit code (reads or writes readiness.json)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                        help="run directory written by 'slogate run' (judged: with verdict.json)")
    parser.add_argument("--capacity", type=Path, action="append", default=[], metavar="DIR",
                        help="a 'slogate capacity' directory (repeat per tier): claim 5 is "
                        "re-judged from its result and readiness.json rewritten")
    parser.add_argument("--json", action="store_true",
                        help="print readiness.json instead of the one-line decision and claims")
    return parser


def run(args: argparse.Namespace) -> int:
    from slo.claims import read_readiness, write_run_readiness
    from slo.claims.record import readiness_to_dict

    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise RunIncompleteError(
            f"{run_dir} is not a directory; give the run directory 'slogate run' printed"
        )
    layout = RunLayout(run_dir)
    if args.capacity or not layout.readiness_json.exists():
        record = write_run_readiness(run_dir, args.capacity)
    else:
        try:
            record = read_readiness(layout.readiness_json)
        except ConfigError as exc:
            raise RunIncompleteError(f"{exc}; re-judge with 'slogate evaluate {run_dir}'") from exc
    r = record.readiness
    if args.json:
        print(json.dumps(readiness_to_dict(record), indent=2))
    else:
        print(f"{r.decision}  {r.score:.0f} % ({r.earned} of {r.total} weighted points)  "
              f"{layout.readiness_json}")
        print(r.sentence)
        for c in r.claims:
            star = "*" if c.claim.critical else " "
            print(f"  {star}{c.claim.id:>2} {c.status.value:<13} {c.claim.title}")
    return EXIT_OK if r.go else EXIT_GATE_FAILED
