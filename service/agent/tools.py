"""The agent's function tools. None takes a user id: the user is the run context's.

Outputs are compact JSON. A failure returns `{"error": {"code", "message"}}` with a code the model can
act on (`not_found`, `invalid_argument`), never internals.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from datetime import date
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from agents import FunctionTool, ModelBehaviorError, RunContextWrapper, function_tool
from service import changes, todos
from service.agent.context import TurnContext
from service.agent.guardrails import tool_ownership
from service.agent.offline.adds import corrected_title
from service.agent.offline.chatter import PRONOUN_RE
from service.agent.offline.dates import date_value
from service.agent.offline.followups import correction
from service.agent.repeats import no_repeat
from service.errors import Conflict, InvalidArgument, NotFound, ServiceError
from service.models import Task
from service.references import Ambiguous, NoSuchTodo, references_in, resolve_todo
from service.users import get_context

log = logging.getLogger(__name__)

Ctx = RunContextWrapper[TurnContext]


def _dump(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _error(code: str, message: str) -> str:
    return _dump({"error": {"code": code, "message": message}})


def _tool_failed(ctx: RunContextWrapper[Any], exc: Exception) -> str:
    """Unexpected failures: the model gets a short error it can report, the log gets the detail."""
    if isinstance(exc, Ambiguous):
        return _dump({"error": {"code": exc.code, "message": exc.message, "candidates": exc.candidates}})
    if isinstance(exc, NoSuchTodo):
        message = exc.message
        if getattr(ctx, "tool_name", "") == "update_todo":  # "remind me to X" read as a change to a todo X
            message += "; if the user asked for a new todo, call add_todo"
        return _dump({"error": {"code": exc.code, "message": message, "closest": exc.closest}})
    if isinstance(exc, ServiceError):
        return _error(exc.code, exc.message)
    if isinstance(exc, StaleDataError):  # another request changed the todo meanwhile (an undo racing a PATCH)
        return _error("conflict", "the todo changed while this ran, so nothing changed; please try again")
    if isinstance(exc, ModelBehaviorError):  # arguments off the schema: say what fits, so the model can retry
        tool = ALL_TOOLS.get(getattr(ctx, "tool_name", ""))
        return _error("invalid_argument", f"the arguments do not fit this tool; {_parameters(tool)}")
    log.exception("tool failed", exc_info=exc)
    return _error("internal", "the todo store failed, so nothing changed; please try again")  # said to the user as is


def _parameters(tool: FunctionTool | None) -> str:
    if tool is None:
        return "check the argument names and types"
    schema = tool.params_json_schema
    required = set(schema.get("required", [])) - {n for n, p in schema["properties"].items() if "anyOf" in p}
    names = [f"{name} (required)" if name in required else name for name in schema["properties"]]
    return f"it takes: {', '.join(names)}"


def _todo(task: Task) -> dict[str, Any]:
    # A model acts on a todo's content; its timestamps would only lengthen every output.
    return todos.Todo.model_validate(task).model_dump(mode="json", exclude={"created_at", "updated_at"})


def todo_tool(func: Any, guardrails: tuple[Any, ...] = ()) -> FunctionTool:
    # Not strict: a strict schema marks every argument required (nullable), and a small model then fills each
    # one, inventing a description or a due date of today for a plain "add milk".
    tool = function_tool(
        func, failure_error_function=_tool_failed, tool_input_guardrails=[*guardrails, no_repeat], strict_mode=False
    )
    tool.params_json_schema = compact_schema(tool.params_json_schema)
    return tool


def compact_schema(schema: Any) -> Any:
    """The schema the model reads, without pydantic's noise: no `title`s (a 1.5B model wrote its calls as
    `add_todo_args={…}` after the schema's title) and an optional argument as its plain type instead of
    `anyOf [type, null]` with `default: null`; about a third fewer prompt tokens. Arguments are still
    validated by the tool's pydantic model, so nothing the model may send changes."""
    if isinstance(schema, list):
        return [compact_schema(part) for part in schema]
    if not isinstance(schema, dict):
        return schema
    compact = {key: compact_schema(value) for key, value in schema.items() if key != "title"}
    if isinstance(props := schema.get("properties"), dict):  # argument names, never keywords
        compact["properties"] = {name: compact_schema(value) for name, value in props.items()}
    options = compact.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options and compact.get("default", "") is None:
        kept = [option for option in options if option != {"type": "null"}]
        del compact["anyOf"], compact["default"]
        compact = {**(kept[0] if len(kept) == 1 else {"anyOf": kept}), **compact}
    return compact


def owned_todo_tool(func: Any) -> FunctionTool:
    """A tool taking a `todo` reference: when it is an id, the id must be the context user's before the tool runs."""
    return todo_tool(func, (tool_ownership,))


