"""The deploy plan (networks, node specs, labels, names), the topology hash and the Docker
backend's pure helpers (management subnet choice, host routes)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

import topology
from orchestrator.lab import labels as L
from orchestrator.lab.backends.docker import host_routes, pick_subnet, subnet_clash
from orchestrator.lab.backends.fake import MANAGEMENT_SUBNET, FakeBackend
from orchestrator.lab.plan import AGENT_PYTHON, make_plan
from topology import Lab, NodeKind
from topology.plan import default_pool


def load(name: str) -> Lab:
    return topology.load_file(topology.example_path(name))


def test_networks_follow_the_topology_with_the_management_network_first() -> None:
    lab = load("mixed-linux")
    plan = make_plan(lab, FakeBackend(), "img:1")
    mgmt, *data = plan.networks
    assert mgmt.management and mgmt.name == "wl.mixed-linux._mgmt"
    assert mgmt.subnet == MANAGEMENT_SUBNET and mgmt.gateway == IPv4Address("172.30.250.1")
    assert mgmt.labels[L.KIND] == L.KIND_MANAGEMENT and mgmt.labels[L.LINK] == ""
    assert [(n.name, n.link, str(n.subnet), str(n.gateway)) for n in data] == [
        ("wl.mixed-linux.h1-r1", "h1-r1", "10.134.1.0/24", "10.134.1.1"),
        ("wl.mixed-linux.lx1-r1", "lx1-r1", "10.134.2.0/24", "10.134.2.1"),
        ("wl.mixed-linux.r1-lx2", "r1-lx2", "10.200.0.0/24", "10.200.0.1"),
    ]
    assert all(n.labels[L.KIND] == L.KIND_DATA for n in data)


def test_agent_nodes_listen_on_their_management_address() -> None:
    lab = load("mixed-linux")
    plan = make_plan(lab, FakeBackend(), "img:1")
    specs = {s.node: s for s in plan.nodes}
    h1, r1 = specs["h1"], specs["r1"]
    assert h1.management is not None and h1.management.address == IPv4Address("172.30.250.2")
    assert r1.management is not None and r1.management.address == IPv4Address("172.30.250.3")
    assert r1.command == (
        AGENT_PYTHON, "-m", "nodes.agent.launch", "--listen", "172.30.250.3:50051",
        "--name", "r1", "--kind", "router",
    )  # fmt: skip
    assert r1.labels[L.AGENT] == "172.30.250.3:50051"
    assert [(a.network, a.iface, str(a.address)) for a in r1.attachments] == [
        ("wl.mixed-linux.h1-r1", "eth0", "10.134.1.3"),
        ("wl.mixed-linux.lx1-r1", "eth1", "10.134.2.3"),
        ("wl.mixed-linux.r1-lx2", "eth2", "10.200.0.2"),
    ]
    assert r1.labels[L.INTERFACES] == "eth0=h1-r1,eth1=lx1-r1,eth2=r1-lx2"
    assert r1.image == "img:1" and r1.name == "wl.mixed-linux.r1"


def test_linux_nodes_idle_without_a_management_address() -> None:
    plan = make_plan(load("mixed-linux"), FakeBackend(), "img:1")
    lx2 = next(s for s in plan.nodes if s.node == "lx2")
    assert lx2.kind is NodeKind.LINUX and not lx2.runs_agent
    assert lx2.management is None and L.AGENT not in lx2.labels
    assert "sleep" in lx2.command[-1]


def test_sysctls_keep_ipv6_and_forwarding_off() -> None:
    plan = make_plan(load("mixed-linux"), FakeBackend(), "img:1")
    for spec in plan.nodes:
        assert spec.sysctls == {
            "net.ipv6.conf.all.disable_ipv6": "1",
            "net.ipv6.conf.default.disable_ipv6": "1",
            "net.ipv4.ip_forward": "0",  # our routers forward in our stack, not the kernel
        }


def test_the_topology_hash_ignores_the_path_but_not_the_content() -> None:
    a = load("quickstart")
    text = Path(topology.example_path("quickstart")).read_text()
    b = topology.load_text(text)
    assert L.topology_hash(a) == L.topology_hash(b)
    c = topology.load_text(text.replace("mtu: 1500", "mtu: 1400"))
    assert L.topology_hash(c) != L.topology_hash(a)


def test_object_names_never_collide() -> None:
    assert L.container_name("a-b", "c") != L.container_name("a", "b-c")
    assert L.management_network_name("lab") not in {
        L.network_name("lab", name)
        for name in ("mgmt", "lab")  # names start with a letter
    }
    assert L.parse_interfaces_label("eth0=a,eth1=b-c") == {"eth0": "a", "eth1": "b-c"}
    assert L.parse_interfaces_label("") == {}


def test_pick_subnet_skips_used_ones_and_grows_for_big_labs() -> None:
    pool = IPv4Network("172.30.0.0/16")
    first = pick_subnet(pool, 3, [], "lab")
    assert first is not None and first.prefixlen == 24 and first.subnet_of(pool)
    assert pick_subnet(pool, 3, [], "lab") == first  # deterministic per lab name
    second = pick_subnet(pool, 3, [first], "lab")
    assert second is not None and not second.overlaps(first)
    assert pick_subnet(pool, 3, [IPv4Network("172.16.0.0/12")], "lab") is None
    big = pick_subnet(pool, 600, [], "lab")
    assert big is not None and big.prefixlen == 22
    assert pick_subnet(IPv4Network("10.0.0.0/30"), 3, [], "x") is None


def test_host_routes_parse_proc_net_route(tmp_path: Path) -> None:
    route = tmp_path / "route"
    route.write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
    )
    assert host_routes(route) == [IPv4Network("192.0.2.0/24"), IPv4Network("172.17.0.0/16")]
    assert host_routes(tmp_path / "missing") == []


def test_backends_are_made_by_name_once_per_registry() -> None:
    from orchestrator.domain.errors import InvalidArgument
    from orchestrator.lab.backends import Backends, make_backend

    assert make_backend("sim").name == "sim"
    assert make_backend("docker").name == "docker"  # lazy: no engine call yet
    with pytest.raises(InvalidArgument, match="unknown backend 'k8s'; allowed: docker, sim"):
        make_backend("k8s")
    fake = FakeBackend()
    backends = Backends({"docker": fake})
    assert backends.get("docker") is fake and backends.get("sim") is backends.get("sim")
    assert backends.choose("sim") == ("sim", "asked for")
    assert backends.choose("") == ("docker", "a Docker engine answers")  # a pinned docker
    with pytest.raises(InvalidArgument, match="unknown backend"):
        backends.choose("k8s")
    backends.close()


def test_without_a_docker_engine_the_default_is_sim(monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.image import engine
    from orchestrator.lab.backends import Backends

    monkeypatch.setattr(engine, "docker_answers", lambda timeout=10.0: False)
    backend, why = Backends().choose("")
    assert backend == "sim" and "no Docker engine answers" in why


def test_a_forwarding_linux_node_is_created_with_ip_forward_on_and_rp_filter_off() -> None:
    plan = make_plan(load("linux-router"), FakeBackend(), "img:1")
    sysctls = {s.node: dict(s.sysctls) for s in plan.nodes}
    assert sysctls["lxr"] == {
        "net.ipv6.conf.all.disable_ipv6": "1",
        "net.ipv6.conf.default.disable_ipv6": "1",
        "net.ipv4.ip_forward": "1",
        # effective rp_filter = max(all, device); devices inherit the host's value
        "net.ipv4.conf.all.rp_filter": "0",
        "net.ipv4.conf.default.rp_filter": "0",
        "net.ipv4.conf.eth0.rp_filter": "0",
        "net.ipv4.conf.eth1.rp_filter": "0",
        "net.ipv4.conf.eth2.rp_filter": "0",
    }
    for node in ("lx1", "lx2", "h1"):  # hosts keep the kernel from forwarding
        assert sysctls[node]["net.ipv4.ip_forward"] == "0"
        assert not any("rp_filter" in key for key in sysctls[node])


def test_the_forward_option_is_part_of_the_topology_hash() -> None:
    text = Path(topology.example_path("linux-router")).read_text()
    on = topology.load_text(text)
    off = topology.load_text(text.replace("forward: true", "forward: false"))
    assert L.topology_hash(on) != L.topology_hash(off)


def test_a_subnet_clash_names_the_other_lab_and_the_way_out() -> None:
    text = (
        "name: mine\nnodes: {a: {kind: host}, b: {kind: host}}\n"
        "links: [{endpoints: [a:eth0, b:eth0]}]\n"
    )
    lab = topology.load_text(text)
    subnet = str(lab.segments[0].subnet)
    own = {"Name": "wl.mine.x", "Labels": {L.LAB: "mine"},
           "IPAM": {"Config": [{"Subnet": subnet}]}}  # fmt: skip
    other = {"Name": "wl.theirs.y", "Labels": {L.LAB: "theirs"},
             "IPAM": {"Config": [{"Subnet": str(lab.pool)}]}}  # fmt: skip
    plain = {"Name": "bridge", "Labels": None, "IPAM": {"Config": [{"Subnet": "172.17.0.0/16"}]}}
    odd = {"Name": "weird", "IPAM": {"Config": [{"Gateway": "1.2.3.4"}]}}
    assert subnet_clash(lab, [own, plain, odd]) is None  # its own networks never clash
    why = subnet_clash(lab, [own, other])
    assert why is not None and lab.pool == default_pool("mine")
    assert "network wl.theirs.y of lab theirs" in why and "derived from its name" in why
    assert "destroy lab theirs" in why
