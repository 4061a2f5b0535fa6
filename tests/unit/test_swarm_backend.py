"""SwarmBackend against recording fake engines (one per swarm node): placement, the
overlay networks it asks for (attachable, internal, MTU option = planned + VXLAN, the
swarm's own addresses kept off planned ones), nodes created on their placed engine with
the overlay's names, MACs and MTUs adapted, removal waits and refusals. The real thing runs
in tests/swarm (make swarm-test)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import docker.errors
import pytest

from orchestrator.lab.backends import swarm as sw
from orchestrator.lab.backends.base import BackendError
from orchestrator.lab.backends.swarm import (
    HOST_LABEL,
    SwarmBackend,
    SwarmNode,
    adapt_lab,
    docker_mac,
    host_range,
    matches,
    overlay_name,
    place,
)
from orchestrator.lab.plan import make_plan
from topology.loader import load_text

TOPOLOGY = """
name: sw
pool: 10.213.0.0/16
nodes:
  h1: {kind: host, placement: d1}
  r1: {kind: router, placement: "node.labels.zone==b"}
  h2: {kind: host}
  h3: {kind: host}
links:
  - endpoints: [h1:eth0, r1:eth0]
  - endpoints: [r1:eth1, h2:eth0]
  - endpoints: [r1:eth2, h3:eth0]
