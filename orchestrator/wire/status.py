"""gRPC status codes <-> the domain's errors (:mod:`orchestrator.domain.errors`)."""

from __future__ import annotations

import grpc

from orchestrator.domain.errors import (
    ERRORS,
    Cancelled,
    Internal,
    LabError,
    Unavailable,
)

_CODES: dict[str, grpc.StatusCode] = {
    "invalid_argument": grpc.StatusCode.INVALID_ARGUMENT,
    "not_found": grpc.StatusCode.NOT_FOUND,
    "already_exists": grpc.StatusCode.ALREADY_EXISTS,
    "failed_precondition": grpc.StatusCode.FAILED_PRECONDITION,
    "unavailable": grpc.StatusCode.UNAVAILABLE,
    "unauthenticated": grpc.StatusCode.UNAUTHENTICATED,
    "resource_exhausted": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "cancelled": grpc.StatusCode.CANCELLED,
    "internal": grpc.StatusCode.INTERNAL,
    "unknown": grpc.StatusCode.UNKNOWN,
}
_WORDS = {code: word for word, code in _CODES.items()}


def status_code(error: LabError) -> grpc.StatusCode:
    return _CODES.get(error.code, grpc.StatusCode.UNKNOWN)


def from_rpc_error(exc: grpc.RpcError, *, prefix: str = "") -> LabError:
    """A failed call as the domain error of its status (``prefix`` says who answered,
    e.g. ``node r1: ``). A deadline is :class:`Unavailable`: nobody answered in time."""
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (exc.details() if isinstance(exc, grpc.Call) else "") or code.name.lower()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Unavailable(f"{prefix}no answer in time ({details})")
    if code == grpc.StatusCode.CANCELLED:
        return Cancelled(f"{prefix}{details}")
    cls = ERRORS.get(_WORDS.get(code, ""), None)
    if cls is None:
        return Internal(f"{prefix}{code.name}: {details}")
    if prefix:
        return cls(prefix + details)
    field, sep, rest = details.partition(": ")
    if sep and field and " " not in field and "/" not in field:
        return cls(rest, field)  # "fault.target.endpoint: ..." keeps its field
    return cls(details)
