"""After the load: is every acknowledged write still there, and did every run end?

Readiness claims 13 ("nothing acknowledged is lost") and 8 ("429s absorbed, no lost work")
need evidence that a load test alone does not give: the client knows how many runs the
target acknowledged (``POST /v1/runs`` answered 202), so the runner lists each tenant's runs
through the API afterwards and compares. Runs still ``queued``/``running`` are re-listed until
they end or ``settle_s`` passes. Results are recorded as ``kind="check"`` samples named
``durability: ...`` (the naming the readiness report reads, docs/reports.md), so they are
judged like everything else and never count towards HTTP availability.

Only for tenants the run provisioned on the reference target: a foreign target's API is
not known here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from scenarios.record import SampleKind, SampleWriter, read_samples
from scenarios.runner.plans import Tenant

__all__ = ["ReadBack", "accepted_http_runs", "read_back", "record_read_back"]

_FINAL = frozenset({"succeeded", "failed"})
_MAX_PAGES = 500  # 100,000 runs per tenant at 200 a page: the read-back stays bounded


@dataclass(frozen=True, slots=True)
class ReadBack:
    tenant: str
    tier: str
    accepted: int  # 202s the client recorded for POST /v1/runs
    listed: int  # runs created over HTTP that the API lists afterwards
    unfinished: int  # of all the tenant's runs, still queued or running at the end
    seconds: float
    error: str = ""  # the read-back itself failed (HTTP error), so nothing was proven
    failed_429: int = 0  # runs that ended failed because the provider kept answering 429


def accepted_http_runs(run_dir: Path) -> dict[str, int]:
    """Per tenant, how many ``POST /v1/runs`` the target acknowledged with 202."""
    table = read_samples(run_dir, columns=["kind", "name", "tenant", "status"])
    if table.num_rows == 0:
        return {}
    kind = np.asarray(table.column("kind").to_pylist(), dtype=object)
    name = np.asarray(table.column("name").to_pylist(), dtype=object)
    status = table.column("status").to_numpy()
    tenant = np.asarray(table.column("tenant").to_pylist(), dtype=object)
    mask = (kind == SampleKind.HTTP.value) & (name == "POST /v1/runs") & (status == 202)
    owners, counts = np.unique(tenant[mask], return_counts=True)
    return {str(o): int(c) for o, c in zip(owners, counts, strict=True)}


def read_back(
    base_url: str,
    tenants: Sequence[Tenant],
    accepted: dict[str, int],
    *,
    settle_s: float = 15.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[ReadBack]:
    """List every tenant's runs; wait up to ``settle_s`` for unfinished ones to end."""
    deadline = clock() + settle_s
    results: list[ReadBack] = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for tenant in tenants:
            started = clock()
            while True:
                try:
                    listed, unfinished, failed_429 = _list_runs(client, tenant.token)
                except httpx.HTTPError as exc:
                    results.append(
                        ReadBack(
                            tenant.tenant,
                            tenant.tier,
                            accepted.get(tenant.tenant, 0),
                            0,
                            0,
                            clock() - started,
                            f"read-back failed: {exc}",
                        )
                    )
                    break
                if unfinished == 0 or clock() >= deadline:
                    results.append(
                        ReadBack(
                            tenant.tenant,
                            tenant.tier,
                            accepted.get(tenant.tenant, 0),
                            listed,
                            unfinished,
                            clock() - started,
                            failed_429=failed_429,
                        )
                    )
                    break
                sleep(0.5)  # polling the target's API: there is no event to wait on
    return results


def _list_runs(client: httpx.Client, token: str) -> tuple[int, int, int]:
    """(runs created over HTTP, runs not yet ended, runs failed on provider 429s) of the
    token's tenant, all pages. The reference target's reason for the last names the 429."""
    headers = {"Authorization": f"Bearer {token}"}
    listed = unfinished = failed_429 = 0
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/runs", params=params, headers=headers)
        response.raise_for_status()
        page = response.json()
        for run in page["items"]:
            listed += run.get("source") == "http"
            unfinished += run.get("status") not in _FINAL
            failed_429 += run.get("status") == "failed" and "429" in str(run.get("reason") or "")
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return listed, unfinished, failed_429


def record_read_back(run_dir: Path, worker: int, results: Sequence[ReadBack], settle_s: float) -> None:
    """Write the read-back as ``check`` samples in its own part (worker number ``worker``)."""
    writer = SampleWriter(run_dir, worker)
    now = time.time()
    try:
        for r in results:
            missing = r.accepted - r.listed
            durable_error = r.error or (f"{missing} acknowledged runs are missing" if missing > 0 else "")
            ended_error = r.error or (
                f"{r.unfinished} runs still queued or running {settle_s:g} s after the load"
                if r.unfinished
                else ""
            )
            retry_error = r.error or (
                f"{r.failed_429} runs failed on provider 429s instead of being retried"
                if r.failed_429 else ""
            )
            for name, error in (
                ("durability: POST /v1/runs read back", durable_error),
                ("durability: every run ended", ended_error),
                ("retry: no run failed on provider 429s", retry_error),
            ):
                writer.record(
                    ts=now,
                    intended_ts=now,
                    latency_ms=r.seconds * 1000.0,
                    kind=SampleKind.CHECK.value,
                    name=name,
                    tenant=r.tenant,
                    tier=r.tier,
                    ok=not error,
                    status=0 if r.error else 200,
                    error=error,
                    nbytes=0,
                )
    finally:
        writer.close()
