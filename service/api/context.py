"""`/api/{user_id}/context`: what the agent should know about the user (name, timezone, preferences)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import inspect

from service.api.deps import CurrentUser, DbSession
from service.api.schemas import ERROR_RESPONSES, NO_NUL_PATTERN
from service.models import UserContext
from service.todos import as_utc
from service.users import get_context, put_context

router = APIRouter(tags=["context"], responses=ERROR_RESPONSES)

# Preferences ride along in every agent turn's context; a bound keeps that cheap.
PREFERENCES_MAX_BYTES = 16 * 1024


class Context(BaseModel):
    display_name: str | None
    timezone: str | None = Field(description="IANA name, e.g. Europe/London")
    preferences: dict[str, Any]
    updated_at: datetime | None = Field(description="null until the context is first stored")


class NewContext(BaseModel):
    """The whole context: PUT replaces it, so a field left out returns to its default."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200, pattern=NO_NUL_PATTERN)  # the column's width
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/London"])
    preferences: dict[str, Any] = Field(
        default_factory=dict, description=f"Any JSON object up to {PREFERENCES_MAX_BYTES} bytes"
    )

    @field_validator("preferences")
    @classmethod
    def _storable_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            # allow_nan=False: Python's JSON parser accepts NaN and Infinity, which no JSON column stores;
            # encode() refuses the unpaired surrogates that parser also lets through.
            size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode())
        except ValueError:
            raise ValueError("preferences must be plain JSON: no NaN, Infinity or unpaired surrogates") from None
        if size > PREFERENCES_MAX_BYTES:
            raise ValueError(f"preferences must be at most {PREFERENCES_MAX_BYTES} bytes as JSON")
        if _has_nul(value):
            raise ValueError("preferences must not contain NUL characters")
        return value


def _has_nul(value: Any) -> bool:
    """PostgreSQL's JSONB refuses NUL in any string, key or value; SQLite would store it."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _context_json(context: UserContext) -> dict[str, Any]:
    # A context never stored is a fresh default whose `updated_at` would claim "just now".
    stored = inspect(context).has_identity
    return {
        "display_name": context.display_name,
        "timezone": context.timezone,
        "preferences": context.preferences,
        "updated_at": as_utc(context.updated_at) if stored else None,
    }


@router.get("/context", response_model=Context)
async def read_context(user_id: CurrentUser, db: DbSession) -> dict[str, Any]:
    return _context_json(await get_context(db, user_id))


@router.put("/context", response_model=Context)
async def replace_context(body: NewContext, user_id: CurrentUser, db: DbSession) -> dict[str, Any]:
    """An unknown timezone is refused (400) rather than stored, so the agent never misreads dates."""
    context = await put_context(
        db, user_id, display_name=body.display_name, timezone=body.timezone, preferences=body.preferences
    )
    return _context_json(context)
