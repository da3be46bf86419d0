"""Answers, written from tool outputs (never from what a call was meant to do), and the fixed replies.

Changes are reported from what the tools returned; failures are said plainly with the tool's error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.agent.offline.conversation import Conversation, PastCall, Todo, snapshots
from service.agent.offline.dates import describe_day
from service.agent.offline.intents import BulkAction, Intent, ListIntent, ReplyKind, Topic
from service.agent.offline.queries import TOPICS
from service.agent.offline.text import join_items, plural, quoted
from service.agent.offline.vocabulary import vocab
from service.matching import key_words, same_word

CAPABILITIES = (
    "I can add todos (with notes and due dates), show your list (all, open or done), mark todos done or "
    "not done, rename them, change their due dates or notes, delete them, clear completed ones, and undo "
    "the last change."
)
REPLIES: dict[ReplyKind, str] = {
    "greeting": f"Hi! I'm your todo assistant. {CAPABILITIES} What would you like to do?",
    "thanks": "You're welcome! Anything else for your list?",
    "bye": "Bye! Your list will be here when you come back.",
    "ack": "OK! Tell me whenever you want to change something on your list.",
    "help": f'{CAPABILITIES} For example: "add buy milk tomorrow", "what\'s left?", "mark the first one done", '
    '"rename milk to oat milk" or "clear completed".',
    "unclear": f"Sorry, I'm not sure what you'd like me to do, so I haven't changed anything. {CAPABILITIES}",
    "refuse": "I can only see and change your own todos, so I can't help with that. "
    "Is there anything on your list I can do?",
    "too_long": 'That message is too long for me to act on. Please send one short request, like "add buy milk" '
    'or "show my list".',
    "need_date": 'When should it be due? Give me a date like "tomorrow", "Friday" or "2026-12-01".',
    "need_title": 'What should I add? For example: "add buy milk tomorrow".',
    "declined": "OK, I haven't added anything.",
    "approval_gone": "That request is no longer waiting for your answer (it expired or was decided elsewhere), so I "
    "haven't changed anything. Ask me again if you still want it.",
    "profile": "I can't change your account or profile (name, timezone, preferences) from here - only your "
    'todos. I can tell you what is set, though: ask "what do you know about me?".',
}
NOTHING_FOR_BULK: dict[tuple[BulkAction, bool | None], str] = {
    ("delete", True): "You have no completed todos to clear.",
    ("delete", False): "You have no open todos to delete.",
    ("delete", None): "Your list is already empty.",
    ("complete", False): "Everything is already done - you have no open todos.",
    ("reopen", True): "None of your todos are marked as done.",
}
_ONE_CHANGED = {"added": "Added {}.", "completed": "Marked {} as done.", "reopened": "Reopened {}.",
                "deleted": "Deleted {}."}  # fmt: skip
_MANY_CHANGED = {"added": "Added {n} todos: {}.", "completed": "Marked {n} todos as done: {}.",
                 "reopened": "Reopened {n} todos: {}.", "deleted": "Deleted {n} todos: {}."}  # fmt: skip


def visible(intent: Intent, todos: Sequence[Todo]) -> list[Todo]:
    """The todos a list answer shows: its `members`, or else all listed when a window or a kind of todo
    ("my shopping list" of "Milk", "Eggs") finds none; a search or the undated finding none show none."""
    if not isinstance(intent, ListIntent):
        return list(todos)
    shown = members(intent, todos)
    if shown or intent.undated or (intent.search and intent.search.lower() not in TOPICS):
        return shown
    return list(todos)


_SEARCH_STOPWORDS = vocab("references", "stopwords")


def about(search: str, todos: Sequence[Todo], *, every: bool = False) -> list[Todo]:
    """The todos whose title or notes mention a word of `search` (stems alike: "cars" finds "Car wash"), or of
    the kind it names ("shopping": "buy", "order", ...); of several words, those that mention them all when
    some do ("the garden party" is not "Pay the gardener"), and only those when `every` (a group acted on)."""
    kind = TOPICS.get(search.lower())
    wanted = key_words(" ".join(kind or [search]), _SEARCH_STOPWORDS)

    def mentioned(todo: Todo) -> list[bool]:
        said = key_words(f"{todo.title} {todo.description or ''}", frozenset())
        return [any(same_word(word, other) for other in said) for word in wanted]

    saying_all = [] if kind or not wanted else [todo for todo in todos if all(mentioned(todo))]
    if every and not kind:
        return saying_all
    return saying_all or [todo for todo in todos if any(mentioned(todo))]


def members(group: ListIntent, todos: Sequence[Todo]) -> list[Todo]:
    """The todos a group reference means (`queries.parse_group`): exactly those, never the whole list."""
    todos = [todo for todo in todos if group.completed is None or todo.completed == group.completed]
    if group.search:
        return about(group.search, todos, every=True)
    if group.undated:
        return [todo for todo in todos if not todo.due_date]
    return due_in_window(group, todos) if group.due_until else todos


def due_in_window(intent: Intent, todos: Sequence[Todo]) -> list[Todo]:
    if not isinstance(intent, ListIntent) or intent.due_until is None:
        return []
    low = intent.due_from.isoformat() if intent.due_from else ""
    high = intent.due_until.isoformat()
    return [todo for todo in todos if todo.due_date and low <= todo.due_date <= high]


def list_answer(intent: ListIntent, todos: Sequence[Todo]) -> str:
    shown = visible(intent, todos)
    if intent.search and not shown:
        return f'Nothing on your list mentions "{intent.search}".'
    if intent.undated and not shown:
        return "Every open todo has a due date." if todos else "Nothing left to do - you have no open todos."
    if intent.undated:
        return "\n".join([f"{plural(len(shown), 'open todo')} with no due date:", *_lines(shown, intent)])
    if intent.search and len(shown) < len(todos):
        header = f'{plural(len(shown), "todo")} about "{intent.search}":'
    elif intent.due_label and due_in_window(intent, todos):
        today = intent.due_until.isoformat() if intent.due_until else ""
        late = intent.due_label == "today" and any(todo.due_date and todo.due_date < today for todo in shown)
        label = "due today or overdue" if late else _due_words(intent.due_label)  # "today" shows what is late too
        header = f"{label.capitalize()}: {plural(len(shown), 'open todo')}."
    elif intent.due_label and shown:
        header = f"Nothing is {_due_words(intent.due_label)}. All your open todos ({len(shown)}):"
    elif not shown:
        return {
            None: "Your todo list is empty. Want me to add something?",
            False: "Nothing left to do - you have no open todos.",
            True: "You haven't completed any todos yet.",
        }[intent.completed]
    elif intent.completed is None:
        done = sum(todo.completed for todo in shown)
        header = f"You have {plural(len(shown), 'todo')} ({len(shown) - done} open, {done} done):"
    elif intent.completed:
        header = f"You've completed {plural(len(shown), 'todo')}:"
    else:
        header = f"You have {plural(len(shown), 'open todo')}:"
    return "\n".join([header, *_lines(shown, intent)])


def _lines(shown: Sequence[Todo], intent: ListIntent) -> list[str]:
    """Numbered lines; a search shows each todo's note too ("what was I bringing to the potluck?")."""
    lines = [f"{index}. {_line(todo, intent.completed is None)}" for index, todo in enumerate(shown, 1)]
    if intent.search:
        lines = [
            f"{line} - note: {todo.description}" if todo.description else line
            for line, todo in zip(lines, shown, strict=True)
        ]
    return lines


