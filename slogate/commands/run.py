"""``slogate run``: run a scenario, then judge and report it.

Thin on purpose (STYLE.md rule 20): flags -> :class:`PipelineRequest` -> :func:`run_pipeline`
-> exit code. The live display is the only thing this module adds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.table import Table

from foundation.errors import RunIncompleteError, UsageError
from scenarios.runner import RunProgress, RunRequest
from scenarios.spec import default_scenario_path, load_scenario
from slo.claims import ClaimStatus, Readiness
from slogate.commands._terminal import LiveRegion, positive_duration
from slogate.pipeline import PipelineOutcome, PipelineRequest, run_pipeline

__all__ = ["add_parser", "print_summary", "readiness_lines", "run"]

_DESCRIPTION = """\
Run a load scenario against a target and write a run record (run.json, samples/,
timeseries.parquet) to --out or runs/<run_id>/.

With no SCENARIO, runs the shipped smoke scenario: the embedded reference target on a free
127.0.0.1 port, HTTP tier users across all three tiers and 1,000+ WebSocket sessions, about
a minute in all. Scenario fields are documented in docs/scenarios.md; the shipped
scenarios are in scenarios/catalog/.

Safety: a target that is not this machine (127.0.0.0/8, ::1, localhost) is refused unless
--allow-remote is given; every run has a hard duration cap (limits.max_duration) and a disk
budget (limits.disk_budget); every process the run starts is stopped at its end, also on
Ctrl-C, which ends the run 'aborted' and keeps every sample recorded so far.
"""

_EPILOG = """\
After the load, the run is cross-checked against the target's own metrics, judged
against the SLO file (verdict.json) and reported (report.html, report.md, report.json,
junit.xml in the run record).

exit codes: 0 every objective passed (or warned), 1 an objective failed, 2 bad scenario
or SLO file or flags (the message names file, line and field), 3 target unreachable or
refused, the run was aborted, or there was too little data to judge.

At the end it prints the readiness decision (GO / NO-GO), the score, how many of the 13
claims were not verified, and the command that verifies them (slogate run readiness).

examples:
  slogate run
  slogate run readiness          (scenarios/catalog/readiness.yaml, by name)
  slogate run scenarios/catalog/spike.yaml --release v1.4.0
  slogate run scenarios/catalog/generic-http.yaml --target http://127.0.0.1:8080 --duration 20s
