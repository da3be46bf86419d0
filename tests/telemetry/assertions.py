"""Assertions on a turn's finished spans, shared by the trace tests (pytest rewrites them: see conftest)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from tests.telemetry.trace_tree import is_db

CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
)


def one_trace(spans: list[ReadableSpan], trace_id: str) -> dict[str, list[ReadableSpan]]:
    """Asserts the spans are one trace, the given one, with a single root and no orphan; spans by name."""
    assert {format(s.context.trace_id, "032x") for s in spans} == {trace_id}
    ids = {s.context.span_id for s in spans}
    roots = [s for s in spans if s.parent is None]
    assert len(roots) == 1 and roots[0].kind is SpanKind.SERVER, [s.name for s in roots]
    assert all(s.parent.span_id in ids for s in spans if s.parent is not None), "orphan span"
    by_name: dict[str, list[ReadableSpan]] = {}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        by_name.setdefault(span.name, []).append(span)
    return by_name


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def assert_includes(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    assert {key: actual.get(key, "<missing>") for key in expected} == dict(expected)


def assert_no_content(spans: list[ReadableSpan]) -> None:
    """Prompts, answers and tool arguments: only with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT."""
    for span in spans:
        assert not set(CONTENT_KEYS) & set(attributes(span)), span.name


def assert_db_spans_under(spans: list[ReadableSpan], *parents: str) -> None:
    """Every database span hangs under one of `parents`, and at least one under each of them."""
    by_id = {s.context.span_id: s for s in spans}
    db_parents = [by_id[s.parent.span_id].name for s in spans if is_db(s) and s.parent]
    assert set(db_parents) <= set(parents) | {"POST /api/{user_id}/chat", "POST /api/{user_id}/chat/stream"}
    assert set(parents) <= set(db_parents), (parents, db_parents)
