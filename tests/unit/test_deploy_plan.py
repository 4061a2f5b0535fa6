"""The deploy plan (networks, node specs, labels, mounts, names), the topology hash and the
Docker backend's pure helpers: where each backend's agents listen (docker: Unix sockets in
mounted host directories, no management network; sim: 127.0.0.1; a backend on TCP: a
management network), the subnet clash check."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import pytest

import topology
from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import Mount
from orchestrator.lab.backends.docker import DockerBackend, subnet_clash
from orchestrator.lab.backends.fake import FAKE_RUN_DIR, MANAGEMENT_SUBNET, FakeBackend
from orchestrator.lab.backends.sim import SimBackend
from orchestrator.lab.plan import AGENT_PYTHON, make_plan
from topology import Lab, NodeKind
from topology.plan import default_pool


def load(name: str) -> Lab:
    return topology.load_file(topology.example_path(name))


def docker_backend(run_dir: Path) -> DockerBackend:
    return DockerBackend(client=object(), run_dir=run_dir)  # planning makes no engine call


def test_docker_plans_no_management_network_only_the_topologys_networks(tmp_path: Path) -> None:
    lab = load("mixed-linux")
    plan = make_plan(lab, docker_backend(tmp_path), "img:1")
    assert [(n.name, n.link, str(n.subnet), str(n.gateway)) for n in plan.networks] == [
        ("wl.mixed-linux.h1-r1", "h1-r1", "10.134.1.0/24", "10.134.1.1"),
        ("wl.mixed-linux.lx1-r1", "lx1-r1", "10.134.2.0/24", "10.134.2.1"),
        ("wl.mixed-linux.r1-lx2", "r1-lx2", "10.200.0.0/24", "10.200.0.1"),
    ]
    assert not any(n.management for n in plan.networks)
    assert all(n.labels[L.KIND] == L.KIND_DATA for n in plan.networks)
    assert all(s.management is None for s in plan.nodes)  # on their data networks only
    assert not list(tmp_path.iterdir())  # planning makes no directory


def test_docker_agents_listen_on_a_unix_socket_in_a_mounted_host_directory(
    tmp_path: Path,
) -> None:
    lab = load("mixed-linux")
    plan = make_plan(lab, docker_backend(tmp_path), "img:1")
    specs = {s.node: s for s in plan.nodes}
    r1 = specs["r1"]
    assert r1.mounts == (Mount(str(tmp_path / "mixed-linux" / "r1"), "/run/wirelab"),)
    assert r1.command == (
        AGENT_PYTHON, "-m", "nodes.agent.launch", "--listen", "unix:///run/wirelab/agent.sock",
        "--name", "r1", "--kind", "router",
    )  # fmt: skip
    # the label: the same socket as the host dials it (destroy and a re-attaching server)
    assert r1.labels[L.AGENT] == f"unix://{tmp_path}/mixed-linux/r1/agent.sock"
    assert specs["h1"].labels[L.AGENT] == f"unix://{tmp_path}/mixed-linux/h1/agent.sock"
    assert [(a.network, a.iface, str(a.address)) for a in r1.attachments] == [
        ("wl.mixed-linux.h1-r1", "eth0", "10.134.1.3"),
        ("wl.mixed-linux.lx1-r1", "eth1", "10.134.2.3"),
        ("wl.mixed-linux.r1-lx2", "eth2", "10.200.0.2"),
    ]
    assert r1.labels[L.INTERFACES] == "eth0=h1-r1,eth1=lx1-r1,eth2=r1-lx2"
    assert r1.image == "img:1" and r1.name == "wl.mixed-linux.r1"


def test_linux_nodes_idle_without_an_agent_socket_or_mount(tmp_path: Path) -> None:
    for backend in (docker_backend(tmp_path), FakeBackend(), FakeBackend(agent_sockets=False)):
        plan = make_plan(load("mixed-linux"), backend, "img:1")
        lx2 = next(s for s in plan.nodes if s.node == "lx2")
        assert lx2.kind is NodeKind.LINUX and not lx2.runs_agent
        assert lx2.management is None and lx2.mounts == () and L.AGENT not in lx2.labels
        assert "sleep" in lx2.command[-1]


def test_a_too_long_socket_path_is_refused_with_the_way_out(tmp_path: Path) -> None:
    from orchestrator.lab.backends.base import BackendError

    deep = tmp_path / ("d" * 80)
    with pytest.raises(BackendError, match=r"longer than 107 bytes.*WIRELAB_RUN_DIR"):
        make_plan(load("mixed-linux"), docker_backend(deep), "img:1")


def test_the_fake_backend_plans_like_docker() -> None:
    plan = make_plan(load("quickstart"), FakeBackend(), "img:1")
    assert [n.link for n in plan.networks] == ["h1-r1", "r1-h2"]
    h1 = next(s for s in plan.nodes if s.node == "h1")
    assert h1.mounts == (Mount(f"{FAKE_RUN_DIR}/quickstart/h1", "/run/wirelab"),)
    assert h1.labels[L.AGENT] == f"unix://{FAKE_RUN_DIR}/quickstart/h1/agent.sock"


def test_sim_agents_listen_on_tcp_without_network_or_mount() -> None:
    plan = make_plan(load("quickstart"), SimBackend(), "")
    assert [n.link for n in plan.networks] == ["h1-r1", "r1-h2"]
    for spec in plan.nodes:
        assert spec.management is None and spec.mounts == () and L.AGENT not in spec.labels
        assert spec.command[spec.command.index("--listen") + 1] == "0.0.0.0:50051"


# ---- a backend whose agents listen on TCP on a management network (the plan's other way) --


def test_agents_on_tcp_get_a_management_network_listed_first() -> None:
    lab = load("mixed-linux")
    plan = make_plan(lab, FakeBackend(agent_sockets=False), "img:1")
    mgmt, *data = plan.networks
    assert mgmt.management and mgmt.name == "wl.mixed-linux._mgmt"
    assert mgmt.subnet == MANAGEMENT_SUBNET and mgmt.gateway == IPv4Address("172.30.250.1")
    assert mgmt.labels[L.KIND] == L.KIND_MANAGEMENT and mgmt.labels[L.LINK] == ""
    assert [n.link for n in data] == ["h1-r1", "lx1-r1", "r1-lx2"]
    assert all(n.labels[L.KIND] == L.KIND_DATA for n in data)


def test_agents_on_tcp_listen_on_their_management_address() -> None:
    lab = load("mixed-linux")
    plan = make_plan(lab, FakeBackend(agent_sockets=False), "img:1")
    specs = {s.node: s for s in plan.nodes}
    h1, r1 = specs["h1"], specs["r1"]
    assert h1.management is not None and h1.management.address == IPv4Address("172.30.250.2")
    assert r1.management is not None and r1.management.address == IPv4Address("172.30.250.3")
    assert r1.command == (
        AGENT_PYTHON, "-m", "nodes.agent.launch", "--listen", "172.30.250.3:50051",
        "--name", "r1", "--kind", "router",
    )  # fmt: skip
    assert r1.labels[L.AGENT] == "172.30.250.3:50051" and r1.mounts == ()


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
