"""``comparison.md``: the comparison for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

GitHub refuses comments over 65,536 characters (and step summaries over 1 MiB), so the
document stays under :data:`LIMIT`. Rows are cut in this order until it fits: metrics that
did not change ("same", "no data"), then trend columns, then -- only if thousands of
operations regressed -- the regressions beyond the first few hundred. The headline, the
run table, the SLO transitions and the method line are never cut; a note says what was
left out and that ``comparison.html`` / ``comparison.json`` have everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from reports import fmt
from reports.comparison.text import (
    CHANGE_ICON,
    METRIC_TITLE,
    OUTCOME_ICON,
    change_text,
    headline,
    metric_order,
    value,
)
from slo.compare.model import Change, Comparison, MetricComparison, RunSummary
from slo.history import Trend

__all__ = ["LIMIT", "render_comparison_markdown"]

LIMIT: Final = 65_000
_STEPS: Final = ((None, None, None), (200, None, None), (50, 12, None), (10, 8, None),
                 (0, 5, 500), (0, 3, 100), (0, 0, 20))
_TAG: Final = re.compile(r"<(?=[A-Za-z/!?])")


def _cell(text: object) -> str:
    """Table-safe text: no newlines, escaped pipes, no raw HTML tags from sample names."""
    value = str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    return _TAG.sub("&lt;", value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], align: str = "") -> list[str]:
    spec = ["---:" if a == "r" else "---" for a in align.ljust(len(headers), "l")]
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(spec) + " |"]
    return out + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]


def _name(run: RunSummary) -> str:
    return run.release or run.run_id


def _head(c: Comparison) -> list[str]:
    icon = OUTCOME_ICON[c.outcome.value]
    lines = [f"# {icon} {c.outcome.value.replace('_', ' ').title()} · {_name(c.candidate)} "
             f"vs {_name(c.baseline)}", "", f"**{_cell(headline(c))}**", ""]
    if c.mismatches:
        verb = "compared anyway (--allow-different)" if c.allowed_different else "refused"
        lines += [f"> **The runs differ in their set-up; {verb}:** "
                  + "; ".join(_cell(m.sentence()) for m in c.mismatches), ""]
    rows = [
        ("Run", c.baseline.run_id, c.candidate.run_id),
        ("Release", c.baseline.release or "-", c.candidate.release or "-"),
        ("Samples judged", fmt.count(c.baseline.samples), fmt.count(c.candidate.samples)),
        ("Judged window", fmt.duration(c.baseline.window_s), fmt.duration(c.candidate.window_s)),
        ("SLO verdict", c.baseline.verdict_status or "-", c.candidate.verdict_status or "-"),
    ]
    return [*lines, *_table(("", "Baseline", "Candidate"), rows), ""]


def _metric_rows(metrics: Sequence[MetricComparison]) -> list[tuple[str, ...]]:
    return [
        (m.operation.label, METRIC_TITLE[m.metric], value(m.baseline, m.unit),
         value(m.candidate, m.unit), change_text(m), m.tolerance_text,
         f"{CHANGE_ICON[m.change.value]} {m.change.value.replace('_', ' ')}"
         + ("" if m.gated else " (not gated)") + (f": {m.reason}" if m.reason else ""))
        for m in metrics
    ]


_HEADERS: Final = ("Operation", "Metric", "Baseline", "Candidate", "Change [CI]", "Tolerance", "")


def _changes(c: Comparison, rest_rows: int | None, worst_rows: int | None) -> tuple[list[str], int]:
    ordered = sorted(c.metrics, key=metric_order)
    moved = [m for m in ordered if m.change in (Change.WORSE, Change.BETTER)]
    rest = [m for m in ordered if m.change not in (Change.WORSE, Change.BETTER)]
    cut = 0
    if worst_rows is not None and len(moved) > worst_rows:
        cut += len(moved) - worst_rows
        moved = moved[:worst_rows]
    lines = ["## Changes beyond tolerance", ""]
    lines += _table(_HEADERS, _metric_rows(moved), "llrrlll") if moved else ["None."]
    lines.append("")
    if rest_rows is None or rest_rows > 0:
        shown = rest if rest_rows is None else rest[:rest_rows]
        cut += len(rest) - len(shown)
        lines += ["## Within tolerance or not compared", "",
                  *_table(_HEADERS, _metric_rows(shown), "llrrlll"), ""]
    else:
        cut += len(rest)
    return lines, cut


def _objectives(c: Comparison) -> list[str]:
    if not c.objectives:
        return []
    rows = [
        (o.name, f"{value(o.baseline, o.unit)} ({o.baseline_status})",
         f"{value(o.candidate, o.unit)} ({o.candidate_status})",
         "-" if o.change_pct is None else f"{o.change_pct:+.1f} %", o.threshold_text,
         f"{CHANGE_ICON[o.change.value]} {o.change.value}")
        for o in c.objectives
    ]
    return ["## SLO objectives", "",
            *_table(("Objective", "Baseline", "Candidate", "Change", "Threshold", ""), rows, "lrrrll"), ""]


def _trend(trend: Trend | None, columns: int | None) -> list[str]:
    if trend is None or not trend.lines or len(trend.labels) < 2:
        return []
    keep = len(trend.labels) if columns is None else max(2, columns)
    labels = trend.labels[-keep:]
    marks = ["" if p is None else (" ✅" if p else " ❌") for p in trend.passed[-keep:]]
    headers = ("SLI", *(f"{lab}{mk}" for lab, mk in zip(labels[:-1], marks[:-1], strict=True)),
               f"**{labels[-1]}** (candidate)")
    rows = [(line.name, *(value(v, line.unit) for v in line.values[-keep:])) for line in trend.lines]
    return [f"## Trend over the last {len(labels) - 1} recorded releases", "",
            *_table(headers, rows, "l" + "r" * len(labels)), ""]


def _method(c: Comparison) -> list[str]:
    s = c.settings
    family = (f"Bonferroni over {c.tests} tests, {s.confidence * 100:g} % family-wise"
              if s.correction == "bonferroni" and c.tests > 1 else "no multiple-comparison correction")
    lines = [f"<sub>Intervals at {c.per_test_confidence * 100:.4g} % per test ({family}). "
             "Latency: Mann-Whitney U with the Hodges-Lehmann shift, tolerance relative to the "
             "baseline median; P95/P99: bootstrap intervals; error rate: two-proportion test, "
             "Newcombe interval, tolerance in percentage points; throughput: per-second counts. "
             "See docs/compare.md.</sub>"]
    if c.only_in_baseline or c.only_in_candidate:
        lines.insert(0, "Operations in one run only: "
                     + ", ".join([f"{_cell(k.label)} (baseline)" for k in c.only_in_baseline]
                                 + [f"{_cell(k.label)} (candidate)" for k in c.only_in_candidate])
                     + "\n")
    return [*lines, *(f"\n_{_cell(n)}_" for n in c.notes), ""]


def render_comparison_markdown(c: Comparison, trend: Trend | None = None, limit: int = LIMIT) -> str:
    """The comparison as GitHub-flavoured Markdown, at most ``limit`` characters."""
    text = ""
    for rest_rows, columns, worst_rows in _STEPS:
        changes, cut = _changes(c, rest_rows, worst_rows)
        lines = [*_head(c), *changes, *_objectives(c), *_trend(trend, columns), *_method(c)]
        if cut:
            lines.append(f"_{cut} rows left out to fit a comment; comparison.html and "
                         "comparison.json have every metric._")
        text = "\n".join(lines).rstrip() + "\n"
        if len(text) <= limit:
            return text
    return text[: limit - 60].rsplit("\n", 1)[0] + "\n\n_Truncated; see comparison.html._\n"
