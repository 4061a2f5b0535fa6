"""One lab across three Docker daemons in a swarm (issue 16), through the user's path: a
LabService with the swarm backend and the Python client.

The daemons, their namespaces and the swarm come from :mod:`orchestrator.lab.swarmlab`
(started once for the module, torn down at its end; the teardown fails the run when
anything is left). Every node is pinned to another daemon than its neighbours, so every
link is an overlay between two hosts. Run by ``make swarm-test`` (root), which sets
``WIRELAB_SWARM_TEST=1``; skipped otherwise.
"""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP
from scapy.utils import rdpcap

from orchestrator.client import Lab, LabClient
from orchestrator.image.build import build
from orchestrator.image.engine import Progress
from orchestrator.lab import labels as L
from orchestrator.lab.backends.swarm import HOST_LABEL, SwarmBackend
from orchestrator.lab.swarmlab import SwarmLab
from orchestrator.service.server import start_server

pytestmark = [
    pytest.mark.swarm,
    pytest.mark.skipif(
        os.environ.get("WIRELAB_SWARM_TEST") != "1" or os.geteuid() != 0,
        reason="make swarm-test (root) runs the three-daemon swarm",
    ),
]

TOPOLOGY = Path(__file__).parent / "swarm.yaml"
PLACED = {"h1": "wlsw-d1", "r1": "wlsw-d2", "h2": "wlsw-d3", "lx1": "wlsw-d3"}
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def swarm() -> Iterator[SwarmLab]:
    tag = os.environ.get("WIRELAB_SWARM_IMAGE") or build(progress=Progress(quiet=True)).tag
    cluster = SwarmLab(image=tag)
    cluster.up()
    TIMES.update({f"swarm_{k}_s": v for k, v in cluster.times.items()})
    try:
        yield cluster
    finally:
        problems = cluster.down()
        TIMES.update({f"swarm_{k}_s": v for k, v in cluster.times.items() if k.startswith("down")})
        print(f"\nswarm-test times (s): {TIMES}")
        assert problems == [], f"the swarm lab left: {problems}"


@pytest.fixture(scope="module")
def backend(swarm: SwarmLab) -> SwarmBackend:
    return SwarmBackend(manager=swarm.manager.url, image=swarm.image)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")  # where the LabService keeps its labs' topologies


@pytest.fixture(scope="module")
def lab(swarm: SwarmLab, backend: SwarmBackend, home: Path) -> Iterator[Lab]:
    server = start_server("127.0.0.1:0", backends={"swarm": backend}, home=home)
    client = LabClient(server.address)
    name = f"t{uuid.uuid4().hex[:6]}-sw"
    start = time.monotonic()
    lab = client.deploy(TOPOLOGY, name=name, backend="swarm")
    TIMES["deploy_s"] = round(time.monotonic() - start, 2)
    try:
        yield lab
    finally:
        start = time.monotonic()
        lab.destroy()
        TIMES["destroy_s"] = round(time.monotonic() - start, 2)
        client.close()
        server.stop(grace=0.5)
        left = backend.find(name)
        assert left.empty, f"destroy left {left.names}"


def dockerd(swarm: SwarmLab, host: str, *argv: str) -> str:
    daemon = next(d for d in swarm.daemons if d.name == host)
    return subprocess.run(
        ["docker", "-H", daemon.url, *argv], capture_output=True, text=True, check=True
    ).stdout


def test_nodes_run_on_the_daemons_their_placement_names(swarm: SwarmLab, lab: Lab) -> None:
    for node, host in PLACED.items():
        name = L.container_name(lab.name, node)
        label = dockerd(
            swarm, host, "inspect", "-f", f'{{{{index .Config.Labels "{HOST_LABEL}"}}}}', name
        )
        assert label.strip() == host
        for other in swarm.daemons:
            if other.name != host:
                listed = dockerd(swarm, other.name, "ps", "-aq", "--filter", f"name={name}")
                assert listed.strip() == "", f"{node} also on {other.name}"


