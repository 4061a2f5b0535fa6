"""Forwarding information base: longest-prefix match over connected, static, RIP and default
routes. One dict per prefix length, searched longest first, plus a per-destination cache
(cleared on any change) so the per-packet lookup is usually one dict hit.

One route per prefix. Between sources the administrative distance decides, as on Linux
with FRR (connected 0, static 1, RIP 120): a RIP route never replaces a connected or
static one, and either replaces a RIP route; a RIP route replaces the RIP route before it
(the routing engine decides). Between connected and static routes the lower metric wins.

``version`` counts changes (a routing engine that redistributes the table watches it);
``stamp`` records when a route was last installed or confirmed, for its age."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from nodes.wire.addr import ip_to_str, prefix_mask

_MASKS = tuple(prefix_mask(n) for n in range(33))
_CACHE_MAX = 4096


class RouteKind(Enum):
    CONNECTED = "connected"
    STATIC = "static"
    RIP = "rip"


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


_RIP = RouteKind.RIP


class Fib:
    __slots__ = ("_cache", "_down", "_lengths", "_stamps", "_tables", "version")

    def __init__(self) -> None:
        self._tables: dict[int, dict[int, Route]] = {}
        self._lengths: list[int] = []  # prefix lengths present, longest first
        self._down: set[str] = set()
        self._cache: dict[int, Route | None] = {}
        self._stamps: dict[tuple[int, int], float] = {}
        self.version = 0

    def add(self, route: Route, *, now: float | None = None) -> bool:
        """Add or replace the route for ``route.prefix/route.prefix_len`` (see the module
        doc for which route wins); False when the existing route stays. ``now`` stamps it."""
        if route.prefix & ~_MASKS[route.prefix_len] & 0xFFFFFFFF:
            raise ValueError(f"route {route}: host bits set in the prefix")
        table = self._tables.setdefault(route.prefix_len, {})
        old = table.get(route.prefix)
        if old is not None:
            if old.kind is _RIP or route.kind is _RIP:
                if route.kind is _RIP and old.kind is not _RIP:
                    return False
            elif old.metric < route.metric:
                return False
        table[route.prefix] = route
        self._lengths = sorted((n for n, t in self._tables.items() if t), reverse=True)
        self._cache.clear()
        self.version += 1
        if now is None:
            self._stamps.pop((route.prefix, route.prefix_len), None)
        else:
            self._stamps[(route.prefix, route.prefix_len)] = now
        return True

    def remove(self, prefix: int, prefix_len: int, kind: RouteKind | None = None) -> bool:
        """Remove the route for the prefix (only when it is of ``kind``, if given)."""
        table = self._tables.get(prefix_len)
        if table is None:
            return False
        old = table.get(prefix)
        if old is None or (kind is not None and old.kind is not kind):
            return False
        del table[prefix]
        self._stamps.pop((prefix, prefix_len), None)
        self._lengths = sorted((n for n, t in self._tables.items() if t), reverse=True)
        self._cache.clear()
        self.version += 1
        return True

    def get(self, prefix: int, prefix_len: int) -> Route | None:
        """The route for exactly this prefix (no longest-prefix match)."""
        table = self._tables.get(prefix_len)
        return None if table is None else table.get(prefix)

    def stamp(self, prefix: int, prefix_len: int, now: float) -> None:
        """The route for the prefix was confirmed at ``now`` (a routing update)."""
        if self.get(prefix, prefix_len) is not None:
            self._stamps[(prefix, prefix_len)] = now

    def age(self, route: Route, now: float) -> float | None:
        """Seconds since the route was installed or last confirmed (None: not stamped)."""
        at = self._stamps.get((route.prefix, route.prefix_len))
        return None if at is None else max(0.0, now - at)

    def set_interface_up(self, ifname: str, up: bool) -> None:
        """Routes through a down interface are skipped by lookups (Linux 'linkdown')."""
        if up:
            self._down.discard(ifname)
        else:
            self._down.add(ifname)
        self._cache.clear()
        self.version += 1

    def is_up(self, ifname: str) -> bool:
        return ifname not in self._down

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
