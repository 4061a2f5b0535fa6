"""The node agent end to end, in one process: the quickstart lab (h1 - r1 - h2) as three
real-time nodes joined by in-memory links, each with its own agent on 127.0.0.1,
configured from the topology and driven over gRPC only."""

from __future__ import annotations

import io
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
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet
from scapy.utils import rdpcap
from wirelab.v1 import common_pb2, node_pb2, node_pb2_grpc

import topology
from nodes.apps.data import pattern_sha256
from orchestrator.wire.agent import configure_request
from tests.agentlab import InProcessLab

Stub = node_pb2_grpc.NodeAgentStub
T = 10.0  # RPC timeout of quick calls


class Lab:
    def __init__(self, lab: InProcessLab) -> None:
        self.inproc = lab
        self.channels = {n: grpc.insecure_channel(node.address) for n, node in lab.nodes.items()}
        self.stubs = {n: Stub(ch) for n, ch in self.channels.items()}
        plan = lab.lab
        self.h1_addr = str(plan.node("h1").interface("eth0").address)
        self.h2_addr = str(plan.node("h2").interface("eth0").address)
        self.r1_addrs = {str(i.address) for i in plan.node("r1").interfaces}
        self.r1_h1_side = str(plan.node("r1").interface("eth0").address)

    def __getitem__(self, name: str) -> Stub:
        return self.stubs[name]

    def close(self) -> None:
        for ch in self.channels.values():
            ch.close()


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    inproc = InProcessLab(topology.load_file(topology.example_path("quickstart")))
    handle = Lab(inproc)
    try:
        inproc.configure(seed=11)
        yield handle
    finally:
        handle.close()
        inproc.close()
        for node in inproc.nodes.values():
            assert not node.thread.is_alive(), f"{node.name}'s loop thread still runs"
            assert node.server.executor._shutdown


@pytest.fixture
def r1_faults_cleared(lab: Lab) -> Iterator[None]:
    yield
    lab["r1"].ClearFault(node_pb2.ClearFaultRequest(all=True), timeout=T)


def _code(err: grpc.RpcError) -> grpc.StatusCode:
    assert isinstance(err, grpc.Call)
    return err.code()


