"""An MTU fault is a real smaller link (issue 10), proven with the kernel's own tools on
linux-kind nodes, through the user's path (a LabService and the Python client):

- ``mtu`` on our router's interface: Linux's tracepath reports that PMTU, a DF ping gets
  "Frag needed and DF set (mtu = N)" from our router, a 5 MB curl through it arrives
  intact; after the fault is cleared tracepath reports 1500 again;
- ``mtu`` on a linux node's interface changes its kernel interface's MTU for the fault's
  life;
- the linux nodes' kernel interfaces carry the planned names (eth0 is the link the
  topology calls eth0).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.client import Lab, LabClient
from orchestrator.image.build import BuildResult
from orchestrator.lab.backends.docker import DockerBackend
from orchestrator.service.server import start_server

pytestmark = pytest.mark.docker

TOPOLOGY = Path(__file__).parent / "topologies" / "mtu.yaml"
LOW = 1000
BLOB = 5_000_000
PORT = 8080


def sh(lab: Lab, node: str, command: str, timeout: float = 60.0) -> str:
    result = lab.exec(node, ["sh", "-c", command], timeout=timeout)
    assert result.exit_code == 0, f"{node}: {command}\n{result.output}"
    return result.output


@pytest.fixture(scope="module")
def lab(node_image: BuildResult) -> Iterator[Lab]:
    server = start_server("127.0.0.1:0", backends={"docker": DockerBackend(image=node_image.tag)})
    client = LabClient(server.address)
    lab = client.deploy(TOPOLOGY, name=f"t{uuid.uuid4().hex[:6]}-mtu", backend="docker")
    try:
        yield lab
    finally:
        lab.destroy()
        client.close()
        server.stop(grace=0.5)


@pytest.fixture(scope="module")
def server_on_lx2(lab: Lab) -> Iterator[tuple[str, str]]:
    """python3's http.server on lx2 with a random 5 MB file: (url, sha256)."""
    digest = sh(lab, "lx2", f"mkdir -p /srv && head -c {BLOB} /dev/urandom > /srv/blob && "
                            "sha256sum /srv/blob").split()[0]  # fmt: skip
    sh(lab, "lx2", f"setsid python3 -m http.server {PORT} --directory /srv >/tmp/http.log "
                   "2>&1 </dev/null & echo $! > /tmp/http.pid")  # fmt: skip
    deadline = time.monotonic() + 15
    while lab.exec("lx2", ["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{PORT}/"],
                   timeout=5).exit_code != 0:  # fmt: skip
        assert time.monotonic() < deadline, sh(lab, "lx2", "cat /tmp/http.log")
        time.sleep(0.2)
    yield f"http://{lab.address('lx2')}:{PORT}/blob", digest
    lab.exec("lx2", ["sh", "-c", "kill $(cat /tmp/http.pid)"], timeout=10)


def test_linux_interfaces_carry_the_planned_names(lab: Lab) -> None:
    info = lab.refresh()
    for node in ("lx1", "lx2"):
        planned = info.node(node).interface("eth0")
        text = sh(lab, node, "ip -o -4 addr show dev eth0; cat /sys/class/net/eth0/address")
        assert f"{planned.address}/{planned.prefix_len}" in text, text
        assert planned.mac in text, text


def test_an_mtu_fault_on_our_router_is_a_smaller_link_for_linux(
    lab: Lab, server_on_lx2: tuple[str, str]
) -> None:
    lx2, hop = lab.address("lx2"), lab.address("r1", "eth0")
    fault = lab.add_fault(endpoint="r1:eth1", mtu=LOW)
    try:
        assert lab.refresh().node("r1").interface("eth1").mtu == LOW  # the live view shows it
        ping = lab.exec("lx1", ["ping", "-c", "1", "-M", "do", "-s", "1200", "-W", "2", lx2])
        assert f"From {hop} icmp_seq=1 Frag needed and DF set (mtu = {LOW})" in ping.output, (
            ping.output
        )
        out = sh(lab, "lx1", f"tracepath -n {lx2}")
        assert re.search(rf"Resume: pmtu {LOW} hops 2 back 2", out), out
        assert re.search(rf"^\s*1:\s+{re.escape(hop)}\s", out, re.M), out
        url, digest = server_on_lx2
        got = sh(lab, "lx1", f"curl -sS --fail -m 60 {url} | sha256sum")
        assert got.split()[0] == digest
        assert lab.fault(fault.fault_id).counters.mtu_exceeded > 0  # what the fault did
    finally:
        lab.clear_fault(fault.fault_id)
    assert lab.refresh().node("r1").interface("eth1").mtu == 1500
    # the kernel forgets what it learned from the fault (the lab flushed its route cache)
    assert "mtu" not in sh(lab, "lx1", f"ip route get {lx2}")
    out = sh(lab, "lx1", f"tracepath -n {lx2}")
    assert re.search(r"Resume: pmtu 1500 hops 2 back 2", out), out


def test_an_mtu_fault_on_a_linux_node_changes_its_kernel_mtu_for_its_life(lab: Lab) -> None:
    fault = lab.add_fault(endpoint="lx2:eth0", mtu=1200, duration="3s")
    assert [(p.node, p.spec.effects.mtu) for p in fault.parts] == [("lx2", 1200)]
    assert sh(lab, "lx2", "cat /sys/class/net/eth0/mtu").strip() == "1200"
    assert lab.refresh().node("lx2").interface("eth0").mtu == 1200
    deadline = time.monotonic() + 15
    while sh(lab, "lx2", "cat /sys/class/net/eth0/mtu").strip() != "1500":
        assert time.monotonic() < deadline, "the kernel MTU did not come back"
        time.sleep(0.2)
    assert lab.fault(fault.fault_id).state.value == "expired"
