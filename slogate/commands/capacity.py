"""``slogate capacity``: search for the largest level a target holds within its SLO.

Thin (STYLE.md rule 20): flags -> :class:`CapacityRequest` -> :func:`run_capacity` -> exit
code. The live display of the steps is the only thing this module adds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from foundation.errors import EXIT_GATE_FAILED, EXIT_INCOMPLETE, EXIT_OK, UsageError
from scenarios.capacity import VARY
from scenarios.spec import CATALOG_DIR, load_scenario
from slo.capacity import CapacityResult
from slogate.capacity import CapacityProgress, CapacityRequest, run_capacity
from slogate.commands._terminal import LiveRegion, positive_duration

__all__ = ["add_parser", "exit_code", "run"]

_DESCRIPTION = """\
Search for the largest level (arrival rate, users, WebSocket sessions, or tenants of a tier
at their quota) at which every objective of the SLO still passes.

Each step runs the scenario at one level (a complete run record under OUT/steps/), judged
against the SLO. The search grows the level x5 from --start until an objective fails, then
bisects (geometric middle) until the interval is within --precision, and confirms the answer
with a hold twice as long. A step whose load generator was the limit (its CPU pegged, or an
open-model schedule it could not keep while its client pool had room) is inconclusive, and
the search stops there rather than report the generator's limit as the target's.
Details: docs/capacity.md.
"""

_EPILOG = """\
Result: OUT/capacity.json and capacity.html (curve of p50/p95/p99 and errors against load,
step table), capacity.md, capacity-report.json, capacity.junit.xml.

exit codes: 0 a capacity was found (at least --require, if given), 1 capacity 0 or below
--require, 2 bad flags or scenario/SLO file, 3 inconclusive (generator limit, a step that
could not run) or not converged within --max-time.

examples:
  slogate capacity                                   # embedded target, arrival rate
  slogate capacity --vary tenants --tier enterprise --ceiling 8
  slogate capacity my.yaml --target http://127.0.0.1:8080 --ceiling 2000 --require 500
