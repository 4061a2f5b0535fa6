"""Forwarding information base: longest-prefix match over connected, static and default
routes. One dict per prefix length, searched longest first, plus a per-destination cache
(cleared on any change) so the per-packet lookup is usually one dict hit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from nodes.wire.addr import ip_to_str, prefix_mask

_MASKS = tuple(prefix_mask(n) for n in range(33))
_CACHE_MAX = 4096


class RouteKind(Enum):
    CONNECTED = "connected"
    STATIC = "static"


@dataclass(frozen=True, slots=True)
class Route:
    prefix: int
    prefix_len: int
    ifname: str
    gateway: int | None = None  # None: directly connected (next hop = destination)
    kind: RouteKind = RouteKind.STATIC
    metric: int = 0

    def next_hop(self, dst: int) -> int:
        return dst if self.gateway is None else self.gateway

    def __str__(self) -> str:
        via = f" via {ip_to_str(self.gateway)}" if self.gateway is not None else ""
        net = f"{ip_to_str(self.prefix)}/{self.prefix_len}"
        return f"{net}{via} dev {self.ifname} {self.kind.value}"


class Fib:
    __slots__ = ("_cache", "_down", "_lengths", "_tables")

    def __init__(self) -> None:
        self._tables: dict[int, dict[int, Route]] = {}
        self._lengths: list[int] = []  # prefix lengths present, longest first
        self._down: set[str] = set()
        self._cache: dict[int, Route | None] = {}

    def add(self, route: Route) -> None:
        """Add or replace the route for ``route.prefix/route.prefix_len``. A route with a
        lower metric wins over an existing one for the same prefix; equal replaces."""
        if route.prefix & ~_MASKS[route.prefix_len] & 0xFFFFFFFF:
            raise ValueError(f"route {route}: host bits set in the prefix")
        table = self._tables.setdefault(route.prefix_len, {})
        old = table.get(route.prefix)
        if old is not None and old.metric < route.metric:
            return
        table[route.prefix] = route
        self._lengths = sorted((n for n, t in self._tables.items() if t), reverse=True)
        self._cache.clear()

    def remove(self, prefix: int, prefix_len: int) -> bool:
        table = self._tables.get(prefix_len)
        if table is None or table.pop(prefix, None) is None:
            return False
        self._lengths = sorted((n for n, t in self._tables.items() if t), reverse=True)
        self._cache.clear()
        return True

    def set_interface_up(self, ifname: str, up: bool) -> None:
        """Routes through a down interface are skipped by lookups (Linux 'linkdown')."""
        if up:
            self._down.discard(ifname)
        else:
            self._down.add(ifname)
        self._cache.clear()

    def lookup(self, dst: int) -> Route | None:
        cache = self._cache
        try:
            return cache[dst]
        except KeyError:
            pass
        found: Route | None = None
        tables = self._tables
        for n in self._lengths:
            route = tables[n].get(dst & _MASKS[n])
            if route is not None and route.ifname not in self._down:
                found = route
                break
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[dst] = found
        return found

    def routes(self) -> list[Route]:
        return [r for n in self._lengths for r in self._tables[n].values()]
