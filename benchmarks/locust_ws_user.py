"""Locust baseline for the swarm benchmark: a User driving a gevent WebSocket client.

This is how Locust users commonly test WebSockets: ``websocket-client`` (blocking, made
cooperative by Locust's gevent monkey-patching), one connection per user opened in
``on_start``, a task that sends a message and waits for the reply, ``constant_pacing`` for
the schedule, and ``events.request.fire`` so Locust's statistics see every message.

Run by ``benchmarks/swarm_vs_locust_ws.py``; settings come from the environment, read once
at import: ``BENCH_WS_INTERVAL`` (seconds between messages per user), ``BENCH_WS_MESSAGE``.
Besides Locust's own output it prints ``{"bench": 1, ...}`` once a second: the cumulative
count of echoed messages and the live users, so the driver can measure a steady window.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import gevent
import websocket
from locust import User, constant_pacing, events, task
from locust.env import Environment

INTERVAL = float(os.environ.get("BENCH_WS_INTERVAL", "1.0"))
MESSAGE = os.environ.get("BENCH_WS_MESSAGE", "Summarise the quarterly report in three sentences.")

_messages = 0


def _count(exception: Exception | None, **_: Any) -> None:
    global _messages
    if exception is None:
        _messages += 1


def _report(environment: Environment) -> None:
    while True:
        runner = environment.runner
        users = runner.user_count if runner is not None else 0
        line = {"bench": 1, "t": time.time(), "messages": _messages, "users": users}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        gevent.sleep(1.0)


def _start_reporter(environment: Environment, **_: Any) -> None:
    gevent.spawn(_report, environment)


events.request.add_listener(_count)  # type: ignore[no-untyped-call]
events.init.add_listener(_start_reporter)  # type: ignore[no-untyped-call]


class EchoWebSocketUser(User):
    wait_time = constant_pacing(INTERVAL)

    def on_start(self) -> None:
        assert self.host, "run with --host ws://127.0.0.1:PORT/"
        self.ws = websocket.create_connection(self.host)

    def on_stop(self) -> None:
        self.ws.close()

    @task
    def echo(self) -> None:
        t0 = time.perf_counter()
        exc: Exception | None = None
        length = 0
        try:
            self.ws.send(MESSAGE)
            length = len(self.ws.recv())
        except Exception as e:  # reported to Locust, as its users do
            exc = e
        events.request.fire(  # type: ignore[no-untyped-call]
            request_type="WS",
            name="echo",
            response_time=(time.perf_counter() - t0) * 1000.0,
            response_length=length,
            exception=exc,
            context={},
        )
