"""RIPv2 between our routers in virtual time: convergence, failures and their repair,
triggered updates against the timeout, counting to infinity (RFC 2453 3.4 and 3.10)."""

from __future__ import annotations

import random

from nodes.io.simulate import Simulation
from nodes.router.fib import RouteKind
from nodes.router.rip import RipEngine
from nodes.wire.rip import INFINITY
from tests.riplab import RipLab, rip_config

H1_NET, H2_NET = "10.9.0.0/24", "10.9.6.0/24"


def diamond(*, longer_lower: bool = True, seed: int = 1, **rip: object) -> RipLab:
    """h1 - r1 = {r2 | r3 (- r5)} = r4 - h2: the upper path r1-r2-r4, the lower one
    r1-r3-r4, one hop longer through r5 when ``longer_lower`` (so the upper one wins)."""
    lab = RipLab(Simulation(), rip_config(**rip), seed=seed)
    for name in ("h1", "r1", "r2", "r3", "r4", "h2"):
        (lab.host if name.startswith("h") else lab.router)(name)
    if longer_lower:
        lab.router("r5")
    lab.link("h1", "h1", "r1")  # 10.9.0.0/24
    lab.link("upper-a", "r1", "r2")  # 10.9.1
    lab.link("lower-a", "r1", "r3")  # 10.9.2
    lab.link("upper-b", "r2", "r4")  # 10.9.3
    if longer_lower:
        lab.link("lower-b", "r3", "r5")  # 10.9.4
        lab.link("lower-c", "r5", "r4")  # 10.9.5
    else:
        lab.link("lower-b", "r3", "r4")  # 10.9.4
        lab._next_link += 1
    lab.link("h2", "r4", "h2")  # 10.9.6
    lab.nodes["h1"].add_route("0.0.0.0", 0, "10.9.0.2")
    lab.nodes["h2"].add_route("0.0.0.0", 0, "10.9.6.1")
    lab.start()
    return lab


def converge(lab: RipLab) -> None:
    assert lab.sim.run(lambda: lab.converged([H1_NET, H2_NET]), timeout=60.0)
    lab.sim.run_for(40.0)  # a regular update more: every offer is in


def test_diamond_converges_on_the_shorter_path() -> None:
    lab = diamond()
    converge(lab)
    assert lab.via("r1", H2_NET) == "10.9.1.2"  # r2: 3 hops against 4
    assert lab.route("r1", H2_NET).kind is RouteKind.RIP  # type: ignore[union-attr]
    assert lab.rip_metric("r1", H2_NET) == 3 and lab.rip_metric("r4", H1_NET) == 3
    assert lab.via("r4", H1_NET) == "10.9.3.1"
    assert lab.ping_until_answered("h1", lab.address("h2"), limit=2.0) is not None
    c = lab.nodes["r1"].counters()
    assert c["rip_in_responses"] > 0 and c["rip_out_updates"] > 0
    assert c["rip_in_bad_packets"] == 0 and c["rip_in_bad_routes"] == 0


def _recovery(lab: RipLab, fail: str, *, carrier: bool) -> float:
    """Fail link ``fail`` (carrier loss at both ends, or a silent down fault); the virtual
    seconds until a ping from h1 to h2 is answered again."""
    start = lab.sim.now
    if carrier:
        lab.carrier(fail, False)
    else:
        lab.cut(fail)
    sent = lab.ping_until_answered("h1", lab.address("h2"), every=0.25, limit=400.0)
    assert sent is not None, "traffic never resumed"
    return sent - start


def test_carrier_loss_converges_in_seconds_with_triggered_updates_and_poisoned_reverse() -> None:
    lab = diamond(poisoned_reverse=True)
    converge(lab)
    took = _recovery(lab, "upper-b", carrier=True)
    # r2 withdraws at once; its triggered update (1..5 s later) moves r1 onto r3
    assert took <= 5.5, took
    assert lab.via("r1", H2_NET) == "10.9.2.2" and lab.rip_metric("r1", H2_NET) == 4
    assert lab.nodes["r2"].counters()["rip_out_triggered_updates"] > 0


def test_carrier_loss_without_triggered_updates_waits_for_the_regular_update() -> None:
    lab = diamond(triggered_updates=False, poisoned_reverse=False)
    converge(lab)
    took = _recovery(lab, "upper-b", carrier=True)
    # r1 hears r2's withdrawal (metric 16) only in r2's next regular update (30 s +- 5)
    assert 5.0 < took <= 35.5, took
    assert lab.nodes["r2"].counters()["rip_out_triggered_updates"] == 0


def test_silent_link_down_converges_at_the_timeout() -> None:
    lab = diamond(poisoned_reverse=True)
    converge(lab)
    # a down fault: no carrier change, r1 notices when r2's routes are not refreshed
    took = _recovery(lab, "upper-a", carrier=False)
    assert 180.0 - 35.0 <= took <= 180.0 + 5.5, took
    assert lab.via("r1", H2_NET) == "10.9.2.2"


def test_silent_link_down_without_triggered_updates_waits_for_an_update_more() -> None:
    lab = diamond(triggered_updates=False)
    converge(lab)
    took = _recovery(lab, "upper-a", carrier=False)
    # r1 drops r2's routes at the timeout, but r2 (whose routes through r1 timed out too)
    # tells r4 only in its next regular update
    assert 180.0 <= took <= 180.0 + 35.5, took


