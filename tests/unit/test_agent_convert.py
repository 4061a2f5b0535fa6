"""Proto <-> domain translation of the agent: Configure from a topology, stack options,
fault specs (and back), and errors that name the offending field."""

from __future__ import annotations

from typing import Any

import pytest
from wirelab.v1 import common_pb2, node_pb2

import topology
from nodes.agent import convert, topb
from nodes.agent.config import Kind
from nodes.agent.errors import ArgumentError
from nodes.faults import (
    Direction,
    Distribution,
    Effects,
    FaultSpec,
    GilbertElliott,
    Match,
    RateLimit,
)
from nodes.wire.addr import ip_from_str
from orchestrator.wire.agent import configure_request as _configure_request
from orchestrator.wire.agent import node_seeds


def _quickstart() -> topology.Lab:
    return topology.load_file(topology.example_path("quickstart"))


def configure_request(lab: topology.Lab, node: str, seed: int | None = None) -> Any:
    return _configure_request(lab, lab.node(node), seed=seed)


def configure_requests(lab: topology.Lab, seed: int | None = None) -> dict[str, Any]:
    return {n: configure_request(lab, n, s) for n, s in node_seeds(lab, seed).items()}


def test_configure_requests_from_the_quickstart_topology() -> None:
    lab = _quickstart()
    requests = configure_requests(lab, seed=3)
    assert set(requests) == {"h1", "r1", "h2"}
    r1 = convert.configure(requests["r1"])
    assert r1.kind is Kind.ROUTER and r1.stack.forwarding and r1.lab == "quickstart"
    assert [i.name for i in r1.interfaces] == ["eth0", "eth1"]
    assert r1.interfaces[0].address == int(lab.node("r1").interface("eth0").address)
    assert r1.interfaces[0].mac == lab.node("r1").interface("eth0").mac
    h1 = convert.configure(requests["h1"])
    assert h1.kind is Kind.HOST and not h1.stack.forwarding and h1.seed == 3
    (default,) = h1.routes
    assert (default.prefix, default.prefix_len, default.iface) == (0, 0, "eth0")
    assert default.gateway == int(lab.node("r1").interface("eth0").address)
    h2 = convert.configure(requests["h2"])
    assert [a.app_id for a in h2.apps] == ["http-server:80", "echo:7", "sink:5001", "udp-echo:7"]
    assert h2.tcp.congestion == "cubic" and h2.tcp.msl == 30.0 and h2.stack.default_ttl == 64


def test_per_node_stack_options_reach_the_stack_configs() -> None:
    lab = topology.load_file(topology.example_path("lan"))
    h3 = convert.configure(configure_request(lab, "h3"))
    assert h3.tcp.delack == 0.0  # delayed_ack: false
    assert convert.configure(configure_request(lab, "h1")).tcp.delack == 0.040
    opts = common_pb2.StackOptions(congestion_control="reno", msl_ms=1500, syn_retries=2,
                                   initial_cwnd=4, rto_min_ms=50, ttl=32, sack=False,
                                   wscale=False, arp_retries=5, reassembly_timeout_ms=2000,
                                   rmem_bytes=65536)  # fmt: skip
    stack, tcp = convert.stack_options("stack", opts, forwarding=False)
    assert (tcp.congestion, tcp.msl, tcp.syn_retries, tcp.initial_window) == ("reno", 1.5, 2, 4)
    assert tcp.rto_min == 0.05 and not tcp.sack and not tcp.window_scaling and tcp.rmem == 65536
    assert stack.default_ttl == 32 and stack.arp_mcast_solicit == 5 and stack.ipfrag_time == 2.0


def test_hystart_and_tlp_options_from_yaml_to_tcp_config() -> None:
    text = """
name: knobs
defaults: {hystart: false}
nodes:
  a: {kind: host, tlp: false}
  b: {kind: host, hystart: true}
links:
  - endpoints: [a:eth0, b:eth0]
"""
    lab = topology.load_text(text)
    a = convert.configure(configure_request(lab, "a")).tcp
    b = convert.configure(configure_request(lab, "b")).tcp
    assert (a.hystart, a.tlp) == (False, False)
    assert (b.hystart, b.tlp) == (True, True)  # the node's own key overrides the default
    with pytest.raises(topology.TopologyError, match="tlp"):
        topology.load_text(text.replace("tlp: false", "tlp: sometimes"))


