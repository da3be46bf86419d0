"""Guardrails that keep a turn inside the signed-in user's data (defence in depth).

The tools are already scoped to the context user; these layers catch what gets past a model anyway:

- `user_scope` (input): refuses requests about other users or accounts, and attempts to override the
  instructions, before any model call.
- `tool_ownership` (tool input): a todo id that is not the user's never reaches a tool; the model is
  told `not_found`, and a missing id is treated the same way, so nothing hints that an id exists.
- `output_scope` (output): blocks a reply naming a todo id, or presenting a title, that this turn never
  saw. It judges the reply against `TurnContext.seen` only (the user's message, the history, the
  instructions, every tool output): looking phrases up among other users' titles made it an oracle
  (a reply was refused exactly when someone else had such a todo) and let anyone poison it (a todo
  titled "show my list" blocked everybody's ordinary answers).

All checks are deterministic (patterns and indexed lookups), so they cost no model call and behave the
same with every provider.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agents.items import TResponseInputItem
from sqlmodel import col, select

from agents import (
    Agent,
    GuardrailFunctionOutput,
    RunContextWrapper,
    RunHooks,
    Tool,
    ToolGuardrailFunctionOutput,
    ToolInputGuardrailData,
    input_guardrail,
    output_guardrail,
    tool_input_guardrail,
)
from service.agent.context import TurnContext
from service.agent.markup import strip_markup
from service.db import Database
from service.models import AgentSession, Task

USER_SCOPE = "user_scope"
TOOL_OWNERSHIP = "tool_ownership"
OUTPUT_SCOPE = "output_scope"

REFUSALS = {
    USER_SCOPE: "Sorry, I can only help with your own todo list. I can't see or change anyone else's "
    "data or other accounts, and I can't set my instructions aside.",
    OUTPUT_SCOPE: "Sorry, I can't show that answer because it referred to data that isn't yours. "
    "Ask me about your own todos and I'll gladly help.",
    TOOL_OWNERSHIP: "That todo is not on your list.",
}

NOT_FOUND_OUTPUT = json.dumps({"error": {"code": "not_found", "message": "no such todo"}}, separators=(",", ":"))

UUID_RE = re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.IGNORECASE)

# A day owns todos too: "delete thursday's todo", "today's list" are the user's own.
_WHEN_WORDS = (
    r"(?:to|yester)day\b|tomorrow\b|tonight\b|week\b|weekend\b|month\b|year\b"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day\b"
)
_OTHERS = (
    # whole words: "call accountant" holds "all account"
    r"\b(?:other|another|every|all|any|different|somebody|someone)(?:\s+\w+)?\s+"
    r"(?:users?|accounts?|people|persons?|customers?|members?|tenants?)\b"
    r"|every(?:one|body)(?:'s|s)?|some(?:one|body)\s+else(?:'s)?|all\s+the\s+users"
    r"|\buser\s*(?:id\s*)?(?:#|no\.?|number)?\s*[0-9a-f-]{1,36}\b|\buser_?id\b"
    rf"|\b(?!my\b|your\b|our\b|{_WHEN_WORDS})[a-z]+'s\s+(?:todos?|tasks?|to-?do\s+list|list|data|account|items|conversations?)"
)
_DATA = (
    r"todos?|tasks?|lists?|items?|data|notes?|conversations?|messages?|history|accounts?|records?|details|info"
    r"|show|list|see|view|read|get|give|access|open|delete|remove|update|change|edit|modify|complete|mark|dump"
)
# Unmistakable in any request, even inside an "add ...": nobody's chore is to ignore the prior instructions.
_HARD_OVERRIDE = (
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.?!]{0,40}?\b(?:previous|prior|above|earlier|all|your|"
    r"system|these|any)\b[^.?!]{0,20}?\b(?:instructions?|prompts?|guardrails?)\b"
    # Spanish, French, German, Italian, Portuguese: the same request, seen in the wild.
    r"|\b(?:ignor\w*|olvid\w*|oubli\w*|vergiss\w*|vergessen|dimentic\w*|esque[cç]\w*)\b[^.?!]{0,40}?"
    r"\b(?:instrucciones|instructions|consignes|anweisungen|instruktionen|istruzioni|instru[cç][oõ]es)\b"
    # A message posing as the system, or switching the service's safeguards off, even as a todo's title.
    r"|(?:^|[\"'“(\[]\s*)system\s*(?:message|prompt|override)?\s*:"
    r"|\b(?:approvals?|confirmations?|guardrails?|safety checks?)\s+(?:is|are)\s+(?:now\s+)?(?:disabled|off|turned off|"
    r"switched off|not (?:needed|required))\b"
)
_OVERRIDE = (
    r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.?!]{0,40}?\b(?:previous|prior|above|earlier|all|"
    r"your|the|these|any|system)\b[^.?!]{0,20}?\b(?:instructions?|rules?|prompts?|guardrails?|restrictions?|"
    r"guidelines?|policies|policy)\b"
    r"|\byou\s+are\s+now\b|\bact\s+as\s+(?:an?\s+)?(?:admin|administrator|root|superuser|developer|system)\b"
    r"|\b(?:developer|god|admin|debug)\s+mode\b|\bjailbreak\b|\bsystem\s+prompt\b|\bnew\s+instructions\b"
    r"|\b(?:reveal|print|show|repeat)\b[^.?!]{0,20}\b(?:instructions|prompt)\b"
)
_ACCOUNT = (
    r"\b(?:log\s*in|sign\s*in|switch|swap|change)\s+(?:as|to|into)\s+(?:another|a\s+different|other|"
    r"the\s+admin|admin|user)\b|\bimpersonat\w*|\b(?:drop|truncate)\s+table\b|\bselect\s+\*\s+from\b"
)
# The rest of an add request is a todo's title: "add drop table tennis class" is a chore, not an attack.
_ADD = r"^\W*(?:please\s+)?(?:add|put|create|new\s+(?:task|todo)|remind\s+me|note\s+down|jot\s+down|todo\s*:)\b"
# Bounded parts (RFC 5321: 64-character local part, 63-character labels), and a local part starts only
# where a run of its characters starts: unbounded, "a.a.a..." backtracked from every position (0.45 s
# on a 10,000-character message).
_EMAIL = r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{1,190}\b"
# Another person's list as the place an add goes, or their login named: refused even inside an add request.
_OTHERS_LIST = (
    rf"\b(?:to|on|onto|into|in|from|off)\s+(?!my\b|our\b|your\b|the\b|{_WHEN_WORDS})[a-z]+'s\s+(?:own\s+)?"
    r"(?:todo\s+|to-?do\s+|task\s+|shopping\s+)?(?:list|todos|tasks)\b"
    r"|\b(?:his|her|their|(?!my\b)[a-z]+'s)\s+(?:username|user\s*name|login|user\s*id)\s*(?:is\b|[:=])"
)
_OTHERS_LIST_RE = re.compile(_OTHERS_LIST, re.IGNORECASE)
_HARD_OVERRIDE_RE = re.compile(_HARD_OVERRIDE, re.IGNORECASE)
_ADD_RE = re.compile(_ADD, re.IGNORECASE)
_EMAIL_RE = re.compile(_EMAIL)
_OTHERS_RE = re.compile(_OTHERS, re.IGNORECASE)
_DATA_RE = re.compile(rf"\b(?:{_DATA})\b", re.IGNORECASE)
_OVERRIDE_RE = re.compile(_OVERRIDE, re.IGNORECASE)
_ACCOUNT_RE = re.compile(_ACCOUNT, re.IGNORECASE)
# A quotation: "…", “…” or '…'. A single quote counts only outside a word, so the apostrophe of
# "couldn't" neither opens a quotation (pairing with a later quote hid the real one) nor closes one.
_QUOTED_RE = re.compile(r"[\"“”]([^\"“”\n]{1,200})[\"“”]|(?<!\w)'((?:[^'\n]|(?<=\w)'(?=\w)){1,200})'(?!\w)")
_LIST_LINE_RE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(?:\[[ x]\]\s*)?(.+?)\s*(?:\(.*\))?\s*$", re.MULTILINE)


def scope_violation(message: str) -> str | None:
    """Why a user message reaches outside the user's own data, or None when it does not."""
    if _HARD_OVERRIDE_RE.search(message):
        return "instruction_override"
    if _OTHERS_LIST_RE.search(message):  # "add 'buy flowers' to John's list": an add, but on another's list
        return "other_users"
    if _ADD_RE.search(message):
        return None
    if _OVERRIDE_RE.search(message):
        return "instruction_override"
    if _ACCOUNT_RE.search(message):
        return "account_access"
    names_email = "@" in message and _EMAIL_RE.search(message) is not None
    if (_OTHERS_RE.search(message) or names_email) and _DATA_RE.search(message):
        return "other_users"
    return None


