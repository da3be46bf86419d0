"""A local OTLP/HTTP receiver: what "tracing on" exports to during the benchmark.

It accepts `POST /v1/traces` and `/v1/metrics` (protobuf, gzip or not), counts the requests, bytes and
spans, and answers 200 with an empty export response (the same bytes for both), as a collector does.
It runs in a thread of the benchmark process, which is otherwise idle while the load generator runs.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_EMPTY = ExportTraceServiceResponse().SerializeToString()


@dataclass
class Counts:
    requests: int = 0
    bytes: int = 0
    spans: int = 0


class OtlpSink:
    def __init__(self) -> None:
        self.counts = Counts()
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                spans = 0
                if self.path == "/v1/traces":  # `/v1/metrics` (the GenAI metrics) is taken and only counted
                    request = ExportTraceServiceRequest.FromString(body)
                    spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
                with sink._lock:
                    sink.counts.requests += 1
                    sink.counts.bytes += len(body)
                    sink.counts.spans += spans
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(_EMPTY)))
                self.end_headers()
                self.wfile.write(_EMPTY)

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-sink", daemon=True)

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(self.counts.requests, self.counts.bytes, self.counts.spans)

    def __enter__(self) -> OtlpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
