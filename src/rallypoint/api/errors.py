"""API errors in OSDI's shape, with a plain `error` string for simple clients.

{"osdi:error": {"response_code": 400, "reason": "...",
                "errors": [{"field": "email_addresses", "description": "..."}]},
 "error": "email_addresses: ..."}
"""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from .hal import HalResponse

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


class ApiError(Exception):
    status = 400

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.errors = errors or ([{"field": field, "description": message}] if field else [])
        self.headers = headers or {}

    def response(self) -> HalResponse:
        body: dict[str, Any] = {
            "osdi:error": {
                "response_code": self.status,
                "reason": REASONS.get(self.status, "Error"),
                "description": self.message,
            },
            "error": self.message,
        }
        if self.errors:
            body["osdi:error"]["errors"] = self.errors
        response = HalResponse(body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


class BadRequest(ApiError):
    status = 400

    @classmethod
    def from_validation(cls, exc: ValidationError, field_names: dict[str, str] | None = None):
        """Turn a service's ValidationError into a 400 naming each OSDI field and its reason."""
        field_names = field_names or {}
        errors = []
        if hasattr(exc, "error_dict"):
            for name, messages in exc.message_dict.items():
                field = "" if name == NON_FIELD_ERRORS else field_names.get(name, name)
                for message in messages:
                    errors.append({"field": field, "description": message})
        else:
            errors = [{"field": "", "description": m} for m in exc.messages]
        text = "; ".join(
            f"{e['field']}: {e['description']}" if e["field"] else e["description"] for e in errors
        )
        return cls(text or "Invalid request.", errors=[e for e in errors if e["field"]] or None)


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class Conflict(ApiError):
    status = 409


class TooLarge(ApiError):
    status = 413


class TooManyRequests(ApiError):
    status = 429


class ServiceUnavailable(ApiError):
    status = 503
