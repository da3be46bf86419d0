"""What one agent turn knows about its caller, set by the server from the verified token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from service.db import Database


@dataclass
class TurnContext:
    """The run context (`RunContextWrapper.context`). Tools take the user from here, never from the model."""

    user_id: uuid.UUID
    db: Database
    today: date
    timezone: str = "UTC"


def current_date_line(context: TurnContext) -> str:
    """Appended to the instructions so a model (the offline one included) can resolve "tomorrow"."""
    return f"Current date: {context.today.isoformat()} ({context.today:%A}), timezone: {context.timezone}."
