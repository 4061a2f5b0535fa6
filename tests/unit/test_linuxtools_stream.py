"""The Linux peer's sender script (orchestrator/linuxtools.py) sends exactly our pattern
stream (nodes/apps/data.py): the docker interop tests compare sha256 digests across the
two, so the two generators must agree byte for byte, including the cut last block."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from nodes.apps.data import BLOCK, PatternStream, pattern_bytes, pattern_sha256
from orchestrator.lab import linuxtools


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize("size", [1, BLOCK, 5 * BLOCK + 1234])
def test_linux_sender_script_sends_the_pattern_stream(size: int) -> None:
    port = _free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", linuxtools.SINK_SCRIPT, str(port), "20"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        sent = None
        for _ in range(200):  # until the sink listens (refused before)
            out = subprocess.run(
                [sys.executable, "-c", linuxtools.SEND_SCRIPT, "127.0.0.1", str(port),
                 str(size), "9", "20"],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            sent = json.loads(out.stdout)
            if not sent["error"]:
                break
        got = json.loads(sink.communicate(timeout=30)[0])
    finally:
        sink.kill()
    assert sent is not None and not sent["error"]
    assert sent["bytes"] == got["bytes"] == size
    assert sent["sha256"] == got["sha256"] == pattern_sha256(size, 9)


def test_pattern_blocks_are_distinct_rotations() -> None:
    data = pattern_bytes(4 * BLOCK, 3)
    blocks = [data[k * BLOCK : (k + 1) * BLOCK] for k in range(4)]
    assert len(set(blocks)) == 4  # no block repeats: misplaced blocks break the digest
    assert blocks[2] == blocks[0][2 * 4099 :] + blocks[0][: 2 * 4099]
    stream = PatternStream(3, 4 * BLOCK)  # peek/advance give the same bytes as read
    parts = []
    while chunk := stream.peek(1460):
        parts.append(bytes(chunk))
        stream.advance(len(chunk))
    assert b"".join(parts) == data
