"""Planning: the single next step of the turn, tool calls or the final answer.

Like a model, the planner looks before it changes anything: a change lists the todos first (all
pages), picks its targets from that list, makes the calls - every action of the message in one
response - and answers from their outputs on the next call. Only the tools it was given are called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from service.agent.offline import answers
from service.agent.offline.adds import corrected_title
from service.agent.offline.chatter import REST_RE
from service.agent.offline.conversation import Conversation, PastCall, Todo
from service.agent.offline.dates import SAME_DAY_AS, shifted
from service.agent.offline.followups import understand
from service.agent.offline.intents import (
    Action,
    Action_,
    AddIntent,
    BulkIntent,
    ChangeIntent,
    Choice,
    Condition,
    ContextIntent,
    Intent,
    ListIntent,
    MultiIntent,
    OfferAddIntent,
    ReplyIntent,
    UndoIntent,
)
from service.agent.offline.queries import OTHER_RE
from service.agent.offline.references import RefContext, choose, key_words, match_titles, ref_context, resolve
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


def update_request(todo_id: str, **changes: Any) -> ToolRequest:
    """Every field of `update_todo`, None where unchanged, as a model fills in a schema."""
    fields = dict.fromkeys(("title", "description", "completed", "due_date"))
    return ToolRequest("update_todo", {"todo": todo_id, **fields, **changes})


def plan_next(conv: Conversation) -> Plan:
    """Decide the next step from the conversation, calling only the tools we were given."""
    intent = understand(conv.turns, conv.today)
    rejected = answers.rejected_answer(conv)  # the user said no to this turn's changes (approvals)
    plan = Plan(answer=rejected) if rejected else _plan_for(intent, conv)
    missing = [call.name for call in plan.calls if call.name not in conv.tools]
    return Plan(answer=answers.tool_missing_answer(missing[0])) if missing else plan


def _plan_for(intent: Intent, conv: Conversation) -> Plan:
    match intent:
        case AddIntent() | ChangeIntent() | BulkIntent():
            return plan_actions((intent,), conv)
        case MultiIntent():
            plan = plan_actions(intent.parts, conv, listed=intent.asked is not None)
            if intent.asked is None or plan.calls or (after := answers.after_changes(conv)) is None:
                return plan
            return Plan(answer=f"{plan.answer}\n\n{answers.list_answer(intent.asked, after)}".strip())
        case ListIntent():
            return plan_list(intent, conv)
        case UndoIntent():
            answer = answers.undo_answer(conv)  # undo has one home, the server's change log (DESIGN §6a)
            if answer is None:
                return Plan(calls=(ToolRequest(answers.UNDO_TOOL, {}),))
            if intent.then is None or not answer.startswith(answers.UNDONE):
                return Plan(answer=answer)
            then = plan_actions((intent.then,), conv)  # the change, made where it was meant
            return Plan(answer=f"{answer} {then.answer}") if then.answer else then
        case ContextIntent():
            return plan_context(intent, conv)
        case OfferAddIntent():
            return plan_offer(intent, conv)
        case ReplyIntent():
            return Plan(answer=answers.REPLIES[intent.kind])


def fetch_all(conv: Conversation, completed: bool | None) -> list[Todo] | Plan:
    """Every todo with that status, paging `list_todos` like a model would: the todos once this
    turn's pages are complete, else the plan to fetch the next page (or report its error)."""
    pages = conv.current.pages(completed)
    if not pages:
        return Plan(calls=(list_request(completed),))
    last = pages[-1]
    if last.error:
        return _list_failed(last)
    pagination = (last.output or {}).get("pagination") or {}
    if pagination.get("has_more") and last.listed:
        return Plan(calls=(list_request(completed, int(pagination.get("offset") or 0) + len(last.listed)),))
    return conv.current.listing(completed)


def _list_failed(call: PastCall) -> Plan:
    return Plan(answer=f"I couldn't read your todo list: {call.error}.")


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


