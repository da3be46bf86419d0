"""`setup_telemetry` and its parts: once per process, the SDK's uploader replaced, engines traced once, model errors."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from agents.tracing import get_trace_provider
from agents.tracing.processors import BatchTraceProcessor
from opentelemetry import trace
from opentelemetry.instrumentation.genai.openai_agents.processor import GenAITracingProcessor
from opentelemetry.trace import SpanKind, StatusCode

from agents import ModelResponse, ModelSettings, ModelTracing
from service.agent.offline import OfflineModel
from service.config import Settings
from service.db import Database
from service.telemetry import (
    ChatSpanModel,
    capture_message_content,
    load_otel_env_file,
    setup_telemetry,
)
from tests.api.conftest import TEST_SECRET
from tests.telemetry.conftest import SpanRecorder
from tests.telemetry.trace_tree import is_db


def sdk_processors() -> list[object]:
    # No public getter; the official instrumentor reads the same attribute.
    return list(get_trace_provider()._multi_processor._processors)  # type: ignore[attr-defined]


def default_settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, auth_jwt_secret=TEST_SECRET, **overrides)  # type: ignore[arg-type]


def test_the_agents_sdk_uploads_nothing_by_default(recorder: SpanRecorder) -> None:
    [processor] = sdk_processors()
    assert isinstance(processor, GenAITracingProcessor)


def test_agents_trace_upload_adds_the_sdks_exporter_back(recorder: SpanRecorder) -> None:
    try:
        setup_telemetry(default_settings(agents_trace_upload=True, openai_api_key="sk-test"))
        assert [type(p) for p in sdk_processors()][1:] == [BatchTraceProcessor]
    finally:
        setup_telemetry(default_settings())
    assert len(sdk_processors()) == 1


def test_setup_is_safe_to_repeat(recorder: SpanRecorder, caplog: pytest.LogCaptureFixture) -> None:
    provider = trace.get_tracer_provider()
    with caplog.at_level(logging.WARNING):
        setup_telemetry(default_settings())
        setup_telemetry(default_settings(env="production"))
        setup_telemetry(default_settings())
    assert trace.get_tracer_provider() is provider
    assert caplog.records == []  # e.g. no "already instrumented" warning
    ours = [h for h in logging.getLogger().handlers if type(h).__name__ == "_StderrHandler"]
    assert len(ours) == 1


async def test_an_engine_made_after_setup_is_traced_once(
    database_url: str, spans: SpanRecorder, recorder: SpanRecorder
) -> None:
    """The instrumentation's own hook on engine creation, set once per process, however many apps are made."""
    setup_telemetry(default_settings())
    database = Database(database_url)
    try:
        await database.ping()
    finally:
        await database.dispose()
    [query] = [s for s in spans.take() if is_db(s)]  # and no `connect` span per pool checkout
    assert query.name.startswith("SELECT") and query.kind is SpanKind.CLIENT
    assert query.attributes is not None and query.attributes["db.query.text"] == "SELECT 1"


@pytest.mark.parametrize(
    ("value", "captured"),
    [("", False), ("false", False), ("no_content", False), ("span_only", True), ("span_and_event", True)],
)
def test_content_capture_follows_the_standard_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, captured: bool
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
    assert capture_message_content() is captured


def test_otel_variables_in_the_env_file_count_unless_the_environment_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("OTEL_SERVICE_NAME=from-file\nOTEL_TRACES_SAMPLER=always_off\nNOT_OTEL=x\n")
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    load_otel_env_file(Settings())
    assert os.environ["OTEL_SERVICE_NAME"] == "from-file"
    assert os.environ["OTEL_TRACES_SAMPLER"] == "always_on"
    assert "NOT_OTEL" not in os.environ  # the rest of the file is for Settings alone


class BrokenModel(OfflineModel):
    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        raise ValueError("no answer")


async def test_a_failing_model_call_records_its_error(spans: SpanRecorder) -> None:
    model = ChatSpanModel(BrokenModel(), provider="offline", name="offline")
    with pytest.raises(ValueError):
        await model.get_response(None, "hi", ModelSettings(), [], None, [], ModelTracing.DISABLED)
    [span] = spans.take()
    assert span.name == "chat offline"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "ValueError"
    assert "gen_ai.usage.input_tokens" not in span.attributes
