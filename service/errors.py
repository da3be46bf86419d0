"""Domain errors. Each maps to one HTTP status and one short code a client or a model can act on."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400
    code = "invalid_argument"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def headers(self) -> dict[str, str] | None:
        """Response headers the status calls for (`WWW-Authenticate`, `Retry-After`)."""
        return None


class InvalidArgument(ServiceError):
    status_code = 400
    code = "invalid_argument"


class NotFound(ServiceError):
    """Also raised for other users' resources, so their existence never leaks."""

    status_code = 404
    code = "not_found"


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class RetryLater(ServiceError):
    """Refused for now: the client may try again after `retry_after_s` seconds, sent as `Retry-After`."""

    template = "retry in {} s"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(self.template.format(retry_after_s))
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_s)}


class RateLimited(RetryLater):
    status_code = 429
    code = "rate_limited"
    template = "too many requests; retry in {} s"


class Overloaded(RetryLater):
    """This worker already runs as many turns as it may (`AGENT_MAX_INFLIGHT_TURNS`): come back shortly."""

    status_code = 503
    code = "overloaded"
    template = "the service is at capacity; retry in {} s"


class ModelUnavailable(ServiceError):
    """The provider failed in a way the offline model must not paper over (e.g. it rejected our request)."""

    status_code = 503
    code = "model_unavailable"
