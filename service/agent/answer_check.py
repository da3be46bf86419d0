"""The answer a model gives, checked against what the turn did, before a user reads it.

Small models and local servers err in ways a user must never meet: an answer claiming "I removed the
todo" when no tool call removed anything (the list silently disagrees), tool-call markup
(`<tool_call>{…}</tool_call>`) or an empty completion in place of an answer. `review` finds these
deterministically, from the answer and the turn's own tool calls and results; the turn then re-asks
the model once with a corrective note and, if the answer is still wrong, answers truthfully itself
(`service.agent.truthful`).

Claims are read sentence by sentence, with vocabulary as data (`CLAIMS`): a question, a negation or a
remark about earlier turns claims nothing.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.agent.markup import strip_markup
from service.matching import same_word
from service.references import key_words

MUTATING_TOOLS = {"add_todo", "update_todo", "delete_todo", "undo_last_turn"}
CONFIRM_LINE = "Shall I go ahead? Reply yes or no."
"""How the service's approval question ends (`approvals.question`)."""
# What each kind of claim needs: a successful call of one of these tools in the same turn. A vague
# "your list has been updated" is true after any change.
SUPPORTED_BY = {
    "add": {"add_todo", "undo_last_turn"},
    "delete": {"delete_todo", "undo_last_turn"},
    "change": {"update_todo", "undo_last_turn"},
    "undo": {"undo_last_turn", "add_todo", "update_todo"},
    "any": MUTATING_TOOLS,
}
# The one tool a re-ask may insist on for a claim of that kind alone. Only undo: a model claiming an undo
# was asked for one, while a made-up "added" may answer a greeting, where forcing add_todo would invent a todo.
FORCED_TOOL = {"undo": "undo_last_turn"}
# Verbs (past forms) that claim an action when the answer says it did them.
CLAIMS = {
    "add": ("added", "created", "put", "saved"),
    "delete": ("deleted", "removed", "erased", "cleared", "dropped", "got rid of"),
    "change": (
        "marked", "ticked", "checked off", "completed", "finished", "renamed", "moved", "rescheduled",
        "reopened", "unmarked",
    ),
    "undo": ("undone", "undid", "restored", "reverted", "put back", "brought back", "recovered"),
    "any": ("updated", "changed", "modified", "edited", "set"),
}  # fmt: skip
# States an answer says a todo is now in ("… is now done"): a claim of the action that put it there.
NOW_STATES = {
    "done": "change", "complete": "change", "completed": "change", "finished": "change", "open": "change",
    "checked off": "change", "ticked off": "change", "gone": "delete", "off your list": "delete",
    "off the list": "delete", "on your list": "add", "on the list": "add",
}  # fmt: skip
_STATES = "|".join(sorted(map(re.escape, NOW_STATES), key=len, reverse=True))
_VERB = {verb: kind for kind, verbs in CLAIMS.items() for verb in verbs}
_VERBS = "|".join(sorted(map(re.escape, _VERB), key=len, reverse=True))
# "I've added", "I have just removed", "has been marked", "was deleted", "is now renamed" - or a sentence
# that opens with the verb ("Added “Buy milk”.", "Done! Removed it").
_CLAIM_RE = re.compile(
    rf"\b(?:i|i've|i have|we|we've|we have)\s+(?:also\s+|just\s+|now\s+|successfully\s+|gone ahead and\s+)*"
    rf"(?P<first>{_VERBS})\b"
    rf"|\b(?:has|have|had)\s+(?:also\s+|now\s+|just\s+)?been\s+(?:successfully\s+)?(?P<passive>{_VERBS})\b"
    rf"|\b(?:is|are|was|were)\s+(?:now\s+|successfully\s+)?(?P<state>{_VERBS})\b(?=[^.!?]*\b(?:list|todo|done|complete|off)\b)"
    rf"|^(?:done[!.,:]?\s*|ok(?:ay)?[!.,:]?\s*|sure[!.,:]?\s*|great[!.,:]?\s*)?(?P<opening>{_VERBS})\b"
    rf"|\b(?:is|are)\s+now\s+(?:marked\s+(?:as\s+)?)?(?P<now>{_STATES})\b"
    r"|^(?:all\s+)?(?P<done>done|set)\s*(?:[!.:,]|$)",  # "Done: Order groceries", "All set!"
    re.IGNORECASE,
)
# "I'll add it", "Let's correct that": an action promised in the answer is one the turn should have made.
_PROMISE_RE = re.compile(
    r"\b(?:i'll|i will|let me|let's|let us|i'm going to|i am going to)\s+(?:now\s+|just\s+|go ahead and\s+)?"
    r"(?:add|put|create|delete|remove|mark|tick|check off|complete|update|change|rename|move|reschedule|correct|"
    r"fix|undo|restore|reopen|clear)\b",
    re.IGNORECASE,
)
# Once a sentence claims one action, "… and deleted Call mom" claims another.
_MORE_RE = re.compile(rf"(?:,|\band)\s+(?:then\s+|also\s+)?(?P<more>{_VERBS})\b", re.IGNORECASE)
_NEGATION_RE = re.compile(
    r"\b(?:not|never|no|nothing|cannot|can't|couldn't|didn't|haven't|hasn't|wasn't|weren't|won't|unable|"
    r"failed|without|if|would|could|should|shall|want|wish|like me to|let me know)\b|n't\b",
    re.IGNORECASE,
)
_EARLIER_RE = re.compile(r"\b(?:earlier|before|previously|last time|already|yesterday|ago)\b", re.IGNORECASE)
_SENTENCE_RE = re.compile(r"[^.!?\n]+[.!?]*")


