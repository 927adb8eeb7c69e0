"""Fault injection control, platform admin only."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends

from target_service.audit import record_audit
from target_service.auth import Principal
from target_service.dependencies import State, require_platform_admin
from target_service.errors import DatabaseUnavailable
from target_service.faults import FaultConfig
from target_service.routers._responses import AUTH, errors

router = APIRouter(prefix="/v1/admin/faults", tags=["faults"])

PlatformAdmin = Annotated[Principal, Depends(require_platform_admin)]


@router.get("", response_model=FaultConfig, operation_id="getFaults", responses=errors(*AUTH))
async def get_faults(principal: PlatformAdmin, state: State) -> FaultConfig:
    return state.faults.config


@router.put("", response_model=FaultConfig, operation_id="putFaults", responses=errors(*AUTH, 422))
async def put_faults(body: FaultConfig, principal: PlatformAdmin, state: State) -> FaultConfig:
    """Replace the fault configuration (``{}`` clears every fault), in every worker."""
    await state.save_faults(body)
    # Audit after applying: a config that takes the database down must still take effect,
    # and one that brings it back must not be blocked by the outage it ends.
    with contextlib.suppress(DatabaseUnavailable):
        async with state.db.system_session() as session:
            record_audit(session, principal, None, "faults.set", body.model_dump_json()[:80])
    return body
