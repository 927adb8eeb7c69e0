"""When each session sends its next prompt: millisecond buckets behind one loop timer.

Why not a loop timer per prompt: arming and cancelling an event-loop timer allocates a
handle and touches the loop's timer heap every time, a few microseconds per message, and
at thousands of messages a second that was a measurable share of the shard's CPU
(``benchmarks/swarm_vs_locust_ws.py``). Here a prompt costs a dict lookup and a list
append; the heap holds one entry per *millisecond* that has work, not one per session, and
a single timer is armed for the earliest of them.

Precision is the loop's own: uvloop timers have millisecond resolution anyway. A prompt
due at ``t`` lands in the bucket of the first whole millisecond at or after ``t`` and is
never sent early; a bucket whose timer fires before its millisecond has begun (uvloop
arms against a clock cached per iteration) waits one more millisecond.

Cancelling is lazy: a session that closes or is rescheduled simply stops matching the
bucket key it was filed under, and :meth:`Session.prompt_due` ignores the stale call.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["PromptWheel", "Schedulable"]

_MS = 1000.0


class Schedulable(Protocol):
    def prompt_due(self, key: int) -> None:
        """The wheel reached ``key``; act only if it is still the key this was filed under."""
        ...


class PromptWheel:
    """Millisecond buckets of sessions, fired in order by one loop timer.

    Example::

        wheel = PromptWheel(loop)
        key = wheel.add(session, time.monotonic() + 0.25)   # session.prompt_due(key) later
    """

    __slots__ = ("_armed", "_armed_key", "_buckets", "_clock", "_keys", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, clock: Callable[[], float] = time.monotonic) -> None:
        self._loop = loop
        self._clock = clock
        self._buckets: dict[int, list[Schedulable]] = {}
        self._keys: list[int] = []  # heap of the bucket keys in _buckets
        self._armed: asyncio.TimerHandle | None = None
        self._armed_key = 0

    def __len__(self) -> int:
        """Entries filed, stale ones included (a stale entry is dropped when its time comes)."""
        return sum(len(b) for b in self._buckets.values())

    def add(self, item: Schedulable, when: float) -> int:
        """File ``item`` to be called at ``when`` (clock seconds); return its bucket key."""
        key = math.ceil(when * _MS)  # the first whole millisecond at or after ``when``
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.append(item)
            return key
        self._buckets[key] = [item]
        heapq.heappush(self._keys, key)
        if self._armed is None or key < self._armed_key:
            self._arm(key)
        return key

    def close(self) -> None:
        """Forget everything filed and disarm the timer."""
        if self._armed is not None:
            self._armed.cancel()
            self._armed = None
        self._buckets.clear()
        self._keys.clear()

    def _arm(self, key: int) -> None:
        if self._armed is not None:
            self._armed.cancel()
        self._armed_key = key
        # Whole milliseconds, rounded up: uvloop rounds a delay to the nearest millisecond
        # and runs one under half a millisecond at once, which would spin the loop until
        # the bucket's time came. Overdue buckets (delay 0) run on the next iteration.
        delay = math.ceil(max(0.0, key / _MS - self._clock()) * _MS) / _MS
        self._armed = self._loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._armed = None
        now = self._clock() * _MS
        keys, buckets = self._keys, self._buckets
        while keys and keys[0] <= now:
            key = heapq.heappop(keys)
            for item in buckets.pop(key):
                item.prompt_due(key)
        # A prompt_due may have filed (and armed) new work; the timer must be for the earliest.
        if keys and (self._armed is None or self._armed_key != keys[0]):
            self._arm(keys[0])
