"""Approvals before bulk changes (DESIGN §6a): which tool calls pause a turn, the paused run's storage,
and the user's yes or no.

How a turn pauses: every model response passes through `ApprovalHooks.on_llm_end` before any of its
tool calls runs; it marks the calls the policy (`AGENT_APPROVAL`) wants confirmed, and the tools'
`needs_approval` check (the SDK's human-in-the-loop hook) answers from that mark. The SDK then stops
the run before running any marked call and hands back its `RunState`, which `save` stores in
`agent_approvals` so any worker, or this one after a restart, can resume it with the decisions.

Policies: `bulk` marks the deletes of a response naming more than one todo (several calls, or one call
with a list), and any delete once the turn already deleted (a model deleting one by one); `always` marks
every delete and the updates of a response naming several todos; `never` marks nothing.

The reply is read here, deterministically, never by the model: "yes" approves, "no" rejects, anything
else is a new request (and rejects what is pending).
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agents.items import ModelResponse, RunItem, ToolApprovalItem, TResponseInputItem
from agents.tool import Tool
from sqlalchemy import update
from sqlmodel import col, select

from agents import Agent, FunctionTool, RunContextWrapper, RunHooks, RunState
from service.agent.answer_check import CONFIRM_LINE
from service.agent.context import TurnContext
from service.db import Database
from service.errors import Conflict, NotFound, ServiceError
from service.models import AgentApproval, utcnow
from service.references import references_in, resolve_todo
from service.todos import as_utc

APPROVAL_MODES = ("bulk", "always", "never")

# Worded so that a small model saying it back tells the user the truth (one said the old wording verbatim).
REJECTED_OUTPUT = json.dumps(
    {"error": {"code": "rejected", "message": "Not done: the user said no, so I didn't delete or change anything."}}
)

# A reply is a yes when it is an assent phrase, or holds an assent word and nothing but assent ("yes go
# ahead", "sure, delete them please"); a no likewise. Any other word ("yes but only the milk", "no, delete
# the bread") makes it a new request, which rejects what is pending: nothing is deleted on a half-yes.
_YES_PHRASES = {
    "go ahead",
    "do it",
    "please do",
    "go for it",
    "delete them",
    "yes please",
    "go on",
    "go on then",
    "why not",
}
_YES_WORDS = {
    "yes", "y", "yep", "yeah", "yup", "sure", "ok", "okay", "confirm", "confirmed", "approve", "approved",
    "proceed", "fine", "absolutely", "definitely", "alright", "correct", "aye", "yea", "k", "kk", "affirmative",
}  # fmt: skip
_ASSENT = {
    "go", "ahead", "do", "it", "them", "that", "please", "delete", "remove", "clear", "all", "for", "thanks",
    "thank", "you", "of", "course", "right", "away", "sounds", "good", "great", "just", "then",
}  # fmt: skip
_NO_PHRASES = {"do not", "keep them", "never mind", "don't do it", "leave them", "leave it"}
_NO_WORDS = {"no", "n", "nope", "nah", "cancel", "stop", "don't", "dont", "reject", "abort", "nevermind"}
_DISSENT = {
    "do", "not", "thanks", "thank", "you", "keep", "them", "it", "never", "mind", "please", "that", "wait", "leave",
    "actually", "alone", "changed", "my", "on", "second", "thought", "thoughts",
}  # fmt: skip


def reply_decision(message: str) -> bool | None:
    """True for a yes, False for a no, None for anything else (a new request)."""
    text = re.sub(r"[^\w' ]+", " ", message.lower()).split()
    phrase, words = " ".join(text), set(text)
    if phrase in _YES_PHRASES or (words & _YES_WORDS and words <= _YES_WORDS | _ASSENT and not words & _NO_WORDS):
        return True
    if phrase in _NO_PHRASES or (words & _NO_WORDS and words <= _NO_WORDS | _DISSENT):
        return False
    return None


# -- the policy -------------------------------------------------------------------------------------


def _calls(response: ModelResponse) -> list[tuple[str, str, int]]:
    """(tool, call id, how many todos it names) for each call of a model response."""
    return [
        (str(getattr(item, "name", "")), str(getattr(item, "call_id", "")), _todo_count(getattr(item, "arguments", "")))
        for item in response.output
        if getattr(item, "type", None) == "function_call"
    ]


def _todo_count(arguments: str) -> int:
    """How many todos a call names (its arguments as the model sent them, JSON)."""
    try:
        return len(references_in(json.loads(arguments or "{}").get("todo")))
    except (ValueError, AttributeError):
        return 1


class ApprovalHooks(RunHooks[TurnContext]):
    """Marks, per model response, the calls that must wait for the user (before any of them runs)."""

    async def on_llm_end(self, context: RunContextWrapper[TurnContext], agent: Any, response: ModelResponse) -> None:
        turn = context.context
        calls = _calls(response)
        deletes = [call_id for name, call_id, _ in calls if name == "delete_todo"]
        deleting = sum(count for name, _, count in calls if name == "delete_todo")
        updates = [call_id for name, call_id, _ in calls if name == "update_todo"]
        updating = sum(count for name, _, count in calls if name == "update_todo")
        if turn.approval_mode == "bulk" and (deleting > 1 or (deletes and turn.deletes_seen)):
            turn.approval_calls.update(deletes)
        elif turn.approval_mode == "always":
            turn.approval_calls.update(deletes)
            if updating > 1:
                turn.approval_calls.update(updates)
        turn.deletes_seen += deleting


def with_approvals(tools: Sequence[FunctionTool], mode: str) -> list[Tool]:
    """The agent's tools, with the SDK approval check on those the policy can pause.

    Only there: the SDK asks for approval regardless of the check whenever a call's arguments are not
    exactly what validation keeps (an omitted optional argument counts), so a check on `update_todo`
    would pause ordinary updates from models that leave out null fields. `delete_todo` has one argument;
    `always` accepts that over-asking for updates.
    """
    paused = {"bulk": {"delete_todo"}, "always": {"delete_todo", "update_todo"}}.get(mode, set())
    out: list[Tool] = []
    for tool in tools:
        if tool.name in paused:
            tool = copy.copy(tool)
            tool.needs_approval = needs_approval
        out.append(tool)
    return out


async def needs_approval(ctx: RunContextWrapper[Any], _arguments: dict[str, Any], call_id: str) -> bool:
    """The SDK's per-call check (`FunctionTool.needs_approval`): was this call marked by the hooks?"""
    turn = ctx.context
    return isinstance(turn, TurnContext) and call_id in turn.approval_calls


