"""Orchestration runs: created here, executed asynchronously by the executor."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from target_service.audit import record_audit
from target_service.auth import Action, Principal
from target_service.db.models import Agent, Run, new_id
from target_service.dependencies import State, TenantDB, require
from target_service.errors import InvalidRequest, NotFound
from target_service.orchestration.executor import RunJob
from target_service.pagination import IdCursor, fetch_page
from target_service.routers._responses import AUTH, errors, links
from target_service.schemas import RunCreate, RunOut, RunPage

router = APIRouter(prefix="/v1/runs", tags=["runs"])

Reader = Annotated[Principal, Depends(require(Action.READ))]
Runner = Annotated[Principal, Depends(require(Action.RUN))]


async def store_run(
    session: AsyncSession, principal: Principal, body: RunCreate, source: str, *, max_prompt_chars: int
) -> Run:
    """Insert a queued run for the caller's tenant (shared by HTTP and WebSocket).

    ``max_prompt_chars`` is the operator's limit (setting ``max_prompt_chars``); the schema's
    own bound is only the hard ceiling.
    """
    assert principal.tenant_id is not None
    if len(body.prompt) > max_prompt_chars:
        raise InvalidRequest(
            f"prompt: {len(body.prompt)} characters, more than this service's limit of {max_prompt_chars}"
        )
    if body.agent_id is not None:
        agent = await session.scalar(
            select(Agent.id).where(Agent.id == body.agent_id, Agent.tenant_id == principal.tenant_id)
        )
        if agent is None:
            raise NotFound(f"agent '{body.agent_id}' not found")
    now = time.time()
    run = Run(
        id=new_id("run"),
        tenant_id=principal.tenant_id,
        agent_id=body.agent_id,
        prompt=body.prompt,
        max_tokens=body.max_tokens,
        source=source,
        status="queued",
        reason=None,
        output="",
        tokens=0,
        attempts=0,
        created_at=now,
        updated_at=now,
        started_at=None,
        finished_at=None,
    )
    session.add(run)
    record_audit(session, principal, principal.tenant_id, "run.create", run.id)
    return run


def job_for(run: Run, principal: Principal, timeout_s: float) -> RunJob:
    assert principal.tier is not None
    return RunJob(
        run_id=run.id,
        tenant_id=run.tenant_id,
        tier=principal.tier.value,
        prompt=run.prompt,
        max_tokens=run.max_tokens,
        deadline=run.created_at + timeout_s,
    )


@router.post(
    "",
    status_code=202,
    response_model=RunOut,
    operation_id="createRun",
    responses={
        **errors(*AUTH, 404, 422),
        **links(202, {"GetRun": ("getRun", {"run_id": "$response.body#/id"})}),
    },
)
async def post_run(body: RunCreate, principal: Runner, state: State) -> Run:
    """Accept a run; it executes asynchronously. 429 ``queue_full`` when the queue is full."""
    assert principal.tenant_id is not None
    slot = state.executor.reserve()
    try:
        async with state.db.tenant_session(principal.tenant_id) as session:
            run = await store_run(
                session, principal, body, "http", max_prompt_chars=state.settings.max_prompt_chars
            )
    except BaseException:
        slot.release()
        raise
    slot.submit(job_for(run, principal, state.executor.run_timeout_s))
    return run


@router.get("", response_model=RunPage, operation_id="listRuns", responses=errors(*AUTH, 422))
async def list_runs(
    principal: Reader,
    session: TenantDB,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: IdCursor = None,
    status: Annotated[str | None, Query(pattern="^(queued|running|succeeded|failed)$")] = None,
) -> RunPage:
    query = select(Run).where(Run.tenant_id == principal.tenant_id)
    if status is not None:
        query = query.where(Run.status == status)
    rows, next_cursor = await fetch_page(session, query, Run.created_at, Run.id, cursor, limit)
    return RunPage(items=[RunOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{run_id}", response_model=RunOut, operation_id="getRun", responses=errors(*AUTH, 404, 422))
async def get_run(run_id: str, principal: Reader, session: TenantDB) -> Run:
    run = await session.scalar(select(Run).where(Run.id == run_id, Run.tenant_id == principal.tenant_id))
    if run is None:
        raise NotFound(f"run '{run_id}' not found")
    return run
