"""Address plan: names, subnets, addresses, MACs, MTUs and stack options."""

from __future__ import annotations

import itertools
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from topology import Lab, StackOptions, load_file, load_text
from topology.plan import default_pool, planned_mac

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "topology" / "examples").glob("*.yaml"))
HEADER = "name: p\nnodes:\n  h1: {kind: host}\n  r1: {kind: router}\n  h2: {kind: host}\n"


def all_labs() -> list[Lab]:
    return [load_file(p) for p in EXAMPLES] + [
        load_text(
            HEADER + "links:\n  - endpoints: [h1, r1]\n  - {endpoints: [r1, h2], subnet: "
            "10.5.0.0/29}\nlans:\n  big:\n    members: [h1, h2, r1]\n"
        )
    ]


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.name)
def test_no_collisions_and_never_the_gateway(lab: Lab) -> None:
    interfaces = [i for n in lab.nodes for i in n.interfaces]
    assert len({i.address for i in interfaces}) == len(interfaces)
    assert len({i.mac for i in interfaces}) == len(interfaces)
    for a, b in itertools.combinations(lab.segments, 2):
        assert not a.subnet.overlaps(b.subnet), (a.name, b.name)
    for segment in lab.segments:
        members = [lab.interface(ref) for ref in segment.members]
        for iface in members:
            assert iface.network == segment.subnet
            assert iface.address in segment.subnet
            assert iface.address not in (
                segment.gateway,
                segment.subnet.network_address,
                segment.subnet.broadcast_address,
            )
            assert iface.mtu == segment.mtu
    for iface in interfaces:
        assert iface.mac[0] & 0b11 == 0b10  # locally administered, unicast


def test_planned_subnets_come_from_the_pool_in_declaration_order() -> None:
    lab = load_text(
        HEADER + "pool: 10.50.0.0/16\nlinks:\n  - endpoints: [h1, r1]\n  - endpoints: [r1, h2]\n"
    )
    assert [str(s.subnet) for s in lab.segments] == ["10.50.1.0/24", "10.50.2.0/24"]
    assert str(lab.node("h1").interface("eth0").cidr) == "10.50.1.2/24"
    assert str(lab.node("r1").interface("eth0").cidr) == "10.50.1.3/24"
    assert str(lab.node("r1").interface("eth1").cidr) == "10.50.2.2/24"


def test_planned_subnets_skip_explicit_ones() -> None:
    lab = load_text(
        HEADER + "pool: 10.50.0.0/16\nlinks:\n  - endpoints: [h1, r1]\n"
        "  - {endpoints: [r1, h2], subnet: 10.50.1.0/24}\n"
    )
    assert [str(s.subnet) for s in lab.segments] == ["10.50.2.0/24", "10.50.1.0/24"]


def test_explicit_addresses_are_respected_and_others_fill_around_them() -> None:
    lab = load_text(
        HEADER + "lans:\n  l:\n    subnet: 192.168.7.0/24\n    members:\n"
        "      - h1\n      - {node: r1, address: 192.168.7.2}\n      - h2\n"
    )
    addrs = {ref.node: lab.interface(ref).address for ref in lab.lans[0].members}
    assert addrs == {
        "h1": IPv4Address("192.168.7.3"),
        "r1": IPv4Address("192.168.7.2"),
        "h2": IPv4Address("192.168.7.4"),
    }


def test_subnet_follows_from_an_explicit_address_with_prefix() -> None:
    lab = load_text(HEADER + "links:\n  - endpoints: [{node: h1, address: 172.20.3.9/28}, r1]\n")
    assert lab.links[0].subnet == IPv4Network("172.20.3.0/28")
    assert lab.node("r1").interface("eth0").address == IPv4Address("172.20.3.2")


def test_a_big_lan_gets_a_bigger_subnet() -> None:
    nodes = "".join(f"  n{i}: {{kind: host}}\n" for i in range(300))
    members = ", ".join(f"n{i}" for i in range(300))
    lab = load_text(
        f"name: big\npool: 10.9.0.0/16\nnodes:\n{nodes}lans:\n  l: {{members: [{members}]}}\n"
    )
    assert lab.lans[0].subnet == IPv4Network("10.9.2.0/23")
    assert lab.node("n299").interfaces[0].address == IPv4Address("10.9.3.45")


