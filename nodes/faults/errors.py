"""Typed errors of the fault engine. The gRPC layer maps them to status codes:
FaultSpecError -> INVALID_ARGUMENT, UnknownFaultError -> NOT_FOUND,
DuplicateFaultError -> ALREADY_EXISTS."""

from __future__ import annotations

from mypy_extensions import mypyc_attr


# compiled (setup.py): UnknownFaultError extends KeyError, which only a non-native class can,
# and a non-native class cannot extend a native one: so the base and it are non-native
@mypyc_attr(native_class=False)
class FaultError(Exception):
    """Base class of every error raised by nodes.faults."""


class FaultSpecError(FaultError, ValueError):
    """A fault spec is invalid. ``field`` names the offending field (dotted for nested
    ones, e.g. ``gilbert_elliott.p``); str(error) reads "field: problem, got value"."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@mypyc_attr(native_class=False)
class UnknownFaultError(FaultError, KeyError):
    """No fault with this id on this engine."""

    def __init__(self, fault_id: str) -> None:
        super().__init__(fault_id)
        self.fault_id = fault_id

    def __str__(self) -> str:
        return f"no fault with id {self.fault_id!r}"


class DuplicateFaultError(FaultError, ValueError):
    """A fault with this id already exists on this engine."""

    def __init__(self, fault_id: str) -> None:
        super().__init__(f"a fault with id {fault_id!r} already exists")
        self.fault_id = fault_id
