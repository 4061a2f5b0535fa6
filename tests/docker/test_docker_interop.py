"""Our stack against the Linux kernel's, in Docker, through our router
(tests/docker/topologies/e2e.yaml: h1, h2 ours; lx1, lx2 linux-kind, kernel TCP):

- Linux's curl GETs 50 MB from our HTTP server; sha256sum on the Linux side matches;
- our HTTP client GETs a 50 MB random file from ``python3 -m http.server`` on a Linux node,
  sha256 equal; Linux's curl fetches the same file the same way (the reference goodput);
- Linux's ``tracepath`` reports the PMTU our router lowered, and a Linux sender uploading
  through that link honours our router's frag-needed: our sink gets every byte.

Goodputs are printed (``pytest -s``): ours next to Linux's on the same paths.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from nodes.apps.data import pattern_sha256
from orchestrator.domain import requests
from orchestrator.domain.results import HttpReport
from orchestrator.lab.session import LabSession

pytestmark = pytest.mark.docker

MB = 1_000_000
BIG = 50 * MB
UPLOAD = 5 * MB
HTTP_SEED = 0  # the http-server app's default seed
SERVE_PORT = 8000
SHA = re.compile(r"\b[0-9a-f]{64}\b")


def sh(session: LabSession, node: str, command: str, timeout: float = 60.0) -> str:
    result = session.exec(node, ["sh", "-c", command], timeout=timeout)
    assert result.exit_code == 0, f"{node}: {command}: {result.output}"
    return result.output


def sha256_in(output: str) -> str:
    found = SHA.findall(output)
    assert len(found) == 1, output
    return str(found[0])


def curl(session: LabSession, node: str, url: str) -> tuple[str, int, float]:
    """GET with Linux's curl, hashed on the node: (sha256, bytes, bytes/s)."""
    out = sh(
        session,
        node,
        f"curl -sS --fail -w '%{{stderr}}size=%{{size_download}} speed=%{{speed_download}}\\n' "
        f"{url} 2>/tmp/curl.out | sha256sum && cat /tmp/curl.out",  # one stream at a time
    )
    size = re.search(r"size=(\d+)", out)
    speed = re.search(r"speed=([\d.]+)", out)
    assert size and speed, out
    return sha256_in(out), int(size.group(1)), float(speed.group(1))


def test_linux_curl_gets_50_mb_from_our_http_server(lab: LabSession) -> None:
    h2 = lab.address("h2")
    digest, size, speed = curl(lab, "lx1", f"http://{h2}/bytes/{BIG}")
    print(f"\nlx1 (curl) <- r1 <- h2 (our http-server), 50 MB: {speed / MB:.1f} MB/s")
    assert size == BIG and digest == pattern_sha256(BIG, HTTP_SEED)
    # The server's own word agrees (a second request on a fresh connection).
    assert sha256_in(sh(lab, "lx1", f"curl -sS --fail http://{h2}/sha256/{BIG}")) == digest


@pytest.fixture(scope="module")
def linux_server(lab: LabSession) -> Iterator[tuple[str, str]]:
    """``python3 -m http.server`` on lx1 serving a random 50 MB file: (url, its sha256)."""
    out = sh(lab, "lx1", f"mkdir -p /srv && head -c {BIG} /dev/urandom > /srv/blob && "
                         "sha256sum /srv/blob")  # fmt: skip
    digest = sha256_in(out)
    sh(lab, "lx1", f"setsid python3 -m http.server {SERVE_PORT} --bind 0.0.0.0 --directory /srv "
                   ">/tmp/http.log 2>&1 </dev/null & echo $! > /tmp/http.pid")  # fmt: skip
    deadline = time.monotonic() + 15
    while lab.exec("lx1", ["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{SERVE_PORT}/"],
                   timeout=5).exit_code != 0:  # fmt: skip
        assert time.monotonic() < deadline, sh(lab, "lx1", "cat /tmp/http.log")
        time.sleep(0.2)
    yield f"http://{lab.address('lx1')}:{SERVE_PORT}/blob", digest
    lab.exec("lx1", ["sh", "-c", "kill $(cat /tmp/http.pid); rm -f /srv/blob"], timeout=10)


def test_our_http_client_gets_50_mb_from_linux(
    lab: LabSession, linux_server: tuple[str, str]
) -> None:
    url, digest = linux_server
    got: HttpReport = lab.agent("h1").http_get(url, wait=120.0, timeout=130)
    assert (got.status, got.error, got.bytes, got.sha256) == (200, "", BIG, digest)
    ours = got.bytes / got.seconds
    # The same file, the same server, the same router: Linux's curl on lx2 for reference.
    linux_digest, size, linux = curl(lab, "lx2", url)
    assert (linux_digest, size) == (digest, BIG)
    print(f"\nh1 (our client) <- r1 <- lx1 (python http.server), 50 MB: {ours / MB:.1f} MB/s; "
          f"lx2 (curl) on the same path: {linux / MB:.1f} MB/s")  # fmt: skip


@pytest.fixture
def lowered_mtu(lab: LabSession) -> Iterator[int]:
    """r1's interface toward h2 at MTU 1000; restored, and Linux's PMTU cache flushed."""
    r1 = lab.agent("r1")
    r1.set_interface(requests.interface_change("eth1", mtu=1000))
    try:
        yield 1000
    finally:
        r1.set_interface(requests.interface_change("eth1", mtu=1500))
        lab.exec("lx1", ["ip", "route", "flush", "cache"], timeout=10)


def test_linux_tracepath_reports_the_pmtu_our_router_lowered(
    lab: LabSession, lowered_mtu: int
) -> None:
    h2, r1 = lab.address("h2"), lab.address("r1", "eth2")
    out = sh(lab, "lx1", f"tracepath -n {h2}")
    assert re.search(rf"Resume: pmtu {lowered_mtu} hops 2 back 2", out), out
    assert re.search(rf"^\s*1:\s+{re.escape(r1)}\s", out, re.M), out
    assert re.search(rf"^\s*2:\s+{re.escape(h2)}\s.*reached", out, re.M), out
    # The kernel learnt the PMTU from our router's ICMP frag-needed.
    assert f"mtu {lowered_mtu}" in sh(lab, "lx1", f"ip route get {h2}")


def test_a_linux_sender_follows_our_routers_frag_needed_into_our_sink(
    lab: LabSession, lowered_mtu: int
) -> None:
    h2 = lab.address("h2")
    out = sh(lab, "lx1", f"head -c {UPLOAD} /dev/urandom > /tmp/up && sha256sum /tmp/up && "
                         f"nc -N -w 30 {h2} 5001 < /tmp/up && rm /tmp/up")  # fmt: skip
    digest = sha256_in(out)
    assert f"mtu {lowered_mtu}" in sh(lab, "lx1", f"ip route get {h2}")
    results = lab.agent("h2").sink_results()
    deadline = time.monotonic() + 10
    while not [r for r in results if r.remote_address == lab.address("lx1") and r.finished]:
        assert time.monotonic() < deadline, results
        time.sleep(0.1)
        results = lab.agent("h2").sink_results()
    (got,) = [r for r in results if r.remote_address == lab.address("lx1")]
    assert (got.bytes, got.sha256, got.error) == (UPLOAD, digest, "")
    print(f"\nlx1 (nc) -> r1 (MTU 1000) -> h2 (our sink), 5 MB: {got.goodput_bps / 8e6:.1f} MB/s")
