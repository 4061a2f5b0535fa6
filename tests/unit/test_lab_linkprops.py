"""Link properties in the lab's views: LabInfo's links (one direction per sender, and where
it is applied) and interfaces (what each applies), through the LabService's messages,
in `inspect`'s table and its --json, and in `validate`'s plan."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console
from wirelab.v1 import lab_pb2, node_pb2

import topology
from nodes.faults import Codel, Direction, FaultCounters, LinkProps
from orchestrator.cli import render
from orchestrator.domain.jsonout import to_json
from orchestrator.domain.lab import LabInfo
from orchestrator.domain.results import LinkCounters, NodeCounters
from orchestrator.lab.backends.fake import FakeBackend
from orchestrator.lab.deploy import deploy
from orchestrator.lab.session import LabSession
from orchestrator.wire import agent  # noqa: F401  (registers the LinkProps converter)
from orchestrator.wire.generic import from_message, to_message

TOPOLOGY = """
name: mix
nodes: {h1: {kind: host}, r1: {kind: router}, lx: {kind: linux}}
links:
  - endpoints: [h1, r1]
    rate: 10mbit
    delay: 20ms
    aqm: codel
  - endpoints: [r1, lx]
    rate: {r1: 10mbit, lx: 2mbit}
    delay: 5ms
  - endpoints: [h1, r1]
    name: plain
"""


def text(renderable: object) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(renderable)
    return out.getvalue()


@pytest.fixture(scope="module")
def info() -> Iterator[LabInfo]:
    session = LabSession(deploy(topology.load_text(TOPOLOGY), FakeBackend()))
    try:
        yield session.info()
    finally:
        session.close(destroy=False)


def test_links_list_each_direction_and_who_applies_it(info: LabInfo) -> None:
    links = {link.name: link for link in info.links}
    assert links["plain"].directions == ()
    wan = links["h1-r1"].directions
    assert [(d.sender, d.applied_at) for d in wan] == [
        ("h1:eth0", "h1:eth0 egress"),
        ("r1:eth0", "r1:eth0 egress"),
    ]
    assert wan[0].shaping == LinkProps(rate=10e6, delay=0.02, codel=Codel())
    (ours, theirs) = links["r1-lx"].directions
    assert (ours.sender, ours.applied_at, ours.shaping.rate) == ("r1:eth1", "r1:eth1 egress", 10e6)
    # the linux end cannot shape what it sends: r1 does, where it arrives
    assert (theirs.sender, theirs.applied_at, theirs.shaping.rate) == (
        "lx:eth0",
        "r1:eth1 ingress",
        2e6,
    )


def test_interfaces_show_what_they_apply(info: LabInfo) -> None:
    r1 = info.node("r1")
    assert r1.interface("eth0").egress == LinkProps(rate=10e6, delay=0.02, codel=Codel())
    assert r1.interface("eth0").ingress is None
    assert r1.interface("eth1").ingress == LinkProps(rate=2e6, delay=0.005)
    assert r1.interface("eth2").egress is None  # the plain link
    lx = info.node("lx").interface("eth0")
    assert lx.egress is None and lx.ingress is None


def test_they_cross_the_lab_service_unchanged(info: LabInfo) -> None:
    msg = to_message(info, lab_pb2.LabInfo())
    assert msg.links[1].directions[1].shaping.rate_bps == 2e6
    assert msg.nodes[1].interfaces[1].HasField("ingress")
    assert not msg.nodes[1].interfaces[2].HasField("egress")
    assert from_message(LabInfo, msg) == info


def test_inspect_table_and_json(info: LabInfo) -> None:
    shown = text(render.lab_info(info))
    assert ["LINK", "FROM", "PROPERTIES", "APPLIED", "AT"] in [
        line.split() for line in shown.splitlines()
    ]
    rows = [line.split() for line in shown.splitlines()]
    assert ["h1-r1", "h1:eth0", "rate=10mbit", "delay=20ms", "queue=1000p", "aqm=codel",
            "h1:eth0", "egress"] in rows  # fmt: skip
    assert ["lx:eth0", "rate=2mbit", "delay=5ms", "queue=1000p", "r1:eth1", "ingress"] in rows
    data = to_json(info)
    (h1r1,) = [link for link in data["links"] if link["name"] == "h1-r1"]
    assert h1r1["directions"][0]["shaping"] == {
        "rate_bps": 10e6,
        "delay_s": 0.02,
        "queue_packets": 1000,
        "codel": {"target_s": 0.005, "interval_s": 0.1},
    }
    r1 = next(n for n in data["nodes"] if n["name"] == "r1")
    assert r1["interfaces"][1]["ingress"] == {
        "rate_bps": 2e6,
        "delay_s": 0.005,
        "queue_packets": 1000,
    }
    assert "egress" not in r1["interfaces"][2]


def test_a_plain_lab_inspects_as_before() -> None:
    session = LabSession(deploy(topology.load_file(topology.example_path("quickstart")),
                                FakeBackend()))  # fmt: skip
    try:
        info = session.info()
    finally:
        session.close(destroy=False)
    assert all(link.directions == () for link in info.links)
    assert "PROPERTIES" not in text(render.lab_info(info))


def test_validate_shows_who_applies_each_direction() -> None:
    shown = text(render.planned_lab(topology.load_text(TOPOLOGY)))
    rows = [line.split() for line in shown.splitlines()]
    assert ["lx:eth0", "rate=2mbit", "delay=5ms", "queue=1000p", "r1:eth1", "ingress"] in rows


def test_node_counters_list_the_link_layers() -> None:
    msg = node_pb2.GetCountersResponse()
    layer = msg.links.add(iface="eth0", direction=1, seed=9)
    layer.shaping.rate_bps = 1e6
    layer.shaping.queue_packets = 20
    layer.counters.seen = 100
    layer.counters.shaped = 3
    layer.counters.dropped = 3
    layer.counters.dropped_aqm = 0
    counters = from_message(NodeCounters, msg)
    assert counters.links == (
        LinkCounters("eth0", Direction.EGRESS, LinkProps(rate=1e6, queue_packets=20), 9,
                     FaultCounters(seen=100, dropped=3, shaped=3)),
    )  # fmt: skip
    shown = text(render.counters(counters))
    assert ["egress", "eth0", "rate=1mbit", "queue=20p", "seen=100", "dropped=3", "shaped=3"] in [
        line.split() for line in shown.splitlines()
    ]
