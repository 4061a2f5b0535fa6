"""Progress and errors of deploy and destroy steps."""

from __future__ import annotations

import threading
from collections.abc import Callable

import grpc

from orchestrator.domain.lab import DeployProgress

LOG_TAIL = 20
ProgressCallback = Callable[[DeployProgress], None]


class DeployError(RuntimeError):
    """A deploy/destroy step failed: names the lab, the step, the node and what it printed."""

    def __init__(
        self, lab: str, step: str, detail: str, *, node: str | None = None, logs: str = ""
    ) -> None:
        self.lab, self.step, self.node, self.detail, self.logs = lab, step, node, detail, logs
        where = f"lab {lab}: {step}" + (f" {node}" if node else "")
        text = f"{where}: {detail}"
        if logs.strip():
            text += f"\n  last lines of {node or 'its'} log:\n" + "\n".join(
                "    " + line for line in logs.strip().splitlines()[-LOG_TAIL:]
            )
        super().__init__(text)


class LabConflictError(DeployError):
    """The lab is deployed from a different topology (and ``replace`` was not given)."""


class Reporter:
    """Calls the progress callback (from any thread, one call at a time)."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.lock = threading.Lock()

    def __call__(self, step: str, node: str | None, done: int, total: int, msg: str = "") -> None:
        if self.callback is not None:
            with self.lock:
                self.callback(DeployProgress(step, node or "", done, total, msg))


def describe(exc: BaseException) -> str:
    if isinstance(exc, grpc.Call):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc) or type(exc).__name__
