"""Synthetic capacity results for report and judging tests (no load is run)."""

from __future__ import annotations

from dataclasses import replace

from slo._types import Status
from slo.capacity import CapacityResult, CapacityStep, StepFacts
from slo.verdict import ObjectiveResult, Verdict


def facts(**kw: object) -> StepFacts:
    base = dict(window_s=10.0, operations=400, sent_per_s=40.0, throughput_per_s=40.0,
                error_rate=0.0, p50_ms=50.0, p95_ms=60.0, p99_ms=70.0, mean_response_s=0.05,
                lag_growth_ms=0.0, generator_cpu_percent=20.0, load_processes=1, corrected=True)
    base.update(kw)
    return StepFacts(**base)  # type: ignore[arg-type]


def verdict(*objectives: tuple[str, Status, float, float]) -> Verdict:
    return Verdict(status=Status.PASS, objectives=tuple(
        ObjectiveResult(name=n, sli="latency", status=s, value=v, threshold=t,
                        threshold_text=f"<= {t:g} ms", unit="ms", events=400)
        for n, s, v, t in objectives))


def _step(i: int, level: float, outcome: str, p95: float, phase: str = "bisect",
          confirm: bool = False) -> CapacityStep:
    return CapacityStep(
        index=i, level=level, phase=phase, confirm=confirm, hold_s=5.0,
        run_dir=f"steps/{i:02d}-{level:g}", outcome=outcome,
        objective="http-p95" if outcome == "fail" else None,
        reason="every objective held" if outcome == "pass" else "http-p95 = 700 ms (<= 500 ms)",
        verdict_status="pass" if outcome == "pass" else "fail", wall_s=8.0,
        facts=facts(sent_per_s=min(level, 40.0), throughput_per_s=min(level, 40.0),
                    p50_ms=p95 * 0.8, p95_ms=p95, p99_ms=p95 * 1.2,
                    error_rate=0.0 if outcome == "pass" else 0.01))


def found_result() -> CapacityResult:
    steps = (
        _step(1, 20, "pass", 60, "grow"), _step(2, 100, "fail", 5000, "grow"),
        _step(3, 44.7, "fail", 700), _step(4, 29.9, "pass", 58), _step(5, 36.6, "pass", 70),
        _step(6, 40.4, "fail", 240), _step(7, 38.4, "pass", 75),
        _step(8, 38.4, "pass", 72, "confirm", confirm=True),
    )
    return CapacityResult(
        vary="rate", tier=None, unit="req/s", conclusion="found", level=38.4, failed_at=40.4,
        objective="http-p95", knee=38.4, reason="confirmed by a longer hold", start=20,
        ceiling=200, scenario="s.yaml", slo="slo.yaml", target="http://127.0.0.1:9",
        started_at=1764136800.0, wall_s=80.0, steps=steps,
    ).with_sentence()


def with_conclusion(r: CapacityResult, **kw: object) -> CapacityResult:
    return replace(r, **kw).with_sentence()  # type: ignore[arg-type]
