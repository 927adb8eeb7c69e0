"""Locust user plumbing shared by tier users and request-list users, and the open model.

Imports ``locust`` (which gevent-monkey-patches the process): only worker processes and
Locust-driving code may import this module.

Closed model: plain Locust semantics, users loop task -> think time (``between``), and a
429's ``Retry-After`` stretches the next pause the way a polite client would.

Open model: the same users and the same tasks, but each task run is triggered by an
*arrival* from :mod:`scenarios.http.schedule`. A pool of users per group takes arrivals from
one :class:`OpenGate`; a free user takes the next intended time as its ``wait_time``, Locust
sleeps until it, and the user sends.
When every user is busy (the target stalls) arrivals queue in the gate and are taken late:
the request is still sent, its sample keeps ``intended_ts`` so the corrected response time
includes the wait, and a send later than ``slip_threshold_s`` counts as a schedule slip
(wrk2's coordinated-omission correction, with the slips made visible instead of silent).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import gevent
from gevent.event import Event
from locust import FastHttpUser
from locust.exception import StopUser

from scenarios.http.plan import TenantCredential

__all__ = ["LoadControl", "OpenGate", "SlogateUser", "make_open", "retry_after_s"]

RETRY_AFTER_CAP_S = 30.0


def retry_after_s(headers: Any) -> float:
    """Seconds a ``Retry-After`` header (delta-seconds form) asks for; 0 when absent or bad."""
    if headers is None:
        return 0.0
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return min(RETRY_AFTER_CAP_S, max(0.0, float(value)))
    except (TypeError, ValueError):
        return 0.0  # an HTTP-date or garbage: fall back to the normal think time


class LoadControl:
    """Worker-wide start and stop signals shared by every gate and user."""

    def __init__(self) -> None:
        self.started = Event()
        self.stopping = Event()


class OpenGate:
    """Hands the intended send times of one user group to whichever of its users is free.

    Greenlets are cooperative and :meth:`take` never yields, so no lock is needed.
    """

    def __init__(self, offsets: Iterator[float], control: LoadControl, slip_threshold_s: float):
        self._offsets = offsets
        self.control = control
        self.slip_threshold_s = slip_threshold_s
        self.t0 = 0.0
        self.slips = 0
        self.in_flight = 0
        self.sent = 0
        self.done = Event()  # set once the schedule is used up: every arrival handed out

    def take(self) -> float | None:
        """The next intended send time (epoch s), or ``None`` when the schedule is over."""
        offset = next(self._offsets, None)
        if offset is None:
            self.done.set()
            return None
        return self.t0 + offset

    def drop_due(self, now: float) -> int:
        """Count (as slips) arrivals already due at ``now`` that will never be sent (early stop)."""
        dropped = 0
        for offset in self._offsets:
            if self.t0 + offset > now:
                break
            dropped += 1
        self.done.set()
        self.slips += dropped
        return dropped


class SlogateUser(FastHttpUser):
    """Base of slogate's users: tenant identity, request context, polite think time.

    Subclasses read :attr:`credential` after ``on_start``. The factory in
    :mod:`scenarios.http.worker` sets the class attributes per plan; tests set them directly::

        class MyUser(StarterUser):
            host = server_url
            credentials = (TenantCredential("t1", "starter", "tok", "developer"),)

        user = MyUser(Environment(user_classes=[MyUser]))
    """

    abstract = True
    tier: ClassVar[str] = ""
    credentials: ClassVar[tuple[TenantCredential, ...]] = ()
    share_index: ClassVar[int] = 0
    share_count: ClassVar[int] = 1
    think_time_s: ClassVar[tuple[float, float]] = (0.5, 1.5)
    gate: ClassVar[OpenGate | None] = None
    _ordinal: ClassVar[Iterator[int]] = itertools.count()

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self.tenant = ""
        self.tier_name = self.tier
        self.credential: TenantCredential | None = None
        self._intended_ts: float | None = None
        self._next_intended: float | None = None  # open model: the arrival being waited for
        self._retry_after = 0.0
        n = next(type(self)._ordinal)
        if self.credentials:
            # round robin over the whole plan: worker i of K takes ordinals i, i+K, ...
            pick = (n * self.share_count + self.share_index) % len(self.credentials)
            self.credential = self.credentials[pick]
            self.tenant = self.credential.tenant
            self.tier_name = self.credential.tier

    def context(self) -> dict[str, Any]:
        """Per-request context for the recorder; the intended time applies to one request only.

        In the open model the first request of a task is the scheduled arrival; any further
        request the same task makes is a consequence of it and is sent "on time".
        """
        intended, self._intended_ts = self._intended_ts, None
        return {"tenant": self.tenant, "tier": self.tier_name, "intended_ts": intended}

    def wait_time(self) -> float:  # Locust calls user.wait_time(); a method is allowed
        """Think time between tasks (closed model), at least what a 429 asked for."""
        lo, hi = self.think_time_s
        pause = lo + random.random() * (hi - lo)
        pause, self._retry_after = max(pause, self._retry_after), 0.0
        return pause

    def note_response(self, response: Any) -> None:
        """Remember a 429's ``Retry-After`` for the next think time."""
        if getattr(response, "status_code", 0) == 429:
            self._retry_after = retry_after_s(getattr(response, "headers", None))


Task = Callable[[Any], None]


def _open_wait(user: SlogateUser) -> float:
    """``wait_time`` of open-model users: take the next arrival, sleep until it is due.

    Locust sleeps for the returned time in its own wait state, so a graceful stop kills a
    user waiting for a future arrival at once and lets a user mid-request finish (a plain
    ``gevent.sleep`` costs ~5 us where ``Event.wait(timeout)`` cost ~25 us, a quarter of a
    request's client CPU). An arrival that is already due returns 0: it goes out late.
    """
    gate = user.gate
    assert gate is not None, "open-model user class built without a gate"
    control = gate.control
    if not control.started.is_set():
        gevent.wait([control.started, control.stopping], count=1)
    if control.stopping.is_set():
        raise StopUser()
    intended = gate.take()
    if intended is None:  # schedule over: idle until the worker stops the users
        control.stopping.wait()
        raise StopUser()
    user._next_intended = intended
    return max(0.0, intended - time.time())


def _open_step(user: SlogateUser) -> None:
    """Send the arrival :func:`_open_wait` slept for: one flow task, timed from its schedule."""
    intended, user._next_intended = user._next_intended, None
    if intended is None:  # a user's first task run comes before its first wait
        return
    gate = user.gate
    assert gate is not None
    if time.time() - intended > gate.slip_threshold_s:
        gate.slips += 1
    user._intended_ts = intended
    task: Task = random.choice(user.flow_tasks)  # type: ignore[attr-defined]
    gate.in_flight += 1
    gate.sent += 1
    try:
        task(user)
    finally:
        gate.in_flight -= 1
        user._intended_ts = None


def make_open(base: type[SlogateUser], gate: OpenGate, pool: int) -> type[SlogateUser]:
    """An open-model variant of ``base``: ``pool`` users driven by ``gate``, no think time."""
    flow = list(base.tasks)
    if not flow:
        raise TypeError(f"{base.__name__} has no tasks to run on arrivals")
    cls: Any = type(
        f"Open{base.__name__}",
        (base,),
        {
            "gate": gate,
            "flow_tasks": flow,
            "wait_time": _open_wait,
            "fixed_count": pool,
            "_ordinal": itertools.count(),
        },
    )
    cls.tasks = [_open_step]  # after creation: UserMeta would have merged the base's tasks
    opened: type[SlogateUser] = cls
    return opened
