"""Finished spans as a tree: for exact-shape assertions in tests and for the example in docs/observability.md."""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

# What the rendered example shows of each span; the tests read attributes directly.
SHOWN = (
    "http.route",
    "http.response.status_code",
    "gen_ai.provider.name",
    "gen_ai.conversation.id",
    "gen_ai.tool.call.id",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.response.finish_reasons",
    "enduser.id",
    "todo.using_stub",
    "todo.fallback_reason",
    "error.type",
)


def is_db(span: ReadableSpan) -> bool:
    return "db.system.name" in (span.attributes or {})


def children(spans: Sequence[ReadableSpan]) -> dict[int | None, list[ReadableSpan]]:
    """Spans by parent span id (None for roots), each list in start order."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        by_parent.setdefault(span.parent.span_id if span.parent else None, []).append(span)
    return by_parent


def shape(spans: Sequence[ReadableSpan], *, db: bool = False) -> list[str]:
    """`name (KIND)` a line, indented by depth; database spans left out unless `db`."""
    by_parent = children(spans)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in by_parent.get(parent, []):
            if db or not is_db(span):
                lines.append(f"{'  ' * depth}{span.name} ({span.kind.name})")
                walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return lines


def render(spans: Sequence[ReadableSpan]) -> str:
    """A box-drawn tree with durations and the attributes an operator looks at first."""
    by_parent = children(spans)
    lines: list[str] = []

    def walk(parent: int | None, prefix: str) -> None:
        kids = by_parent.get(parent, [])
        for index, span in enumerate(kids):
            last = index == len(kids) - 1
            millis = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
            attributes = span.attributes or {}
            keys = [*SHOWN, *sorted(k for k in attributes if k.startswith("todo.guardrail."))]
            shown = " ".join(f"{key}={_value(attributes[key])}" for key in keys if key in attributes)
            if is_db(span):
                shown = _statement(str(attributes.get("db.query.text", "")))
            branch = "" if parent is None else ("└── " if last else "├── ")
            lines.append(f"{prefix}{branch}{span.name} [{span.kind.name}] {millis:.1f} ms {shown}".rstrip())
            walk(span.context.span_id, prefix + ("" if parent is None else ("    " if last else "│   ")))

    walk(None, "")
    return "\n".join(lines)


def _statement(query: str, width: int = 60) -> str:
    words = " ".join(query.split())
    return words if len(words) <= width else words[: width - 1] + "…"


def _value(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