def plan_list(intent: ListIntent, conv: Conversation) -> Plan:
    """The whole list (all pages), or the one page the user asked for ("the first 10", "next page"),
    answered with where it sits in the whole list."""
    if intent.limit is None and not intent.offset:
        todos = fetch_all(conv, intent.completed)
        return todos if isinstance(todos, Plan) else Plan(answer=answers.list_answer(intent, todos))
    if not (pages := conv.current.pages(intent.completed)):
        limit = min(intent.limit, MAX_PAGE) if intent.limit is not None else None
        return Plan(calls=(list_request(intent.completed, intent.offset, limit),))
    if pages[-1].error:
        return _list_failed(pages[-1])
    pagination = (pages[-1].output or {}).get("pagination") or {}
    return Plan(answer=answers.page_answer(intent, pages[-1].listed, pagination))


def plan_context(intent: ContextIntent, conv: Conversation) -> Plan:
    calls = conv.current.ran("get_user_context")
    if not calls:
        return Plan(calls=(ToolRequest("get_user_context", {}),))
    if calls[-1].error:
        return Plan(answer=f"I couldn't read your profile: {calls[-1].error}.")
    return Plan(answer=answers.context_answer(intent.topic, calls[-1].output or {}))


def plan_actions(parts: Sequence[Action_], conv: Conversation, *, listed: bool = False) -> Plan:
    """One action or several: list (unless they only add), make every action's calls in one response,
    then answer from all the outputs. An action whose todo is unclear or missing is not guessed at:
    its question or problem is said alongside what the others did. `listed`: the whole list is read even
    for adds, as a question asked beside them is answered from it."""
    needs_list = listed or not all(isinstance(part, AddIntent) for part in parts)
    only = parts[0] if len(parts) == 1 and not listed else None  # "clear completed" needs only the completed todos
    todos = fetch_all(conv, only.completed if isinstance(only, BulkIntent) else None) if needs_list else []
    if isinstance(todos, Plan):
        return todos
    steps: list[Plan] = []
    for part in parts:
        named = {str(call.arguments.get("todo")) for step in steps for call in step.calls}
        steps.append(_step(part, todos, conv, named))
    notes = [step.answer for step in steps if step.answer]
    if conv.current.mutations:
        completing = all(getattr(part, "action", None) == "complete" for part in parts)
        return Plan(answer=" ".join([answers.report_changes(conv, count_open=completing), *notes]))
    calls = tuple({repr(call): call for step in steps for call in step.calls}.values())  # each change once
    return Plan(calls=calls) if calls else Plan(answer=" ".join(notes))


def _step(part: Action_, todos: Sequence[Todo], conv: Conversation, named: set[str]) -> Plan:
    """One action, against the list as it was before any of them ran; "the rest" are the todos the
    actions before it did not name."""
    if isinstance(part, AddIntent):
        return Plan(calls=tuple(ToolRequest("add_todo", asdict(todo)) for todo in part.todos))  # the tool's fields
    if isinstance(part, BulkIntent):
        targets = _left_in(part.keep, [t for t in todos if part.completed in (None, t.completed)], todos, part.action)
        if isinstance(targets, Plan):
            return targets
        if not targets:
            return Plan(answer=answers.NOTHING_FOR_BULK[part.action, part.completed])
        return act(part.action, None, targets)
    refs = ref_context(conv.history, conv.today)
    if part.only_if and (unmet := _unmet(part.only_if, todos, refs)):
        return unmet
    if REST_RE.match(part.choices[0].ref):
        return act(part.action, None, [todo for todo in todos if todo.id not in named])
    if named and OTHER_RE.match(part.choices[0].ref) and (other := _other_shown(refs, todos, named)):
        # "slip's signed, the other one can wait": the one other todo shown
        return act(part.action, _new_value(part.action, part.choices[0], [other]), [other])
    choice, found = choose(part, todos, refs)
    if found.problem or not found.todos:
        return Plan(answer=found.problem or answers.no_match_answer(choice.ref, todos))
    targets = _left_in(part.keep, list(found.todos), todos, part.action)  # "all the christmas ones except the cards"
    if isinstance(targets, Plan):
        return targets
    if not targets:
        return Plan(answer=answers.no_match_answer(choice.ref, todos))
    found = replace(found, todos=tuple(targets))
    value = _new_value(part.action, choice, found.todos)
    if part.action == "due" and value and value.startswith(SAME_DAY_AS):
        day = _date_of(value.removeprefix(SAME_DAY_AS), todos, refs)
        if isinstance(day, Plan):
            return day
        value = day
    return act(part.action, value, found.todos)


