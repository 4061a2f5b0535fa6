"""Ports for nodes that run in this process: the in-memory links (:mod:`nodes.io.memport`)
a node's runtime reads and writes instead of raw sockets (the orchestrator's sim backend,
and tests)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from nodes.agent.config import NodeConfig
from nodes.agent.errors import ArgumentError
from nodes.agent.runtime import AttachedPort, PortFactory
from nodes.io.memport import MemPort, MemPortCounters


class _Borrowed:
    """A MemPort the runtime uses but does not own (the lab closes it)."""

    def __init__(self, port: MemPort) -> None:
        self.port = port
        self.fileno = port.fileno
        self.recv_batch = port.recv_batch
        self.send = port.send

    @property
    def pending(self) -> int:
        return self.port.pending

    @property
    def counters(self) -> MemPortCounters:
        return self.port.counters

    def close(self) -> None:
        pass


def mac_for(node: str, iface: str) -> bytes:
    """A locally administered MAC for an interface configured without one."""
    return b"\x02" + hashlib.sha256(f"{node}/{iface}".encode()).digest()[:5]


def memport_factory(ports: Mapping[str, MemPort]) -> PortFactory:
    """Ports for a runtime: the in-memory port of each configured interface, by name."""

    def factory(config: NodeConfig) -> dict[str, AttachedPort]:
        out = {}
        for i, spec in enumerate(config.interfaces):
            port = ports.get(spec.name)
            if port is None:
                have = ", ".join(sorted(ports)) or "none"
                raise ArgumentError(
                    f"interfaces[{i}].name", f"no in-process port {spec.name!r} (have {have})"
                )
            mac = spec.mac or mac_for(config.name, spec.name)
            out[spec.name] = AttachedPort(_Borrowed(port), f"mem:{port.name}", mac)
        return out

    return factory