def test_interface_names_fill_the_lowest_free_eth_in_declaration_order() -> None:
    lab = load_text(
        HEADER + "links:\n  - endpoints: [h1, r1]\n  - endpoints: [r1:eth0, h2]\n"
        "lans:\n  l: {members: [r1, h2:eth5]}\n"
    )
    r1 = lab.node("r1")
    assert [(i.name, i.segment) for i in r1.interfaces] == [
        ("eth0", "r1-h2"),
        ("eth1", "h1-r1"),
        ("eth2", "l"),
    ]
    assert [i.name for i in lab.node("h2").interfaces] == ["eth0", "eth5"]


def test_interfaces_sort_naturally() -> None:
    nodes = "name: s\nnodes:\n  r: {kind: router}\n" + "".join(
        f"  h{i}: {{kind: host}}\n" for i in range(12)
    )
    links = "".join(f"  - endpoints: [r, h{i}]\n" for i in range(12))
    lab = load_text(nodes + "links:\n" + links)
    assert [i.name for i in lab.node("r").interfaces] == [f"eth{i}" for i in range(12)]


def test_macs_are_deterministic_and_lab_specific() -> None:
    text = HEADER + "links:\n  - endpoints: [h1, r1]\n"
    a, b = load_text(text), load_text(text)
    other = load_text(text.replace("name: p", "name: q"))
    assert a == b
    mac = a.node("h1").interfaces[0].mac
    assert mac == planned_mac("p", "h1", "eth0")
    assert mac != other.node("h1").interfaces[0].mac
    assert a.node("h1").interfaces[0].mac_str.startswith("02:")


def test_planned_macs_avoid_an_explicit_one() -> None:
    taken = planned_mac("p", "h1", "eth0").hex(":")
    lab = load_text(HEADER + f"links:\n  - endpoints: [h1, {{node: r1, mac: '{taken}'}}]\n")
    assert lab.node("r1").interfaces[0].mac_str == taken
    assert lab.node("h1").interfaces[0].mac == planned_mac("p", "h1", "eth0", 1)


def test_default_pool_is_derived_from_the_lab_name() -> None:
    pools = {default_pool(f"lab{i}") for i in range(50)}
    assert len(pools) > 20
    for pool in pools:
        assert pool.prefixlen == 16 and pool.subnet_of(IPv4Network("10.0.0.0/8"))
        assert 64 <= pool.network_address.packed[1] < 192
    assert default_pool("x") == default_pool("x")


def test_mtu_and_stack_options_resolve() -> None:
    lab = load_text(
        "name: m\ndefaults: {mtu: 9000, congestion_control: reno, msl: 500ms}\nnodes:\n"
        "  a: {kind: host, congestion_control: cubic, syn_retries: 2}\n  b: {kind: host}\n"
        "links:\n  - endpoints: [a, b]\n  - {endpoints: [a, b], mtu: 1280}\n"
    )
    assert [s.mtu for s in lab.segments] == [9000, 1280]
    assert lab.defaults == StackOptions(congestion_control="reno", msl=0.5)
    assert lab.node("a").stack == StackOptions(congestion_control="cubic", msl=0.5, syn_retries=2)
    assert lab.node("b").stack.congestion_control == "reno"
    assert [s.name for s in lab.segments] == ["a-b", "a-b-2"]


def test_apps_list_and_mapping_forms_are_equivalent() -> None:
    as_list = load_text(
        "name: a\nnodes:\n  h: {kind: host, apps: [http-server:80, echo, sink:5001, udp-echo:7]}\n"
    )
    as_map = load_text(
        "name: a\nnodes:\n  h:\n    kind: host\n    apps:\n      http-server: 80\n      echo:\n"
        "      sink: [5001]\n      udp-echo: 7\n"
    )
    as_items = load_text(
        "name: a\nnodes:\n  h:\n    kind: host\n    apps:\n      - {app: http-server, port: 80}\n"
        "      - {app: echo}\n      - sink\n      - udp-echo\n"
    )
    expected = ["http-server:80", "echo:7", "sink:5001", "udp-echo:7"]
    for lab in (as_list, as_map, as_items):
        assert [str(a) for a in lab.node("h").apps] == expected
    assert [a.transport for a in as_list.node("h").apps] == ["tcp", "tcp", "tcp", "udp"]
