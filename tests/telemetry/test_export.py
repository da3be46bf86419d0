"""Exporters from the standard `OTEL_*` variables (by the SDK's configurator), with the service's defaults;
real OTLP/HTTP exports of traces and GenAI metrics from a fresh process; quiet without a collector."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from google.protobuf.json_format import MessageToDict
from opentelemetry import metrics, trace
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.config import Settings
from service.db import Database
from service.telemetry import configure_sdk, otel_defaults
from tests.api.conftest import TEST_SECRET
from tests.fake_llm import FAKE_PROVIDER, FakeLLM, TextReply, ToolCallReply
from tests.live_server import serve_asgi

ROOT = Path(__file__).resolve().parents[2]
GENAI_METRICS = {"gen_ai.client.token.usage", "gen_ai.client.operation.duration"}


def test_nothing_is_exported_by_default() -> None:
    assert otel_defaults({}) | {"OTEL_SEMCONV_STABILITY_OPT_IN": ""} == {
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SEMCONV_STABILITY_OPT_IN": "",
    }


def test_an_endpoint_exports_traces_and_metrics_by_otlp() -> None:
    defaults = otel_defaults({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert (defaults["OTEL_TRACES_EXPORTER"], defaults["OTEL_METRICS_EXPORTER"]) == ("otlp", "otlp")


def test_a_signals_own_endpoint_exports_that_signal_alone() -> None:
    defaults = otel_defaults({"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://127.0.0.1:4318/v1/metrics"})
    assert (defaults["OTEL_TRACES_EXPORTER"], defaults["OTEL_METRICS_EXPORTER"]) == ("none", "otlp")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OTEL_TRACES_EXPORTER", "zipkin"),
        ("OTEL_METRICS_EXPORTER", "prometheus"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "thrift"),
    ],
)
def test_an_unsupported_choice_names_its_variable(
    recorder: object, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """The SDK refuses it before setting any provider, so this process's providers stay as they are."""
    providers = trace.get_tracer_provider(), metrics.get_meter_provider()
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "otlp")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=f"{variable}={value}"):
        configure_sdk(Settings(_env_file=None, auth_jwt_secret=TEST_SECRET))
    assert (trace.get_tracer_provider(), metrics.get_meter_provider()) == providers


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


@dataclass
class OtlpReceiver:
    """What an OTLP/HTTP collector received: trace and metric export requests, decoded."""

    traces: list[ExportTraceServiceRequest] = field(default_factory=list)
    metrics: list[ExportMetricsServiceRequest] = field(default_factory=list)
    base_url: str = ""

    def spans(self) -> list[tuple[Any, Any]]:
        """(span, its resource) for every span received."""
        return [
            (span, resource_spans.resource)
            for request in self.traces
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    def data_points(self) -> dict[str, list[dict[str, Any]]]:
        """Metric name -> its data points as JSON (attributes flattened to a dict), over every request."""
        points: dict[str, list[dict[str, Any]]] = {}
        for request in self.metrics:
            for resource_metrics in MessageToDict(request)["resourceMetrics"]:
                for scope_metrics in resource_metrics["scopeMetrics"]:
                    for metric in scope_metrics["metrics"]:
                        for point in next(iter(v for k, v in metric.items() if isinstance(v, dict)))["dataPoints"]:
                            flat = {a["key"]: next(iter(a["value"].values())) for a in point.get("attributes", [])}
                            points.setdefault(metric["name"], []).append({**point, "attributes": flat})
        return points


@pytest.fixture
async def receiver() -> AsyncIterator[OtlpReceiver]:
    received = OtlpReceiver()

    async def traces(request: Request) -> Response:
        assert request.headers["content-type"] == "application/x-protobuf"
        received.traces.append(ExportTraceServiceRequest.FromString(await request.body()))
        return Response(status_code=200)

    async def metrics(request: Request) -> Response:
        assert request.headers["content-type"] == "application/x-protobuf"
        received.metrics.append(ExportMetricsServiceRequest.FromString(await request.body()))
        return Response(status_code=200)

    routes = [Route("/v1/traces", traces, methods=["POST"]), Route("/v1/metrics", metrics, methods=["POST"])]
    async with serve_asgi(Starlette(routes=routes), lifespan="off") as (_server, base_url):
        received.base_url = base_url
        yield received


async def test_a_turn_reaches_an_otlp_http_receiver(
    database_url: str, database: Database, receiver: OtlpReceiver
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base_url}
    report, (_, stderr) = await run_turns(database_url, env, "add buy milk")

    spans = receiver.spans()
    trace_id = report["responses"][0]["trace_id"]
    names = {span.name for span, _ in spans if span.trace_id.hex() == trace_id}
    assert {"POST /api/{user_id}/chat", "invoke_agent todo_assistant", "chat offline", "execute_tool add_todo"} <= names
    resource = {a.key: a.value.string_value for a in spans[0][1].attributes}
    assert resource["service.name"] == "todo-agent-service"
    assert resource["deployment.environment.name"] == "dev"
    assert "Failed to export" not in stderr and "ERROR" not in stderr, stderr

    # The GenAI client metrics of its two model calls, exported with the traces when the process ends.
    points = receiver.data_points()
    chat = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "offline", "gen_ai.request.model": "offline"}
    [duration] = points["gen_ai.client.operation.duration"]
    assert chat.items() <= duration["attributes"].items() and int(duration["count"]) == 2
    tokens = {point["attributes"]["gen_ai.token.type"]: point for point in points["gen_ai.client.token.usage"]}
    assert tokens.keys() == {"input", "output"}
    assert all(chat.items() <= p["attributes"].items() and int(p["count"]) == 2 for p in tokens.values())
    assert tokens["input"]["sum"] > tokens["output"]["sum"] > 0


