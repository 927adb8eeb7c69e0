"""``slogate evaluate PATH [--slo FILE]``: judge a run record (or an imported result) against SLOs.

PATH is a run directory written by ``slogate run``, or a result file of another tool, which is
first converted into a run record marked ``approximate``:

- a Locust ``--csv`` stats history (``*_stats_history.csv``), or
- a k6 ``--out json=FILE`` result (one JSON object per line).

With ``--prometheus URL`` the run is first cross-checked against that server (counts per
operation and status, p95/p99 against the server's histogram buckets) into ``server.json``.

Writes ``verdict.json`` into the run directory and prints a compact table. Exit codes:
0 pass (also warn: the table says so) · 1 an objective failed · 2 bad SLO file or flags ·
3 the run is incomplete or cannot be judged (aborted, no samples, insufficient data).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from foundation.errors import UsageError
from slo._types import Status
from slo.evaluate_run import CATALOG_DIR, EvaluateRequest, evaluate_run
from slo.sources.prometheus import PrometheusSource
from slo.verdict import ObjectiveResult, Verdict, verdict_to_dict

__all__ = ["add_parser", "render_faults", "render_table", "run"]

_STYLE = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.INSUFFICIENT_DATA: "magenta",
}


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "evaluate",
        help="judge a run record (or an imported Locust/k6 result) against SLOs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "path", metavar="PATH", type=Path, nargs="?",
        help="run directory, or a Locust stats-history CSV / k6 JSON file to import",
    )
    parser.add_argument(
        "--slo", type=Path, metavar="FILE",
        help="SLO file (native, k6 thresholds or OpenSLO); default: the run's slo_path, "
        f"else {CATALOG_DIR / 'default.yaml'} ({CATALOG_DIR / 'http.yaml'} for imports)",
    )
    parser.add_argument(
        "--import-locust-csv", type=Path, metavar="FILE",
        help="convert a Locust --csv stats history (FILE_stats_history.csv) and judge it",
    )
    parser.add_argument(
        "--import-k6", type=Path, metavar="FILE",
        help="convert a k6 --out json=FILE result (JSON lines) and judge it",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR",
        help="where an imported result's run record goes (default: FILE.run/ beside it)",
    )
    parser.add_argument(
        "--prometheus", metavar="URL",
        help="cross-check against a Prometheus server that scraped the target during the run "
        "(writes server.json first). 'local' is for 'slogate run', which starts one",
    )
    parser.add_argument(
        "--scrape-interval", type=float, default=15.0, metavar="SECONDS",
        help="that server's scrape interval for the target (default 15, Prometheus' default)",
    )
    parser.add_argument(
        "--allow-incomplete", action="store_true",
        help="judge an aborted or failed run's samples anyway (it still cannot exit 0)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print verdict.json instead of the table"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    run_dir, imported = _run_dir(args)
    default = CATALOG_DIR / ("http.yaml" if imported else "default.yaml")
    outcome = evaluate_run(
        EvaluateRequest(
            run_dir=run_dir, slo_path=args.slo, allow_incomplete=args.allow_incomplete,
            default_slo=default, source=_source(args),
        )
    )
    if args.json:
        print(json.dumps(verdict_to_dict(outcome.verdict), indent=2))
    else:
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=140)  # logs and CI: do not wrap at 80
        console.print(render_table(outcome.verdict))
        if outcome.verdict.faults:
            console.print(render_faults(outcome.verdict))
        if outcome.verdict.abort is not None:
            console.print(Text(f"stopped early: {outcome.verdict.abort.reason}", style="bold red"))
        console.print(_summary(outcome.verdict, outcome.exit_code))
        console.print(f"verdict: {outcome.verdict_path}  (SLO file: {outcome.slo_path})")
    return outcome.exit_code


def _source(args: argparse.Namespace) -> PrometheusSource | None:
    if args.prometheus is None:
        return None
    if args.prometheus == "local":
        raise UsageError(
            "--prometheus local starts a server during 'slogate run'; after a run, give the "
            "URL of a Prometheus that scraped the target (or rely on the run's server.json)"
        )
    if not args.prometheus.startswith(("http://", "https://")):
        raise UsageError(f"--prometheus takes a URL like http://127.0.0.1:9090, got "
                         f"{args.prometheus!r}")
    return PrometheusSource(args.prometheus, scrape_interval_s=args.scrape_interval)


def _run_dir(args: argparse.Namespace) -> tuple[Path, bool]:
    """The run directory to judge, importing a foreign result first when asked."""
    sources = [p for p in (args.import_locust_csv, args.import_k6) if p is not None]
    if len(sources) > 1 or (sources and args.path is not None):
        raise UsageError("give one of PATH, --import-locust-csv or --import-k6, not several")
    if not sources and args.path is None:
        raise UsageError("give a run directory (PATH), or a file with --import-locust-csv/-k6")
    from slo.importers import detect_format, import_file  # only needed for imports

    if args.path is not None and args.path.is_dir():
        return args.path, False
    path = sources[0] if sources else args.path
    if not path.exists():
        raise UsageError(f"{path} does not exist; give a run directory or a result file")
    fmt = "locust" if args.import_locust_csv else "k6" if args.import_k6 else detect_format(path)
    out = args.out if args.out is not None else path.with_name(path.name + ".run")
    import_file(path, out, fmt)
    print(f"imported {fmt} result {path} -> {out} (approximate)", file=sys.stderr)
    return out, True


def render_table(verdict: Verdict) -> Table:
    """The compact verdict table: one row per objective, one indented row per group."""
    table = Table(title=f"SLO verdict: {verdict.slo_name or verdict.slo}", title_justify="left")
    right = ("value", "events")
    for column in ("objective", "statistic", "value", "threshold", "events", "status",
                   "budget / note"):
        table.add_column(column, justify="right" if column in right else "left")
    for r in verdict.objectives:
        table.add_row(
            r.name + (" ~" if r.approximate else ""), r.statistic, _value(r.value, r.unit),
            r.threshold_text, f"{r.events:,}", _status(r.status), _note(r),
        )
        for g in r.groups:
            table.add_row(
                f"  {r.per}={g.key}", "", _value(g.value, r.unit), "", f"{g.events:,}",
                _status(g.status), g.reason,
            )
    return table


def render_faults(verdict: Verdict) -> Table:
    """One row per fault: when, "recovered in X s" / "not recovered", budget consumed."""
    table = Table(title="Faults and recovery", title_justify="left")
    for column in ("fault", "action", "recovery", "health probe", "SLIs back", "budget used"):
        table.add_column(column)
    for f in verdict.faults:
        budget = "; ".join(f"{b.objective} {b.consumed * 100:.1f} %" for b in f.budgets
                           if b.consumed is not None) or "-"
        table.add_row(
            f.name, f.action, Text(f.summary, style="green" if f.recovered else "red"),
            "-" if f.health_recovery_s is None else f"{f.health_recovery_s:.1f} s",
            "-" if f.sli_recovery_s is None else f"{f.sli_recovery_s:.1f} s", budget,
        )
    return table


def _summary(verdict: Verdict, exit_code: int) -> Text:
    counts: dict[str, int] = {}
    for r in verdict.objectives:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in counts.items())
    line = Text.assemble(_status(verdict.status), f"  {parts}; exit {exit_code}")
    if verdict.status is Status.WARN:
        line.append(" (warn levels were crossed; the gate still passes)")
    if verdict.approximate:
        line.append(f"\n~ approximate: {verdict.approximate_reason}")
    return line


def _status(status: Status) -> Text:
    label = "NO DATA" if status is Status.INSUFFICIENT_DATA else status.value.upper()
    return Text(label, style=_STYLE[status])


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "%":
        return f"{value:.3f} %"
    return f"{value:,.1f} {unit}"


def _note(r: ObjectiveResult) -> str:
    notes = []
    if r.burn_rate is not None and r.budget_consumed is not None and r.window_s:
        days = r.window_s / 86400
        notes.append(
            f"burn {r.burn_rate:.2f}x, {r.budget_consumed * 100:.4f} % of the {days:g}d budget"
        )
    fired = [a.name for a in r.alerts if a.fired]
    if fired:
        notes.append("alerts: " + ", ".join(fired))
    if r.reason:
        notes.append(r.reason)
    return "; ".join(notes)
