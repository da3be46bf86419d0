"""OpenTelemetry for the service: one trace per chat turn, named after the GenAI semantic conventions.

The SDK's configurator makes providers and exporters from the `OTEL_*` variables; the official
instrumentations make the spans, the GenAI metrics and the trace ids in logs (docs/observability.md).
Ours is what they cannot know: the turn's outcome (`using_stub`, fallback, guardrails), a hashed user
id, tool call ids, and the offline model's calls. The Agents SDK uploads nothing unless asked.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from agents.items import TResponseStreamEvent
from agents.tool_context import ToolContext
from agents.tracing import GuardrailSpanData, Span, Trace, TracingProcessor, set_trace_processors
from agents.tracing import set_tracing_export_api_key as set_upload_key
from agents.tracing.processors import default_processor
from agents.tracing.span_data import FunctionSpanData
from agents.usage import Usage
from dotenv import dotenv_values
from fastapi import FastAPI
from openai.types.responses import ResponseCompletedEvent, ResponseUsage
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.distro import OpenTelemetryConfigurator
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.instrumentation.genai.openai_agents.processor import GenAITracingProcessor
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.instrumentation.propagators import (
    TraceResponsePropagator,
    default_setter,
    set_global_response_propagator,
)
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.metrics import MeterProvider, NoOpMeterProvider
from opentelemetry.propagators import textmap
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import format_span_id, format_trace_id
from opentelemetry.util.genai.handler import TelemetryHandler
from opentelemetry.util.genai.invocation import InferenceInvocation, LocalAgentInvocation
from sqlalchemy.engine import Engine

from agents import AgentHooks, Model, ModelResponse, RunContextWrapper, Tool
from service import __version__
from service.config import Settings
from service.logs import configure_logging

SERVICE_NAME = "todo-agent-service"
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# Attributes the conventions do not define, under the service's own prefix.
USING_STUB = "todo.using_stub"
FALLBACK_REASON = "todo.fallback_reason"
GUARDRAIL = "todo.guardrail.{name}.tripped"
ENDUSER_ID = "enduser.id"

_NO_METERS = NoOpMeterProvider()  # for the HTTP and connection-pool metrics: ~30 records a turn nobody asked for
_genai_meters: MeterProvider | None = None  # the global provider, unless metrics are not exported
_USER_IN_PATH = re.compile(r"^/api/[^/]+")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off", "none", "no_content"}


def current_trace_id() -> str:
    return format_trace_id(trace.get_current_span().get_span_context().trace_id)


def hashed_user_id(user_id: uuid.UUID | str) -> str:
    """A stable pseudonym, so traces of one user can be found together without storing who they are."""
    return hashlib.sha256(str(user_id).encode()).hexdigest()[:16]


def capture_message_content() -> bool:
    """Whether prompts, answers and tool arguments may be recorded (off unless the variable says so)."""
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() not in _FALSE


def setup_telemetry(settings: Settings) -> None:
    """Install telemetry, once per process (tests make many apps); Agents SDK processors and logs follow each call.

    A process that already has an SDK tracer provider (an auto-instrumentation agent, a test) keeps its providers.
    """
    global _tool_spans, _genai_meters
    if _tool_spans is None:
        load_otel_env_file(settings)
        _normalise_content_capture()
        for name, value in otel_defaults(os.environ).items():
            os.environ.setdefault(name, value)
        if not isinstance(trace.get_tracer_provider(), TracerProvider):
            configure_sdk(settings)
        # A metric costs CPU at every record, exported or not: the GenAI ones alone, and only when exported.
        if os.environ["OTEL_METRICS_EXPORTER"].strip().lower() == "none":
            _genai_meters = _NO_METERS
        _service_handler.cache_clear()  # remade on first use, now that content capture is settled
        OpenAIInstrumentor().instrument(meter_provider=_genai_meters)
        # Every engine made from now on (`service.db.make_engine`); it declares SQLAlchemy < 2.1, and works on 2.1.
        SQLAlchemyInstrumentor().instrument(skip_dep_check=True, meter_provider=_NO_METERS)
        unwrap(Engine, "connect")  # its `connect` span per pool checkout: 8 spans a turn that tell nothing
        # Records get `otelTraceID`/`otelSpanID` and go to stderr (`configure_logging`), not to an exporter.
        LoggingInstrumentor().instrument(inject_trace_context=True, enable_log_auto_instrumentation=False)
        set_global_response_propagator(TraceHeaders())
        _tool_spans = _ToolSpans()
    # Ours replaces the SDK's default processor, which uploads to OpenAI (and warns without a key).
    processors: list[TracingProcessor] = [_tool_spans]
    if settings.agents_trace_upload:
        if settings.openai_api_key:
            set_upload_key(settings.openai_api_key)
        processors.append(default_processor())
    set_trace_processors(processors)
    configure_logging(settings)


def otel_defaults(environ: Mapping[str, str]) -> dict[str, str]:
    """The service's defaults for the SDK's variables (the environment wins).

    Unlike the SDK's (`otlp` over gRPC), nothing is exported unless an OTLP endpoint is set, so a run
    without a collector logs no failed exports; OTLP speaks HTTP/protobuf, the spec's default.
    """

    def exporter(signal: str) -> str:
        endpoint = environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        return "otlp" if endpoint else "none"

    return {
        "OTEL_TRACES_EXPORTER": exporter("TRACES"),
        "OTEL_METRICS_EXPORTER": exporter("METRICS"),
        "OTEL_LOGS_EXPORTER": "none",  # logs go to stderr
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "http,database",  # the stable HTTP and database attribute names
    }


def configure_sdk(settings: Settings) -> None:
    """Tracer and meter providers with the exporters the `OTEL_*` variables name (the SDK's configurator)."""
    resource = {
        "service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME,
        "service.version": __version__,
        "deployment.environment.name": settings.env,
    }
    try:
        OpenTelemetryConfigurator().configure(resource_attributes=resource, setup_logging_handler=False)
    except RuntimeError as exc:  # an unknown exporter or protocol, found before any provider is set
        chosen = [f"{k}={v}" for k, v in sorted(os.environ.items()) if re.fullmatch(r"OTEL_\w*(EXPORTER|PROTOCOL)", k)]
        raise ValueError(f"{exc} ({', '.join(chosen)}): use otlp, console or none; http/protobuf or grpc") from None


def load_otel_env_file(settings: Settings) -> None:
    """Honour `OTEL_*` lines of the `.env` file like every other setting; the real environment wins.

    The OpenTelemetry SDK reads its variables from `os.environ` itself, so they are copied there.
    """
    env_file = settings.model_config.get("env_file")
    if not isinstance(env_file, str) or not os.path.exists(env_file):
        return
    for key, value in dotenv_values(env_file).items():
        if key.upper().startswith("OTEL_") and value is not None:
            os.environ.setdefault(key.upper(), value)


def _normalise_content_capture() -> None:
    """Accept `true`/`false` besides the GenAI utilities' own modes (`span_only`, ...), which warn on others."""
    value = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower()
    if value in _TRUE:
        os.environ[CAPTURE_CONTENT_ENV] = "span_only"
    elif value in _FALSE:
        os.environ.pop(CAPTURE_CONTENT_ENV, None)


def agents_tracing_enabled() -> bool:
    """Whether runs should produce Agents SDK spans: only once our processor replaced the SDK's uploader."""
    return _tool_spans is not None


def instrument_app(app: FastAPI) -> None:
    """Server spans for every route, without the ASGI `receive`/`send` spans that only add noise."""
    FastAPIInstrumentor.instrument_app(
        app, exclude_spans=["receive", "send"], server_request_hook=_redact_user_in_path, meter_provider=_NO_METERS
    )


def _redact_user_in_path(span: trace.Span, scope: dict[str, Any]) -> None:
    """Keep the raw user id out of `url.path`; `http.route` and `enduser.id` tell operators what they need."""
    path = scope.get("path", "")
    if span.is_recording() and _USER_IN_PATH.match(path):
        span.set_attribute("url.path", _USER_IN_PATH.sub("/api/{user_id}", path))


class TraceHeaders(TraceResponsePropagator):
    """The standard `traceresponse` header, plus what DESIGN §7 promises: `traceparent` and `X-Trace-Id`."""

    def inject(
        self,
        carrier: textmap.CarrierT,
        context: Context | None = None,
        setter: textmap.Setter[Any] = default_setter,  # type: ignore[assignment]  # as in the base class
    ) -> None:
        super().inject(carrier, context, setter)
        span_context = trace.get_current_span(context).get_span_context()
        if span_context.is_valid:
            trace_id, span_id = format_trace_id(span_context.trace_id), format_span_id(span_context.span_id)
            setter.set(carrier, "traceparent", f"00-{trace_id}-{span_id}-{span_context.trace_flags:02x}")
            setter.set(carrier, "x-trace-id", trace_id)
            setter.set(carrier, "access-control-expose-headers", "traceparent, x-trace-id")


class TurnSpan:
    """The `invoke_agent` span of one turn: what the runtime and the guardrails learn about the turn goes here."""

    def __init__(self, invocation: LocalAgentInvocation) -> None:
        self._invocation = invocation

    def record_outcome(self, *, using_stub: bool, fallback_reason: str | None, guardrails_tripped: list[str]) -> None:
        self._invocation.attributes[USING_STUB] = using_stub
        if fallback_reason is not None:
            self._invocation.attributes[FALLBACK_REASON] = fallback_reason
        for name in guardrails_tripped:
            self.record_guardrail(name, True)

    def add_usage(self, usage: Usage) -> None:
        """Token counts add up over the turn's model calls, so the agent span says what the turn cost."""
        self._invocation.input_tokens = (self._invocation.input_tokens or 0) + usage.input_tokens
        self._invocation.output_tokens = (self._invocation.output_tokens or 0) + usage.output_tokens

    def record_guardrail(self, name: str, tripped: bool) -> None:
        """A guardrail that checks several times a turn (one per tool call) counts as tripped if any check did."""
        key = GUARDRAIL.format(name=name)
        self._invocation.attributes[key] = tripped or bool(self._invocation.attributes.get(key))


@functools.cache
def _service_handler() -> TelemetryHandler:
    """The GenAI utilities' handler for the service's own spans and metrics: the turn, the offline model."""
    return TelemetryHandler(
        meter_provider=_genai_meters, instrumentation_scope_name="service", instrumentation_scope_version=__version__
    )


_current_turn: ContextVar[TurnSpan | None] = ContextVar("current_turn", default=None)


@contextmanager
def agent_turn(*, agent_name: str, model: str, conversation_id: uuid.UUID, user_id: uuid.UUID) -> Iterator[TurnSpan]:
    """The turn's `invoke_agent` span, current inside; its conversation id reaches every model span.

    An exception leaving the block fails the span with `error.type`.
    """
    invocation = _service_handler().invoke_local_agent(
        agent_name=agent_name, request_model=model, conversation_id=str(conversation_id)
    )
    invocation.attributes[ENDUSER_ID] = hashed_user_id(user_id)
    turn = TurnSpan(invocation)
    token = _current_turn.set(turn)
    try:
        with invocation:
            yield turn
    finally:
        _current_turn.reset(token)


class _ToolSpans(GenAITracingProcessor):
    """The official Agents SDK processor, kept to its `execute_tool` spans (its agent span would nest a second one
    inside the runtime's, which also covers memory and storage), plus guardrail results."""

    def __init__(self) -> None:
        scope = "opentelemetry.instrumentation.genai.openai_agents"
        super().__init__(TelemetryHandler(meter_provider=_genai_meters, instrumentation_scope_name=scope), "openai")

    def on_trace_start(self, trace: Trace) -> None:
        return None

    def on_trace_end(self, trace: Trace) -> None:
        return None

    def on_span_start(self, span: Span[Any]) -> None:
        if isinstance(span.span_data, FunctionSpanData):
            super().on_span_start(span)

    def on_span_end(self, span: Span[Any]) -> None:
        if isinstance(span.span_data, GuardrailSpanData) and (turn := _current_turn.get()) is not None:
            turn.record_guardrail(span.span_data.name, span.span_data.triggered)
        super().on_span_end(span)


_tool_spans: _ToolSpans | None = None


class TurnTracingHooks(AgentHooks[Any]):
    """Agent hooks for what no span processor sees: tool call ids and each model call's token usage.

    `on_tool_start` runs inside the tool's span (the processor made it current), so the current span
    is the `execute_tool` span, which the SDK's function span gives no call id.
    """

    async def on_tool_start(self, context: RunContextWrapper[Any], agent: Any, tool: Tool) -> None:
        if isinstance(context, ToolContext):
            trace.get_current_span().set_attribute("gen_ai.tool.call.id", context.tool_call_id)

    async def on_llm_end(self, context: RunContextWrapper[Any], agent: Any, response: ModelResponse) -> None:
        if (turn := _current_turn.get()) is not None:
            turn.add_usage(response.usage)


class ChatSpanModel(Model):
    """A `chat {model}` span and the GenAI metrics, by the GenAI utilities' handler as the OpenAI instrumentation
    makes them, for each call of a model no instrumentation sees (the offline model).

    The span is not left current: the model calls nothing, and a streamed response's generator may be
    finished from another task, where a context switch made here could not be undone.
    """

    def __init__(self, model: Model, *, provider: str, name: str) -> None:
        self._model, self._provider, self._name = model, provider, name

    @contextmanager
    def _call(self) -> Iterator[InferenceInvocation]:
        invocation = _service_handler().inference(self._provider, request_model=self._name)
        invocation.suspend()
        try:
            yield invocation
        except GeneratorExit:  # the caller stopped reading a stream: not a failure of the model
            raise
        except BaseException as exc:
            invocation.fail(exc)
            raise
        finally:
            invocation.stop()  # a no-op after `fail`

    def _record(self, invocation: InferenceInvocation, output: Sequence[object], usage: Usage | ResponseUsage) -> None:
        calls = any(getattr(item, "type", None) == "function_call" for item in output)
        invocation.response_model_name = self._name
        invocation.finish_reasons = ["tool_calls" if calls else "stop"]
        invocation.input_tokens, invocation.output_tokens = usage.input_tokens, usage.output_tokens

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        with self._call() as invocation:
            response = await self._model.get_response(*args, **kwargs)
            self._record(invocation, response.output, response.usage)
            return response

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        with self._call() as invocation:
            async for event in self._model.stream_response(*args, **kwargs):
                if isinstance(event, ResponseCompletedEvent) and event.response.usage is not None:
                    self._record(invocation, event.response.output, event.response.usage)
                yield event
