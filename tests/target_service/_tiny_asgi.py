"""The smallest ASGI app a supervised worker can serve: every HTTP request gets 200 "ok".

For supervisor tests that are about processes and pipes, not the service: a worker of this
app starts in a fraction of the reference app's time and needs no database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]


async def app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":  # lifespan: uvicorn's "auto" mode copes with a refusal
        raise RuntimeError("lifespan is not supported by this app")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
