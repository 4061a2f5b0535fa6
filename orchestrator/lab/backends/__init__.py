"""Where labs run: :mod:`.docker` (containers on bridge networks), :mod:`.swarm` (containers
across a Docker Swarm's engines on overlay networks), :mod:`.sim` (every node in this
process, real time), :mod:`.virtual` (every node in this process, virtual time),
:mod:`.fake` (nothing real; unit tests). :class:`Backends` is
the one registry: one backend object per kind, made on first use, and the choice a user
gets by default (docker when an engine answers, else sim)."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from orchestrator.domain.errors import InvalidArgument, echo
from orchestrator.lab.backends.base import Backend, BackendError

BACKENDS = ("docker", "sim", "virtual", "swarm")
IN_PROCESS = ("sim", "virtual")  # labs that live and die with this process


def make_backend(name: str) -> Backend:
    """A new backend object of kind ``name``."""
    if name == "docker":
        from orchestrator.lab.backends.docker import DockerBackend

        return DockerBackend()
    if name == "sim":
        from orchestrator.lab.backends.sim import SimBackend

        return SimBackend()
    if name == "virtual":
        from orchestrator.lab.backends.virtual import VirtualBackend

        return VirtualBackend()

    if name == "swarm":
        from orchestrator.lab.backends.swarm import SwarmBackend

        return SwarmBackend()
    raise InvalidArgument(
        f"unknown backend {echo(name)}; allowed: {', '.join(BACKENDS)}", "backend"
    )


class Backends:
    """One backend object per kind (a server's sim labs live in its sim backend object).
    ``preset`` pins objects (tests pin a docker backend to an image, or a fake)."""

    def __init__(self, preset: Mapping[str, Backend] | None = None) -> None:
        self._lock = threading.Lock()
        self._made: dict[str, Backend] = dict(preset or {})

    def get(self, name: str) -> Backend:
        with self._lock:
            if name not in self._made:
                self._made[name] = make_backend(name)
            return self._made[name]

    def made(self, name: str) -> bool:
        with self._lock:
            return name in self._made

    def choose(self, name: str) -> tuple[str, str]:
        """(backend, why) for a request's backend ("" : docker when an engine answers)."""
        if name:
            if name not in BACKENDS and not self.made(name):
                raise InvalidArgument(
                    f"unknown backend {echo(name)}; allowed: {', '.join(BACKENDS)}", "backend"
                )
            return name, "asked for"
        if self.made("docker"):
            return "docker", "a Docker engine answers"
        from orchestrator.image.engine import docker_answers

        if docker_answers(timeout=5.0):
            return "docker", "a Docker engine answers"
        return "sim", "no Docker engine answers: every node runs in the server process"

    def close(self) -> None:
        with self._lock:
            made, self._made = list(self._made.values()), {}
        for backend in made:
            close = getattr(backend, "close", None)
            if close is not None and backend.name in IN_PROCESS:
                close()


__all__ = ["BACKENDS", "IN_PROCESS", "Backend", "BackendError", "Backends", "make_backend"]
