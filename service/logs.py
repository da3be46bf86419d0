"""Logs to stderr with the trace they belong to: JSON lines in production, one readable line a record in dev.

`opentelemetry-instrumentation-logging` (installed by `service.telemetry`) stamps each record with
`otelTraceID` and `otelSpanID` ("0" outside any span); python-json-logger writes the JSON. Logs are not
exported by OTLP: the platform collects stderr.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from service.config import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [trace_id=%(otelTraceID)s span_id=%(otelSpanID)s]: %(message)s"
JSON_FIELDS = ["levelname", "name", "message", "otelTraceID", "otelSpanID"]
JSON_NAMES = {"levelname": "level", "name": "logger", "otelTraceID": "trace_id", "otelSpanID": "span_id"}
# Record attributes that are not fields of a line: the instrumentation's other stamps, uvicorn's colours.
NOT_FIELDS = [*RESERVED_ATTRS, "otelServiceName", "otelTraceSampled", "color_message"]
NO_TRACE = {"otelTraceID": "0", "otelSpanID": "0"}  # for records made before the instrumentation


class JsonLines(JsonFormatter):
    """A record's fields, its `extra` ones and its `exception`; trace ids only on records made inside a span."""

    def __init__(self) -> None:
        names = JSON_NAMES | {"exc_info": "exception"}
        super().__init__(JSON_FIELDS, rename_fields=names, reserved_attrs=NOT_FIELDS, timestamp=True)
        self.json_ensure_ascii = False

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        # The library merges a record's `extra` last; an extra named like a core field must not replace it.
        log_data.update({JSON_NAMES.get(field, field): record.__dict__.get(field) for field in JSON_FIELDS})
        if "exc_info" in message_dict:
            log_data["exception"] = message_dict["exc_info"]

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        if log_data.get("trace_id") in ("0", None):  # outside any span, or before the instrumentation
            for key in ("trace_id", "span_id"):
                log_data.pop(key, None)
        return {"timestamp": log_data.pop("timestamp"), **log_data}


class _StderrHandler(logging.Handler):
    """Writes to whatever `sys.stderr` is at the time (test runners swap it), like logging's last resort."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def configure_logging(settings: Settings) -> None:
    """One handler on the root logger (its format follows the latest settings); uvicorn's loggers are
    routed to it so access logs are structured too. Other handlers (a test runner's) are left alone."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        root.addHandler(handler := _StderrHandler())
    production = settings.env == "production"
    handler.setFormatter(JsonLines() if production else logging.Formatter(TEXT_FORMAT, defaults=NO_TRACE))
    for name in ("uvicorn", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
