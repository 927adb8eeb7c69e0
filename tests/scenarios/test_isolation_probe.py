"""The isolation probe (scenarios/isolation/): every ``{id}`` route tried cross-tenant.

What the tests prove:

- the probe's route table covers every operation of the reference target that names an
  object (a new route without a probe fails here);
- against the real embedded target during a real ``slogate run`` load, every attempt --
  each victim id on each route and over the WebSocket, with every other tenant's tokens --
  is made, refused, and recorded; readiness claim 7, judged by the real judge from the
  record's samples, passes with "0 leaks of N attempts", and nothing secret is recorded;
- against a target with a deliberate leak (a test-only ASGI wrapper that resolves every
  ``GET /v1/runs/{id}`` as the victim's admin, modelling a broken principal lookup), the
  same probe records the leaks and claim 7 fails.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from foundation.errors import UsageError
from foundation.layout import RunLayout, RunStatus
from scenarios.isolation.attempts import HTTP_ROUTES, VictimIds, attempts_for, ws_status
from scenarios.isolation.probe import IsolationProbe, make_probe
from scenarios.record import read_samples
from scenarios.runner import RunRequest, run_scenario
from scenarios.runner.plans import Tenant
from scenarios.spec import parse_scenario
from slo.claims import ClaimStatus, Evidence, judge_claim
from slo.claims.evidence import RunContext
from slo.claims.facts import sample_facts
from slo.samples import SampleColumns
from target_service.config import Role, Tier
from target_service.main import create_app
from tests._servers import serve_in_thread
from tests.target_service.helpers import create_tenant, make_settings, scrub_environ


def _claim7(run_dir: Path) -> Any:
    table = read_samples(run_dir, read_dictionary=["kind", "name", "tenant", "tier"])
    facts = sample_facts(SampleColumns.from_arrow(table), load_start=0.0, end=None, warmup_s=0.0)
    evidence = Evidence(
        run=RunContext("r", "complete", started_at=0.0, ended_at=time.time()), verdict=None, samples=facts
    )
    return judge_claim(7, evidence), facts.isolation


def test_route_table_covers_every_route_that_names_an_object(tmp_path: Path) -> None:
    document = create_app(make_settings(tmp_path / "unused.db")).openapi()
    id_routes = {(m.upper(), path) for path, ops in document["paths"].items() if "{" in path for m in ops}
    assert id_routes, "the target has routes with ids"
    assert id_routes <= set(HTTP_ROUTES), id_routes - set(HTTP_ROUTES)
    assert ("POST", "/v1/runs") in HTTP_ROUTES  # the id in the body


def test_attempts_for_one_victim() -> None:
    victim = VictimIds("a", "ten_1", runs=("run_1", "run_2"), agents=("agt_1",), tokens=("tok_1",))
    names = Counter(a.name for a in attempts_for(victim))
    assert names["isolation: GET /v1/runs/{run_id}"] == 2
    assert names["isolation: PATCH /v1/agents/{agent_id}"] == 1
    assert names["isolation: DELETE /v1/tenants/{tenant_id}/tokens/{token_id}"] == 1
    assert names["isolation: GET /v1/sessions/ws subscribe"] == 2
    assert names["isolation: WS prompt /v1/sessions/ws"] == 1
    assert sum(names.values()) == 5 + 1 + 2 * 2 + 5 * 1  # tenant routes + tokens + 2/run + 5/agent


@pytest.mark.parametrize(
    ("frame", "status"),
    [
        ({"type": "error", "error": "not_found"}, 404),
        ({"type": "error", "error": "forbidden"}, 403),
        ({"type": "error", "error": "rate_limited"}, 429),
        ({"type": "error", "error": "invalid_message"}, 400),
        ({"type": "accepted", "run_id": "run_x"}, 200),
        ({"type": "done", "run_id": "run_x"}, 200),
        ({"type": "pong"}, 0),
    ],
)
def test_ws_answer_maps_to_a_status(frame: dict[str, Any], status: int) -> None:
    assert ws_status(frame) == status


@pytest.mark.parametrize(
    "tenants",
    [
        [Tenant("a", "starter", "sgt_a", "developer", "sgt_a_admin")],
        [
            Tenant("a", "starter", "sgt_a", "developer", "sgt_a_admin"),
            Tenant("b", "team", "tok", "developer", None),
        ],
    ],
    ids=["one-tenant", "foreign-credentials"],
)
def test_probe_refuses_what_it_cannot_probe(tenants: list[Tenant]) -> None:
    with pytest.raises(UsageError, match="at least two tenants provisioned on the reference target"):
        make_probe("http://127.0.0.1:1", tenants, 0.0, 10.0)


def _not_refused(run_dir: Path) -> list[dict[str, Any]]:
    """The isolation samples that were not refused, for a failing assertion's message."""
    table = read_samples(run_dir, columns=["kind", "name", "status", "error"]).to_pandas()
    bad = table[table.name.str.startswith("isolation:") & ~table.status.isin([401, 403, 404])]
    records: list[dict[str, Any]] = bad.head(10).to_dict("records")
    return records


def _expected_attempts(victims: list[dict[str, int]], tokens_per_attacker: int, tenants: int) -> int:
    per_victim = [5 + v["tokens"] + 2 * v["runs"] + 5 * v["agents"] for v in victims]
    return sum(per_victim) * (tenants - 1) * tokens_per_attacker


REFERENCE = """\
target: embedded
duration: 10s
warmup: 1s
load: {model: closed, users: 3, think_time: [0.2s, 0.5s]}
tenants: {starter: 1, team: 1, enterprise: 1}
websocket:
  sessions_per_tenant: {starter: 2, team: 3, enterprise: 4}
  prompt_interval: 2s
"""


