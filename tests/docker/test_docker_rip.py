"""RIPv2 on Docker: topology/examples/rip-diamond.yaml, our routers r1, r2, r4 and r3, a
Linux router running FRR's ripd (Debian's frr in the node image), h1 and h2 our hosts.

FRR starts with the planned configuration and only its container gets the capabilities
FRR needs; routes propagate both ways (our routers learn from ripd, ripd's kernel gets
``proto rip`` routes from ours) and pings cross paths learned from the other side; the
``show ... rip`` view reads both; a link-down fault on the path in use is routed around
within the example's timers (timeout 15 s) and the ping recovers. A second lab checks
RFC 2082 keyed MD5 between our router and ripd.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import docker
import pytest

import topology
from orchestrator.domain import requests
from orchestrator.lab import frr
from orchestrator.lab import labels as L
from orchestrator.lab.session import LabSession

pytestmark = pytest.mark.docker

NAME = f"riptest{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def lab(
    renamed_lab: Callable[[str | Path, str], topology.Lab],
    deployed_lab: Callable[[topology.Lab], AbstractContextManager[LabSession]],
) -> Iterator[LabSession]:
    with deployed_lab(renamed_lab(topology.example_path("rip-diamond"), NAME)) as session:
        yield session


def run(session: LabSession, node: str, *argv: str, timeout: float = 30.0) -> str:
    result = session.exec(node, list(argv), timeout=timeout)
    assert result.exit_code == 0, f"{node}: {' '.join(argv)}: {result.output}"
    return result.output


def net(session: LabSession, node: str, iface: str) -> str:
    planned = session.node(node)
    return str(next(i.network for i in planned.interfaces if i.name == iface))


def wait(predicate: Callable[[], bool], timeout: float, step: float = 0.5) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def route(session: LabSession, node: str, prefix: str) -> tuple[str, str, int] | None:
    for r in session.routes(node):
        if r.prefix == prefix:
            return r.gateway, r.kind, r.metric
    return None


def converged(session: LabSession) -> bool:
    wanted = {
        "r1": net(session, "r4", "eth2"),
        "r4": net(session, "h1", "eth0"),
        "r3": net(session, "h1", "eth0"),
        "r2": net(session, "r3", "eth1"),
    }
    return all(
        (r := route(session, node, prefix)) is not None and r[1] == "rip"
        for node, prefix in wanted.items()
    )


def ping(session: LabSession, src: str, dst: str, count: int = 3) -> int:
    """Echo replies ``src`` gets from ``dst`` (a node: its first address, or an address)."""
    if not dst[0].isdigit():
        dst = session.address(dst)
    req = requests.ping(dst, count=count, interval="200ms", wait="1s")
    return session.agent(src).ping(req, timeout=20).received


def test_frr_runs_ripd_as_planned_with_its_capabilities_only(lab: LabSession) -> None:
    conf = run(lab, "r3", *frr.vtysh("show running-config"))
    assert "router rip" in conf and "timers basic 5 15 10" in conf, conf
    assert f"network {net(lab, 'r3', 'eth0')}" in conf
    assert "ip rip split-horizon poisoned-reverse" in conf
    client = docker.APIClient()
    try:
        caps = {n: client.inspect_container(L.container_name(NAME, n))["HostConfig"]["CapAdd"]
                for n in ("r1", "r3")}  # fmt: skip
    finally:
        client.close()
    assert {"SYS_ADMIN", "NET_BIND_SERVICE"} <= {c.removeprefix("CAP_") for c in caps["r3"]}
    assert {c.removeprefix("CAP_") for c in caps["r1"]} == {"NET_RAW", "NET_ADMIN"}


def test_routes_propagate_both_ways_between_our_routers_and_frr(lab: LabSession) -> None:
    assert wait(lambda: converged(lab), 40.0), {n: lab.routes(n) for n in ("r1", "r3", "r4")}
    r3_to_r1 = lab.address("r3", "eth0")
    r1_to_r3 = lab.address("r1", "eth2")
    # ours learned from FRR: lower-b (r3-r4) is 2 hops through r3, 3 through r2
    lower_b = net(lab, "r3", "eth1")
    # (r1 may hear r2's longer offer first: FRR's comes with its next update, 2.5..7.5 s)
    assert wait(lambda: route(lab, "r1", lower_b) == (r3_to_r1, "rip", 2), 20.0)
    learned = {r.prefix: r for r in lab.routes("r1")}[lower_b]
    assert (learned.kind, learned.gateway, learned.metric) == ("rip", r3_to_r1, 2)
    assert learned.learned_from == r3_to_r1 and learned.age_ms is not None
    # FRR learned from ours: h1's subnet through r1, in r3's kernel as proto rip
    h1_net = net(lab, "h1", "eth0")
    assert route(lab, "r3", h1_net) == (r1_to_r3, "rip", route(lab, "r3", h1_net)[2])  # type: ignore[index]
    kernel = run(lab, "r3", "ip", "-4", "route", "show", h1_net)
    assert f"via {r1_to_r3}" in kernel and "proto rip" in kernel, kernel
    # pings across those paths: our host to r4's lower-b address (r1 goes through FRR's
    # r3), the Linux router to our host h1 (through the route r3 learned from r1)
    assert ping(lab, "h1", lab.address("r4", "eth1")) == 3
    out = run(lab, "r3", "ping", "-c", "3", "-i", "0.2", "-W", "2", lab.address("h1"))
    assert "3 received" in out, out
    assert ping(lab, "h1", lab.address("h2")) == 3


def test_the_rip_view_reads_our_engine_and_frr(lab: LabSession) -> None:
    assert wait(lambda: converged(lab), 40.0)
    ours = lab.rip("r1")
    assert ours.enabled and ours.daemon == "wirelab" and ours.poisoned_reverse
    assert (ours.update_s, ours.timeout_s, ours.garbage_s) == (5.0, 15.0, 10.0)
    by_address = {n.address: n for n in ours.neighbors}
    frr_neighbor = by_address[lab.address("r3", "eth0")]
    assert frr_neighbor.bad_packets == 0 and frr_neighbor.bad_routes == 0
    assert frr_neighbor.routes >= 1
    assert ours.counters["rip_in_bad_packets"] == 0
    theirs = lab.rip("r3")
    assert theirs.enabled and theirs.daemon == "frr"
    assert (theirs.update_s, theirs.timeout_s, theirs.garbage_s) == (5.0, 15.0, 10.0)
    neighbors = {n.address: n for n in theirs.neighbors}
    assert lab.address("r1", "eth2") in neighbors and lab.address("r4", "eth1") in neighbors
    assert all(n.bad_packets == 0 and n.bad_routes == 0 for n in neighbors.values())
    assert any(r.origin == "rip" and r.learned_from == lab.address("r1", "eth2")
               for r in theirs.routes)  # fmt: skip
    assert not lab.rip("h1").enabled


def test_a_link_down_fault_on_the_path_in_use_is_routed_around(lab: LabSession) -> None:
    """Fail the path r1 uses to h2, then (the other path now in use: equal metrics keep
    it after the repair) that one: both an all-ours link (upper-a) and one with FRR's r3
    at its end (lower-a) go down once."""
    assert wait(lambda: converged(lab), 40.0)
    h2_net = net(lab, "h2", "eth0")
    paths = {lab.address("r2", "eth0"): "upper-a", lab.address("r3", "eth0"): "lower-a"}
    failed = []
    for _ in range(2):
        gateway = route(lab, "r1", h2_net)[0]  # type: ignore[index]
        link = paths[gateway]
        (other,) = [g for g in paths if g != gateway]
        assert ping(lab, "h1", "h2") == 3
        fault = lab.faults.add(requests.fault(link=link, down=True))
        start = time.monotonic()
        try:
            assert ping(lab, "h1", "h2", count=2) == 0  # the path in use is dead
            recovered = wait(lambda: ping(lab, "h1", "h2", count=1) == 1, 45.0, step=0.0)
            took = time.monotonic() - start
            assert recovered, f"no recovery in {took:.0f} s"
            # the timeout (15 s), a triggered update (1..5 s), pings of 1 s
            assert took < 15 + 5 + 8, took
            assert route(lab, "r1", h2_net)[0] == other  # type: ignore[index]
            print(f"rip-diamond: ping recovered {took:.1f} s after {link} went down")
        finally:
            lab.faults.clear(fault.fault_id)
        failed.append(link)
        assert wait(lambda: ping(lab, "h1", "h2", count=1) == 1, 30.0)
        assert wait(lambda: converged(lab), 40.0)
    assert sorted(failed) == ["lower-a", "upper-a"]


MD5_LAB = """name: {name}
pool: 10.64.0.0/16
routing: rip
rip: {{update: 5s, timeout: 15s, garbage: 10s, auth_key: {key}, auth_key_id: 3}}
nodes:
  h1: {{kind: host}}
  r1: {{kind: router}}
  r3: {{kind: linux, forward: true{frr_key}}}
  lx: {{kind: linux}}