"""


class Engine:
    """A recording Docker API of one daemon."""

    def __init__(self, name: str, nodes: list[dict[str, Any]] | None = None) -> None:
        self.name = name
        self.nodes_listed = nodes or []
        self.calls: list[tuple[str, Any]] = []
        self.containers_made: dict[str, dict[str, Any]] = {}
        self.networks_made: dict[str, dict[str, Any]] = {}
        self.images = {"wirelab-node:latest"}
        self.swarm = {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": "n1"}
        self.in_use = 0  # remove_network refusals "in use by task"
        self.listed_after_remove = 0  # networks() still lists a removed network this often

    # swarm
    def info(self) -> dict[str, Any]:
        return {"Swarm": self.swarm}

    def nodes(self) -> list[dict[str, Any]]:
        return self.nodes_listed

    def networks(self, names: list[str] | None = None, filters: Any = None) -> list[Any]:
        if names:
            if self.listed_after_remove > 0:
                self.listed_after_remove -= 1
                return [{"Name": n} for n in names]
            return [{"Name": n} for n in names if n in self.networks_made]
        return []

    def inspect_image(self, tag: str) -> dict[str, Any]:
        if tag not in self.images:
            raise docker.errors.ImageNotFound(tag)
        return {}

    # objects
    def create_network(self, name: str, **kwargs: Any) -> None:
        self.calls.append(("create_network", name))
        self.networks_made[name] = kwargs

    def remove_network(self, name: str) -> None:
        self.calls.append(("remove_network", name))
        if self.in_use > 0:
            self.in_use -= 1
            raise docker.errors.APIError(f"network {name} is in use by task abc")
        self.networks_made.pop(name, None)

    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    def create_endpoint_config(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    def create_networking_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return config

    def create_container(self, image: str, **kwargs: Any) -> None:
        self.calls.append(("create_container", kwargs["name"]))
        self.containers_made[kwargs["name"]] = {**kwargs, "connected": []}

    def connect_container_to_network(self, name: str, network: str, **kwargs: Any) -> None:
        self.containers_made[name]["connected"].append((network, kwargs["ipv4_address"]))

    def inspect_container(self, name: str) -> dict[str, Any]:
        if name not in self.containers_made:
            raise docker.errors.NotFound(name)
        return {"Config": {"Labels": self.containers_made[name]["labels"]}}


def swarm_node(nid: str, host: str, engine: str, labels: dict[str, str] | None = None,
               state: str = "ready") -> dict[str, Any]:  # fmt: skip
    all_labels = dict(labels or {})
    if engine:
        all_labels[sw.ENGINE_LABEL] = engine
    return {
        "ID": nid,
        "Spec": {"Labels": all_labels, "Availability": "active"},
        "Status": {"State": state},
        "Description": {"Hostname": host},
    }


@pytest.fixture
def engines() -> dict[str, Engine]:
    listed = [
        swarm_node("n1", "d1", "", {"zone": "a"}),  # the manager: no label needed
        swarm_node("n2", "d2", "unix:///d2.sock", {"zone": "b"}),
        swarm_node("n3", "d3", "unix:///d3.sock", {"zone": "c"}),
    ]
    return {
        "unix:///d1.sock": Engine("d1", listed),
        "unix:///d2.sock": Engine("d2"),
        "unix:///d3.sock": Engine("d3"),
    }


@pytest.fixture
def backend(engines: dict[str, Engine], tmp_path: Any) -> SwarmBackend:
    return SwarmBackend(
        manager="unix:///d1.sock",
        client_factory=engines.__getitem__,
        lock_dir=tmp_path,
        run_dir=tmp_path / "run",
    )


def nodes3() -> list[SwarmNode]:
    return [
        SwarmNode("d1", {"zone": "a"}, "e1", True),
        SwarmNode("d2", {"zone": "b"}, "e2", True),
        SwarmNode("d3", {"zone": "c"}, "e3", True),
    ]


def test_placement_pins_first_then_spreads_over_the_least_loaded() -> None:
    lab = load_text(TOPOLOGY)
    assert place(lab, nodes3()) == {"h1": "d1", "r1": "d2", "h2": "d3", "h3": "d1"}


def test_placement_forms_and_refusals() -> None:
    node = SwarmNode("d2", {"zone": "b"}, "e2", True)
    assert matches(node, "d2") and matches(node, "node.hostname==d2")
    assert matches(node, "node.labels.zone == b") and not matches(node, "node.labels.zone==a")
    with pytest.raises(BackendError, match=r"node\.labels\.KEY==VALUE"):
        matches(node, "node.role==manager")
    lab = load_text(TOPOLOGY.replace("placement: d1", "placement: d9"))
    with pytest.raises(BackendError, match="h1: no ready swarm node matches placement 'd9'"):
        place(lab, nodes3())
    down = [SwarmNode("d1", {}, "e1", False), SwarmNode("d2", {}, "", True)]
    with pytest.raises(BackendError, match="no ready node"):
        place(lab, down)


def test_the_swarms_own_addresses_come_from_the_top_block_without_planned_ones() -> None:
    subnet = IPv4Network("10.0.1.0/24")
    used = [IPv4Address("10.0.1.2"), IPv4Address("10.0.1.3")]
    assert host_range(subnet, used, 3) == IPv4Network("10.0.1.128/25")
    used.append(IPv4Address("10.0.1.200"))
    assert host_range(subnet, used, 3) == IPv4Network("10.0.1.224/27")
    with pytest.raises(BackendError, match="no free block"):
        host_range(IPv4Network("10.0.1.0/30"), [IPv4Address("10.0.1.1")], 3)


def test_the_lab_is_adapted_to_the_overlay_mtu_and_macs() -> None:
    lab = load_text(TOPOLOGY)
    adapted, notes = adapt_lab(lab, 1450)
    for node in adapted.nodes:
        for iface in node.interfaces:
            assert iface.mac == docker_mac(iface.address) == b"\x02\x42" + iface.address.packed
            assert iface.mtu == 1450
    assert {s.mtu for s in adapted.segments} == {1450}
    assert "planned at 1450" in notes[0]
    small = load_text(TOPOLOGY.replace("pool:", "defaults: {mtu: 1400}\npool:"))
    kept, notes = adapt_lab(small, 1450)
    assert {i.mtu for n in kept.nodes for i in n.interfaces} == {1400}
    assert not any("planned at" in n for n in notes)


def test_overlay_names_are_dns_components() -> None:
    assert overlay_name("wl.lab.h1-r1") == "wl_lab_h1-r1"
    with pytest.raises(BackendError, match="63"):
        overlay_name("wl." + "x" * 70)


def deploy_objects(backend: SwarmBackend) -> Any:
    lab = load_text(TOPOLOGY)
    backend.check(lab)
    lab, _ = backend.adapt_lab(lab)
    plan = make_plan(lab, backend, backend.image())
    for net in plan.networks:
        backend.create_network(net)
    for spec in plan.nodes:
        backend.create_node(spec)
    return plan


def test_links_are_attachable_internal_overlays_sized_for_vxlan(
    backend: SwarmBackend, engines: dict[str, Engine]
) -> None:
    deploy_objects(backend)
    manager = engines["unix:///d1.sock"]
    assert set(manager.networks_made) == {"wl_sw_h1-r1", "wl_sw_r1-h2", "wl_sw_r1-h3"}
    for args in manager.networks_made.values():
        assert args["driver"] == "overlay" and args["attachable"] and args["internal"]
        assert args["options"] == {"com.docker.network.driver.mtu": "1500"}  # 1450 + 50
        pool = args["ipam"]["Config"][0]
        top_half = list(IPv4Network(pool["Subnet"]).subnets(1))[-1]  # nodes at .2 and .3
        assert pool["IPRange"] == str(top_half)
        assert args["labels"]["wirelab.lab"] == "sw"
    assert not engines["unix:///d2.sock"].networks_made  # networks live on the manager


def test_nodes_are_created_on_their_engines_with_the_overlay_names(
    backend: SwarmBackend, engines: dict[str, Engine]
) -> None:
    deploy_objects(backend)
    made = {e.name: sorted(e.containers_made) for e in engines.values()}
    assert made == {"d1": ["wl.sw.h1", "wl.sw.h3"], "d2": ["wl.sw.r1"], "d3": ["wl.sw.h2"]}
    r1 = engines["unix:///d2.sock"].containers_made["wl.sw.r1"]
    assert r1["labels"][HOST_LABEL] == "d2"
    assert r1["host_config"]["network_mode"] == "wl_sw_h1-r1"
    assert [n for n, _ in r1["connected"]] == ["wl_sw_r1-h2", "wl_sw_r1-h3"]
    assert backend.node_api("sw", "r1") is engines["unix:///d2.sock"]


def test_encrypted_overlays_leave_room_for_esp(engines: dict[str, Engine], tmp_path: Any) -> None:
    backend = SwarmBackend(manager="unix:///d1.sock", client_factory=engines.__getitem__,
                           encrypted=True, lock_dir=tmp_path, run_dir=tmp_path)  # fmt: skip
    assert backend.overlay_mtu == 1500 - 50 - 26
    deploy_objects(backend)
    args = next(iter(engines["unix:///d1.sock"].networks_made.values()))
    assert args["options"] == {"com.docker.network.driver.mtu": "1500", "encrypted": "true"}


def test_check_refuses_an_engine_that_is_no_manager(
    backend: SwarmBackend, engines: dict[str, Engine]
) -> None:
    engines["unix:///d1.sock"].swarm = {"LocalNodeState": "active", "ControlAvailable": False}
    with pytest.raises(BackendError, match="not a swarm manager"):
        backend.check(load_text(TOPOLOGY))


def test_an_image_missing_on_a_node_is_named(
    backend: SwarmBackend, engines: dict[str, Engine]
) -> None:
    engines["unix:///d3.sock"].images = set()
    with pytest.raises(BackendError, match="missing on d3"):
        backend.image()


def test_a_network_in_use_by_a_lingering_task_is_waited_for(
    backend: SwarmBackend, engines: dict[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("orchestrator.lab.backends.swarm.time.sleep", lambda s: None)
    manager = engines["unix:///d1.sock"]
    manager.in_use, manager.listed_after_remove = 2, 2
    backend.remove_network("sw", "wl_sw_h1-r1")
    assert manager.calls.count(("remove_network", "wl_sw_h1-r1")) == 3
    assert manager.listed_after_remove == 0
    monkeypatch.setattr(sw, "TASK_WAIT", -1.0)
    manager.in_use = 5
    with pytest.raises(BackendError, match="in use by task"):
        backend.remove_network("sw", "wl_sw_h1-r1")


def test_the_registry_compares_a_redeploy_as_the_backend_runs_it(
    backend: SwarmBackend,
) -> None:
    from orchestrator.lab.backends import Backends
    from orchestrator.lab.labels import topology_hash
    from orchestrator.service.registry import LabRegistry

    registry = LabRegistry(Backends({"swarm": backend}))
    lab = load_text(TOPOLOGY)
    as_run = registry._as_run(lab, "swarm")
    assert topology_hash(as_run) == topology_hash(backend.adapt_lab(lab)[0])
    assert topology_hash(as_run) != topology_hash(lab)  # MACs and MTUs differ on swarm


def test_a_users_image_must_be_on_the_engine_its_node_is_placed_on(
    backend: SwarmBackend, engines: dict[str, Engine]
) -> None:
    text = TOPOLOGY.replace(
        "  h3: {kind: host}",
        "  h3: {kind: host}\n  web: {kind: linux, image: myweb:1.0, placement: d3}",
    ).replace("links:", "links:\n  - endpoints: [h3:eth1, web:eth0]")
    engines["unix:///d2.sock"].images.add("myweb:1.0")  # on d2, not on d3 where web runs
    with pytest.raises(BackendError, match=r"myweb:1\.0 \(node web\) is not in d3's engine"):
        backend.check(load_text(text))
    engines["unix:///d3.sock"].images.add("myweb:1.0")
    backend.check(load_text(text))


def test_swarmlab_says_why_it_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shutil

    from orchestrator.lab import swarmlab

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert swarmlab.unavailable() == "the swarm lab needs root (namespaces, dockerd)"
    with pytest.raises(swarmlab.SwarmLabError, match="needs root"):
        swarmlab.SwarmLab().up()  # before it takes the lock or touches anything
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda t: None if t == "dockerd" else "/bin/x")
    assert swarmlab.unavailable() == "the swarm lab needs dockerd (not found on PATH)"
    monkeypatch.setattr(shutil, "which", lambda t: "/bin/x")
    assert swarmlab.unavailable() == ""
