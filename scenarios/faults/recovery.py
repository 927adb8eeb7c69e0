"""Recovery per fault from the health probes: pure, so it is tested on plain numbers.

Recovery of a fault = time from its end (the undo; for a kill, the kill) to the first good
probe *sent* after that end, measured to the moment that probe was answered. "Good" is a
2xx answer while the deployment is whole (``prober.py``). A fault that never ended (the
run stopped first, or its undo failed) or after which no good probe came is "not
recovered".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scenarios.faults.prober import Probe
from scenarios.faults.timeline import FaultRecord

__all__ = ["Recovery", "recoveries"]


@dataclass(frozen=True, slots=True)
class Recovery:
    """One ``recovery: <name>`` sample."""

    name: str
    ts: float
    latency_ms: float
    ok: bool
    error: str


def recoveries(records: Sequence[FaultRecord], probes: Sequence[Probe], run_end: float) -> list[Recovery]:
    """One :class:`Recovery` per fault that took effect, in timeline order."""
    out: list[Recovery] = []
    for r in records:
        if r.started_at is None:
            continue  # never took effect (skipped, or apply failed): nothing to recover from
        name = f"recovery: {r.name}"
        if r.ended_at is None:
            at = r.interrupted_at if r.interrupted_at is not None else run_end
            why = r.error or "the fault never ended"
            out.append(Recovery(name, at, 0.0, False, f"not recovered: {why}"))
            continue
        first = next((p for p in probes if p.sent_at >= r.ended_at and p.good), None)
        if first is None:
            observed = max((p.answered_at for p in probes), default=r.ended_at) - r.ended_at
            out.append(Recovery(name, r.ended_at, max(0.0, observed) * 1000.0, False, "not recovered"))
        else:
            out.append(Recovery(name, r.ended_at, (first.answered_at - r.ended_at) * 1000.0, True, ""))
    return out
