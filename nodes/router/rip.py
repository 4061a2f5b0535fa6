"""RIP version 2 (RFC 2453) for our routers and hosts, sans-I/O.

A :class:`RipEngine` lives on a :class:`~nodes.stack.host.Host` (a router, or a host in
silent mode that only listens): it binds UDP port 520, joins 224.0.0.9 on every interface
and is one of the host's timer clients. Time comes in as ``now``; the triggered-update
delays and the update timer's jitter come from the injected ``rng``.

What it does (RFC 2453 section numbers):

* Responses (3.9.2) are accepted from port 520, from a neighbour on a connected subnet that
  is not one of our addresses; with authentication on (RFC 2082 keyed MD5) only with the
  right key id and digest and a sequence number that does not go back (replays are
  counted and dropped). Each entry is checked (family, a contiguous mask, host bits, a
  unicast destination, metric 1..16) and a bad one is dropped alone. The metric plus the
  link's cost (1) is what that neighbour offers for the destination.
* Every neighbour's offer is kept until it times out (the ``timeout`` timer, 180 s) or the
  neighbour withdraws it (metric 16), as BIRD keeps them; the route in use is the best
  offer (a lower metric wins; on a tie the route in use stays). When the route in use
  fails, the next best offer takes over at once; when none is left the route is withdrawn:
  advertised with metric 16 for the ``garbage`` time (120 s), then deleted (3.8).
* Connected subnets (of up interfaces), static routes and, if asked, a default route are
  redistributed with metric 1; they win over what RIP learns for the same prefix.
* Updates (3.8, 3.10): every ``update_interval`` (30 s, jittered by up to 5 s) the whole
  table goes to 224.0.0.9 on every interface that is up and not passive, from that
  interface's address, TTL 1, at most 25 entries a message; changes also go out as a
  triggered update after a random 1..5 s (only the changed routes). Split horizon leaves
  out routes learned through the interface an update goes out of; with poisoned reverse
  they are sent with metric 16 instead (3.4.3).
* Requests (3.9.1): at start and whenever an interface comes up, a request for the whole
  table goes out; a request for the whole table is answered like an update (split
  horizon applies), a request for given prefixes with their metrics as they are.
* An interface that goes down takes its connected route, the routes through it and its
  neighbours with it at once (and an interface's carrier is its up state: a link-down
  *fault* drops frames silently, so it is noticed when the neighbour's routes time out).

Routes learned go into the host's FIB as :attr:`RouteKind.RIP` routes with their metric
(a connected or static route for the same prefix wins). Counters are the host's
(``rip_*``); route changes are kept for the agent's event stream (:meth:`drain_events`).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from nodes.router.fib import Route, RouteKind
from nodes.router.ripmodel import NeighborInfo, RipConfig, RipStatus, RouteChange, RouteInfo
from nodes.wire.addr import prefix_mask
from nodes.wire.errors import WireError
from nodes.wire.rip import (
    AF_INET,
    INFINITY,
    MD5_LEN,
    RIP_GROUP,
    RIP_PORT,
    RIP_VERSION,
    Md5Auth,
    Md5Key,
    RipCommand,
    RipEntry,
    RipMessage,
    build_rip,
    max_routes,
    parse_rip,
    verify_md5,
    whole_table_request,
)

if TYPE_CHECKING:
    from nodes.stack.host import Host
    from nodes.stack.interfaces import Interface

COUNTERS = (
    "rip_in_requests",
    "rip_in_responses",
    "rip_in_bad_packets",  # undecodable, wrong version/port/source, auth missing or mismatched
    "rip_in_bad_routes",  # entries dropped one by one (mask, metric, address)
    "rip_in_auth_failures",  # wrong or missing key id / digest
    "rip_in_auth_replays",  # a sequence number below the neighbour's last one
    "rip_out_requests",
    "rip_out_updates",  # regular update messages
    "rip_out_triggered_updates",  # triggered update messages
    "rip_out_responses",  # answers to requests
    "rip_out_errors",  # messages the stack could not send
    "rip_route_changes",  # routes added, changed or withdrawn in the FIB
)
MAX_JITTER = 5.0  # RFC 2453 3.8: the update timer is offset by up to +-5 s
EVENTS_KEPT = 1000
_TRIGGER_DELAY = (1.0, 5.0)  # RFC 2453 3.10.1


class Origin(Enum):
    CONNECTED = "connected"
    STATIC = "static"
    DEFAULT = "default"  # originated 0.0.0.0/0
    RIP = "rip"


@dataclass(slots=True)
class Offer:
    """What one neighbour says about a destination (metric with the link's cost)."""

    neighbor: int
    ifname: str
    gateway: int
    metric: int
    tag: int
    heard: float


@dataclass(slots=True)
class RipRoute:
    """One destination of the RIP table."""

    prefix: int
    prefix_len: int
    origin: Origin
    metric: int  # what we advertise: 1 for our own, the offer's, 16 while withdrawn
    ifname: str | None  # where it points (split horizon); None: nowhere (a default we make)
    gateway: int | None = None
    neighbor: int | None = None
    tag: int = 0
    changed: bool = True
    gc_at: float | None = None  # being garbage-collected until then
    since: float = 0.0  # when it last changed
    offers: dict[int, Offer] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int]:
        return (self.prefix, self.prefix_len)


