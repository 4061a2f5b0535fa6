"""Loader error corpus: each bad snippet -> the exact line:column, field path and message."""

from __future__ import annotations

import textwrap

import pytest

from topology import Diagnostic, TopologyError, load_text

BASE = """\
name: t
nodes:
  h1: {kind: host}
  r1: {kind: router}
  h2: {kind: host}
"""


def diagnostics(text: str) -> tuple[Diagnostic, ...]:
    with pytest.raises(TopologyError) as info:
        load_text(textwrap.dedent(text), file="t.yaml")
    return info.value.diagnostics


def pos_of(text: str, token: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of token."""
    text = textwrap.dedent(text)
    index = -1
    for _ in range(nth + 1):
        index = text.index(token, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


# (id, yaml, token where the error points, nth occurrence, field path, message start)
CORPUS = [
    (
        "unknown-kind",
        "name: t\nnodes:\n  h1: {kind: hots}\n",
        "hots",
        0,
        "nodes.h1.kind",
        "unknown kind 'hots'",
    ),
    (
        "unknown-node-key",
        "name: t\nnodes:\n  h1: {kind: host, aps: [echo]}\n",
        "aps",
        0,
        "nodes.h1.aps",
        "unknown node key 'aps'",
    ),
    (
        "missing-kind",
        "name: t\nnodes:\n  h1: {apps: [echo]}\n",
        "h1",
        0,
        "nodes.h1",
        "missing required key 'kind'",
    ),
    ("missing-nodes", "name: t\n", "name", 0, "", "missing required key 'nodes'"),
    ("unknown-top-key", BASE + "linkz: []\n", "linkz", 0, "linkz", "unknown key 'linkz'"),
    (
        "unknown-node-in-link",
        BASE + "links:\n  - endpoints: [h1:eth0, rr1:eth0]\n",
        "rr1:eth0",
        0,
        "links[0].endpoints[1]",
        "unknown node 'rr1' in link h1-rr1",
    ),
    (
        "iface-used-twice",
        BASE + "links:\n  - endpoints: [h1, r1:eth0]\n  - endpoints: [r1:eth0, h2]\n",
        "r1:eth0",
        1,
        "links[1].endpoints[0]",
        "interface r1:eth0 is already used by link h1-r1 (line 7)",
    ),
    (
        "three-endpoints",
        BASE + "links:\n  - endpoints: [h1, r1, h2]\n",
        "[h1",
        0,
        "links[0].endpoints",
        "a link has exactly two endpoints, got 3",
    ),
    (
        "same-node-twice",
        BASE + "links:\n  - endpoints: [r1:eth0, r1:eth1]\n",
        "r1:eth1",
        0,
        "links[0].endpoints[1]",
        "node 'r1' is on link r1-r1 twice",
    ),
    (
        "bad-prefix-length",
        BASE + "links:\n  - {endpoints: [h1, r1], subnet: 10.0.0.0/33}\n",
        "10.0.0.0/33",
        0,
        "links[0].subnet",
        "bad prefix length in '10.0.0.0/33'",
    ),
    (
        "host-bits",
        BASE + "links:\n  - {endpoints: [h1, r1], subnet: 10.0.1.1/24}\n",
        "10.0.1.1/24",
        0,
        "links[0].subnet",
        "bad prefix '10.0.1.1/24': host bits set",
    ),
    (
        "bad-address",
        BASE + "links:\n  - endpoints: [{node: h1, address: 10.0.0.300/24}, r1]\n",
        "10.0.0.300",
        0,
        "links[0].endpoints[0].address",
        "invalid IPv4 address",
    ),
    (
        "duplicate-address",
        BASE + "lans:\n  l1:\n    members:\n      - {node: h1, address: 10.0.0.2/24}\n"
        "      - {node: r1, address: 10.0.0.2/24}\n",
        "10.0.0.2",
        1,
        "lans.l1.members[1].address",
        "duplicate address 10.0.0.2 (also h1 at line 9)",
    ),
    (
        "outside-subnet",
        BASE + "links:\n  - endpoints: [{node: h1, address: 10.9.0.5}, r1]\n"
        "    subnet: 10.0.0.0/24\n",
        "10.9.0.5",
        0,
        "links[0].endpoints[0].address",
        "address 10.9.0.5 is outside link h1-r1's subnet 10.0.0.0/24",
    ),
    (
        "gateway-address",
        BASE + "links:\n  - endpoints: [{node: h1, address: 10.0.0.1/24}, r1]\n",
        "10.0.0.1",
        0,
        "links[0].endpoints[0].address",
        "address 10.0.0.1 is the first host",
    ),
    (
        "no-prefix-no-subnet",
        BASE + "links:\n  - endpoints: [{node: h1, address: 10.0.0.7}, r1]\n",
        "10.0.0.7",
        0,
        "links[0].endpoints[0].address",
        "address 10.0.0.7 has no prefix length",
    ),
    (
        "lan-too-small",
        BASE + "lans:\n  l1:\n    members: [h1, h2, r1]\n    subnet: 10.0.0.0/30\n",
        "10.0.0.0/30",
        0,
        "lans.l1.subnet",
        "subnet 10.0.0.0/30 is too small for LAN l1",
    ),
    (
        "overlap",
        BASE + "links:\n  - {endpoints: [h1, r1], subnet: 10.0.0.0/16}\n"
        "  - {endpoints: [r1, h2], subnet: 10.0.5.0/24}\n",
        "10.0.5.0/24",
        0,
        "links[1].subnet",
        "subnet 10.0.5.0/24 overlaps 10.0.0.0/16",
    ),
    (
        "wrong-type",
        BASE + "defaults: {mtu: big}\n",
        "big",
        0,
        "defaults.mtu",
        "expected an integer, got a string",
    ),
    (
        "mtu-range",
        BASE + "links:\n  - {endpoints: [h1, r1], mtu: 20}\n",
        "20",
        0,
        "links[0].mtu",
        "20 is out of range; allowed: 68..65535",
    ),
    (
        "cc",
        "name: t\nnodes:\n  h1: {kind: host, congestion_control: vegas}\n",
        "vegas",
        0,
        "nodes.h1.congestion_control",
        "unknown congestion_control 'vegas'",
    ),
    (
        "bool-option",
        "name: t\nnodes:\n  h1: {kind: host, sack: 3}\n",
        "3",
        0,
        "nodes.h1.sack",
        "expected a boolean",
    ),
    (
        "bad-app",
        "name: t\nnodes:\n  h1: {kind: host, apps: [ftp:21]}\n",
        "ftp:21",
        0,
        "nodes.h1.apps[0]",
        "unknown app 'ftp'",
    ),
    (
        "bad-app-port",
        "name: t\nnodes:\n  h1: {kind: host, apps: {echo: 70000}}\n",
        "70000",
        0,
        "nodes.h1.apps.echo",
        "70000 is out of range; allowed: 1..65535",
    ),
    (
        "app-port-clash",
        "name: t\nnodes:\n  h1: {kind: host, apps: [sink:80, http-server]}\n",
        "http-server",
        0,
        "nodes.h1.apps[1]",
        "http-server:80 uses tcp port 80 like sink:80",
    ),
    (
        "duplicate-key",
        "name: t\nnodes:\n  h1: {kind: host}\n  h1: {kind: router}\n",
        "h1",
        1,
        "",
        "duplicate key 'h1' (first defined at line 3)",
    ),
    (
        "routes-mode",
        BASE + "routes: sometimes\n",
        "sometimes",
        0,
        "routes",
        "unknown routes mode 'sometimes'",
    ),
    (
        "route-via-unreachable",
        "name: t\nnodes:\n  h1:\n    kind: host\n    routes: [{dst: default, via: 192.0.2.1}]\n"
        "  r1: {kind: router}\nlinks:\n  - endpoints: [h1, r1]\n",
        "{dst",
        0,
        "nodes.h1.routes[0]",
        "next hop 192.0.2.1 is not on a subnet connected to h1",
    ),
    (
        "bad-mac",
        BASE + "links:\n  - endpoints: [{node: h1, mac: '02:00'}, r1]\n",
        "'02:00'",
        0,
        "links[0].endpoints[0].mac",
        "bad MAC '02:00'",
    ),
    (
        "multicast-mac",
        BASE + "links:\n  - endpoints: [{node: h1, mac: '01:00:5e:00:00:01'}, r1]\n",
        "'01:",
        0,
        "links[0].endpoints[0].mac",
        "bad MAC '01:00:5e:00:00:01': a multicast address",
    ),
    (
        "duplicate-network-name",
        BASE + "links:\n  - {name: a, endpoints: [h1, r1]}\n  - {name: a, endpoints: [r1, h2]}\n",
        "{name: a",
        1,
        "links[1]",
        "duplicate network name 'a'",
    ),
    (
        "unknown-lan-member",
        BASE + "lans:\n  l1:\n    members: [h1, hx]\n",
        "hx",
        0,
        "lans.l1.members[1]",
        "unknown node 'hx' in LAN l1",
    ),
    (
        "bad-node-name",
        "name: t\nnodes:\n  1h: {kind: host}\n",
        "1h",
        0,
        "nodes.1h",
        "bad node name '1h'",
    ),
    (
        "bad-iface-name",
        BASE + "links:\n  - endpoints: [h1:e/0, r1]\n",
        "h1:e/0",
        0,
        "links[0].endpoints[0]",
        "bad interface name 'e/0'",
    ),
    (
        "pool-exhausted",
        BASE + "pool: 10.5.0.0/24\nlinks:\n  - endpoints: [h1, r1]\n  - endpoints: [r1, h2]\n",
        "endpoints: [r1",
        0,
        "links[1]",
        "no free /24 left in the pool 10.5.0.0/24",
    ),
    (
        "forward-on-a-host",
        "name: t\nnodes:\n  h1:\n    kind: host\n    forward: true\n",
        "forward",
        0,
        "nodes.h1.forward",
        "forward applies to linux nodes only; h1 is a host node",
    ),
    (
        "forward-on-a-router",
        "name: t\nnodes:\n  r1: {kind: router, forward: false}\n",
        "forward",
        0,
        "nodes.r1.forward",
        "forward applies to linux nodes only; r1 is a router node (a router node always forwards)",
    ),
    (
        "forward-wrong-type",
        "name: t\nnodes:\n  lx: {kind: linux, forward: 'yes'}\n",
        "'yes'",
        0,
        "nodes.lx.forward",
        "expected a boolean (true or false), got a string",
    ),
    ("not-a-mapping", "- a\n- b\n", "- a", 0, "", "expected a mapping, got a list"),
    ("yaml-syntax", "name: t\nnodes: {h1: [kind\n", "", 0, "", "invalid YAML"),
]


@pytest.mark.parametrize(
    ("text", "token", "nth", "path", "message"),
    [case[1:] for case in CORPUS],
    ids=[case[0] for case in CORPUS],
)
def test_error_corpus(text: str, token: str, nth: int, path: str, message: str) -> None:
    found = diagnostics(text)
    assert len(found) == 1, [d.format() for d in found]
    (d,) = found
    assert d.file == "t.yaml"
    assert d.path == path
    assert d.message.startswith(message), d.message
    if token:
        assert (d.line, d.column) == pos_of(text, token, nth)


def test_unknown_kind_format_names_allowed_and_suggestion() -> None:
    text = "name: quickstart\nnodes:\n  h1:\n    kind: hots\n"
    (d,) = diagnostics(text)
    assert d.allowed == ("host", "router", "linux")
    assert d.suggestion == "host"
    assert d.format() == (
        "t.yaml:4:11: nodes.h1.kind: unknown kind 'hots'; allowed: host, router, linux "
        "(did you mean 'host'?)"
    )


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("knd", "kind"),
        ("syn_retry", "syn_retries"),
        ("congestion", "congestion_control"),
        ("zzz", None),
    ],
)
def test_did_you_mean_for_node_keys(key: str, suggestion: str | None) -> None:
    (d,) = diagnostics(f"name: t\nnodes:\n  h1: {{kind: host, {key}: 1}}\n")
    assert d.message == f"unknown node key {key!r}"
    assert d.suggestion == suggestion
    assert "kind" in d.allowed and "msl" in d.allowed


def test_did_you_mean_for_top_level_and_link_nodes() -> None:
    (d,) = diagnostics(BASE + "lnks: []\n")
    assert d.suggestion == "links"
    (d,) = diagnostics(BASE + "links:\n  - endpoints: [h1, r11]\n")
    assert d.suggestion == "r1"
    assert d.allowed == ("h1", "h2", "r1")


def test_all_errors_are_collected_and_sorted_by_line() -> None:
    text = (
        "name: t\n"
        "nodes:\n"
        "  h1: {kind: hots}\n"
        "  r1: {kind: router, msl: -1}\n"
        "links:\n"
        "  - endpoints: [h1, r9]\n"
        "  - {endpoints: [h1, r1], mtu: 1}\n"
    )
    found = diagnostics(text)
    assert [d.line for d in found] == [3, 4, 6, 7]
    assert [d.path for d in found] == [
        "nodes.h1.kind",
        "nodes.r1.msl",
        "links[0].endpoints[1]",
        "links[1].mtu",
    ]


def test_a_broken_node_does_not_cascade_into_unknown_node_errors() -> None:
    found = diagnostics(
        "name: t\nnodes:\n  h1: {kind: hots}\n  r1: {kind: router}\n"
        "links:\n  - endpoints: [h1, r1]\n"
    )
    assert [d.path for d in found] == ["nodes.h1.kind"]


def test_error_exception_exposes_the_first_diagnostic() -> None:
    with pytest.raises(TopologyError) as info:
        load_text("name: t\nnodes:\n  h1: {kind: x}\n  h2: {kind: y}\n", file="f.yaml")
    exc = info.value
    assert (exc.file, exc.line, exc.column, exc.path) == ("f.yaml", 3, 14, "nodes.h1.kind")
    assert len(exc.diagnostics) == 2
    assert str(exc).count("\n") == 1


def test_empty_file() -> None:
    (d,) = diagnostics("")
    assert "empty file" in d.message
    assert d.format() == "t.yaml: empty file: expected a lab mapping"


def test_fault_structure_errors() -> None:
    found = diagnostics(
        BASE
        + "links:\n  - endpoints: [h1, r1]\n"
        + "faults:\n"
        + "  - {at: 1, loss: 5%}\n"  # no target
        + "  - {node: r2, action: kill}\n"  # unknown node
        + "  - {partition: [[h1], [r1]], loss: 0.1}\n"  # partition with effects
        + "  - {endpoint: h1:eth9, loss: 2}\n"  # probability out of range
        + "  - {link: h1-r1}\n"  # no effect
        + "  - {link: h1-r2, delay: 10ms}\n"  # unknown link
    )
    messages = [(d.line, d.path, d.message) for d in found]
    assert messages == [
        (9, "faults[0]", "a fault needs a target, got 0"),
        (10, "faults[1].node", "unknown node 'r2'"),
        (11, "faults[2]", "a partition drops traffic between groups; it takes no effects"),
        (12, "faults[3].loss", "2.0 is out of range; allowed: 0.0..1.0"),
        (13, "faults[4]", "a fault needs at least one effect"),
        (14, "faults[5].link", "unknown link or LAN 'h1-r2'"),
    ]


def test_fault_endpoint_interface_is_checked_after_planning() -> None:
    (d,) = diagnostics(
        BASE + "links:\n  - endpoints: [h1, r1]\nfaults:\n  - {endpoint: h1:eth7, delay: 10ms}\n"
    )
    assert (d.line, d.column, d.path) == (9, 16, "faults[0].endpoint")
    assert d.message == "h1 has no interface 'eth7'"
    assert d.allowed == ("eth0",)


def test_forward_is_a_linux_node_option() -> None:
    lab = load_text(
        "name: t\nnodes:\n  a: {kind: linux, forward: true}\n  b: {kind: linux, forward: false}\n"
        "  c: {kind: linux}\n  r: {kind: router}\n  h: {kind: host}\n"
    )
    assert [(n.name, n.forward, n.forwards) for n in lab.nodes] == [
        ("a", True, True), ("b", False, False), ("c", False, False), ("r", False, True),
        ("h", False, False),
    ]  # fmt: skip


def test_forward_on_a_wrong_kind_and_a_wrong_type_are_both_reported() -> None:
    found = diagnostics(
        "name: t\nnodes:\n  h: {kind: host, forward: true}\n  lx: {kind: linux, forward: 1}\n"
    )
    assert [(d.line, d.path) for d in found] == [(3, "nodes.h.forward"), (4, "nodes.lx.forward")]
    assert "linux nodes only" in found[0].message and "kind: linux" in found[0].message
    assert found[1].message == "expected a boolean (true or false), got an integer"


def test_short_forms_stay_valid() -> None:
    lab = load_text(
        "name: s\nnodes:\n"
        "  a: {kind: host, apps: [http-server:8080, echo, {app: sink}], routes: none}\n"
        "  b: {kind: router, apps: {echo: [7, 7007], udp-echo: null}}\n"
        "  c:\n    kind: host\n    routes:\n      - {dst: default, via: 10.9.2.2}\n"
        "links:\n"
        "  - endpoints: [a, b:eth3]\n"
        "  - endpoints: [{node: b, iface: eth1, address: 10.9.2.2/24}, c]\n"
        "lans:\n  l: {members: [a:eth7, {node: b}]}\n"
        "faults:\n"
        "  - {endpoint: a:eth0, at: 1.5, duration: 2m, loss: 0.5%}\n"
        "  - {link: l, at: '3', delay: 200us}\n"
        "  - {node: c, action: pause}\n"
        "  - {partition: [[a], [c]], duration: 500ms}\n"
    )
    a, b, c = (lab.node(n) for n in "abc")
    assert [str(x) for x in a.apps] == ["http-server:8080", "echo:7", "sink:5001"]
    assert [str(x) for x in b.apps] == ["echo:7", "echo:7007", "udp-echo:7"]
    assert [i.name for i in b.interfaces] == ["eth0", "eth1", "eth3"]
    assert [i.name for i in a.interfaces] == ["eth0", "eth7"]
    assert a.routes == () and str(c.routes[0].via) == "10.9.2.2"
    assert [(f.at, f.duration) for f in lab.faults] == [
        (1.5, 120.0), (3.0, None), (0.0, None), (0.0, 0.5)
    ]  # fmt: skip
    assert lab.faults[0].effects.loss == 0.005 and lab.faults[1].effects.delay == 0.0002


@pytest.mark.parametrize(
    ("snippet", "path", "noun"),
    [
        ("lnks: []", "lnks", "key"),
        ("defaults: {mtu: 1500, sak: true}", "defaults.sak", "defaults key"),
        ("links:\n  - {endpoints: [h1, r1], mut: 1400}", "links[0].mut", "link key"),
        ("links:\n  - endpoints: [h1, {nod: r1}]", "links[0].endpoints[1].nod", "endpoint key"),
        ("lans:\n  l: {members: [h1], subnt: 10.0.0.0/24}", "lans.l.subnt", "LAN key"),
        ("faults:\n  - {node: h1, los: 1}", "faults[0].los", "fault key"),
    ],
)
def test_unknown_keys_name_their_place_and_the_keys_allowed_there(
    snippet: str, path: str, noun: str
) -> None:
    found = diagnostics(BASE + snippet + "\n")
    d = next(d for d in found if d.path == path)
    key = path.rsplit(".", 1)[-1]
    assert d.message == f"unknown {noun} {key!r}"
    assert (d.line, d.column) == pos_of(BASE + snippet + "\n", key + ":")
    assert d.allowed and d.suggestion in d.allowed


def test_node_routes_and_apps_errors_point_into_either_form() -> None:
    found = diagnostics(
        "name: t\nnodes:\n"
        "  h1: {kind: host, apps: {echo: [7, 70000]}}\n"
        "  h2: {kind: host, routes: [{dst: default, via: 10.0.0.1/24}]}\n"
        "  h3: {kind: host, routes: static}\n"
    )
    assert [(d.line, d.path, d.message) for d in found] == [
        (3, "nodes.h1.apps.echo[1]", "70000 is out of range; allowed: 1..65535"),
        (4, "nodes.h2.routes[0].via", "via '10.0.0.1/24' is an address, not a prefix"),
        (5, "nodes.h3.routes", "unknown routes mode 'static'"),
    ]
    assert found[2].allowed == ("auto", "none")


def test_structure_and_references_are_reported_in_one_pass() -> None:
    text = (
        "name: t\n"
        "nodes:\n"
        "  h1: {kind: host, apps: [echo, echo]}\n"  # a clash (a check after the structure)
        "  r1: {kind: router, ttl: 300}\n"  # structure
        "  lx: {kind: host, forward: true}\n"  # a check after the structure
        "links:\n"
        "  - endpoints: [h1, r2]\n"  # reference
        "  - {endpoints: [h1, r1], subnet: 10.0.0.0/33}\n"  # structure
        "lans:\n  office: {members: [h1, lx, ghost]}\n"  # reference
        "faults:\n  - {link: office, loss: 150%}\n  - {node: r3, loss: 1%}\n"
    )
    assert [(d.line, d.path) for d in diagnostics(text)] == [
        (3, "nodes.h1.apps[1]"),
        (4, "nodes.r1.ttl"),
        (5, "nodes.lx.forward"),
        (7, "links[0].endpoints[1]"),
        (8, "links[1].subnet"),
        (10, "lans.office.members[2]"),
        (12, "faults[0].loss"),
        (13, "faults[1].node"),
    ]


def test_null_is_refused_where_a_value_is_expected() -> None:
    (d,) = diagnostics(BASE + "links:\n  - {endpoints: [h1, r1], mtu: null}\n")
    assert (d.path, d.message) == ("links[0].mtu", "expected an integer, got nothing (null)")


def test_an_internal_error_is_still_a_topology_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import topology.loader

    def broken(*args: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(topology.loader, "check_declared", broken)
    (d,) = diagnostics(BASE)
    assert d.message == "internal error while loading (KeyError); please report it"
    assert (d.line, d.column) == (1, 1)
