"""Planning: the single next step of the turn, tool calls or the final answer.

Like a model, the planner looks before it changes anything: a change lists the todos first (all
pages), picks its targets from that list, makes the calls, and answers from their outputs on the
next call. Only the tools it was given are called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.agent.offline import undo
from service.agent.offline.adds import corrected_title
from service.agent.offline.answers import (
    NOTHING_FOR_BULK,
    REPLIES,
    already_answer,
    context_answer,
    list_answer,
    no_match_answer,
    page_answer,
    report_changes,
    status_answer,
    tool_missing_answer,
    which_one_answer,
)
from service.agent.offline.chatter import REST_RE
from service.agent.offline.conversation import Conversation, PastCall, Todo, snapshots
from service.agent.offline.followups import understand
from service.agent.offline.intents import (
    Action,
    AddIntent,
    BulkIntent,
    ChangeIntent,
    Choice,
    ContextIntent,
    Intent,
    ListIntent,
    MultiIntent,
    NewTodo,
    OfferAddIntent,
    ReplyIntent,
    UndoIntent,
)
from service.agent.offline.references import choose, key_words, ref_context
from service.agent.offline.text import quoted


@dataclass(frozen=True)
class ToolRequest:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """The next step: tool calls to make, or (when there are none) the final answer."""

    calls: tuple[ToolRequest, ...] = ()
    answer: str = ""


MAX_PAGE = 100
"""The most todos `list_todos` returns at once."""


def list_request(completed: bool | None, offset: int | None = None, limit: int | None = None) -> ToolRequest:
    return ToolRequest("list_todos", {"completed": completed, "limit": limit, "offset": offset})


def add_request(todo: NewTodo) -> ToolRequest:
    return ToolRequest("add_todo", {"title": todo.title, "description": todo.description, "due_date": todo.due_date})


def update_request(
    todo_id: str,
    *,
    title: str | None = None,
    description: str | None = None,
    completed: bool | None = None,
    due_date: str | None = None,
) -> ToolRequest:
    arguments = {"todo": todo_id, "title": title, "description": description, "completed": completed}
    return ToolRequest("update_todo", {**arguments, "due_date": due_date})


def delete_request(todo_id: str) -> ToolRequest:
    return ToolRequest("delete_todo", {"todo": todo_id})


def plan_next(conv: Conversation) -> Plan:
    """Decide the next step from the conversation, calling only the tools we were given."""
    intent = understand(conv.turns, conv.today)
    rejected = undo.rejected_answer(conv)  # the user said no to this turn's changes (approvals)
    plan = Plan(answer=rejected) if rejected else _plan_for(intent, conv)
    missing = [call.name for call in plan.calls if call.name not in conv.tools]
    return Plan(answer=tool_missing_answer(missing[0])) if missing else plan


def _plan_for(intent: Intent, conv: Conversation) -> Plan:
    match intent:
        case AddIntent():
            return plan_add(intent, conv)
        case ListIntent():
            return plan_list(intent, conv)
        case ChangeIntent():
            return plan_change(intent, conv)
        case BulkIntent():
            return plan_bulk(intent, conv)
        case UndoIntent():
            return plan_undo(conv)
        case ContextIntent():
            return plan_context(intent, conv)
        case OfferAddIntent():
            return plan_offer(intent, conv)
        case ReplyIntent():
            return Plan(answer=REPLIES[intent.kind])
        case MultiIntent():
            return plan_multi(intent, conv)


def fetch_all(conv: Conversation, completed: bool | None) -> list[Todo] | Plan:
    """Every todo with that status, paging `list_todos` like a model would: the todos once this
    turn's pages are complete, else the plan to fetch the next page (or report its error)."""
    pages = [call for call in conv.current.ran("list_todos") if call.arguments.get("completed") == completed]
    if not pages:
        return Plan(calls=(list_request(completed),))
    last = pages[-1]
    if last.error:
        return _list_failed(last)
    pagination = (last.output or {}).get("pagination") or {}
    if pagination.get("has_more") and last.listed:
        return Plan(calls=(list_request(completed, int(pagination.get("offset") or 0) + len(last.listed)),))
    return conv.current.listing(completed)


def plan_add(intent: AddIntent, conv: Conversation) -> Plan:
    if conv.current.mutations:
        return Plan(answer=report_changes(conv))
    return Plan(calls=tuple(add_request(todo) for todo in intent.todos))


