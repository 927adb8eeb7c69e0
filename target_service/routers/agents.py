"""Agents: named model + system prompt configurations that runs may reference."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import delete, select

from target_service.audit import record_audit
from target_service.auth import Action, Principal
from target_service.db.models import Agent, new_id
from target_service.dependencies import TenantDB, require
from target_service.errors import NotFound
from target_service.pagination import IdCursor, fetch_page
from target_service.routers._responses import AUTH, errors, links
from target_service.schemas import AgentCreate, AgentOut, AgentPage, AgentUpdate

router = APIRouter(prefix="/v1/agents", tags=["agents"])

Reader = Annotated[Principal, Depends(require(Action.READ))]
Writer = Annotated[Principal, Depends(require(Action.WRITE_AGENTS))]


async def _agent(session: TenantDB, principal: Principal, agent_id: str) -> Agent:
    agent = await session.scalar(
        select(Agent).where(Agent.id == agent_id, Agent.tenant_id == principal.tenant_id)
    )
    if agent is None:
        raise NotFound(f"agent '{agent_id}' not found")
    return agent


_BY_ID = {"agent_id": "$response.body#/id"}
_AGENT_LINKS = links(
    201,
    {
        "GetAgent": ("getAgent", _BY_ID),
        "UpdateAgent": ("updateAgent", _BY_ID),
        "DeleteAgent": ("deleteAgent", _BY_ID),
    },
)


@router.post(
    "",
    status_code=201,
    response_model=AgentOut,
    operation_id="createAgent",
    responses={**errors(*AUTH, 422), **_AGENT_LINKS},
)
async def create_agent(body: AgentCreate, principal: Writer, session: TenantDB) -> Agent:
    assert principal.tenant_id is not None
    now = time.time()
    agent = Agent(
        id=new_id("agt"),
        tenant_id=principal.tenant_id,
        name=body.name,
        model=body.model,
        system_prompt=body.system_prompt,
        created_at=now,
        updated_at=now,
    )
    session.add(agent)
    record_audit(session, principal, principal.tenant_id, "agent.create", agent.id)
    return agent


@router.get("", response_model=AgentPage, operation_id="listAgents", responses=errors(*AUTH, 422))
async def list_agents(
    principal: Reader,
    session: TenantDB,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: IdCursor = None,
) -> AgentPage:
    query = select(Agent).where(Agent.tenant_id == principal.tenant_id)
    rows, next_cursor = await fetch_page(session, query, Agent.created_at, Agent.id, cursor, limit)
    return AgentPage(items=[AgentOut.model_validate(a) for a in rows], next_cursor=next_cursor)


@router.get(
    "/{agent_id}", response_model=AgentOut, operation_id="getAgent", responses=errors(*AUTH, 404, 422)
)
async def get_agent(agent_id: str, principal: Reader, session: TenantDB) -> Agent:
    return await _agent(session, principal, agent_id)


@router.patch(
    "/{agent_id}", response_model=AgentOut, operation_id="updateAgent", responses=errors(*AUTH, 404, 422)
)
async def update_agent(agent_id: str, body: AgentUpdate, principal: Writer, session: TenantDB) -> Agent:
    agent = await _agent(session, principal, agent_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(agent, field, value)
    agent.updated_at = time.time()
    record_audit(session, principal, principal.tenant_id, "agent.update", agent_id)
    return agent


@router.delete("/{agent_id}", status_code=204, operation_id="deleteAgent", responses=errors(*AUTH, 404, 422))
async def delete_agent(agent_id: str, principal: Writer, session: TenantDB) -> Response:
    await _agent(session, principal, agent_id)
    await session.execute(delete(Agent).where(Agent.id == agent_id, Agent.tenant_id == principal.tenant_id))
    record_audit(session, principal, principal.tenant_id, "agent.delete", agent_id)
    return Response(status_code=204)
