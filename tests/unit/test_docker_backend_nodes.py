"""DockerBackend.create_node / remove_node / remove_lab_files against a recording Docker API:
a node agent's container gets its socket directory bind-mounted (made fresh on the host),
NET_RAW + NET_ADMIN and nothing more, its data networks only; removal takes the container,
then its directory; destroy's last step takes the lab's directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker.errors
import docker.types
import pytest

import topology
from orchestrator.lab import labels as L
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.plan import make_plan


class RecordingApi:
    """The docker.APIClient calls create_node and remove_node make."""

    def __init__(self) -> None:
        self.containers: dict[str, dict[str, Any]] = {}
        self.connected: list[tuple[str, str]] = []

    def create_host_config(self, **kwargs: Any) -> dict[str, Any]:
        return dict(docker.types.HostConfig(version="1.41", **kwargs))

    def create_endpoint_config(self, **kwargs: Any) -> dict[str, Any]:
        return dict(docker.types.EndpointConfig("1.41", **kwargs))

    def create_networking_config(self, endpoints: dict[str, Any]) -> dict[str, Any]:
        return {"EndpointsConfig": endpoints}

    def create_container(self, image: str, **kwargs: Any) -> dict[str, str]:
        self.containers[kwargs["name"]] = {"Image": image, **kwargs}
        return {"Id": kwargs["name"]}

    def connect_container_to_network(self, name: str, network: str, **_: Any) -> None:
        self.connected.append((name, network))

    def inspect_container(self, name: str) -> dict[str, Any]:
        if name not in self.containers:
            raise docker.errors.NotFound(f"no container {name}")
        return {"Config": {"Labels": self.containers[name]["labels"]}}

    def remove_container(self, name: str, **_: Any) -> None:
        if self.containers.pop(name, None) is None:
            raise docker.errors.NotFound(f"no container {name}")


class Client:
    def __init__(self, api: RecordingApi) -> None:
        self.api = api


@pytest.fixture
def lab() -> topology.Lab:
    return topology.load_file(topology.example_path("mixed-linux"))


def test_an_agent_node_is_created_with_its_socket_directory_and_no_other_network(
    tmp_path: Path, lab: topology.Lab
) -> None:
    api = RecordingApi()
    backend = DockerBackend(client=Client(api), run_dir=tmp_path)
    plan = make_plan(lab, backend, "img:1")
    r1 = next(s for s in plan.nodes if s.node == "r1")
    backend.create_node(r1)
    created = api.containers["wl.mixed-linux.r1"]
    host = created["host_config"]
    assert host["Binds"] == [f"{tmp_path}/mixed-linux/r1:/run/wirelab:rw"]
    assert host["CapAdd"] == ["NET_RAW", "NET_ADMIN"] and host["CapDrop"] == ["ALL"]
    assert not host.get("Privileged")
    assert host["NetworkMode"] == "wl.mixed-linux.h1-r1"  # its first data network
    assert list(created["networking_config"]["EndpointsConfig"]) == ["wl.mixed-linux.h1-r1"]
    assert api.connected == [
        ("wl.mixed-linux.r1", "wl.mixed-linux.lx1-r1"),
        ("wl.mixed-linux.r1", "wl.mixed-linux.r1-lx2"),
    ]
    assert created["labels"][L.AGENT] == f"unix://{tmp_path}/mixed-linux/r1/agent.sock"
    assert (tmp_path / "mixed-linux" / "r1").is_dir()


def test_a_linux_node_gets_no_mount(tmp_path: Path, lab: topology.Lab) -> None:
    api = RecordingApi()
    backend = DockerBackend(client=Client(api), run_dir=tmp_path)
    lx1 = next(s for s in make_plan(lab, backend, "img:1").nodes if s.node == "lx1")
    backend.create_node(lx1)
    assert not api.containers["wl.mixed-linux.lx1"]["host_config"].get("Binds")
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_new_node_does_not_find_what_an_old_one_left(tmp_path: Path, lab: topology.Lab) -> None:
    backend = DockerBackend(client=Client(RecordingApi()), run_dir=tmp_path)
    h1 = next(s for s in make_plan(lab, backend, "img:1").nodes if s.node == "h1")
    old = tmp_path / "mixed-linux" / "h1"
    old.mkdir(parents=True)
    (old / "takeover.json").write_text('{"10.134.1.2": {"name": "eth7"}}')
    backend.create_node(h1)
    assert list(old.iterdir()) == []


def test_removal_takes_the_container_then_its_directory_then_the_labs(
    tmp_path: Path, lab: topology.Lab
) -> None:
    api = RecordingApi()
    backend = DockerBackend(client=Client(api), run_dir=tmp_path)
    for spec in make_plan(lab, backend, "img:1").nodes:
        backend.create_node(spec)
    (tmp_path / "mixed-linux" / "h1" / "takeover.json").write_text("{}")  # the agent's state
    backend.remove_node("mixed-linux", "h1")
    assert "wl.mixed-linux.h1" not in api.containers
    assert sorted(p.name for p in (tmp_path / "mixed-linux").iterdir()) == ["r1"]
    backend.remove_node("mixed-linux", "h1")  # gone already: not an error
    for node in ("lx1", "lx2"):
        backend.remove_node("mixed-linux", node)
    (tmp_path / "mixed-linux" / "h9").mkdir()  # a stray: a node removed by hand
    backend.remove_node("mixed-linux", "r1")
    assert (tmp_path / "mixed-linux").exists()
    backend.remove_lab_files("mixed-linux")
    assert list(tmp_path.iterdir()) == [] and api.containers == {}


FRR_LAB = """name: frrcaps
routing: rip
rip: {update: 5s, timeout: 15s, garbage: 10s}
nodes:
  r1: {kind: router}
  r3: {kind: linux, forward: true}
  r5: {kind: linux, forward: true, image: "team/frr:1"}
  lx: {kind: linux}
links:
  - endpoints: [r1, r3]
  - endpoints: [r3, r5]
  - endpoints: [r5, lx]
"""


def test_only_the_nodes_running_frr_get_its_two_capabilities(tmp_path: Path) -> None:
    planned = topology.load_text(FRR_LAB)
    api = RecordingApi()
    backend = DockerBackend(client=Client(api), run_dir=tmp_path)
    for spec in make_plan(planned, backend, "img:1").nodes:
        backend.create_node(spec)
    host = {n: api.containers[f"wl.frrcaps.{n}"]["host_config"] for n in ("r1", "r3", "r5", "lx")}
    frr_caps = ["NET_RAW", "NET_ADMIN", "SYS_ADMIN", "NET_BIND_SERVICE"]
    assert host["r3"]["CapAdd"] == frr_caps and host["r3"]["CapDrop"] == ["ALL"]
    # a user's image keeps Docker's defaults, plus what FRR needs on top of them
    assert host["r5"]["CapAdd"] == frr_caps and not host["r5"].get("CapDrop")
    assert host["r1"]["CapAdd"] == host["lx"]["CapAdd"] == ["NET_RAW", "NET_ADMIN"]
    assert not any(h.get("Privileged") for h in host.values())
