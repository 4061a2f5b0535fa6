"""Network interfaces of one node: name, MAC, one IPv4 address/prefix, MTU, up/down.

Two MTUs: ``base_mtu`` is the configured one (``ip link set mtu``), ``mtu`` the one in
force, which every path reads: ``base_mtu``, or lower while something caps it (an MTU
fault, see nodes/faults/mtu.py). Change them only through :meth:`Interface.set_base_mtu`
and :meth:`Interface.set_mtu_cap`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from nodes.wire.addr import ALL_HOSTS, BROADCAST_IP, directed_broadcast, network_of, prefix_mask

MIN_MTU = 68  # RFC 791: every IPv4 module must take 68-byte packets unfragmented


@dataclass(slots=True)
class Interface:
    name: str
    mac: bytes
    address: int
    prefix_len: int
    mtu: int = 1500  # in force: min(base_mtu, mtu_cap)
    up: bool = True
    mask: int = field(init=False)
    network: int = field(init=False)
    broadcast: int = field(init=False)
    base_mtu: int = field(init=False)  # configured
    mtu_cap: int | None = field(init=False, default=None)  # None: nothing caps it
    # IPv4 multicast groups joined here (IP_ADD_MEMBERSHIP); others are not delivered
    groups: set[int] = field(init=False)

    def __post_init__(self) -> None:
        self.groups = {ALL_HOSTS}
        if len(self.mac) != 6:
            raise ValueError(f"interface {self.name}: MAC must be 6 bytes, got {len(self.mac)}")
        check_mtu(self.name, self.mtu)
        self.base_mtu = self.mtu
        self._set_addr(self.address, self.prefix_len)

    def _set_addr(self, address: int, prefix_len: int) -> None:
        if not 0 <= prefix_len <= 32:
            raise ValueError(f"interface {self.name}: prefix length {prefix_len} not in 0..32")
        self.address, self.prefix_len = address, prefix_len
        self.mask = prefix_mask(prefix_len)
        self.network = network_of(address, prefix_len)
        self.broadcast = directed_broadcast(address, prefix_len)

    def on_link(self, address: int) -> bool:
        return (address & self.mask) == self.network

    def set_base_mtu(self, mtu: int) -> bool:
        """The configured MTU; True when the MTU in force changed."""
        check_mtu(self.name, mtu)
        self.base_mtu = mtu
        return self._refresh_mtu()

    def set_mtu_cap(self, cap: int | None) -> bool:
        """Cap the MTU in force at ``cap`` (None: no cap); True when it changed."""
        if cap is not None:
            check_mtu(self.name, cap)
        self.mtu_cap = cap
        return self._refresh_mtu()

    def _refresh_mtu(self) -> bool:
        cap = self.mtu_cap
        mtu = self.base_mtu if cap is None or cap >= self.base_mtu else cap
        changed = mtu != self.mtu
        self.mtu = mtu
        return changed


def check_mtu(name: str, mtu: int) -> None:
    if mtu < MIN_MTU:
        raise ValueError(f"interface {name}: MTU {mtu} is below the IPv4 minimum {MIN_MTU}")


class Interfaces:
    """The interface table, with fast lookups for local and broadcast addresses.

    ``by_name``, ``local`` (address -> interface, up or not) and ``broadcasts`` are the
    tables themselves, public for the per-packet paths (one dict/set probe instead of a
    method call); change them only through :meth:`add` and :meth:`readdress`."""

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

    def readdress(self, iface: Interface, address: int, prefix_len: int) -> None:
        """Give ``iface`` a new address/prefix, keeping the lookup tables right."""
        other = self.local.get(address)
        if other is not None and other is not iface:
            raise ValueError(f"interface {iface.name}: address already on {other.name}")
        Interface(iface.name, iface.mac, address, prefix_len)  # validates, or raises
        if self.local.get(iface.address) is iface:
            del self.local[iface.address]
        iface._set_addr(address, prefix_len)
        self.local[address] = iface
        self.broadcasts = {BROADCAST_IP} | {
            i.broadcast for i in self.by_name.values() if i.prefix_len < 31
        }

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