def plan_offer(intent: OfferAddIntent, conv: Conversation) -> Plan:
    """Offer to add what the user named, unless it is on the list already (a model would look)."""
    todos = fetch_all(conv, None)
    if isinstance(todos, Plan):
        return todos
    existing = {key_words(todo.title): todo for todo in todos}
    known = [existing[key] for todo in intent.todos if (key := key_words(todo.title)) in existing]
    if len(known) == len(intent.todos):
        done = " (marked as done)" if all(todo.completed for todo in known) else ""
        return Plan(answer=f"{quoted([todo.title for todo in known])} is already on your list{done}.")
    return Plan(answer=f"Do you want me to add {quoted([todo.title for todo in intent.todos])} to your list?")


def _list_failed(call: PastCall) -> Plan:
    return Plan(answer=f"I couldn't read your todo list: {call.error}.")


def plan_list(intent: ListIntent, conv: Conversation) -> Plan:
    if intent.limit is not None or intent.offset:
        return plan_page(intent, conv)
    todos = fetch_all(conv, intent.completed)
    return todos if isinstance(todos, Plan) else Plan(answer=list_answer(intent, todos))


def plan_page(intent: ListIntent, conv: Conversation) -> Plan:
    """One page the user asked for ("the first 10", "next page"): one call, answered with where it
    sits in the whole list."""
    pages = [call for call in conv.current.ran("list_todos") if call.arguments.get("completed") == intent.completed]
    if not pages:
        limit = min(intent.limit, MAX_PAGE) if intent.limit is not None else None
        return Plan(calls=(list_request(intent.completed, intent.offset, limit),))
    if pages[-1].error:
        return _list_failed(pages[-1])
    return Plan(answer=page_answer(intent, pages[-1].listed, (pages[-1].output or {}).get("pagination") or {}))


def plan_context(intent: ContextIntent, conv: Conversation) -> Plan:
    calls = conv.current.ran("get_user_context")
    if not calls:
        return Plan(calls=(ToolRequest("get_user_context", {}),))
    if calls[-1].error:
        return Plan(answer=f"I couldn't read your profile: {calls[-1].error}.")
    return Plan(answer=context_answer(intent.topic, calls[-1].output or {}))


def plan_change(intent: ChangeIntent, conv: Conversation) -> Plan:
    """List, pick the todo(s) the user means, change them, then report from the tool outputs."""
    if conv.current.mutations:
        return Plan(answer=report_changes(conv, count_open=intent.action == "complete"))
    todos = fetch_all(conv, None)
    if isinstance(todos, Plan):
        return todos
    choice, found = choose(intent, todos, ref_context(conv.history, conv.today))
    if found.problem or not found.todos:
        return Plan(answer=found.problem or no_match_answer(choice.ref, todos))
    return act(intent.action, _new_value(intent.action, choice, found.todos), found.todos)


def _new_value(action: Action, choice: Choice, targets: Sequence[Todo]) -> str | None:
    """The value to set; a corrected wording keeps the todo's verb ("Buy eggs" -> "Buy a dozen eggs")."""
    if action == "rename" and choice.correction and choice.value and len(targets) == 1:
        return corrected_title(targets[0].title, choice)
    return choice.value


def act(action: Action, value: str | None, targets: Sequence[Todo]) -> Plan:
    """The calls that carry out `action` on the picked todos, or the answer when none are needed."""
    if action == "status":
        return Plan(answer=" ".join(status_answer(todo) for todo in targets))
    if action == "delete":
        return Plan(calls=tuple(delete_request(todo.id) for todo in targets))
    if action in ("complete", "reopen"):
        done = action == "complete"
        to_change = [todo for todo in targets if todo.completed != done]
        if not to_change:
            return Plan(answer=already_answer(targets, done))
        return Plan(calls=tuple(update_request(todo.id, completed=done) for todo in to_change))
    if len(targets) > 1:  # one new title, date or note for several todos is surely a misreading
        return Plan(answer=which_one_answer("that", targets))
    target = targets[0]
    if action == "rename":
        if value == target.title:
            return Plan(answer=f'It\'s already called "{target.title}".')
        return Plan(calls=(update_request(target.id, title=value),))
    if action == "due":
        return Plan(calls=(update_request(target.id, due_date=value),))
    return Plan(calls=(update_request(target.id, description=value),))


def plan_bulk(intent: BulkIntent, conv: Conversation) -> Plan:
    """ "clear completed" and friends: list every matching todo (all pages), then one call each."""
    if conv.current.mutations:
        return Plan(answer=report_changes(conv, count_open=intent.action == "complete"))
    todos = fetch_all(conv, intent.completed)
    if isinstance(todos, Plan):
        return todos
    return bulk_calls(intent, todos)


