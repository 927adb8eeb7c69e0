"""``slogate compare BASELINE CANDIDATE``: did the candidate release regress against the baseline?

Compares two run records per operation (kind x name x tier) -- latency (Mann-Whitney U and
the Hodges-Lehmann shift), P95 and P99 (bootstrap intervals), error rate (two-proportion
test), throughput -- and the SLO objectives of their verdicts, then writes
comparison.{html,md,json,junit.xml} to --out (default: the candidate's run directory).
Methods and tolerances: docs/compare.md.

With a run history (a directory slogate keeps run records in, by release label):

  slogate compare --history DIR --baseline latest-passing CANDIDATE
  slogate compare --history DIR --baseline v1.4.0 CANDIDATE
  slogate compare --history DIR --record RUN_DIR [--label v1.5.0]

--record copies a judged run record into the history (its verdict.json and
comparison.json decide whether it counts as passing); reports then show the trend of the
key SLIs over the last --trend releases. Given with a comparison, --record must name the
CANDIDATE: it is recorded after the comparison, with its outcome (what ci/gate.sh does).

Runs that differ in scenario, load rate or duration are refused (exit 2) unless
--allow-different is given; the reports then flag every difference.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from foundation.errors import EXIT_GATE_FAILED, EXIT_INCOMPLETE, EXIT_OK, UsageError
from reports.comparison import COMPARISON_FORMATS, write_comparison_reports
from reports.comparison.text import METRIC_TITLE, change_text, headline, value
from scenarios.spec.units import parse_bytes
from slo.compare import (
    CompareSettings,
    Comparison,
    Mismatch,
    Outcome,
    compare_runs,
    find_mismatches,
    load_run,
    planned_duration_s,
    slo_objectives,
    write_comparison,
)
from slo.compare.inputs import RunData
from slo.history import (
    DEFAULT_KEEP,
    LATEST_PASSING,
    Trend,
    build_trend,
    key_slis,
    open_history,
    record_run,
    resolve_baseline,
)

__all__ = ["CompareRequest", "add_parser", "parse_percent", "run", "run_compare"]

_EPILOG = """\
exit codes: 0 no regression, 1 regression (a gated metric or an SLO objective got worse),
2 bad flags or runs that are not comparable, 3 a run is unusable (aborted, missing, no
samples) or nothing could be compared.

