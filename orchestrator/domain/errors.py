"""The errors of the lab API, the same on both sides of the wire.

The service raises them, the gRPC layer carries them as status codes, and the Python
client raises the same classes again, so code that catches :class:`NotFound` works in
process and over the network alike. Every error names the field it is about when there is
one (``fault.target.endpoint: lab quickstart has no node 'h9'``); messages are cut to
:data:`MAX_MESSAGE` characters and values echoed in them to :data:`MAX_ECHO`.
"""

from __future__ import annotations

MAX_MESSAGE = 1000  # bytes of a message, UTF-8 (a gRPC status detail stays under 1 KiB)
MAX_ECHO = 60  # characters of a caller's value quoted in a message


def echo(value: object) -> str:
    """``repr`` of a caller's value for a message, cut to :data:`MAX_ECHO` characters."""
    text = repr(value)
    return text if len(text) <= MAX_ECHO else text[: MAX_ECHO - 4] + "...'"


def cut(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` within ``limit`` bytes of UTF-8 (a whole character at the end)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", "ignore") + "..."


class LabError(Exception):
    """A request the lab refused or could not do. ``code`` is the status in words
    (``invalid_argument``, ``not_found`` ...), ``field`` the request field it is about."""

    code = "unknown"

    def __init__(self, message: str, field: str = "") -> None:
        self.field = field
        self.detail = message
        self.message = cut(f"{field}: {message}" if field else message)
        super().__init__(self.message)

    def as_json(self) -> dict[str, str]:
        """``{"code": "not_found", "message": "node: ..."}`` (a journal's error entry)."""
        return {"code": self.code, "message": self.message}

    def with_field_prefix(self, prefix: str) -> LabError:
        """The same error about ``prefix.field`` (a request nested in another)."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return type(self)(self.detail, field)


class InvalidArgument(LabError):
    code = "invalid_argument"


class NotFound(LabError):
    code = "not_found"


class AlreadyExists(LabError):
    code = "already_exists"


class FailedPrecondition(LabError):
    """The lab or node cannot do it now (a stopped node, a linux node without an agent)."""

    code = "failed_precondition"


class Unavailable(LabError):
    """The server or a node agent does not answer (in time)."""

    code = "unavailable"


class Unauthenticated(LabError):
    code = "unauthenticated"


class ResourceExhausted(LabError):
    """Too much at once (a message over the size limit, no worker free)."""

    code = "resource_exhausted"


class Cancelled(LabError):
    code = "cancelled"


class Internal(LabError):
    """A bug: the service failed in a way it did not expect."""

    code = "internal"


ERRORS: dict[str, type[LabError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        Unavailable,
        Unauthenticated,
        ResourceExhausted,
        Cancelled,
        Internal,
    )
}
