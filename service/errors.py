"""Domain errors. Each maps to one HTTP status and one short code a client or a model can act on."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400
    code = "invalid_argument"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class Unavailable(ServiceError):
    status_code = 503
    code = "unavailable"


class ModelUnavailable(ServiceError):
    """The provider failed in a way the offline model must not paper over (e.g. it rejected our request)."""

    status_code = 503
    code = "model_unavailable"
