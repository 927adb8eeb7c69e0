"""The isolation probe: during the load, replay two tenants' ids with every other tenant's tokens.

Readiness claim 7 ("cross-tenant reads and writes refused") would otherwise rest on the few
probes the tier users make (a run read, an agent delete). Here, a background thread of the
runner, ``start_after_s`` into the load:

1. **harvests** two victim tenants' ids through their own admin tokens: their runs (HTTP and
   WebSocket-created), agents, token ids, and the object ids named in their audit log; it
   creates one agent and one run in each first, so every kind exists even early in a run;
2. **replays** every attempt of :func:`scenarios.isolation.attempts.attempts_for` with every
   token (developer and admin) of every *other* tenant -- the other victim included -- over
   HTTP and on one WebSocket session per token. A 429 (request bucket, session quota) is
   waited out and retried until the probe's deadline: it proves nothing either way.
3. records each attempt as a sample named ``isolation: METHOD /route`` (kind ``http``, so
   the cross-check counts them like the server does; WebSocket attempts kind ``check``),
   ``ok`` when refused (401/403/404). The harvest's own requests are ``http`` samples named
   ``isolation-setup: ...``. The probe only drives and records; claim 7 judges.

Only for tenants the run provisioned on the reference target (ids and routes are its API).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from foundation.errors import UsageError
from scenarios.isolation.attempts import VictimIds, attempts_for
from scenarios.isolation.replay import Clock, ProbeSample, replay, send
from scenarios.record import SampleKind, SampleWriter

if TYPE_CHECKING:  # at run time scenarios.runner imports this package, not the reverse
    from scenarios.runner.plans import Tenant

__all__ = ["IsolationProbe", "finish_probe", "harvest", "make_probe"]

VICTIMS = 2
IDS_PER_KIND = 3
_THREADS = 4


def harvest(
    client: httpx.Client, clock: Clock, victim: Tenant, per_kind: int, samples: list[ProbeSample]
) -> VictimIds | None:
    """The victim's ids, read with its own admin token (None when it has none)."""
    if victim.admin_token is None:
        return None
    token = victim.admin_token
    agent = _post_json(client, clock, token, "/v1/agents", {"name": "isolation probe"}, victim, samples)
    if agent is None:
        return None
    _post_json(
        client, clock, token, "/v1/runs", {"prompt": "isolation probe", "max_tokens": 1}, victim, samples
    )
    tenant_id = str(agent["tenant_id"])
    runs = _ids(_get_json(client, clock, token, "/v1/runs?limit=50", victim, samples), "id")
    agents = _ids(_get_json(client, clock, token, "/v1/agents?limit=50", victim, samples), "id")
    tokens_page = _get_json(client, clock, token, f"/v1/tenants/{tenant_id}/tokens", victim, samples)
    tokens = [str(t["id"]) for t in tokens_page] if isinstance(tokens_page, list) else []
    audit = _get_json(client, clock, token, "/v1/audit?limit=100", victim, samples)
    events = audit.get("items", []) if isinstance(audit, dict) else []
    for event in events:  # ids named in the audit log: objects since deleted, ws runs, tokens
        target = str(event.get("target", ""))
        for prefix, bucket in (("run_", runs), ("agt_", agents), ("tok_", tokens)):
            if target.startswith(prefix) and target not in bucket:
                bucket.append(target)
    return VictimIds(
        victim.tenant,
        tenant_id,
        _pick(runs, per_kind),
        _pick(agents, per_kind),
        _pick(tokens, per_kind),
        len(events),
    )


def _pick(ids: Sequence[str], n: int) -> tuple[str, ...]:
    """Up to ``n`` ids, newest and oldest both represented."""
    unique = list(dict.fromkeys(ids))
    if len(unique) <= n:
        return tuple(unique)
    half = (n + 1) // 2
    return tuple(unique[:half] + unique[len(unique) - (n - half) :])


def _ids(page: Any, key: str) -> list[str]:
    items = page.get("items", []) if isinstance(page, dict) else []
    return [str(item[key]) for item in items if key in item]


def _request_json(
    client: httpx.Client,
    clock: Clock,
    token: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    victim: Tenant,
    samples: list[ProbeSample],
) -> Any:
    ts = time.time()
    answer = send(client, clock, method, path, token, body)
    # named by route template, as the server's metrics count it (the cross-check compares them)
    route = path.split("?", 1)[0].replace(_tenant_in_path(path), "{tenant_id}")
    samples.append(
        ProbeSample(
            ts,
            answer.latency_ms,
            SampleKind.HTTP.value,
            f"isolation-setup: {method} {route}",
            victim.tenant,
            victim.tier,
            answer.status,
            answer.error,
        )
    )
    return answer.payload


def _tenant_in_path(path: str) -> str:
    """The tenant id in a ``/v1/tenants/{id}/...`` path, else a string no path contains."""
    parts = path.split("/")
    return parts[3] if len(parts) > 3 and parts[2] == "tenants" else "\0"


def _get_json(
    client: httpx.Client, clock: Clock, token: str, path: str, victim: Tenant, samples: list[ProbeSample]
) -> Any:
    return _request_json(client, clock, token, "GET", path, None, victim, samples)


