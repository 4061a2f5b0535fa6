"""Small RIP labs for the virtual-time simulation: routers (and hosts) on point-to-point
links, each router with a :class:`RipEngine` seeded from the lab's seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from nodes.apps.ping import Ping
from nodes.faults import Effects, FaultEngine, FaultSpec
from nodes.io.simulate import Simulation
from nodes.router.fib import Route
from nodes.router.rip import RipEngine
from nodes.router.ripmodel import RipConfig
from nodes.router.router import Router
from nodes.stack.host import Host
from nodes.wire.addr import ip_from_str, ip_to_str


@dataclass
class RipLab:
    sim: Simulation
    config: RipConfig
    seed: int = 1
    nodes: dict[str, Host] = field(default_factory=dict)
    rip: dict[str, RipEngine] = field(default_factory=dict)
    links: dict[str, tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=dict)
    faults: dict[str, FaultEngine] = field(default_factory=dict)
    _next_link: int = 0

    def router(self, name: str) -> Router:
        r = Router(name, rng=random.Random(f"{self.seed}:{name}"))
        self.sim.add(r)
        self.nodes[name] = r
        return r

    def host(self, name: str) -> Host:
        h = Host(name, rng=random.Random(f"{self.seed}:{name}"))
        self.sim.add(h)
        self.nodes[name] = h
        return h

    def link(self, name: str, a: str, b: str) -> str:
        """Link ``a`` -- ``b`` on 10.9.<n>.0/24 (a is .1, b is .2); returns the subnet."""
        n = self._next_link
        self._next_link += 1
        ends = []
        for side, node in ((1, a), (2, b)):
            host = self.nodes[node]
            ifname = f"eth{len(host.interfaces.by_name)}"
            mac = f"02:00:00:{n:02x}:{side:02x}:{len(self.nodes):02x}"
            host.add_interface(ifname, mac, f"10.9.{n}.{side}", 24)
            ends.append((node, ifname))
        self.sim.link(ends[0], ends[1])
        self.links[name] = (ends[0], ends[1])
        return f"10.9.{n}.0/24"

    def start(self, **overrides: object) -> None:
        """RIP on every router (``overrides`` per router name: a RipConfig)."""
        for name, node in self.nodes.items():
            if isinstance(node, Router):
                cfg = overrides.get(name, self.config)
                assert isinstance(cfg, RipConfig)
                rng = random.Random(f"{self.seed}:rip:{name}")
                self.rip[name] = RipEngine(node, cfg, rng=rng, now=self.sim.now)

    def address(self, node: str, ifname: str = "eth0") -> int:
        return self.nodes[node].interfaces.get(ifname).address

    def iface_of(self, link: str, node: str) -> str:
        for n, ifname in self.links[link]:
            if n == node:
                return ifname
        raise KeyError(node)

    def route(self, node: str, prefix: str) -> Route | None:
        net, plen = prefix.split("/")
        return self.nodes[node].fib.get(ip_from_str(net), int(plen))

    def via(self, node: str, prefix: str) -> str | None:
        r = self.route(node, prefix)
        return None if r is None or r.gateway is None else ip_to_str(r.gateway)

    def rip_metric(self, node: str, prefix: str) -> int | None:
        net, plen = prefix.split("/")
        route = self.rip[node].routes.get((ip_from_str(net), int(plen)))
        return None if route is None else route.metric

    def converged(self, prefixes: list[str]) -> bool:
        """Every router has a route to every prefix."""
        return all(self.route(r, p) is not None for r in self.rip for p in prefixes)

    # ---- failures -------------------------------------------------------------------
    def carrier(self, link: str, up: bool) -> None:
        """Both ends of the link lose (or regain) carrier: their interfaces go down/up."""
        for node, ifname in self.links[link]:
            self.nodes[node].set_interface_up(ifname, up)

    def cut(self, link: str) -> None:
        """A silent link-down fault at the link's first end (both directions): frames
        vanish, both interfaces stay up (what ``fault add --down`` does)."""
        node, ifname = self.links[link][0]
        engine = FaultEngine(rng=random.Random(self.seed))
        engine.add(FaultSpec(ifname, Effects(down=True)), now=self.sim.now, fault_id="cut")
        self.faults[link] = engine
        self.sim.set_impairment(node, engine)

    def mend(self, link: str) -> None:
        """The fault of :meth:`cut` cleared."""
        self.faults.pop(link).remove("cut")

    # ---- traffic ----------------------------------------------------------------------
    def ping_until_answered(self, src: str, dst: int, *, every: float = 0.5,
                            limit: float = 600.0) -> float | None:  # fmt: skip
        """Ping every ``every`` seconds until one is answered; the time it was sent."""
        ping = Ping(self.nodes[src], dst)
        try:
            end = self.sim.now + limit
            while self.sim.now < end:
                seq = ping.send(now=self.sim.now)
                sent = self.sim.now
                self.sim.run_for(every)
                if seq in ping.replies:
                    return sent
            return None
        finally:
            ping.close()


def rip_config(**changes: object) -> RipConfig:
    return replace(RipConfig(), **changes)  # type: ignore[arg-type]
