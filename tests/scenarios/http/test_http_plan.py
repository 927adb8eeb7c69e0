"""HttpPlan: validation that names the field, JSON round trip, and the split between workers."""

from __future__ import annotations

import math

import pytest

from foundation.errors import ConfigError
from scenarios.http import HttpPlan, RequestSpec, Stage, TenantCredential
from scenarios.http.plan import split_count

PING = RequestSpec(name="ping", method="GET", path="/ping")
TENANTS = (
    TenantCredential("s1", "starter", "tok-s1", "developer"),
    TenantCredential("e1", "enterprise", "tok-e1", "developer", admin_token="adm-e1"),
)


def open_plan(**kw: object) -> HttpPlan:
    base: dict[str, object] = {
        "base_url": "http://127.0.0.1:9000",
        "model": "open",
        "stages": (Stage(duration_s=30, rate=50),),
        "requests": (PING,),
    }
    return HttpPlan(**(base | kw))  # type: ignore[arg-type]


def test_the_generic_scenario_is_a_valid_plan() -> None:
    plan = open_plan()
    assert plan.duration_s == 30
    assert plan.group_shares() == {"": 1.0}
    assert PING.weight == 1.0 and PING.is_expected(200) and PING.is_expected(302)
    assert not PING.is_expected(404)


def test_json_round_trip_is_lossless() -> None:
    plan = HttpPlan(
        base_url="http://[::1]:8000",
        model="closed",
        stages=(Stage(10, users=5), Stage(20, users=50, ramp=True)),
        arrival="poisson",
        requests=(
            PING,
            RequestSpec(
                "make", "POST", "/items", weight=2.5, headers=(("X-A", "1"),),
                json_body={"n": [1, None]}, expect_status=(201, 202),
            ),
        ),
        tenants=TENANTS,
        tier_weights={"starter": 2.0, "enterprise": 1.0},
        think_time_s=(0.1, 0.2),
        processes=3,
        seed=7,
    )
    assert HttpPlan.from_json(plan.to_json()) == plan


def test_unknown_schema_version_is_refused_by_name() -> None:
    text = open_plan().to_json().replace('"schema_version": 1', '"schema_version": 99')
    with pytest.raises(ConfigError, match="schema_version 99"):
        HttpPlan.from_json(text)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        pytest.param({"base_url": "127.0.0.1:9000"}, "target", id="no_scheme"),
        pytest.param({"stages": ()}, "load.stages", id="no_stages"),
        pytest.param({"stages": (Stage(10, users=5),)}, "load.stages[0]", id="open_without_rate"),
        pytest.param({"stages": (Stage(0, rate=5),)}, "load.stages[0].duration", id="zero_duration"),
        pytest.param({"stages": (Stage(5, rate=math.nan),)}, "load.stages[0].rate", id="nan_rate"),
        pytest.param({"think_time_s": (2.0, 1.0)}, "load.think_time", id="think_min_gt_max"),
        pytest.param({"processes": 0}, "load.processes", id="no_processes"),
        pytest.param({"requests": ()}, "tenants", id="tier_users_without_tenants"),
        pytest.param({"model": "half-open"}, "load.model", id="bad_model"),
    ],
)
def test_invalid_plans_name_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        open_plan(**kw)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        pytest.param({"method": "FETCH"}, "http[x].method", id="method"),
        pytest.param({"path": "ping"}, "http[x].path", id="relative_path"),
        pytest.param({"weight": 0.0}, "http[x].weight", id="zero_weight"),
        pytest.param({"json_body": {}, "body": "x"}, "http[x].body", id="two_bodies"),
        pytest.param({"expect_status": (999,)}, "http[x].expect_status", id="bad_status"),
    ],
)
def test_invalid_requests_name_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        RequestSpec(**({"name": "x", "method": "GET", "path": "/x"} | kw))  # type: ignore[arg-type]
    assert err.value.field == field


def test_tier_shares_renormalise_over_tiers_with_tenants() -> None:
    plan = open_plan(requests=(), tenants=TENANTS)  # default weights 0.5 / 0.3 / 0.2
    shares = plan.group_shares()
    assert shares == pytest.approx({"starter": 0.5 / 0.7, "enterprise": 0.2 / 0.7})
    with pytest.raises(ConfigError, match="unknown tier 'gold'"):
        open_plan(requests=(), tenants=(TenantCredential("g", "gold", "t", "admin"),))


@pytest.mark.parametrize("total", [0, 1, 7, 100, 1001])
@pytest.mark.parametrize("parts", [1, 2, 3, 8])
def test_split_count_is_exact_and_even(total: int, parts: int) -> None:
    pieces = [split_count(total, parts, i) for i in range(parts)]
    assert sum(pieces) == total
    assert max(pieces) - min(pieces) <= 1


def test_worker_stages_sum_to_the_plan() -> None:
    plan = open_plan(
        model="closed",
        stages=(Stage(5, users=10), Stage(5, users=3, ramp=True)),
        processes=4,
    )
    per_worker = [plan.worker_stages(i) for i in range(4)]
    assert [sum(w[j].users or 0 for w in per_worker) for j in range(2)] == [10, 3]
    rated = open_plan(stages=(Stage(5, rate=90.0),), processes=4)
    assert sum((rated.worker_stages(i)[0].rate or 0) for i in range(4)) == pytest.approx(90.0)


def test_open_pool_covers_peak_rate_times_headroom() -> None:
    plan = open_plan(stages=(Stage(5, rate=10), Stage(5, rate=100)), processes=2)
    assert plan.open_pool_size(1.0) == math.ceil(100 / 2 * 2.0) + 2
    assert open_plan(stages=(Stage(5, rate=1e6),)).open_pool_size(1.0) == 2000  # capped
    assert open_plan(pool_size=40).open_pool_size(0.25) == 10