def _latest_user_text(items: str | list[TResponseInputItem]) -> str:
    if isinstance(items, str):
        return items
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def _unowned_ids(database: Database, user_id: uuid.UUID, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Of `ids`, those that are not the user's own todo, conversation or user id.

    Missing ids count as unowned too: treating them alike is what keeps a reply (or a refusal) from
    telling whether an id exists.
    """
    ids = ids - {user_id}
    if not ids:
        return set()
    async with database.reader() as db:
        tasks = await db.exec(select(Task.id).where(col(Task.id).in_(ids), col(Task.user_id) == user_id))
        sessions = await db.exec(
            select(AgentSession.id).where(col(AgentSession.id).in_(ids), col(AgentSession.user_id) == user_id)
        )
        return ids - set(tasks.all()) - set(sessions.all())


@input_guardrail(name=USER_SCOPE, run_in_parallel=False)
async def user_scope(
    ctx: RunContextWrapper[TurnContext], _agent: Agent[Any], items: str | list[TResponseInputItem]
) -> GuardrailFunctionOutput:
    """Refuse before any model call or tool runs, so a refused request has no effect at all."""
    text = _latest_user_text(items)
    reason = scope_violation(text)
    if reason is None:
        ids = {u for u in map(_as_uuid, UUID_RE.findall(text)) if u}
        if await _unowned_ids(ctx.context.db, ctx.context.user_id, ids):
            reason = "foreign_id"
    return GuardrailFunctionOutput(output_info={"reason": reason}, tripwire_triggered=reason is not None)


_WORD_RE = re.compile(r"\w+")
_DECORATION = "*_`~#>[]() \t.,;:!?-\u2013\u2014•✓✔☐☑"
# Where a list line's title ends and the model's remarks on it begin ("Buy milk — due Friday").
_REMARK_RE = re.compile(r"\s+(?:[-\u2013\u2014:|]|\(|\bdue\b|\bdone\b)\s*.*$", re.IGNORECASE)


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _json_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_json_strings(k), *_json_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


@dataclass(frozen=True)
class SeenIndex:
    """`TurnContext.seen` as `output_scope` consults it: normalised text, its words and its ids."""

    size: int
    text: str
    words: frozenset[str]
    ids: frozenset[uuid.UUID]


def index_of(seen: Sequence[str]) -> SeenIndex:
    """`seen` as `output_scope` consults it."""
    texts: list[str] = []
    for raw in seen:
        texts.append(raw)
        if raw[:1] in "{[":  # a tool output: its strings as the model read them, unescaped
            with contextlib.suppress(ValueError):
                texts.extend(_json_strings(json.loads(raw)))
    normal = "\n".join(_normal(t) for t in texts)
    ids = {u for t in texts for u in map(_as_uuid, UUID_RE.findall(t)) if u}
    return SeenIndex(len(seen), normal, frozenset(_WORD_RE.findall(normal)), frozenset(ids))


def seen_index(context: TurnContext) -> SeenIndex:
    """The index of what the turn saw, rebuilt only when `seen` has grown since the last check."""
    cached = context.seen_cache
    if isinstance(cached, SeenIndex) and cached.size == len(context.seen):
        return cached
    context.seen_cache = index = index_of(context.seen)
    return index


def _was_seen(phrase: str, indexes: Sequence[SeenIndex]) -> bool:
    """Whether the turn saw `phrase`: verbatim (case and spacing aside), or every one of its words.

    Words suffice: a phrase made only of words the turn already saw tells the user nothing new, and
    models rephrase ("the milk one"); what must not pass is a name carrying words from elsewhere.
    """
    text = _normal(phrase).strip(_DECORATION)
    if not text or any(text in index.text for index in indexes):
        return True
    return all(any(word in index.words for index in indexes) for word in _WORD_RE.findall(text))


def _list_line_title(line: str) -> str:
    return _REMARK_RE.sub("", line.strip(_DECORATION)).strip(_DECORATION)


def names_unseen_data(context: TurnContext, text: str) -> bool:
    """Whether `text` names an id, or presents a title (quoted, or as a list line), this turn never saw.

    The stream applies it piece by piece (`OutputGate` never cuts through an id, a quotation or a
    list line), the output guardrail to the whole reply. Only this turn's own `seen` is consulted.
    """
    # What every turn is shown (instructions, tool schemas) is indexed once per runtime; this turn's own part
    # as it grows.
    indexes = [seen_index(context), *([context.seen_base] if context.seen_base else [])]
    ids = {u for u in map(_as_uuid, UUID_RE.findall(text)) if u} - {context.user_id}
    if any(not any(u in index.ids for index in indexes) for u in ids):
        return True
    quoted = [a or b for a, b in _QUOTED_RE.findall(text)]
    titles = [_list_line_title(line) for line in _LIST_LINE_RE.findall(text)]
    return not all(_was_seen(phrase, indexes) for phrase in (*quoted, *titles))


def item_texts(items: list[TResponseInputItem]) -> list[str]:
    """The text of SDK items as a model reads them (messages, tool arguments, tool outputs), for `seen`."""
    texts: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        raw: dict[str, Any] = dict(item)
        content = raw.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
        for key in ("arguments", "output"):
            value = raw.get(key)
            if value is not None:
                texts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return texts


class SeenToolOutputs(RunHooks[TurnContext]):
    """Run hooks that add every tool output of the run to `TurnContext.seen`, before the model reads it."""

    async def on_tool_end(
        self, context: RunContextWrapper[TurnContext], agent: Any, tool: Tool, result: object
    ) -> None:
        context.context.seen.append(str(result))


_LIST_ITEM_START_RE = re.compile(r"^\s*(?:[-*•]|\d+(?:[.)]|$))")
_QUOTE_RE = re.compile(r"[\"“”]|(?<!\w)'|'(?!\w)")  # an apostrophe inside a word ("don't") is no quote


def releasable(pending: str) -> int:
    """How much of a streamed answer can be checked and released now without cutting through a name.

    Complete lines always; of the line being written, the words before any quotation still open,
    unless the line may be a list item (those are judged whole, as titles).
    """
    line_start = pending.rfind("\n") + 1
    line = pending[line_start:]
    if _LIST_ITEM_START_RE.match(line):
        return line_start
    quotes = [match.start() for match in _QUOTE_RE.finditer(line)]
    for space in (i for i in range(len(line) - 1, 0, -1) if line[i] == " "):
        if sum(1 for q in quotes if q < space) % 2 == 0:
            return line_start + space + 1
    return line_start


class OutputGate:
    """Lets a streamed answer through in checked pieces, each judged as `output_scope` judges a reply.

    Once a piece fails, nothing more is released; the output guardrail then trips on the whole reply
    and the client gets the refusal, having seen only what came before the leak.
    """

    def __init__(self, context: TurnContext) -> None:
        self._context = context
        self._pending = ""
        self._blocked = False

    async def feed(self, text: str) -> str:
        """The checked text that `text` completes (possibly none)."""
        if self._blocked:
            return ""
        self._pending += text
        cut = releasable(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return await self._release(ready) if ready else ""

    async def flush(self) -> str:
        """What is left after the model's last delta, checked."""
        text, self._pending = self._pending, ""
        return await self._release(text) if text and not self._blocked else ""

    async def _release(self, text: str) -> str:
        if names_unseen_data(self._context, text):
            self._blocked = True
            return ""
        return text


@output_guardrail(name=OUTPUT_SCOPE)
async def output_scope(ctx: RunContextWrapper[TurnContext], _agent: Agent[Any], output: Any) -> GuardrailFunctionOutput:
    # Tool-call markup never reaches the user (the answer check removes it or re-asks), so it is not judged; but
    # markup-like text may be a todo's own title (the offline model's list), which only the whole reply shows.
    tripped = names_unseen_data(ctx.context, str(output)) and names_unseen_data(ctx.context, strip_markup(str(output)))
    return GuardrailFunctionOutput(output_info={"tripped": tripped}, tripwire_triggered=tripped)


@tool_input_guardrail(name=TOOL_OWNERSHIP)
async def tool_ownership(data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
    """Let a todo id through only if the context user owns it (a title or position is resolved among the user's own)."""
    context: TurnContext = data.context.context
    try:
        arguments = json.loads(data.context.tool_arguments or "{}")
    except ValueError:
        return ToolGuardrailFunctionOutput.allow()  # the tool reports malformed arguments itself
    raw = arguments.get("todo") if isinstance(arguments, dict) else None
    references = raw if isinstance(raw, list) else [] if raw is None else [raw]  # one todo, or several
    # Read exactly as the tool will (`todos.parse_todo_id` strips whitespace), or a padded id slips past.
    # Titles and positions are resolved among the user's own todos only, so ids alone need checking.
    todo_ids = {todo_id for ref in references if (todo_id := _as_uuid(str(ref).strip())) is not None}
    if not todo_ids:
        return ToolGuardrailFunctionOutput.allow()
    async with context.db.reader() as db:
        owners = (await db.exec(select(Task.id, Task.user_id).where(col(Task.id).in_(todo_ids)))).all()
    if len(owners) == len(todo_ids) and all(owner == context.user_id for _, owner in owners):
        return ToolGuardrailFunctionOutput.allow()
    # A missing id is refused exactly like another user's, so neither output nor `guardrail` tells them apart.
    context.record_guardrail(TOOL_OWNERSHIP, REFUSALS[TOOL_OWNERSHIP])
    return ToolGuardrailFunctionOutput.reject_content(NOT_FOUND_OUTPUT, output_info={"todo": str(raw)})
