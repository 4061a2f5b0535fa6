"""MTU faults applied to a node: the one place that decides which MTU each interface has
while MTU faults hold, for every loop (the real-time Runner, the virtual-time
Simulation) and the agent.

An MTU fault caps the MTU in force of its interface (every interface for ``*``) at its
``mtu`` for its life; with several, the lowest holds; the configured (base) MTU is what
the cap applies to and what comes back when the last one ends. :class:`MtuSync` pushes
the caps of a FaultEngine to a node whenever they changed (``pending``: one integer
compare, so a loop may ask every turn) and hands the node the engine's ``mtu_exceeded``
while any cap holds, so each fault counts the packets the node fragmented or refused
above its MTU. Sans-I/O: no time of its own; the loops call :meth:`MtuSync.sync` after
faults were added or removed and after the engine's ``on_timer`` (expiry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from .model import IFACE_ANY

MtuListener = Callable[[str, int, float], None]


class MtuNode(Protocol):
    """What a node offers (nodes/stack/host.py Host): interfaces with a capped MTU."""

    def interface_names(self) -> list[str]: ...
    def mtu_of(self, name: str) -> int: ...
    def cap_mtu(self, name: str, cap: int | None) -> bool: ...
    def set_mtu_listener(self, listener: MtuListener | None) -> None: ...


class MtuFaults(Protocol):
    """What a fault engine offers (nodes/faults/engine.py FaultEngine)."""

    @property
    def mtu_version(self) -> int: ...
    def mtu_caps(self) -> dict[str, int]: ...
    def mtu_exceeded(self, ifname: str, size: int, now: float) -> None: ...


_NODE_MEMBERS = ("interface_names", "mtu_of", "cap_mtu", "set_mtu_listener")
_FAULTS_MEMBERS = ("mtu_version", "mtu_caps", "mtu_exceeded")


@dataclass(frozen=True, slots=True)
class MtuChange:
    """The MTU in force of ``iface`` went from ``old`` to ``new``."""

    iface: str
    old: int
    new: int


class MtuSync:
    __slots__ = ("_faults", "_node", "_version")

    def __init__(self, node: MtuNode, faults: MtuFaults) -> None:
        self._node = node
        self._faults = faults
        self._version: int | None = None  # the engine's mtu_version last applied

    @classmethod
    def attach(cls, node: object, faults: object) -> MtuSync | None:
        """A sync for ``node`` and ``faults``, or None when either cannot take part (a
        test double without interfaces, an impairment without MTU faults). They take
        part when they have every member of their protocol, as ``runtime_checkable``
        would judge it (not used: compiled by mypyc, setup.py, a Protocol is no protocol
        class to ``typing``)."""
        if all(hasattr(node, m) for m in _NODE_MEMBERS) and all(
            hasattr(faults, m) for m in _FAULTS_MEMBERS
        ):
            return cls(cast(MtuNode, node), cast(MtuFaults, faults))
        return None

    @property
    def pending(self) -> bool:
        """Did the engine's MTU caps change since the last :meth:`sync`?"""
        return self._faults.mtu_version != self._version

    def sync(self) -> list[MtuChange]:
        """Apply the engine's caps to every interface of the node; the changes made."""
        faults, node = self._faults, self._node
        if faults.mtu_version == self._version:
            return []
        self._version = faults.mtu_version
        caps = faults.mtu_caps()
        wild = caps.get(IFACE_ANY)
        changes = []
        for name in node.interface_names():
            own = caps.get(name)
            cap = own if wild is None else wild if own is None else min(own, wild)
            old = node.mtu_of(name)
            if node.cap_mtu(name, cap):
                changes.append(MtuChange(name, old, node.mtu_of(name)))
        node.set_mtu_listener(faults.mtu_exceeded if caps else None)
        return changes
