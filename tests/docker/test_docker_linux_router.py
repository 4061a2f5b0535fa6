"""A Linux-kernel router (`kind: linux, forward: true`) on Docker: the example
topology/examples/linux-router.yaml (lx1 -- lxr -- lx2, our host h1 on lxr's third link).

Two-hop pings through the kernel router (Linux host to Linux host, Linux host to our
stack and back) prove that Docker's bridge networks let packets be routed through a
container (DESIGN.md §4: `--internal` networks would drop them); traceroute from a Linux
host lists the router; the router's container was created with ip_forward on and
rp_filter off (its /proc/sys is read-only afterwards); destroy leaves nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import docker
import pytest

import topology
from orchestrator.domain import requests
from orchestrator.image.build import BuildResult
from orchestrator.lab import labels as L
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.lab.remove import destroy
from orchestrator.lab.session import LabSession

pytestmark = pytest.mark.docker

NAME = f"t{uuid.uuid4().hex[:6]}-lxr"


@pytest.fixture(scope="module")
def lab(
    renamed_lab: Callable[[str | Path, str], topology.Lab],
    deployed_lab: Callable[[topology.Lab], AbstractContextManager[LabSession]],
) -> Iterator[LabSession]:
    with deployed_lab(renamed_lab(topology.example_path("linux-router"), NAME)) as session:
        yield session


def run(session: LabSession, node: str, *argv: str, timeout: float = 30.0) -> str:
    result = session.exec(node, list(argv), timeout=timeout)
    assert result.exit_code == 0, f"{node}: {' '.join(argv)}: {result.output}"
    return result.output


def test_the_linux_router_is_created_forwarding(lab: LabSession) -> None:
    client = docker.APIClient()
    try:
        sysctls = {
            node: client.inspect_container(L.container_name(NAME, node))["HostConfig"]["Sysctls"]
            for node in ("lxr", "lx1", "h1")
        }
    finally:
        client.close()
    assert sysctls["lxr"]["net.ipv4.ip_forward"] == "1"
    assert sysctls["lx1"]["net.ipv4.ip_forward"] == "0"
    assert sysctls["h1"]["net.ipv4.ip_forward"] == "0"  # our host: the kernel stays out
    assert run(lab, "lxr", "cat", "/proc/sys/net/ipv4/ip_forward").strip() == "1"
    filters = run(lab, "lxr", "sh", "-c", "grep . /proc/sys/net/ipv4/conf/*/rp_filter")
    values = dict(re.findall(r"conf/([^/]+)/rp_filter:(\d)", filters))
    assert {"all", "eth0", "eth1", "eth2"} <= set(values)
    assert set(values.values()) == {"0"}, filters
    # planned routes only: Docker's default route (to the host's bridge address) is gone
    assert "default" not in run(lab, "lxr", "ip", "-4", "route", "show")


def test_a_linux_host_pings_through_the_linux_router(lab: LabSession) -> None:
    for dst in ("lx2", "h1"):  # a Linux host and our stack, both two hops away
        out = run(lab, "lx1", "ping", "-c", "3", "-i", "0.2", "-W", "2", lab.address(dst))
        assert "3 received" in out, out
        assert "ttl=63" in out, out  # one router on the way


def test_our_host_pings_a_linux_host_through_the_linux_router(lab: LabSession) -> None:
    request = requests.ping(lab.address("lx1"), count=3, interval="50ms", wait="2s")
    reply = lab.agent("h1").ping(request, timeout=15)
    assert reply.received == 3, reply
    assert reply.results[0].ttl == 63


def test_traceroute_from_a_linux_host_lists_the_linux_router(lab: LabSession) -> None:
    router = lab.address("lxr", "eth0")
    for dst in ("lx2", "h1"):
        target = lab.address(dst)
        out = run(lab, "lx1", "traceroute", "-n", "-q", "1", "-w", "2", "-m", "5", target)
        hops = [line.split() for line in out.splitlines()[1:] if line.strip()]
        assert [h[:2] for h in hops] == [["1", router], ["2", target]], out


def test_destroy_leaves_nothing(
    node_image: BuildResult, lab: LabSession, leftovers: Callable[[str], list[str]]
) -> None:
    assert leftovers(NAME) != []
    destroy(NAME, DockerBackend(image=node_image.tag))
    assert leftovers(NAME) == []