@pytest.mark.slow
def test_probe_during_a_real_run_is_refused_on_every_route(tmp_path: Path) -> None:
    request = RunRequest(parse_scenario(REFERENCE), out_dir=tmp_path / "run", isolation_probe=True)
    outcome = run_scenario(request)
    assert outcome.status is RunStatus.COMPLETE, outcome.reason
    summary = RunLayout(outcome.run_dir).read_info().isolation_probe or {}
    assert len(summary["victims"]) == 2
    for victim in summary["victims"]:
        assert victim["runs"] >= 1 and victim["agents"] >= 1 and victim["tokens"] == 2
    expected = _expected_attempts(summary["victims"], tokens_per_attacker=2, tenants=3)
    assert summary["attempts"] == expected, summary  # every attempt made: none lost to the clock
    assert summary["refused"] == expected, _not_refused(outcome.run_dir)
    names = set(summary["routes"])
    assert {f"isolation: {m} {p}" for m, p in HTTP_ROUTES} <= names
    assert {"isolation: GET /v1/sessions/ws subscribe", "isolation: WS prompt /v1/sessions/ws"} <= names
    result, facts = _claim7(outcome.run_dir)
    assert facts.leaked == 0 and facts.inconclusive == 0, (facts, _not_refused(outcome.run_dir))
    assert facts.total >= expected  # plus the tier users' own probes
    assert facts.reads > 0 and facts.writes > 0
    assert result.status is ClaimStatus.PASSED, result
    assert f"0 leaks of {facts.total:,} attempts" in result.evidence
    names_recorded = set(read_samples(outcome.run_dir, columns=["name"]).column("name").to_pylist())
    setup = {n for n in names_recorded if n.startswith("isolation-setup:")}
    assert "isolation-setup: GET /v1/tenants/{tenant_id}/tokens" in setup  # route templates, no raw ids
    assert not [n for n in setup if "ten_" in n]
    secrets = [p for p in outcome.run_dir.rglob("*") if p.is_file() and b"sgt_" in p.read_bytes()]
    assert secrets == []
    print(f"isolation probe: {summary['attempts']} attempts, {summary['refused']} refused")


class _LeakyPrincipal:
    """Test-only: every ``GET /v1/runs/{id}`` is served as ``victim_token`` (a broken lookup)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.victim_token = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and path.startswith("/v1/runs/")
            and self.victim_token
        ):
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", b"Bearer " + self.victim_token)]}
        await self.app(scope, receive, send)


@pytest.fixture
def tenants_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, list[Tenant]]]:
    """A live target (leaky when the test is parametrized so), three tenants with tokens."""
    leaky = getattr(request, "param", False)
    app = create_app(make_settings(tmp_path / "target.db"))
    wrapper = _LeakyPrincipal(app)
    with pytest.MonkeyPatch.context() as monkeypatch:
        scrub_environ(monkeypatch)
        served: Any = wrapper if leaky else app  # the wrapper passes lifespan events through
        with serve_in_thread(served) as server, httpx.Client(base_url=server.url, timeout=10) as client:
            made = [create_tenant(client, tier, name=f"t{i}") for i, tier in enumerate(Tier)]
            tenants = [
                Tenant(t.id, str(tier), t.tokens[Role.DEVELOPER], "developer", t.tokens[Role.ADMIN])
                for t, tier in zip(made, Tier, strict=True)
            ]
            wrapper.victim_token = (tenants[0].admin_token or "").encode()
            yield server.url, tenants


def _probe(url: str, tenants: list[Tenant], run_dir: Path) -> dict[str, Any]:
    probe = IsolationProbe(url, tenants, start_after_s=0.0)
    probe.start()
    probe.finish(grace_s=30.0)
    return probe.write(run_dir, 0)


@pytest.mark.slow
def test_probe_on_a_sound_target_passes_claim_7(tenants_on: tuple[str, list[Tenant]], tmp_path: Path) -> None:
    url, tenants = tenants_on
    summary = _probe(url, tenants, tmp_path)
    expected = _expected_attempts(summary["victims"], tokens_per_attacker=2, tenants=3)
    assert summary["attempts"] == summary["refused"] == expected > 0
    result, facts = _claim7(tmp_path)
    assert facts.leaked == 0
    assert result.status is ClaimStatus.PASSED, result


@pytest.mark.slow
@pytest.mark.parametrize("tenants_on", [True], indirect=True)
def test_probe_on_a_leaky_target_fails_claim_7(tenants_on: tuple[str, list[Tenant]], tmp_path: Path) -> None:
    url, tenants = tenants_on
    summary = _probe(url, tenants, tmp_path)
    runs_of_first_victim = summary["victims"][0]["runs"]
    result, facts = _claim7(tmp_path)
    # every other tenant's 2 tokens read each of the first victim's runs: 2 x 2 x runs leaks
    assert facts.leaked == 2 * 2 * runs_of_first_victim > 0
    assert summary["attempts"] - summary["refused"] == facts.leaked
    assert result.status is ClaimStatus.FAILED, result
    assert f"{facts.leaked:,} leaks of {facts.total:,} attempts" in result.evidence
    table = read_samples(tmp_path, columns=["name", "status", "ok", "error"]).to_pandas()
    leaks = table[(table.status == 200) & table.name.str.startswith("isolation:")]
    assert set(leaks.name) == {"isolation: GET /v1/runs/{run_id}"}
    assert not leaks.ok.any() and leaks.error.str.contains("a leak").all()