# -- the pending calls, as the user sees them ------------------------------------------------------------


def _arguments(item: ToolApprovalItem) -> dict[str, Any]:
    raw = getattr(item.raw_item, "arguments", None)
    if raw is None and isinstance(item.raw_item, dict):
        raw = item.raw_item.get("arguments")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
    except ValueError:
        parsed = {}
    return parsed if isinstance(parsed, dict) else {}


def _call_id(item: ToolApprovalItem) -> str:
    raw = item.raw_item
    return str(raw.get("call_id") if isinstance(raw, dict) else getattr(raw, "call_id", ""))


# What a question says of a reference the tool would refuse, so the user is not asked to confirm a no-op.
_UNRESOLVED = {"not_found": "no todo matches it", "ambiguous": "several todos match it"}


def _summary(tool: str, titles: Sequence[str], arguments: dict[str, Any]) -> str:
    """`titles`: each todo the call names, already quoted (with why, when the tool would refuse it)."""
    named = ", ".join(titles)
    if tool == "delete_todo":
        return f"Delete {named}"
    changes = []
    it = "it" if len(titles) == 1 else "them"
    if arguments.get("completed") is not None:
        changes.append(f"mark {it} done" if arguments["completed"] else f"reopen {it}")
    if arguments.get("title"):
        changes.append(f'rename it to "{arguments["title"]}"')
    if arguments.get("due_date"):
        changes.append(f"set {'its' if len(titles) == 1 else 'their'} due date to {arguments['due_date']}")
    if arguments.get("description"):
        changes.append("change its description")
    return f"Change {named}: " + (", ".join(changes) or "no change")


