"""``capacity.md``: the answer, the interval and the step table (CI step summaries, tickets)."""

from __future__ import annotations

from reports.capacity.text import CONCLUSION_TITLE, level_text, step_rows
from slo.capacity import CapacityResult

__all__ = ["render_capacity_markdown"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_capacity_markdown(r: CapacityResult) -> str:
    broke = (f"{level_text(r.failed_at, r.unit)} broke **{r.objective}**"
             if r.failed_at is not None and r.objective else "nothing broke")
    lines = [
        f"# slogate capacity: {CONCLUSION_TITLE.get(r.conclusion, r.conclusion)}",
        "",
        f"**{_cell(r.sentence)}**",
        "",
        f"- sustainable level: {level_text(r.level, r.unit)}",
        f"- interval: {level_text(r.level, r.unit)} held, {broke}",
        f"- knee of the p99 curve: {level_text(r.knee, r.unit) if r.knee is not None else 'none found'}",
        f"- search: {len(r.steps)} step(s) in {r.wall_s:.0f} s, varying {r.vary}"
        f"{' of tier ' + r.tier if r.tier else ''}, from {level_text(r.start, r.unit)} to a "
        f"ceiling of {level_text(r.ceiling, r.unit)}; {_cell(r.reason)}",
        f"- target {r.target}, SLO `{r.slo}`",
        "",
        "| # | level | phase | outcome | hold | sent | throughput | errors | p50 | p95 | p99 | broke / why |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in step_rows(r):
        lines.append(f"| {s.index} | {s.level} | {s.phase} | {s.outcome} | {s.hold} | {s.sent} | "
                     f"{s.throughput} | {s.errors} | {s.p50} | {s.p95} | {s.p99} | {_cell(s.why)} |")
    return "\n".join(lines) + "\n"
