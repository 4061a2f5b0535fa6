"""A multi-node simulation in virtual time: nodes (Host/Router or anything with the
node-facing API), the in-process wire, optional per-node impairments.

Event-driven and deterministic: the clock jumps to the next thing that can happen
(a frame arriving, an impairment releasing a frame, a node or impairment timer). Events
at the same instant run in the order they were scheduled.

Link properties (rate, delay, jitter, loss, queue: :mod:`nodes.faults.link`) are the base
layer of a node's FaultEngine: :meth:`Simulation.set_link_props` installs one (and the
engine, when the node has none), as the agent does at Configure.

MTU faults: a node whose impairment is a FaultEngine gets an
:class:`~nodes.faults.mtu.MtuSync`, as in the real-time Runner; its caps are applied when
it is installed, at the start of every step (a fault added to the engine between steps;
``sync_mtu()`` applies one at once) and right after the impairments' timers (expiry),
before the nodes' timers. ``mtu_log`` records each change.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from nodes.faults.engine import FaultEngine, attach_egress_gauge
from nodes.faults.link import LinkProps
from nodes.faults.model import Direction
from nodes.faults.mtu import MtuChange, MtuSync
from nodes.io.memory import Port, Segment, Wire
from nodes.router.router import Router
from nodes.stack.config import StackConfig
from nodes.stack.host import Host

_WIRE = 0  # a frame leaves an egress impairment and goes on the wire
_ARRIVE = 1  # a frame reaches a port (ingress impairment next)
_DELIVER = 2  # a frame leaves an ingress impairment into the node


class Node(Protocol):
    name: str

    def receive_frame(self, ifname: str, frame: bytes | memoryview, *, now: float) -> None: ...
    def frames_to_send(self) -> list[tuple[str, bytes]]: ...
    def next_deadline(self) -> float | None: ...
    def on_timer(self, *, now: float) -> None: ...


class Impairment(Protocol):
    """The FaultEngine shape (nodes/faults/engine.py)."""

    def process(
        self, ifname: str, direction: Direction, frame: bytes, *, now: float
    ) -> list[tuple[float, bytes]]: ...
    def active(self, ifname: str, direction: Direction) -> bool: ...
    def next_deadline(self) -> float | None: ...
    def on_timer(self, *, now: float) -> None: ...


@dataclass(frozen=True, slots=True)
class Captured:
    time: float
    node: str
    ifname: str
    frame: bytes


@dataclass(slots=True)
class Simulation:
    now: float = 0.0
    nodes: dict[str, Node] = field(default_factory=dict)
    impairments: dict[str, Impairment] = field(default_factory=dict)
    wire: Wire = field(default_factory=Wire)
    capture: list[Captured] | None = None  # set to [] to record every frame put on the wire
    events_run: int = 0
    mtu_log: list[tuple[float, str, MtuChange]] = field(default_factory=list)
    _heap: list[tuple[float, int, int, str, str, bytes]] = field(default_factory=list)
    _seq: int = 0
    _mtu: dict[str, MtuSync] = field(default_factory=dict)

    # ---- building ----------------------------------------------------------------
    def add(self, node: Node, *, impairment: Impairment | None = None) -> Node:
        if node.name in self.nodes:
            raise ValueError(f"node {node.name} already exists")
        self.nodes[node.name] = node
        if impairment is not None:
            self.set_impairment(node.name, impairment)
        return node

    def set_impairment(self, node: str, impairment: Impairment | None) -> None:
        """Install (None: remove) a node's impairment. Replacing a FaultEngine that
        capped MTUs does not lift its caps: clear its faults first."""
        if impairment is None:
            self.impairments.pop(node, None)
            self._mtu.pop(node, None)
            if node in self.nodes:
                attach_egress_gauge(self.nodes[node], None)
            return
        self.impairments[node] = impairment
        if node in self.nodes:
            attach_egress_gauge(self.nodes[node], impairment)  # TCP small queues
        sync = MtuSync.attach(self.nodes[node], impairment) if node in self.nodes else None
        if sync is None:
            self._mtu.pop(node, None)
        else:
            self._mtu[node] = sync
            self.sync_mtu()  # its MTU faults hold from now

    def set_link_props(
        self,
        node: str,
        ifname: str,
        props: LinkProps,
        direction: Direction = Direction.EGRESS,
        *,
        seed: int = 0,
    ) -> FaultEngine:
        """Shape what ``node`` sends on ``ifname`` (``direction`` ingress: what it receives)
        with link properties, beneath its faults; returns its FaultEngine (made, seeded from
        ``seed``, when the node has no impairment yet)."""
        engine = self.impairments.get(node)
        if engine is None:
            engine = FaultEngine(rng=random.Random(seed))
            self.set_impairment(node, engine)
        if not isinstance(engine, FaultEngine):
            raise TypeError(f"{node}'s impairment is no FaultEngine: it has no link layer")
        engine.set_link(ifname, direction, props, seed=seed)
        return engine

    def sync_mtu(self) -> None:
        """Apply every node's MTU faults now (when they changed)."""
        for name, sync in self._mtu.items():
            if sync.pending:
                self.mtu_log.extend((self.now, name, change) for change in sync.sync())

    def link(self, a: Port, b: Port, *, delay: float = 0.0) -> Segment:
        return self.lan([a, b], delay=delay)

    def lan(self, ports: list[Port], *, delay: float = 0.0, name: str | None = None) -> Segment:
        for node, _ in ports:
            if node not in self.nodes:
                raise ValueError(f"unknown node {node!r}: add it before connecting it")
        return self.wire.connect(*ports, delay=delay, name=name)

    # ---- running -----------------------------------------------------------------
    def _push(self, when: float, kind: int, node: str, ifname: str, frame: bytes) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, kind, node, ifname, frame))

    def _pump(self) -> None:
        now = self.now
        for name, node in self.nodes.items():
            frames = node.frames_to_send()
            if not frames:
                continue
            imp = self.impairments.get(name)
            for ifname, frame in frames:
                if imp is not None and imp.active(ifname, Direction.EGRESS):
                    for when, out in imp.process(ifname, Direction.EGRESS, frame, now=now):
                        if when <= now:
                            self._to_wire(name, ifname, out)
                        else:
                            self._push(when, _WIRE, name, ifname, out)
                else:
                    self._to_wire(name, ifname, frame)

    def _to_wire(self, node: str, ifname: str, frame: bytes) -> None:
        if self.capture is not None:
            self.capture.append(Captured(self.now, node, ifname, frame))
        delay, targets = self.wire.transmit((node, ifname), frame)
        when = self.now + delay
        for dst_node, dst_if in targets:
            self._push(when, _ARRIVE, dst_node, dst_if, frame)

    def _arrive(self, node: str, ifname: str, frame: bytes) -> None:
        imp = self.impairments.get(node)
        if imp is not None and imp.active(ifname, Direction.INGRESS):
            for when, out in imp.process(ifname, Direction.INGRESS, frame, now=self.now):
                if when <= self.now:
                    self.nodes[node].receive_frame(ifname, out, now=self.now)
                else:
                    self._push(when, _DELIVER, node, ifname, out)
        else:
            self.nodes[node].receive_frame(ifname, frame, now=self.now)

    def next_time(self) -> float | None:
        """When the next thing can happen (after pending output is on the wire)."""
        syncs = self._mtu
        if syncs:
            self.sync_mtu()
        self._pump()
        if syncs and any(sync.pending for sync in syncs.values()):
            return self.now  # a fault expired lazily while frames passed: apply it now
        best = self._heap[0][0] if self._heap else None
        for group in (self.nodes.values(), self.impairments.values()):
            for obj in group:
                t = obj.next_deadline()
                if t is not None and (best is None or t < best):
                    best = t
        return best

    def _advance(self, when: float) -> None:
        self.now = max(self.now, when)
        now = self.now
        heap = self._heap
        impairments = self.impairments
        nodes = self.nodes
        pop = heapq.heappop
        while heap and heap[0][0] <= now:
            _, _, kind, node, ifname, frame = pop(heap)
            self.events_run += 1
            if kind == _ARRIVE:
                if node in impairments:
                    self._arrive(node, ifname, frame)
                else:  # the common case, inline: straight into the node
                    nodes[node].receive_frame(ifname, frame, now=now)
            elif kind == _DELIVER:
                self.nodes[node].receive_frame(ifname, frame, now=now)
            else:
                self._to_wire(node, ifname, frame)
        for imp in self.impairments.values():
            t = imp.next_deadline()
            if t is not None and t <= now:
                imp.on_timer(now=now)
        if self._mtu:
            self.sync_mtu()
        for node_obj in self.nodes.values():
            t = node_obj.next_deadline()
            if t is not None and t <= now:
                node_obj.on_timer(now=now)

    def step(self) -> bool:
        """Run everything due at the next instant; False when nothing is left to happen."""
        when = self.next_time()
        if when is None:
            return False
        self._advance(when)
        return True

    def run_until(self, t: float) -> None:
        """Run every event up to and including virtual time ``t``; the clock ends at ``t``."""
        while True:
            when = self.next_time()
            if when is None or when > t:
                break
            self._advance(when)
        self.now = max(self.now, t)

    def run_for(self, duration: float) -> None:
        self.run_until(self.now + duration)

    def run_until_idle(self, *, timeout: float = 3600.0) -> bool:
        """Run until nothing is in flight and no timer is armed. False if ``timeout``
        (virtual seconds) passed first."""
        limit = self.now + timeout
        while True:
            when = self.next_time()
            if when is None:
                return True
            if when > limit:
                self.now = limit
                return False
            self._advance(when)

    def run(self, predicate: Callable[[], bool], *, timeout: float = 60.0) -> bool:
        """Run until ``predicate()`` holds (checked after every instant). False if it
        did not within ``timeout`` virtual seconds (the clock then stands at the limit)."""
        limit = self.now + timeout
        while not predicate():
            when = self.next_time()
            if when is None or when > limit:
                self.now = max(self.now, limit)
                return predicate()
            self._advance(when)
        return True