links:
  - endpoints: [h1:eth0, r1:eth0]
  - endpoints: [r1:eth1, r3:eth0]
  - endpoints: [r3:eth1, lx:eth0]
"""


def test_md5_authentication_with_frr(
    deployed_lab: Callable[[topology.Lab], AbstractContextManager[LabSession]],
) -> None:
    """Same key: routes flow both ways, every signed message passes; a wrong key on FRR's
    side: ours counts auth failures and learns nothing from it."""
    name = f"riptest{uuid.uuid4().hex[:6]}md5"
    text = MD5_LAB.format(name=name, key="wl-s3cret", frr_key="")
    with deployed_lab(topology.load_text(text)) as session:
        far = net(session, "r3", "eth1")
        assert wait(lambda: (route(session, "r1", far) or ("", "", 0))[1] == "rip", 30.0)
        h1_net = net(session, "h1", "eth0")
        assert wait(lambda: (route(session, "r3", h1_net) or ("", "", 0))[1] == "rip", 30.0)
        out = run(session, "lx", "ping", "-c", "2", "-W", "2", session.address("h1"))
        assert "2 received" in out, out
        (nb,) = session.rip("r1").neighbors
        assert nb.auth_sequence is not None and nb.bad_packets == 0
        # FRR sends its start-up request unsigned (ripd signs only responses): we drop it,
        # as RFC 2082 asks, and everything after it passes
        failures = session.rip("r1").counters["rip_in_auth_failures"]
        assert failures <= 1
        time.sleep(8.0)  # an update of FRR's more
        assert session.rip("r1").counters["rip_in_auth_failures"] == failures
        later = session.rip("r1").neighbors[0].auth_sequence
        assert later is not None and later > nb.auth_sequence
    name = f"riptest{uuid.uuid4().hex[:6]}bad"
    text = MD5_LAB.format(name=name, key="wl-s3cret",
                          frr_key=", rip: {auth_key: other-key, auth_key_id: 3}")  # fmt: skip
    with deployed_lab(topology.load_text(text)) as session:
        assert wait(lambda: session.rip("r1").counters["rip_in_auth_failures"] > 0, 30.0)
        assert route(session, "r1", net(session, "r3", "eth1")) is None
