"""A user's own image as a linux node (topology/examples/user-service.yaml): built from
the example's Dockerfile (the node image without ip or ethtool), its interface named,
addressed and routed from the host, its exec: commands run, its service reached from our
host through our router, under a loss fault too; a missing image is refused before
anything is created."""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import topology
from orchestrator.client import FailedPrecondition, Lab, LabClient
from orchestrator.image.build import BuildResult
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.service.server import LabServer, start_server

pytestmark = pytest.mark.docker

EXAMPLE = Path(topology.example_path("user-service"))
IMAGE = "wirelab-example-web:latest"


def lab_model(lab: Lab) -> topology.Lab:
    """The plan of the deployed lab (its subnets follow its name)."""
    text = EXAMPLE.read_text().replace("name: user-service", f"name: {lab.name}")
    return topology.load_text(text, file=str(EXAMPLE))


@pytest.fixture(scope="module")
def server(node_image: BuildResult) -> Iterator[LabServer]:
    subprocess.run(
        ["docker", "build", "-q", "--build-arg", f"BASE={node_image.tag}", "-t", IMAGE,
         str(EXAMPLE.parent / "user-service")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    server = start_server("127.0.0.1:0", backends={"docker": DockerBackend(image=node_image.tag)})
    try:
        yield server
    finally:
        server.stop(grace=0.5)


@pytest.fixture(scope="module")
def lab(server: LabServer) -> Iterator[Lab]:
    client = LabClient(server.address)
    lab = client.deploy(EXAMPLE, name=f"t{uuid.uuid4().hex[:6]}-usvc", backend="docker")
    try:
        yield lab
    finally:
        lab.destroy()
        client.close()


def test_the_image_has_no_tools_yet_its_interface_is_as_planned(lab: Lab) -> None:
    probe = lab.exec("web", ["sh", "-c", "command -v ip ethtool || echo none"])
    assert probe.output.strip() == "none"
    web = next(n for n in lab.refresh().nodes if n.name == "web")
    (eth0,) = web.interfaces
    assert (eth0.address, eth0.mtu, eth0.up) == (lab.address("web"), 1500, True)
    planned = {str(r.dst): str(r.via) for r in lab_model(lab).node("web").routes}
    kernel = {r.prefix: r.gateway for r in lab.routes("web") if r.gateway}
    assert planned and kernel == planned  # routes: auto, set in the kernel from the host


def test_our_host_reaches_the_users_service_as_its_cmd_runs_it(lab: Lab) -> None:
    page = lab.http_get("h1", "http://web:8080/")  # cmd: 8080, not the image's own 8000
    assert page.status == 200 and page.bytes == len("hello from wirelab\n")
    assert page.sha256 == hashlib.sha256(b"hello from wirelab\n").hexdigest()


def test_the_service_answers_through_a_loss_fault(lab: Lab) -> None:
    blob = lab.exec("web", ["sha256sum", "/site/blob.bin"]).output.split()[0]
    fault = lab.add_fault(endpoint="r1:eth1", loss="5%", seed=3)
    try:
        got = lab.http_get("h1", "http://web:8080/blob.bin", timeout="60s")
    finally:
        lab.clear_fault(fault.fault_id)
    assert got.status == 200 and got.bytes == 2_000_000 and got.sha256 == blob
    assert lab.fault_counters(fault.fault_id).dropped > 0  # the kernel's TCP recovered


def test_live_configuration_reaches_the_users_container_from_the_host(lab: Lab) -> None:
    lab.set_interface("web", "eth0", mtu=1400)
    try:
        web = next(n for n in lab.refresh().nodes if n.name == "web")
        assert web.interfaces[0].mtu == 1400
    finally:
        lab.set_interface("web", "eth0", mtu=1500)


def test_a_missing_image_is_refused_before_anything_is_created(server: LabServer) -> None:
    text = EXAMPLE.read_text().replace(IMAGE, "wirelab-absent-image:none")
    name = f"t{uuid.uuid4().hex[:6]}-noimg"
    with LabClient(server.address) as client, pytest.raises(FailedPrecondition) as caught:
        client.deploy(yaml=text, name=name, backend="docker")
    assert "image wirelab-absent-image:none (node web) is not in this Docker engine" in str(
        caught.value
    )
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=wirelab.lab={name}"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert left.stdout.strip() == ""
