"""Run events (tokens, completion) delivered to whoever follows a run.

Delivery is local first: a run executes in the worker that accepted it, and the session
that asked for it is almost always on that same worker, so events go straight into its
queue with no I/O. With Redis configured every event is also published on
``slogate:run:<id>`` so a client following the run from another worker process (e.g. a
WebSocket ``subscribe`` that landed elsewhere) receives it too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

__all__ = ["EventBus"]

Event = dict[str, Any]
_CHANNEL = "slogate:run:"


class EventBus:
    """Publish run events; subscribe to one run's events as an async iterator."""

    def __init__(self, redis: Redis | None = None) -> None:
        self._redis = redis
        self._local: dict[str, set[asyncio.Queue[Event]]] = {}

    async def publish(self, run_id: str, event: Event) -> None:
        for queue in self._local.get(run_id, ()):
            queue.put_nowait(event)
        if self._redis is not None:
            await self._redis.publish(_CHANNEL + run_id, json.dumps(event))

    @asynccontextmanager
    async def subscribe_local(self, run_id: str) -> AsyncIterator[asyncio.Queue[Event]]:
        """Events of a run executing in this process (unbounded: a run has few events)."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._local.setdefault(run_id, set()).add(queue)
        try:
            yield queue
        finally:
            subscribers = self._local.get(run_id)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._local[run_id]

    @asynccontextmanager
    async def subscribe_remote(self, run_id: str) -> AsyncIterator[asyncio.Queue[Event]]:
        """Events of a run executing in another worker, through Redis pub/sub."""
        if self._redis is None:
            raise RuntimeError("remote subscriptions need Redis")
        queue: asyncio.Queue[Event] = asyncio.Queue()
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(_CHANNEL + run_id)
        # Wait for Redis to confirm: only then is every later publish sure to reach us, which
        # lets the caller re-read the run's state afterwards without a gap (see sessions.py).
        async with asyncio.timeout(5.0):
            while (await pubsub.get_message(timeout=1.0) or {}).get("type") != "subscribe":
                pass

        async def pump() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    queue.put_nowait(json.loads(message["data"]))

        task = asyncio.create_task(pump())
        try:
            yield queue
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await pubsub.unsubscribe()
            await pubsub.aclose()
