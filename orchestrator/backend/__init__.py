"""Where labs run: :mod:`.docker` (containers), :mod:`.sim` (in this process), :mod:`.fake`
(unit tests). :func:`make_backend` picks one by name (the CLI's ``--backend``)."""

from __future__ import annotations

from typing import Any

from orchestrator.backend.base import Backend, BackendError

BACKENDS = ("docker", "sim")


def make_backend(name: str, **options: Any) -> Backend:
    """``docker`` (options: image, management_pool) or ``sim``."""
    if name == "docker":
        from orchestrator.backend.docker import DockerBackend

        return DockerBackend(**options)
    if name == "sim":
        from orchestrator.backend.sim import SimBackend

        return SimBackend(**options)
    raise BackendError(f"unknown backend {name!r}: expected one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "BackendError", "make_backend"]