async def describe(database: Database, user_id: uuid.UUID, items: Sequence[ToolApprovalItem]) -> list[dict[str, Any]]:
    """`{id, tool, arguments, summary, todos}` for each pending call, naming every todo it would touch.

    `todos` pins each reference to the todo the question named, as `[reference, id, updated_at]`: a yes
    approves those todos as they were shown, not whatever the words match later (`TurnContext.approved`).
    It is stored with the paused run and left out of what the client sees (`public`).
    """
    described = []
    async with database.reader() as db:
        for item in items:
            tool, arguments = str(item.tool_name), _arguments(item)
            titles, pins = [], []
            for reference in references_in(arguments.get("todo", "")):
                try:
                    task = await resolve_todo(db, user_id, reference)
                except ServiceError as exc:  # the tool will answer the same error once it runs
                    titles.append(f'"{reference}" ({_UNRESOLVED.get(exc.code, exc.message)})')
                    continue
                titles.append(f'"{task.title}"')
                pins.append([reference, str(task.id), as_utc(task.updated_at).isoformat()])
            described.append(
                {
                    "id": _call_id(item),
                    "tool": tool,
                    "arguments": arguments,
                    "summary": _summary(tool, titles, arguments),
                    "todos": pins,
                }
            )
    return described


def public(calls: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pending calls as the client sees them (DESIGN §4), without the pins."""
    return [{key: value for key, value in call.items() if key != "todos"} for call in calls]


def approved_todos(resume: Resume) -> dict[str, dict[str, tuple[str, str]]]:
    """Per approved call id, each reference's pinned todo: (id, updated_at) as the question showed it.
    A run paused before pins were stored has none, and its references resolve as they did then."""
    return {
        call["id"]: {reference: (todo_id, version) for reference, todo_id, version in call.get("todos", [])}
        for call in resume.approval.calls
        if resume.decisions.get(call["id"])
    }


def question(calls: Sequence[dict[str, Any]]) -> str:
    """The paused turn's answer: what would happen, each todo named, and how to answer."""
    lines = "\n".join(f"- {call['summary']}" for call in calls)
    named = sum(len(references_in(call["arguments"].get("todo", ""))) for call in calls)
    deletes = sum(
        len(references_in(call["arguments"].get("todo", ""))) for call in calls if call["tool"] == "delete_todo"
    )
    what = f"delete {deletes} todos" if deletes == named and deletes > 1 else "make these changes"
    if named == 1:
        what = "do this"
    return f"Before I {what}, please confirm:\n{lines}\n{CONFIRM_LINE}"


def run_items(items: Sequence[RunItem]) -> list[TResponseInputItem]:
    """A run's items as input items; approval placeholders are the SDK's bookkeeping, not conversation."""
    return [item.to_input_item() for item in items if not isinstance(item, ToolApprovalItem)]


@dataclass(frozen=True)
class Resume:
    """A paused run to continue, claimed by this turn, with the user's decision per call id."""

    approval: AgentApproval
    decisions: dict[str, bool]


# -- storage -------------------------------------------------------------------------------------------


def _context_json(context: TurnContext) -> dict[str, Any]:
    # The database handle cannot be stored; the resuming worker builds a fresh context from the token.
    return {"user_id": str(context.user_id)}


async def save(
    database: Database,
    context: TurnContext,
    conversation_id: uuid.UUID,
    state: RunState[Any, Any],
    calls: list[dict[str, Any]],
    ttl_s: int,
) -> AgentApproval:
    now = utcnow()
    row = AgentApproval(
        user_id=context.user_id,
        conversation_id=conversation_id,
        state=state.to_json(context_serializer=_context_json),
        calls=calls,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )
    async with database.session() as db:
        db.add(row)
        await db.commit()
    return row


def _live(row: AgentApproval, now: datetime) -> bool:
    return row.decided_at is None and as_utc(row.expires_at) > now


async def pending(database: Database, user_id: uuid.UUID, conversation_id: uuid.UUID) -> AgentApproval | None:
    """The conversation's undecided, unexpired paused run, if any (the newest)."""
    async with database.reader() as db:
        rows = await db.exec(
            select(AgentApproval)
            .where(
                col(AgentApproval.user_id) == user_id,
                col(AgentApproval.conversation_id) == conversation_id,
                col(AgentApproval.decided_at).is_(None),
            )
            .order_by(col(AgentApproval.created_at).desc())
            .limit(1)
        )
        row = rows.first()
    return row if row is not None and _live(row, utcnow()) else None


async def for_decisions(
    database: Database, user_id: uuid.UUID, conversation_id: uuid.UUID, ids: Sequence[str]
) -> AgentApproval:
    """The paused run the decided ids belong to: 404 if unknown, foreign or expired; 409 if decided."""
    async with database.reader() as db:
        rows = (
            await db.exec(
                select(AgentApproval).where(
                    col(AgentApproval.user_id) == user_id, col(AgentApproval.conversation_id) == conversation_id
                )
            )
        ).all()
    wanted = set(ids)
    now = utcnow()
    for row in rows:
        if wanted <= {call["id"] for call in row.calls}:
            if row.decided_at is not None:
                raise Conflict("that approval was already decided")
            if not _live(row, now):
                raise NotFound("no such approval (it may have expired)")
            return row
    raise NotFound("no such approval")


async def claim(database: Database, approval_id: uuid.UUID) -> bool:
    """Mark the paused run decided; True for the one caller that did it (a conditional UPDATE)."""
    async with database.session() as db:
        result = await db.exec(
            update(AgentApproval)
            .where(col(AgentApproval.id) == approval_id, col(AgentApproval.decided_at).is_(None))
            .values(decided_at=utcnow())
        )
        await db.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


async def restore(
    agent: Agent[TurnContext], row: AgentApproval, context: TurnContext, decisions: dict[str, bool]
) -> RunState[Any, Any]:
    """The paused run, in `context`, with each call approved or rejected (one not decided is rejected)."""
    state = await RunState.from_json(agent, row.state, context_override=RunContextWrapper(context=context))
    for item in state.get_interruptions():
        if decisions.get(_call_id(item), False):
            state.approve(item)
        else:
            state.reject(item, rejection_message=REJECTED_OUTPUT)
    return state


def new_since_pause(items: list[TResponseInputItem], stored_call_ids: set[str]) -> list[TResponseInputItem]:
    """What a resumed run added: its items minus those the paused turn already stored.

    A resumed run reports the whole run, from before the pause; the paused turn stored its finished
    tool calls and outputs, and the messages before the first call that waited.
    """
    out: list[TResponseInputItem] = []
    for raw in items:
        item = dict(raw)
        if item.get("type") in ("function_call", "function_call_output"):
            if item.get("call_id") not in stored_call_ids:
                out.append(raw)
        elif out:  # a message after the pause (the answer), not one stored before it
            out.append(raw)
    return out


async def answer_to_pending(
    database: Database, user_id: uuid.UUID, conversation_id: uuid.UUID, message: str
) -> Resume | None:
    """A chat reply to a paused turn: "yes" / "no" decides every waiting call (read here, not by the
    model, so every model behaves alike); any other message rejects them and is a new request."""
    waiting = await pending(database, user_id, conversation_id)
    if waiting is None or not await claim(database, waiting.id):
        return None
    decision = reply_decision(message)
    if decision is None:
        return None
    return Resume(waiting, {call["id"]: decision for call in waiting.calls})


async def claim_decided(
    database: Database, user_id: uuid.UUID, conversation_id: uuid.UUID, decisions: dict[str, bool]
) -> Resume:
    """Claim the paused run the decisions are for: 404 unknown, foreign or expired; 409 decided already,
    or by a concurrent request (exactly one claim wins). Claimed before the conversation's lock is
    taken, so the losers of a race answer at once instead of queueing behind the winner's turn."""
    waiting = await for_decisions(database, user_id, conversation_id, list(decisions))
    if not await claim(database, waiting.id):
        raise Conflict("that approval was already decided")
    return Resume(waiting, decisions)
