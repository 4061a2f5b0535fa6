"""Link properties on the real wire (Docker, raw sockets, the node image): a ping's
round trip is twice the links' one-way delays and a transfer's goodput is the link's
rate, through our router; a Linux-kernel peer's direction, which its kernel cannot shape
(no netem here), is shaped by our router where it arrives."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.client import Lab, LabClient
from orchestrator.image.build import BuildResult
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.service.server import start_server

pytestmark = pytest.mark.docker

TOPOLOGY = Path(__file__).parent / "topologies" / "links.yaml"
WIRE = 1448 / 1514  # TCP payload per frame: the rate counts whole Ethernet frames


@pytest.fixture(scope="module")
def lab(node_image: BuildResult) -> Iterator[Lab]:
    server = start_server("127.0.0.1:0", backends={"docker": DockerBackend(image=node_image.tag)})
    client = LabClient(server.address)
    lab = client.deploy(TOPOLOGY, name=f"t{uuid.uuid4().hex[:6]}-links", backend="docker")
    try:
        yield lab
    finally:
        lab.destroy()
        client.close()
        server.stop(grace=0.5)


def test_rtt_and_goodput_through_a_10mbit_10ms_link(lab: Lab) -> None:
    ping = lab.ping("h1", "h2", count=10, interval="100ms")
    assert ping.received == 10
    assert ping.rtt_min_ms is not None and 30.0 <= ping.rtt_min_ms < 36.0  # (10 + 5) ms x 2
    report = lab.transfer("h1", "h2", size="5MB", timeout="60s")
    assert report.ok, report.error
    assert 0.85 * 10e6 * WIRE < report.goodput_bps <= 10e6  # ~9.4 Mbit/s
    counters = lab.counters("h1")
    (layer,) = counters.links
    assert layer.shaping.rate == 10e6 and layer.counters.queued > 1000
    assert counters.faults == ()
    info = lab.refresh()
    (h1r1,) = [link for link in info.links if link.name == "h1-r1"]
    assert [d.applied_at for d in h1r1.directions] == ["h1:eth0 egress", "r1:eth0 egress"]


def test_a_linux_peers_direction_is_shaped_at_our_routers_ingress(lab: Lab) -> None:
    ping = lab.ping("lx", "h2", count=5, interval="100ms")  # the kernel's ping
    assert ping.received == 5
    assert ping.rtt_min_ms is not None and 20.0 <= ping.rtt_min_ms < 26.0  # (5 + 5) ms x 2
    up = lab.transfer("lx", "h2", size="2MB", timeout="60s")  # lx's kernel TCP sends
    assert up.ok, up.error
    assert 0.8 * 4e6 * WIRE < up.goodput_bps <= 4e6  # ~3.8 Mbit/s, shaped by r1's ingress
    layers = {(k.iface, k.direction.value): k for k in lab.counters("r1").links}
    assert layers[("eth2", "ingress")].shaping.rate == 4e6
    assert layers[("eth2", "ingress")].counters.seen > 1000
