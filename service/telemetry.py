"""OpenTelemetry for the service: one trace per chat turn, named after the GenAI semantic conventions.

A turn's trace is

    POST /api/{user_id}/chat (SERVER, FastAPI instrumentation)
    └── invoke_agent todo_assistant (the runtime, through `agent_turn`)
        ├── chat {model} (one per model call: the OpenAI instrumentation, or `ChatSpanModel` for the offline model)
        ├── execute_tool {name} (the official Agents SDK processor, limited to tools by `_ToolSpans`)
        │   └── database spans (SQLAlchemy instrumentation, per engine)
        └── database spans (memory and storage)

The official instrumentations do the work; this module only installs them once per process and adds
what they cannot know: the turn's outcome (`using_stub`, fallback reason, guardrails), a hashed user id,
the tool call id, and a span for the offline model, which makes no HTTP call for them to see.
Nothing is exported unless the standard `OTEL_*` variables ask for it, and the Agents SDK uploads
nothing to OpenAI unless `AGENTS_TRACE_UPLOAD` is set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Protocol

from agents.items import TResponseStreamEvent
from agents.tool_context import ToolContext
from agents.tracing import (
    GuardrailSpanData,
    Span,
    Trace,
    TracingProcessor,
    set_trace_processors,
    set_tracing_export_api_key,
)
from agents.tracing.processors import default_processor
from agents.tracing.span_data import FunctionSpanData
from agents.usage import Usage
from dotenv import dotenv_values
from fastapi import FastAPI
from openai.types.responses import ResponseCompletedEvent
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
from opentelemetry.instrumentation.genai.openai_agents.processor import GenAITracingProcessor
from opentelemetry.instrumentation.propagators import (
    ResponsePropagator,
    default_setter,
    set_global_response_propagator,
)
from opentelemetry.instrumentation.sqlalchemy import __version__ as sqlalchemy_instrumentation_version
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.propagators import textmap
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.genai.handler import TelemetryHandler
from opentelemetry.util.genai.invocation import LocalAgentInvocation
from opentelemetry.util.genai.utils import fq_exception_type
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from agents import AgentHooks, Model, ModelResponse, RunContextWrapper, Tool
from service import __version__
from service.config import Settings

SERVICE_NAME = "todo-agent-service"
CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# Attributes the conventions do not define, under the service's own prefix.
USING_STUB = "todo.using_stub"
FALLBACK_REASON = "todo.fallback_reason"
GUARDRAIL = "todo.guardrail.{name}.tripped"
ENDUSER_ID = "enduser.id"

_USER_IN_PATH = re.compile(r"^/api/[^/]+")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off", "none", "no_content"}

tracer = trace.get_tracer("service", __version__)


def current_trace_id() -> str:
    return format(trace.get_current_span().get_span_context().trace_id, "032x")


def hashed_user_id(user_id: uuid.UUID | str) -> str:
    """A stable pseudonym, so traces of one user can be found together without storing who they are."""
    return hashlib.sha256(str(user_id).encode()).hexdigest()[:16]


def capture_message_content() -> bool:
    """Whether prompts, answers and tool arguments may be recorded (off unless the variable says so)."""
    return os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower() not in _FALSE


# ------------------------------------------------------------------------------------------------
# Set-up
# ------------------------------------------------------------------------------------------------


class _Installed:
    """What `setup_telemetry` installed in this process; the global tracer provider can be set only once."""

    provider: TracerProvider | None = None
    handler: TelemetryHandler | None = None
    tool_spans: _ToolSpans | None = None


def setup_telemetry(settings: Settings) -> None:
    """Install tracing for this process; safe to call once per app (tests make many apps).

    The tracer provider, exporters and instrumentations are installed on the first call only. A
    process that already has an SDK tracer provider (an auto-instrumentation agent, a test) keeps it
    and its exporters. The Agents SDK processors and logging follow each call's settings.
    """
    if _Installed.provider is None:
        load_otel_env_file(settings)
        _normalise_content_capture()
        # Stable HTTP and database attribute names, unless the operator chose otherwise.
        os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            _Installed.provider = current
        else:
            _Installed.provider = TracerProvider(resource=_resource(settings))
            for exporter in span_exporters():
                _Installed.provider.add_span_processor(BatchSpanProcessor(exporter))
            trace.set_tracer_provider(_Installed.provider)
        _Installed.handler = None  # remade on first use, now that the content-capture variable is settled
        _Installed.tool_spans = _ToolSpans()
        OpenAIInstrumentor().instrument()
        set_global_response_propagator(TraceHeaders())
    _install_agents_processors(settings)
    configure_logging(settings)


def agents_tracing_enabled() -> bool:
    """Whether runs should produce Agents SDK spans: only once our processor replaced the SDK's uploader."""
    return _Installed.tool_spans is not None


