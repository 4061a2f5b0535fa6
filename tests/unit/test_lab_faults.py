"""Lab faults without a lab running: people's units, requests and their errors, the
topology timeline as requests, target expansion (endpoints, links, nodes, partitions,
linux peers, linux MTUs), counters, and the linux tools' output parsers."""

from __future__ import annotations

from datetime import timedelta

import pytest

import topology
from nodes.faults.match import Prefix
from nodes.faults.model import Direction, FaultCounters
from orchestrator.domain import requests, values
from orchestrator.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from orchestrator.domain.faults import FaultRequest, describe_effects, sum_counters
from orchestrator.lab import linuxtools
from orchestrator.lab.faults import Expander

EGRESS, INGRESS = Direction.EGRESS, Direction.INGRESS


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (values.probability, "5%", 0.05),
        (values.probability, "0.25", 0.25),
        (values.probability, 0.25, 0.25),
        (values.duration, "10ms", 0.01),
        (values.duration, "1.5s", 1.5),
        (values.duration, "200us", 0.0002),
        (values.duration, "2", 2.0),
        (values.duration, 20, 20.0),  # a number is seconds, as in topology files
        (values.duration, timedelta(milliseconds=20), 0.02),
        (values.rate, "100mbit", 100e6),
        (values.rate, "512kbit", 512e3),
        (values.rate, "1gbit", 1e9),
        (values.rate, 9600, 9600.0),
        (values.size, "10MB", 10_000_000),
        (values.size, "1MiB", 1 << 20),
        (values.size, "500k", 500_000),
    ],
)
def test_units(parse: object, text: object, value: float) -> None:
    assert callable(parse)
    assert parse(text, "x") == pytest.approx(value)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (values.probability, "150%", "expected a probability"),
        (values.probability, "lots", "expected a probability"),
        (values.duration, "5 fortnights", "expected a duration"),
        (values.rate, "0mbit", "expected a rate"),
        (values.rate, "10mbps", "write 10mbit for 10 megabits per second"),
        (values.size, "big", "expected a size"),
    ],
)
def test_bad_units_say_what_is_allowed_and_name_the_field(
    parse: object, text: str, message: str
) -> None:
    assert callable(parse)
    with pytest.raises(InvalidArgument, match=f"^x: .*{message}") as err:
        parse(text, "x")
    assert err.value.field == "x" and err.value.code == "invalid_argument"


