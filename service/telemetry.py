"""OpenTelemetry set-up: one tracer provider per process, so every chat turn has a real trace id."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from service import __version__
from service.config import Settings

tracer = trace.get_tracer("service")


def setup_telemetry(settings: Settings) -> None:
    """Install the SDK tracer provider once; an application that installed its own keeps it."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    resource = Resource.create(
        {
            "service.name": "todo-agent-service",
            "service.version": __version__,
            "deployment.environment": settings.env,
        }
    )
    trace.set_tracer_provider(TracerProvider(resource=resource))


def current_trace_id() -> str:
    return format(trace.get_current_span().get_span_context().trace_id, "032x")
