"""Node actions (kill, stop, start, restart, pause, unpause): which state each one accepts
and where it leads, shared by every backend so they refuse the same things in the same
words.

The table is Docker's behaviour (measured with Docker 20.10): ``kill`` needs a running or
paused container; ``stop`` of a stopped one is a no-op; ``start`` of a running one is a
no-op but a paused one must be unpaused first; ``restart`` works from any state but
removal; ``pause`` needs a running container and ``unpause`` a paused one.

    target = transition("r1", "unpause", "running")   # NodeStateError: ... it is running
"""

from __future__ import annotations

from orchestrator.domain.errors import FailedPrecondition
from orchestrator.lab.backends.base import BackendError

# action -> {current state: state afterwards}
TRANSITIONS: dict[str, dict[str, str]] = {
    "kill": {"running": "exited", "paused": "exited"},
    "stop": {"running": "exited", "paused": "exited", "exited": "exited", "created": "created"},
    "start": {"created": "running", "exited": "running", "running": "running"},
    "restart": {s: "running" for s in ("created", "exited", "running", "paused")},
    "pause": {"running": "paused"},
    "unpause": {"paused": "running"},
}
ACTIONS = tuple(TRANSITIONS)

_HINTS = {
    ("start", "paused"): "unpause it instead",
    ("unpause", "running"): "it is not paused",
    ("unpause", "exited"): "start it instead",
    ("pause", "paused"): "it is already paused",
    ("pause", "exited"): "start it first",
    ("kill", "exited"): "it is not running",
}


class NodeStateError(BackendError, FailedPrecondition):
    """A node action the node's current state does not allow (gRPC FAILED_PRECONDITION
    through the lab service, field ``action``)."""

    def __init__(self, node: str, action: str, state: str) -> None:
        self.node, self.action, self.state = node, action, state
        allowed = " or ".join(TRANSITIONS.get(action, {})) or "nothing"
        hint = _HINTS.get((action, state), f"{action} needs a node that is {allowed}")
        message = f"cannot {action} {node}: it is {state} ({hint})"
        FailedPrecondition.__init__(self, message, "action")


def transition(node: str, action: str, state: str) -> str:
    """The state ``node`` will be in after ``action`` from ``state``; NodeStateError when
    the action is not allowed there (or the node is missing)."""
    if action not in TRANSITIONS:
        raise BackendError(f"unknown node action {action!r}; allowed: {', '.join(ACTIONS)}")
    target = TRANSITIONS[action].get(state)
    if target is None:
        raise NodeStateError(node, action, state)
    return target
