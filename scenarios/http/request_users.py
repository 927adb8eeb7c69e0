"""Locust users for a foreign target, built from the scenario's request list.

Each task run picks one :class:`~scenarios.http.plan.RequestSpec` by weight and sends it.
Success is the spec's ``expect_status``, decided with Locust's ``catch_response`` so the
``request`` event (and so the sample) carries the verdict; without ``expect_status`` it is
Locust's own check (2xx and 3xx, redirects followed). When the
plan gives tenant credentials, each user sends ``Authorization: Bearer <token>`` unless the
spec sets its own ``Authorization`` header.

Imports ``locust``: only worker processes may import this module.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
from typing import Any, ClassVar

from locust import task

from scenarios.http.plan import RequestSpec
from scenarios.http.users import SlogateUser

__all__ = ["RequestListUser", "request_list_user"]


class RequestListUser(SlogateUser):
    """Sends the plan's requests in proportion to their weights.

    Example::

        MyUser = request_list_user((RequestSpec("ping", "GET", "/ping"),), host=url)
        MyUser(environment).send_one()
    """

    abstract = True
    requests: ClassVar[tuple[RequestSpec, ...]] = ()
    _cum_weights: ClassVar[tuple[float, ...]] = ()
    _bodies: ClassVar[tuple[str | None, ...]] = ()
    _headers: ClassVar[tuple[dict[str, str], ...]] = ()

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        auth = {"Authorization": f"Bearer {self.credential.token}"} if self.credential else {}
        self._request_headers = [
            dict(h) if any(k.lower() == "authorization" for k in h) else {**auth, **h}
            for h in self._headers
        ]

    def pick(self) -> int:
        """Index of the next request, drawn with probability weight / total weight."""
        cum = self._cum_weights
        return bisect.bisect_right(cum, random.random() * cum[-1])

    @task
    def send_one(self) -> None:
        i = self.pick()
        spec = self.requests[i]
        if not spec.expect_status:
            # Locust's own check (2xx, redirects followed) is the default; skipping
            # catch_response saves its per-request context manager (~10 % of client CPU)
            resp = self.client.request(
                spec.method, spec.path, name=spec.name, data=self._bodies[i],
                headers=self._request_headers[i],  # Locust copies it before adding its own
            )  # fmt: skip
            self.note_response(resp)
            return
        with self.client.request(
            spec.method,
            spec.path,
            name=spec.name,
            data=self._bodies[i],
            headers=self._request_headers[i],
            catch_response=True,
        ) as resp:
            status = resp.status_code
            error = getattr(resp, "error", None)
            if status and spec.is_expected(status):
                resp.success()
            elif status:
                resp.failure(f"HTTP {status} (expected {list(spec.expect_status)})")
            else:
                resp.failure(error if error is not None else "no response")
            self.note_response(resp)


def request_list_user(
    requests: tuple[RequestSpec, ...], *, host: str, name: str = "HttpRequestsUser"
) -> type[RequestListUser]:
    """A concrete :class:`RequestListUser` subclass for ``requests`` against ``host``.

    Bodies are serialised once here, not per request: a JSON body is sent with
    ``Content-Type: application/json`` unless the spec sets its own.
    """
    if not requests:
        raise ValueError("a request list user needs at least one request")
    bodies: list[str | None] = []
    headers: list[dict[str, str]] = []
    for spec in requests:
        h = dict(spec.headers)
        if spec.json_body is not None:
            bodies.append(json.dumps(spec.json_body, separators=(",", ":")))
            if not any(k.lower() == "content-type" for k in h):
                h["Content-Type"] = "application/json"
        else:
            bodies.append(spec.body)
        headers.append(h)
    cls = type(
        name,
        (RequestListUser,),
        {
            "host": host,
            "requests": requests,
            "_cum_weights": tuple(itertools.accumulate(s.weight for s in requests)),
            "_bodies": tuple(bodies),
            "_headers": tuple(headers),
            "_ordinal": itertools.count(),
        },
    )
    return cls
