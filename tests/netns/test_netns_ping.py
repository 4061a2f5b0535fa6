"""The Linux kernel's ping gets replies from our stack, once each, also for datagrams
that both sides must fragment and reassemble."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .netns_lab import NetnsPair


def test_linux_ping_gets_replies_from_our_stack(pair: NetnsPair, tmp_path: Path) -> None:
    if shutil.which("ping") is None:
        pytest.skip("needs `ping` (apt-get install iputils-ping)")
    node = pair.start_node(tmp_path / "state.json")
    small = pair.run(pair.peer_ns, "ping", "-n", "-c", "5", "-i", "0.2", "-W", "2", pair.node_ip)
    # 3000-byte payload: the kernel fragments the request, our stack reassembles it and
    # fragments the reply, the kernel reassembles that
    big = pair.run(pair.peer_ns, "ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", "-s", "3000",
                   pair.node_ip)  # fmt: skip
    counters = node.stop()
    host = counters["host"]
    assert " 5 received" in small.stdout, small.stdout + small.stderr
    assert " 2 received" in big.stdout, big.stdout + big.stderr
    for out in (small.stdout, big.stdout):
        assert "DUP!" not in out  # nobody else (the kernel) answered too
        assert re.search(r"ttl=64 time=", out)
    assert host["icmp_out_echo_reps"] == 7 and host["icmp_in_echos"] == 7
    assert host["ip_reasm_oks"] == 2 and host["ip_frag_oks"] == 2
    assert host["icmp_in_csum_errors"] == 0 and host["ip_in_csum_errors"] == 0
    # our own transmissions are not read back (they would count as frames for another host)
    assert host["eth_in_other_host"] == 0
    assert counters["runner"]["io_rx_frames"] == host["eth_in_frames"]