def test_a_fault_request_from_loose_values() -> None:
    req = requests.fault(endpoint="r1:eth1", loss="5%", delay="20ms", rate="10mbit", seed=3,
                         duration=timedelta(seconds=5), match="tcp,dport=80")  # fmt: skip
    e = req.effects
    assert (e.loss, e.delay, e.rate and e.rate.rate_bps) == (0.05, 0.02, 10e6)
    assert (req.seed, req.duration, req.match and req.match.dst_port) == (3, 5.0, 80)
    assert describe_effects(req) == "loss=5% delay=20ms rate=10mbit [tcp dport 80] for 5s"
    typed = requests.fault(endpoint="r1:eth1", loss=0.05, delay=0.02, rate=10e6, seed=3,
                           duration=5, match={"protocol": "tcp", "dport": 80})  # fmt: skip
    assert typed == req


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"endpoint": "r1:eth1", "delay": "20 parsecs"}, "delay", "expected a duration"),
        ({"endpoint": "r1:eth1", "loss": 1.5}, "loss", "0..1"),
        ({"endpoint": "r1:eth1", "reorder": 0.1}, "reorder", "needs delay > 0"),
        ({"endpoint": "r1:eth1", "mtu": 20}, "mtu", "68..65535"),
        ({"endpoint": "r1:eth1", "bogus": 1}, "effects", "unknown effect 'bogus'"),
        ({"endpoint": "r1:eth1"}, "effects", "needs at least one effect"),
        ({"endpoint": "r1", "loss": 0.1}, "endpoint", "expected node:iface"),
        ({"loss": 0.1}, "target", "give exactly one target"),
        ({"node": "r1", "down": True, "match": "tcp"}, "match", "cannot be combined with down"),
        ({"partition": [["h1"]]}, "partition", "at least two"),
        ({"node": "r1", "loss": 0.1, "fault_id": "a b"}, "fault_id", "bad id"),
    ],
)
def test_bad_requests_name_the_argument(kwargs: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words) as err:
        requests.fault(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def _lab(name: str) -> topology.Lab:
    return topology.load_file(topology.example_path(name))


def test_endpoint_link_and_node_targets() -> None:
    ex = Expander(_lab("quickstart"))
    [(node, spec, linux)] = ex.expand(requests.fault(endpoint="r1:eth1", loss=0.1))
    assert (node, spec.iface, spec.effects.loss, linux) == ("r1", "eth1", 0.1, False)
    parts = ex.expand(requests.fault(link="h1-r1", loss=0.1))
    assert sorted((n, s.iface, s.direction) for n, s, _ in parts) == [
        ("h1", "eth0", EGRESS),
        ("r1", "eth0", EGRESS),
    ]
    [(node, spec, _)] = ex.expand(requests.fault(node="h2", loss=0.1))
    assert (node, spec.iface) == ("h2", "*")
    mtu = ex.expand(requests.fault(link="r1-h2", mtu=1000))
    assert sorted((n, s.iface, s.effects.mtu) for n, s, _ in mtu) == [
        ("h2", "eth0", 1000),
        ("r1", "eth1", 1000),
    ]  # a link's MTU is both ends'


def test_bad_targets_name_the_field() -> None:
    ex = Expander(_lab("quickstart"))
    with pytest.raises(NotFound, match=r"target\.endpoint: h2 has no interface 'eth3'"):
        ex.expand(requests.fault(endpoint="h2:eth3", loss=0.1))
    with pytest.raises(NotFound, match=r"target\.node: lab quickstart has no node 'h9'"):
        ex.expand(requests.fault(node="h9", loss=0.1))
    with pytest.raises(NotFound, match=r"target\.link: .*no link or LAN 'x'"):
        ex.expand(requests.fault(link="x", loss=0.1))


def test_linux_endpoints_are_impaired_at_their_peers_and_take_their_mtu_themselves() -> None:
    lab = _lab("mixed-linux")
    ex = Expander(lab)
    lx2 = Prefix(int(lab.node("lx2").interface("eth0").address), 32)
    parts = ex.expand(requests.fault(endpoint="lx2:eth0", loss=0.1))
    assert sorted(
        (n, s.iface, s.direction, s.match and s.match.src, s.match and s.match.dst)
        for n, s, _ in parts
    ) == [
        ("r1", "eth2", EGRESS, None, lx2),  # what lx2 receives leaves r1
        ("r1", "eth2", INGRESS, lx2, None),  # what lx2 sends arrives at r1
    ]  # fmt: skip
    both = ex.expand(requests.fault(endpoint="lx2:eth0", loss=0.1, mtu=1200))
    kernel = [(n, s.iface, s.effects) for n, s, linux in both if linux]
    assert [(n, i, e.mtu, e.loss) for n, i, e in kernel] == [("lx2", "eth0", 1200, 0.0)]
    assert all(s.effects.mtu is None for _, s, linux in both if not linux)


def test_a_down_link_with_a_linux_end_drops_all_of_its_traffic_at_the_peer() -> None:
    lab = _lab("mixed-linux")
    ex = Expander(lab)
    (link,) = [s for s in lab.segments if any(m.node == "lx2" for m in s.members)]
    parts = ex.expand(requests.fault(link=link.name, down=True))
    lx2 = Prefix(int(lab.node("lx2").interface("eth0").address), 32)
    assert sorted(
        (n, s.direction, s.match and s.match.src, s.effects.down, s.effects.loss)
        for n, s, _ in parts
    ) == [
        ("r1", EGRESS, None, True, 0.0),  # our end: the interface is down, one way
        ("r1", INGRESS, lx2, False, 1.0),  # what lx2 sends: lost at r1, matched by address
    ]  # fmt: skip


def test_partition_blocks_each_pair_at_the_sender() -> None:
    lab = _lab("quickstart")
    ex = Expander(lab)
    parts = ex.expand(requests.fault(partition=[["h1"], ["h2"]]))
    h1, h2 = (Prefix(int(lab.node(n).interfaces[0].address), 32) for n in ("h1", "h2"))
    assert sorted(
        (n, s.direction, s.match and s.match.dst, s.effects.loss) for n, s, _ in parts
    ) == [("h1", EGRESS, h2, 1.0), ("h2", EGRESS, h1, 1.0)]  # fmt: skip
    one_way = ex.expand(requests.fault(partition=[["h1"], ["h2"]], one_way=True))
    assert [n for n, _, _ in one_way] == ["h1"]


def test_partition_of_two_linux_nodes_is_refused() -> None:
    ex = Expander(_lab("mixed-linux"))
    with pytest.raises(FailedPrecondition, match="two linux nodes"):
        ex.expand(requests.fault(partition=[["lx1"], ["lx2"]]))


def test_timeline_entries_become_fault_requests() -> None:
    lab = topology.load_text(
        "name: t\nnodes: {a: {kind: host}, b: {kind: host}}\n"
        "links: [{endpoints: [a:eth0, b:eth0]}]\n"
        "faults:\n"
        "  - {at: 1s, endpoint: a:eth0, loss: 5%, delay: 10ms,"
        " direction: egress, duration: 2s, seed: 9, match: {protocol: tcp, dport: 80}}\n"
        "  - {endpoint: b:eth0, ge: {p: 0.1, r: 0.5}}\n"
    )
    req, ge = (FaultRequest.from_entry(f) for f in lab.faults)
    assert (req.target.node, req.target.iface) == ("a", "eth0")
    e = req.effects
    assert (req.direction, req.seed) == (EGRESS, 9)
    assert e.loss == pytest.approx(0.05) and e.delay == pytest.approx(0.01)
    assert req.duration == pytest.approx(2.0)
    assert ge.effects.gilbert_elliott is not None
    assert ge.effects.gilbert_elliott.loss_bad == pytest.approx(1.0)
    assert req.match is not None and (req.match.protocol, req.match.dst_port) == (6, 80)
    text = describe_effects(req)
    assert "loss=5%" in text and "for 2s" in text
    with pytest.raises(topology.TopologyError, match=r":4:.*cannot be combined with loss"):
        topology.load_text(
            "name: t\nnodes: {a: {kind: host}, b: {kind: host}}\n"
            "links: [{endpoints: [a:eth0, b:eth0]}]\n"
            "faults: [{endpoint: a:eth0, loss: 5%, ge: {p: 0.1, r: 0.5}}]\n"
        )


def test_counters_sum() -> None:
    a = FaultCounters(seen=3, dropped=1)
    b = FaultCounters(seen=2, delayed=4)
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
    assert reply.results[3].rtt_ms is None and not reply.results[3].replied
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
