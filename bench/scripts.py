"""Python programs the bench runs inside lab nodes (``python -c SCRIPT ARGS...``).

The node image has the project installed under /opt/wirelab, so a linux-kind node can also
run OUR stack standalone (takes its interface from the kernel like the agent does).
"""

from __future__ import annotations

PYTHON = "/opt/wirelab/bin/python"

# A threaded TCP echo server on the kernel's stack (the Linux peer of our echo app).
KERNEL_ECHO_SERVER = r"""
import socket, sys, threading
port = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", port))
srv.listen(64)
def serve(c):
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(d)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""

# 1-byte request/response over the kernel's TCP: prints {"rtts": [seconds, ...]}.
KERNEL_RR_CLIENT = r"""
import json, socket, sys, time
host, port, count, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection((host, port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
clock = time.perf_counter
rtts = []
for i in range(count + warmup):
    t0 = clock()
    s.sendall(b"x")
    if s.recv(1) != b"x":
        raise SystemExit("bad echo")
    if i >= warmup:
        rtts.append(clock() - t0)
s.close()
print(json.dumps({"rtts": rtts}))
"""

# The same over OUR stack, standalone in a linux-kind node: takes the interface that holds
# ADDRESS from the kernel, runs a Host with the echo client app on a raw socket until
# COUNT+WARMUP round trips are done. Prints {"rtts": [...], "error": ...}.
OURS_RR_CLIENT = r"""
import json, sys, time
from pathlib import Path
from nodes.apps.echo import TcpEchoClient
from nodes.io.raw_socket import RawSocket
from nodes.io.runner import Runner
from nodes.io.takeover import take_over
from nodes.stack.host import Host
from nodes.wire.addr import ip_from_str
address, gateway, dst = sys.argv[1], sys.argv[2], sys.argv[3]
port, count, warmup = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
taken = take_over([address], state_file=Path("/tmp/wirelab-bench-takeover.json"))[0]
host = Host("bench-rr")
host.add_interface(taken.name, taken.mac, taken.address, taken.prefix_len, mtu=taken.mtu)
host.add_route("0.0.0.0", 0, gateway)
raw = RawSocket(taken.name)
runner = Runner(host, {taken.name: raw})
client = TcpEchoClient(host, ip_from_str(dst), port, count=count + warmup, size=1)
client.start(now=runner.now())
deadline = time.monotonic() + 120
while not client.done and time.monotonic() < deadline:
    runner.run_once(max_wait=0.05)
result = client.result
rtts = list(result.rtts[warmup:]) if result is not None else list(client.rtts[warmup:])
error = "timeout" if result is None else result.error
print(json.dumps({"rtts": rtts, "error": error, "mismatches": client.mismatches}))
runner.close()
raw.close()
"""


def python_argv(script: str, *args: object) -> list[str]:
    return [PYTHON, "-c", script, *(str(a) for a in args)]


def detached(argv: list[str], log: str) -> list[str]:
    """argv run in the background of the node (docker exec returns at once)."""
    import shlex

    return ["sh", "-c", f"nohup {shlex.join(argv)} >{shlex.quote(log)} 2>&1 &"]
