"""``routing: rip`` and ``rip:`` in topology files: who runs RIP, the options (lab and
node), the errors at their place (FRR's limits on linux routers), no static routes for RIP
routers, the Configure message and the agent's conversion, the FRR configuration of a linux
router, the rip-diamond example."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from nodes.agent import convert
from nodes.agent.errors import ArgumentError
from orchestrator.lab import frr
from orchestrator.lab.backends.fake import FakeBackend
from orchestrator.lab.plan import make_plan
from orchestrator.wire.agent import configure_request
from tests.unit.test_topology_schema import validators
from topology import (
    Lab,
    Redistribute,
    RipOptions,
    Routing,
    TopologyError,
    example_path,
    lab_to_dict,
    load_file,
    load_text,
)

LINE = """name: t
{head}
nodes:
  h1: {{kind: host}}
  r1: {{kind: router{r1}}}
  r2: {{kind: router}}
  h2: {{kind: host}}
links:
  - endpoints: [h1, r1]
  - endpoints: [r1, r2]
  - endpoints: [r2, h2]
"""


def lab(head: str = "routing: rip", r1: str = "") -> Lab:
    return load_text(LINE.format(head=head, r1=r1))


def errors(text: str) -> list[str]:
    with pytest.raises(TopologyError) as err:
        load_text(text)
    return [d.format() for d in err.value.diagnostics]


def test_lab_routing_rip_runs_rip_on_routers_with_rfc_defaults() -> None:
    planned = lab()
    assert planned.routing is Routing.RIP
    r1, h1 = planned.node("r1"), planned.node("h1")
    assert r1.routing is Routing.RIP and r1.rip == RipOptions()
    assert RipOptions() == RipOptions(update=30.0, timeout=180.0, garbage=120.0, triggered=True,
                                      split_horizon=True, poisoned_reverse=False)  # fmt: skip
    assert h1.routing is Routing.STATIC and h1.rip is None
    # RIP routers get no computed routes; hosts keep their default route
    assert r1.routes == () and planned.node("r2").routes == ()
    assert [str(r.dst) for r in h1.routes] == ["0.0.0.0/0"]


def test_static_stays_the_default() -> None:
    planned = lab(head="")
    assert planned.routing is Routing.STATIC and planned.node("r1").rip is None
    assert planned.node("r1").routes  # routes: auto
    assert "routing" not in lab_to_dict(planned)  # older labs hash as before


def test_options_at_lab_level_and_node_keys_over_them() -> None:
    planned = lab(
        head="routing: rip\nrip: {update: 5s, timeout: 20s, garbage: 10s, poisoned_reverse: true,"
        " auth_key: s3cret, auth_key_id: 7, redistribute: [connected]}",
        r1=", rip: {timeout: 30s, split_horizon: false, passive: [eth0], default_route: true}",
    )
    r1, r2 = planned.node("r1").rip, planned.node("r2").rip
    assert r2 == RipOptions(update=5.0, timeout=20.0, garbage=10.0, poisoned_reverse=True,
                            auth_key="s3cret", auth_key_id=7,
                            redistribute=(Redistribute.CONNECTED,))  # fmt: skip
    assert r1 is not None and r1.timeout == 30.0 and r1.update == 5.0
    assert not r1.split_horizon and r1.passive == ("eth0",) and r1.default_route
    assert lab_to_dict(planned)["routing"] == "rip"


def test_per_node_routing_and_a_listening_host() -> None:
    text = LINE.format(head="", r1=", routing: rip").replace(
        "h1: {kind: host}", "h1: {kind: host, routing: rip}"
    )
    planned = load_text(text)
    assert planned.routing is Routing.STATIC
    assert planned.node("r1").rip is not None and planned.node("r2").rip is None
    assert planned.node("h1").rip is not None and planned.node("h1").routes == ()
    assert configure_request(planned, planned.node("h1")).rip.silent


@pytest.mark.parametrize(
    ("head", "r1", "message"),
    [
        ("routing: ospf", "", "routing"),
        ("rip: {update: 5s}", "", "no node runs RIP"),
        ("", ", rip: {update: 5s}", "does not run RIP"),
        ("routing: rip\nrip: {update: 30s, timeout: 30s}", "", "must exceed the update"),
        ("routing: rip\nrip: {auth_key: 'has space'}", "", "authentication key"),
        ("routing: rip\nrip: {auth_key: abcdefghijklmnopq}", "", "authentication key"),
        ("routing: rip\nrip: {auth_key_id: 256}", "", "auth_key_id"),
        ("routing: rip\nrip: {redistribute: [bgp]}", "", "redistribution"),
        ("routing: rip\nrip: {updates: 5s}", "", "update"),
        ("routing: rip", ", rip: {passive: [eth7]}", "has no interface 'eth7'"),
    ],
)
def test_mistakes_are_reported_at_their_place(head: str, r1: str, message: str) -> None:
    found = errors(LINE.format(head=head, r1=r1))
    assert any(message in e for e in found), found
    assert all(e.startswith("<string>:") for e in found), found


FRR_LAB = """name: f
routing: rip
rip: {rip}
nodes:
  r1: {{kind: router}}
  r3: {{kind: linux, forward: true{r3}}}
  h: {{kind: linux}}
