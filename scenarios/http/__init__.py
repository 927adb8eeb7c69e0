"""HTTP load through Locust: plans, tier users, the open model, exact sample recording.

Importable without Locust: this package exposes only the plan and the launcher, which run
Locust in separate worker processes (``python -m scenarios.http.worker``). The modules that
import ``locust`` (``users``, ``tier_users``, ``request_users``, ``factory``, ``worker``)
must only be imported by those processes, because Locust monkey-patches the process with
gevent on import. See docs/http-load.md.
"""

from scenarios.http.launcher import HttpLoadHandle, is_loopback_url, start_http_load
from scenarios.http.plan import HttpPlan, RequestSpec, Stage, TenantCredential

__all__ = [
    "HttpLoadHandle",
    "HttpPlan",
    "RequestSpec",
    "Stage",
    "TenantCredential",
    "is_loopback_url",
    "start_http_load",
]
