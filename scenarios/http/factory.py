"""Build the concrete Locust user classes one worker runs for an :class:`HttpPlan`.

One class per user group (a tier for the reference target, one request-list class for a
foreign target), configured through class attributes because Locust instantiates users as
``cls(environment)``. Closed model: the classes carry the tier share as Locust ``weight``
and Locust's dispatcher spawns them. Open model: each class is wrapped by
:func:`~scenarios.http.users.make_open` with its own arrival schedule (the group's share of
this worker's share of the rate) and a fixed pool size.

Imports ``locust``: only worker processes may import this module.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from scenarios.http.plan import HttpPlan
from scenarios.http.request_users import request_list_user
from scenarios.http.schedule import arrival_offsets
from scenarios.http.tier_users import TIER_USERS
from scenarios.http.users import LoadControl, OpenGate, SlogateUser, make_open

__all__ = ["UserSetup", "build_user_classes"]


@dataclass(slots=True)
class UserSetup:
    """What a worker runs: the classes, their open-model gates, and each class's tier label."""

    classes: list[type[SlogateUser]] = field(default_factory=list)
    gates: dict[str, OpenGate] = field(default_factory=dict)  # group -> gate (open model)
    tier_of: dict[str, str] = field(default_factory=dict)  # class name -> tier label

    @property
    def pool_sizes(self) -> dict[str, int]:
        return {c.__name__: int(c.fixed_count) for c in self.classes}


def _group_rng(plan: HttpPlan, index: int, group: str) -> random.Random:
    # a str seed is hashed with SHA-512 by random.seed, so it is stable across processes
    return random.Random(None if plan.seed is None else f"{plan.seed}:{index}:{group}")


def build_user_classes(plan: HttpPlan, index: int, control: LoadControl) -> UserSetup:
    """The user classes of worker ``index`` of ``plan.processes``."""
    setup = UserSetup()
    k = plan.processes
    for group, share in plan.group_shares().items():
        base: type[SlogateUser]
        if group:
            base = TIER_USERS[group]
            credentials = tuple(t for t in plan.tenants if t.tier == group)
        else:
            base = request_list_user(plan.requests, host=plan.base_url)
            credentials = plan.tenants
        attrs: dict[str, Any] = {
            "host": plan.base_url,
            "network_timeout": plan.request_timeout_s,
            "connection_timeout": plan.request_timeout_s,
            "credentials": credentials,
            "share_index": index,
            "share_count": k,
            "think_time_s": plan.think_time_s,
            "weight": share,
            "_ordinal": itertools.count(),
        }
        cls: type[SlogateUser] = type(base.__name__, (base,), attrs)
        if plan.model == "open":
            offsets = arrival_offsets(
                plan.worker_stages(index),
                arrival=plan.arrival,
                scale=share,
                phase=index / k,
                rng=_group_rng(plan, index, group),
            )
            gate = OpenGate(offsets, control, plan.slip_threshold_s)
            cls = make_open(cls, gate, plan.open_pool_size(share))
            setup.gates[group] = gate
        setup.classes.append(cls)
        setup.tier_of[cls.__name__] = group
    return setup