links:
  - endpoints: [r1, r3]
  - endpoints: [r3, h]
"""


def test_a_linux_router_runs_frr_and_a_linux_host_keeps_static_routes() -> None:
    planned = load_text(FRR_LAB.format(rip="{update: 5s, timeout: 15s, garbage: 10s}", r3=""))
    r3, h = planned.node("r3"), planned.node("h")
    assert frr.runs_frr(r3) and not frr.runs_frr(h) and h.rip is None
    specs = {s.node: s for s in make_plan(planned, FakeBackend(), "img").nodes}
    assert specs["r3"].capabilities == frr.CAPABILITIES
    assert specs["r1"].capabilities == () and specs["h"].capabilities == ()


@pytest.mark.parametrize(
    ("rip", "r3", "message"),
    [
        ("{update: 2s, timeout: 15s}", "", "whole seconds from 5"),
        ("{update: 5.5s, timeout: 15s}", "", "whole seconds from 5"),
        ("{triggered: false}", "", "always sends triggered updates"),
        ("{redistribute: [static]}", "", "keep connected"),
        ("{}", ", forward: false, routing: rip", "needs forward: true"),
    ],
)
def test_what_frr_cannot_do_is_refused(rip: str, r3: str, message: str) -> None:
    text = FRR_LAB.format(rip=rip, r3=r3).replace("kind: linux, forward: true, forward: false",
                                                  "kind: linux, forward: false")  # fmt: skip
    found = errors(text)
    assert any(message in e for e in found), found


def test_ripd_config_follows_the_options() -> None:
    planned = load_text(FRR_LAB.format(
        rip="{update: 5s, timeout: 15s, garbage: 10s, poisoned_reverse: true, auth_key: k3y,"
        " auth_key_id: 3, default_route: true}",
        r3=", rip: {passive: [eth1]}",
    ))  # fmt: skip
    conf = frr.ripd_config(planned.node("r3"))
    lines = conf.splitlines()
    for wanted in [
        "key chain wirelab", " key 3", "  key-string k3y", "interface eth0",
        " ip rip split-horizon poisoned-reverse",
        " ip rip authentication mode md5 auth-length rfc",
        " ip rip authentication key-chain wirelab", "router rip", " version 2",
        f" network {planned.node('r3').interfaces[0].network}", " passive-interface eth1",
        " redistribute static", " default-information originate", " timers basic 5 15 10",
    ]:  # fmt: skip
        assert wanted in lines, (wanted, conf)
    plain = frr.ripd_config(
        load_text(FRR_LAB.format(rip="{split_horizon: false}", r3="")).node("r3")
    )
    assert " no ip rip split-horizon" in plain.splitlines() and "key chain" not in plain
    script = frr.start_script(planned.node("r3"))
    assert "/usr/lib/frr/zebra" in script and "/usr/lib/frr/ripd" in script


FRR_STATUS = """Routing Protocol is "rip"
  Sending updates every 5 seconds with +/-50%, next due in 3 seconds
  Timeout after 15 seconds, garbage collect after 10 seconds
  Outgoing update filter list for all interface is not set
  Incoming update filter list for all interface is not set
  Default redistribution metric is 1
  Redistributing: static
  Default version control: send version 2, receive version 2
    Interface        Send  Recv   Key-chain
    eth0             2     2
  Routing for Networks:
    10.62.2.0/24
  Routing Information Sources:
    Gateway          BadPackets BadRoutes  Distance Last Update
    10.62.2.1                0         1       120   00:00:02
  Distance: (default is 120)