def _resource(settings: Settings) -> Resource:
    # Resource.create also merges OTEL_RESOURCE_ATTRIBUTES.
    return Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME,
            "service.version": __version__,
            "deployment.environment.name": settings.env,
        }
    )


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
    """Accept `true`/`false` besides the GenAI utilities' own modes (`span_only`, ...), which warn on anything else."""
    value = os.environ.get(CAPTURE_CONTENT_ENV, "").strip().lower()
    if value in _TRUE:
        os.environ[CAPTURE_CONTENT_ENV] = "span_only"
    elif value in _FALSE:
        os.environ.pop(CAPTURE_CONTENT_ENV, None)


def span_exporters() -> list[SpanExporter]:
    """Exporters from the standard variables: OTLP when an endpoint is set, console on request, else none.

    Unlike the SDK default (`otlp`), an unset `OTEL_TRACES_EXPORTER` exports nothing unless an OTLP
    endpoint is configured, so a service run without a collector does not log failed exports.
    """
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    names = os.environ.get("OTEL_TRACES_EXPORTER") or ("otlp" if endpoint else "none")
    exporters: list[SpanExporter] = []
    for name in (part.strip().lower() for part in names.split(",")):
        if name == "otlp":
            exporters.append(_otlp_exporter())
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name not in ("none", ""):
            raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter {name!r}; use otlp, console or none")
    return exporters


def _otlp_exporter() -> SpanExporter:
    """OTLP over HTTP/protobuf (the default) or gRPC; endpoint, headers, timeout: `OTEL_EXPORTER_OTLP_*`."""
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        return HttpExporter()
    raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL: unsupported protocol {protocol!r}; use http/protobuf or grpc")


def _install_agents_processors(settings: Settings) -> None:
    """Our processor replaces the SDK's default one, which uploads traces to OpenAI (and warns without a key)."""
    assert _Installed.tool_spans is not None
    processors: list[TracingProcessor] = [_Installed.tool_spans]
    if settings.agents_trace_upload:
        if settings.openai_api_key:
            set_tracing_export_api_key(settings.openai_api_key)
        processors.append(default_processor())
    set_trace_processors(processors)


def instrument_app(app: FastAPI) -> None:
    """Server spans for every route, without the ASGI `receive`/`send` spans that only add noise."""
    FastAPIInstrumentor.instrument_app(app, exclude_spans=["receive", "send"], server_request_hook=_redact_user_in_path)


def _redact_user_in_path(span: trace.Span, scope: dict[str, Any]) -> None:
    """Keep the raw user id out of `url.path`; `http.route` and `enduser.id` tell operators what they need."""
    path = scope.get("path", "")
    if span.is_recording() and _USER_IN_PATH.match(path):
        span.set_attribute("url.path", _USER_IN_PATH.sub("/api/{user_id}", path))


_instrumented_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def instrument_engine(engine: AsyncEngine) -> None:
    """Database spans for one engine, as `SQLAlchemyInstrumentor().instrument(engine=...)` makes them.

    That call works once per process, and an engine is made per `Database` (tests make many), so the
    instrumentation's own engine tracer is attached here, once per engine: twice would double its spans.
    """
    sync_engine = engine.sync_engine
    if sync_engine in _instrumented_engines:
        return
    scope = "opentelemetry.instrumentation.sqlalchemy"
    connections = metrics.get_meter(scope, sqlalchemy_instrumentation_version).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    EngineTracer(trace.get_tracer(scope, sqlalchemy_instrumentation_version), sync_engine, connections)
    _instrumented_engines.add(sync_engine)


