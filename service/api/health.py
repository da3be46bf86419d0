"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.api.errors import error_response

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> dict[str, str] | JSONResponse:
    """The database answers; a load balancer sends no traffic here until it does."""
    try:
        await request.app.state.database.ping()
    except Exception as exc:
        log.warning("readiness check failed: %s", type(exc).__name__)
        return error_response(503, "unavailable", "the database is unavailable")
    return {"status": "ready"}