def _due_words(label: str) -> str:
    """ "due tomorrow", but "overdue" (not "due overdue")."""
    return label if label == "overdue" else f"due {label}"


_PAGE_NOUNS = {None: "todos", False: "open todos", True: "completed todos"}


def page_answer(intent: ListIntent, todos: Sequence[Todo], pagination: Mapping[str, Any]) -> str:
    """One page of the list, numbered as in the whole list, and how to see more."""
    offset = int(pagination.get("offset") or 0)
    total = pagination.get("total")
    noun = _PAGE_NOUNS[intent.completed]
    if not todos:
        if offset:
            return f"That's all - there are no more {noun} after the first {offset}."
        return list_answer(intent, todos)
    of_total = f" of {total}" if isinstance(total, int) else ""
    header = f"Your {noun} {offset + 1}-{offset + len(todos)}{of_total}:"
    lines = [f"{offset + index}. {_line(todo, intent.completed is None)}" for index, todo in enumerate(todos, 1)]
    more = ['Say "next page" to see more.'] if pagination.get("has_more") else []
    return "\n".join([header, *lines, *more])


def _line(todo: Todo, mark_done: bool) -> str:
    return f"{todo.title}{_due_note(todo)}{' [done]' if mark_done and todo.completed else ''}"


def _due_note(todo: Todo) -> str:
    return f" (due {describe_day(todo.due_date)})" if todo.due_date else ""


