"""Locust users for the reference target's three tiers: starter, team, enterprise.

Each user acts as one provisioned tenant (bearer token from its
:class:`~scenarios.http.plan.TenantCredential`) and follows a tier-typical flow:

- starter: mostly reads (run list, agent list, its few runs), rarely starts a run;
- team: balanced; starts runs and polls the ones it created until they finish;
- enterprise: heavy run creation, pages through run lists, and its admin reads the audit log.

Every tier also probes isolation now and then: with its own token it reads another
tenant's run or deletes another tenant's agent (ids seen by this worker's other users) and
records ``isolation: ...`` samples that pass only on 404 (readiness claim 7).

Every task makes exactly one request, so in the open model one arrival is one request and
the arrival rate is the request rate. Samples are named by route template
(``GET /v1/runs/{id}``), never by raw path, so they group and match the target's ``route``
metric label. A 429 is recorded as it is (``ok=False``, status 429) and, in the closed model,
the user waits at least its ``Retry-After`` before the next task.

Imports ``locust``: only worker processes may import this module.
"""

from __future__ import annotations

import json
import random
from collections import deque
from typing import Any, ClassVar, Final
from urllib.parse import quote

from locust import task

from scenarios.http.users import SlogateUser

__all__ = ["TIER_USERS", "EnterpriseUser", "StarterUser", "TeamUser", "TierUser"]

_TERMINAL: Final = frozenset({"succeeded", "failed"})
_PROMPTS: Final = (
    "Summarise the attached incident report in three bullet points.",
    "Draft a polite reply declining the meeting and proposing Thursday.",
    "Classify this support ticket: billing, bug, or feature request.",
    "Translate the release notes into German.",
    "Extract every date and amount from this invoice.",
    "Write a SQL query returning the ten largest customers by revenue.",
)
_MODELS: Final = ("sim-small", "sim-large")


# Recent run and agent ids per tenant, shared by every user of this worker process: the
# isolation probes take another tenant's ids from here (readiness claim 7).
_KNOWN_RUNS: Final[dict[str, deque[str]]] = {}
_KNOWN_AGENTS: Final[dict[str, deque[str]]] = {}


def _remember(registry: dict[str, deque[str]], tenant: str, object_id: str) -> None:
    registry.setdefault(tenant, deque(maxlen=20)).append(object_id)


def _foreign(registry: dict[str, deque[str]], tenant: str) -> str | None:
    """A recent id of some *other* tenant's object, or None while none is known."""
    others = [ids for owner, ids in registry.items() if owner != tenant and ids]
    return random.choice(random.choice(others)) if others else None


def _json(response: Any) -> Any:
    """The JSON body of a response, or ``None`` if there is none or it does not parse."""
    try:
        content = response.content
        return json.loads(content) if content else None
    except (ValueError, TypeError):
        return None