@dataclass(slots=True)
class Line:
    """host -- r1 -- ... -- rN -- host, built by :func:`build_line`."""

    sim: Simulation
    left: Host
    right: Host
    routers: list[Router]
    links: list[Segment]

    def address(self, node: str, ifname: str = "eth0") -> int:
        return self.node(node).interfaces.get(ifname).address

    def node(self, name: str) -> Host:
        for h in (self.left, self.right, *self.routers):
            if h.name == name:
                return h
        raise KeyError(name)


def build_line(
    routers: int = 2,
    *,
    mtus: list[int] | None = None,
    delay: float = 0.0,
    host_config: StackConfig | None = None,
    router_config: StackConfig | None = None,
    seed: int = 0,
    names: tuple[str, str] = ("h1", "h2"),
) -> Line:
    """host -- r1 -- ... -- rN -- host with static routes. Link i (0-based, left to right)
    is 10.0.i.0/24: its left end is 10.0.i.1, its right end 10.0.i.2; each router's
    eth0 faces left, eth1 right; hosts have eth0 and a default route. ``mtus[i]`` sets
    both ends of link i (default 1500); ``delay`` is each link's one-way delay."""
    n_links = routers + 1
    mtus = mtus or [1500] * n_links
    if len(mtus) != n_links:
        raise ValueError(f"{routers} routers make {n_links} links; got {len(mtus)} MTUs")
    sim = Simulation()
    left = Host(names[0], config=host_config, rng=random.Random(seed))
    right = Host(names[1], config=host_config, rng=random.Random(seed + 1))
    rs = [
        Router(f"r{k + 1}", config=router_config, rng=random.Random(seed + 2 + k))
        for k in range(routers)
    ]
    chain: list[Host] = [left, *rs, right]

    def addr(link: int, side: int) -> str:
        return f"10.0.{link}.{side}"

    for k, node in enumerate(chain):
        sim.add(node)
        if k > 0:  # faces left: right end of link k-1
            node.add_interface(
                "eth0", f"02:00:00:00:{k:02x}:00", addr(k - 1, 2), 24, mtu=mtus[k - 1]
            )
        if k < len(chain) - 1:  # faces right: left end of link k
            ifname = "eth0" if k == 0 else "eth1"
            node.add_interface(ifname, f"02:00:00:00:{k:02x}:01", addr(k, 1), 24, mtu=mtus[k])
    left.add_route("0.0.0.0", 0, addr(0, 2))
    right.add_route("0.0.0.0", 0, addr(n_links - 1, 1))
    for k, r in enumerate(rs, start=1):  # router k sits between link k-1 and link k
        for link in range(n_links):
            if link < k - 1:
                r.add_route(addr(link, 0), 24, addr(k - 1, 1))
            elif link > k:
                r.add_route(addr(link, 0), 24, addr(k, 2))
    links = []
    for k in range(n_links):
        a_if = "eth0" if k == 0 else "eth1"
        links.append(sim.link((chain[k].name, a_if), (chain[k + 1].name, "eth0"), delay=delay))
    return Line(sim, left, right, rs, links)
