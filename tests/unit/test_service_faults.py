"""Lab-level fault model without a lab running: unit notations, topology timeline ->
messages, target expansion (endpoints, links, nodes, partitions, linux peers), and the
linux tools' output parsers."""

from __future__ import annotations

import pytest
from wirelab.v1 import common_pb2, lab_pb2

import topology
from orchestrator import linuxtools
from orchestrator.faults import (
    _Expander,
    effects_text,
    entry_spec,
    parse_duration,
    parse_probability,
    parse_rate,
    parse_size,
    sum_counters,
)
from orchestrator.labs import FailedPrecondition, InvalidArgument, NotFound

EGRESS, INGRESS = common_pb2.DIRECTION_EGRESS, common_pb2.DIRECTION_INGRESS


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (parse_probability, "5%", 0.05),
        (parse_probability, "0.25", 0.25),
        (parse_duration, "10ms", 0.01),
        (parse_duration, "1.5s", 1.5),
        (parse_duration, "200us", 0.0002),
        (parse_duration, "2", 2.0),
        (parse_rate, "100mbit", 100e6),
        (parse_rate, "512kbit", 512e3),
        (parse_rate, "1gbit", 1e9),
        (parse_rate, "9600", 9600.0),
        (parse_size, "10MB", 10_000_000),
        (parse_size, "1MiB", 1 << 20),
        (parse_size, "500k", 500_000),
    ],
)
def test_units(parse: object, text: str, value: float) -> None:
    assert callable(parse)
    assert parse(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_probability, "150%", "0%..100%"),
        (parse_probability, "lots", "bad probability"),
        (parse_duration, "5 fortnights", "bad duration"),
        (parse_rate, "0mbit", "bad rate"),
        (parse_size, "big", "bad size"),
    ],
)
def test_bad_units_say_what_is_allowed(parse: object, text: str, message: str) -> None:
    assert callable(parse)
    with pytest.raises(ValueError, match=message):
        parse(text)


def _lab(name: str) -> topology.Lab:
    return topology.load_file(topology.example_path(name))


def _target(**kw: object) -> lab_pb2.FaultTarget:
    return lab_pb2.FaultTarget(**kw)  # type: ignore[arg-type]


def test_endpoint_link_and_node_targets() -> None:
    ex = _Expander(_lab("quickstart"))
    loss = common_pb2.FaultSpec(loss=0.1)
    [(node, spec)] = ex.expand(_target(endpoint="r1:eth1"), loss)
    assert (node, spec.iface, round(spec.loss, 6)) == ("r1", "eth1", 0.1)
    parts = ex.expand(_target(link="h1-r1"), loss)
    assert sorted((n, s.iface, s.direction) for n, s in parts) == [
        ("h1", "eth0", EGRESS),
        ("r1", "eth0", EGRESS),
    ]
    [(node, spec)] = ex.expand(_target(node="h2"), loss)
    assert (node, spec.iface) == ("h2", "*")


def test_bad_targets_name_the_field() -> None:
    ex = _Expander(_lab("quickstart"))
    loss = common_pb2.FaultSpec(loss=0.1)
    with pytest.raises(NotFound, match=r"fault\.target\.endpoint: h2 has no interface 'eth3'"):
        ex.expand(_target(endpoint="h2:eth3"), loss)
    with pytest.raises(InvalidArgument, match=r"fault\.target: give one of"):
        ex.expand(_target(), loss)
    with pytest.raises(InvalidArgument, match=r"fault\.effects: needs at least one effect"):
        ex.expand(_target(node="h1"), common_pb2.FaultSpec())


def test_linux_endpoints_are_impaired_at_their_peers() -> None:
    lab = _lab("mixed-linux")
    ex = _Expander(lab)
    lx2 = str(lab.node("lx2").interface("eth0").address)
    parts = ex.expand(_target(endpoint="lx2:eth0"), common_pb2.FaultSpec(loss=0.1))
    assert sorted((n, s.iface, s.direction, s.match.src, s.match.dst) for n, s in parts) == [
        ("r1", "eth2", EGRESS, "", lx2),  # what lx2 receives leaves r1
        ("r1", "eth2", INGRESS, lx2, ""),  # what lx2 sends arrives at r1
    ]


