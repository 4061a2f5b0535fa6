"""The LabService end to end on the sim backend: a server on 127.0.0.1, the quickstart
lab (h1 - r1 - h2) deployed through it, driven with the typed client only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import (  # type: ignore[import-untyped]
    reflection_pb2,
    reflection_pb2_grpc,
)

from orchestrator.client import (
    AlreadyExists,
    InvalidArgument,
    Lab,
    LabClient,
    LabError,
    NotFound,
)
from orchestrator.domain.events import EventKind, LabEvent
from orchestrator.domain.faults import FaultState
from orchestrator.service.server import LabServer, start_server

LAB = "quickstart"


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0")
    try:
        yield srv
    finally:
        srv.stop(grace=0.2)


@pytest.fixture(scope="module")
def client(server: LabServer) -> Iterator[LabClient]:
    with LabClient(server.address) as c:
        yield c


@pytest.fixture(scope="module")
def lab(client: LabClient) -> Lab:
    steps: list[str] = []
    lab = client.deploy("quickstart", backend="sim", progress=lambda p: steps.append(p.step))
    assert lab.name == LAB and lab.info.backend == "sim"
    assert {"backend", "configure", "ready"} <= set(steps)
    return lab


def test_deploy_is_idempotent_and_reports_the_lab(client: LabClient, lab: Lab) -> None:
    again = client.deploy("quickstart", backend="sim")
    assert again.name == LAB
    assert LAB in [s.name for s in client.labs()]


def test_get_lab_lists_nodes_interfaces_addresses_and_state(lab: Lab) -> None:
    info = lab.refresh()
    assert info.state == "running"
    assert [n.name for n in info.nodes] == ["h1", "r1", "h2"]
    r1 = info.node("r1")
    assert r1.kind == "router" and r1.state == "running" and r1.agent.startswith("127.0.0.1:")
    assert [i.name for i in r1.interfaces] == ["eth0", "eth1"]
    assert all(i.address and i.prefix_len == 24 and i.mac and i.up for i in r1.interfaces)
    assert all(i.mtu == i.planned_mtu == 1500 for i in r1.interfaces)
    assert {link.name for link in info.links} == {"h1-r1", "r1-h2"}


def test_ping_by_node_name(lab: Lab) -> None:
    reply = lab.ping("h1", "h2", count=3, interval="10ms")
    assert reply.transmitted == 3 and reply.received == 3
    h2 = lab.address("h2")
    assert all(r.source == h2 and r.ttl == 63 for r in reply.results)


def test_traceroute_goes_through_the_router(lab: Lab) -> None:
    reply = lab.traceroute("h1", "h2", wait="500ms", probes=1)
    assert reply.reached
    assert [h.responder for h in reply.hops] == [lab.address("r1", "eth0"), lab.address("h2")]


def test_transfer_checks_sha256_and_samples_cwnd(lab: Lab) -> None:
    reply = lab.transfer("h1", "h2", size="300kB", sample_interval="5ms")
    assert reply.error == "" and reply.ok and reply.complete
    assert reply.bytes == reply.bytes_received == reply.size_bytes == 300_000
    assert reply.sha256_match and reply.sender_sha256 == reply.receiver_sha256
    assert reply.goodput_bps > 0 and reply.samples
    assert reply.final is not None and reply.final.mss > 0


def test_transfer_to_a_port_without_sink_starts_one_and_stops_it(lab: Lab) -> None:
    reply = lab.transfer("h2", "h1", size=50_000, port=6000)
    assert reply.sha256_match
    assert all(a.app_id != "sink:6000" for a in lab.apps("h1")["h1"])


def test_loss_on_a_link_endpoint_is_counted(lab: Lab) -> None:
    fault = lab.add_fault(endpoint="r1:eth1", loss=0.3, direction="egress", seed=7)
    try:
        assert fault.fault_id.startswith("F") and fault.state is FaultState.ACTIVE
        assert [(p.node, p.spec.iface) for p in fault.parts] == [("r1", "eth1")]
        assert fault.parts[0].first_hit_ms is None
        reply = lab.ping("h1", "h2", count=30, interval="5ms", wait="300ms")
        listed = lab.fault(fault.fault_id)
        part = listed.parts[0]
        assert part.first_hit_ms is not None and 0 <= part.first_hit_ms <= part.age_ms
        assert listed.counters.seen >= 30
        assert listed.counters.dropped == listed.counters.dropped_loss > 0
        assert reply.received == 30 - listed.counters.dropped
    finally:
        cleared = lab.clear_fault(fault.fault_id)
    assert cleared[0].state is FaultState.CLEARED and cleared[0].counters.dropped > 0
    assert lab.ping("h1", "h2", count=3, interval="10ms").received == 3


def test_whole_link_fault_covers_both_endpoints(lab: Lab) -> None:
    fault = lab.add_fault(link="h1-r1", delay="20ms")
    try:
        assert sorted((p.node, p.spec.iface) for p in fault.parts) == [
            ("h1", "eth0"),
            ("r1", "eth0"),
        ]
        reply = lab.ping("h1", "h2", count=1)
        assert reply.received == 1 and (reply.rtt_min_ms or 0) >= 40  # 20 ms each way
    finally:
        lab.clear_fault(fault.fault_id)


def test_partition_heals_after_its_duration(lab: Lab) -> None:
    fault = lab.partition(["h1"], ["r1", "h2"], duration="600ms")
    assert fault.origin == "partition" and fault.remaining_ms is not None
    assert lab.ping("h1", "h2", count=1, wait="200ms").received == 0
    assert lab.ping("h2", "r1", count=1, wait="300ms").received == 1  # same side
    time.sleep(0.7)
    assert lab.ping("h1", "h2", count=1, wait="500ms").received == 1
    listed = lab.fault(fault.fault_id)
    assert listed.state is FaultState.EXPIRED and listed.counters.dropped >= 1


def test_list_and_clear_all(lab: Lab) -> None:
    a = lab.add_fault(node="h2", duplicate=0.1, fault_id="dup")
    b = lab.add_fault(endpoint="h1:eth0", blackhole_mtu=1000)
    active = {f.fault_id for f in lab.faults(active_only=True)}
    assert {a.fault_id, b.fault_id} <= active and a.fault_id == "dup"
    with pytest.raises(AlreadyExists, match=r"fault_id"):
        lab.add_fault(node="h2", loss=0.1, fault_id="dup")
    cleared = lab.clear_faults()
    assert {a.fault_id, b.fault_id} <= {f.fault_id for f in cleared}
    assert lab.faults(active_only=True) == []


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (lambda c, lab: c.lab("nope"), NotFound, "lab"),
        (lambda c, lab: lab.ping("h9", "h2"), NotFound, "node"),
        (lambda c, lab: lab.ping("h1", "h7"), NotFound, "destination"),
        (lambda c, lab: lab.add_fault(endpoint="r1:eth9", loss=0.1), NotFound,
         "fault.target.endpoint"),
        (lambda c, lab: lab.add_fault(endpoint="r1", loss=0.1), InvalidArgument, "endpoint"),
        (lambda c, lab: lab.add_fault(link="nolink", loss=0.1), NotFound, "fault.target.link"),
        (lambda c, lab: lab.add_fault(node="h1"), InvalidArgument, "effects"),
        (lambda c, lab: lab.add_fault(node="h1", loss=1.5), InvalidArgument, "loss"),
        (lambda c, lab: lab.add_fault(node="h1", delay="20 parsecs"), InvalidArgument, "delay"),
        (lambda c, lab: lab.clear_fault("F999"), NotFound, "fault_id"),
        (lambda c, lab: lab.partition(["h1"]), InvalidArgument, "partition"),
        (lambda c, lab: lab.partition(["h1"], ["h1"]), InvalidArgument, "partition"),
        (lambda c, lab: lab.transfer("h1", "h1"), InvalidArgument, "destination"),
        (lambda c, lab: c.deploy(yaml="name: x\nnodes: 3\n"), InvalidArgument, "topology"),
        (lambda c, lab: lab.set_interface("r1", "eth7", mtu=1000), NotFound, "iface"),
        (lambda c, lab: lab.add_route("h1", "10.9.0.0/24", via="10.0.0.1.5"), InvalidArgument,
         "via"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field(
    client: LabClient,
    lab: Lab,
    call: Callable[[LabClient, Lab], object],
    error: type[LabError],
    field: str,
) -> None:
    with pytest.raises(error) as info:
        call(client, lab)
    assert info.value.field == field, info.value


def test_watch_events_stream_lab_and_node_events(lab: Lab) -> None:
    events: list[LabEvent] = []
    subscribed = threading.Event()
    stream = lab.events()

    def read() -> None:
        for event in stream:
            events.append(event)
            if event.kind is EventKind.SUBSCRIBED:
                subscribed.set()
            if event.kind is EventKind.FAULT and event.fault and event.fault.change == "cleared":
                return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert subscribed.wait(5)
    fault = lab.add_fault(endpoint="h1:eth0", loss=0.01)
    deadline = time.monotonic() + 10  # the node's own event arrives through its agent's stream
    while not any(e.kind is EventKind.NODE_FAULT for e in list(events)):
        assert time.monotonic() < deadline, "no node fault event in 10 s"
        time.sleep(0.02)
    lab.clear_fault(fault.fault_id)
    thread.join(5)
    stream.close()  # type: ignore[attr-defined]
    assert (events[0].kind, events[0].node) == (EventKind.SUBSCRIBED, "")
    changes = [e.fault.change for e in events if e.kind is EventKind.FAULT and e.fault]
    assert changes == ["added", "cleared"]
    node_faults = [
        e.node_fault.change for e in events if e.kind is EventKind.NODE_FAULT and e.node_fault
    ]
    assert "added" in node_faults


def test_capture_streams_pcap(lab: Lab) -> None:
    chunks = lab.capture_stream("h2", "eth0", max_packets=2, duration="5s")
    first = next(chunks)
    assert first.data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
    lab.ping("h1", "h2", count=1)
    rest = list(chunks)
    assert sum(c.packets for c in rest) == 2


def test_show_state_of_a_node(lab: Lab) -> None:
    assert {r.kind for r in lab.routes("r1")} == {"connected"}
    assert lab.status("h1").interfaces[0].name == "eth0"
    assert lab.counters("h2").stack
    assert any(a.app_id == "sink:5001" for a in lab.apps("h2")["h2"])
    assert lab.http_get("h1", "http://h2/").status == 200


def test_live_configuration_interfaces_and_routes(lab: Lab) -> None:
    """Not a fault: an MTU, an up/down, an address and a static route stay as set."""
    info = lab.set_interface("r1", "eth1", mtu=1000)
    assert (info.mtu, info.planned_mtu) == (1000, 1500)
    try:
        probe = lab.ping("h1", "h2", size=1200, dont_fragment=True, wait="500ms").results[0]
        assert (probe.icmp_type, probe.icmp_code, probe.next_hop_mtu) == (3, 4, 1000)
        assert lab.refresh().node("r1").interface("eth1").mtu == 1000
    finally:
        lab.set_interface("r1", "eth1", mtu=1500)
    down = lab.set_interface("h2", "eth0", up=False)
    assert not down.up
    assert lab.ping("h1", "h2", count=1, wait="300ms").received == 0
    assert lab.set_interface("h2", "eth0", up=True).up
    assert lab.ping("h1", "h2", count=2, interval="10ms", wait="1s").received >= 1
    route = lab.add_route("h1", "10.99.0.0/24", via=lab.address("r1", "eth0"))
    assert (route.prefix, route.kind, route.iface) == ("10.99.0.0/24", "static", "eth0")
    assert "10.99.0.0/24" in {r.prefix for r in lab.routes("h1")}
    assert lab.delete_route("h1", "10.99.0.0/24").prefix == "10.99.0.0/24"
    assert "10.99.0.0/24" not in {r.prefix for r in lab.routes("h1")}


def test_health_and_reflection(server: LabServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        reply = health.Check(health_pb2.HealthCheckRequest(service="wirelab.v1.LabService"))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        answer = next(iter(stub.ServerReflectionInfo(iter([request]))))
        names = {s.name for s in answer.list_services_response.service}
        assert "wirelab.v1.LabService" in names


def test_destroy_removes_the_lab(server: LabServer) -> None:
    with LabClient(server.address) as c:
        c.deploy("quickstart", name="other", backend="sim")
        assert "other" in {s.name for s in c.labs()}
        assert c.destroy("other") == ["other"]
        assert "other" not in {s.name for s in c.labs()}
        with pytest.raises(NotFound, match="lab:"):
            c.destroy("other")