def _details(err: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    assert isinstance(err.value, grpc.Call)
    return err.value.details() or ""


# ---- configuration, health, reflection -------------------------------------------------
def test_every_node_is_configured_and_healthy(lab: Lab) -> None:
    for name in ("h1", "r1", "h2"):
        status = lab[name].GetStatus(node_pb2.GetStatusRequest(), timeout=T)
        assert status.name == name and status.ready and status.lab == "quickstart"
        assert status.versions.grpc and status.versions.protobuf and status.versions.python
        health = health_pb2_grpc.HealthStub(lab.channels[name])
        for service in ("", "wirelab.v1.NodeAgent"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=T)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    r1 = lab["r1"].GetStatus(node_pb2.GetStatusRequest(), timeout=T)
    assert r1.kind == node_pb2.NODE_KIND_ROUTER
    assert {i.address for i in r1.interfaces} == lab.r1_addrs
    assert all(i.device.startswith("mem:") and i.mtu == 1500 and i.up for i in r1.interfaces)
    h2 = lab["h2"].GetStatus(node_pb2.GetStatusRequest(), timeout=T)
    assert set(h2.apps) == {"http-server:80", "echo:7", "sink:5001", "udp-echo:7"}
    routes = lab["h1"].ListRoutes(node_pb2.ListRoutesRequest(), timeout=T).routes
    default = [r for r in routes if r.prefix == "0.0.0.0/0"]
    assert default and default[0].gateway == lab.r1_h1_side and default[0].kind == "static"


def test_reflection_lists_the_services(lab: Lab) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(lab.channels["h1"])
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    replies = list(stub.ServerReflectionInfo(iter([request]), timeout=T))
    names = {s.name for s in replies[0].list_services_response.service}
    assert {"wirelab.v1.NodeAgent", "grpc.health.v1.Health"} <= names


def test_configure_again_is_idempotent_and_a_different_config_is_refused(lab: Lab) -> None:
    request = configure_request(lab.inproc.lab, lab.inproc.lab.node("h1"), seed=11)
    again = lab["h1"].Configure(request, timeout=T)
    assert again.already_configured and again.status.ready
    request.interfaces[0].mtu = 1400
    with pytest.raises(grpc.RpcError) as err:
        lab["h1"].Configure(request, timeout=T)
    assert _code(err.value) == grpc.StatusCode.FAILED_PRECONDITION


# ---- ping, traceroute, MTU ----------------------------------------------------------------
def test_ping_through_the_router(lab: Lab) -> None:
    reply = lab["h1"].Ping(
        node_pb2.PingRequest(destination=lab.h2_addr, count=3, interval_ms=20), timeout=T
    )
    assert reply.transmitted == 3 and reply.received == 3 and reply.loss == 0
    assert [r.seq for r in reply.results] == [1, 2, 3]
    for r in reply.results:
        assert r.replied and r.source == lab.h2_addr and r.ttl == 63 and r.size_bytes == 56
        assert 0 < r.rtt_ms < 1000
    assert 0 < reply.rtt_min_ms <= reply.rtt_avg_ms <= reply.rtt_max_ms
    arp = lab["h1"].GetArpTable(node_pb2.GetArpTableRequest(), timeout=T).entries
    assert any(e.address == lab.r1_h1_side and e.mac and e.iface == "eth0" for e in arp)


def test_traceroute_lists_the_router(lab: Lab) -> None:
    reply = lab["h1"].Traceroute(
        node_pb2.TracerouteRequest(destination=lab.h2_addr, probes=1, wait_ms=500), timeout=T
    )
    assert reply.reached
    assert [h.responder for h in reply.hops] == [lab.r1_h1_side, lab.h2_addr]
    assert reply.hops[0].probes[0].icmp_type == 11  # time exceeded from r1
    assert reply.hops[1].probes[0].icmp_type == 3 and reply.hops[1].probes[0].icmp_code == 3


def test_lowering_a_router_mtu_makes_a_df_ping_get_frag_needed(lab: Lab) -> None:
    r1, h1 = lab["r1"], lab["h1"]
    status = r1.SetInterface(node_pb2.SetInterfaceRequest(name="eth1", mtu=1000), timeout=T)
    assert status.mtu == 1000 and status.name == "eth1"
    try:
        big = node_pb2.PingRequest(destination=lab.h2_addr, size_bytes=1200, dont_fragment=True,
                                   timeout_ms=500)  # fmt: skip
        reply = h1.Ping(big, timeout=T)
        (result,) = reply.results
        assert not result.replied and reply.received == 0 and reply.errors == 1
        assert (result.icmp_type, result.icmp_code) == (3, 4)
        assert result.next_hop_mtu == 1000 and result.source == lab.r1_h1_side
        big.dont_fragment = False  # without DF the router fragments and h2 reassembles
        assert h1.Ping(big, timeout=T).received == 1
    finally:
        r1.SetInterface(node_pb2.SetInterfaceRequest(name="eth1", mtu=1500), timeout=T)
    ifaces = r1.GetStatus(node_pb2.GetStatusRequest(), timeout=T).interfaces
    assert {i.name: i.mtu for i in ifaces} == {"eth0": 1500, "eth1": 1500}


def _mtus(stub: Stub) -> dict[str, tuple[int, int]]:
    """Each interface's (MTU in force, configured MTU)."""
    status = stub.GetStatus(node_pb2.GetStatusRequest(), timeout=T)
    return {i.name: (i.mtu, i.base_mtu) for i in status.interfaces}


def _df_ping(lab: Lab, size: int = 1200) -> node_pb2.PingResponse:
    big = node_pb2.PingRequest(destination=lab.h2_addr, size_bytes=size, dont_fragment=True,
                               timeout_ms=500)  # fmt: skip
    return lab["h1"].Ping(big, timeout=T)


def test_an_mtu_fault_sets_the_mtu_until_cleared_or_expired(
    lab: Lab, r1_faults_cleared: None
) -> None:
    r1 = lab["r1"]
    stream = r1.WatchEvents(node_pb2.WatchEventsRequest(types=[node_pb2.EVENT_TYPE_LINK]),
                            timeout=15)  # fmt: skip
    assert next(stream).subscribed
    spec = common_pb2.FaultSpec(iface="eth1", mtu=1000)
    fault = r1.AddFault(node_pb2.AddFaultRequest(fault=spec, fault_id="mtu"), timeout=T)
    assert fault.spec.mtu == 1000 and not fault.spec.HasField("blackhole_mtu")
    assert _mtus(r1) == {"eth0": (1500, 1500), "eth1": (1000, 1500)}  # at once
    reply = _df_ping(lab)
    (result,) = reply.results
    assert (result.icmp_type, result.icmp_code, result.next_hop_mtu) == (3, 4, 1000)
    assert result.source == lab.r1_h1_side and reply.received == 0
    (info,) = r1.ListFaults(node_pb2.ListFaultsRequest(), timeout=T).faults
    assert info.counters.mtu_exceeded == 1 and info.HasField("first_hit_ms")
    assert info.counters.seen == 0  # no frame went through the fault engine for it
    # the configured MTU changes underneath; the fault still caps it
    r1.SetInterface(node_pb2.SetInterfaceRequest(name="eth1", mtu=1400), timeout=T)
    assert _mtus(r1)["eth1"] == (1000, 1400)
    r1.ClearFault(node_pb2.ClearFaultRequest(fault_id="mtu"), timeout=T)
    assert _mtus(r1)["eth1"] == (1400, 1400)
    r1.SetInterface(node_pb2.SetInterfaceRequest(name="eth1", mtu=1500), timeout=T)
    assert _df_ping(lab).received == 1
    # with a duration the node restores it by itself: no call in between
    spec = common_pb2.FaultSpec(iface="*", mtu=900, duration_ms=300)
    r1.AddFault(node_pb2.AddFaultRequest(fault=spec), timeout=T)
    assert _mtus(r1) == {"eth0": (900, 1500), "eth1": (900, 1500)}
    assert _df_ping(lab, 1000).results[0].next_hop_mtu == 900
    links = [e for e in _events_until(stream, lambda ev: len(ev) >= 7) if e.HasField("link")]
    stream.cancel()
    # each change of an MTU in force, once (not the base change hidden under the cap)
    assert [(e.link.iface, e.link.change, e.link.mtu) for e in links] == [
        ("eth1", "mtu", 1000), ("eth1", "mtu", 1400), ("eth1", "mtu", 1500),
        ("eth0", "mtu", 900), ("eth1", "mtu", 900), ("eth0", "mtu", 1500), ("eth1", "mtu", 1500),
    ]  # fmt: skip
    assert links[-1].unix_time_s - links[3].unix_time_s == pytest.approx(0.3, abs=0.1)
    assert _mtus(r1) == {"eth0": (1500, 1500), "eth1": (1500, 1500)}
    assert _df_ping(lab).received == 1


def test_a_live_address_change_over_grpc(lab: Lab) -> None:
    h2 = lab["h2"]
    old = lab.h2_addr
    net = lab.inproc.lab.node("h2").interface("eth0").network
    new = str(net.network_address + 77)
    status = h2.SetInterface(node_pb2.SetInterfaceRequest(name="eth0", address=new), timeout=T)
    try:
        assert (status.address, status.prefix_len) == (new, net.prefixlen)
        ping = node_pb2.PingRequest(destination=new, count=1, timeout_ms=1000)
        reply = lab["h1"].Ping(ping, timeout=T)
        assert reply.received == 1 and reply.results[0].source == new
        gone = node_pb2.PingRequest(destination=old, count=1, timeout_ms=300)
        assert lab["h1"].Ping(gone, timeout=T).received == 0
        counters = h2.GetCounters(node_pb2.GetCountersRequest(), timeout=T).stack
        assert counters["arp_out_gratuitous"] >= 2 and counters["icmp_in_echos"] >= 1
        bad = [
            (node_pb2.SetInterfaceRequest(name="eth0", address=str(net.network_address)),
             "address:"),
            (node_pb2.SetInterfaceRequest(name="eth0", address="10.0.0.300"), "address:"),
            (node_pb2.SetInterfaceRequest(name="eth0", prefix_len=33), "prefix_len:"),
        ]  # fmt: skip
        for request, field in bad:
            with pytest.raises(grpc.RpcError) as err:
                h2.SetInterface(request, timeout=T)
            assert _code(err.value) == grpc.StatusCode.INVALID_ARGUMENT
            assert _details(err).startswith(field), _details(err)
    finally:
        back = node_pb2.SetInterfaceRequest(name="eth0", address=old, prefix_len=net.prefixlen)
        h2.SetInterface(back, timeout=T)
    assert lab["h1"].Ping(node_pb2.PingRequest(destination=old), timeout=T).received == 1


# ---- faults and bulk transfer -------------------------------------------------------------
def test_seeded_loss_on_the_router_slows_but_does_not_break_a_transfer(
    lab: Lab, r1_faults_cleared: None
) -> None:
    r1, h1, h2 = lab["r1"], lab["h1"], lab["h2"]
    spec = common_pb2.FaultSpec(iface="eth1", direction=common_pb2.DIRECTION_EGRESS, loss=0.1,
                                seed=7)  # fmt: skip
    fault = r1.AddFault(node_pb2.AddFaultRequest(fault=spec), timeout=T)
    assert fault.fault_id and fault.seed == 7 and fault.spec.loss == pytest.approx(0.1)
    size = 2_000_000
    request = node_pb2.BulkSendRequest(destination=lab.h2_addr, port=5001, size_bytes=size,
                                       seed=5, sample_interval_ms=20)  # fmt: skip
    transfer = h1.BulkSend.future(request, timeout=60)
    seen = _poll_connection(h1, lab.h2_addr, transfer)
    result = transfer.result()
    assert result.error == "" and result.bytes == size
    assert result.sha256 == pattern_sha256(size, 5)
    assert result.retransmits > 0 and result.goodput_bps > 0 and result.seconds > 0
    assert result.samples and all(s.cwnd > 0 for s in result.samples)
    assert any(s.HasField("ssthresh") for s in result.samples)  # losses ended slow start
    # the connection was visible like `ss -ti` while it ran
    assert seen is not None and seen.state == "ESTABLISHED" and seen.cwnd > 0
    assert seen.mss == 1460 - 12 and seen.local_address == lab.h1_addr
    assert seen.congestion_control == "cubic" and seen.bytes_acked > 0
    sink = h2.GetSinkResults(node_pb2.GetSinkResultsRequest(app_id="sink:5001"), timeout=T)
    mine = [r for r in sink.results if r.remote_port == result.local_port]
    assert mine and mine[0].finished and mine[0].sha256 == result.sha256
    counters = r1.GetCounters(node_pb2.GetCountersRequest(), timeout=T)
    (fc,) = [f for f in counters.faults if f.fault_id == fault.fault_id]
    assert fc.counters.dropped_loss > 0 and fc.counters.seen > fc.counters.dropped
    assert 0.05 < fc.counters.dropped / fc.counters.seen < 0.15
    assert counters.stack["ip_forw_datagrams"] > 0 and counters.io["io_frames_sent"] > 0
    assert counters.ports["eth1"].values["tx_frames"] > 0
    cleared = r1.ClearFault(node_pb2.ClearFaultRequest(fault_id=fault.fault_id), timeout=T)
    assert cleared.cleared[0].counters.dropped == fc.counters.dropped
    assert not r1.ListFaults(node_pb2.ListFaultsRequest(), timeout=T).faults


def _poll_connection(
    h1: Stub, remote: str, transfer: grpc.Future[node_pb2.BulkSendResponse]
) -> common_pb2.TcpConnectionInfo | None:
    """The transfer's connection as GetConnections shows it mid-transfer."""
    seen = None
    while not transfer.done():
        reply = h1.GetConnections(node_pb2.GetConnectionsRequest(), timeout=T)
        for conn in reply.connections:
            if conn.remote_address == remote and conn.remote_port == 5001:
                seen = conn
                if conn.state == "ESTABLISHED" and conn.bytes_acked > 100_000:
                    return conn
        time.sleep(0.02)
    return seen


def test_bad_fault_specs_name_the_field(lab: Lab) -> None:
    r1 = lab["r1"]
    cases = [
        (common_pb2.FaultSpec(iface="eth1", loss=1.5), "fault.loss: must be within 0..1"),
        (common_pb2.FaultSpec(iface="eth9", loss=0.1), "fault.iface: no interface 'eth9'"),
        (common_pb2.FaultSpec(iface="eth1", delay_ms=-1), "fault.delay_ms: must be within"),
        (common_pb2.FaultSpec(iface="eth1", reorder=0.5), "fault.reorder: needs delay"),
        (common_pb2.FaultSpec(iface="eth1", gilbert_elliott=common_pb2.GilbertElliott(p=2)),
         "fault.gilbert_elliott.p: must be within 0..1"),
        (common_pb2.FaultSpec(iface="eth1", match=common_pb2.Match(src="10.0.0.1/8")),
         "fault.match.src:"),
        (common_pb2.FaultSpec(iface="eth1", match=common_pb2.Match(protocol="sctp")),
         "fault.match.protocol:"),
        (common_pb2.FaultSpec(iface="eth1", rate=common_pb2.RateLimit(rate_bps=0)),
         "fault.rate.rate_bps:"),
    ]  # fmt: skip
    for spec, message in cases:
        with pytest.raises(grpc.RpcError) as err:
            r1.AddFault(node_pb2.AddFaultRequest(fault=spec), timeout=T)
        assert _code(err.value) == grpc.StatusCode.INVALID_ARGUMENT
        assert _details(err).startswith(message), _details(err)
    assert not r1.ListFaults(node_pb2.ListFaultsRequest(), timeout=T).faults


def test_bad_addresses_and_unknown_ids(lab: Lab) -> None:
    h1, r1 = lab["h1"], lab["r1"]
    with pytest.raises(grpc.RpcError) as err:
        h1.Ping(node_pb2.PingRequest(destination="10.0.0.300"), timeout=T)
    assert _code(err.value) == grpc.StatusCode.INVALID_ARGUMENT
    assert _details(err).startswith("destination: must be an IPv4 address")
    with pytest.raises(grpc.RpcError) as err:
        h1.AddRoute(node_pb2.AddRouteRequest(route=node_pb2.RouteConfig(
            prefix="10.9.0.0/16", gateway="10.9.0.1.5")), timeout=T)  # fmt: skip
    assert _details(err).startswith("route.gateway: must be an IPv4 address")
    with pytest.raises(grpc.RpcError) as err:
        h1.BulkSend(node_pb2.BulkSendRequest(destination=lab.h2_addr, size_bytes=1,
                                             congestion_control="bbr"), timeout=T)  # fmt: skip
    assert _details(err).startswith("congestion_control: must be one of")
    calls: list[Callable[[], object]] = [
        lambda: r1.ClearFault(node_pb2.ClearFaultRequest(fault_id="nope"), timeout=T),
        lambda: r1.StopApp(node_pb2.StopAppRequest(app_id="echo:9"), timeout=T),
        lambda: r1.SetInterface(node_pb2.SetInterfaceRequest(name="eth7", up=False), timeout=T),
        lambda: h1.DeleteRoute(node_pb2.DeleteRouteRequest(prefix="10.99.0.0/16"), timeout=T),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert _code(err.value) == grpc.StatusCode.NOT_FOUND, _details(err)
    with pytest.raises(grpc.RpcError) as err:
        r1.ClearFault(node_pb2.ClearFaultRequest(fault_id="nope"), timeout=T)
    assert "no fault 'nope'" in _details(err)


def test_static_routes_and_apps_can_be_changed(lab: Lab) -> None:
    h1, h2 = lab["h1"], lab["h2"]
    route = node_pb2.RouteConfig(prefix="10.250.0.0/16", gateway=lab.r1_h1_side, metric=5)
    added = h1.AddRoute(node_pb2.AddRouteRequest(route=route), timeout=T)
    assert added.prefix == "10.250.0.0/16" and added.iface == "eth0" and added.kind == "static"
    deleted = h1.DeleteRoute(node_pb2.DeleteRouteRequest(prefix="10.250.0.0/16"), timeout=T)
    assert deleted.gateway == lab.r1_h1_side
    app = h2.StartApp(node_pb2.StartAppRequest(app=node_pb2.AppConfig(kind="echo", port=7007)),
                      timeout=T)  # fmt: skip
    assert app.app_id == "echo:7007" and app.running
    with pytest.raises(grpc.RpcError) as err:
        h2.StartApp(node_pb2.StartAppRequest(app=node_pb2.AppConfig(kind="echo", port=7007)),
                    timeout=T)  # fmt: skip
    assert _code(err.value) == grpc.StatusCode.ALREADY_EXISTS
    stopped = h2.StopApp(node_pb2.StopAppRequest(app_id="echo:7007"), timeout=T)
    assert not stopped.running
    apps = {a.app_id for a in h2.ListApps(node_pb2.ListAppsRequest(), timeout=T).apps}
    assert "echo:7007" not in apps and "http-server:80" in apps


def test_http_get_and_udp_echo(lab: Lab) -> None:
    h1 = lab["h1"]
    got = h1.HttpGet(node_pb2.HttpGetRequest(url=f"http://{lab.h2_addr}/bytes/100000"),
                     timeout=T)  # fmt: skip
    assert got.status == 200 and got.bytes == 100_000 and got.error == ""
    assert got.sha256 == pattern_sha256(100_000, 0) and got.headers["content-length"] == "100000"
    udp = h1.UdpSend(node_pb2.UdpSendRequest(destination=lab.h2_addr, port=7, count=5,
                                             interval_ms=5), timeout=T)  # fmt: skip
    assert udp.sent == 5 and udp.replies == 5 and udp.lost == 0 and udp.rtt_max_ms > 0


def test_a_long_call_ends_with_its_deadline(lab: Lab) -> None:
    h1 = lab["h1"]
    # an unused address on h1's own link: ARP never resolves, nothing answers
    silent = str(lab.inproc.lab.node("h1").interface("eth0").network.network_address + 99)
    request = node_pb2.PingRequest(destination=silent, count=50, interval_ms=100)
    start = time.monotonic()
    with pytest.raises(grpc.RpcError) as err:
        h1.Ping(request, timeout=0.5)
    assert _code(err.value) == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - start < 3
    # the job was cancelled on the node: a new ping works at once
    ok = h1.Ping(node_pb2.PingRequest(destination=lab.h2_addr), timeout=T)
    assert ok.received == 1


# ---- capture ---------------------------------------------------------------------------
def _checksums_valid(pkt: Packet) -> bool:
    """scapy recomputes each checksum of our frame and must find the same values."""
    for layer in (IP, ICMP, TCP, UDP):
        if layer in pkt:
            copy = Ether(bytes(pkt))
            del copy[layer].chksum
            if Ether(bytes(copy))[layer].chksum != pkt[layer].chksum:
                return False
    return True


def test_capture_streams_a_pcap_that_scapy_reads(lab: Lab) -> None:
    h1 = lab["h1"]
    request = node_pb2.CaptureRequest(iface="eth0", max_packets=30, duration_ms=8000)
    stream = h1.Capture(request, timeout=15)
    first = next(stream)
    assert len(first.data) == 24 and first.packets == 0  # the pcap global header only
    traffic = threading.Thread(target=lambda: (
        h1.Ping(node_pb2.PingRequest(destination=lab.h2_addr, count=4, interval_ms=10),
                timeout=T),
        h1.HttpGet(node_pb2.HttpGetRequest(url=f"http://{lab.h2_addr}/bytes/20000"), timeout=T),
    ))  # fmt: skip
    traffic.start()
    chunks = [first.data]
    packets = 0
    for chunk in stream:
        chunks.append(chunk.data)
        packets += chunk.packets
    traffic.join()
    assert packets == 30
    frames = rdpcap(io.BytesIO(b"".join(chunks)))
    assert len(frames) == 30
    ours = [p for p in frames if IP in p and p[IP].src == lab.h1_addr]
    assert any(ICMP in p for p in ours) and any(TCP in p for p in ours)
    assert all(_checksums_valid(p) for p in frames if IP in p)
    assert all(p.time > 1e9 for p in frames)  # wall-clock timestamps
    assert not any(ARP in p and p[ARP].psrc not in (lab.h1_addr, lab.r1_h1_side) for p in frames)


# ---- events ----------------------------------------------------------------------------
def _events_until(
    stream: Iterator[node_pb2.Event], done: object, limit: float = 10.0
) -> list[node_pb2.Event]:
    out: list[node_pb2.Event] = []
    end = time.monotonic() + limit
    for event in stream:
        out.append(event)
        if (callable(done) and done(out)) or time.monotonic() > end:
            break
    return out


def test_a_fault_reports_when_it_first_hit(lab: Lab, r1_faults_cleared: None) -> None:
    r1 = lab["r1"]
    spec = common_pb2.FaultSpec(iface="eth0", direction=common_pb2.DIRECTION_INGRESS,
                                loss=1.0, match=common_pb2.Match(protocol="icmp"))  # fmt: skip
    fault = r1.AddFault(node_pb2.AddFaultRequest(fault=spec), timeout=T)
    assert not fault.HasField("first_hit_ms")  # nothing matched yet
    time.sleep(0.05)
    ping = node_pb2.PingRequest(destination=lab.h2_addr, count=2, interval_ms=20, timeout_ms=200)
    assert lab["h1"].Ping(ping, timeout=T).received == 0
    (info,) = r1.ListFaults(node_pb2.ListFaultsRequest(), timeout=T).faults
    assert info.counters.dropped == 2
    assert 50 <= info.first_hit_ms < info.age_ms  # the first ping, in the node's own time


def test_watch_events_sees_a_fault_expire(lab: Lab, r1_faults_cleared: None) -> None:
    r1 = lab["r1"]
    stream = r1.WatchEvents(node_pb2.WatchEventsRequest(types=[node_pb2.EVENT_TYPE_FAULT]),
                            timeout=15)  # fmt: skip
    assert next(stream).subscribed
    spec = common_pb2.FaultSpec(iface="eth0", delay_ms=1, duration_ms=150)
    fault = r1.AddFault(node_pb2.AddFaultRequest(fault=spec, fault_id="short"), timeout=T)
    assert fault.fault_id == "short" and fault.remaining_ms == pytest.approx(150, abs=50)
    changes = _events_until(stream, lambda ev: len(ev) >= 2)
    stream.cancel()
    added, expired = changes
    assert added.fault.change == node_pb2.FaultEvent.CHANGE_ADDED
    assert expired.fault.change == node_pb2.FaultEvent.CHANGE_EXPIRED
    assert expired.fault.fault.fault_id == "short" and expired.node == "r1"
    assert expired.unix_time_s - added.unix_time_s == pytest.approx(0.15, abs=0.1)
    assert not r1.ListFaults(node_pb2.ListFaultsRequest(), timeout=T).faults


def test_watch_events_sees_tcp_state_changes_and_link_changes(lab: Lab) -> None:
    h1 = lab["h1"]
    stream = h1.WatchEvents(node_pb2.WatchEventsRequest(), timeout=15)
    assert next(stream).subscribed
    result = h1.BulkSend(node_pb2.BulkSendRequest(destination=lab.h2_addr, size_bytes=50_000),
                         timeout=T)  # fmt: skip
    assert result.error == ""

    def states(events: list[node_pb2.Event]) -> list[str]:
        return [e.tcp.new_state for e in events if e.HasField("tcp")
                and e.tcp.local_port == result.local_port]  # fmt: skip

    seen = _events_until(stream, lambda ev: "TIME_WAIT" in states(ev))
    assert states(seen)[0] in ("SYN_SENT", "ESTABLISHED")
    assert "ESTABLISHED" in states(seen) and states(seen)[-1] == "TIME_WAIT"
    h1.SetInterface(node_pb2.SetInterfaceRequest(name="eth0", mtu=1400), timeout=T)
    h1.SetInterface(node_pb2.SetInterfaceRequest(name="eth0", mtu=1500), timeout=T)
    links = _events_until(stream, lambda ev: sum(e.HasField("link") for e in ev) >= 2)
    stream.cancel()
    assert [(e.link.change, e.link.mtu) for e in links if e.HasField("link")] == [
        ("mtu", 1400), ("mtu", 1500)]  # fmt: skip
