"""The attackers' side of the isolation probe: send attempts, record what came back.

Shared by the harvest (``probe.py``): the probe's clock (deadline and stop flag), one HTTP
request with 429s waited out, and the sample a request becomes.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from scenarios.isolation.attempts import REFUSED, Attempt, ws_status
from scenarios.record import SampleKind

if TYPE_CHECKING:  # at run time scenarios.runner imports this package, not the reverse
    from scenarios.runner.plans import Tenant

__all__ = ["Clock", "ProbeSample", "replay", "send"]

_TIMEOUT_S = 10.0
PACE_PER_S = 4.0
"""Attempts per second per attacker token: the load shares the tenants' request buckets (a
starter tenant has 20/s), and a probe that drained them would turn the load's own requests,
and the tier users' isolation probes, into 429s."""
_MAX_WAIT_S = 2.0  # longest single wait after a 429 before trying again
_WS_CLOSE_STATUS = {4401: 401, 4403: 403, 4429: 429, 1013: 503}


@dataclass(frozen=True, slots=True)
class ProbeSample:
    """One request the probe made (attempt or harvest), as it goes into the run record."""

    ts: float
    latency_ms: float
    kind: str
    name: str
    tenant: str
    tier: str
    status: int
    error: str

    @property
    def refused(self) -> bool:
        return self.status in REFUSED

    @property
    def ok(self) -> bool:
        """An attempt is ok when refused; a harvest request when it succeeded."""
        return self.refused if self.name.startswith("isolation:") else 200 <= self.status < 300


class Clock:
    """The probe's deadline and stop flag, shared by its threads."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.deadline = float("inf")

    def pace(self, last: float) -> bool:
        """Wait until ``1 / PACE_PER_S`` after ``last`` (monotonic); False when stopping."""
        return self.wait(last + 1.0 / PACE_PER_S - time.monotonic())

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False when the probe must stop instead."""
        seconds = min(seconds, self.deadline - time.monotonic())
        if seconds > 0:
            self.stop.wait(seconds)
        return not self.over

    @property
    def over(self) -> bool:
        return self.stop.is_set() or time.monotonic() >= self.deadline


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(_MAX_WAIT_S, max(0.05, float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # 0: no answer (transport error)
    latency_ms: float  # of the last try
    error: str
    payload: Any = None


def send(
    client: httpx.Client, clock: Clock, method: str, path: str, token: str, body: dict[str, Any] | None
) -> Answer:
    """One request, 429s waited out (until the probe's deadline)."""
    while True:
        started = time.perf_counter()
        try:
            response = client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as exc:
            return Answer(0, (time.perf_counter() - started) * 1000.0, f"{type(exc).__name__}: {exc}")
        latency = (time.perf_counter() - started) * 1000.0
        if response.status_code == 429 and clock.wait(_retry_after(response)):
            continue
        if 200 <= response.status_code < 300:
            payload = response.json() if response.content else None
            return Answer(response.status_code, latency, "", payload)
        return Answer(response.status_code, latency, response.text[:200])


def replay(
    base_url: str, clock: Clock, attacker: Tenant, token: str, attempts: list[Attempt]
) -> list[ProbeSample]:
    """Every attempt with one attacker token: HTTP ones in order, then the WebSocket ones on
    one session. Attempts not made before the clock ran out are left out (not recorded)."""
    samples: list[ProbeSample] = []
    with httpx.Client(base_url=base_url, timeout=_TIMEOUT_S) as client:
        last = 0.0
        for attempt in attempts:
            if attempt.is_ws:
                continue
            if clock.over or not clock.pace(last):
                return samples
            last = time.monotonic()
            ts = time.time()
            answer = send(client, clock, attempt.method, attempt.path, token, attempt.body)
            samples.append(
                _sample(
                    ts,
                    answer.latency_ms,
                    SampleKind.HTTP.value,
                    attempt,
                    attacker,
                    answer.status,
                    answer.error,
                )
            )
    ws = [a for a in attempts if a.is_ws]
    if ws:
        samples.extend(_replay_ws(base_url, clock, attacker, token, ws))
    return samples


def _sample(
    ts: float, latency_ms: float, kind: str, attempt: Attempt, attacker: Tenant, status: int, error: str
) -> ProbeSample:
    if status in REFUSED:
        error = ""
    elif 200 <= status < 400:
        error = f"cross-tenant {attempt.method} {attempt.path} answered {status}: a leak"
    else:
        error = error or f"answered {status}: neither refused nor served"
    return ProbeSample(ts, latency_ms, kind, attempt.name, attacker.tenant, attacker.tier, status, error)


def _ws_url(base_url: str) -> str:
    return "ws" + base_url[len("http") :] + "/v1/sessions/ws" if base_url.startswith("http") else base_url


def _replay_ws(
    base_url: str, clock: Clock, attacker: Tenant, token: str, attempts: list[Attempt]
) -> list[ProbeSample]:
    """One session for all of this token's WebSocket attempts; reopened after a quota close."""
    samples: list[ProbeSample] = []
    pending = list(attempts)
    while pending and not clock.over:
        try:
            with connect(
                _ws_url(base_url),
                additional_headers={"Authorization": f"Bearer {token}"},
                open_timeout=_TIMEOUT_S,
                close_timeout=2,
            ) as session:
                last = 0.0
                while pending and clock.pace(last):
                    last = time.monotonic()
                    status, latency, error = _ws_try(session, clock, pending[0], len(pending))
                    samples.append(
                        _sample(
                            time.time() - latency / 1000.0,
                            latency,
                            SampleKind.CHECK.value,
                            pending.pop(0),
                            attacker,
                            status,
                            error,
                        )
                    )
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else 1006
            status = _WS_CLOSE_STATUS.get(code, 0)
            if status == 429 and clock.wait(1.0):
                continue  # the tenant's session quota is full: wait for a slot
            if status in (401, 403) and pending:
                # the session itself was refused: every pending attempt was refused with it
                now = time.time()
                samples.extend(
                    _sample(now, 0.0, SampleKind.CHECK.value, a, attacker, status, "") for a in pending
                )
                pending.clear()
            elif not clock.wait(1.0):
                break
        except (OSError, InvalidStatus, TimeoutError) as exc:
            if not clock.wait(1.0):
                samples.extend(
                    _sample(
                        time.time(),
                        0.0,
                        SampleKind.CHECK.value,
                        a,
                        attacker,
                        0,
                        f"{type(exc).__name__}: {exc}",
                    )
                    for a in pending
                )
                break
    return samples


def _ws_try(session: ClientConnection, clock: Clock, attempt: Attempt, ref: int) -> tuple[int, float, str]:
    """Send one probe message; (status, latency ms, error) of its first answer, 429s retried."""
    assert attempt.message is not None
    while True:
        started = time.perf_counter()
        session.send(json.dumps({**attempt.message, "ref": f"isolation-{ref}"}))
        status, frame = 0, ""
        deadline = started + _TIMEOUT_S
        while status == 0 and time.perf_counter() < deadline:
            try:
                raw = session.recv(timeout=max(0.01, deadline - time.perf_counter()))
            except TimeoutError:
                break
            frame = str(raw)[:200]
            parsed = json.loads(raw)
            status = ws_status(parsed) if isinstance(parsed, dict) else 0
            if status == 429 and clock.wait(min(_MAX_WAIT_S, float(parsed.get("retry_after") or 1.0))):
                status = -1  # retry the message
                break
        latency = (time.perf_counter() - started) * 1000.0
        if status == -1:
            continue
        return status, latency, "" if status in REFUSED else (frame or "no answer within 10 s")
