"""Errors carried as TF Serving carries them: a canonical status code plus a message.

The REST layer turns the code into an HTTP status with TF Serving's table
(`http_server.cc`, `ToHTTPStatusCode`); the gRPC layer aborts with the same code.
"""

from __future__ import annotations

# TF Serving maps canonical codes to HTTP like this; FAILED_PRECONDITION and OUT_OF_RANGE are
# client errors (400) there too.
HTTP_STATUS_BY_CODE: dict[str, int] = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


class ServingError(Exception):
    """A request failed with canonical status `code` (e.g. "INVALID_ARGUMENT")."""

    def __init__(self, code: str, message: str) -> None:
        if code not in HTTP_STATUS_BY_CODE:
            raise ValueError(
                f"unknown status code {code!r}; allowed: {sorted(HTTP_STATUS_BY_CODE)}"
            )
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_CODE[self.code]

    def status_string(self) -> str:
        """As TF's `Status::ToString()`: used when TF Serving nests one error in another."""
        return f"{self.code}: {self.message}"


def invalid_argument(message: str) -> ServingError:
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message: str) -> ServingError:
    return ServingError("NOT_FOUND", message)