def report_changes(conv: Conversation, *, count_open: bool = False) -> str:
    """What this turn's add/update/delete calls did, from their outputs; failures said plainly."""
    calls = conv.current.mutations
    before = snapshots(conv.turns, until=calls[0])
    grouped: dict[str, list[str]] = {}
    others: list[str] = []
    for call in calls:
        if call.error:
            others.append(_failure(call, before))
            continue
        for group, text in _change_phrases(call, before):
            if group in _ONE_CHANGED:
                grouped.setdefault(group, []).append(text)
            else:
                others.append(text)
    sentences = [
        (_ONE_CHANGED if len(items) == 1 else _MANY_CHANGED)[group].format(join_items(items), n=len(items))
        for group, items in grouped.items()
    ]
    if count_open and (remaining := _open_after(conv)) is not None:
        others.append(
            "Everything on your list is done!" if remaining == 0 else f"You have {plural(remaining, 'open todo')} left."
        )
    return " ".join(sentences + others)


def _change_phrases(call: PastCall, before: Mapping[str, Todo]) -> list[tuple[str, str]]:
    """(group, text) pairs for one successful change: the todos of a group ("added", "deleted", ...)
    are listed in one sentence; anything else is its own sentence."""
    todo = call.subject
    if todo is None:
        return []
    if call.name == "add_todo":
        return [("added", f'"{todo.title}"{_due_note(todo)}')]
    if call.name == "delete_todo":
        return [("deleted", f'"{todo.title}"')]
    old = before.get(todo.id)
    args = call.arguments
    phrases: list[tuple[str, str]] = []
    if args.get("title") is not None and old and old.title != todo.title:
        phrases.append(("sentence", f'Renamed "{old.title}" to "{todo.title}".'))
    if args.get("completed") is not None:
        phrases.append(("completed" if todo.completed else "reopened", f'"{todo.title}"'))
    if args.get("due_date") is not None and todo.due_date:
        phrases.append(("sentence", f'"{todo.title}" is now due {describe_day(todo.due_date)}.'))
    elif args.get("due_date") is not None:
        phrases.append(("sentence", f'"{todo.title}" has no due date now.'))
    if args.get("description") is not None:
        phrases.append(("sentence", f'Updated the notes on "{todo.title}": {(todo.description or "").rstrip(".")}.'))
    return phrases or [("sentence", f'Updated "{todo.title}".')]


def _failure(call: PastCall, before: Mapping[str, Todo]) -> str:
    verb = {"add_todo": "add", "delete_todo": "delete"}.get(call.name, "update")
    known = before.get(str(call.arguments.get("todo")))
    title = call.arguments.get("title") if call.name == "add_todo" else known.title if known else None
    title = f"{title[:57]}..." if isinstance(title, str) and len(title) > 60 else title
    what = f'"{title}"' if title else "that todo"
    return f"I couldn't {verb} {what}: {(call.error or '').rstrip('.')}."


def _open_after(conv: Conversation) -> int | None:
    """Open todos left after this turn's changes, when this turn listed them all (else unknown)."""
    after = after_changes(conv, open_only=True)
    return None if after is None else sum(not todo.completed for todo in after)


def after_changes(conv: Conversation, *, open_only: bool = False) -> list[Todo] | None:
    """The list as this turn's changes left it, when this turn listed every todo (or, `open_only`, every open
    one); else None."""
    listed = conv.current.ran("list_todos")
    if not listed or listed[-1].arguments.get("completed") not in ((None, False) if open_only else (None,)):
        return None
    state = {todo.id: todo for todo in conv.current.listing()}
    for call in conv.current.mutations:
        if (todo := call.subject) is None:
            continue
        if call.name == "delete_todo":
            state.pop(todo.id, None)
        else:
            state[todo.id] = todo
    return list(state.values())


def status_answer(todo: Todo) -> str:
    state = "is done" if todo.completed else "isn't done yet"
    due = (
        f" It's due {describe_day(todo.due_date)}."
        if todo.due_date
        else ""
        if todo.completed
        else " It has no due date."
    )
    note = f" Note: {todo.description}" if todo.description else ""
    return f'"{todo.title}" {state}.{due}{note}'