def _post_json(
    client: httpx.Client,
    clock: Clock,
    token: str,
    path: str,
    body: dict[str, Any],
    victim: Tenant,
    samples: list[ProbeSample],
) -> Any:
    return _request_json(client, clock, token, "POST", path, body, victim, samples)


class IsolationProbe:
    """The probe as a background thread of the runner: :meth:`start` when the load starts,
    :meth:`finish` after it ends (waits up to ``grace_s`` for the attempts left, e.g.
    WebSocket ones held back by a full session quota), then :meth:`write` the samples."""

    def __init__(
        self,
        base_url: str,
        tenants: Sequence[Tenant],
        *,
        start_after_s: float,
        ids_per_kind: int = IDS_PER_KIND,
    ) -> None:
        self.base_url = base_url
        self.tenants = [t for t in tenants if t.admin_token is not None]
        self.start_after_s = start_after_s
        self.ids_per_kind = ids_per_kind
        self.clock = Clock()
        self.samples: list[ProbeSample] = []
        self.victims: list[VictimIds] = []
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._thread = threading.Thread(target=self._run, name="isolation-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finish(self, grace_s: float = 60.0) -> None:
        """The load is over: give the probe ``grace_s`` more, then stop it."""
        self.clock.deadline = time.monotonic() + grace_s
        if self._thread.ident is None:  # never started (the load failed to start)
            return
        self._thread.join(grace_s + 2 * 10.0)
        self.clock.stop.set()
        self._thread.join(15.0)

    def _run(self) -> None:
        if len(self.tenants) < 2 or not self.clock.wait(self.start_after_s):
            return
        self.started_at = time.time()
        setup: list[ProbeSample] = []
        with httpx.Client(base_url=self.base_url, timeout=10.0) as client:
            for victim in self.tenants[:VICTIMS]:
                ids = harvest(client, self.clock, victim, self.ids_per_kind, setup)
                if ids is not None:
                    self.victims.append(ids)
        # one attacker token per job; consecutive jobs belong to different tenants, so the
        # jobs running at once draw on different request buckets
        jobs = [
            (attacker, token, attempts_for(ids))
            for which in (0, 1)
            for ids in self.victims
            for attacker in self.tenants
            if attacker.tenant != ids.tenant
            for token in [(attacker.token, attacker.admin_token)[which]]
            if token and (which == 0 or token != attacker.token)
        ]
        with ThreadPoolExecutor(_THREADS, thread_name_prefix="isolation-probe") as pool:
            results = list(pool.map(lambda job: replay(self.base_url, self.clock, *job), jobs))
        self.samples = setup + [s for r in results for s in r]
        self.ended_at = time.time()

    def write(self, run_dir: Path, worker: int) -> dict[str, Any]:
        """The samples into ``samples/`` as worker ``worker``'s part; what run.json keeps."""
        samples = list(self.samples)
        if samples:
            writer = SampleWriter(run_dir, worker)
            try:
                for s in samples:
                    writer.record(
                        ts=s.ts,
                        intended_ts=s.ts,
                        latency_ms=s.latency_ms,
                        kind=s.kind,
                        name=s.name,
                        tenant=s.tenant,
                        tier=s.tier,
                        ok=s.ok,
                        status=s.status,
                        error=s.error,
                        nbytes=0,
                    )
            finally:
                writer.close()
        attempts = [s for s in samples if s.name.startswith("isolation:")]
        return {
            "victims": [
                {
                    "tenant": v.tenant,
                    "runs": len(v.runs),
                    "agents": len(v.agents),
                    "tokens": len(v.tokens),
                    "audit_events_read": v.audit_events,
                }
                for v in self.victims
            ],
            "attempts": len(attempts),
            "refused": sum(s.refused for s in attempts),
            "routes": sorted({s.name for s in attempts}),
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }


def make_probe(
    base_url: str, tenants: Sequence[Tenant], warmup_s: float, planned_s: float
) -> IsolationProbe:
    """The runner's entry, called before the load workers start (so a probe that cannot work
    is refused before any load): a probe that, once started, begins after the warm-up and at
    least a fifth of the way into the load, so the load has made objects to take ids from."""
    if len(tenants) < 2 or any(t.admin_token is None for t in tenants):
        raise UsageError(
            "the isolation probe needs at least two tenants provisioned on the reference target "
            "(scenario 'tenants:', target embedded or the reference service)"
        )
    return IsolationProbe(base_url, tenants, start_after_s=max(warmup_s, 0.2 * planned_s))


def finish_probe(probe: IsolationProbe, run_dir: Path, *, aborted: bool) -> dict[str, Any]:
    """After the load workers stopped: let the probe end (not at all when the run was
    aborted), write its samples as the next free worker number, return run.json's summary."""
    probe.finish(grace_s=0.0 if aborted else 60.0)
    samples = run_dir / "samples"
    numbers = [
        int(p.stem.split("-", 1)[1]) for p in samples.glob("*-*.*") if p.stem.split("-", 1)[1].isdigit()
    ]
    return probe.write(run_dir, max(numbers, default=-1) + 1)