@todo_tool
async def list_todos(
    ctx: Ctx, completed: bool | None = None, limit: int | None = None, offset: int | None = None
) -> str:
    """List the user's todos, oldest first.

    Args:
        completed: true for done todos only, false for pending only; leave it out for all.
        limit: how many to return (1-100, default 50).
        offset: how many to skip, for the next page.
    """
    async with ctx.context.db.session() as db:
        page = await todos.list_todos(
            db, ctx.context.user_id, completed=completed, limit=limit or 50, offset=offset or 0
        )
    return _dump({"todos": [_todo(t) for t in page.todos], "pagination": page.pagination().model_dump()})


@todo_tool
async def add_todo(
    ctx: Ctx,
    title: str | None = None,
    description: str | None = None,
    due_date: str | None = None,
    titles: list[str] | None = None,
) -> str:
    """Add a todo, or several: one item goes in `title`; several items go in `titles`, one title each
    ("eggs, bread and butter" is ["Eggs", "Bread", "Butter"]).

    Args:
        title: the title of one item, at most 200 characters.
        description: notes beyond the title, only when the user gives some (one item only).
        due_date: optional due date, YYYY-MM-DD or the user's words ("friday", "tomorrow").
        titles: several items, one short title each (at most 20), instead of `title`.
    """
    # One tool for one item or many: a small model given a second, batch tool mixed their arguments up.
    items = [*([title] if title else []), *(titles or [])]
    due_date = _due_date(due_date, ctx.context.today)
    async with ctx.context.db.session() as db:
        if len(items) == 1:
            task = await todos.add_todo(
                db,
                ctx.context.user_id,
                title=items[0],
                description=description,
                due_date=due_date,
                origin=ctx.context.origin,
            )
            return _dump({"todo": _todo(task)})
        added = await todos.add_todos(
            db, ctx.context.user_id, titles=items, due_date=due_date, origin=ctx.context.origin
        )
    return _dump({"todos": [_todo(task) for task in added]})


@owned_todo_tool
async def update_todo(
    ctx: Ctx,
    todo: str | list[str],
    title: str | None = None,
    description: str | None = None,
    completed: bool | None = None,
    due_date: str | None = None,
) -> str:
    """Change a todo, or several the same way: mark done or not done, rename, edit the description or due date.

    Args:
        todo: which todo, as the user said it: its title or words of it ("milk"), its number on the
            list ("2", "last"), or its id. Several todos: a list of them (["milk", "bread"]).
        title: new title; leave it out to keep it.
        description: new description; leave it out to keep it.
        completed: true to mark done, false to reopen; leave it out to keep it.
        due_date: new due date, YYYY-MM-DD or the user's words ("friday", "tomorrow"); leave it out to keep it.
    """
    references = _references(todo)
    if title is not None and len(references) > 1:
        raise InvalidArgument("rename one todo at a time")
    turn = ctx.context
    due = _due_date(due_date, turn.today)
    undated = _says_no_date(due_date)
    async with turn.db.session() as db:
        # Marking done means the open one of two same-titled todos, and reopening the done one.
        prefer = None if completed is None else not completed
        # all found before any change
        targets = [await _resolve(ctx, db, ref, prefer, new_title=title) for ref in references]
        if title is not None:
            title = _corrected(title, targets[0], turn)
        changed = [
            await todos.update_todo(
                db,
                turn.user_id,
                task.id,
                title=title,
                description=description,
                completed=completed,
                due_date=due,
                clear_due_date=undated,
                origin=turn.origin,
            )
            for task in _distinct(targets)
        ]
    if isinstance(todo, list):
        return _dump({"todos": [_todo(task) for task in changed]})
    return _dump({"todo": _todo(changed[0])})


@owned_todo_tool
async def delete_todo(ctx: Ctx, todo: str | list[str]) -> str:
    """Delete a todo for good, or several.

    Args:
        todo: which todo, as the user said it: its title or words of it ("milk"), its number on the
            list ("2", "last"), or its id. Several todos: a list of them (["milk", "bread"]).
    """
    turn = ctx.context
    async with turn.db.session() as db:
        targets = [await _resolve(ctx, db, ref) for ref in _references(todo)]  # all found before any delete
        deleted = [
            await todos.delete_todo(db, turn.user_id, task.id, origin=turn.origin) for task in _distinct(targets)
        ]
    gone = [{"id": str(task.id), "title": task.title} for task in deleted]
    return _dump({"deleted": gone if isinstance(todo, list) else gone[0]})


def _references(todo: str | list[str]) -> list[str]:
    references = references_in(todo)
    if not 1 <= len(references) <= todos.MAX_BATCH:
        raise InvalidArgument(f"todo takes 1 to {todos.MAX_BATCH} todos")
    return references


async def _approved_todo(db: Any, turn: TurnContext, todo_id: str, version: str) -> Task:
    """The todo the user said yes to, as the question showed it; a change since voids the yes for it."""
    try:
        task = await todos.get_todo(db, turn.user_id, todo_id)
    except NotFound:
        raise NoSuchTodo("that todo was deleted after the question, so there is nothing to do for it") from None
    if todos.as_utc(task.updated_at).isoformat() != version:
        raise Conflict(f'"{task.title}" changed after I asked, so I left it as it is; ask again if you still want this')
    return task


