"""RIP through the whole control plane on the sim backend (real time, short timers): a
diamond of our routers deployed from YAML with ``routing: rip``, the routes and rip views,
rip_route events, a link-down fault that RIP routes around and the shorter path back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from rich.console import Console

from orchestrator.cli import render
from orchestrator.client import Lab, LabClient
from orchestrator.domain.events import EventKind, LabEvent
from orchestrator.service.server import LabServer, start_server

TOPOLOGY = """name: riptest-svc
pool: 10.63.0.0/16
routing: rip
rip: {update: 1s, timeout: 4s, garbage: 2s, poisoned_reverse: true}
nodes:
  h1: {kind: host}
  r1: {kind: router}
  r2: {kind: router}
  r3: {kind: router}
  r5: {kind: router}
  r4: {kind: router, rip: {passive: [eth2]}}
  h2: {kind: host, apps: [echo]}
links:
  - endpoints: [h1:eth0, r1:eth0]
  - {name: upper-a, endpoints: [r1:eth1, r2:eth0]}
  - {name: lower-a, endpoints: [r1:eth2, r3:eth0]}
  - {name: upper-b, endpoints: [r2:eth1, r4:eth0]}
  - {name: lower-b, endpoints: [r3:eth1, r5:eth0]}
  - {name: lower-c, endpoints: [r5:eth1, r4:eth1]}
  - endpoints: [r4:eth2, h2:eth0]
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0")
    try:
        yield srv
    finally:
        srv.stop(grace=0.2)


@pytest.fixture(scope="module")
def lab(server: LabServer) -> Iterator[Lab]:
    with LabClient(server.address) as client:
        lab = client.deploy(yaml=TOPOLOGY, backend="sim")
        try:
            yield lab
        finally:
            lab.destroy()


def wait(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _net(address: str) -> str:
    return ".".join(address.split(".")[:3]) + ".0/24"


def route_to(lab: Lab, node: str, prefix: str) -> tuple[str, str, int] | None:
    for r in lab.routes(node):
        if r.prefix == prefix:
            return r.gateway, r.kind, r.metric
    return None


def text(renderable: object) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_routes_are_learned_and_shown_with_metric_age_and_neighbour(lab: Lab) -> None:
    prefix = _net(lab.address("h2"))
    r2 = lab.refresh().node("r2").interfaces[0].address
    assert wait(lambda: (route_to(lab, "r1", prefix) or ("", "", 0))[0] == r2, 15.0)
    back = _net(lab.address("h1"))
    assert wait(lambda: route_to(lab, "r4", back) is not None, 15.0)
    entries = {r.prefix: r for r in lab.routes("r1")}
    learned = entries[prefix]
    assert learned.kind == "rip" and learned.metric == 3 and learned.learned_from == r2
    assert learned.age_ms is not None and learned.age_ms < 4000
    assert {r.kind for r in entries.values()} == {"connected", "rip"}
    shown = text(render.routes(lab.routes("r1")))
    assert "AGE" in shown and "FROM" in shown and r2 in shown
    assert lab.ping("h1", "h2", count=2, interval="100ms").received == 2


def test_the_rip_view_lists_neighbours_timers_and_counters(lab: Lab) -> None:
    assert wait(lambda: lab.rip("r1").counters["rip_out_updates"] > 0, 5.0)
    st = lab.rip("r1")
    assert st.enabled and st.daemon == "wirelab"
    assert (st.update_s, st.timeout_s, st.garbage_s) == (1.0, 4.0, 2.0)
    assert st.split_horizon and st.poisoned_reverse and st.triggered_updates
    assert len(st.neighbors) == 2 and sum(n.routes for n in st.neighbors) >= 4
    assert st.counters["rip_in_responses"] > 0 and st.counters["rip_in_bad_packets"] == 0
    assert {r.origin for r in st.routes} == {"connected", "rip"}
    r4 = lab.rip("r4")
    assert [(i.name, i.passive) for i in r4.interfaces][-1] == ("eth2", True)
    assert not lab.rip("h1").enabled
    shown = text(render.rip(st))
    assert "RIPv2 (wirelab)" in shown and "NEIGHBOUR" in shown and "poisoned reverse" in shown


def test_a_link_down_fault_is_routed_around_and_the_shorter_path_returns(lab: Lab) -> None:
    prefix = _net(lab.address("h2"))
    info = lab.refresh()
    via_r2 = info.node("r2").interfaces[0].address
    via_r3 = info.node("r3").interfaces[0].address
    events: list[LabEvent] = []
    subscribed = threading.Event()
    cancels: list[Callable[[], object]] = []
    stream = lab.events(kinds=["rip_route"], on_start=cancels.append)

    def read() -> None:
        for event in stream:
            events.append(event)
            if event.kind is EventKind.SUBSCRIBED:
                subscribed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert subscribed.wait(5)
    fault = lab.add_fault(link="upper-a", down=True)
    start = time.monotonic()
    assert wait(lambda: (route_to(lab, "r1", prefix) or ("", "", 0))[0] == via_r3, 10.0)
    took = time.monotonic() - start
    assert took < 4.0 + 1.0 + 1.5, took  # the timeout, and at most an update more
    assert route_to(lab, "r1", prefix) == (via_r3, "rip", 4)
    # the way back: r2 times its route to h1 out too, then r4 goes through r5
    assert wait(lambda: lab.ping("h1", "h2", count=1, wait="300ms").received == 1, 8.0)
    assert time.monotonic() - start < 4.0 + 2 * 1.5 + 2.0
    lab.clear_fault(fault.fault_id)
    assert wait(lambda: (route_to(lab, "r1", prefix) or ("", "", 0))[0] == via_r2, 6.0)
    time.sleep(0.3)
    cancels[0]()
    reader.join(5)
    rip = [e for e in events if e.kind is EventKind.RIP_ROUTE]
    r1_changes = [
        (c.change, c.metric)
        for e in rip
        if (c := e.rip_route) is not None and e.node == "r1" and c.prefix == prefix
    ]
    assert ("changed", 4) in r1_changes and r1_changes[-1] == ("changed", 3), r1_changes
    assert any("rip route changed" in render.event_line(e) for e in rip)