class TraceHeaders(ResponsePropagator):
    """Every response names its trace: `traceparent` (W3C) and `X-Trace-Id`, readable by browser code too."""

    def inject(
        self,
        carrier: textmap.CarrierT,
        context: Context | None = None,
        setter: textmap.Setter[Any] = default_setter,  # type: ignore[assignment]  # as in the base class
    ) -> None:
        span_context = trace.get_current_span(context).get_span_context()
        if not span_context.is_valid:
            return
        trace_id = format(span_context.trace_id, "032x")
        setter.set(carrier, "traceparent", f"00-{trace_id}-{span_context.span_id:016x}-{span_context.trace_flags:02x}")
        setter.set(carrier, "x-trace-id", trace_id)
        setter.set(carrier, "access-control-expose-headers", "traceparent, x-trace-id")


# ------------------------------------------------------------------------------------------------
# The turn
# ------------------------------------------------------------------------------------------------


class TurnSpan:
    """The `invoke_agent` span of one turn: what the runtime and the guardrails learn about the turn goes here."""

    def __init__(self, invocation: LocalAgentInvocation, conversation_id: str) -> None:
        self._invocation = invocation
        self.conversation_id = conversation_id

    def record_outcome(self, *, using_stub: bool, fallback_reason: str | None, guardrails_tripped: list[str]) -> None:
        attributes = self._invocation.attributes
        attributes[USING_STUB] = using_stub
        if fallback_reason is not None:
            attributes[FALLBACK_REASON] = fallback_reason
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


def _service_handler() -> TelemetryHandler:
    """The GenAI utilities' handler for the service's own spans (without `setup_telemetry`, they go nowhere)."""
    if _Installed.handler is None:
        _Installed.handler = TelemetryHandler(
            instrumentation_scope_name="service", instrumentation_scope_version=__version__
        )
    return _Installed.handler


_current_turn: ContextVar[TurnSpan | None] = ContextVar("current_turn", default=None)


@contextmanager
def agent_turn(*, agent_name: str, model: str, conversation_id: uuid.UUID, user_id: uuid.UUID) -> Iterator[TurnSpan]:
    """Open the turn's `invoke_agent` span; it is current inside, and its conversation id reaches every model span.

    An exception leaving the block fails the span with `error.type`.
    """
    invocation = _service_handler().invoke_local_agent(
        agent_name=agent_name, request_model=model, conversation_id=str(conversation_id)
    )
    invocation.attributes[ENDUSER_ID] = hashed_user_id(user_id)
    turn = TurnSpan(invocation, str(conversation_id))
    token = _current_turn.set(turn)
    try:
        with invocation:
            yield turn
    finally:
        _current_turn.reset(token)


def record_guardrail(name: str, tripped: bool) -> None:
    """Record a guardrail's result on the current turn's span; a no-op outside a turn."""
    turn = _current_turn.get()
    if turn is not None:
        turn.record_guardrail(name, tripped)


class _ToolSpans(GenAITracingProcessor):
    """The official Agents SDK processor, kept to its `execute_tool` spans, plus guardrail results.

    Its `invoke_workflow` and `invoke_agent` spans are left out: they would nest a second agent span
    inside the runtime's, which, unlike the SDK's agent span, also covers memory, storage and the
    turn's outcome. Model spans come from the OpenAI instrumentation, as the processor intends.
    """

    def __init__(self) -> None:
        super().__init__(
            TelemetryHandler(
                instrumentation_scope_name="opentelemetry.instrumentation.genai.openai_agents",
            ),
            "openai",
        )

    def on_trace_start(self, trace: Trace) -> None:
        return None

    def on_trace_end(self, trace: Trace) -> None:
        return None

    def on_span_start(self, span: Span[Any]) -> None:
        if isinstance(span.span_data, FunctionSpanData):
            super().on_span_start(span)

    def on_span_end(self, span: Span[Any]) -> None:
        if isinstance(span.span_data, GuardrailSpanData):
            record_guardrail(span.span_data.name, span.span_data.triggered)
        super().on_span_end(span)


