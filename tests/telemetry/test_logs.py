"""Structured logs that lead to their trace: JSON in production, a readable line in dev."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry import trace

from service.config import Settings
from service.logs import configure_logging
from tests.api.conftest import TEST_SECRET
from tests.telemetry.assertions import assert_includes
from tests.telemetry.conftest import SpanRecorder

log = logging.getLogger("service.test")
tracer = trace.get_tracer("tests.telemetry")


def settings(env: str) -> Settings:
    return Settings(_env_file=None, env=env, auth_jwt_secret=TEST_SECRET)


def test_production_logs_are_json_with_trace_ids(recorder: SpanRecorder, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(settings("production"))
    try:
        with tracer.start_as_current_span("work") as span:
            # An extra named like a core field does not replace it.
            log.warning("turn for %s", "conversation 7", extra={"conversation_id": "7", "level": "DEBUG"})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("outside any span", extra={"trace_id": "forged", "exception": "none"})
    finally:
        configure_logging(settings("dev"))

    inside, outside = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    context = span.get_span_context()
    assert_includes(
        inside,
        {
            "level": "WARNING",
            "logger": "service.test",
            "message": "turn for conversation 7",
            "trace_id": f"{context.trace_id:032x}",
            "span_id": f"{context.span_id:016x}",
            "conversation_id": "7",  # a record's `extra` fields are fields of its line
        },
    )
    assert inside["timestamp"].endswith("+00:00")
    assert "trace_id" not in outside
    assert outside["level"] == "ERROR" and "ValueError: boom" in outside["exception"]


def test_dev_logs_are_one_line_with_trace_ids(recorder: SpanRecorder, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(settings("dev"))
    with tracer.start_as_current_span("work") as span:
        log.warning("model provider failed")
    log.warning("outside any span")
    inside, outside = capsys.readouterr().err.splitlines()
    context = span.get_span_context()
    assert inside.endswith(
        f"WARNING service.test [trace_id={context.trace_id:032x} span_id={context.span_id:016x}]: model provider failed"
    )
    # As `opentelemetry-instrumentation-logging` writes "no trace".
    assert outside.endswith("WARNING service.test [trace_id=0 span_id=0]: outside any span")
