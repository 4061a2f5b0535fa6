"""Node agents on Unix sockets (issue 11 item 4): a deployed lab has no management network,
its containers are on their data networks only, each with its agent's host directory
mounted and nothing beyond NET_RAW + NET_ADMIN; the agents answer over their sockets; a
restarted container's agent comes back on the same socket (also after a SIGKILL left the
old one behind); destroy leaves neither objects nor directories."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

import topology
from orchestrator.domain import requests
from orchestrator.image.build import BuildResult
from orchestrator.lab import labels as L
from orchestrator.lab.backends import agentdirs
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.deploy import deploy
from orchestrator.lab.remove import destroy
from orchestrator.lab.session import LabSession
from orchestrator.wire.agent import AgentPool, Health
from topology import Lab

pytestmark = pytest.mark.docker

RPC = 15.0


@pytest.fixture(scope="module")
def api() -> Iterator[docker.APIClient]:
    client = docker.APIClient()
    yield client
    client.close()


@pytest.fixture
def lab(renamed_lab: Callable[[str | Path, str], Lab]) -> Lab:
    return renamed_lab(topology.example_path("mixed-linux"), f"t{uuid.uuid4().hex[:6]}-sock")


def socket_of(address: str) -> Path:
    path = agentdirs.socket_path(address)
    assert path is not None, address
    return path


def containers(api: docker.APIClient, lab: str) -> dict[str, dict[str, Any]]:
    """The lab's containers, inspected, by node."""
    found = api.containers(all=True, filters={"label": f"{L.LAB}={lab}"})
    inspected = [api.inspect_container(c["Id"]) for c in found]
    return {c["Config"]["Labels"][L.NODE]: c for c in inspected}


def test_agents_answer_on_their_sockets_with_no_management_network(
    node_image: BuildResult,
    lab: Lab,
    api: docker.APIClient,
    leftovers: Callable[[str], list[str]],
) -> None:
    backend = DockerBackend(image=node_image.tag)
    lab_dir = backend.run_dir / lab.name
    session: LabSession | None = None
    try:
        deployed = deploy(lab, backend)
        session = LabSession(deployed)
        # the lab's networks are its links and nothing else
        networks = api.networks(filters={"label": f"{L.LAB}={lab.name}"})
        data = {L.network_name(lab.name, s.name) for s in lab.segments}
        assert {n["Name"] for n in networks} == data
        assert {n["Labels"][L.KIND] for n in networks} == {L.KIND_DATA}
        assert not any(n["Name"] == L.management_network_name(lab.name) for n in networks)

        found = containers(api, lab.name)
        assert set(found) == {n.name for n in lab.nodes}
        for node in lab.nodes:
            info = found[node.name]
            attached = set(info["NetworkSettings"]["Networks"])
            assert attached == {L.network_name(lab.name, i.segment) for i in node.interfaces}
            host = info["HostConfig"]
            assert host["Privileged"] is False and host["CapDrop"] == ["ALL"]
            assert sorted(host["CapAdd"]) == ["NET_ADMIN", "NET_RAW"]
            mounts = [(m["Type"], m["Source"], m["Destination"]) for m in info["Mounts"]]
            if node.kind.value == "linux":
                assert mounts == [] and L.AGENT not in info["Config"]["Labels"]
                continue
            assert mounts == [("bind", str(lab_dir / node.name), "/run/wirelab")]
            address = info["Config"]["Labels"][L.AGENT]
            assert (
                address == deployed.agents[node.name] == f"unix://{lab_dir}/{node.name}/agent.sock"
            )
            assert stat.S_ISSOCK(socket_of(address).stat().st_mode)

        pool = AgentPool()  # a client of its own, over the sockets
        try:
            for name, address in deployed.agents.items():
                assert pool.health(address, timeout=RPC) is Health.SERVING, name
        finally:
            pool.close()
        ping = requests.ping(session.address("lx2"), count=3, interval="50ms", wait="2s")
        assert session.agent("h1").ping(ping, timeout=RPC).received == 3
    finally:
        if session is not None:
            session.close(destroy=False)
        destroy(lab.name, DockerBackend(image=node_image.tag))  # labels only
    assert leftovers(lab.name) == []
    assert not lab_dir.exists()  # every node's directory and the lab's


def test_a_restarted_or_killed_node_comes_back_on_the_same_socket(
    deployed_lab: Callable[[Lab], Any], lab: Lab
) -> None:
    with deployed_lab(lab) as session:
        address = session.backend.agent_address(lab.name, "h1")
        path = socket_of(address)
        made = path.stat().st_mtime_ns  # (inode numbers are reused at once: not a witness)

        session.node_action("h1", "restart")
        assert session.backend.agent_address(lab.name, "h1") == address
        assert stat.S_ISSOCK(path.stat().st_mode) and path.stat().st_mtime_ns > made
        assert session.agent("h1").status().uptime_s < 30  # a new agent, configured again
        ping = requests.ping(session.address("lx2"), count=3, interval="50ms", wait="2s")
        assert session.agent("h1").ping(ping, timeout=RPC).received == 3

        # SIGKILL: the agent cannot remove its socket; the next one replaces it
        made = path.stat().st_mtime_ns
        session.node_action("h1", "kill")
        assert path.stat().st_mtime_ns == made  # still there, nobody listening
        session.node_action("h1", "start")
        assert path.stat().st_mtime_ns > made
        assert session.agent("h1").ping(ping, timeout=RPC).received == 3
        assert session.agent("r1").status().ready
