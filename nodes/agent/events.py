"""Node events for WatchEvents: link changes, TCP state changes, faults added, cleared
or expired, RIP routes added, changed or withdrawn (the engine keeps them until drained).

TCP state changes come from the engine's state-change hook (every transition, as it
happens). For the rest, while at least one watcher is subscribed the hub compares each
interface's (up, mtu) with what it saw last and drains the FaultEngine's expiry events:
as a runner hook after every turn's input and as a host timer client due whenever a
fault timer was (e.g. a fault expiring on an idle node). That costs one pass over the
interfaces per turn, and nothing at all with no watcher. Changes the agent makes itself
(SetInterface, AddFault, ClearFault) are published directly; MTU changes made by MTU
faults (added, cleared, expired) come from the runner's MTU listener as they are applied.

Each watcher has a bounded queue; when it is full, events are dropped and counted.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field

from nodes.faults import FaultEngine, FaultInfo, MtuChange
from nodes.io.runner import Runner
from nodes.router.rip import RipEngine
from nodes.router.ripmodel import RouteChange
from nodes.stack.host import Host
from nodes.stack.tcp.connection import Connection
from nodes.stack.tcp.engine import TcpEngine
from nodes.stack.tcp.states import State

LINK, TCP, FAULT, RIP = "link", "tcp", "fault", "rip_route"
ALL_TYPES = frozenset({LINK, TCP, FAULT, RIP})
QUEUE_LIMIT = 10_000
_NEW = (State.CLOSED, State.LISTEN)  # where a new connection's first change starts


@dataclass(frozen=True, slots=True)
class LinkChange:
    iface: str
    up: bool
    mtu: int
    change: str  # up / down / mtu


@dataclass(frozen=True, slots=True)
class TcpChange:
    local: int
    local_port: int
    remote: int
    remote_port: int
    old: str  # "" for a new connection
    new: str  # "CLOSED" once it is gone


@dataclass(frozen=True, slots=True)
class FaultChange:
    change: str  # added / cleared / expired
    info: FaultInfo


Payload = LinkChange | TcpChange | FaultChange | RouteChange


@dataclass(frozen=True, slots=True)
class Event:
    unix_time: float
    node: str
    payload: Payload | None  # None: the "subscribed" marker

    @property
    def type(self) -> str:
        p = self.payload
        if isinstance(p, RouteChange):
            return RIP
        return LINK if isinstance(p, LinkChange) else TCP if isinstance(p, TcpChange) else FAULT


@dataclass(eq=False)
class Subscriber:
    types: frozenset[str]
    queue: queue.Queue[Event | None] = field(default_factory=lambda: queue.Queue(QUEUE_LIMIT))
    dropped: int = 0
    closed: bool = False

    def put(self, event: Event | None) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1


class EventHub:
    """Lives in the loop thread; subscribe/unsubscribe through ``runtime.call``."""

    def __init__(
        self,
        node: str,
        runner: Runner,
        host: Host,
        tcp: TcpEngine,
        faults: FaultEngine,
        rip: RipEngine | None = None,
    ) -> None:
        self.node = node
        self._runner, self._host, self._tcp, self._faults = runner, host, tcp, faults
        self._rip = rip
        self._subs: list[Subscriber] = []
        self._links: dict[str, tuple[bool, int]] = {}
        self._hooked = False
        self._armed: float | None = None  # a fault timer due then may change things
        self._wall_offset = time.time() - runner.now()
        runner.add_mtu_listener(self._mtu_changed)

    @property
    def watchers(self) -> int:
        return len(self._subs)

    def subscribe(self, types: frozenset[str] = ALL_TYPES) -> Subscriber:
        sub = Subscriber(types or ALL_TYPES)
        if not self._subs:
            self._snapshot()
            self._faults.drain_events()  # expiries nobody watched are history
            if self._rip is not None:
                self._rip.drain_events()
            self._runner.add_hook(self.poll)
            self._host.attach(self)
            self._tcp.add_state_listener(self._tcp_changed)
            self._hooked = True
        self._subs.append(sub)
        sub.put(Event(self._wall(self._runner.now()), self.node, None))
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
        sub.closed = True
        if not self._subs and self._hooked:
            self._runner.remove_hook(self.poll)
            self._host.detach(self)
            self._tcp.remove_state_listener(self._tcp_changed)
            self._hooked = False
            self._armed = None

    def close(self) -> None:
        """The node stops: end every stream."""
        for sub in list(self._subs):
            sub.put(None)
            self.unsubscribe(sub)

    def publish(self, payload: Payload, now: float | None = None) -> None:
        if not self._subs:
            return
        if isinstance(payload, LinkChange):
            self._links[payload.iface] = (payload.up, payload.mtu)
        event = Event(self._wall(self._runner.now() if now is None else now), self.node, payload)
        kind = event.type
        for sub in self._subs:
            if kind in sub.types:
                sub.put(event)

    def _mtu_changed(self, changes: list[MtuChange], now: float) -> None:
        for change in changes:
            iface = self._host.interfaces.get(change.iface)
            self.publish(LinkChange(iface.name, iface.up, change.new, "mtu"), now)

    def _tcp_changed(self, conn: Connection, old: State, new: State, now: float) -> None:
        start = old in _NEW and new is not State.CLOSED  # a new connection: old is ""
        self.publish(TcpChange(*conn.key, "" if start else old.name, new.name), now)

    # ---- polling (a runner hook and a timer client while anyone watches) ---------
    def next_deadline(self) -> float | None:
        t = self._faults.next_deadline()
        if t is not None and (self._armed is None or t < self._armed):
            self._armed = t
        rip = self._rip
        if rip is not None and rip.events:  # route changes of this turn: out now
            due = rip.events[0].time
            return due if self._armed is None else min(due, self._armed)
        return self._armed

    def on_timer(self, *, now: float) -> None:
        self._armed = None
        self.poll(now)

    def poll(self, now: float) -> None:
        for expired in self._faults.drain_events():
            self.publish(FaultChange("expired", expired.info), now)
        if self._rip is not None:
            for route in self._rip.drain_events():
                self.publish(route, route.time)
        for iface in self._host.interfaces:
            seen = self._links.get(iface.name)
            current = (iface.up, iface.mtu)
            if seen != current:
                change = (
                    "mtu"
                    if seen is not None and seen[0] == iface.up
                    else ("up" if iface.up else "down")
                )
                self.publish(LinkChange(iface.name, iface.up, iface.mtu, change), now)

    def _snapshot(self) -> None:
        self._links = {i.name: (i.up, i.mtu) for i in self._host.interfaces}

    def _wall(self, now: float) -> float:
        return now + self._wall_offset