def already_answer(todos: Sequence[Todo], done: bool) -> str:
    titles = quoted([todo.title for todo in todos])
    verb = "is" if len(todos) == 1 else "are"
    return f"{titles} {verb} already done." if done else f"{titles} {verb} not marked as done, so nothing to reopen."


def context_answer(topic: Topic, context: Mapping[str, Any]) -> str:
    name, timezone = context.get("display_name"), context.get("timezone")
    preferences = context.get("preferences") or {}
    parts = {
        "name": f"Your name is {name}." if name else "I don't know your name - it isn't set in your profile.",
        "timezone": f"Your timezone is {timezone}." if timezone else "Your timezone isn't set in your profile.",
        "preferences": (
            "Your preferences: " + ", ".join(f"{key}: {value}" for key, value in preferences.items()) + "."
            if preferences
            else "You haven't set any preferences."
        ),
        "date": f"Today is {describe_day(str(context.get('today')))}." if context.get("today") else "",
    }
    if topic == "all":
        return " ".join(text for text in parts.values() if text)
    return parts[topic] or "I don't know that."


def no_match_answer(text: str, todos: Sequence[Todo]) -> str:
    if not todos:
        return f'Your list is empty, so there\'s no todo matching "{text}".'
    titles = quoted([todo.title for todo in todos])
    return f"I couldn't find a todo matching \"{text}\", so I haven't changed anything. Your list has: {titles}."


def which_one_answer(text: str, candidates: Sequence[Todo]) -> str:
    options = quoted([todo.title for todo in candidates], conjunction="or")
    return f'More than one todo matches "{text}": {options}. I haven\'t changed anything yet - which one do you mean?'


def unclear_reference_answer(text: str) -> str:
    return f'I\'m not sure which todo you mean by "{text}". Which one do you mean?'


def no_position_answer(text: str, base: Sequence[Todo]) -> str:
    if not base:
        return f'Your list is empty, so there\'s no "{text}".'
    return f'There\'s no "{text}" - the list has {plural(len(base), "todo")}.'


def gone_answer(titles: Sequence[str], todos: Sequence[Todo]) -> str:
    rest = f" Your list has: {quoted([todo.title for todo in todos])}." if todos else " Your list is empty."
    return f"{quoted(titles)} {'is' if len(titles) == 1 else 'are'} no longer on your list.{rest}"


def tool_missing_answer(name: str) -> str:
    return f"I can't do that right now: the {name} tool isn't available to me."


# --- undo and declined changes (DESIGN §6a) ------------------------------------------------------

UNDO_TOOL = "undo_last_turn"

NOTHING = "There's no recent change in this conversation that I can undo."
_DID = {"re-added": "Put back {}.", "removed": "Removed {} again.", "restored": "Restored {} as it was."}


def _code(call: PastCall) -> str | None:
    problem: Any = (call.output or {}).get("error")
    return str(problem.get("code")) if isinstance(problem, dict) else None


UNDONE = "Undone."


def undo_answer(conv: Conversation) -> str | None:
    """The answer once this turn's `undo_last_turn` ran; None while it has not."""
    calls = conv.current.ran(UNDO_TOOL)
    if not calls and not conv.history:  # a first message: nothing before it to undo
        return NOTHING
    if not calls:
        return None
    call = calls[-1]
    if _code(call) == "not_found":
        return NOTHING
    if call.error:
        return f"I couldn't undo that: {call.error}."
    undone = (call.output or {}).get("undone") or []
    by_kind: dict[str, list[str]] = {}
    for item in undone if isinstance(undone, list) else []:
        if isinstance(item, dict) and item.get("did") in _DID:
            by_kind.setdefault(item["did"], []).append(str(item.get("title")))
    sentences = [_DID[did].format(quoted(titles)) for did, titles in by_kind.items()]
    return " ".join([UNDONE, *sentences])


def rejected_answer(conv: Conversation) -> str | None:
    """When every change this turn tried was turned down by the user: say that nothing changed."""
    tried = conv.current.mutations
    if not tried or any(_code(call) != "rejected" for call in tried):
        return None
    known = snapshots(conv.turns)
    titles = [todo.title if (todo := known.get(str(call.arguments.get("todo")))) else str(call.arguments.get("todo"))
              for call in tried]  # fmt: skip
    verb = "delete" if all(call.name == "delete_todo" for call in tried) else "change"
    return f"OK, I didn't {verb} anything. {quoted(titles)} {'stays' if len(titles) == 1 else 'stay'} on your list."
