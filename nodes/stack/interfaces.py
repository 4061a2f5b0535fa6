"""Network interfaces of one node: name, MAC, one IPv4 address/prefix, MTU, up/down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from nodes.wire.addr import BROADCAST_IP, directed_broadcast, network_of, prefix_mask


@dataclass(slots=True)
class Interface:
    name: str
    mac: bytes
    address: int
    prefix_len: int
    mtu: int = 1500
    up: bool = True
    mask: int = field(init=False)
    network: int = field(init=False)
    broadcast: int = field(init=False)

    def __post_init__(self) -> None:
        if len(self.mac) != 6:
            raise ValueError(f"interface {self.name}: MAC must be 6 bytes, got {len(self.mac)}")
        if self.mtu < 68:
            raise ValueError(f"interface {self.name}: MTU {self.mtu} is below the IPv4 minimum 68")
        self.mask = prefix_mask(self.prefix_len)
        self.network = network_of(self.address, self.prefix_len)
        self.broadcast = directed_broadcast(self.address, self.prefix_len)

    def on_link(self, address: int) -> bool:
        return (address & self.mask) == self.network


class Interfaces:
    """The interface table, with fast lookups for local and broadcast addresses.

    ``by_name``, ``local`` (address -> interface, up or not) and ``broadcasts`` are the
    tables themselves, public for the per-packet paths (one dict/set probe instead of a
    method call); change them only through :meth:`add`."""

    __slots__ = ("broadcasts", "by_name", "local")

    def __init__(self) -> None:
        self.by_name: dict[str, Interface] = {}
        self.local: dict[int, Interface] = {}
        self.broadcasts: set[int] = {BROADCAST_IP}

    def add(self, iface: Interface) -> None:
        if iface.name in self.by_name:
            raise ValueError(f"interface {iface.name} already exists")
        self.by_name[iface.name] = iface
        self.local[iface.address] = iface
        if iface.prefix_len < 31:
            self.broadcasts.add(iface.broadcast)

    def get(self, name: str) -> Interface:
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no interface {name!r} (have {sorted(self.by_name)})") from None

    def find(self, name: str) -> Interface | None:
        return self.by_name.get(name)

    def __iter__(self) -> Iterator[Interface]:
        return iter(self.by_name.values())

    def all(self) -> list[Interface]:
        return list(self.by_name.values())

    def owner_of(self, address: int) -> Interface | None:
        """The interface that owns ``address`` (up or not), or None."""
        return self.local.get(address)

    def is_local(self, address: int) -> bool:
        iface = self.local.get(address)
        return iface is not None and iface.up

    def is_broadcast(self, address: int) -> bool:
        return address in self.broadcasts
