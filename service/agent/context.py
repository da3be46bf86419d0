"""What one agent turn knows about its caller, set by the server from the verified token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from service.agent.snapshot import Snapshot
from service.db import Database
from service.todos import Origin

if TYPE_CHECKING:
    from service.agent.guardrails import SeenIndex


@dataclass(frozen=True)
class GuardrailTrip:
    """A guardrail that stopped something this turn; `message` is what the user is told."""

    name: str
    message: str


@dataclass
class TurnContext:
    """The run context (`RunContextWrapper.context`). Tools take the user from here, never from the model."""

    user_id: uuid.UUID
    db: Database
    today: date
    timezone: str = "UTC"
    snapshot: Snapshot | None = None
    """The user's todos as the turn began, as the model reads them (`service.agent.snapshot`)."""
    request: str | None = None
    """The user's message this turn (None when a turn only resumes a paused run): references are checked
    against the user's own words (`service.references.resolve_todo`)."""
    guardrail_trips: list[GuardrailTrip] = field(default_factory=list)
    conversation_id: uuid.UUID | None = None
    new_conversation: bool = False
    """The conversation was created for this turn: it has no history and no paused run to read."""
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)
    """The id the turn's answer will be stored under, allocated up front so that the tools' change-log
    rows carry it as they are written: a turn killed before it is stored still has its changes logged
    against it (and undoable by this id)."""
    approval_mode: str = "never"
    approval_calls: set[str] = field(default_factory=set)
    """Call ids of this turn that wait for the user's yes (`service.agent.approvals`)."""
    deletes_seen: int = 0
    approved: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    """In a resumed run: per approved call id, the todo each reference was shown as, (id, updated_at)
    (`approvals.approved_todos`). The call acts on that todo, and on nothing if it changed since."""
    calls_made: set[str] = field(default_factory=set)
    """The tool calls this turn made, as signatures (`service.agent.repeats`): an identical call is not run twice."""
    repeating: bool = False
    """The model stopped doing anything but repeat its calls; the turn answers from what they did."""
    # What this turn saw, as text: the user's message, the history, the instructions, every tool output
    # (and whatever else the runtime shows the model). `output_scope` judges a reply against this alone,
    # never against other users' data; anything appended here counts as seen.
    seen: list[str] = field(default_factory=list)
    # `output_scope`'s index of `seen`, rebuilt when `seen` grows (guardrails.seen_index).
    seen_cache: Any = field(default=None, repr=False, compare=False)
    # What every turn's model is shown and holds no user's data (instructions, tool schemas), indexed once per
    # runtime (guardrails.index_of) rather than with each turn's `seen`; it counts as seen.
    seen_base: SeenIndex | None = field(default=None, repr=False, compare=False)

    @property
    def origin(self) -> Origin:
        """Which chat turn a tool's change belongs to, for the change log."""
        return Origin(conversation_id=self.conversation_id, message_id=self.message_id)

    def record_guardrail(self, name: str, message: str) -> None:
        self.guardrail_trips.append(GuardrailTrip(name, message))


def current_date_line(context: TurnContext) -> str:
    """Appended to the instructions so a model (the offline one included) can resolve "tomorrow"."""
    return f"Current date: {context.today.isoformat()} ({context.today:%A}), timezone: {context.timezone}."