def bulk_calls(intent: BulkIntent, todos: Sequence[Todo]) -> Plan:
    """Every call of a bulk change in one response (an approval pause before bulk deletes sees them all)."""
    if not todos:
        return Plan(answer=NOTHING_FOR_BULK[intent.action, intent.completed])
    if intent.action == "delete":
        return Plan(calls=tuple(delete_request(todo.id) for todo in todos))
    return Plan(calls=tuple(update_request(todo.id, completed=intent.action == "complete") for todo in todos))


def plan_multi(intent: MultiIntent, conv: Conversation) -> Plan:
    """Several actions at once: list (unless they only add), make every action's calls in one
    response, then answer from all the outputs. An action whose todo is unclear or missing is not
    guessed at: its question or problem is said alongside what the others did."""
    needs_list = not all(isinstance(part, AddIntent) for part in intent.parts)
    todos = fetch_all(conv, None) if needs_list else []
    if isinstance(todos, Plan):
        return todos
    steps: list[Plan] = []
    for part in intent.parts:
        named = {str(call.arguments.get("todo")) for step in steps for call in step.calls}
        steps.append(_step(part, todos, conv, named))
    notes = [step.answer for step in steps if step.answer]
    if conv.current.mutations:
        return Plan(answer=" ".join([report_changes(conv), *notes]))
    calls = tuple({repr(call): call for step in steps for call in step.calls}.values())  # each change once
    return Plan(calls=calls) if calls else Plan(answer=" ".join(notes))


def _step(
    part: AddIntent | ChangeIntent | BulkIntent, todos: Sequence[Todo], conv: Conversation, named: set[str]
) -> Plan:
    """One action of several, against the list as it was before any of them ran; "the rest" are the
    todos the actions before it did not name."""
    if isinstance(part, ChangeIntent) and REST_RE.match(part.choices[0].ref):
        return act(part.action, None, [todo for todo in todos if todo.id not in named])
    if isinstance(part, AddIntent):
        return Plan(calls=tuple(add_request(todo) for todo in part.todos))
    if isinstance(part, BulkIntent):
        targets = [todo for todo in todos if part.completed is None or todo.completed == part.completed]
        return bulk_calls(part, targets)
    choice, found = choose(part, todos, ref_context(conv.history, conv.today))
    if found.problem or not found.todos:
        return Plan(answer=found.problem or no_match_answer(choice.ref, todos))
    return act(part.action, _new_value(part.action, choice, found.todos), found.todos)


def plan_undo(conv: Conversation) -> Plan:
    """Reverse the latest turn that changed something: reopen what it completed, complete what it
    reopened, delete what it added, re-add what it deleted, restore old titles and dates."""
    if undo.TOOL in conv.tools:  # the server's undo, through the change log
        answer = undo.undo_answer(conv)
        return Plan(answer=answer) if answer else Plan(calls=(ToolRequest(undo.TOOL, {}),))
    if conv.current.mutations:
        return Plan(answer=f"Undid your last change. {report_changes(conv)}")
    index = next((i for i in reversed(range(len(conv.history))) if conv.history[i].changed), None)
    if index is None:
        return Plan(answer="There's no recent change in this conversation that I can undo.")
    requests = []
    for call in conv.history[index].mutations:
        request = inverse(call, snapshots(conv.turns, until=call))
        if request is not None:
            requests.append(request)
    if not requests:
        return Plan(answer="I can't undo that change, sorry - I don't know what it was before.")
    return Plan(calls=tuple(requests))


def inverse(call: PastCall, before: Mapping[str, Todo]) -> ToolRequest | None:
    """The call that reverses a successful `call`, given the todos as they were before it."""
    subject = call.subject
    if subject is None:
        return None
    if call.name == "add_todo":
        return delete_request(subject.id)
    old = before.get(subject.id)
    if call.name == "delete_todo":
        restored = old or subject
        return add_request(NewTodo(restored.title, restored.description, restored.due_date))
    changes: dict[str, Any] = {}
    if call.arguments.get("completed") is not None:
        changes["completed"] = old.completed if old else not call.arguments["completed"]
    if old and call.arguments.get("title") is not None:
        changes["title"] = old.title
    if old and old.due_date and call.arguments.get("due_date") is not None:
        changes["due_date"] = old.due_date
    if old and old.description and call.arguments.get("description") is not None:
        changes["description"] = old.description
    return update_request(subject.id, **changes) if changes else None
