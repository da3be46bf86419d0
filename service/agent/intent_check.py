"""What the user's message asked for that a real model's turn left undone, and the note that re-asks it.

The request is read by the offline model's reader (`offline.followups.understand`), the one home for what
a message means. A small model does the first of two actions and stops ("delete the train tickets one.
Also add print boarding passes."), reads "remind me to call the dentist" as a change to a todo that does
not exist, answers "revert that" with the undo tool's description, or completes one todo of "I've done
all of them". Each is an action of the request with no call of its tool in the turn; the model is then
re-asked once with that tool named, and the tools still decide: an unclear todo comes back `ambiguous`,
a missing one `not_found`, so a wrong reading of the message changes nothing by itself.

Only actions are checked. A message the reader does not understand asks nothing of the model here, so
the check only ever adds a second chance, never a reply of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from agents.items import TResponseInputItem

from service.agent.answer_check import Review, changed_todos, tool_output
from service.agent.offline.answers import REPLIES
from service.agent.offline.chatter import PRONOUN_RE
from service.agent.offline.conversation import as_items, read_turns
from service.agent.offline.dates import shift_words
from service.agent.offline.followups import understand
from service.agent.offline.intents import (
    Action_,
    AddIntent,
    BulkIntent,
    ChangeIntent,
    ContextIntent,
    Intent,
    ListIntent,
    MultiIntent,
    ReplyIntent,
    UndoIntent,
)
from service.agent.offline.text import quoted
from service.agent.snapshot import Snapshot
from service.matching import same_word
from service.references import is_position, key_words, references_in

# A tool error that answers the request (the user must choose, or it does not exist, or said no): the
# action was tried. Any other error (arguments off the schema) leaves it untried.
_ANSWERED_ERRORS = {"ambiguous", "not_found", "rejected", "conflict"}
_CHANGE_TOOL = {"delete": "delete_todo", "status": None}
_CHANGE_WORDS = {
    "complete": "mark {ref} as done",
    "reopen": "mark {ref} as not done",
    "delete": "delete {ref}",
    "rename": "change the title of {ref}{to}",
    "due": "change the due date of {ref}{to}",
    "describe": "change the description of {ref}{to}",
}
# A reference to every todo ("all of them", "everything"), as the reader leaves it in a change.
_WHOLE_LIST_RE = re.compile(
    r"^(?:all|every ?thing|every(?: single)? one|each(?: one)?)(?: of)?(?: them| these| those| my (?:todos|tasks))?$",
    re.IGNORECASE,
)
_BULK_WORDS = {"complete": "mark every open todo as done", "reopen": "mark every done todo as not done"}
_CONTEXT_TOPICS = {"name", "preferences", "all"}  # the date and timezone come with the turn's date line


def left_undone(
    answer: str,
    turn_input: Sequence[dict[str, Any]],
    new_items: Sequence[dict[str, Any]],
    today: date,
    snapshot: Snapshot | None,
) -> Review | None:
    """A re-ask for the first action of the user's message that no call in the turn tried; None when
    every action was tried (or the message asks for none)."""
    turns = read_turns([*turn_input, *new_items])
    if not turns or not turns[-1].user_text:
        return None
    intent = understand(turns, today)
    tried = _tried(new_items)
    for tool, what, named in _actions(intent):
        if tool not in tried or (named and not any(same_word(w, t) for w in named for t in tried[tool])):
            return _reask(tool, what)
    adds = [part for part in _parts(intent) if isinstance(part, AddIntent)]
    if adds and (left := _items_left([todo.title for part in adds for todo in part.todos], new_items)):
        return _reask("add_todo", f"add {quoted(left)} too (each its own todo, in `titles`)")
    if (action := _whole_list(intent)) and snapshot:
        return _rest_of_bulk(action == "complete", new_items, snapshot)
    # Answered from the snapshot is fine; naming none of its todos is no answer to "show my list".
    if (
        isinstance(intent, ListIntent)
        and "list_todos" not in tried
        and snapshot
        and snapshot.titles
        and not any(title.casefold() in answer.casefold() for title in snapshot.titles.values())
    ):
        return _reask("list_todos", "see their todos")
    return None


def reply(turn_input: Sequence[TResponseInputItem], today: date) -> str | None:
    """The offline model's answer to a message that asks for no action (help, a greeting, thanks), or None."""
    turns = read_turns(as_items(list(turn_input)))
    intent = understand(turns, today) if turns and turns[-1].user_text else None
    return REPLIES[intent.kind] if isinstance(intent, ReplyIntent) else None


