"""The one error layer: clients get `{"error": {"code", "message"}}`, the log gets the detail."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import ServiceError

log = logging.getLogger("service.errors")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


_DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)
_RACES = (IntegrityError, StaleDataError)


def error_for(exc: Exception) -> tuple[int, str, str]:
    """The status, code and message a client gets for an exception: never the exception's own text.

    Shared by the handlers below and by the chat stream, whose failures after the first byte can
    only be reported as an `error` event.
    """
    if isinstance(exc, ServiceError):
        return exc.status_code, exc.code, exc.message
    if isinstance(exc, _DATABASE_DOWN):
        return 503, "unavailable", "the database is unavailable; try again shortly"
    if isinstance(exc, _RACES):
        # A write raced a change to what it refers to (e.g. a conversation deleted meanwhile, or a todo
        # deleted between its read and its update): the request is fine, the state moved on. A 500 would
        # read as our bug; retrying may well succeed.
        return 409, "conflict", "the data changed while this request ran; try again"
    return 500, "internal", "internal error"


def log_failure(request: Request, exc: Exception) -> None:
    """Log what the client is not told: the detail of database and unexpected failures."""
    if isinstance(exc, ServiceError):
        return
    if isinstance(exc, _DATABASE_DOWN):
        # One line, no traceback: during an outage every request fails the same known way.
        cause = type(getattr(exc, "orig", None) or exc).__name__
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, cause)
        return
    if isinstance(exc, _RACES):  # expected under concurrent writes: one line, no traceback
        cause = type(getattr(exc, "orig", None) or exc).__name__  # not its text: that holds the row's values
        log.warning("concurrent change on %s %s: %s", request.method, request.url.path, cause)
        return
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)


_NOT_JSON = "request body is not valid JSON"
_JSON_TYPE_RE = re.compile(r"\s*application/(?:[\w.+-]+\+)?json\b", re.I)
# What FastAPI says of a body it could not decode (invalid UTF-8, nesting too deep for the parser).
_UNPARSED_BODY = "There was an error parsing the body"


def _validation_message(exc: RequestValidationError, content_type: str) -> tuple[int, str, str]:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return 400, "invalid_json", _NOT_JSON
    first = errors[0] if errors else {}
    if tuple(first.get("loc", ())) == ("body",) and not _JSON_TYPE_RE.match(content_type):
        # FastAPI read no JSON from the body: its Content-Type is missing or says something else.
        return 415, "unsupported_media_type", "send the request body as JSON, with Content-Type: application/json"
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "request"
    return 422, "validation_error", f"{where}: {first.get('msg', 'invalid value')}"


class UnhandledErrors:
    """ASGI middleware: an unexpected exception becomes the JSON 500 here, inside the other middleware, so the
    500 carries the security headers like every answer, and is not raised on, so the server keeps the
    connection. (Starlette's catch-all handler runs outside all middleware and re-raises.) A failure after
    the response started (a stream) is raised on: its status is sent already."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started or scope["type"] != "http":  # lifespan and websocket failures are not answers
                raise
            log_failure(Request(scope), exc)
            await error_response(*error_for(exc))(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, exc.message, exc.headers())

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_message(exc, request.headers.get("content-type", ""))
        return error_response(status, code, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _UNPARSED_BODY:
            return error_response(400, "invalid_json", _NOT_JSON)
        code = _HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(IntegrityError)
    @app.exception_handler(StaleDataError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> JSONResponse:
        log_failure(request, exc)
        return error_response(*error_for(exc))
