"""The orchestrator on Docker: deploy the examples, ping through our router, linux peers,
destroy by label, rollback after a failure mid-deploy. Each lab gets a name unique to this
run, and every test removes its lab in a finalizer (also when it fails)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

import topology
from orchestrator.domain import requests
from orchestrator.domain.lab import DeployProgress
from orchestrator.domain.results import PingReport
from orchestrator.image.build import BuildResult
from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import NodeSpec
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.deploy import deploy
from orchestrator.lab.inspect import inspect
from orchestrator.lab.progress import DeployError
from orchestrator.lab.remove import destroy
from orchestrator.lab.session import LabSession
from topology import Lab

pytestmark = pytest.mark.docker

RUN = uuid.uuid4().hex[:6]
RPC = 15.0


@pytest.fixture
def lab_from(renamed_lab: Callable[[str | Path, str], Lab]) -> Callable[[str, str], Lab]:
    """``lab_from(example, suffix)``: an example under a name of this run's own."""

    def load(example: str, suffix: str) -> Lab:
        return renamed_lab(topology.example_path(example), f"t{RUN}-{suffix}")

    return load


@pytest.fixture
def backend(node_image: BuildResult) -> Iterator[DockerBackend]:
    made = DockerBackend(image=node_image.tag)
    yield made
    for name in made.lab_names():  # anything a failed test left behind (this run's only)
        if name.startswith(f"t{RUN}-"):
            destroy(name, DockerBackend(image=node_image.tag))


@pytest.fixture
def deployed(backend: DockerBackend) -> Iterator[Callable[[Lab], LabSession]]:
    sessions: list[LabSession] = []

    def make(lab: Lab) -> LabSession:
        session = LabSession(deploy(lab, backend))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close(destroy=False)
        destroy(session.name, backend)


def ping(session: LabSession, src: str, dst: str, count: int = 3) -> PingReport:
    request = requests.ping(dst, count=count, interval="50ms", wait="2s")
    return session.agent(src).ping(request, timeout=RPC)


def test_quickstart_pings_through_our_router_and_is_destroyed_by_label(
    backend: DockerBackend,
    node_image: BuildResult,
    lab_from: Callable[[str, str], Lab],
    leftovers: Callable[[str], list[str]],
) -> None:
    lab = lab_from("quickstart", "qs")
    events: list[DeployProgress] = []
    started = time.monotonic()
    session: LabSession | None = None
    try:
        deployed = deploy(lab, backend, progress=events.append)
        session = LabSession(deployed)
        deploy_s = time.monotonic() - started
        assert deploy_s < 20, f"deploy took {deploy_s:.1f} s"
        assert {e.step for e in events} >= {"network", "create", "start", "agent", "ready"}

        reply = ping(session, "h1", session.address("h2"))
        assert reply.received == 3, reply
        assert reply.results[0].ttl == 63  # one router on the way
        assert ping(session, "h2", session.address("r1", "eth0")).received == 3

        info = inspect(lab.name, DockerBackend(image=node_image.tag))
        assert info.running and {n.name for n in info.nodes} == {"h1", "r1", "h2"}
        r1 = next(n for n in info.nodes if n.name == "r1")
        assert [(i.name, i.address) for i in r1.interfaces] == [
            ("eth0", session.address("r1", "eth0")),
            ("eth1", session.address("r1", "eth1")),
        ]
        assert r1.management == deployed.agents["r1"]

        client = docker.APIClient()
        try:
            host = client.inspect_container(L.container_name(lab.name, "r1"))["HostConfig"]
        finally:
            client.close()
        assert host["Privileged"] is False
        assert host["CapDrop"] == ["ALL"] and sorted(host["CapAdd"]) == ["NET_ADMIN", "NET_RAW"]
        assert host["Sysctls"]["net.ipv4.ip_forward"] == "0"

        again = time.monotonic()
        assert deploy(lab, backend).agents == deployed.agents
        assert time.monotonic() - again < 2.0
    finally:
        if session is not None:
            session.close(destroy=False)
        destroy(lab.name, DockerBackend(image=node_image.tag))  # labels only
    assert leftovers(lab.name) == []


def test_linux_peers_ping_our_host_through_our_router(
    deployed: Callable[[Lab], LabSession], lab_from: Callable[[str, str], Lab]
) -> None:
    lab = lab_from("mixed-linux", "mx")
    session = deployed(lab)
    h1 = session.address("h1")

    out = session.exec("lx1", ["ping", "-c", "3", "-i", "0.2", "-W", "2", h1], timeout=20)
    assert out.exit_code == 0, out.output
    assert "3 received" in out.output

    assert ping(session, "h1", session.address("lx1")).received == 3
    assert ping(session, "h1", session.address("lx2")).received == 3  # the explicit-MAC peer

    link = session.exec("lx2", ["ip", "-o", "link", "show"], timeout=10).output
    assert "02:00:00:00:02:10" in link  # the planned MAC, not Docker's
    routes = session.exec("lx1", ["ip", "-4", "route", "show", "default"], timeout=10).output
    assert routes.split() == ["default", "via", session.address("r1", "eth1"), "dev", "eth0"]
    offload = session.exec("lx1", ["ethtool", "-k", "eth0"], timeout=10).output
    assert "tcp-segmentation-offload: off" in offload


class FailingBackend(DockerBackend):
    """Docker, but one node dies at once (its agent never answers) and prints why."""

    def create_node(self, spec: NodeSpec) -> None:
        if spec.node == "h2":
            command = ("/bin/sh", "-c", "echo 'agent: cannot start (simulated)' >&2; exit 3")
            spec = dataclasses.replace(spec, command=command)
        super().create_node(spec)


def test_a_lab_whose_subnets_overlap_another_labs_is_refused_before_anything_is_made(
    lab_from: Callable[[str, str], Lab],
    backend: DockerBackend,
    deployed: Callable[[Lab], LabSession],
    leftovers: Callable[[str], list[str]],
) -> None:
    first = lab_from("quickstart", "pool1")
    deployed(first)
    text = Path(topology.example_path("quickstart")).read_text()
    second = topology.load_text(
        text.replace("name: quickstart", f"name: t{RUN}-pool2\npool: {first.pool}", 1)
    )
    with pytest.raises(DeployError) as err:
        deploy(second, backend)
    message = str(err.value)
    assert f"lab {first.name}" in message and "overlaps" in message, message
    assert "set `pool:`" in message and f"destroy lab {first.name}" in message
    assert leftovers(second.name) == []


def test_a_failure_mid_deploy_leaves_nothing_behind(
    node_image: BuildResult,
    lab_from: Callable[[str, str], Lab],
    leftovers: Callable[[str], list[str]],
) -> None:
    lab = lab_from("quickstart", "fail")
    backend = FailingBackend(image=node_image.tag)
    try:
        with pytest.raises(DeployError) as err:
            deploy(lab, backend)
        text = str(err.value)
        assert f"lab {lab.name}: agent h2" in text and "exited" in text, text
        assert "agent: cannot start (simulated)" in text
        assert leftovers(lab.name) == []
    finally:
        destroy(lab.name, DockerBackend(image=node_image.tag))
