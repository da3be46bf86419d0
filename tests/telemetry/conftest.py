"""Spans of the test's own turns, recorded on the process's tracer provider, and the API fixtures.

The global tracer provider can be set once per process, so the recorder is attached once per session
and only keeps spans while a test listens.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from service.config import Settings
from service.telemetry import setup_telemetry
from tests.api.conftest import (  # noqa: F401  (fixtures shared with the API tests)
    TEST_SECRET,
    alice,
    alice_auth,
    app,
    bob,
    bob_auth,
    bobs_todo,
    client,
    make_token,
    model_provider,
    settings,
)

# Before the test modules import it, so its asserts explain themselves.
pytest.register_assert_rewrite("tests.telemetry.assertions")


class SpanRecorder(SpanProcessor):
    """Finished spans, in end order, while `listening`."""

    def __init__(self) -> None:
        self.listening = False
        self.spans: list[ReadableSpan] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if self.listening:
            self.spans.append(span)

    def take(self) -> list[ReadableSpan]:
        """The spans so far, forgetting them: the next call returns only later ones."""
        taken, self.spans = self.spans, []
        return taken


@pytest.fixture(scope="session")
def recorder() -> SpanRecorder:
    setup_telemetry(Settings(_env_file=None, auth_jwt_secret=TEST_SECRET))
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    span_recorder = SpanRecorder()
    provider.add_span_processor(span_recorder)
    return span_recorder


@pytest.fixture
def spans(recorder: SpanRecorder) -> Iterator[SpanRecorder]:
    recorder.spans.clear()
    recorder.listening = True
    yield recorder
    recorder.listening = False
    recorder.spans.clear()