@dataclass(slots=True)
class Neighbor:
    address: int
    ifname: str
    last_heard: float
    packets: int = 0
    bad_packets: int = 0
    bad_routes: int = 0
    auth_sequence: int | None = None


def _valid_destination(address: int, plen: int) -> bool:
    """A unicast destination: not 0/8 (but the default route), 127/8, multicast or class E."""
    first = address >> 24
    if address == 0:
        return plen == 0
    return first not in (0, 127) and first < 224


class RipEngine:
    def __init__(
        self, host: Host, config: RipConfig, *, rng: random.Random, now: float = 0.0
    ) -> None:
        self.host = host
        self.config = config
        self.rng = rng
        self.fib = host.fib
        values = host.counter_set.values
        for name in COUNTERS:
            values.setdefault(name, 0)
        self._cv = values
        self.endpoint = host.udp.bind(RIP_PORT)
        self.routes: dict[tuple[int, int], RipRoute] = {}
        self.neighbors: dict[int, Neighbor] = {}
        self.events: deque[RouteChange] = deque(maxlen=EVENTS_KEPT)
        self.events_dropped = 0
        self._now = now
        self._sequence = 0
        self._up: dict[str, bool] = {}
        self._fib_version = -1
        self._next_update = now + self.rng.uniform(0.0, 1.0)
        self._trigger_at: float | None = None
        self._deadline: float | None = self._next_update
        self._closed = False
        host.attach(self)
        self._sync(now)
        for iface in self.host.interfaces:
            if iface.up:
                self._send_request(iface, now)
        self._refresh_deadline()

    # ---- TimerClient ------------------------------------------------------------
    def next_deadline(self) -> float | None:
        if self.endpoint.queue or self.fib.version != self._fib_version:
            return self._now
        return self._deadline

    def on_timer(self, *, now: float) -> None:
        if self._closed:
            return
        self._now = now
        queue = self.endpoint.queue
        while queue:
            item = self.endpoint.recvfrom()
            if item is None:
                break
            data, (src, port) = item
            self.receive(data, src, port, now=now)
        if self.fib.version != self._fib_version:
            self._sync(now)
        self._expire(now)
        if self._trigger_at is not None and now >= self._trigger_at:
            self._trigger_at = None
            self._send_updates(now, triggered=True)
        if now >= self._next_update:
            self._send_updates(now, triggered=False)
            self._trigger_at = None  # the regular update carried every change (3.10.1)
            self._next_update = now + self._interval()
        self._fib_version = self.fib.version
        self._refresh_deadline()

    def close(self) -> None:
        """Stop: unbind port 520 and leave the host's timers (routes stay as they are)."""
        if not self._closed:
            self._closed = True
            self.endpoint.close()
            self.host.detach(self)

    # ---- input ------------------------------------------------------------------
    def receive(self, data: bytes, src: int, port: int, *, now: float) -> None:
        """One datagram that arrived on UDP port 520 from ``src``:``port``."""
        cv = self._cv
        iface = self._iface_of(src)
        if iface is None or src in self.host.interfaces.local:
            cv["rip_in_bad_packets"] += 1  # not from a neighbour on a connected subnet
            return
        neighbor = self.neighbors.get(src)
        try:
            msg = parse_rip(data)
        except WireError:
            self._bad(neighbor, "rip_in_bad_packets")
            return
        if msg.version != RIP_VERSION:
            self._bad(neighbor, "rip_in_bad_packets")  # this engine speaks version 2 only
            return
        if not self._authentic(data, msg, src, neighbor, now):
            return
        neighbor = self.neighbors.get(src)  # authentication may have just met it
        if msg.command == RipCommand.REQUEST:
            cv["rip_in_requests"] += 1
            if not self.config.silent:
                self._answer(iface, msg, src, port, now)
            return
        if msg.command != RipCommand.RESPONSE:
            self._bad(neighbor, "rip_in_bad_packets")
            return
        if port != RIP_PORT:
            self._bad(neighbor, "rip_in_bad_packets")  # 3.9.2: responses come from port 520
            return
        cv["rip_in_responses"] += 1
        if neighbor is None or neighbor.ifname != iface.name:
            neighbor = self.neighbors[src] = Neighbor(src, iface.name, now)
        neighbor.last_heard = now
        neighbor.packets += 1
        for entry in msg.entries:
            self._take(iface, neighbor, entry, now)

    def _bad(self, neighbor: Neighbor | None, counter: str) -> None:
        self._cv[counter] += 1
        if neighbor is not None:
            neighbor.bad_packets += 1

    def _authentic(
        self, data: bytes, msg: RipMessage, src: int, neighbor: Neighbor | None, now: float
    ) -> bool:
        cfg = self.config
        auth = msg.auth
        if cfg.auth_key is None:
            if auth is not None:
                self._bad(neighbor, "rip_in_bad_packets")  # authenticated, we are not
                return False
            return True
        if not isinstance(auth, Md5Auth):
            self._bad(neighbor, "rip_in_auth_failures")
            return False
        ok = (
            auth.key_id == cfg.auth_key_id
            and auth.auth_data_len in (MD5_LEN, MD5_LEN + 4)
            and verify_md5(data, auth, cfg.auth_key)
        )
        if not ok:
            self._bad(neighbor, "rip_in_auth_failures")
            return False
        if neighbor is not None and now - neighbor.last_heard > cfg.timeout:
            neighbor.auth_sequence = None  # silent for a timeout: it may have restarted
        last = neighbor.auth_sequence if neighbor is not None else None
        if last is not None and auth.sequence < last:
            self._bad(neighbor, "rip_in_auth_replays")
            return False
        if neighbor is None:
            iface = self._iface_of(src)
            assert iface is not None
            neighbor = self.neighbors[src] = Neighbor(src, iface.name, now)
        neighbor.auth_sequence = auth.sequence
        return True

    def _take(self, iface: Interface, neighbor: Neighbor, e: RipEntry, now: float) -> None:
        """One route entry of a response (3.9.2)."""
        if e.family != AF_INET:
            return  # another family: not ours to judge
        plen = e.prefix_len
        if (
            plen is None
            or e.address & ~prefix_mask(plen) & 0xFFFFFFFF
            or not 1 <= e.metric <= INFINITY
            or not _valid_destination(e.address, plen)
        ):
            self._cv["rip_in_bad_routes"] += 1
            neighbor.bad_routes += 1
            return
        gateway = neighbor.address
        hop = e.next_hop
        if hop and iface.on_link(hop) and hop not in self.host.interfaces.local:
            gateway = hop  # 4.4: a better next hop on the same link
        metric = min(e.metric + 1, INFINITY)
        key = (e.address, plen)
        route = self.routes.get(key)
        if metric >= INFINITY:
            if route is not None and route.offers.pop(neighbor.address, None) is not None:
                self._select(route, now)
            return
        if route is None:
            route = self.routes[key] = RipRoute(
                e.address, plen, Origin.RIP, INFINITY, None, changed=False, since=now
            )
        offer = route.offers.get(neighbor.address)
        if offer is None:
            route.offers[neighbor.address] = Offer(
                neighbor.address, iface.name, gateway, metric, e.tag, now
            )
        else:
            offer.ifname, offer.gateway, offer.metric, offer.tag = (
                iface.name,
                gateway,
                metric,
                e.tag,
            )
            offer.heard = now
        self._select(route, now)

    # ---- the table --------------------------------------------------------------
    def _select(self, route: RipRoute, now: float) -> None:
        """Use the best offer (or keep our own route); withdraw when none is left."""
        if route.origin is not Origin.RIP:
            return  # our own route wins; the offers wait in case it goes
        current = route.offers.get(route.neighbor) if route.neighbor is not None else None
        order = self._iface_order()
        best: Offer | None = None
        for offer in route.offers.values():
            if best is None or _better(offer, best, current, order):
                best = offer
        if best is None:
            self._withdraw(route, now)
        elif route.gc_at is not None or route.neighbor is None:
            self._install(route, best, now, "added")
        elif best is not current or (best.metric, best.gateway) != (route.metric, route.gateway):
            self._install(route, best, now, "changed")
        else:  # the route in use, confirmed (3.9.2: its timeout restarts)
            route.tag = best.tag
            self.fib.stamp(route.prefix, route.prefix_len, best.heard)

    def _install(self, route: RipRoute, offer: Offer, now: float, change: str) -> None:
        old = None if change == "added" else route.metric
        route.metric, route.ifname, route.gateway = offer.metric, offer.ifname, offer.gateway
        route.neighbor, route.tag, route.gc_at = offer.neighbor, offer.tag, None
        self._changed(route, now)
        fib_route = Route(
            route.prefix, route.prefix_len, offer.ifname, offer.gateway, RouteKind.RIP, offer.metric
        )
        if self.fib.add(fib_route, now=offer.heard):
            self._event(route, change, old, now)

    def _withdraw(self, route: RipRoute, now: float) -> None:
        if route.gc_at is not None:
            return
        old = route.metric
        route.metric, route.gc_at = INFINITY, now + self.config.garbage
        self._changed(route, now)
        existing = self.fib.get(route.prefix, route.prefix_len)
        if existing is not None and existing.kind is RouteKind.RIP:
            self.fib.remove(route.prefix, route.prefix_len, RouteKind.RIP)
            self._event(route, "withdrawn", old, now)

    def _changed(self, route: RipRoute, now: float) -> None:
        route.changed = True
        route.since = now
        if self.config.triggered_updates and self._trigger_at is None:
            self._trigger_at = now + self.rng.uniform(*_TRIGGER_DELAY)

    def _event(self, route: RipRoute, change: str, old: int | None, now: float) -> None:
        self._cv["rip_route_changes"] += 1
        if len(self.events) == self.events.maxlen:
            self.events_dropped += 1
        self.events.append(
            RouteChange(
                now,
                route.prefix,
                route.prefix_len,
                change,
                route.metric,
                old,
                route.gateway,
                route.ifname,
                route.neighbor,
            )
        )

    def _expire(self, now: float) -> None:
        """Offers past the timeout go; withdrawn routes past garbage collection are deleted."""
        timeout = self.config.timeout
        for key, route in list(self.routes.items()):
            stale = [n for n, o in route.offers.items() if o.heard + timeout <= now]
            for n in stale:
                del route.offers[n]
            if stale:
                self._select(route, now)
            if route.gc_at is not None and route.gc_at <= now:
                del self.routes[key]  # an offer would have brought it back already
        for address, nb in list(self.neighbors.items()):
            if nb.last_heard + timeout + self.config.garbage <= now:
                del self.neighbors[address]

    def _sync(self, now: float) -> None:
        """Follow the host: interfaces up or down, connected and static routes."""
        host, cfg = self.host, self.config
        for iface in host.interfaces:
            if RIP_GROUP not in iface.groups:
                host.join_group(iface.name, RIP_GROUP)
            was = self._up.get(iface.name)
            self._up[iface.name] = iface.up
            if was is None or was == iface.up:
                continue
            if iface.up:
                self._send_request(iface, now)
            else:
                self._lose_interface(iface.name, now)
        wanted: dict[tuple[int, int], tuple[Origin, str | None]] = {}
        for r in self.fib.routes():
            if r.kind is RouteKind.RIP or not self.fib.is_up(r.ifname):
                continue
            if r.kind is RouteKind.CONNECTED and cfg.redistribute_connected:
                wanted[(r.prefix, r.prefix_len)] = (Origin.CONNECTED, r.ifname)
            elif r.kind is RouteKind.STATIC and cfg.redistribute_static:
                wanted[(r.prefix, r.prefix_len)] = (Origin.STATIC, r.ifname)
        if cfg.originate_default and (0, 0) not in wanted:
            wanted[(0, 0)] = (Origin.DEFAULT, None)
        for key, (origin, ifname) in wanted.items():
            route = self.routes.get(key)
            if route is None:
                route = self.routes[key] = RipRoute(key[0], key[1], origin, 1, ifname, since=now)
                self._changed(route, now)
            elif route.origin is not origin or route.ifname != ifname or route.gc_at is not None:
                route.origin, route.metric, route.ifname = origin, 1, ifname
                route.gateway = route.neighbor = None
                route.tag, route.gc_at = 0, None
                self._changed(route, now)
        for key, route in self.routes.items():
            if route.origin is not Origin.RIP and key not in wanted:
                route.origin, route.ifname = Origin.RIP, None  # ours no more: offers, if any
                route.neighbor = route.gateway = None
                self._select(route, now)
            elif route.origin is Origin.RIP and route.gc_at is None:
                existing = self.fib.get(*key)
                if existing is None and route.ifname is not None and route.gateway is not None:
                    # a static route that shadowed ours went: ours is back in the FIB
                    self.fib.add(
                        Route(
                            key[0], key[1], route.ifname, route.gateway, RouteKind.RIP, route.metric
                        ),
                        now=now,
                    )

    def _lose_interface(self, ifname: str, now: float) -> None:
        for address in [a for a, n in self.neighbors.items() if n.ifname == ifname]:
            del self.neighbors[address]
        for route in list(self.routes.values()):
            gone = [n for n, o in route.offers.items() if o.ifname == ifname]
            for n in gone:
                del route.offers[n]
            if gone:
                self._select(route, now)

    # ---- output -----------------------------------------------------------------
    def _interval(self) -> float:
        interval = self.config.update_interval
        jitter = min(MAX_JITTER, interval / 6.0)
        return interval + self.rng.uniform(-jitter, jitter)

    def _sendable(self) -> list[Interface]:
        if self.config.silent:
            return []
        return [i for i in self.host.interfaces if i.up and i.name not in self.config.passive]

    def _entries_for(self, ifname: str | None, *, only_changed: bool) -> list[RipEntry]:
        """The table as advertised out of ``ifname`` (split horizon, poisoned reverse)."""
        cfg = self.config
        out = []
        for key in sorted(self.routes):
            route = self.routes[key]
            if only_changed and not route.changed:
                continue
            metric = route.metric
            if ifname is not None and route.ifname == ifname and cfg.split_horizon:
                if not cfg.poisoned_reverse:
                    continue
                metric = INFINITY
            out.append(RipEntry(route.prefix, prefix_mask(route.prefix_len), metric, tag=route.tag))
        return out

    def _send_updates(self, now: float, *, triggered: bool) -> None:
        counter = "rip_out_triggered_updates" if triggered else "rip_out_updates"
        for iface in self._sendable():
            entries = self._entries_for(iface.name, only_changed=triggered)
            if not entries and triggered:
                continue
            self._send(iface, RipCommand.RESPONSE, entries, RIP_GROUP, RIP_PORT, counter, now)
        for route in self.routes.values():
            route.changed = False

    def _send_request(self, iface: Interface, now: float) -> None:
        if iface.name in self.config.passive:
            return
        entries = [whole_table_request()]
        self._send(iface, RipCommand.REQUEST, entries, RIP_GROUP, RIP_PORT, "rip_out_requests", now)

    def _answer(self, iface: Interface, msg: RipMessage, src: int, port: int, now: float) -> None:
        """3.9.1: the whole table (as an update to that interface) or the entries asked."""
        if len(msg.entries) == 1 and msg.entries[0].is_whole_table_request:
            entries = self._entries_for(iface.name, only_changed=False)
        else:
            entries = []
            for e in msg.entries:
                plen = e.prefix_len
                route = self.routes.get((e.address, plen)) if plen is not None else None
                metric = route.metric if route is not None else INFINITY
                entries.append(RipEntry(e.address, e.mask, metric, e.next_hop, e.tag, e.family))
        if entries:
            self._send(iface, RipCommand.RESPONSE, entries, src, port, "rip_out_responses", now)

    def _send(
        self,
        iface: Interface,
        command: int,
        entries: list[RipEntry],
        dst: int,
        port: int,
        counter: str,
        now: float,
    ) -> None:
        cfg = self.config
        step = max_routes(cfg.auth_key is not None)
        for start in range(0, max(len(entries), 1), step):
            md5 = None
            if cfg.auth_key is not None:
                # RFC 2082: non-decreasing; from the clock, so a restarted node goes on
                self._sequence = max(self._sequence + 1, int(now)) & 0xFFFFFFFF
                md5 = Md5Key(cfg.auth_key, cfg.auth_key_id, self._sequence)
            data = build_rip(command, entries[start : start + step], md5=md5)
            if self.endpoint.sendto(data, (dst, port), now=now, ifname=iface.name):
                self._cv[counter] += 1
            else:
                self._cv["rip_out_errors"] += 1

    # ---- helpers and views ------------------------------------------------------
    def _iface_of(self, address: int) -> Interface | None:
        for iface in self.host.interfaces:
            if iface.up and iface.on_link(address):
                return iface
        return None

    def _iface_order(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.host.interfaces.by_name)}

    def _refresh_deadline(self) -> None:
        best = self._next_update
        if self._trigger_at is not None:
            best = min(best, self._trigger_at)
        timeout = self.config.timeout
        for route in self.routes.values():
            if route.gc_at is not None:
                best = min(best, route.gc_at)
            for offer in route.offers.values():
                best = min(best, offer.heard + timeout)
        self._deadline = best

    def drain_events(self) -> list[RouteChange]:
        out = list(self.events)
        self.events.clear()
        return out

    def route_info(self, now: float) -> list[RouteInfo]:
        out = []
        for key in sorted(self.routes):
            r = self.routes[key]
            offer = r.offers.get(r.neighbor) if r.neighbor is not None else None
            age = now - (offer.heard if offer is not None else r.since)
            gc_in = None if r.gc_at is None else max(0.0, r.gc_at - now)
            out.append(
                RouteInfo(
                    r.prefix,
                    r.prefix_len,
                    r.origin.value,
                    r.metric,
                    r.ifname,
                    r.gateway,
                    r.neighbor,
                    r.tag,
                    max(0.0, age),
                    gc_in,
                    len(r.offers),
                )
            )
        return out

    def withdrawn(self, now: float) -> list[RouteInfo]:
        """Learned routes being garbage-collected (metric 16, out of the FIB)."""
        return [r for r in self.route_info(now) if r.gc_in is not None and r.neighbor is not None]

    def status(self, now: float) -> RipStatus:
        counts: dict[int, int] = {}
        for r in self.routes.values():
            if r.neighbor is not None and r.gc_at is None:
                counts[r.neighbor] = counts.get(r.neighbor, 0) + 1
        neighbors = tuple(
            NeighborInfo(
                n.address,
                n.ifname,
                max(0.0, now - n.last_heard),
                n.packets,
                n.bad_packets,
                n.bad_routes,
                counts.get(n.address, 0),
                n.auth_sequence,
            )
            for n in sorted(self.neighbors.values(), key=lambda n: n.address)
        )
        ifaces = tuple((i.name, i.up, i.name in self.config.passive) for i in self.host.interfaces)
        trig = None if self._trigger_at is None else max(0.0, self._trigger_at - now)
        next_update = None if self.config.silent else max(0.0, self._next_update - now)
        return RipStatus(
            self.config, ifaces, next_update, trig, neighbors, tuple(self.route_info(now))
        )


def _better(a: Offer, b: Offer, current: Offer | None, order: dict[str, int]) -> bool:
    """Whether offer ``a`` beats ``b``: a lower metric; on a tie the route in use stays,
    else the first interface, then the lower neighbour address (deterministic)."""
    if a.metric != b.metric:
        return a.metric < b.metric
    if a is current or b is current:
        return a is current
    return (order.get(a.ifname, len(order)), a.neighbor) < (
        order.get(b.ifname, len(order)),
        b.neighbor,
    )
