"""No busy polling: an idle node (our stack under the runner, nothing to do) sleeps in
epoll until its next deadline. A behaviour check, not a benchmark."""

from __future__ import annotations

import time
from pathlib import Path

from .netns_lab import NetnsPair

WINDOW = 2.0


def test_an_idle_node_uses_almost_no_cpu(pair: NetnsPair, tmp_path: Path) -> None:
    node = pair.start_node(tmp_path / "state.json")
    time.sleep(0.3)  # past start-up (imports, gratuitous ARP)
    cpu0, t0 = node.cpu_seconds(), time.monotonic()
    time.sleep(WINDOW)
    cpu1, t1 = node.cpu_seconds(), time.monotonic()
    io = node.stop()["runner"]
    share = (cpu1 - cpu0) / (t1 - t0)
    assert share < 0.05, f"idle node used {share:.1%} CPU"
    assert io["io_turns"] < 50, f"{io['io_turns']} loop turns while idle: polling?"