@dataclass(frozen=True)
class Review:
    """What is wrong with an answer: `problem` is a code, `note` tells the model how to put it right, and
    `tool_choice` is what the re-ask's model call must do (`required`, a tool's name, or None: anything)."""

    problem: str
    note: str
    tool_choice: str | None = None
    reask: bool = True
    """False: the model is not asked again; the user gets what the turn really did (`service.agent.truthful`)."""


def claimed(answer: str) -> set[str]:
    """The kinds of action (`add`, `delete`, `change`) the answer says were done in this turn."""
    kinds: set[str] = set()
    for sentence in _SENTENCE_RE.findall(answer):
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?") or _EARLIER_RE.search(sentence):
            continue
        for match in _CLAIM_RE.finditer(sentence):
            if _NEGATION_RE.search(sentence[: match.start()] + match.group(0)):
                continue
            if match["now"]:
                kinds.add(NOW_STATES[match["now"].lower()])
                continue
            if match["done"]:
                kinds.add("any")
                continue
            verb = next(v for v in match.groups() if v)
            kinds.add(_VERB[verb.lower()])
            for more in _MORE_RE.finditer(sentence, match.end()):
                if not _NEGATION_RE.search(sentence[match.end() : more.end()]):
                    kinds.add(_VERB[more["more"].lower()])
    # "Done! Removed it.": the vague claim says no more than the precise one beside it.
    return kinds - {"any"} if len(kinds) > 1 else kinds


def untouched(request: str, known: Mapping[str, str] | None, touched: Sequence[Mapping[str, Any]]) -> list[str]:
    """The user's todos (`known`: title by id) the request names that the turn's changes (`touched`) left
    alone: "got the milk and the bread" with only "Buy milk" marked leaves "Buy bread". A todo is named by a
    word of its title that no other title has, and that is no word of a todo the turn touched, before or
    after ("add eggs" beside "Buy eggs" names the new "Eggs"; "rename milk to bread" is about one todo)."""
    if not known:
        return []
    done = {str(todo.get("id")) for todo in touched}
    touched_titles = [str(todo.get("title", "")) for todo in touched] + [known[i] for i in done if i in known]
    touched_words = set().union(*(key_words(title) for title in touched_titles))
    heard = [w for w in key_words(request) if not any(same_word(w, t) for t in touched_words)]
    words = {todo_id: key_words(title) for todo_id, title in known.items()}
    left = []
    for todo_id, own in words.items():
        others = set().union(*(other for other_id, other in words.items() if other_id != todo_id))
        distinct = [w for w in own if not any(same_word(w, o) for o in others)]
        if todo_id not in done and any(same_word(w, h) for w in distinct for h in heard):
            left.append(known[todo_id])
    return left