def _actions(intent: Intent) -> list[tuple[str, str, frozenset[str]]]:
    """(tool, what the user asked, in words, and the words naming its todo) for each action of the message;
    no words where the todo is named by position, pronoun or "all": then any call of the tool tried it."""
    actions: list[tuple[str, str, frozenset[str]]] = []
    for part in _parts(intent):
        if isinstance(part, AddIntent):
            actions.append(("add_todo", f"add {quoted([todo.title for todo in part.todos])}", frozenset()))
        elif isinstance(part, ChangeIntent) and (tool := _CHANGE_TOOL.get(part.action, "update_todo")):
            ref, value = part.choices[0].ref, part.choices[0].value
            to = f" {moved}" if (moved := shift_words(value)) else f' to "{value}"' if value else ""
            named = (
                frozenset()
                if is_position(ref) or PRONOUN_RE.match(ref) or _WHOLE_LIST_RE.match(ref)
                else key_words(ref)
            )
            actions.append((tool, _CHANGE_WORDS[part.action].format(ref=f'"{ref}"', to=to), named))
        elif isinstance(part, BulkIntent) and part.action != "delete":  # several deletes wait for the user's yes
            actions.append(("update_todo", _BULK_WORDS[part.action], frozenset()))
        elif isinstance(part, UndoIntent):
            actions.append(("undo_last_turn", "undo the last change", frozenset()))
        elif isinstance(part, ContextIntent) and part.topic in _CONTEXT_TOPICS:
            actions.append(("get_user_context", "tell them what you know about them", frozenset()))
    return actions


def _whole_list(intent: Intent) -> str | None:
    """ "complete" or "reopen" when the message does that to every todo ("tick off everything", "I've done
    all of them"), else None."""
    if isinstance(intent, BulkIntent) and intent.action != "delete":
        return intent.action
    if isinstance(intent, ChangeIntent) and intent.action in ("complete", "reopen"):
        return intent.action if _WHOLE_LIST_RE.match(intent.choices[0].ref) else None
    return None


def _parts(intent: Intent) -> Sequence[Action_ | Intent]:
    return intent.parts if isinstance(intent, MultiIntent) else (intent,)


def _tried(items: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """The tools the turn called with an outcome (a success, or an error the user is told about), each with
    the words of the todos it was called for and those it touched."""
    calls = {i["call_id"]: i for i in items if i.get("type") == "function_call"}
    tried: dict[str, set[str]] = {}
    for item in items:
        if item.get("type") != "function_call_output" or (call := calls.get(item.get("call_id", ""))) is None:
            continue
        output = tool_output(item)
        error = output.get("error") if isinstance(output, dict) else None
        answered = error is None or (isinstance(error, dict) and error.get("code") in _ANSWERED_ERRORS)
        if isinstance(output, dict) and answered:
            arguments = tool_output({"output": call.get("arguments")})
            asked = references_in(arguments.get("todo", "")) if isinstance(arguments, dict) else []
            touched = [str(todo.get("title", "")) for todo in changed_todos([call, item])]
            words = tried.setdefault(str(call["name"]), set())
            words.update(*(key_words(text) for text in [*asked, *touched]))
    return tried


def _items_left(asked: Sequence[str], items: Sequence[Mapping[str, Any]]) -> list[str]:
    """Of several items the user asked to add, those no added todo holds the words of ("add eggs, bread and
    butter" answered with one todo "Eggs"). One item is never re-asked: a model's shorter title for it is
    its choice, and asking again would add it twice."""
    adding = {i["call_id"] for i in items if i.get("type") == "function_call" and i.get("name") == "add_todo"}
    added = [str(todo.get("title", "")) for todo in changed_todos([i for i in items if i.get("call_id") in adding])]
    if len(asked) < 2 or len(added) >= len(asked):
        return []
    held = set().union(*(key_words(title) for title in added))
    return [title for title in asked if not all(any(same_word(w, h) for h in held) for w in key_words(title))]


def _rest_of_bulk(completing: bool, items: Sequence[Mapping[str, Any]], snapshot: Snapshot) -> Review | None:
    """ "I've done all of them" with one todo ticked off: the others still open, named for the re-ask."""
    touched = {str(todo.get("id")) for todo in changed_todos(items)}
    rest = [
        title
        for todo_id, title in snapshot.titles.items()
        if todo_id not in touched and (todo_id in snapshot.completed) != completing
    ]
    if not rest:
        return None
    state = "done" if completing else "not done"
    return Review(
        "bulk_left",
        f"The user asked for all of their todos, and {quoted(rest)} are not marked {state} yet. Call "
        f"update_todo now with `todo` set to the list of them and completed {str(completing).lower()}.",
        "update_todo",
    )


def _reask(tool: str, what: str) -> Review:
    return Review(
        "left_undone",
        f"The user's message asks you to {what}, and no tool call in this turn did that. Call {tool} now; "
        "then answer in plain words, saying only what the tool results show.",
        tool,
    )
