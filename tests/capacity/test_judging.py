"""Step judgement (pass / fail / inconclusive), events per step, capacity.json, sentences."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from foundation.errors import ConfigError
from scenarios.http.plan import HttpPlan
from slo._types import Status
from slo.capacity import (
    StepFacts,
    answer_sentence,
    classify_step,
    events_needed,
    read_capacity,
    write_capacity,
)
from slo.capacity import step as step_module
from slo.spec.load import load_slo
from slo.verdict import ObjectiveResult
from tests.capacity.builders import facts, found_result, verdict, with_conclusion

PASSING = verdict(("p95", Status.PASS, 60, 150))


@pytest.mark.parametrize(
    ("v", "f", "offered", "outcome", "said"),
    [
        pytest.param(PASSING, facts(), 40.0, "pass", "every objective held", id="pass"),
        pytest.param(verdict(("avail", Status.FAIL, 90, 99), ("p95", Status.FAIL, 900, 150)),
                     facts(), 40.0, "fail", "p95", id="fail_names_furthest_over"),
        pytest.param(verdict(("p95", Status.FAIL, 900, 150)), facts(generator_cpu_percent=97),
                     40.0, "inconclusive", "CPU was pegged", id="cpu_pegged"),
        pytest.param(PASSING, facts(generator_cpu_percent=150, load_processes=2), 40.0, "pass",
                     "every objective held", id="cpu_shared_by_two_processes"),
        pytest.param(PASSING, facts(sent_per_s=30.0), 40.0, "inconclusive", "sent 30.0/s",
                     id="under_delivered_with_room"),
        pytest.param(verdict(("p95", Status.FAIL, 4000, 150)),
                     facts(sent_per_s=30.0, mean_response_s=3.0), 40.0, "fail", "p95",
                     id="under_delivered_because_target_was_slow"),
        pytest.param(PASSING, facts(lag_growth_ms=400.0), 40.0, "inconclusive",
                     "behind schedule", id="lag_growing"),
        pytest.param(PASSING, facts(sent_per_s=3.0), None, "pass", "every objective held",
                     id="closed_model_has_no_schedule"),
        pytest.param(verdict(("p95", Status.INSUFFICIENT_DATA, 0, 150)), facts(), 40.0,
                     "inconclusive", "too few events", id="insufficient_data"),
        pytest.param(PASSING, facts(operations=0), 40.0, "inconclusive", "no operations",
                     id="nothing_recorded"),
    ],
)
def test_classify_step(v, f: StepFacts, offered: float | None, outcome: str, said: str) -> None:
    j = classify_step(v, f, offered)
    assert j.outcome == outcome
    assert said in (j.objective or "") + j.reason


def test_pool_constants_follow_the_http_plan() -> None:
    plan_fields = HttpPlan.__dataclass_fields__
    assert plan_fields["open_headroom_s"].default == step_module.OPEN_HEADROOM_S
    assert plan_fields["max_pool_size"].default == step_module.MAX_POOL


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("  - {name: a, sli: latency, percentile: 95, threshold_ms: 9}", 200, id="p95"),
    pytest.param("  - {name: a, sli: latency, percentile: 99, threshold_ms: 9}", 1000, id="p99"),
    pytest.param("  - {name: a, sli: availability, target: 99.5}", 100, id="ratio"),
    pytest.param("  - {name: a, sli: latency, percentile: 50, threshold_ms: 9, min_events: 500}",
                 500, id="min_events_wins"),
])
def test_events_needed(tmp_path: Path, text: str, expected: int) -> None:
    (tmp_path / "slo.yaml").write_text("objectives:\n" + text + "\n")
    assert events_needed(load_slo(tmp_path / "slo.yaml").objectives) == expected


def test_capacity_json_round_trip_and_unknown_version(tmp_path: Path) -> None:
    r = found_result()
    path = write_capacity(r, tmp_path)
    assert read_capacity(tmp_path) == r
    data = json.loads(path.read_text())
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="schema_version 99"):
        read_capacity(tmp_path)
    with pytest.raises(ConfigError, match="no capacity result"):
        read_capacity(tmp_path / "elsewhere")


@pytest.mark.parametrize(("kw", "sentence"), [
    pytest.param({}, "Holds 38.4 req/s within SLO; http-p95 breaks first at 40.4 req/s.",
                 id="found"),
    pytest.param(dict(vary="tenants", tier="enterprise", unit="enterprise tenants", level=3.0,
                      failed_at=4.0, objective="ws-message-p95"),
                 "Holds 3 enterprise tenants at quota within SLO; ws-message-p95 breaks first "
                 "at 4 enterprise tenants at quota.", id="tenants"),
    pytest.param(dict(conclusion="at_least_ceiling", level=200.0, failed_at=None, objective=None),
                 "Holds at least the ceiling of 200 req/s within SLO: no objective broke up to "
                 "it (raise --ceiling to search higher).", id="ceiling"),
])
def test_answer_sentence(kw: dict[str, object], sentence: str) -> None:
    assert answer_sentence(with_conclusion(found_result(), **kw)) == sentence


def test_zero_and_inconclusive_sentences_give_no_number() -> None:
    zero = with_conclusion(found_result(), conclusion="zero", level=None)
    assert zero.sentence.startswith("Capacity 0: no level holds within SLO; even 20 req/s")
    inc = with_conclusion(found_result(), conclusion="inconclusive", level=None,
                          reason="the step at 40000 was inconclusive: CPU pegged")
    assert inc.sentence.startswith("Inconclusive, no capacity number")
    assert not inc.passed() and not zero.passed()


@pytest.mark.parametrize(("conclusion", "level", "require", "passed"), [
    ("found", 38.0, None, True), ("found", 38.0, 50.0, False), ("found", 38.0, 30.0, True),
    ("exhausted", 38.0, None, False), ("exhausted", 38.0, 30.0, True),
    ("at_least_ceiling", 200.0, 100.0, True),
])
def test_passed(conclusion: str, level: float, require: float | None, passed: bool) -> None:
    r = with_conclusion(found_result(), conclusion=conclusion, level=level, require=require)
    assert r.passed() is passed


def test_a_failed_optional_objective_still_fails_the_step() -> None:
    v = verdict(("p95", Status.PASS, 60, 150))
    failed = ObjectiveResult(name="http-p95", sli="latency", status=Status.FAIL, value=900.0,
                             threshold=500.0, threshold_text="<= 500 ms", unit="ms", events=500,
                             optional=True)
    j = classify_step(replace(v, objectives=(*v.objectives, failed)), facts(), 40.0)
    assert (j.outcome, j.objective) == ("fail", "http-p95")


def test_mid_search_result_says_running_and_never_passes() -> None:
    r = with_conclusion(found_result(), conclusion="running", require=10.0)
    assert r.sentence == ("Search running: holds at least 38.4 req/s so far; http-p95 breaks "
                          "first at 40.4 req/s.")
    assert not r.passed()


def test_one_tenant_is_singular() -> None:
    r = with_conclusion(found_result(), vary="tenants", tier="team", unit="team tenants",
                        level=1.0, failed_at=2.0)
    assert r.sentence == ("Holds 1 team tenant at quota within SLO; http-p95 breaks first at "
                          "2 team tenants at quota.")
