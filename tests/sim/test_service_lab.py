"""The LabService end to end on the sim backend: a server on 127.0.0.1, the quickstart
lab (h1 - r1 - h2) deployed through it, driven with the typed client only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from grpc_reflection.v1alpha import (  # type: ignore[import-untyped]
    reflection_pb2,
    reflection_pb2_grpc,
)
from wirelab.v1 import lab_pb2, node_pb2

import topology
from orchestrator.client import (
    AlreadyExistsError,
    InvalidArgumentError,
    LabClient,
    NotFoundError,
)
from orchestrator.service import LabServer, start_server

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
        steps: list[str] = []
        info = c.deploy(
            path=topology.example_path("quickstart"), progress=lambda p: steps.append(p.step)
        )
        assert info.name == LAB and info.backend == "sim"
        assert {"configure", "ready"} <= set(steps)
        yield c


def test_deploy_is_idempotent_and_reports_the_lab(client: LabClient) -> None:
    again = client.deploy(path=topology.example_path("quickstart"))
    assert again.name == LAB
    assert LAB in [s.name for s in client.list_labs()]


def test_get_lab_lists_nodes_interfaces_addresses_and_state(client: LabClient) -> None:
    lab = client.get_lab(LAB)
    assert lab.state == "running"
    assert [n.name for n in lab.nodes] == ["h1", "r1", "h2"]
    r1 = next(n for n in lab.nodes if n.name == "r1")
    assert r1.kind == "router" and r1.state == "running" and r1.agent.startswith("127.0.0.1:")
    assert [i.name for i in r1.interfaces] == ["eth0", "eth1"]
    assert all(i.address and i.prefix_len == 24 and i.mac for i in r1.interfaces)
    assert {link.name for link in lab.links} == {"h1-r1", "r1-h2"}


def test_ping_by_node_name(client: LabClient) -> None:
    reply = client.ping(LAB, "h1", "h2", count=3, interval=0.01)
    assert reply.transmitted == 3 and reply.received == 3
    h2 = client.get_lab(LAB).nodes[2].interfaces[0].address
    assert all(r.source == h2 and r.ttl == 63 for r in reply.results)


def test_traceroute_goes_through_the_router(client: LabClient) -> None:
    reply = client.traceroute(LAB, "h1", "h2", wait=0.5, probes=1)
    lab = client.get_lab(LAB)
    r1_eth0 = lab.nodes[1].interfaces[0].address
    assert reply.reached
    assert [h.responder for h in reply.hops] == [r1_eth0, lab.nodes[2].interfaces[0].address]


def test_transfer_checks_sha256_and_samples_cwnd(client: LabClient) -> None:
    reply = client.transfer(LAB, "h1", "h2", size=300_000, sample_interval=0.005)
    assert reply.error == ""
    assert reply.bytes == reply.bytes_received == 300_000
    assert reply.sha256_match and reply.sender_sha256 == reply.receiver_sha256
    assert reply.goodput_bps > 0 and reply.samples
    assert reply.final.mss > 0


def test_transfer_to_a_port_without_sink_starts_one_and_stops_it(client: LabClient) -> None:
    reply = client.transfer(LAB, "h2", "h1", size=50_000, port=6000)
    assert reply.sha256_match
    apps = client.list_apps(LAB, "h1")
    assert all(a.app_id != "sink:6000" for n in apps for a in n.apps)


def test_loss_on_a_link_endpoint_is_counted(client: LabClient) -> None:
    fault = client.add_fault(LAB, endpoint="r1:eth1", loss=0.3, direction="egress", seed=7)
    try:
        assert fault.fault_id.startswith("F") and fault.state == "active"
        assert [(p.node, p.spec.iface) for p in fault.parts] == [("r1", "eth1")]
        assert not fault.parts[0].HasField("first_hit_ms")
        reply = client.ping(LAB, "h1", "h2", count=30, interval=0.005, wait=0.3)
        listed = client.fault(LAB, fault.fault_id)
        part = listed.parts[0]
        assert part.HasField("first_hit_ms") and 0 <= part.first_hit_ms <= part.age_ms
        assert listed.counters.seen >= 30
        assert listed.counters.dropped == listed.counters.dropped_loss > 0
        assert reply.received == 30 - listed.counters.dropped
    finally:
        cleared = client.clear_fault(LAB, fault.fault_id)
    assert cleared[0].state == "cleared" and cleared[0].counters.dropped > 0
    assert client.ping(LAB, "h1", "h2", count=3, interval=0.01).received == 3


def test_whole_link_fault_covers_both_endpoints(client: LabClient) -> None:
    fault = client.add_fault(LAB, link="h1-r1", delay=0.02)
    try:
        assert sorted((p.node, p.spec.iface) for p in fault.parts) == [
            ("h1", "eth0"),
            ("r1", "eth0"),
        ]
        reply = client.ping(LAB, "h1", "h2", count=1)
        assert reply.received == 1 and reply.rtt_min_ms >= 40  # 20 ms each way
    finally:
        client.clear_fault(LAB, fault.fault_id)


def test_partition_heals_after_its_duration(client: LabClient) -> None:
    fault = client.partition(LAB, [["h1"], ["r1", "h2"]], duration=0.6)
    assert fault.origin == "partition" and fault.HasField("remaining_ms")
    assert client.ping(LAB, "h1", "h2", count=1, wait=0.2).received == 0
    assert client.ping(LAB, "h2", "r1", count=1, wait=0.3).received == 1  # same side
    time.sleep(0.7)
    assert client.ping(LAB, "h1", "h2", count=1, wait=0.5).received == 1
    listed = client.fault(LAB, fault.fault_id)
    assert listed.state == "expired" and listed.counters.dropped >= 1


def test_list_and_clear_all(client: LabClient) -> None:
    a = client.add_fault(LAB, node="h2", duplicate=0.1, fault_id="dup")
    b = client.add_fault(LAB, endpoint="h1:eth0", mtu=1000)
    active = {f.fault_id for f in client.list_faults(LAB, active_only=True)}
    assert {a.fault_id, b.fault_id} <= active and a.fault_id == "dup"
    with pytest.raises(AlreadyExistsError, match=r"fault\.fault_id"):
        client.add_fault(LAB, node="h2", loss=0.1, fault_id="dup")
    cleared = client.clear_fault(LAB, all=True)
    assert {a.fault_id, b.fault_id} <= {f.fault_id for f in cleared}
    assert client.list_faults(LAB, active_only=True) == []


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (lambda c: c.get_lab("nope"), NotFoundError, "lab:"),
        (lambda c: c.ping(LAB, "h9", "h2"), NotFoundError, "node:"),
        (lambda c: c.ping(LAB, "h1", "h7"), NotFoundError, "ping.destination:"),
        (
            lambda c: c.add_fault(LAB, endpoint="r1:eth9", loss=0.1),
            NotFoundError,
            "fault.target.endpoint:",
        ),
        (
            lambda c: c.add_fault(LAB, endpoint="r1", loss=0.1),
            InvalidArgumentError,
            "fault.target.endpoint:",
        ),
        (lambda c: c.add_fault(LAB, link="nolink", loss=0.1), NotFoundError, "fault.target.link:"),
        (lambda c: c.add_fault(LAB, node="h1"), InvalidArgumentError, "fault.effects:"),
        (
            lambda c: c.add_fault(LAB, node="h1", loss=1.5),
            InvalidArgumentError,
            "fault.effects.loss",
        ),
        (lambda c: c.clear_fault(LAB, "F999"), NotFoundError, "fault_id:"),
        (lambda c: c.partition(LAB, [["h1"]]), InvalidArgumentError, "groups"),
        (lambda c: c.partition(LAB, [["h1"], ["h1"]]), InvalidArgumentError, "groups[1]"),
        (lambda c: c.transfer(LAB, "h1", "h1"), InvalidArgumentError, "destination:"),
        (
            lambda c: c.stub.Deploy(
                lab_pb2.DeployRequest(topology_yaml="name: x\nnodes: 3\n")
            ).__next__(),
            grpc.RpcError,
            "topology",
        ),
    ],
)
def test_bad_requests_name_the_field(
    client: LabClient, call: object, error: type[Exception], field: str
) -> None:
    assert callable(call)
    with pytest.raises(error) as info:
        call(client)
    text = str(info.value) if not isinstance(info.value, grpc.Call) else info.value.details()
    assert field in (text or "")


def test_watch_events_stream_lab_and_node_events(client: LabClient) -> None:
    events: list[lab_pb2.LabEvent] = []
    subscribed = threading.Event()
    stream = client.watch_events(LAB)

    def read() -> None:
        for event in stream:
            events.append(event)
            if event.WhichOneof("kind") == "subscribed":
                subscribed.set()
            if event.WhichOneof("kind") == "fault" and event.fault.change == "cleared":
                return

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    assert subscribed.wait(5)
    fault = client.add_fault(LAB, endpoint="h1:eth0", loss=0.01)
    client.clear_fault(LAB, fault.fault_id)
    thread.join(5)
    stream.close()  # type: ignore[attr-defined]
    kinds = [(e.WhichOneof("kind"), e.node) for e in events]
    assert kinds[0] == ("subscribed", "")
    assert [e.fault.change for e in events if e.WhichOneof("kind") == "fault"] == [
        "added",
        "cleared",
    ]
    node_faults = [
        e.node_event.fault.change
        for e in events
        if e.WhichOneof("kind") == "node_event" and e.node == "h1"
    ]
    assert node_pb2.FaultEvent.CHANGE_ADDED in node_faults


def test_capture_streams_pcap(client: LabClient) -> None:
    chunks = client.capture(LAB, "h2", "eth0", max_packets=2, duration=5.0)
    first = next(chunks)
    assert first.data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4")
    client.ping(LAB, "h1", "h2", count=1)
    rest = list(chunks)
    assert sum(c.packets for c in rest) == 2


def test_show_state_of_a_node(client: LabClient) -> None:
    assert {r.kind for r in client.routes(LAB, "r1")} == {"connected"}
    assert client.node_status(LAB, "h1").interfaces[0].name == "eth0"
    counters = client.counters(LAB, "h2")
    assert counters.stack
    assert any(a.app_id == "sink:5001" for n in client.list_apps(LAB, "h2") for a in n.apps)
    reply = client.http_get(LAB, "h1", "http://h2/")
    assert reply.status == 200


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
        c.deploy(path=topology.example_path("quickstart"), name="other")
        assert "other" in {s.name for s in c.list_labs()}
        assert c.destroy("other") == ["other"]
        assert "other" not in {s.name for s in c.list_labs()}
        with pytest.raises(NotFoundError, match="lab:"):
            c.destroy("other")
