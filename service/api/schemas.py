"""Shared by every router, so the OpenAPI document describes the one error shape and input rule once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

Cursor = Annotated[str | None, Query(max_length=256, description="`next_cursor` of the previous page")]
"""Where a cursor-paged list goes on (`GET …/changes`, `GET …/conversations`)."""


class ErrorDetail(BaseModel):
    code: str = Field(description="Short and stable, for programs: not_found, invalid_argument, …")
    message: str = Field(description="For people; never internals")


class ErrorBody(BaseModel):
    """What every failing request answers (see service/api/errors.py)."""

    error: ErrorDetail


# PostgreSQL text cannot hold NUL (SQLite can): refusing it in the schema keeps both databases alike
# and tells schema-driven clients up front. For request models' string fields: `Field(pattern=…)`.
NO_NUL_PATTERN = r"^[^\x00]*$"


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# The failures any `/api/{user_id}/…` route can answer; declared so clients and schema-driven
# testers know them. Passed as a router's `responses=`.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Bad input: malformed JSON, or a value the domain refuses"),
    401: _error("Missing, malformed, expired or wrongly signed token"),
    403: _error("The token belongs to another user than the path's"),
    404: _error("No such resource, or not yours"),
    422: _error("The request does not match the schema"),
    503: _error("The database is unavailable, or (chat) the worker runs its limit of turns: `overloaded`, Retry-After"),
}