def test_mtu_probing_and_base_mss_from_yaml_to_tcp_config() -> None:
    text = """
name: probing
defaults: {mtu_probing: 1}
nodes:
  a: {kind: host}
  b: {kind: host, mtu_probing: 2, base_mss: 512, retries1: 5}
links:
  - endpoints: [a:eth0, b:eth0]
"""
    lab = topology.load_text(text)
    a = convert.configure(configure_request(lab, "a")).tcp
    b = convert.configure(configure_request(lab, "b")).tcp
    assert (a.mtu_probing, a.base_mss, a.retries1) == (1, 1024, 3)
    assert (b.mtu_probing, b.base_mss, b.retries1) == (2, 512, 5)
    plain = convert.configure(configure_requests(topology.load_file(
        topology.example_path("quickstart")))["h1"]).tcp  # fmt: skip
    assert (plain.mtu_probing, plain.base_mss) == (0, 1024)  # Linux's defaults
    for good, bad, where in (
        ("mtu_probing: 2", "mtu_probing: 3", ":6:32: nodes.b.mtu_probing: 3 is out of range"),
        ("base_mss: 512", "base_mss: 20", ":6:45: nodes.b.base_mss: 20 is out of range"),
    ):
        with pytest.raises(topology.TopologyError) as err:
            topology.load_text(text.replace(good, bad))
        assert where in str(err.value)  # at its line


def test_linux_nodes_have_no_configure_request() -> None:
    lab = topology.load_file(topology.example_path("mixed-linux"))
    linux = [n.name for n in lab.nodes if n.kind is topology.NodeKind.LINUX]
    assert linux and not set(linux) & set(configure_requests(lab))
    with pytest.raises(ValueError, match="runs no node agent"):
        configure_request(lab, linux[0])


def _valid() -> node_pb2.ConfigureRequest:
    return node_pb2.ConfigureRequest(
        name="n1", kind=node_pb2.NODE_KIND_HOST,
        interfaces=[node_pb2.InterfaceConfig(name="eth0", address="10.0.0.2", prefix_len=24)],
        routes=[node_pb2.RouteConfig(prefix="0.0.0.0/0", gateway="10.0.0.1")],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: setattr(r, "name", ""), "name: must name the node"),
        (lambda r: setattr(r, "kind", node_pb2.NODE_KIND_LINUX), "kind: linux nodes"),
        (lambda r: setattr(r.interfaces[0], "address", "10.0.0"), "interfaces[0].address:"),
        (lambda r: setattr(r.interfaces[0], "prefix_len", 33), "interfaces[0].prefix_len:"),
        (lambda r: setattr(r.interfaces[0], "mac", "02:00"), "interfaces[0].mac:"),
        (lambda r: setattr(r.interfaces[0], "mtu", 40), "interfaces[0].mtu: must be within 68"),
        (lambda r: r.interfaces.add(name="eth0", address="10.0.1.2", prefix_len=24),
         "interfaces[1].name: the same name as interfaces[0]"),
        (lambda r: setattr(r.routes[0], "prefix", "10.0.0.1/8"), "routes[0].prefix:"),
        (lambda r: setattr(r.routes[0], "iface", "eth5"), "routes[0].iface: no interface"),
        (lambda r: r.apps.add(kind="ftp"), "apps[0].kind: must be one of"),
        (lambda r: r.apps.add(kind="echo", port=70000), "apps[0].port:"),
        (lambda r: setattr(r.stack, "congestion_control", "bbr"),
         "stack.congestion_control: must be one of"),
        (lambda r: setattr(r.stack, "ttl", 0), "stack.ttl:"),
        (lambda r: setattr(r.stack, "mtu_probing", 3), "stack.mtu_probing: must be within 0..2"),
        (lambda r: setattr(r.stack, "base_mss", 40), "stack.base_mss: must be within 48..65495"),
        (lambda r: setattr(r.stack, "retries1", 0), "stack.retries1: must be within 1..255"),
    ],
)  # fmt: skip
def test_bad_configure_requests_name_the_field(mutate: object, message: str) -> None:
    request = _valid()
    assert callable(mutate)
    mutate(request)
    with pytest.raises(ArgumentError) as err:
        convert.configure(request)
    assert str(err.value).startswith(message)