@@
Codes: R - RIP, C - connected, S - Static, O - OSPF, B - BGP
Sub-codes:
      (n) - normal, (s) - static, (d) - default, (r) - redistribute,
      (i) - interface

     Network            Next Hop         Metric From            Tag Time
R(n) 10.62.0.0/24       10.62.2.1             2 10.62.2.1         0 00:13
C(i) 10.62.2.0/24       0.0.0.0               1 self              0
R(n) 10.62.9.0/24       10.62.2.1            16 10.62.2.1         0 00:07
"""


def test_frr_status_reads_into_the_rip_view() -> None:
    st = frr.rip_status(FRR_STATUS, RipOptions(update=5, timeout=15, garbage=10))
    assert st.enabled and st.daemon == "frr"
    assert (st.update_s, st.timeout_s, st.garbage_s, st.next_update_ms) == (5, 15, 10, 3000)
    assert st.redistribute == ("connected", "static")
    (nb,) = st.neighbors
    assert (nb.address, nb.bad_routes, nb.last_heard_ms, nb.routes) == ("10.62.2.1", 1, 2000, 2)
    learned, connected, dead = st.routes
    assert (learned.prefix, learned.metric, learned.gateway, learned.origin) == (
        "10.62.0.0/24",
        2,
        "10.62.2.1",
        "rip",
    )
    assert learned.age_ms == 2000  # the Time column counts down from the timeout
    assert connected.origin == "connected" and connected.gateway == ""
    assert dead.metric == 16


def test_configure_carries_the_options_and_the_agent_reads_them() -> None:
    planned = lab(
        head="routing: rip\nrip: {update: 5s, timeout: 20s, garbage: 10s, auth_key: s3cret}",
        r1=", rip: {passive: [eth0], poisoned_reverse: true, redistribute: [connected]}",
    )
    req = configure_request(planned, planned.node("r1"))
    assert req.HasField("rip") and req.rip.update_ms == 5000 and req.rip.passive == ["eth0"]
    assert not configure_request(planned, planned.node("h1")).HasField("rip")
    cfg = convert.configure(req).rip
    assert cfg is not None
    assert (cfg.update_interval, cfg.timeout, cfg.garbage) == (5.0, 20.0, 10.0)
    assert cfg.passive == frozenset({"eth0"}) and cfg.poisoned_reverse
    assert cfg.redistribute_connected and not cfg.redistribute_static
    assert cfg.auth_key == b"s3cret" and cfg.auth_key_id == 1 and not cfg.silent


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.rip.passive.append("eth9"), "rip.passive[1]"),
        (lambda r: setattr(r.rip, "update_ms", 1.0), "rip.update_ms"),
        (lambda r: setattr(r.rip, "timeout_ms", 4000.0), "rip"),
        (lambda r: setattr(r.rip, "auth_key", "x" * 17), "rip.auth_key"),
    ],
)
def test_the_agent_refuses_bad_options_naming_the_field(change: Any, field: str) -> None:
    planned = lab(
        head="routing: rip\nrip: {update: 5s, timeout: 20s}", r1=", rip: {passive: [eth0]}"
    )
    req = configure_request(planned, planned.node("r1"))
    change(req)
    with pytest.raises(ArgumentError) as err:
        convert.configure(req)
    assert err.value.field == field


def test_the_rip_diamond_example() -> None:
    planned = load_file(example_path("rip-diamond"))
    assert planned.routing is Routing.RIP
    routers = [n.name for n in planned.nodes if n.rip is not None]
    assert routers == ["r1", "r2", "r3", "r4"]
    assert frr.runs_frr(planned.node("r3"))
    assert planned.node("r4").rip.passive == ("eth2",)  # type: ignore[union-attr]
    assert all(n.routes == () for n in planned.nodes if n.rip is not None)


@pytest.mark.parametrize("check", validators())
def test_the_schema_reads_the_same_forms(check: Any) -> None:
    for head, r1 in [
        ("routing: rip", ""),
        ("routing: rip\nrip: {update: 5s, timeout: 20, garbage: 10s, triggered: false}", ""),
        ("routing: rip", ", rip: {passive: [eth0], auth_key: abc, auth_key_id: 2}"),
        ("", ", routing: rip"),
    ]:
        text = LINE.format(head=head, r1=r1)
        load_text(text)
        assert check(yaml.safe_load(text)) == [], text
    for head in ["routing: ospf", "rip: {update: fast}", "rip: {auth_key_id: 300}"]:
        assert check(yaml.safe_load(LINE.format(head=head, r1=""))) != [], head
