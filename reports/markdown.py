"""Markdown for pull-request comments and ``$GITHUB_STEP_SUMMARY``.

GitHub refuses a comment over 65,536 characters, so the document is kept under
:data:`LIMIT`: first the long tables shrink (routes, failures), then the SRE sections drop
from the end; the readiness part (decision, claims, risks, capacity, budget, identity) is
never cut. When anything is left out a note says what, and where the full report is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Final

from reports import fmt
from reports.alerts import alert_rows
from reports.faults import fault_rows
from reports.model import Audience, ReportData
from slo.claims import SCORE_RULE, ClaimStatus
from slo.verdict import ObjectiveResult

__all__ = ["LIMIT", "render_markdown"]

LIMIT: Final = 65_000
_ROW_STEPS: Final = (40, 15, 5)
_TAG: Final = re.compile(r"<(?=[A-Za-z/!?])")


def _cell(value: object) -> str:
    text = str(value).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    return _TAG.sub("&lt;", text)


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]],
           align: str = "") -> list[str]:
    spec = [("---:" if a == "r" else "---") for a in align.ljust(len(headers), "l")]
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(spec) + " |"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def _head(d: ReportData) -> list[str]:
    r = d.readiness
    icon = "✅" if r.go else "❌"
    lines = [f"# {icon} {r.decision} · readiness {r.score:.0f} % · run {d.identity.run_id}", "",
             f"**{_cell(r.sentence)}**", ""]
    lines += [f"> **{_cell(n)}**" for n in d.notes] + ([""] if d.notes else [])
    lines += [f"Score: {r.earned} of {r.total} weighted points ({r.score:.0f} %). "
              f"{SCORE_RULE}", ""]
    return lines


def _claims(d: ReportData) -> list[str]:
    rows = [
        (f"{c.claim.id}{' ★' if c.claim.critical else ''}", c.claim.title,
         ", ".join(c.tests) or "-", c.measured, c.threshold,
         fmt.claim_label(c.status) + (" (marginal)" if c.marginal else ""),
         c.evidence + (f". To verify: {c.verify_with}" if c.verify_with else ""))
        for c in d.readiness.claims
    ]
    counts = ", ".join(f"{d.readiness.count(s)} {s.value.replace('_', ' ')}" for s in ClaimStatus)
    return ["## Readiness claims", "", f"{counts}. ★ = critical (GO needs it passed).", "",
            *_table(("#", "Claim", "Checked by", "Measured", "Threshold", "Verdict", "Evidence"),
                    rows), ""]


def _faults(d: ReportData) -> list[str]:
    faults = fault_rows(d)
    rows = [(f.name, f.action,
             ("-" if f.start_s is None else f"{f.start_s:.1f}") + " - "
             + ("never undone" if f.end_s is None else f"{f.end_s:.1f}"),
             ("✅ " if f.recovered else "❌ ") + f.summary, f.health, f.sli, f.budget, f.phases)
            for f in faults]
    if not rows:
        return []
    notes = [f"- **{_cell(f.name)}**: {_cell(f.note)}" for f in faults if f.note]
    return ["## Faults and recovery", "",
            "Seconds from the load start. Recovery: the later of the health probe's first good "
            "answer and the SLIs back within their objectives; budget: share of the run's error "
            "budget spent from the fault's start until it recovered.", "",
            *_table(("Fault", "Action", "From - to (s)", "Recovery", "Health probe",
                     "SLIs back", "Budget used", "Before · during · after"), rows, "llrlrrll"),
            "", *notes, *([""] if notes else [])]


def _risks(d: ReportData) -> list[str]:
    if not d.risks:
        return ["## Top risks", "", "None found.", ""]
    return ["## Top risks", "",
            *(f"- **{r.severity}** {_cell(r.title)}: {_cell(r.detail)}" for r in d.risks[:10]),
            ""]


def _capacity(d: ReportData) -> list[str]:
    if not d.capacity:
        return []
    rows = [
        (c.tier, fmt.count(c.tenants), f"{fmt.count(c.sessions_held)} / "
         f"{fmt.count(c.sessions_planned)}", fmt.count(c.quota_per_tenant), fmt.rate(c.http_rps),
         fmt.status_label(c.status) if c.status else "not judged per tier")
        for c in d.capacity
    ]
    return ["## Capacity by tier", "",
            *_table(("Tier", "Tenants", "Sessions held / planned", "Quota per tenant",
                     "HTTP rate", "Within SLO"), rows, "lrrrrl"), ""]


def _budget_rows(d: ReportData) -> list[ObjectiveResult]:
    return [o for o in (d.verdict.objectives if d.verdict else ()) if o.budget is not None
            or o.burn_rate is not None]


def _budget(d: ReportData) -> list[str]:
    rows = []
    for o in _budget_rows(d):
        b = o.budget
        rows.append((o.name, fmt.objective_value(o), o.threshold_text,
                     f"{b.bad:,} / {b.total:,}" if b else "-",
                     fmt.percent(None if b is None or b.consumed is None else 100 * b.consumed, 1),
                     "-" if o.burn_rate is None else f"{o.burn_rate:.2f}x",
                     fmt.percent(None if o.budget_consumed is None else 100 * o.budget_consumed, 4),
                     fmt.duration(o.window_s)))
    if not rows:
        return ["## Error budget", "", "No availability or error-rate objective was judged.", ""]
    return ["## Error budget", "",
            *_table(("Objective", "Value", "Target", "Bad / events", "Run budget used",
                     "Burn rate", "Window budget used", "Window"), rows, "lrlrrrrr"), ""]


def _identity(d: ReportData) -> list[str]:
    i = d.identity
    rows = [("Run", i.run_id), ("Status", i.status + (f" ({i.reason})" if i.reason else "")),
            ("Release", i.release), ("Git SHA", i.git_sha), ("Scenario", i.scenario),
            ("SLO", i.slo), ("Target", i.target_url), ("Started", i.started),
            ("Duration", fmt.duration(i.duration_s)), ("Machine", i.machine),
            ("slogate", i.harness_version)]
    out = ["## Run", "", *_table(("", ""), rows), ""]
    if d.worker_hosts:  # a distributed run: offsets were removed before the merge
        hosts = [(h.address, h.hostname, h.workers, h.status,
                  "-" if h.clock_offset_ms is None else f"{h.clock_offset_ms:+.1f} ms",
                  "-" if h.clock_rtt_ms is None else f"{h.clock_rtt_ms:.2f} ms", h.rows)
                 for h in d.worker_hosts]
        out += ["### Worker hosts", "",
                *_table(("Address", "Host", "Workers", "Status", "Clock offset", "Ping RTT",
                         "Samples"), hosts, "lllrrrr"), ""]
    return out


def _objectives(d: ReportData, _rows: int) -> list[str]:
    if d.verdict is None:
        return ["## SLO objectives", "", "Not judged (no verdict.json).", ""]
    rows = []
    for o in d.verdict.objectives:
        rows.append((o.name, o.statistic or o.sli, fmt.objective_value(o), o.threshold_text,
                     fmt.count(o.events), fmt.STATUS_ICON[o.status.value] + " "
                     + fmt.status_label(o.status), o.reason))
        rows += [(f"↳ {o.per}={g.key}", "", fmt.objective_value(_as(o, g.value)), "",
                  fmt.count(g.events), fmt.status_label(g.status), g.reason) for g in o.groups]
    return [f"## SLO objectives ({d.verdict.slo_name or d.verdict.slo})", "",
            *_table(("Objective", "Statistic", "Value", "Threshold", "Events", "Status", "Note"),
                    rows, "llrlrll"), ""]


def _as(o: ObjectiveResult, value: float | None) -> ObjectiveResult:
    return replace(o, value=value)


def _routes(d: ReportData, limit: int) -> list[str]:
    routes = d.aggregates.routes
    if not routes:
        return []
    shown = sorted(routes, key=lambda r: (-r.count, r.kind, r.name))[:limit]
    rows = [(r.kind, r.name, fmt.count(r.count), fmt.rate(r.rps), fmt.percent(r.error_pct),
             fmt.ms(r.p50), fmt.ms(r.p95), fmt.ms(r.p99), fmt.ms(r.p99_c), fmt.ms(r.max))
            for r in shown]
    more = len(routes) - len(shown)
    return ["## Per route (all samples)", "",
            *_table(("Kind", "Operation", "Count", "Rate", "Errors", "p50", "p95", "p99",
                     "p99 corrected", "max"), rows, "llrrrrrrrr"),
            *(["", f"_{more} more operations in report.html / report.json._"] if more else []),
            ""]


def _tiers(d: ReportData, _rows: int) -> list[str]:
    if not d.aggregates.tiers:
        return []
    rows = [(t.tier, t.kind, fmt.count(t.count), fmt.rate(t.rps), fmt.percent(t.error_pct),
             fmt.ms(t.p50), fmt.ms(t.p95), fmt.ms(t.p99)) for t in d.aggregates.tiers]
    return ["## Per tier", "", *_table(("Tier", "Kind", "Count", "Rate", "Errors", "p50", "p95",
                                         "p99"), rows, "llrrrrrr"), ""]


def _distribution(d: ReportData, _rows: int) -> list[str]:
    out = ["## Latency distribution, raw vs corrected for coordinated omission", ""]
    for dist in d.aggregates.distributions:
        rows = [(f"p{p:g}" if p < 100 else "max", fmt.ms(r), fmt.ms(c))
                for p, r, c in zip(dist.pcts, dist.raw, dist.corrected, strict=True)]
        out += [f"**{dist.kind}** ({dist.count:,} samples)", "",
                *_table(("Percentile", "Raw", "Corrected"), rows, "lrr"), ""]
    return out if d.aggregates.distributions else []


def _failures(d: ReportData, limit: int) -> list[str]:
    groups = d.aggregates.failures
    if not groups:
        return ["## Failures by error", "", "No failed samples.", ""]
    rows = [(g.error, g.status, fmt.count(g.count),
             ", ".join(f"{n} ({c:,})" for n, c in g.names),
             f"{fmt.duration(g.first_s)} - {fmt.duration(g.last_s)}") for g in groups[:limit]]
    return [f"## Failures by error ({d.aggregates.failed:,} failed samples)", "",
            *_table(("Error", "Status", "Count", "Operations", "Seen (from load start)"), rows,
                    "lrrll"), ""]


def _cross_check(d: ReportData, limit: int) -> list[str]:
    cc = d.verdict.cross_check if d.verdict else {}
    if not cc:
        return _alerts(d, limit)
    out = [f"## Prometheus cross-check ({cc.get('source', '?')})", ""]
    for key in ("reconciliation", "quantiles", "findings"):
        items = [i for i in cc.get(key) or [] if isinstance(i, dict)]
        if items:
            headers = list(dict.fromkeys(k for i in items for k in i))
            out += [f"**{key}**", "",
                    *_table(headers, ([i.get(h, "") for h in headers] for i in items[:limit])),
                    ""]
    return out + _alerts(d, limit)  # the same server's view: what its alerting rules did


def _alerts(d: ReportData, limit: int) -> list[str]:
    if d.alerts is None:
        return []
    rows = [(a.slo, a.rule, a.severity, a.windows, a.threshold, a.fired, a.resolved, a.lasted)
            for a in alert_rows(d.alerts, d.load_start)[:limit]]
    return ["## SLO burn-rate alerts (times from load start)", "",
            *_table(("SLO", "Rule", "Severity", "Windows", "Burn rate", "Fired", "Resolved",
                     "Lasted"), rows), ""]


_ALWAYS: Final[tuple[Callable[[ReportData], list[str]], ...]] = (
    _head, _claims, _faults, _risks, _capacity, _budget, _identity,
)
_SRE: Final[tuple[Callable[[ReportData, int], list[str]], ...]] = (
    _objectives, _cross_check, _routes, _failures, _tiers, _distribution,
)


def render_markdown(data: ReportData, audience: Audience = "sre", limit: int = LIMIT) -> str:
    """The report as Markdown, under ``limit`` characters (see module docstring)."""
    head = "\n".join(line for part in _ALWAYS for line in part(data))
    if audience == "exec":
        return head.rstrip() + "\n"
    for rows in _ROW_STEPS:
        sections = ["\n".join(s(data, rows)) for s in _SRE]
        text = "\n".join([head, *sections]).rstrip() + "\n"
        if len(text) <= limit:
            return text
    return _drop_sections(head, sections, limit)


def _drop_sections(head: str, sections: list[str], limit: int) -> str:
    note = ("\n> _Truncated to stay under GitHub's comment limit: {n} SRE section(s) left out. "
            "The full report is in report.html and report.json._\n")
    kept = list(sections)
    while kept:
        kept.pop()
        text = "\n".join([head, *kept]).rstrip() + "\n" + note.format(n=len(sections) - len(kept))
        if len(text) <= limit:
            return text
    text = head.rstrip() + "\n" + note.format(n=len(sections))
    if len(text) <= limit:
        return text
    cut = text[: limit - 200].rsplit("\n", 1)[0]
    return cut + "\n\n> _Truncated: the readiness section alone exceeds the limit; see " \
                 "report.html._\n"
