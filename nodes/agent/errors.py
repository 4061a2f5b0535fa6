"""Errors the agent maps to gRPC status codes (the servicer does the mapping).

ArgumentError -> INVALID_ARGUMENT, NotFoundError -> NOT_FOUND, AlreadyExistsError ->
ALREADY_EXISTS, NotConfiguredError / ConflictError -> FAILED_PRECONDITION. Messages name
the offending field, dotted like the proto path: ``fault.loss: must be within 0..1``.
"""

from __future__ import annotations


class AgentError(Exception):
    """Base class: something the client asked for cannot be done."""


class ArgumentError(AgentError, ValueError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFoundError(AgentError, LookupError):
    pass


class AlreadyExistsError(AgentError):
    pass


class NotConfiguredError(AgentError):
    def __init__(self, what: str = "this call") -> None:
        super().__init__(f"the node is not configured yet: Configure it before {what}")


class ConflictError(AgentError):
    """The request contradicts the node's state (e.g. a second, different Configure)."""


class CancelledError(AgentError):
    """A long-running job was cancelled (client gone, RPC deadline, node stopping)."""