def promised(answer: str) -> bool:
    """The answer says it will make a change ("Let's correct that.") rather than asking whether to."""
    return any(
        _PROMISE_RE.search(sentence) and not sentence.strip().endswith("?") for sentence in _SENTENCE_RE.findall(answer)
    )


def succeeded(items: Iterable[Mapping[str, Any]]) -> set[str]:
    """The names of the tools whose calls in `items` succeeded (their output carries no error)."""
    names = {i["call_id"]: i["name"] for i in items if i.get("type") == "function_call"}
    done: set[str] = set()
    for item in items:
        if item.get("type") != "function_call_output":
            continue
        parsed = tool_output(item)
        if isinstance(parsed, dict) and "error" not in parsed and item.get("call_id") in names:
            done.add(names[item["call_id"]])
    return done


def changed_todos(items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The todos (as the tools return them: id, title…) the turn's successful calls added, changed, deleted
    or restored."""
    names = {i["call_id"]: i["name"] for i in items if i.get("type") == "function_call"}
    todos: list[Mapping[str, Any]] = []
    for item in items:
        tool = names.get(item.get("call_id", "")) if item.get("type") == "function_call_output" else None
        output = tool_output(item) if tool in MUTATING_TOOLS else None
        if isinstance(output, dict) and "error" not in output:
            for key in ("todo", "todos", "deleted", "undone"):  # one todo, or a list of them
                value = output.get(key)
                todos += [t for t in (value if isinstance(value, list) else [value]) if isinstance(t, dict)]
    return todos


def listed_titles(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """The titles the turn's last successful `list_todos` returned (the user sees none of them unless told)."""
    names = {i["call_id"]: i["name"] for i in items if i.get("type") == "function_call"}
    titles: list[str] = []
    for item in items:
        if item.get("type") != "function_call_output" or names.get(item.get("call_id", "")) != "list_todos":
            continue
        output = tool_output(item)
        if isinstance(output, dict) and isinstance(output.get("todos"), list):
            titles = [str(t.get("title")) for t in output["todos"] if isinstance(t, dict) and t.get("title")]
    return titles


def candidates_offered(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """The titles the turn's `ambiguous` tool errors offered for the user to choose from."""
    titles: list[str] = []
    for item in items:
        output = tool_output(item) if item.get("type") == "function_call_output" else None
        error = output.get("error") if isinstance(output, dict) else None
        if isinstance(error, dict) and error.get("code") == "ambiguous":
            titles += [str(c["title"]) for c in error.get("candidates") or [] if isinstance(c, dict) and c.get("title")]
    return titles


def tool_output(item: Mapping[str, Any]) -> Any:
    raw = item.get("output")
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None


# A small model's reflex refusal ("I'm sorry, but I can't assist with that."). Requests about other users'
# data or the instructions never reach the model (the `user_scope` guardrail answers them), so a refusal of
# a request that got through, with no tool call that succeeded, is the model's error (after a `not_found`
# the user needs the closest titles, not "I can't help").
_REFUSAL_RE = re.compile(
    r"\b(?:sorry|unfortunately|apologi[sz]e)\b[^.!?]*\b(?:can(?:no|')?t|cannot|unable to|not able to)\s+"
    r"(?:assist|help|comply|do that|fulfil|process|provide|bring (?:it |that |them )?back|undo|restore)",
    re.IGNORECASE,
)


def review(
    answer: str,
    items: Sequence[Mapping[str, Any]],
    tools: Mapping[str, str] | None = None,
    request: str | None = None,
    instructions: str = "",
    known: Mapping[str, str] | None = None,
) -> Review | None:
    """None when the answer may stand; else what is wrong with it. `items`: the turn's new items;
    `tools`: the model's tools, description by name; `request`: the user's message; `instructions`: the
    agent's own, which a small model sometimes says back instead of answering; `known`: the user's
    todos as the turn began (its snapshot), title by id."""
    if not answer.strip():
        return Review("empty", "Your reply was empty. Answer the user in plain words, or call a tool.")
    if CONFIRM_LINE in answer:
        # The service's own approval question, imitated from the history: nothing waits for the user's yes.
        return Review(
            "imitated_question",
            "Nothing is waiting for the user's yes: only deleting several todos does, and the service asks that "
            "itself. Do what the user asked with your tools now, then answer in plain words.",
            "required",
        )
    if instructions and recites(answer, instructions):
        return Review(
            "recited",
            "Your reply repeated your instructions. Do what the user asked with your tools, or answer them "
            "in plain words.",
        )
    if (placeholder := _PLACEHOLDER_RE.search(answer)) and placeholder[0] not in (request or ""):
        # "Your name is [Your Name]": the model had no fact and wrote the slot for one; a tool has it.
        return Review(
            "placeholder",
            f"Your reply had a placeholder ({placeholder[0]}) where a fact belongs. Call the tool that has "
            "it (get_user_context: the user's name, timezone and today's date), then answer with it.",
            "required",
        )
    # A greeting answered in kind ("hi" - "Hi!") is an answer; a request of a few words said back is not.
    if request and len(_words(request)) >= _PARROT_WORDS and _words(answer) == _words(request):
        return Review(
            "parroted",
            "Your reply only repeated the user's message. Do what it asks with your tools, or answer it.",
        )
    done = succeeded(items)
    if recited := [name for name, about in (tools or {}).items() if name not in done and recites(answer, about)]:
        # "I hold your display name, timezone and preferences…": what the tool does, said instead of calling it.
        return Review(
            "recited_tool",
            f"Your reply described the {recited[0]} tool instead of using it. Call {recited[0]} now, then answer "
            "the user from its result in plain words.",
            recited[0],
        )
    tools = tools or {}
    if (named := answer.strip().strip("`'\".:").strip()) in tools:
        # The whole reply is a tool's name: the model meant to call it and wrote it out instead.
        return Review("unmade_call", f"Make the {named} call now instead of writing its name.", named)
    if strip_markup(answer) != answer.strip():
        return Review(
            "markup",
            "Your reply contained tool-call markup instead of an answer. To use a tool, make a real tool "
            "call; then answer the user in plain words, without markup.",
        )
    if mentioned := sorted(tool for tool in tools if re.search(rf"\b{re.escape(tool)}\b", answer)):
        # "You can call `list_todos` to see them": a user has no tools; the model has, and should use them.
        return Review(
            "tool_named",
            "The user cannot call tools; only you can. Make the call yourself now, then answer in plain words "
            "without naming any tool.",
            mentioned[0] if len(mentioned) == 1 else "required",
        )
    if _REFUSAL_RE.search(answer) and not succeeded(items) & MUTATING_TOOLS:
        return Review(
            "refusal",
            "This request is about the user's own todo list, which your tools may read and change. Do "
            "what the user asked with your tools, or ask them what they mean. If a tool answered an error, "
            "tell the user what it says and name the titles it offers.",
        )
    if promised(answer) and not succeeded(items) & MUTATING_TOOLS:
        return Review(
            "promised",
            "You said you would make a change but made no tool call. If the user asked for a change, make "
            "the call now; otherwise answer in one short sentence.",
            "required",
        )
    shown = listed_titles(items)
    if shown and not any(title.casefold() in answer.casefold() for title in shown):
        return Review(
            "unlisted",
            "The user cannot see tool results. Answer again and write out the titles that list_todos "
            "returned, one per line.",
        )
    offered = candidates_offered(items)
    if offered and not all(title.casefold() in answer.casefold() for title in offered):
        # "Which one did you mean?" (or 'I meant "Call mom".') leaves out todos the tool found: the user
        # cannot choose among them. The truthful answer asks with every candidate.
        return Review("candidates_unnamed", "", reask=False)
    done = succeeded(list(items))
    unsupported = sorted(kind for kind in claimed(answer) if not SUPPORTED_BY[kind] & done)
    if not unsupported:
        changed = changed_todos(items)
        touched = [str(todo["title"]) for todo in changed if todo.get("title")]
        if touched and request and (left := untouched(request, known, changed)):
            named = ", ".join(f'"{title}"' for title in left)
            return Review(
                "untouched",
                f"The user's message also names {named}, which no tool call in this turn changed. If the user "
                "asked for a change to it, make that call now; if not, answer in one short sentence.",
                # A small model answered in words again every time it was left the choice (9 of 9 re-asks recorded).
                "required",
            )
        heard = key_words(answer)
        if touched and (
            not any(title.casefold() in answer.casefold() for title in touched)
            or not all(any(same_word(w, h) for w in key_words(title) for h in heard) for title in touched)
        ):
            # The list changed and the answer names none of it ("The plants need water."), or leaves out a todo
            # it changed ("The piano lesson has been deleted." when the invoice was marked paid too): the user is
            # told what changed in the turn's own words, since a model that missed it once rarely finds it again.
            return Review("unnamed", "", reask=False)
        return None
    forced = FORCED_TOOL.get(unsupported[0]) if len(unsupported) == 1 else None
    return Review(
        "unsupported_claim",
        f"Correction: no tool call in this turn {' or '.join(_PAST[k] for k in unsupported)} a todo. "
        + " ".join(_HOW[k] for k in unsupported)
        + " If the user did not ask for that, answer in one short sentence that says only what the tool "
        "results show.",
        forced or "required",
    )


# What to call for each kind of claim: named, since a small model follows a named tool far more often.
_HOW = {
    "add": "If the user asked to add something, call add_todo now (`titles` for several items).",
    "delete": "If the user asked to delete a todo, call delete_todo now with `todo` set to its title or number.",
    "change": "If the user asked to change or complete a todo, call update_todo now with `todo` set to its "
    "title or number.",
    "undo": "If the user asked to undo, call undo_last_turn now.",
    "any": "If the user asked for a change, make the tool call for it now.",
}
_PAST = {"add": "added", "delete": "deleted", "change": "changed", "undo": "undid", "any": "changed"}
_ECHO_WORDS = 5
_PARROT_WORDS = 4


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


# A slot a template would fill ("[Your Name]", "[Today's Date]"): never an answer.
_PLACEHOLDER_RE = re.compile(
    r"\[(?:your|the user'?s?|user'?s?|today'?s|current|insert|name|date|timezone)\b[^\]\n]{0,40}\]", re.IGNORECASE
)
_PARENTHESISED_RE = re.compile(r"\([^()]*\)")


def _runs(words: Sequence[str]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(words[i : i + _ECHO_WORDS]) for i in range(len(words) - _ECHO_WORDS + 1))


def _covered(said: Sequence[str], runs: frozenset[tuple[str, ...]]) -> set[int]:
    """The positions of `said` inside a run of `runs`."""
    covered: set[int] = set()
    for i in range(len(said) - _ECHO_WORDS + 1):
        if tuple(said[i : i + _ECHO_WORDS]) in runs:
            covered.update(range(i, i + _ECHO_WORDS))
    return covered


@functools.lru_cache(maxsize=16)
def _instruction_runs(instructions: str) -> frozenset[tuple[str, ...]]:
    # The same few instructions every turn: their runs are made once, not with each answer checked.
    return _runs(_words(_PARENTHESISED_RE.sub(" ", instructions)))


def recites(answer: str, instructions: str) -> bool:
    """Most of the answer is runs of the instructions' words. Parenthesised text is left out of them: it
    holds examples and the list of what the assistant can do, which an answer may say."""
    said = _words(answer)
    return len(said) >= _ECHO_WORDS and len(_covered(said, _instruction_runs(instructions))) * 2 >= len(said)


def echoes(answer: str, note: str) -> bool:
    """The answer repeats a run of the corrective note: a small model parroting it is no answer either."""
    return bool(_covered(answer.casefold().split(), _runs(note.casefold().split())))
