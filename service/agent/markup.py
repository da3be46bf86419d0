"""Tool-call markup in an answer: what a chat template or a local server lets through as text, which a user
must never read. One set of rules (`strip_markup`), for the whole answer and for the streamed one alike.
"""

from __future__ import annotations

import json
import re

_MARKUP_RES = (
    re.compile(r"<(tool_call|tool_response|function_call|tools)>.*?(?:</\1>|$)", re.IGNORECASE | re.DOTALL),
    re.compile(r"</?(?:tool_call|tool_response|function_call|tools)>", re.IGNORECASE),
    re.compile(r"<\|[a-z_]+\|>"),
    # Other templates' function tags: `<function name="add_todo" arguments='{…}'/>`, `<function=…>…</function>`.
    re.compile(r"<function(?:=[\w\-]+>.*?(?:</function>|$)|\s+name=[^>]*>(?:\s*</function>)?)", re.DOTALL),
)
_TOOL_JSON_KEYS = {"name", "arguments", "parameters", "todo", "todos", "deleted", "undone", "error", "pagination"}
_EMPTY_FENCE_RE = re.compile(r"```[a-z_]*\s*```")
_MARKUP_CHARS = set("<{`")  # every rule above needs one of these
# How long a stream holds back text that may still become markup: after a `<` with no `>` yet (a tag being
# written), and after an unclosed `{` or code fence (a call or tool output written out as JSON, which takes
# its fence with it). Past these, it is prose.
_TAG_WAIT = 200
_JSON_WAIT = 4000


def strip_markup(text: str) -> str:
    """The answer without tool-call markup: tags and their contents, template tokens, and any call or tool
    output written out as JSON (fenced or not) - a user never needs raw JSON from a todo assistant."""
    if not _MARKUP_CHARS & set(text):  # most answers: no rule can apply (a stream cleans each delta's text so far)
        return text.strip()
    for pattern in _MARKUP_RES:
        text = pattern.sub("", text)
    text = _EMPTY_FENCE_RE.sub("", _without_tool_json(text))
    return text.strip()


def _without_tool_json(text: str) -> str:
    """`text` with every JSON object that reads as a tool call or a tool's output cut out."""
    decoder = json.JSONDecoder()
    kept: list[str] = []
    position = 0
    while (start := text.find("{", position)) >= 0:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            kept.append(text[position : start + 1])
            position = start + 1
            continue
        kept.append(text[position:start])
        if not (isinstance(value, dict) and value.keys() & _TOOL_JSON_KEYS):
            kept.append(text[start:end])
        position = end
    kept.append(text[position:])
    return "".join(kept)


class MarkupFilter:
    """`strip_markup` for a streamed answer. The text so far is cleaned as a whole, by the same rules as the
    stored answer; what may still turn out to be markup (an open tag, a JSON object not yet closed) waits
    for the next delta, and `flush` releases the rest. Not `active` for the offline model's answers: they are
    ours, and markup-like text in them is a todo's title, which the stored answer keeps too."""

    def __init__(self, active: bool = True) -> None:
        self._active = active
        self._raw = ""
        self._sent = ""
        self._scanned = 0  # how far `_raw` was read for braces
        self._depth = 0
        self._opened = -1  # where the outermost unclosed `{` is, or -1

    def feed(self, text: str) -> str:
        if not self._active:
            return text
        self._raw += text
        return self._release(self._raw[: self._undecided_from()])

    def flush(self) -> str:
        return self._release(self._raw) if self._active else ""

    def _undecided_from(self) -> int:
        """Where the text may still become markup; everything before it is settled."""
        for index in range(self._scanned, len(self._raw)):  # braces inside strings only delay the release
            char = self._raw[index]
            if char == "{":
                self._opened = index if self._depth == 0 else self._opened
                self._depth += 1
            elif char == "}" and self._depth:
                self._depth -= 1
        self._scanned = len(self._raw)
        cut = len(self._raw)
        if self._depth and len(self._raw) - self._opened <= _JSON_WAIT:
            cut = self._opened
        fence = self._raw.rfind("```")
        if self._raw.count("```") % 2 and len(self._raw) - fence <= _JSON_WAIT:
            cut = min(cut, fence)
        if 0 < len(self._raw) - len(backticks := self._raw.rstrip("`")) < 3:  # maybe a fence being written
            cut = min(cut, len(backticks))
        tag = self._raw.rfind("<")
        if tag >= 0 and ">" not in self._raw[tag:] and len(self._raw) - tag <= _TAG_WAIT:
            cut = min(cut, tag)
        return cut

    def _release(self, settled: str) -> str:
        clean = strip_markup(settled)
        if not clean.startswith(self._sent):
            # Cleaning the longer text changed what was already sent (rare: a fence closed around sent
            # text). Nothing more is streamed; the turn's `done` event carries the whole answer.
            return ""
        released, self._sent = clean[len(self._sent) :], clean
        return released
