"""Are two runs comparable? Differences in scenario, load rate or duration, field by field.

Comparing a 200 req/s run with a 100 req/s run, or a smoke test with a soak test, measures
the set-up, not the release. The runs' fully resolved scenarios (``run.json`` ``scenario``)
are walked side by side and every differing leaf is reported with its path, classified as
``rate`` (``load.*`` levels, stages, tier weights, tenants, sessions), ``duration``
(``duration``, ``warmup``, the planned duration) or ``scenario`` (anything else: requests,
WebSocket set-up, name). Fields that legitimately differ between two runs of the same
scenario -- the target URL (a free port, a staging host), description, disk and duration
caps, the derived plans -- are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final, Literal

from slo.compare.model import Mismatch

__all__ = ["IGNORED_FIELDS", "find_mismatches", "planned_duration_s"]

IGNORED_FIELDS: Final = frozenset({"target", "description", "limits", "resolved", "slo"})
"""Top-level scenario fields that may differ between two runs of the same scenario."""

_RATE_FIELDS: Final = frozenset({"load", "stages", "tier_weights", "tenants", "credentials"})
_DURATION_FIELDS: Final = frozenset({"duration", "warmup"})
_WS_RATE_FIELDS: Final = frozenset(
    {"sessions", "sessions_per_tenant", "prompt_interval", "prompts_per_session", "connect_rate"}
)
_LIMIT: Final = 20  # at most this many differences are listed; the rest are counted


def _kind(path: tuple[str, ...]) -> Literal["scenario", "rate", "duration"]:
    head = path[0]
    if head in _DURATION_FIELDS:
        return "duration"
    if head in _RATE_FIELDS or (head == "websocket" and len(path) > 1 and path[1] in _WS_RATE_FIELDS):
        return "rate"
    return "scenario"


def _walk(a: Any, b: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b), key=str):
            if not path and key in IGNORED_FIELDS:
                continue
            yield from _walk(a.get(key), b.get(key), (*path, str(key)))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _walk(x, y, (*path[:-1], f"{path[-1]}[{i}]") if path else (f"[{i}]",))
    elif a != b:
        yield path, a, b


def _text(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, list):
        return f"{len(value)} entries"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def find_mismatches(
    baseline: Mapping[str, Any],
    candidate: Mapping[str, Any],
    *,
    baseline_planned_s: float | None = None,
    candidate_planned_s: float | None = None,
) -> list[Mismatch]:
    """Every difference between the two resolved scenarios that affects comparability.

    ``*_planned_s`` are the planned load durations (``resolved.planned_duration_s``, which
    includes a ``--duration`` override); when both are known they replace the ``duration``
    field, and a difference of more than 1 % is a mismatch.
    An empty scenario on both sides (imported results) yields no mismatch.
    """
    found: list[Mismatch] = []
    planned_known = baseline_planned_s is not None and candidate_planned_s is not None
    for path, a, b in _walk(baseline, candidate, ()):
        if planned_known and path == ("duration",):
            continue  # a --duration override may differ from the file's; compare the plan
        base_path = path[0].split("[", 1)[0]
        kind = _kind((base_path, *path[1:]))
        found.append(Mismatch(".".join(path), _text(a), _text(b), kind))
    if (
        baseline_planned_s is not None
        and candidate_planned_s is not None
        and abs(baseline_planned_s - candidate_planned_s)
        > 0.01 * max(baseline_planned_s, candidate_planned_s)
    ):
        found.append(
            Mismatch("planned duration", f"{baseline_planned_s:g} s", f"{candidate_planned_s:g} s",
                     "duration")
        )
    if len(found) > _LIMIT:
        extra = len(found) - _LIMIT
        found = [*found[:_LIMIT], Mismatch(f"... and {extra} more fields", "", "", "scenario")]
    return found


def planned_duration_s(scenario: Mapping[str, Any]) -> float | None:
    """The planned load duration recorded in a resolved scenario, if any."""
    resolved = scenario.get("resolved")
    if isinstance(resolved, Mapping) and isinstance(resolved.get("planned_duration_s"), int | float):
        return float(resolved["planned_duration_s"])
    duration = scenario.get("duration")
    return float(duration) if isinstance(duration, int | float) else None
