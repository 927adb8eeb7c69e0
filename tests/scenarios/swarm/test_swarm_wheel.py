"""The prompt wheel on a real uvloop loop (the shards' loop): never early, in order, lazy cancel.

No upper bounds on lateness: the machine may be slow; what must hold on any machine is
that nothing fires before its time, nothing is lost, and order follows the filed times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import uvloop

from scenarios.swarm.wheel import PromptWheel


class Item:
    def __init__(self, name: str, calls: list[tuple[str, int, float]]) -> None:
        self.name = name
        self.calls = calls
        self.key = -1
        self.on_due: Callable[[Item], None] | None = None

    def prompt_due(self, key: int) -> None:
        self.calls.append((self.name, key, time.monotonic()))
        if self.on_due is not None:
            self.on_due(self)


def run(body: Callable[[asyncio.AbstractEventLoop], Awaitable[None]]) -> None:
    async def main() -> None:
        await body(asyncio.get_running_loop())

    uvloop.run(main())


def test_fires_every_item_in_time_order_and_never_early() -> None:
    calls: list[tuple[str, int, float]] = []
    due: dict[str, float] = {}

    async def body(loop: asyncio.AbstractEventLoop) -> None:
        wheel = PromptWheel(loop)
        t0 = time.monotonic()
        # filed out of order, several per millisecond, some sharing a bucket
        for i, offset_ms in enumerate([30, 5, 5.2, 17.9, 18.0, 1, 44.5, 30]):
            name = f"i{i}"
            due[name] = t0 + offset_ms / 1000.0
            wheel.add(Item(name, calls), due[name])
        await asyncio.sleep(0.2)
        wheel.close()

    run(body)
    assert sorted(c[0] for c in calls) == sorted(due)  # each exactly once
    for name, key, fired in calls:
        assert fired >= due[name], f"{name} fired {due[name] - fired:.6f} s early"
        assert key / 1000.0 >= due[name] > (key - 1) / 1000.0  # its bucket: the next whole ms
    keys = [key for _, key, _ in calls]
    assert keys == sorted(keys)


def test_an_earlier_bucket_filed_later_rearms_the_timer() -> None:
    calls: list[tuple[str, int, float]] = []

    async def body(loop: asyncio.AbstractEventLoop) -> None:
        wheel = PromptWheel(loop)
        t0 = time.monotonic()
        wheel.add(Item("late", calls), t0 + 0.5)
        wheel.add(Item("soon", calls), t0 + 0.01)
        await asyncio.sleep(0.1)  # "soon" must not wait for the timer armed for "late"
        assert [c[0] for c in calls] == ["soon"]
        wheel.close()

    run(body)


def test_items_filed_from_prompt_due_keep_firing() -> None:
    calls: list[tuple[str, int, float]] = []

    async def body(loop: asyncio.AbstractEventLoop) -> None:
        wheel = PromptWheel(loop)
        done = loop.create_future()
        item = Item("self", calls)

        def again(it: Item) -> None:
            if [c[0] for c in calls].count("self") < 5:
                wheel.add(it, time.monotonic() + 0.003)
            else:
                done.set_result(True)

        item.on_due = again
        other = Item("other", calls)  # filed earlier than the refiled item's next bucket
        wheel.add(item, time.monotonic())
        wheel.add(other, time.monotonic() + 0.002)
        await asyncio.wait_for(done, timeout=10.0)
        wheel.close()

    run(body)
    assert [c[0] for c in calls].count("self") == 5
    assert "other" in [c[0] for c in calls]


def test_overdue_items_fire_on_the_next_iteration_and_close_drops_the_rest() -> None:
    calls: list[tuple[str, int, float]] = []

    async def body(loop: asyncio.AbstractEventLoop) -> None:
        wheel = PromptWheel(loop)
        wheel.add(Item("past", calls), time.monotonic() - 5.0)
        wheel.add(Item("future", calls), time.monotonic() + 0.05)
        assert len(wheel) == 2
        await asyncio.sleep(0.01)
        assert [c[0] for c in calls] == ["past"]
        wheel.close()
        assert len(wheel) == 0
        await asyncio.sleep(0.1)

    run(body)
    assert [c[0] for c in calls] == ["past"]
