"""Your tools through our stack (issue 12, item 3): an unmodified iperf3 client in h1's
container reaches the iperf3 server of a Linux-kernel node through a loss fault, its TCP
carried by h1's node (the ``forward`` relay on the container's loopback): the connection on
the wire is our stack's, so our retransmits show in the relay's, the connection's and the
node's counters, and the fault's drops in its own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.client import Lab, LabClient
from orchestrator.image.build import BuildResult
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.service.server import start_server

pytestmark = pytest.mark.docker

TOPOLOGY = Path(__file__).parent / "topologies" / "forward.yaml"
SECONDS = 3
MIN_BYTES = 1_000_000  # 2.7 Mbit/s: our stack through the loss does several MB/s


@pytest.fixture(scope="module")
def lab(node_image: BuildResult) -> Iterator[Lab]:
    server = start_server("127.0.0.1:0", backends={"docker": DockerBackend(image=node_image.tag)})
    client = LabClient(server.address)
    lab = client.deploy(TOPOLOGY, name=f"appstest-fwd-{uuid.uuid4().hex[:6]}", backend="docker")
    try:
        yield lab
    finally:
        lab.destroy()
        client.close()
        server.stop(grace=0.5)


def test_without_the_relay_h1s_kernel_cannot_reach_the_lab(lab: Lab) -> None:
    # the motivation: the container's own kernel has no address on the data interfaces
    lab.exec("lx", ["sh", "-c", "iperf3 -s -D -p 5202"])
    direct = lab.exec(
        "h1", ["iperf3", "-c", lab.address("lx"), "-p", "5202", "-n", "1K"], timeout="20s"
    )
    assert direct.exit_code != 0


def test_iperf3_through_the_relay_and_a_loss_fault_shows_our_retransmits(lab: Lab) -> None:
    lab.exec("lx", ["sh", "-c", "iperf3 -s -D -p 5201"])
    relay = lab.forward("h1", "lx:5201", local_port=5201)
    assert relay.app_id == "forward:5201" and relay.running
    fault = lab.add_fault(endpoint="r1:eth1", direction="egress", loss="2%", seed=12)
    before = lab.counters("h1").stack.get("tcp_retrans_segs", 0)
    # time-based: with -n the client would be done as soon as its loopback socket buffers
    # (megabytes, the kernel's) took the bytes, before they crossed our stack
    run = lab.exec(
        "h1", ["iperf3", "-c", "127.0.0.1", "-p", "5201", "-t", str(SECONDS), "-J"], timeout="60s"
    )
    assert run.exit_code == 0, run.output[-2000:]
    report = json.loads(run.output)
    received = report["end"]["sum_received"]["bytes"]  # what lx's kernel got, over our TCP
    assert received >= MIN_BYTES
    stats = {a.app_id: a for a in lab.apps("h1")["h1"]}["forward:5201"].stats
    assert stats["connections"] >= 2  # iperf3's control and data connections
    assert stats["bytes_out"] >= received and stats["connect_failures"] == 0
    assert stats["retransmits"] > 0  # our stack resent what the fault dropped
    assert lab.counters("h1").stack["tcp_retrans_segs"] - before >= stats["retransmits"]
    assert lab.fault_counters(fault.fault_id).dropped > 0
    lab.clear_fault(fault.fault_id)
    lab.stop_app("h1", "forward:5201")


def test_curl_through_the_relay_to_an_http_server_of_our_router(lab: Lab) -> None:
    lab.start_app("r1", "http-server", 8080)  # a server of our stack
    relay = lab.forward("h1", "r1:eth0:8080", local_port=8081)  # an interface's address
    got = lab.exec("h1", ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                          "http://127.0.0.1:8081/bytes/100000"], timeout="30s")  # fmt: skip
    assert got.exit_code == 0, got.output
    assert got.output.split() == ["200", "100000"]
    stats = {a.app_id: a for a in lab.apps("h1")["h1"]}[relay.app_id].stats
    assert stats["connections"] == 1 and stats["bytes_in"] > 100000
    lab.stop_app("h1", relay.app_id)
    lab.stop_app("r1", "http-server:8080")
