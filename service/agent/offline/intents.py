"""Intents: what the user wants, as data - each kind of request with its slots (the todo meant, the
new value, the filter), read from the words by the readers and acted on by the planner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

MAX_MESSAGE_CHARS = 1000
"""Longer messages get a polite "too long": nothing that size is one todo request, and acting on a
fragment of it would be a guess."""

Action = Literal["complete", "reopen", "delete", "rename", "due", "describe", "status"]
BulkAction = Literal["complete", "reopen", "delete"]
Topic = Literal["name", "timezone", "preferences", "date", "all"]
ReplyKind = Literal["greeting", "thanks", "bye", "ack", "help", "unclear", "refuse", "too_long", "need_date",
                   "need_title", "profile", "declined", "approval_gone"]  # fmt: skip


@dataclass(frozen=True)
class NewTodo:
    title: str
    description: str | None = None
    due_date: str | None = None


@dataclass(frozen=True)
class AddIntent:
    todos: tuple[NewTodo, ...]


@dataclass(frozen=True)
class ListIntent:
    """Show the list; `completed` filters like `list_todos`, the due window narrows what is shown."""

    completed: bool | None = None
    due_from: date | None = None
    due_until: date | None = None
    due_label: str | None = None
    limit: int | None = None
    """Show one page of this many ("the first 10"), from `offset`; None pages through them all."""
    offset: int | None = None
    more: bool = False
    """ "Next page", "show more": the page after the list shown last, which `understand` works out."""
    page: int | None = None
    search: str | None = None
    """The words the user looks for ("the dentist"): only todos that mention one of them are shown."""
    undated: bool = False
    """Only the todos with no due date ("which ones don't have a date yet?")."""


@dataclass(frozen=True)
class Choice:
    """One reading of a request: the todo the user means (their words) and the new value, if any;
    "rename go to gym to go swimming" has two, and the planner keeps the one that matches a todo best."""

    ref: str
    value: str | None = None
    antecedent: bool = False
    """Named in another clause of the message that a pronoun ("check both off") points back to."""
    correction: bool = False
    """The value corrects the todo's wording ("make that a dozen eggs"): its leading verb stays."""
    replaces: str | None = None
    """The words of the title the value takes the place of ("not bread, rolls"): only they change."""


@dataclass(frozen=True)
class ChangeIntent:
    """Do something to todos picked by reference. `tentative` marks a guess from a statement
    ("I bought the milk"), which needs a stronger match; `follow_up_of` is the request this
    message answers our question about ("which one?" - "the second")."""

    action: Action
    choices: tuple[Choice, ...]
    tentative: bool = False
    follow_up_of: ChangeIntent | None = None
    only_if: Condition | None = None
    keep: tuple[str, ...] = ()
    """Todos of a group left out: "I've done all the christmas tasks except the cards"."""


@dataclass(frozen=True)
class Condition:
    """ "if I've already booked the dentist, bin that todo": the change is made only when the todo the
    condition names is done (`done`) or open, as the condition says."""

    ref: str
    done: bool


@dataclass(frozen=True)
class BulkIntent:
    action: BulkAction
    completed: bool | None
    keep: tuple[str, ...] = ()
    """References to todos left out ("delete everything except the passport one")."""


@dataclass(frozen=True)
class UndoIntent:
    then: ChangeIntent | None = None
    """What to do once undone: "delete the 2nd one" - "no, I meant the 4th" undoes, then deletes the 4th."""


@dataclass(frozen=True)
class ContextIntent:
    topic: Topic


@dataclass(frozen=True)
class OfferAddIntent:
    """A bare to-do-like phrase ("call mom"): offer to add it rather than guess; "yes" accepts."""

    todos: tuple[NewTodo, ...]


@dataclass(frozen=True)
class ReplyIntent:
    """Answered without tools: small talk, help, refusals and requests we cannot act on."""

    kind: ReplyKind


Action_ = AddIntent | ChangeIntent | BulkIntent


@dataclass(frozen=True)
class MultiIntent:
    """Several actions in one message ("drop the yoga class and tick off the novel"), one per clause,
    planned together in one turn and answered from all their results."""

    parts: tuple[Action_, ...]
    asked: ListIntent | None = None
    """A question asked beside them ("what's left? tick off the bins too"): answered once they are made."""


Intent = (AddIntent | ListIntent | ChangeIntent | BulkIntent | UndoIntent | ContextIntent | OfferAddIntent
          | ReplyIntent | MultiIntent)  # fmt: skip

Reader = Callable[[str, date | None], Intent | None]
"""A reader of one clause (`reading.parse_request`), handed to the readers that read parts of a message again."""
