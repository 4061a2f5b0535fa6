"""RawSocket on a real interface: forced big buffers, frames other local senders put on
the interface are not read as input (the kernel would be one), frames from the wire are."""

from __future__ import annotations

import json
import subprocess
import sys

from .netns_lab import ROOT, NetnsPair, env

SCRIPT = """
import json, select, socket, sys
from nodes.io.raw_socket import RawSocket
ifname = sys.argv[1]
rs = RawSocket(ifname, buffer_bytes=16 * 1024 * 1024)
other = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
other.bind((ifname, 0))
other.send(b"\\xff" * 6 + bytes(6) + b"\\x88\\xb5" + b"local sender".ljust(46, b"."))
select.select([rs], [], [], 0.2)
# Only our own frame counts here: the peer's kernel may send IPv6 ND/MLD meanwhile.
local = [f for f in rs.recv_batch(64) if b"local sender" in f]
print(json.dumps({"ready": True}), flush=True)
select.select([rs], [], [], 15.0)
wire = rs.recv_batch(64)
print(json.dumps({"buffers": rs.buffer_sizes(), "local": len(local), "wire": len(wire),
                  "skipped": rs.counters.rx_outgoing_skipped}))
"""


def test_buffers_and_what_is_read(pair: NetnsPair) -> None:
    pair.run(pair.node_ns, "ip", "addr", "flush", "dev", pair.node_if)
    proc = subprocess.Popen(
        ["ip", "netns", "exec", pair.node_ns, sys.executable, "-c", SCRIPT, pair.node_if],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), cwd=ROOT,
    )  # fmt: skip
    pair.procs.append(proc)
    assert proc.stdout is not None
    assert json.loads(proc.stdout.readline()) == {"ready": True}, proc.stderr
    pair.run(pair.peer_ns, "ping", "-c", "1", "-W", "1", pair.node_ip)  # sends ARP requests
    out, err = proc.communicate(timeout=30)
    result = json.loads(out)
    # SO_RCVBUFFORCE/SO_SNDBUFFORCE: 2 x 16 MiB although net.core.[rw]mem_max is smaller
    assert result["buffers"] == [32 * 1024 * 1024, 32 * 1024 * 1024], err
    assert result["local"] == 0  # another local sender's frame (PACKET_OUTGOING) is not input
    assert result["wire"] >= 1  # the peer's ARP request is