async def _resolve(
    ctx: Ctx,
    db: Any,
    reference: str,
    prefer_completed: bool | None = None,
    new_title: str | None = None,
) -> Any:
    turn = ctx.context
    if pinned := turn.approved.get(str(getattr(ctx, "tool_call_id", "")), {}).get(reference):
        return await _approved_todo(db, turn, *pinned)
    # The user's request goes along: a model's title more precise than the user's words may be a guess. The
    # new title of a rename is not how the user named the todo ("rename the milk one to buy cheese").
    said = turn.request
    if said is not None and new_title:
        said = re.sub(re.escape(" ".join(new_title.split())), " ", " ".join(said.split()), flags=re.IGNORECASE)
    if (pointer := PRONOUN_RE.match(" ".join(reference.split()))) and pointer["one"]:
        # "Remove it", "no, make that Wednesday": a model passes the pronoun; it means the todo this
        # conversation added or changed last.
        recent = (
            await changes.last_changed_todo(db, turn.user_id, turn.conversation_id) if turn.conversation_id else None
        )
        if recent is None:
            raise NoSuchTodo(f'"{reference}" points back to a todo, and this conversation has changed none: name it')
        return await todos.get_todo(db, turn.user_id, recent)
    return await resolve_todo(db, turn.user_id, reference, prefer_completed=prefer_completed, said=said)


def _corrected(title: str, task: Task, turn: TurnContext) -> str:
    """A rename to only the words the user corrected ("limes" for "no, limes" on "Buy lemons", "Sandra" for
    "that should say Sandra") is the todo's title with them in place ("Buy limes"), as the offline reader
    reads the correction: a small model passes the user's fragment as the whole new title."""
    fix = correction(turn.request or "", turn.today)
    if fix is None or " ".join(title.casefold().split()) != " ".join((fix.value or "").casefold().split()):
        return title
    return corrected_title(task.title, fix)


def _distinct(tasks: list[Any]) -> list[Any]:
    """Each todo once, in the order named: two references to one todo change it once."""
    return list({task.id: task for task in tasks}.values())


# A due date given as one of these removes it ("remove the deadline on X"). Not "" or "null": a small model
# writes those for an argument it means to leave alone.
NO_DUE_DATE_WORDS = frozenset({"none", "no date", "no due date", "no deadline"})


def _says_no_date(value: str | None) -> bool:
    return value is not None and " ".join(value.lower().split()) in NO_DUE_DATE_WORDS


def _due_date(value: str | None, today: date) -> str | None:
    """A due date as YYYY-MM-DD, from a date or the user's words ("friday", "in 3 days"), read against the
    turn's date: a small model copies words faithfully but counts weekdays badly."""
    if value is None or not value.strip() or _says_no_date(value):
        return None
    with contextlib.suppress(InvalidArgument):
        return todos.parse_due_date(value).isoformat()  # type: ignore[union-attr]
    day = date_value(value, today)
    if day is None:
        raise InvalidArgument('due_date must be a date, YYYY-MM-DD, or words like "friday" or "tomorrow"')
    return day.isoformat()


@todo_tool
async def get_user_context(ctx: Ctx) -> str:
    """The user's display name, timezone and preferences, and today's date in their timezone."""
    async with ctx.context.db.session() as db:
        context = await get_context(db, ctx.context.user_id)
    return _dump(
        {
            "display_name": context.display_name,
            "timezone": context.timezone,
            "preferences": context.preferences,
            "today": ctx.context.today.isoformat(),
        }
    )


@todo_tool
async def undo_last_turn(ctx: Ctx) -> str:
    """Undo the changes of the latest turn of this conversation that changed todos ("undo that", "put it
    back"): adds deleted todos back, removes added ones, restores what was changed. Nothing is undone if
    one of those todos changed since; the error names it."""
    context = ctx.context
    if context.conversation_id is None:
        return _error("not_found", "there is no recent change to undo in this conversation")
    async with context.db.session() as db:
        target = await changes.latest_turn_with_changes(
            db, context.user_id, context.conversation_id, exclude=context.message_id
        )
        if target is None:
            return _error("not_found", "there is no recent change to undo in this conversation")
        undone = await changes.revert(db, context.user_id, message_id=target, origin=context.origin)
    return _dump({"undone": [_undone(change) for change in undone]})


def _undone(change: Any) -> dict[str, Any]:
    """What undoing one change did, in the words a model reports: "re-added", "removed", "restored"."""
    todo = change.before if change.op != "add" else change.after
    did = {"add": "removed", "delete": "re-added", "update": "restored"}[change.op]
    return {"did": did, "id": str(change.todo_id), "title": (todo or {}).get("title")}


ALL_TOOLS: dict[str, FunctionTool] = {
    tool.name: tool for tool in (list_todos, add_todo, update_todo, delete_todo, get_user_context, undo_last_turn)
}
