"""Any image as a node (issue 12, item 1): topology/examples/user-service.yaml with its
image built locally from the node image (topology/examples/images/web, without ip and
ethtool): the container runs its own cmd and env, wirelab names, addresses and routes its
interface from the host, ``exec:`` commands run after deploy, and our stack's HTTP client
(``wirelab http``) reaches the service through our router, also through a loss fault. A
missing image is an error that names it and says how to build or load one."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.client import FailedPrecondition, Lab, LabClient
from orchestrator.image.build import BuildResult
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.service.server import LabServer, start_server

pytestmark = pytest.mark.docker

EXAMPLES = Path(__file__).resolve().parents[2] / "topology" / "examples"


@pytest.fixture(scope="module")
def web_image(node_image: BuildResult) -> Iterator[str]:
    tag = f"wirelab-web:appstest-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        ["docker", "build", "--network", "none", "-q", "--build-arg", f"BASE={node_image.tag}",
         "-t", tag, str(EXAMPLES / "images" / "web")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def server(node_image: BuildResult) -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0", backends={"docker": DockerBackend(image=node_image.tag)})
    try:
        yield srv
    finally:
        srv.stop(grace=0.5)


@pytest.fixture(scope="module")
def svc(server: LabServer, web_image: str) -> Iterator[Lab]:
    text = (EXAMPLES / "user-service.yaml").read_text().replace("wirelab-web:example", web_image)
    client = LabClient(server.address)
    name = f"appstest-svc-{uuid.uuid4().hex[:6]}"
    lab = client.deploy(yaml=text, name=name, backend="docker", base_dir=EXAMPLES)
    try:
        yield lab
    finally:
        lab.destroy()
        client.close()


def test_the_image_runs_its_cmd_and_env_and_has_no_network_tools(svc: Lab) -> None:
    probe = svc.exec(
        "web", ["sh", "-c", "command -v ip ethtool; echo $GREETING; cat /proc/1/cmdline"]
    )
    lines = probe.output.splitlines()
    assert lines[0] == "hello"  # no ip, no ethtool: only the echo printed a line before
    assert "http.server" in lines[1]


def test_its_interface_is_named_addressed_and_routed_from_the_host(svc: Lab) -> None:
    web = svc.refresh().node("web")  # live values, read in its namespace by the host's ip
    (eth0,) = web.interfaces
    assert eth0.name == "eth0" and eth0.address == svc.address("web") and eth0.up
    routes = svc.routes("web")
    default = [r for r in routes if r.prefix == "0.0.0.0/0"]
    assert [r.gateway for r in default] == [svc.address("r1", "eth1")]


def test_wirelab_http_from_our_host_reaches_the_service(svc: Lab, server: LabServer) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "http", "--server", server.address, "--json",
         svc.name, "h1", "http://web:8000/"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == 200 and report["bytes"] == len("hello from web\n")  # exec: ran


def kernel_retransmits(lab: Lab, node: str) -> int:
    """RetransSegs of the node's kernel (its /proc/net/snmp is its namespace's)."""
    rows = [r.split() for r in lab.exec(node, ["cat", "/proc/net/snmp"]).output.splitlines()]
    head, values = [r for r in rows if r and r[0] == "Tcp:"][:2]
    return int(values[head.index("RetransSegs")])


def test_through_a_loss_fault_the_services_kernel_retransmits(svc: Lab) -> None:
    fault = svc.add_fault(endpoint="r1:eth1", direction="ingress", loss="5%", seed=3)
    try:
        before = kernel_retransmits(svc, "web")
        report = svc.http_get("h1", "http://web:8000/big.bin", timeout="60s")
        assert report.ok and report.bytes == 300_000, report.error
        assert svc.fault_counters(fault.fault_id).dropped > 0  # r1 dropped web's segments
        assert kernel_retransmits(svc, "web") > before  # and web's own kernel resent them
    finally:
        svc.clear_fault(fault.fault_id)


def test_a_missing_image_is_named_with_how_to_get_one(server: LabServer) -> None:
    text = (
        "name: appstest-noimg\nnodes:\n  h1: {kind: host}\n"
        "  web: {kind: linux, image: 'wirelab-nope:0'}\nlinks:\n  - endpoints: [h1, web]\n"
    )
    with LabClient(server.address) as client, pytest.raises(FailedPrecondition) as info:
        client.deploy(yaml=text, backend="docker")
    message = str(info.value)
    assert "web: image wirelab-nope:0 is not on this Docker engine (wirelab never pulls)" in message
    assert "docker build -t wirelab-nope:0" in message and "docker load" in message
