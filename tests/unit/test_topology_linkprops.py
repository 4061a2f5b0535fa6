"""Link properties in topology files: the YAML forms (one value, or per sending member),
units, validation with positions, who applies each direction (a linux node cannot: its
peer's ingress on a link, refused on a LAN and between two linux nodes), and the
Configure message that carries them to the node agent."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from nodes.agent import convert
from nodes.agent.config import link_layers
from nodes.faults import NO_LINK_PROPS, Codel, Direction, LinkProps
from orchestrator.wire.agent import configure_request
from tests.unit.test_topology_schema import validators
from topology import IfRef, Lab, TopologyError, example_path, lab_to_dict, load_file, load_text


def lab(links: str, nodes: str = "{h1: {kind: host}, r1: {kind: router}}") -> Lab:
    return load_text(f"name: t\nnodes: {nodes}\nlinks:\n{links}")


def errors(text: str) -> list[str]:
    with pytest.raises(TopologyError) as err:
        load_text(text)
    return [d.format() for d in err.value.diagnostics]


def test_one_value_applies_to_what_each_end_sends() -> None:
    (link,) = lab("  - {endpoints: [h1, r1], rate: 10mbit, delay: 20ms, loss: 1%}").links
    expected = LinkProps(rate=10e6, delay=0.02, loss=0.01)
    assert link.egress == (expected, expected)
    assert expected.queue_packets == 1000


def test_a_mapping_by_node_gives_each_sender_its_own() -> None:
    (link,) = lab(
        "  - endpoints: [h1, r1]\n"
        "    rate: {h1: 1mbit, r1: 16mbit}\n"
        "    delay: {r1: 5ms}\n"
        "    jitter: 1ms\n"
        "    queue: {h1: 64KB, r1: 100}\n"
        "    aqm: {r1: codel}\n"
    ).links
    h1, r1 = link.egress
    assert h1 == LinkProps(rate=1e6, jitter=0.001, queue_bytes=64_000)
    assert r1 == LinkProps(rate=16e6, delay=0.005, jitter=0.001, queue_packets=100,
                           codel=Codel())  # fmt: skip
    assert link.egress_of(IfRef("r1", "eth0")) == r1


def test_a_plain_link_has_no_properties_and_exports_as_before() -> None:
    plain = lab("  - {endpoints: [h1, r1]}")
    assert plain.links[0].egress == () and not plain.links[0].shaped
    assert "egress" not in lab_to_dict(plain)["links"][0]  # the topology hash is unchanged
    shaped = lab("  - {endpoints: [h1, r1], delay: 1ms}")
    assert lab_to_dict(shaped)["links"][0]["egress"]["h1:eth0"] == {"delay": 0.001}


def test_lan_properties_are_per_member_egress() -> None:
    text = (
        "name: t\nnodes: {a: {kind: host}, b: {kind: host}, c: {kind: router}}\n"
        "lans:\n  office:\n    members: [a, b, c]\n    rate: 100mbit\n    delay: {c: 2ms}\n"
    )
    (lan,) = load_text(text).lans
    assert [p.rate for p in lan.egress] == [100e6] * 3
    assert [p.delay for p in lan.egress] == [0.0, 0.0, 0.002]


@pytest.mark.parametrize(
    ("line", "where", "message"),
    [
        ("rate: 10mbps", "5:11: links[0].rate", "ambiguous rate '10mbps'"),
        ("delay: 20 parsecs", "5:12: links[0].delay", "unknown unit 'parsecs'"),
        ("loss: 150%", "5:11: links[0].loss", "bad percentage '150%'"),
        ('queue: "100"', "5:12: links[0].queue", "write 100 (no quotes) for packets"),
        ("queue: 10 furlongs", "5:12: links[0].queue", "unknown unit 'furlongs'"),
        ("queue: 100", "5:12: links[0].queue", "a queue needs a rate"),
        ("aqm: codel", "5:10: links[0].aqm", "codel needs a rate"),
        ("aqm: red", "5:10: links[0].aqm", "unknown aqm 'red'; allowed: droptail, codel"),
        ("rate: {h1: 1mbit, h9: 2mbit}", "5:23: links[0].rate.h9", "'h9' is not a member"),
        ("rate: {h1: fast}", "5:16: links[0].rate.h1", "bad rate 'fast'"),
        ("delay: 2h", "5:12: links[0].delay", "must be within 0..3600 s"),
    ],
)
def test_mistakes_are_reported_at_their_place(line: str, where: str, message: str) -> None:
    (found,) = errors(
        "name: t\nnodes: {h1: {kind: host}, r1: {kind: router}}\nlinks:\n"
        f"  - endpoints: [h1, r1]\n    {line}\n"
    )
    assert found.startswith(f"<string>:{where}: ")
    assert message in found


def test_a_per_member_queue_without_that_members_rate_names_the_member() -> None:
    (found,) = errors(
        "name: t\nnodes: {h1: {kind: host}, r1: {kind: router}}\nlinks:\n"
        "  - endpoints: [h1, r1]\n    rate: {h1: 1mbit}\n    queue: 50\n"
    )
    assert found.startswith("<string>:6:12: links[0].queue: what r1 sends has a queue but no rate")


LINUX = "{lx1: {kind: linux}, lx2: {kind: linux}, h1: {kind: host}}"


def test_a_link_between_two_linux_nodes_refuses_properties_naming_the_link_and_line() -> None:
    (found,) = errors(
        f"name: t\nnodes: {LINUX}\nlinks:\n  - endpoints: [lx1, h1]\n"
        "  - endpoints: [lx1, lx2]\n    name: kernels\n    delay: 10ms\n    rate: 1mbit\n"
    )
    assert found.startswith("<string>:7:12: links[1].delay: link kernels: both ends are linux")
    assert "no end can apply delay, rate" in found and "no netem" in found


def test_a_lan_refuses_properties_on_what_a_linux_member_sends() -> None:
    found = errors(
        f"name: t\nnodes: {LINUX}\nlans:\n  office:\n    members: [lx1, h1]\n    rate: 10mbit\n"
    )
    assert found == [
        "<string>:6:11: lans.office.rate: LAN office: lx1 is a linux node, which cannot shape "
        "what it sends (this kernel has no netem), and on a LAN no other member can do it "
        "for it: rate cannot apply to lx1; give them per member, e.g. {h1: ...}"
    ]
    ok = load_text(
        f"name: t\nnodes: {LINUX}\nlans:\n  office:\n    members: [lx1, h1]\n"
        "    rate: {h1: 10mbit}\n"
    )
    assert ok.lans[0].egress[1].rate == 10e6


def test_on_a_link_with_one_linux_end_our_end_shapes_both_directions() -> None:
    planned = load_text(
        f"name: t\nnodes: {LINUX}\nlinks:\n  - endpoints: [lx1, h1]\n"
        "    rate: {lx1: 2mbit, h1: 10mbit}\n    delay: 10ms\n"
    )
    link = planned.links[0]
    lx1, h1 = link.members
    assert planned.shaping(lx1) == planned.shaping(IfRef("lx1", "eth0"))
    assert planned.shaping(lx1).egress.empty and planned.shaping(lx1).ingress.empty
    ours = planned.shaping(h1)
    assert ours.egress == LinkProps(rate=10e6, delay=0.01)
    assert ours.ingress == LinkProps(rate=2e6, delay=0.01)  # lx1's direction, where it arrives
    assert planned.applied_at(link, lx1) == (h1, Direction.INGRESS)
    assert planned.applied_at(link, h1) == (h1, Direction.EGRESS)


def test_configure_carries_each_interfaces_directions_to_the_agent() -> None:
    planned = load_text(
        f"name: t\nnodes: {LINUX}\nlinks:\n  - endpoints: [lx1, h1]\n"
        "    rate: {lx1: 2mbit, h1: 10mbit}\n    delay: 10ms\n    aqm: codel\n"
        "    loss: {lx1: 0.5%}\n"
    )
    request = configure_request(planned, planned.node("h1"), seed=5)
    (iface,) = request.interfaces
    assert iface.HasField("egress") and iface.HasField("ingress")
    assert iface.egress.rate_bps == 10e6 and iface.egress.delay_ms == pytest.approx(10.0)
    assert iface.egress.queue_packets == 1000 and iface.egress.HasField("codel")
    config = convert.configure(request)  # what the agent makes of it
    assert config.interfaces[0].egress == LinkProps(rate=10e6, delay=0.01, codel=Codel())
    assert config.interfaces[0].ingress == LinkProps(
        rate=2e6, delay=0.01, loss=0.005, codel=Codel()
    )
    assert [(i, d) for i, d, _ in link_layers(config)] == [
        ("eth0", Direction.EGRESS),
        ("eth0", Direction.INGRESS),
    ]


def test_a_plain_interface_configures_without_link_layers() -> None:
    planned = load_file(example_path("quickstart"))
    request = configure_request(planned, planned.node("r1"))
    assert not any(i.HasField("egress") or i.HasField("ingress") for i in request.interfaces)
    config = convert.configure(request)
    assert all(i.egress is NO_LINK_PROPS or i.egress.empty for i in config.interfaces)
    assert link_layers(config) == []


def test_the_agent_refuses_bad_link_shaping_naming_the_field() -> None:
    from nodes.agent.errors import ArgumentError

    planned = load_file(example_path("wan"))
    request = configure_request(planned, planned.node("r1"))
    request.interfaces[0].egress.ClearField("rate_bps")  # a queue left without a rate
    with pytest.raises(
        ArgumentError, match=r"interfaces\[0\]\.egress\.queue_packets: .*needs a rate"
    ):
        convert.configure(request)
    request = configure_request(planned, planned.node("r1"))
    request.interfaces[1].egress.loss = 2.0
    with pytest.raises(
        ArgumentError, match=r"interfaces\[1\]\.egress\.loss: must be within 0\.\.1"
    ):
        convert.configure(request)


def test_the_wan_example_has_asymmetric_access_and_a_codel_wan_link() -> None:
    planned = load_file(example_path("wan"))
    access, wan = planned.links
    assert [p.rate for p in access.egress] == [1e6, 16e6]
    assert all(p.codel == Codel() and p.delay == 0.02 for p in wan.egress)


@pytest.mark.parametrize("check", validators())
def test_the_schema_reads_the_same_forms(check: Any) -> None:
    good = [
        "rate: 10mbit", "rate: {h1: 1mbit, r1: 16mbit}", "delay: 20ms", "delay: {r1: 0.005}",
        "jitter: 1ms", "loss: 1%", "loss: {h1: 0.01}", "queue: 100", "queue: 64KB",
        "queue: 500k", "queue: 1MiB", "queue: 1500B", "queue: {h1: 10, r1: 64KB}",
        "aqm: codel", "aqm: {r1: droptail}",
    ]  # fmt: skip
    for line in good:
        rate = "" if line.startswith("rate") else "    rate: 1gbit\n"
        text = (
            "name: t\nnodes: {h1: {kind: host}, r1: {kind: router}}\nlinks:\n"
            f"  - endpoints: [h1, r1]\n{rate}    {line}\n"
        )
        load_text(text)
        assert check(yaml.safe_load(text)) == [], line
    for line in ['queue: "100"', "queue: fast", "aqm: red", "rate: 10mbps", "delay: -1"]:
        text = (
            f"name: t\nnodes: {{h1: {{kind: host}}}}\nlinks:\n  - endpoints: [h1, r1]\n    {line}\n"
        )
        assert check(yaml.safe_load(text)) != [], line