"""


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "run",
        help="run a load scenario and write a run record",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        metavar="SCENARIO",
        help="scenario YAML file, or the name of a shipped one (smoke, soak, readiness ...; "
        "default: the smoke scenario, scenarios/catalog/smoke.yaml)",
    )
    parser.add_argument(
        "--target",
        metavar="URL",
        help="send the load here instead of the scenario's target, e.g. http://127.0.0.1:8000",
    )
    parser.add_argument(
        "--duration",
        metavar="DURATION",
        help="run for this long instead of the scenario's duration: 90, 30s, 2m or 1h30m "
        "(stages are cut, or the last level held, to fit)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="write the run record here (default: runs/<run_id>/ under the current directory)",
    )
    parser.add_argument(
        "--release",
        metavar="LABEL",
        help="label the run with the release under test, e.g. v1.4.0 (used by compare)",
    )
    parser.add_argument(
        "--slo",
        type=Path,
        metavar="FILE",
        help="judge the run against this SLO file (default: the scenario's slo:, else "
        "slo/catalog/default.yaml)",
    )
    parser.add_argument(
        "--prometheus",
        metavar="local|URL",
        help="cross-check against Prometheus: 'local' starts a real Prometheus server "
        "(Debian package prometheus) scraping the target every second; a URL uses yours. "
        "Default: scrape the target's /metrics before and after the load",
    )
    parser.add_argument(
        "--no-cross-check",
        action="store_true",
        help="do not read the target's own metrics (a target without Prometheus metrics)",
    )
    parser.add_argument(
        "--format",
        default="html,md,json,junit",
        metavar="LIST",
        help="report formats to write into the run record (default: html,md,json,junit)",
    )
    parser.add_argument(
        "--allow-remote",
        nargs="?",
        const="*",
        default=None,
        metavar="LIST",
        help="allow a target that is not this machine; only for targets you own. With LIST "
        "(comma-separated CIDR blocks, addresses or host names, e.g. 10.0.0.0/24,loadgen-2) "
        "only those, and a distributed run's master accepts workers only from loopback and LIST",
    )
    parser.add_argument(
        "--expect-workers",
        type=int,
        metavar="N",
        help="generate the load on N other hosts running 'slogate worker --master THIS_HOST': "
        "wait for them (distributed.join_timeout, default 120 s), split users and sessions "
        "among them, merge their samples into this run record (scenario field: distributed)",
    )
    parser.add_argument(
        "--master-bind",
        metavar="HOST[:PORT]",
        help="where the distributed master listens for workers (default *:5557; "
        "scenario fields distributed.bind and distributed.port)",
    )
    parser.add_argument(
        "--isolation-probe",
        action="store_true",
        help="reference target only: during the load, replay two tenants' ids (runs, agents, tokens, "
        "audit targets) with every other tenant's tokens on every {id} route and the WebSocket "
        "subscribe; evidence for readiness claim 7 (same as the scenario's isolation_probe: true)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    duration_s = positive_duration("--duration", args.duration)
    # a bare catalog name (``readiness``) is resolved by load_scenario itself
    loaded = load_scenario(args.scenario if args.scenario is not None else default_scenario_path())
    if args.expect_workers is not None and args.expect_workers < 1:
        raise UsageError("--expect-workers must be at least 1")
    allow_any = args.allow_remote == "*"
    allowed = () if args.allow_remote in (None, "*") else tuple(
        entry.strip() for entry in args.allow_remote.split(",") if entry.strip()
    )
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    display = make_display(sys.stdout)
    with display:
        outcome = run_pipeline(
            PipelineRequest(
                run=RunRequest(
                    scenario=loaded,
                    out_dir=args.out,
                    release=args.release,
                    duration_s=duration_s,
                    target=args.target,
                    allow_remote=allow_any,
                    progress=display.update,
                    isolation_probe=args.isolation_probe,
                    allowed_remote=allowed,
                    expect_workers=args.expect_workers,
                    master_bind=args.master_bind,
                ),
                prometheus=args.prometheus,
                cross_check=not args.no_cross_check,
                formats=formats,
                slo_path=args.slo,
            )
        )
    print_summary(outcome, sys.stdout)
    if not outcome.run.ok:
        run = outcome.run
        raise RunIncompleteError(
            f"run {run.status.value}: {run.reason} (record kept in {run.run_dir})"
        )
    return outcome.exit_code


def print_summary(outcome: PipelineOutcome, stream: TextIO) -> None:
    """Where everything is, and the verdict in one line per objective."""
    run = outcome.run
    print(f"run record: {run.run_dir}  (status: {run.status.value}"
          f"{': ' + run.reason if run.reason else ''})", file=stream)
    for note in outcome.notes:
        print(f"note: {note}", file=stream)
    if outcome.evaluation is not None:
        verdict = outcome.evaluation.verdict
        print(f"verdict: {verdict.status.value.upper()} against {outcome.evaluation.slo_path}",
              file=stream)
        for result in verdict.objectives:
            value = "-" if result.value is None else f"{result.value:.4g} {result.unit}".strip()
            print(f"  {result.status.value:<17} {result.name}: {value} "
                  f"(objective {result.threshold_text})", file=stream)
    for fmt, path in outcome.reports.items():
        print(f"report ({fmt}): {path}", file=stream)
    if outcome.readiness is not None:
        scenario = str(run.info.scenario.get("name") or "")
        for line in readiness_lines(outcome.readiness, scenario):
            print(line, file=stream)


VERIFY_SCENARIO = "readiness"
"""The catalog scenario (scenarios/catalog/readiness.yaml) that exercises every claim: soak,
faults and a spike. ``slogate run readiness`` finds it by name."""


def readiness_lines(readiness: Readiness, scenario: str) -> list[str]:
    """The decision last, where a reader's eye lands: GO/NO-GO, the score, and what the run
    did not verify, with the command that would."""
    unverified = [c for c in readiness.claims if c.status is ClaimStatus.NOT_VERIFIED]
    lines = [readiness.sentence,
             f"readiness: {readiness.decision}, score {readiness.score:.0f} % "
             f"({readiness.earned} of {readiness.total} weighted points); "
             f"{readiness.count(ClaimStatus.PASSED)} of {len(readiness.claims)} claims passed, "
             f"{readiness.count(ClaimStatus.FAILED)} failed, {len(unverified)} not verified"]
    if unverified:
        ids = ", ".join(str(c.claim.id) for c in unverified)
        if scenario == VERIFY_SCENARIO:
            lines.append(f"not verified: claims {ids} (this run did not exercise them; see "
                         "the report's claims table for why)")
        else:
            lines.append(f"not verified: claims {ids}; to verify them: "
                         f"slogate run {VERIFY_SCENARIO}")
    return lines


class _Display:
    """Receives :class:`RunProgress`; subclasses render it."""

    def update(self, progress: RunProgress) -> None:
        raise NotImplementedError

    def __enter__(self) -> _Display:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


def make_display(stream: TextIO) -> _Display:
    """Live rich panel on a terminal; one plain line every ~5 s otherwise (CI logs)."""
    if stream.isatty():
        return _LiveDisplay(Console(file=stream))
    return _LineDisplay(stream)


def _tiers(counts: dict[str, int] | object) -> str:
    if not isinstance(counts, dict) or not counts:
        return "-"
    return " ".join(f"{tier or 'all'}={n}" for tier, n in sorted(counts.items()))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _p95(progress: RunProgress) -> str:
    """One figure per kind: an HTTP request and a WebSocket answer are not one population."""
    return (f"http {_ms(progress.http_p95_ms)}, "
            f"ws first token {_ms(progress.ws_first_token_p95_ms)}")


class _LiveDisplay(LiveRegion, _Display):
    def update(self, progress: RunProgress) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("phase", progress.phase + (f": {progress.message}" if progress.message else ""))
        table.add_row(
            "time", f"{progress.elapsed_s:.0f} s elapsed, {progress.remaining_s:.0f} s remaining"
        )
        table.add_row("requests/s", f"{progress.requests_per_s:.1f}")
        table.add_row("operations", f"{progress.operations} ({progress.errors} errors)")
        table.add_row("p95 so far", _p95(progress))
        table.add_row("http users", _tiers(dict(progress.http_users)))
        table.add_row("ws sessions", _tiers(dict(progress.ws_sessions)))
        if progress.schedule_slips:
            table.add_row("schedule slips", str(progress.schedule_slips))
        if progress.faults:
            table.add_row("fault in force", ", ".join(progress.faults), style="bold red")
        self.show(table)


class _LineDisplay(_Display):
    def __init__(self, stream: TextIO, every_s: float = 5.0) -> None:
        self._stream = stream
        self._every_s = every_s
        self._last = -float("inf")
        self._last_phase = ""

    def update(self, progress: RunProgress) -> None:
        now = time.monotonic()
        key = progress.phase + progress.message
        if key == self._last_phase and now - self._last < self._every_s:
            return
        self._last, self._last_phase = now, key
        if progress.phase == "starting":
            line = f"[starting] {progress.message}"
        else:
            line = (
                f"[{progress.phase}] {progress.elapsed_s:.0f}s/{progress.planned_s:.0f}s "
                f"{progress.requests_per_s:.1f} req/s, {progress.operations} ops, "
                f"{progress.errors} errors, p95 {_p95(progress)}, "
                f"users {_tiers(dict(progress.http_users))}, "
                f"sessions {_tiers(dict(progress.ws_sessions))}"
            )
            if progress.faults:
                line += f", fault in force: {', '.join(progress.faults)}"
        print(line, file=self._stream, flush=True)