tolerances take a percentage of the baseline's value (10% or 10) or 'off'; the error-rate
tolerance is in percentage points (0.1pp).
"""


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compare", help="compare a candidate run with a baseline run (release regression gate)",
        description=__doc__, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("runs", nargs="*", type=Path, metavar="RUN_DIR",
                   help="BASELINE CANDIDATE run directories, or only CANDIDATE with --history")
    h = p.add_argument_group("history")
    h.add_argument("--history", type=Path, metavar="DIR", help="run history directory")
    h.add_argument("--baseline", metavar="SPEC",
                   help=f"'{LATEST_PASSING}' or a release label in --history")
    h.add_argument("--record", type=Path, metavar="RUN_DIR",
                   help="copy this judged run record into --history (alone: record only; "
                   "with a comparison: the candidate, recorded after it)")
    h.add_argument("--label", help="release label for --record (default: the run's release, else its id)")
    h.add_argument("--keep", type=int, default=DEFAULT_KEEP, metavar="N",
                   help=f"keep at most N runs in the history (default {DEFAULT_KEEP})")
    h.add_argument("--history-budget", default="2GiB", metavar="SIZE",
                   help="keep the history under this size, e.g. 500MB (default 2GiB)")
    h.add_argument("--trend", type=int, default=10, metavar="N",
                   help="show the trend over the last N recorded releases (default 10)")
    h.add_argument("--no-baseline", choices=("error", "ok"), default="error",
                   help="when --history has no passing run yet: exit 3 (error, default) or "
                   "0 (ok: a first run has nothing to regress against)")
    t = p.add_argument_group("tolerances and statistics")
    t.add_argument("--confidence", default="95%", help="family-wise confidence (default 95%%)")
    t.add_argument("--latency-tolerance", default="10%", metavar="PCT",
                   help="allowed latency shift, %% of the baseline median (default 10%%)")
    t.add_argument("--p95-tolerance", default="10%", metavar="PCT", help="default 10%%")
    t.add_argument("--p99-tolerance", default="20%", metavar="PCT", help="default 20%%")
    t.add_argument("--error-rate-tolerance", default="0.1pp", metavar="PP",
                   help="allowed error-rate rise in percentage points (default 0.1pp)")
    t.add_argument("--throughput-tolerance", default="10%", metavar="PCT", help="default 10%%")
    t.add_argument("--correction", choices=("bonferroni", "none"), default="bonferroni",
                   help="multiple-comparison correction (default bonferroni)")
    t.add_argument("--raw-latency", action="store_true",
                   help="compare raw latency instead of latency corrected for coordinated omission")
    t.add_argument("--min-samples", type=int, default=30, metavar="N",
                   help="fewer successful samples than this in either run: not compared (default 30)")
    t.add_argument("--resamples", type=int, default=2000, metavar="B",
                   help="bootstrap resamples (100..100000, default 2000)")
    t.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap (default 0)")
    o = p.add_argument_group("output")
    o.add_argument("--allow-different", action="store_true",
                   help="compare runs whose scenario, rate or duration differ (flagged in reports)")
    o.add_argument("--out", type=Path, metavar="DIR",
                   help="where comparison.* go (default: the candidate's run directory)")
    o.add_argument("--format", default=",".join(COMPARISON_FORMATS),
                   help="comma-separated subset of html,md,json,junit (default all)")
    return p


def parse_percent(text: str, *, name: str, unit: str = "%") -> float | None:
    """``"10%"`` / ``"10"`` -> 0.10; ``"0.1pp"`` -> 0.1 (unit ``pp``); ``"off"`` -> ``None``."""
    raw = text.strip().lower()
    if raw in ("off", "none"):
        return None
    number = raw.removesuffix("pp").removesuffix("%").strip()
    try:
        v = float(number)
    except ValueError:
        example = "0.1pp" if unit == "pp" else "10%"
        raise UsageError(f"{name} {text!r} is not a number; write e.g. {example}, or off") from None
    if not 0 <= v < 100:
        raise UsageError(f"{name} {text!r} must be between 0 and 100")
    return v if unit == "pp" else v / 100.0


def _settings(args: argparse.Namespace) -> CompareSettings:
    conf_text = args.confidence.strip().removesuffix("%")
    try:
        conf = float(conf_text)
    except ValueError:
        raise UsageError(f"--confidence {args.confidence!r} is not a number; write e.g. 95%") from None
    conf = conf / 100.0 if conf > 1 else conf
    try:
        return CompareSettings(
            confidence=conf,
            latency_tolerance=parse_percent(args.latency_tolerance, name="--latency-tolerance"),
            p95_tolerance=parse_percent(args.p95_tolerance, name="--p95-tolerance"),
            p99_tolerance=parse_percent(args.p99_tolerance, name="--p99-tolerance"),
            error_rate_tolerance_pp=parse_percent(args.error_rate_tolerance,
                                                  name="--error-rate-tolerance", unit="pp"),
            throughput_tolerance=parse_percent(args.throughput_tolerance, name="--throughput-tolerance"),
            correction=args.correction, min_samples=args.min_samples,
            bootstrap_resamples=args.resamples, seed=args.seed,
            corrected_latency=not args.raw_latency,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class CompareRequest:
    """Everything ``slogate compare`` was asked, typed (no argparse beyond this point)."""

    candidate: Path
    settings: CompareSettings
    baseline: Path | None = None
    history: Path | None = None
    baseline_spec: str | None = None
    out: Path | None = None
    formats: tuple[str, ...] = COMPARISON_FORMATS
    allow_different: bool = False
    trend_n: int = 10
    no_baseline_ok: bool = False


@dataclass(frozen=True, slots=True)
class CompareOutcome:
    comparison: Comparison | None
    written: dict[str, Path]
    exit_code: int
    message: str = ""


def _refuse_mismatches(base: RunData, cand: RunData, allow: bool) -> list[Mismatch]:
    found = find_mismatches(
        base.scenario, cand.scenario,
        baseline_planned_s=planned_duration_s(base.scenario),
        candidate_planned_s=planned_duration_s(cand.scenario),
    )
    if found and not allow:
        listed = "; ".join(m.sentence() for m in found[:3]) + ("; ..." if len(found) > 3 else "")
        raise UsageError(
            f"baseline {base.summary.run_id} and candidate {cand.summary.run_id} differ in "
            f"their set-up ({listed}); compare runs of the same scenario, rate and duration, "
            "or pass --allow-different to compare them anyway"
        )
    return found


def run_compare(request: CompareRequest, *, now: float) -> CompareOutcome:
    """Load, check comparability, compare, render. Raises HarnessError subclasses."""
    s = request.settings
    objectives, note = slo_objectives(request.candidate)  # the candidate's SLO, on both runs
    candidate = load_run(request.candidate, corrected=s.corrected_latency, role="candidate",
                         objectives=objectives)
    history = open_history(request.history) if request.history is not None else None
    baseline_dir = request.baseline
    if history is not None and request.baseline_spec is not None:
        if request.no_baseline_ok and not any(e.passed for e in history.entries
                                              if e.label != candidate.summary.release):
            return CompareOutcome(None, {}, EXIT_OK, f"no passing run in {history.root} yet: "
                                  "nothing to compare against (--no-baseline ok)")
        entry = resolve_baseline(history, request.baseline_spec,
                                 exclude_label=candidate.summary.release)
        baseline_dir = history.path_of(entry)
    assert baseline_dir is not None
    baseline = load_run(baseline_dir, corrected=s.corrected_latency, role="baseline",
                        objectives=objectives)
    mismatches = _refuse_mismatches(baseline, candidate, request.allow_different)
    comparison = compare_runs(baseline, candidate, s, mismatches=mismatches,
                              allowed_different=request.allow_different, created_at=now,
                              notes=[note] if note else [])
    trend: Trend | None = None
    if history is not None:
        verdict = candidate.summary.verdict_status
        passed = None if verdict is None else (
            verdict in ("pass", "warn") and comparison.outcome is not Outcome.REGRESSION)
        label = candidate.summary.release or candidate.summary.run_id
        trend = build_trend(history.last(request.trend_n), label, key_slis(candidate), passed)
    # The judged record goes into the candidate whatever formats or --out were asked for:
    # the history decides "passing" from it, so it must never depend on a report format.
    judged = write_comparison(comparison, request.candidate / "comparison.json")
    out = request.out if request.out is not None else request.candidate
    formats = [f for f in request.formats if not (f == "json" and out.resolve() == judged.parent.resolve())]
    written = write_comparison_reports(comparison, out, trend, formats)
    if "json" in request.formats and "json" not in written:
        written["json"] = judged
    code = {Outcome.REGRESSION: EXIT_GATE_FAILED, Outcome.NO_DATA: EXIT_INCOMPLETE}.get(
        comparison.outcome, EXIT_OK)
    return CompareOutcome(comparison, written, code)


def _request(args: argparse.Namespace) -> CompareRequest:
    formats = tuple(dict.fromkeys(f.strip() for f in args.format.split(",") if f.strip()))
    if not formats or any(f not in COMPARISON_FORMATS for f in formats):
        raise UsageError(f"--format {args.format!r}: choose from {','.join(COMPARISON_FORMATS)}")
    if args.baseline is not None and args.history is None:
        raise UsageError("--baseline needs --history DIR (or give BASELINE CANDIDATE directories)")
    if args.history is not None and args.baseline is not None:
        if len(args.runs) != 1:
            raise UsageError("with --history and --baseline, give exactly one run: the CANDIDATE")
        base, cand = None, args.runs[0]
    elif len(args.runs) == 2:
        base, cand = args.runs
    else:
        raise UsageError("give BASELINE CANDIDATE run directories, or --history DIR "
                         "--baseline latest-passing CANDIDATE")
    return CompareRequest(
        candidate=cand, baseline=base, settings=_settings(args), history=args.history,
        baseline_spec=args.baseline, out=args.out, formats=formats,
        allow_different=args.allow_different, trend_n=args.trend,
        no_baseline_ok=args.no_baseline == "ok",
    )


def _record(args: argparse.Namespace) -> int:
    if args.history is None:
        raise UsageError("--record needs --history DIR")
    try:
        budget = parse_bytes(args.history_budget)
    except ValueError as exc:
        raise UsageError(f"--history-budget {args.history_budget!r}: {exc}") from exc
    entry = record_run(args.history, args.record, now=time.time(), label=args.label,
                       keep=args.keep, budget_bytes=budget)
    state = {True: "passing", False: "failing", None: "not judged"}[entry.passed]
    print(f"recorded {args.record} as {entry.label!r} ({state}, {entry.bytes:,} bytes) "
          f"in {args.history}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    if args.record is not None and not args.runs:
        return _record(args)
    request = _request(args)
    if args.record is not None and args.record.resolve() != request.candidate.resolve():
        raise UsageError(f"--record {args.record} with a comparison must name the candidate "
                         f"({request.candidate}); record other runs on their own")
    outcome = run_compare(request, now=time.time())
    if args.record is not None and outcome.exit_code in (EXIT_OK, EXIT_GATE_FAILED):
        _record(args)
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=140)
    if outcome.comparison is None:
        console.print(outcome.message)
        return outcome.exit_code
    console.print(_table(outcome.comparison))
    console.print(headline(outcome.comparison) + f" (exit {outcome.exit_code})")
    for name, path in outcome.written.items():
        console.print(f"{name}: {path}")
    return outcome.exit_code


def _table(c: Comparison) -> Table:
    table = Table(title=f"{c.candidate.release or c.candidate.run_id} vs "
                  f"{c.baseline.release or c.baseline.run_id}: {c.outcome.value}",
                  title_justify="left")
    for col in ("operation", "metric", "baseline", "candidate", "change [interval]", "tolerance", ""):
        table.add_column(col)
    style = {"worse": "bold red", "better": "green", "same": "", "no_data": "magenta"}
    for m in c.metrics:
        table.add_row(m.operation.label, METRIC_TITLE[m.metric], value(m.baseline, m.unit),
                      value(m.candidate, m.unit), change_text(m), m.tolerance_text,
                      f"[{style[m.change.value]}]{m.change.value}[/]" if style[m.change.value]
                      else m.change.value)
    for o in c.objectives:
        table.add_row(f"SLO {o.name}", o.sli, f"{value(o.baseline, o.unit)} {o.baseline_status}",
                      f"{value(o.candidate, o.unit)} {o.candidate_status}", "", o.threshold_text,
                      o.change.value)
    return table
