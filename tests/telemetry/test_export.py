"""Exporters from the standard `OTEL_*` variables; a real OTLP/HTTP export from a fresh process; quiet without one."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.db import Database
from service.telemetry import span_exporters
from tests.live_server import serve_asgi

ROOT = Path(__file__).resolve().parents[2]
OTEL_VARIABLES = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
)


@pytest.fixture
def otel_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_exporter_by_default(otel_env: pytest.MonkeyPatch) -> None:
    assert span_exporters() == []


def test_otlp_over_http_when_an_endpoint_is_set(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    [exporter] = span_exporters()
    assert isinstance(exporter, HttpExporter)


def test_otlp_over_grpc_when_asked(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    otel_env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    [exporter] = span_exporters()
    assert isinstance(exporter, GrpcExporter)


def test_console_and_otlp_together(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_TRACES_EXPORTER", "console,otlp")
    console, otlp = span_exporters()
    assert isinstance(console, ConsoleSpanExporter) and isinstance(otlp, HttpExporter)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OTEL_TRACES_EXPORTER", "zipkin"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
)
def test_an_unsupported_choice_names_its_variable(otel_env: pytest.MonkeyPatch, variable: str, value: str) -> None:
    otel_env.setenv("OTEL_TRACES_EXPORTER", "otlp")
    otel_env.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        span_exporters()


async def run_turns(database_url: str, env: dict[str, str], *messages: str) -> tuple[dict[str, Any], tuple[str, str]]:
    """`turn_process` in a fresh interpreter, concurrently with this loop (which may serve a receiver).

    Returns its report and its (stdout, stderr).
    """
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_") and k != "OPENAI_API_KEY"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.telemetry.turn_process",
        *messages,
        cwd=ROOT,
        env={**clean, "DATABASE_URL": database_url, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    return json.loads(next(line for line in stdout.decode().splitlines() if line.startswith('{"responses"'))), (
        stdout.decode(),
        stderr.decode(),
    )


async def test_a_turn_reaches_an_otlp_http_receiver(database_url: str, database: Database) -> None:
    received: list[ExportTraceServiceRequest] = []

    async def traces(request: Request) -> Response:
        assert request.headers["content-type"] == "application/x-protobuf"
        received.append(ExportTraceServiceRequest.FromString(await request.body()))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    async with serve_asgi(receiver, lifespan="off") as (_server, base_url):
        report, (_, stderr) = await run_turns(database_url, {"OTEL_EXPORTER_OTLP_ENDPOINT": base_url}, "add buy milk")

    spans = [
        (span, resource_spans.resource)
        for request in received
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    trace_id = report["responses"][0]["trace_id"]
    turn = [span for span, _ in spans if span.trace_id.hex() == trace_id]
    names = {span.name for span in turn}
    assert {"POST /api/{user_id}/chat", "invoke_agent todo_assistant", "chat offline", "execute_tool add_todo"} <= names
    resource = {a.key: a.value.string_value for a in spans[0][1].attributes}
    assert resource["service.name"] == "todo-agent-service"
    assert resource["deployment.environment.name"] == "dev"
    assert "Failed to export" not in stderr and "ERROR" not in stderr, stderr


async def test_without_an_endpoint_nothing_is_exported_or_complained_about(
    database_url: str, database: Database
) -> None:
    """No OTEL_* and no OPENAI_API_KEY: the turns work, nothing leaves the machine, and the log stays quiet."""
    report, (stdout, stderr) = await run_turns(database_url, {}, "add buy milk", "I bought the milk")
    assert [r["using_stub"] for r in report["responses"]] == [True, True]
    assert report["outbound"] == []
    assert stderr == ""
    assert stdout.count("\n") == 1  # the report alone: no console exporter either


async def test_the_outbound_guard_sees_an_attempt(database_url: str, database: Database) -> None:
    """The control for the test above: a configured provider is tried, refused, and the offline model answers."""
    provider = {"MODEL_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test", "MODEL_MAX_RETRIES": "0"}
    report, _ = await run_turns(database_url, provider, "hello")
    assert report["responses"][0]["using_stub"] is True
    assert set(report["outbound"]) == {"api.openai.com"}


def console_spans(stdout: str) -> list[dict[str, Any]]:
    """The console exporter's spans: JSON objects, one after another, around the report line."""
    decoder, spans, index = json.JSONDecoder(), [], 0
    while (index := stdout.find("{", index)) != -1:
        value, end = decoder.raw_decode(stdout, index)
        if "responses" not in value:
            spans.append(value)
        index = end
    return spans


async def test_content_is_recorded_when_asked(database_url: str, database: Database) -> None:
    """Off by default (every in-process trace test checks that); on with the standard variable, here via the console."""
    env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    report, (stdout, stderr) = await run_turns(database_url, env, "add buy milk")
    [tool] = [s for s in console_spans(stdout) if s["name"] == "execute_tool add_todo"]
    assert tool["attributes"]["gen_ai.tool.call.id"] == report["responses"][0]["tool_calls"][0]["id"]
    assert json.loads(tool["attributes"]["gen_ai.tool.call.arguments"])["title"] == "Buy milk"
    assert "Buy milk" in tool["attributes"]["gen_ai.tool.call.result"]
    assert stderr == ""
