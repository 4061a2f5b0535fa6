"""Frames with unfinished checksums from a Linux sender (veth, tx checksum offload ON:
CHECKSUM_PARTIAL) are completed by the raw reader from PACKET_AUXDATA, so our stack accepts
them -- without that, every UDP datagram below would be a checksum error and no echo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .netns_lab import NetnsPair

SIZES = ["1", "100", "1000", "1472"]  # 1472: the largest unfragmented at MTU 1500


def offload_state(pair: NetnsPair) -> str:
    if shutil.which("ethtool") is None:
        return "on (veth default)"
    out = pair.run(pair.peer_ns, "ethtool", "-k", pair.peer_if).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("tx-checksumming:"))
    return line.split(":", 1)[1].strip()


def test_partial_checksums_from_the_kernel_are_accepted(pair: NetnsPair, tmp_path: Path) -> None:
    assert offload_state(pair).startswith("on")
    node = pair.start_node(tmp_path / "state.json", "--udp-echo", "7")
    echoed = pair.peer_probe("udp-echo", pair.node_ip, "7", *SIZES)
    counters = node.stop()
    assert echoed["ok"] == [True] * len(SIZES)
    host, io = counters["host"], counters["runner"]
    assert io["io_rx_csum_completed"] >= len(SIZES)  # they did arrive unfinished
    assert host["udp_in_datagrams"] == len(SIZES) and host["udp_in_csum_errors"] == 0


def test_without_offload_nothing_needs_completing(pair: NetnsPair, tmp_path: Path) -> None:
    """The control: with tx checksumming off the kernel finishes the checksum itself, the
    reader sees no TP_STATUS_CSUMNOTREADY and completes nothing."""
    if shutil.which("ethtool") is None:
        pytest.skip("needs `ethtool` to switch the offload off")
    off = pair.run(pair.peer_ns, "ethtool", "-K", pair.peer_if, "tx", "off")
    assert off.returncode == 0, off.stderr
    node = pair.start_node(tmp_path / "state.json", "--udp-echo", "7")
    echoed = pair.peer_probe("udp-echo", pair.node_ip, "7", *SIZES)
    counters = node.stop()
    assert echoed["ok"] == [True] * len(SIZES)
    assert counters["runner"]["io_rx_csum_completed"] == 0
    assert counters["host"]["udp_in_csum_errors"] == 0


def test_tcp_from_the_kernel_with_tso_and_checksum_offload(pair: NetnsPair, tmp_path: Path) -> None:
    """A kernel TCP client with every offload on (CHECKSUM_PARTIAL, TSO/GSO super-frames up
    to 64 KB) streams 2 MB through our TCP echo server and gets every byte back."""
    node = pair.start_node(tmp_path / "state.json", "--tcp-echo", "7")
    echoed = pair.peer_probe("tcp-echo", pair.node_ip, "7", str(2 * 1024 * 1024))
    counters = node.stop()
    assert echoed["ok"], echoed
    io, host = counters["runner"], counters["host"]
    assert io["io_rx_csum_completed"] > 0  # segments did arrive with unfinished checksums
    assert io["io_rx_gso_frames"] > 0  # and as super-frames (typically ~45 in 2 MB)
    assert io["io_rx_truncated"] == 0
    assert host.get("tcp_bad_checksum", 0) == 0 and host.get("tcp_in_errs", 0) == 0