def test_a_full_fault_spec_converts_both_ways() -> None:
    msg = common_pb2.FaultSpec(
        iface="eth1", direction=common_pb2.DIRECTION_EGRESS,
        match=common_pb2.Match(protocol="tcp", dst="10.0.2.0/24", dst_port=5001),
        gilbert_elliott=common_pb2.GilbertElliott(p=0.01, r=0.3),
        delay_ms=20, jitter_ms=5, distribution=common_pb2.DELAY_DISTRIBUTION_NORMAL,
        duplicate=0.01, corrupt=0.02, reorder=0.1,
        rate=common_pb2.RateLimit(rate_bps=10e6, burst_bytes=3000, queue_limit_packets=50),
        blackhole_mtu=1400, seed=99, duration_ms=2500,
    )  # fmt: skip
    spec = convert.fault("fault", msg, ["eth0", "eth1"])
    effects = Effects(
        gilbert_elliott=GilbertElliott(p=0.01, r=0.3), delay=0.02, jitter=0.005,
        distribution=Distribution.NORMAL, duplicate=0.01, corrupt=0.02, reorder=0.1,
        rate=RateLimit(rate_bps=10e6, burst_bytes=3000, queue_limit_packets=50),
        blackhole_mtu=1400,
    )  # fmt: skip
    match = Match(protocol=6, dst=Match.of(dst="10.0.2.0/24").dst, dst_port=5001)
    assert spec == FaultSpec(
        "eth1", effects, Direction.EGRESS, match=match, seed=99, duration=2.5
    )  # fmt: skip
    back = convert.fault("fault", topb.fault_spec(spec), ["eth0", "eth1"])
    assert back == spec
    wildcard = convert.fault("fault", common_pb2.FaultSpec(iface="*", down=True), ["eth0"])
    assert wildcard.iface == "*" and wildcard.effects.down and wildcard.direction is Direction.BOTH


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (common_pb2.FaultSpec(iface="eth0", loss=1.5), "fault.loss: must be within 0..1, got 1.5"),
        (common_pb2.FaultSpec(iface="eth0", duration_ms=0), "fault.duration_ms: must be > 0"),
        (common_pb2.FaultSpec(iface="eth0", jitter_ms=-3), "fault.jitter_ms: must be within"),
        (common_pb2.FaultSpec(iface="eth0", blackhole_mtu=20), "fault.blackhole_mtu:"),
        (common_pb2.FaultSpec(iface="eth0", loss=0.1,
                              gilbert_elliott=common_pb2.GilbertElliott(p=0.1)),
         "fault.gilbert_elliott: cannot be combined with loss"),
        (common_pb2.FaultSpec(iface="eth0", match=common_pb2.Match(protocol="icmp", dst_port=1)),
         "fault.match.dst_port: needs protocol tcp or udp"),
        (common_pb2.FaultSpec(iface="", loss=0.1), "fault.iface: no interface ''"),
    ],
)  # fmt: skip
def test_bad_fault_specs_name_the_field(spec: common_pb2.FaultSpec, message: str) -> None:
    with pytest.raises(ArgumentError) as err:
        convert.fault("fault", spec, ["eth0"])
    assert str(err.value).startswith(message), str(err.value)


def test_scalars() -> None:
    assert convert.ipv4("x", " 10.0.0.1 ") == ip_from_str("10.0.0.1")
    assert convert.prefix("x", "10.1.0.0/16") == (ip_from_str("10.1.0.0"), 16)
    assert convert.prefix("x", "10.1.2.3") == (ip_from_str("10.1.2.3"), 32)
    assert convert.mac("x", "02-00-00-00-00-0A") == bytes([2, 0, 0, 0, 0, 10])
    assert convert.port("x", 0, default=7) == 7
    assert convert.seconds("x", 1500.0) == 1.5
    for bad in (lambda: convert.port("p", 0), lambda: convert.seconds("t", float("nan"))):
        with pytest.raises(ArgumentError):
            bad()