def _date_of(ref: str, todos: Sequence[Todo], refs: RefContext) -> str | Plan:
    """The due date of the todo `ref` names ("the same day as the haircut"), or the answer why there is none."""
    found = resolve(ref, todos, refs, "due", strict=True)
    if found.problem or len(found.todos) != 1:
        return Plan(answer=found.problem or answers.no_match_answer(ref, todos))
    todo = found.todos[0]
    return todo.due_date or Plan(answer=f'"{todo.title}" has no due date, so I haven\'t changed anything.')


def _left_in(keep: Sequence[str], targets: list[Todo], todos: Sequence[Todo], action: Action) -> list[Todo] | Plan:
    """`targets` without the todos `keep` names ("everything except the gym one": every todo it may mean)."""
    for ref in keep:
        kept = match_titles(ref, todos, action)
        if not (kept.todos or kept.candidates):
            return Plan(answer=kept.problem or answers.no_match_answer(ref, todos))
        targets = [todo for todo in targets if todo not in kept.todos + kept.candidates]
    return targets


def _unmet(condition: Condition, todos: Sequence[Todo], refs: RefContext) -> Plan | None:
    """The answer when a request's condition does not hold (or its todo is unclear); None when it holds."""
    found = resolve(condition.ref, todos, refs, "complete", strict=True)
    if found.problem or len(found.todos) != 1:
        return Plan(answer=found.problem or answers.no_match_answer(condition.ref, todos))
    todo = found.todos[0]
    if todo.completed == condition.done:
        return None
    state = "is already done" if todo.completed else "isn't done yet"
    return Plan(answer=f'"{todo.title}" {state}, so I haven\'t changed anything.')


def _other_shown(refs: RefContext, todos: Sequence[Todo], named: set[str]) -> Todo | None:
    """ "the other one" beside a todo another clause named: the one other todo the user last saw."""
    seen = {todo.id for todo in refs.shown or refs.recent}
    others = [todo for todo in todos if todo.id in seen and todo.id not in named]
    return others[0] if len(others) == 1 else None


def _new_value(action: Action, choice: Choice, targets: Sequence[Todo]) -> str | None:
    """The value to set; a corrected wording keeps the todo's verb ("Buy eggs" -> "Buy a dozen eggs")."""
    if action == "rename" and choice.correction and choice.value and len(targets) == 1:
        return corrected_title(targets[0].title, choice)
    if action == "due" and len(targets) == 1:  # "push it back a week": from the date it has
        return shifted(choice.value, targets[0].due_date)
    return choice.value


def act(action: Action, value: str | None, targets: Sequence[Todo]) -> Plan:
    """The calls that carry out `action` on the picked todos, or the answer when none are needed."""
    if action == "status":
        return Plan(answer=" ".join(answers.status_answer(todo) for todo in targets))
    if action == "delete":
        return Plan(calls=tuple(ToolRequest("delete_todo", {"todo": todo.id}) for todo in targets))
    if action in ("complete", "reopen"):
        done = action == "complete"
        to_change = [todo for todo in targets if todo.completed != done]
        if not to_change:
            return Plan(answer=answers.already_answer(targets, done))
        return Plan(calls=tuple(update_request(todo.id, completed=done) for todo in to_change))
    if len(targets) > 1 and action == "due":  # "all three by Thursday", "move both back a week"
        moved = [(todo, shifted(value, todo.due_date)) for todo in targets]
        calls = tuple(update_request(todo.id, due_date=day) for todo, day in moved if day)
        return (
            Plan(calls=calls) if calls else Plan(answer="None of them has a due date to move. When should they be due?")
        )
    if len(targets) > 1:  # one new title or note for several todos is surely a misreading
        return Plan(answer=answers.which_one_answer("that", targets))
    target = targets[0]
    if action == "due" and value is None and target.due_date:
        return Plan(answer=f'I can\'t move "{target.title}" that far. When should it be due?')
    if action == "due" and value is None:
        return Plan(answer=f'"{target.title}" has no due date to move. When should it be due?')
    if action == "rename" and value == target.title:
        return Plan(answer=f'It\'s already called "{target.title}".')
    field = {"rename": "title", "due": "due_date", "describe": "description"}[action]
    return Plan(calls=(update_request(target.id, **{field: value}),))