class TurnTracingHooks(AgentHooks[Any]):
    """Agent hooks for what no span processor sees: tool call ids and each model call's token usage.

    `on_tool_start` runs inside the tool's span (the processor made it current), so the current span
    is the `execute_tool` span, which the SDK's function span gives no call id.
    """

    async def on_tool_start(self, context: RunContextWrapper[Any], agent: Any, tool: Tool) -> None:
        if isinstance(context, ToolContext):
            trace.get_current_span().set_attribute("gen_ai.tool.call.id", context.tool_call_id)

    async def on_llm_end(self, context: RunContextWrapper[Any], agent: Any, response: ModelResponse) -> None:
        turn = _current_turn.get()
        if turn is not None:
            turn.add_usage(response.usage)


class _TokenCounts(Protocol):
    input_tokens: int
    output_tokens: int


class ChatSpanModel(Model):
    """A `chat {model}` span around each call of a model that no instrumentation sees (the offline model).

    The span is not made current: the model calls nothing, and a streamed response's generator may
    be finished from another task, where a context switch made here could not be undone.
    """

    def __init__(self, model: Model, *, provider: str, name: str) -> None:
        self._model = model
        self._provider = provider
        self._name = name

    @contextmanager
    def _span(self) -> Iterator[trace.Span]:
        turn = _current_turn.get()
        attributes: dict[str, str] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": self._provider,
            "gen_ai.request.model": self._name,
        }
        if turn is not None:
            attributes["gen_ai.conversation.id"] = turn.conversation_id
        # INTERNAL: the conventions' kind for a model running in this process.
        span = tracer.start_span(f"chat {self._name}", kind=SpanKind.INTERNAL, attributes=attributes)
        try:
            yield span
        except GeneratorExit:  # the caller stopped reading a stream: not a failure of the model
            raise
        except BaseException as exc:
            span.set_attribute("error.type", fq_exception_type(exc))
            span.set_status(Status(StatusCode.ERROR))
            raise
        finally:
            span.end()

    def _record(self, span: trace.Span, output: Sequence[object], usage: _TokenCounts) -> None:
        calls = any(getattr(item, "type", None) == "function_call" for item in output)
        span.set_attributes(
            {
                "gen_ai.response.model": self._name,
                "gen_ai.response.finish_reasons": ["tool_calls" if calls else "stop"],
                "gen_ai.usage.input_tokens": usage.input_tokens,
                "gen_ai.usage.output_tokens": usage.output_tokens,
            }
        )

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        with self._span() as span:
            response = await self._model.get_response(*args, **kwargs)
            self._record(span, response.output, response.usage)
            return response

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        with self._span() as span:
            async for event in self._model.stream_response(*args, **kwargs):
                if isinstance(event, ResponseCompletedEvent) and event.response.usage is not None:
                    self._record(span, event.response.output, event.response.usage)
                yield event


# ------------------------------------------------------------------------------------------------
# Logs
# ------------------------------------------------------------------------------------------------


class _TraceContext(logging.Filter):
    """Stamps each record with the current trace and span, so a log line leads to its trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        trace_id = format(span_context.trace_id, "032x") if span_context.is_valid else ""
        span_id = format(span_context.span_id, "016x") if span_context.is_valid else ""
        trace_text = f" [trace_id={trace_id} span_id={span_id}]" if trace_id else ""
        record.__dict__.update(trace_id=trace_id, span_id=span_id, trace=trace_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log pipelines in production."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if trace_id := getattr(record, "trace_id", ""):
            entry["trace_id"] = trace_id
            entry["span_id"] = getattr(record, "span_id", "")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(trace)s: %(message)s"


class _StderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it), like logging's last resort."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def configure_logging(settings: Settings) -> None:
    """Structured logs with trace ids: JSON in production, one readable line a record in dev.

    One handler on the root logger (its format follows the latest settings); uvicorn's loggers are
    routed to it so access logs are structured too. Other handlers (a test runner's) are left alone.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.addFilter(_TraceContext())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if settings.env == "production" else logging.Formatter(TEXT_FORMAT))
    for name in ("uvicorn", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