async def test_a_providers_calls_reach_the_receiver_as_genai_metrics(
    database_url: str, database: Database, receiver: OtlpReceiver, fake: FakeLLM, fake_server: uvicorn.Server
) -> None:
    """Provider calls are measured by the OpenAI instrumentation itself, with the usage the provider reported."""
    fake.replies = [ToolCallReply("add_todo", {"title": "Buy milk"}), TextReply("Added Buy milk.")]
    provider = {key.upper(): str(value) for key, value in FAKE_PROVIDER.items()}
    env = {**provider, "OPENAI_BASE_URL": fake.base_url, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base_url}
    report, _ = await run_turns(database_url, env, "add buy milk")
    assert report["responses"][0]["using_stub"] is False

    points = receiver.data_points()
    [duration] = points["gen_ai.client.operation.duration"]
    assert duration["attributes"]["gen_ai.provider.name"] == "openai"
    assert duration["attributes"]["gen_ai.request.model"] == "fake-model"
    assert duration["attributes"]["server.address"] == "127.0.0.1"
    assert int(duration["count"]) == 2
    tokens = {p["attributes"]["gen_ai.token.type"]: p["sum"] for p in points["gen_ai.client.token.usage"]}
    assert tokens == {"input": 20, "output": 10}  # the fake reports 10 and 5 a call


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


def console_objects(stdout: str) -> list[dict[str, Any]]:
    """What the console exporters printed: JSON objects, one after another, around the report line."""
    decoder, printed, index = json.JSONDecoder(), [], 0
    while (index := stdout.find("{", index)) != -1:
        value, index = decoder.raw_decode(stdout, index)
        if "responses" not in value:
            printed.append(value)
    return printed


async def test_content_is_recorded_when_asked(database_url: str, database: Database) -> None:
    """Off by default (every in-process trace test checks that); on with the standard variable, here via the console."""
    env = {"OTEL_TRACES_EXPORTER": "console", "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"}
    report, (stdout, stderr) = await run_turns(database_url, env, "add buy milk")
    [tool] = [s for s in console_objects(stdout) if s.get("name") == "execute_tool add_todo"]
    assert tool["attributes"]["gen_ai.tool.call.id"] == report["responses"][0]["tool_calls"][0]["id"]
    assert json.loads(tool["attributes"]["gen_ai.tool.call.arguments"])["title"] == "Buy milk"
    assert "Buy milk" in tool["attributes"]["gen_ai.tool.call.result"]
    assert stderr == ""


async def test_console_metrics_for_debugging(database_url: str, database: Database) -> None:
    """`OTEL_METRICS_EXPORTER=console` prints the GenAI client metrics as JSON on stdout (at exit, here)."""
    _, (stdout, stderr) = await run_turns(database_url, {"OTEL_METRICS_EXPORTER": "console"}, "add buy milk")
    [exported] = [value for value in console_objects(stdout) if "resource_metrics" in value]
    names = {
        metric["name"]
        for resource_metrics in exported["resource_metrics"]
        for scope_metrics in resource_metrics["scope_metrics"]
        for metric in scope_metrics["metrics"]
    }
    assert names >= GENAI_METRICS
    assert not any("name" in value and "context" in value for value in console_objects(stdout))  # no spans
    assert stderr == ""