def test_links_are_attachable_internal_overlays_at_the_overlay_mtu(
    swarm: SwarmLab, lab: Lab
) -> None:
    form = "{{.Name}} {{.Driver}} {{.Scope}}"
    out = dockerd(swarm, swarm.manager.name, "network", "ls", "--filter",
                  f"label={L.LAB}={lab.name}", "--format", form)  # fmt: skip
    rows = [line.split() for line in out.splitlines()]
    assert len(rows) == 3 and all(r[1:] == ["overlay", "swarm"] for r in rows), out
    for name, *_ in rows:
        flags = dockerd(swarm, swarm.manager.name, "network", "inspect", "-f",
                        "{{.Attachable}} {{.Internal}}", name)  # fmt: skip
        assert flags.split() == ["true", "true"]
    info = lab.refresh()
    for node in ("h1", "r1", "h2"):
        for iface in info.node(node).interfaces:
            assert iface.planned_mtu == swarm.overlay_mtu == 1450
            assert iface.mac.startswith("02:42:")  # the overlay's own MAC for the address
    # the kernel interface of the linux node has the overlay's MTU too
    mtu = lab.exec("lx1", ["cat", "/sys/class/net/eth0/mtu"]).output.strip()
    assert mtu == "1450"


def test_ping_and_traceroute_cross_three_hosts(lab: Lab) -> None:
    ping = lab.ping("h1", "h2", count=3, interval="0.2s")
    assert ping.received == 3, ping
    trace = lab.traceroute("h1", "h2")
    assert trace.reached
    responders = [hop.responder for hop in trace.hops]
    assert responders == [lab.address("r1", "eth0"), lab.address("h2")], responders


def test_the_linux_kernel_peer_reaches_our_host_on_another_daemon(lab: Lab) -> None:
    result = lab.exec("lx1", ["ping", "-c", "2", "-W", "2", lab.address("h1")], timeout=15)
    assert result.exit_code == 0, result.output


def test_transfer_across_hosts_arrives_intact(lab: Lab) -> None:
    result = lab.transfer("h1", "h2", size="2MB")
    assert result.sha256_match and result.bytes_received == 2_000_000, result
    TIMES["goodput_h1_h2_MBps"] = round(result.goodput_bps / 8e6, 2)


def test_a_loss_fault_across_hosts(lab: Lab) -> None:
    fault = lab.add_fault(endpoint="r1:eth1", loss="5%", seed=7)
    try:
        result = lab.transfer("h1", "h2", size="1MB")
        assert result.sha256_match and result.retransmits > 0, result
        assert lab.fault_counters(fault.fault_id).dropped > 0
    finally:
        lab.clear_fault(fault.fault_id)


def test_an_mtu_change_across_hosts(lab: Lab) -> None:
    fault = lab.add_fault(endpoint="r1:eth1", mtu=1000)
    try:
        ping = lab.ping("h1", "h2", size=1200, dont_fragment=True, count=1)
        probe = ping.results[0]
        assert not probe.replied and probe.next_hop_mtu == 1000, ping
        assert probe.source == lab.address("r1", "eth0")
        result = lab.transfer("h1", "h2", size="1MB")
        assert result.sha256_match, result
    finally:
        lab.clear_fault(fault.fault_id)
    ping = lab.ping("h1", "h2", size=1400, dont_fragment=True, count=1)
    assert ping.received == 1, ping


def test_a_capture_on_another_host_sees_the_pings(lab: Lab) -> None:
    out: list[bytes] = []
    thread = threading.Thread(
        target=lambda: out.append(lab.capture("h2", "eth0", max_packets=20, duration=10.0))
    )
    thread.start()
    time.sleep(1.0)  # the capture runs from its first chunk on
    lab.ping("h1", "h2", count=3, interval="0.2s")
    thread.join(timeout=30)
    packets = rdpcap(io.BytesIO(out[0]))
    requests = [p for p in packets if ICMP in p and p[ICMP].type == 8]
    assert requests and all(p[IP].src == lab.address("h1") for p in requests), packets


def test_a_restarted_router_forwards_again(lab: Lab) -> None:
    lab.node_action("r1", "restart")
    deadline = time.monotonic() + 60
    while lab.ping("h1", "h2", count=1, wait="2s").received != 1:
        assert time.monotonic() < deadline, "no route through the restarted r1 after 60 s"
        time.sleep(1.0)
    assert lab.ping("h1", "h2", count=3, interval="0.2s").received == 3


def test_a_new_lab_service_attaches_to_the_running_swarm_lab(
    swarm: SwarmLab, lab: Lab, home: Path
) -> None:
    """The LabService restarts (a new server, a new swarm backend, the same state directory):
    it lists the lab and drives its nodes on their daemons again."""
    backend = SwarmBackend(manager=swarm.manager.url, image=swarm.image)
    server = start_server("127.0.0.1:0", backends={"swarm": backend}, home=home)
    client = LabClient(server.address)
    try:
        assert lab.name in [s.name for s in client.labs()]
        again = client.lab(lab.name)
        assert again.ping("h1", "h2", count=2, interval="0.2s").received == 2
        assert again.refresh().node("r1").state == "running"
    finally:
        client.close()
        server.stop(grace=0.5)