class TierUser(SlogateUser):
    """Shared steps of the tier flows; subclasses choose the mix with ``@task`` weights."""

    abstract = True
    page_through: ClassVar[bool] = False  # follow next_cursor across list calls

    def on_start(self) -> None:
        if self.credential is None:
            raise RuntimeError(
                f"{type(self).__name__} needs tenant credentials: set .credentials "
                "(the runner provisions tenants before the run)"
            )
        cred = self.credential
        self._auth = {"Authorization": f"Bearer {cred.token}"}
        admin = cred.admin_token or (cred.token if cred.role == "admin" else None)
        self._admin_auth = {"Authorization": f"Bearer {admin}"} if admin else None
        self.run_ids: deque[str] = deque(maxlen=50)
        self._cursor: str | None = None

    # ----- steps: each sends exactly one request ---------------------------------------

    def create_run(self) -> None:
        body = {"prompt": f"{random.choice(_PROMPTS)} (#{random.randrange(10**6)})"}
        resp = self.client.post("/v1/runs", json=body, headers=self._auth, name="POST /v1/runs")
        self.note_response(resp)
        if resp.status_code == 202 and isinstance(data := _json(resp), dict) and "id" in data:
            self.run_ids.append(str(data["id"]))
            _remember(_KNOWN_RUNS, self.credential.tenant if self.credential else "", str(data["id"]))

    def poll_run(self) -> None:
        """Poll the oldest unfinished run this user created; start one if it has none."""
        if not self.run_ids:
            self.create_run()
            return
        run_id = self.run_ids[0]
        self.run_ids.rotate(-1)
        resp = self.client.get(f"/v1/runs/{run_id}", headers=self._auth, name="GET /v1/runs/{id}")
        self.note_response(resp)
        data = _json(resp) if resp.status_code == 200 else None
        gone = resp.status_code == 404
        if gone or (isinstance(data, dict) and data.get("status") in _TERMINAL):
            self.run_ids.remove(run_id)

    def list_runs(self) -> None:
        path = "/v1/runs?limit=20"
        if self.page_through and self._cursor:
            path += f"&cursor={quote(self._cursor, safe='')}"
        resp = self.client.get(path, headers=self._auth, name="GET /v1/runs")
        self.note_response(resp)
        data = _json(resp) if resp.status_code == 200 else None
        cursor = data.get("next_cursor") if isinstance(data, dict) else None
        self._cursor = str(cursor) if cursor else None

    def list_agents(self) -> None:
        resp = self.client.get("/v1/agents", headers=self._auth, name="GET /v1/agents")
        self.note_response(resp)

    def create_agent(self) -> None:
        body = {
            "name": f"agent-{random.randrange(16**8):08x}",
            "model": random.choice(_MODELS),
            "system_prompt": "You are a concise assistant for internal operations.",
        }
        resp = self.client.post("/v1/agents", json=body, headers=self._auth, name="POST /v1/agents")
        self.note_response(resp)
        if resp.status_code == 201 and isinstance(data := _json(resp), dict) and "id" in data:
            _remember(_KNOWN_AGENTS, self.credential.tenant if self.credential else "", str(data["id"]))

    def probe_isolation(self) -> None:
        """Try another tenant's run (read) or agent (delete) with this tenant's token.

        Anything but 404 is a failure: the other tenant's objects must not exist for us.
        Named ``isolation: ...`` so the readiness report finds the evidence (docs/reports.md).
        Before any foreign id is known, the user reads its own runs instead.
        """
        tenant = self.credential.tenant if self.credential else ""
        write = random.random() < 0.3
        foreign = _foreign(_KNOWN_AGENTS if write else _KNOWN_RUNS, tenant)
        if foreign is None:
            self.list_runs()
            return
        method, path, name = (
            ("DELETE", f"/v1/agents/{foreign}", "isolation: DELETE /v1/agents/{id}")
            if write
            else ("GET", f"/v1/runs/{foreign}", "isolation: GET /v1/runs/{id}")
        )
        with self.client.request(method, path, headers=self._auth, name=name, catch_response=True) as resp:
            self.note_response(resp)
            if resp.status_code == 404:
                resp.success()
            else:
                resp.failure(f"cross-tenant {method} answered {resp.status_code}, not 404")

    def read_audit(self) -> None:
        """Audit reads need a tenant-admin token; without one the user lists runs instead."""
        if self._admin_auth is None:
            self.list_runs()
            return
        resp = self.client.get("/v1/audit?limit=20", headers=self._admin_auth, name="GET /v1/audit")
        self.note_response(resp)

    def health(self) -> None:
        resp = self.client.get("/healthz", name="GET /healthz")
        self.note_response(resp)


class StarterUser(TierUser):
    """Small tenants: look around far more than they run anything."""

    tier = "starter"

    @task(4)
    def t_list_runs(self) -> None:
        self.list_runs()

    @task(3)
    def t_list_agents(self) -> None:
        self.list_agents()

    @task(2)
    def t_poll_run(self) -> None:
        self.poll_run()

    @task(1)
    def t_create_run(self) -> None:
        self.create_run()

    @task(1)
    def t_health(self) -> None:
        self.health()

    @task(1)
    def t_probe_isolation(self) -> None:
        self.probe_isolation()


class TeamUser(TierUser):
    """Working teams: start runs and poll them to completion, tend their agents."""

    tier = "team"

    @task(3)
    def t_create_run(self) -> None:
        self.create_run()

    @task(5)
    def t_poll_run(self) -> None:
        self.poll_run()

    @task(2)
    def t_list_runs(self) -> None:
        self.list_runs()

    @task(1)
    def t_list_agents(self) -> None:
        self.list_agents()

    @task(1)
    def t_create_agent(self) -> None:
        self.create_agent()

    @task(1)
    def t_probe_isolation(self) -> None:
        self.probe_isolation()


class EnterpriseUser(TierUser):
    """Large tenants: heavy run creation, paging through lists, admins reading the audit log."""

    tier = "enterprise"
    page_through = True

    @task(6)
    def t_create_run(self) -> None:
        self.create_run()

    @task(3)
    def t_list_runs(self) -> None:
        self.list_runs()

    @task(2)
    def t_poll_run(self) -> None:
        self.poll_run()

    @task(2)
    def t_read_audit(self) -> None:
        self.read_audit()

    @task(1)
    def t_create_agent(self) -> None:
        self.create_agent()

    @task(1)
    def t_list_agents(self) -> None:
        self.list_agents()

    @task(1)
    def t_probe_isolation(self) -> None:
        self.probe_isolation()


TIER_USERS: Final[dict[str, type[TierUser]]] = {
    "starter": StarterUser,
    "team": TeamUser,
    "enterprise": EnterpriseUser,
}
