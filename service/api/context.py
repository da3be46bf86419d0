"""`/api/{user_id}/context`: what the agent should know about the user (name, timezone, preferences)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, Union

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, field_validator
from pydantic_core import core_schema
from sqlalchemy import inspect
from typing_extensions import TypeAliasType

from service.api.deps import CurrentUser, DbSession
from service.api.schemas import ERROR_RESPONSES, NO_NUL_PATTERN
from service.models import UserContext
from service.todos import UtcDatetime
from service.users import get_context, put_context

router = APIRouter(tags=["context"], responses=ERROR_RESPONSES)

# Preferences ride along in every agent turn's context; a bound keeps that cheap.
PREFERENCES_MAX_BYTES = 16 * 1024


NulFreeText = Annotated[str, Field(pattern=NO_NUL_PATTERN)]


class _KeysWithoutNul:
    """Puts the key rule in `propertyNames`: the `patternProperties` pydantic writes would leave other keys free."""

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema = dict(handler(schema))
        ((pattern, value),) = json_schema.pop("patternProperties").items()
        return {**json_schema, "propertyNames": {"pattern": pattern}, "additionalProperties": value}


# Any JSON without NUL in a string or a key: PostgreSQL's JSONB refuses NUL (SQLite would store it), and
# stating it in the schema lets clients and schema-driven testers know before sending. (mypy cannot follow
# the recursive alias, hence its plain view.)
if TYPE_CHECKING:
    Preferences = dict[str, Any]
else:
    JsonValue = TypeAliasType(
        "JsonValue",
        Union[  # noqa: UP007 (a runtime value: `|` cannot join the string forward references)
            NulFreeText,
            int,
            float,
            bool,
            list["JsonValue"],
            Annotated[dict[NulFreeText, "JsonValue"], _KeysWithoutNul()],
            None,
        ],
    )
    Preferences = Annotated[dict[NulFreeText, JsonValue], _KeysWithoutNul()]


class Context(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    display_name: str | None
    timezone: str | None = Field(description="IANA name, e.g. Europe/London")
    preferences: dict[str, Any]
    updated_at: UtcDatetime | None = Field(description="null until the context is first stored")

    @classmethod
    def of(cls, context: UserContext) -> Context:
        view = cls.model_validate(context)
        # A context never stored is a fresh default whose `updated_at` would claim "just now".
        return view if inspect(context).has_identity else view.model_copy(update={"updated_at": None})


class NewContext(BaseModel):
    """The whole context: PUT replaces it, so a field left out returns to its default."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200, pattern=NO_NUL_PATTERN)  # the column's width
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/London"])
    preferences: Preferences = Field(
        default_factory=dict, description=f"Any JSON object up to {PREFERENCES_MAX_BYTES} bytes, without NUL"
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
        return value


@router.get("/context", response_model=Context)
async def read_context(user_id: CurrentUser, db: DbSession) -> Context:
    return Context.of(await get_context(db, user_id))


@router.put("/context", response_model=Context)
async def replace_context(body: NewContext, user_id: CurrentUser, db: DbSession) -> Context:
    """An unknown timezone is refused (400) rather than stored, so the agent never misreads dates."""
    context = await put_context(
        db, user_id, display_name=body.display_name, timezone=body.timezone, preferences=body.preferences
    )
    return Context.of(context)