"""


def _duration(flag: str, text: str) -> float:
    value = positive_duration(flag, text)
    assert value is not None  # these flags have defaults
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "capacity", help="search for the largest load the target holds within its SLO",
        description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="?", type=Path, metavar="SCENARIO",
                   help="scenario YAML (default: scenarios/catalog/capacity.yaml, the embedded target)")
    p.add_argument("--vary", choices=VARY, default="rate",
                   help="what to vary: open-model arrival rate (default), closed-model users, "
                   "WebSocket sessions, or tenants of --tier each at its session quota")
    p.add_argument("--tier", choices=("starter", "team", "enterprise"),
                   help="the tier whose tenants (--vary tenants) or per-tenant sessions vary")
    p.add_argument("--slo", type=Path, metavar="FILE",
                   help="SLO file (default: the scenario's slo:, else slo/catalog/capacity.yaml)")
    p.add_argument("--start", type=_positive, metavar="LEVEL",
                   help="first level (default: the scenario's level; 1 tenant)")
    p.add_argument("--ceiling", type=_positive, metavar="LEVEL",
                   help="highest level tried (default: 50 x the first level)")
    p.add_argument("--floor", type=_positive, metavar="LEVEL",
                   help="level tried after a first failure (default: first level / 10); "
                   "if it fails too, the capacity is 0")
    p.add_argument("--require", type=_positive, metavar="LEVEL",
                   help="exit 1 unless the capacity found is at least this")
    p.add_argument("--max-time", default="10m", metavar="DURATION",
                   help="hard cap on the whole search (default 10m): no step starts that would end after it")
    p.add_argument("--hold", default="10s", metavar="DURATION",
                   help="shortest hold of a step after warm-up (default 10s)")
    p.add_argument("--max-hold", default="5m", metavar="DURATION",
                   help="longest hold of a step (default 5m); a rate step holds events/rate")
    p.add_argument("--events", type=int, metavar="N",
                   help="events a step needs (default: from the SLO, ceil(10/(1-p)) for its "
                   "highest percentile p: p95 -> 200, p99 -> 1000)")
    p.add_argument("--precision", type=_positive, default=0.12, metavar="FRACTION",
                   help="stop bisecting when first failure / last pass <= 1 + this (default 0.12)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="capacity directory (default: capacity/<UTC time>/ under the current directory)")
    p.add_argument("--target", metavar="URL", help="send the load here instead of the scenario's target")
    p.add_argument("--format", default="html,md,json,junit", metavar="LIST",
                   help="report formats (default: html,md,json,junit)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a target that is not this machine; only for targets you own")
    return p


def exit_code(result: CapacityResult) -> int:
    """0 found (>= --require), 1 capacity 0 or below --require, 3 inconclusive / not converged."""
    if result.passed():
        return EXIT_OK
    if result.conclusion in ("inconclusive", "exhausted", "running"):
        return EXIT_INCOMPLETE
    return EXIT_GATE_FAILED


def run(args: argparse.Namespace) -> int:
    if args.vary == "tenants" and args.tier is None:
        raise UsageError("--vary tenants needs --tier (e.g. --tier enterprise)")
    if args.start and args.ceiling and args.ceiling < args.start:
        raise UsageError(f"--ceiling {args.ceiling:g} is below --start {args.start:g}")
    loaded = load_scenario(args.scenario or CATALOG_DIR / "capacity.yaml")
    out = args.out or Path.cwd() / "capacity" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    if (out / "capacity.json").exists():
        raise UsageError(f"{out} already holds a capacity result; choose another --out")
    display = make_display(sys.stdout)
    with display:
        result, reports = run_capacity(CapacityRequest(
            scenario=loaded, out_dir=out, vary=args.vary, tier=args.tier, slo_path=args.slo,
            start=args.start, ceiling=args.ceiling, require=args.require, floor=args.floor,
            max_time_s=_duration("--max-time", args.max_time),
            min_hold_s=_duration("--hold", args.hold), max_hold_s=_duration("--max-hold", args.max_hold),
            events=args.events, precision=args.precision, target=args.target,
            allow_remote=args.allow_remote,
            formats=tuple(f.strip() for f in args.format.split(",") if f.strip()),
            progress=display.update))
    print(f"capacity: {result.sentence}", file=sys.stdout)
    print(f"capacity directory: {out}", file=sys.stdout)
    for fmt, path in reports.items():
        print(f"report ({fmt}): {path}", file=sys.stdout)
    return exit_code(result)


class _Display:
    def update(self, progress: CapacityProgress) -> None:
        raise NotImplementedError

    def __enter__(self) -> _Display:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None


def make_display(stream: TextIO) -> _Display:
    """Live rich table of the steps on a terminal; one line per step otherwise (CI logs)."""
    return _LiveDisplay(Console(file=stream)) if stream.isatty() else _LineDisplay(stream)


def _level(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"


class _LiveDisplay(LiveRegion, _Display):
    def update(self, progress: CapacityProgress) -> None:
        table = Table(title="slogate capacity", expand=False)
        for col in ("#", "level", "phase", "outcome", "sent/s", "p95", "errors", "why"):
            table.add_column(col)
        for s in progress.steps:
            f = s.facts
            style = {"pass": "green", "fail": "red"}.get(s.outcome, "yellow")
            table.add_row(
                str(s.index), _level(s.level, progress.unit), s.phase, Text(s.outcome, style=style),
                "-" if f is None else f"{f.sent_per_s:.1f}",
                "-" if f is None or f.p95_ms is None else f"{f.p95_ms:.0f} ms",
                "-" if f is None or f.error_rate is None else f"{f.error_rate:.2%}",
                (s.objective or "") if s.outcome == "fail" else s.reason[:60])
        line = f"{progress.elapsed_s:.0f} s of {progress.max_time_s:.0f} s"
        if progress.probe is not None:
            p, r = progress.probe, progress.run
            line += f" · step {len(progress.steps) + 1}: {p.phase} at {_level(p.level, progress.unit)}"
            if r is not None:
                line += (f" · {r.phase} {r.elapsed_s:.0f}/{r.planned_s:.0f} s, {r.requests_per_s:.1f} req/s"
                         + ("" if r.p95_ms is None else f", p95 {r.p95_ms:.0f} ms"))
        self.show(Group(table, Text(line)))


class _LineDisplay(_Display):
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._seen = 0
        self._probe: object = None

    def update(self, progress: CapacityProgress) -> None:
        for s in progress.steps[self._seen:]:
            why = s.objective if s.outcome == "fail" else s.reason
            print(f"[capacity] step {s.index} {_level(s.level, progress.unit)} ({s.phase}): "
                  f"{s.outcome} - {why}", file=self._stream, flush=True)
        self._seen = len(progress.steps)
        if progress.probe is not None and progress.probe is not self._probe:
            self._probe = progress.probe
            print(f"[capacity] step {self._seen + 1}: {progress.probe.phase} at "
                  f"{_level(progress.probe.level, progress.unit)}", file=self._stream, flush=True)