def test_partition_blocks_each_pair_at_the_sender() -> None:
    lab = _lab("quickstart")
    ex = _Expander(lab)
    partition = lab_pb2.PartitionTarget(
        groups=[lab_pb2.NodeGroup(nodes=["h1"]), lab_pb2.NodeGroup(nodes=["h2"])]
    )
    parts = ex.expand(_target(partition=partition), common_pb2.FaultSpec(loss=1.0))
    h1, h2 = (str(lab.node(n).interfaces[0].address) for n in ("h1", "h2"))
    assert sorted((n, s.direction, s.match.dst, s.loss) for n, s in parts) == [
        ("h1", EGRESS, h2, 1.0),
        ("h2", EGRESS, h1, 1.0),
    ]
    partition.one_way = True
    assert [n for n, _ in ex.expand(_target(partition=partition), common_pb2.FaultSpec())] == ["h1"]


def test_partition_of_two_linux_nodes_is_refused() -> None:
    ex = _Expander(_lab("mixed-linux"))
    partition = lab_pb2.PartitionTarget(
        groups=[lab_pb2.NodeGroup(nodes=["lx1"]), lab_pb2.NodeGroup(nodes=["lx2"])]
    )
    with pytest.raises(FailedPrecondition, match="two linux nodes"):
        ex.expand(_target(partition=partition), common_pb2.FaultSpec())


def test_timeline_entries_become_fault_messages() -> None:
    lab = topology.load_text(
        "name: t\nnodes: {a: {kind: host}, b: {kind: host}}\n"
        "links: [{endpoints: [a:eth0, b:eth0]}]\n"
        "faults:\n"
        "  - {at: 1s, endpoint: a:eth0, loss: 5%, delay: 10ms,"
        " direction: egress, duration: 2s, seed: 9, match: {protocol: tcp, dport: 80}}\n"
        "  - {endpoint: b:eth0, ge: {p: 0.1, r: 0.5}}\n"
    )
    spec, ge = (entry_spec(f) for f in lab.faults)
    assert spec.target.endpoint == "a:eth0"
    e = spec.effects
    assert (e.direction, e.seed) == (EGRESS, 9)
    assert e.loss == pytest.approx(0.05) and e.delay_ms == pytest.approx(10.0)
    assert e.duration_ms == pytest.approx(2000.0)
    assert ge.effects.gilbert_elliott.loss_bad == pytest.approx(1.0)
    assert (e.match.protocol, e.match.dst_port) == ("tcp", 80)
    assert "loss=5%" in effects_text(e) and "for 2s" in effects_text(e)
    with pytest.raises(topology.TopologyError, match=r":4:.*cannot be combined with loss"):
        topology.load_text(
            "name: t\nnodes: {a: {kind: host}, b: {kind: host}}\n"
            "links: [{endpoints: [a:eth0, b:eth0]}]\n"
            "faults: [{endpoint: a:eth0, loss: 5%, ge: {p: 0.1, r: 0.5}}]\n"
        )


def test_counters_sum() -> None:
    a = common_pb2.FaultCounters(seen=3, dropped=1)
    b = common_pb2.FaultCounters(seen=2, delayed=4)
    total = sum_counters([a, b])
    assert (total.seen, total.dropped, total.delayed) == (5, 1, 4)


def test_linux_ping_and_traceroute_outputs_parse() -> None:
    out = (
        "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n"
        "64 bytes from 10.0.0.2: icmp_seq=1 ttl=63 time=0.120 ms\n"
        "From 10.0.0.1 icmp_seq=2 Frag needed and DF set (mtu = 1400)\n"
        "64 bytes from 10.0.0.2: icmp_seq=3 ttl=63 time=0.300 ms\n"
    )
    reply = linuxtools.parse_ping(out, 4, 56)
    assert (reply.transmitted, reply.received, reply.errors) == (4, 2, 1)
    assert reply.results[1].next_hop_mtu == 1400 and reply.results[1].icmp_type == 3
    assert reply.rtt_max_ms == pytest.approx(0.3)
    trace = linuxtools.parse_traceroute(
        "traceroute to 10.0.2.2 (10.0.2.2), 30 hops max\n"
        " 1  10.0.1.1  0.101 ms  0.080 ms  0.070 ms\n"
        " 2  * * *\n"
        " 3  10.0.2.2  0.200 ms  0.190 ms  0.180 ms\n",
        "10.0.2.2",
    )
    assert [h.responder for h in trace.hops] == ["10.0.1.1", "", "10.0.2.2"]
    assert trace.reached and len(trace.hops[0].probes) == 3
