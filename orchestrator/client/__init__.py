"""The typed Python client of the lab service: :class:`LabClient` (deploy, find, list,
destroy labs) and :class:`Lab` (one running lab: faults, measurements, live configuration,
state, captures, events). Both return the domain's records; errors are the domain's
(:mod:`orchestrator.domain.errors`), the same classes the service raises."""

from __future__ import annotations

from orchestrator.client.connect import LabClient, connect, home, read_topology
from orchestrator.client.lab import Lab
from orchestrator.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    LabError,
    NotFound,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "AlreadyExists",
    "FailedPrecondition",
    "InvalidArgument",
    "Lab",
    "LabClient",
    "LabError",
    "NotFound",
    "Unauthenticated",
    "Unavailable",
    "connect",
    "home",
    "read_topology",
]
