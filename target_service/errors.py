"""Errors the service answers with, and how each becomes an HTTP response.

::

    ServiceError (status, code, detail)
    ├── Unauthorized          401  missing or invalid bearer token
    ├── Forbidden             403  the role may not do this
    ├── NotFound              404  no such object *for this tenant* (another tenant's is "not found")
    ├── PayloadTooLarge       413
    ├── InvalidRequest        422  well-formed but over a configured limit (e.g. prompt length)
    ├── RateLimited           429  tenant request bucket empty; Retry-After set
    ├── QueueFull             429  run queue full (load shedding); Retry-After set
    ├── DatabaseUnavailable   503  real outage or injected fault; Retry-After set
    └── InjectedError         500  fault injection's error rate (looks like a real crash)

Every body is ``{"error": code, "detail": message}`` so clients and load generators can
group failures by ``error`` without parsing prose.
"""

from __future__ import annotations

import math

__all__ = [
    "DatabaseUnavailable",
    "Forbidden",
    "InjectedError",
    "InvalidRequest",
    "NotFound",
    "PayloadTooLarge",
    "QueueFull",
    "RateLimited",
    "ServiceError",
    "Unauthorized",
]


class ServiceError(Exception):
    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, detail: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.retry_after_s is not None:
            # Retry-After is whole seconds (RFC 9110); round up so clients never retry early.
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after_s)))
        if self.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return headers

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "detail": self.detail}
        if self.retry_after_s is not None:
            body["retry_after"] = round(self.retry_after_s, 3)
        return body


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class PayloadTooLarge(ServiceError):
    status_code = 413
    code = "payload_too_large"


class InvalidRequest(ServiceError):
    status_code = 422
    code = "invalid_request"


class RateLimited(ServiceError):
    status_code = 429
    code = "rate_limited"


class QueueFull(ServiceError):
    status_code = 429
    code = "queue_full"


class DatabaseUnavailable(ServiceError):
    status_code = 503
    code = "database_unavailable"

    def __init__(self, detail: str, *, retry_after_s: float | None = 1.0) -> None:
        super().__init__(detail, retry_after_s=retry_after_s)


class InjectedError(ServiceError):
    status_code = 500
    code = "internal_error"
