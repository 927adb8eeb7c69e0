"""The WebSocket swarm: thousands of live sessions per process, in one or more shards.

asyncio + uvloop, ``asyncio.Protocol`` sessions, the handshake from ``websockets``. Each
session connects (optionally with a bearer token), holds its connection, sends prompts on
its schedule and records ``ws_connect``, ``ws_first_token``, ``ws_message`` and every
unexpected ``ws_close`` into the run record. See ``docs/swarm.md`` for protocols, tuning
and limits.

Example::

    plan = SwarmPlan(url="ws://127.0.0.1:8000/v1/sessions/ws", groups=(group,), duration_s=30)
    with start_swarm(plan, run_dir, first_worker=0) as swarm:
        while None in swarm.wait(timeout=1.0).values():
            show(merge_reports(swarm.poll()))   # live progress, once a second
    samples = read_samples(run_dir)
"""

from scenarios.swarm.handle import SwarmHandle, start_swarm
from scenarios.swarm.plan import SessionGroup, SessionSpec, SwarmPlan, assign_sessions

__all__ = [
    "SessionGroup",
    "SessionSpec",
    "SwarmHandle",
    "SwarmPlan",
    "assign_sessions",
    "start_swarm",
]
