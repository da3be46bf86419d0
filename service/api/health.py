"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.api.errors import error_response
from service.api.state import State

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(state: State) -> dict[str, str] | JSONResponse:
    """The database answers; a load balancer sends no traffic here until it does."""
    try:
        await state.database.ping()
    except Exception as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        return error_response(503, "unavailable", "the database is unavailable")
    return {"status": "ready"}