def test_timers_are_configurable_and_the_timeout_scales_with_them() -> None:
    lab = diamond(update_interval=5.0, timeout=15.0, garbage=10.0, poisoned_reverse=True)
    converge(lab)
    took = _recovery(lab, "upper-a", carrier=False)
    assert 15.0 - 6.0 <= took <= 15.0 + 5.5, took


def test_the_shorter_path_returns_when_the_link_comes_back() -> None:
    lab = diamond(poisoned_reverse=True)
    converge(lab)
    lab.carrier("upper-b", False)
    lab.sim.run_for(10.0)
    assert lab.via("r1", H2_NET) == "10.9.2.2"
    lab.carrier("upper-b", True)
    # r2 and r4 ask for the tables at once on carrier; the answers and triggered updates
    # carry the metric-3 path back to r1 within seconds
    assert lab.sim.run(lambda: lab.via("r1", H2_NET) == "10.9.1.2", timeout=10.0)
    assert lab.rip_metric("r1", H2_NET) == 3
    assert lab.via("r4", H1_NET) == "10.9.3.1"
    assert lab.ping_until_answered("h1", lab.address("h2"), limit=2.0) is not None


def test_the_shorter_path_returns_after_a_fault_is_cleared() -> None:
    lab = diamond(update_interval=5.0, timeout=15.0, garbage=10.0)
    converge(lab)
    lab.cut("upper-a")
    lab.sim.run_for(25.0)
    assert lab.via("r1", H2_NET) == "10.9.2.2"
    lab.mend("upper-a")
    assert lab.sim.run(lambda: lab.via("r1", H2_NET) == "10.9.1.2", timeout=7.0)


def line(*, split_horizon: bool, poisoned_reverse: bool = False) -> RipLab:
    """r1 - r2 - r3 - stub host: the stub's subnet 10.9.2.0/24 hangs off r3."""
    lab = RipLab(Simulation(), rip_config(split_horizon=split_horizon,
                                          poisoned_reverse=poisoned_reverse))  # fmt: skip
    for name in ("r1", "r2", "r3"):
        lab.router(name)
    lab.host("stub")
    lab.link("a", "r1", "r2")
    lab.link("b", "r2", "r3")
    lab.link("stub", "r3", "stub")
    lab.start()
    assert lab.sim.run(lambda: lab.converged(["10.9.2.0/24"]), timeout=60.0)
    lab.sim.run_for(40.0)
    return lab


def _watch_metric(lab: RipLab, node: str, prefix: str, seconds: float) -> list[int]:
    """The metric of ``prefix`` at ``node`` every 0.1 s (changes only)."""
    seen: list[int] = []
    end = lab.sim.now + seconds
    while lab.sim.now < end:
        lab.sim.run_for(0.1)
        m = lab.rip_metric(node, prefix)
        if m is not None and (not seen or seen[-1] != m):
            seen.append(m)
    return seen


def test_count_to_infinity_without_split_horizon_climbs_to_16() -> None:
    lab = line(split_horizon=False)
    assert lab.rip_metric("r1", "10.9.2.0/24") == 3
    lab.carrier("stub", False)  # the stub network disappears
    seen = _watch_metric(lab, "r1", "10.9.2.0/24", 120.0)
    # r1 and r2 (and r3) keep offering the route to each other, one hop more each time
    assert seen[0] == 3 and seen[-1] == INFINITY, seen
    assert len(seen) >= 5 and seen == sorted(seen), seen
    assert lab.route("r1", "10.9.2.0/24") is None  # withdrawn from the FIB at 16
    assert lab.nodes["r1"].counters()["rip_route_changes"] >= 5


def test_split_horizon_with_poisoned_reverse_stops_the_count() -> None:
    lab = line(split_horizon=True, poisoned_reverse=True)
    lab.carrier("stub", False)
    seen = _watch_metric(lab, "r1", "10.9.2.0/24", 60.0)
    assert seen == [3, INFINITY], seen  # straight to unreachable


def test_a_listening_host_learns_its_default_route_from_rip() -> None:
    """h1 runs RIP silently (routing: rip on a host): r1 originates 0.0.0.0/0, h1 learns it
    (and every subnet) and reaches h2 without a static route; it never sends updates."""
    lab = RipLab(Simulation(), rip_config())
    for name in ("h1", "r1", "r2", "h2"):
        (lab.host if name.startswith("h") else lab.router)(name)
    lab.link("h1", "h1", "r1")
    lab.link("core", "r1", "r2")
    lab.link("h2", "r2", "h2")
    lab.nodes["h2"].add_route("0.0.0.0", 0, "10.9.2.1")
    lab.start(r1=rip_config(originate_default=True))
    host = RipEngine(lab.nodes["h1"], rip_config(silent=True), rng=random.Random(3), now=0.0)
    assert lab.sim.run(lambda: lab.route("h1", "0.0.0.0/0") is not None, timeout=40.0)
    assert lab.via("h1", "0.0.0.0/0") == "10.9.0.2"
    assert lab.route("h1", "0.0.0.0/0").kind is RouteKind.RIP  # type: ignore[union-attr]
    assert lab.ping_until_answered("h1", lab.address("h2"), limit=40.0) is not None
    assert lab.sim.run(lambda: lab.route("h1", "10.9.2.0/24") is not None, timeout=40.0)
    counters = lab.nodes["h1"].counters()
    assert counters["rip_out_updates"] == counters["rip_out_triggered_updates"] == 0
    assert host.status(lab.sim.now).next_update_in is None
