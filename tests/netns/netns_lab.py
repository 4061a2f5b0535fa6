"""Helpers of the netns tests (the ``pair`` fixture lives in conftest.py).

Real frames without Docker: two network namespaces joined by a veth pair.

``node`` namespace: where our stack runs (python -m nodes.io.standalone under the runner),
addressed the way Docker would address a container before the take-over.
``peer`` namespace: the Linux kernel stack, the reference peer (ping, sockets).

Names are unique per test run; both namespaces are deleted (which deletes the veth pair)
even when a test fails, and the fixture checks nothing is left behind. Everything skips,
with the reason, when not root or when ``ip netns`` is not usable here.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("peer_probe.py")
NODE_IP, PEER_IP, PREFIX = "10.199.0.2", "10.199.0.1", 24
serial = itertools.count(1)


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=10)


def env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@dataclass
class NetnsPair:
    node_ns: str
    peer_ns: str
    node_if: str
    peer_if: str
    node_ip: str = NODE_IP
    peer_ip: str = PEER_IP
    node_mac: str = ""
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def run(self, ns: str, *cmd: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", ns, *cmd],
            capture_output=True, text=True, env=env(), cwd=ROOT, timeout=timeout, check=False,
        )  # fmt: skip

    def peer_probe(self, *args: str) -> dict[str, Any]:
        proc = self.run(self.peer_ns, sys.executable, str(PROBE), *args)
        assert proc.returncode == 0, proc.stderr
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def take_over(self, state_file: Path) -> list[dict[str, Any]]:
        proc = self.run(self.node_ns, sys.executable, "-m", "nodes.io.takeover", self.node_ip,
                        "--state-file", str(state_file))  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        taken: list[dict[str, Any]] = json.loads(proc.stdout)
        return taken

    def start_node(self, state_file: Path, *extra: str) -> NodeProcess:
        cmd = ["ip", "netns", "exec", self.node_ns, sys.executable, "-m", "nodes.io.standalone",
               "--address", self.node_ip, "--state-file", str(state_file), *extra]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env(), cwd=ROOT)  # fmt: skip
        self.procs.append(proc)
        node = NodeProcess(proc)
        node.wait_ready()
        return node


class NodeProcess:
    """Our stack in the node namespace. ``ip netns exec`` execs, so the pid is Python's."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.interfaces: list[dict[str, Any]] = []

    def wait_ready(self, timeout: float = 10.0) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the first line is {"ready": ...}
        if not line:
            _, err = self.proc.communicate(timeout=timeout)
            pytest.fail(f"node did not start: {err}")
        self.interfaces = json.loads(line)["ready"]

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> dict[str, Any]:
        """SIGTERM; returns the counters the node printed on its way out."""
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=10)
        assert self.proc.returncode == 0, err
        counters: dict[str, Any] = json.loads(out.strip().splitlines()[-1])["counters"]
        return counters


def require_netns() -> None:
    if os.geteuid() != 0:
        pytest.skip("netns tests need root (network namespaces, AF_PACKET)")
    if shutil.which("ip") is None:
        pytest.skip("netns tests need iproute2 (`ip`)")


def leftovers(names: list[str]) -> list[str]:
    netns = ip("netns", "list", check=False).stdout
    links = ip("-o", "link", "show", check=False).stdout
    return [n for n in names if n in netns or f" {n}:" in links or f" {n}@" in links]


@contextlib.contextmanager
def open_pair() -> Iterator[NetnsPair]:
    """Create the namespaces and the veth; always delete them again and check that."""
    require_netns()
    tag = f"wl{os.getpid() % 100000}x{next(serial)}"
    p = NetnsPair(f"{tag}-node", f"{tag}-peer", f"{tag}n", f"{tag}p")
    names = [p.node_ns, p.peer_ns, p.node_if, p.peer_if]
    created: list[str] = []
    try:
        for ns in (p.node_ns, p.peer_ns):
            res = ip("netns", "add", ns, check=False)
            if res.returncode != 0:
                pytest.skip(f"`ip netns add` is not permitted here: {res.stderr.strip()}")
            created.append(ns)
        ip("link", "add", p.node_if, "netns", p.node_ns, "type", "veth",
            "peer", "name", p.peer_if, "netns", p.peer_ns)  # fmt: skip
        for ns, ifname, addr in ((p.node_ns, p.node_if, p.node_ip),
                                 (p.peer_ns, p.peer_if, p.peer_ip)):  # fmt: skip
            ip("-n", ns, "addr", "add", f"{addr}/{PREFIX}", "dev", ifname)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", ifname, "up")
        link = json.loads(ip("-n", p.node_ns, "-j", "link", "show", p.node_if).stdout)
        p.node_mac = link[0]["address"]
        yield p
    finally:
        for proc in p.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)
        for ns in created:
            ip("netns", "del", ns, check=False)
        deadline = time.monotonic() + 5
        while leftovers(names) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not leftovers(names), f"left behind: {leftovers(names)}"
