"""The in-process simulation figure and the profile of our TCP bulk path.

``sim_transfer``: h1 -- r1 -- h2 (``nodes.io.simulate.build_line``, our stack everywhere,
virtual time), ``size`` bytes h1 -> h2 through the public socket API, reading as fast as
data comes. Virtual seconds (connect to the last byte read) per wall second of the same.
"""

from __future__ import annotations

import contextlib
import cProfile
import hashlib
import io
import pstats
import random
import time
from dataclasses import dataclass

from nodes.io.simulate import build_line
from nodes.stack.tcp.api import TcpSocket

CHUNK = 65536


@dataclass(frozen=True, slots=True)
class SimRun:
    size: int
    virtual_s: float
    wall_s: float
    events: int
    sha_ok: bool

    @property
    def ratio(self) -> float:
        return self.virtual_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def virtual_goodput_mbps(self) -> float:
        return self.size / self.virtual_s / 1e6 if self.virtual_s > 0 else 0.0


def sim_transfer(size: int, *, delay: float = 0.001, seed: int = 7) -> SimRun:
    data = random.Random(size).randbytes(size)
    want = hashlib.sha256(data).digest()
    view = memoryview(data)
    line = build_line(1, delay=delay, seed=seed)
    sim = line.sim
    server = line.right.tcp.socket()
    server.bind(0, 5001)
    server.listen(8)
    client = line.left.tcp.socket()
    digest = hashlib.sha256()
    peers: list[TcpSocket] = []
    state = {"sent": 0, "got": 0}

    def pump() -> bool:
        now = sim.now
        if not peers:
            with contextlib.suppress(BlockingIOError):
                peers.append(server.accept())
        if client.state == "ESTABLISHED":
            sent = state["sent"]
            with contextlib.suppress(BlockingIOError):
                while sent < size:
                    sent += client.send(view[sent : sent + CHUNK], now=now)
            state["sent"] = sent
        for peer in peers:
            with contextlib.suppress(BlockingIOError):
                while chunk := peer.recv(1 << 20, now=now):
                    digest.update(chunk)
                    state["got"] += len(chunk)
        return state["got"] >= size

    wall0 = time.perf_counter()
    start = sim.now
    client.connect(line.address("h2"), 5001, now=sim.now)
    done = sim.run(pump, timeout=3600.0)
    wall = time.perf_counter() - wall0
    if not done:
        raise RuntimeError(f"sim transfer stalled at {state['got']}/{size} bytes")
    return SimRun(size, sim.now - start, wall, sim.events_run, digest.digest() == want)


def profile_transfer(size: int, *, top: int = 25, delay: float = 0.001) -> tuple[SimRun, str]:
    """cProfile of :func:`sim_transfer`: the run and the top ``top`` functions by tottime."""
    prof = cProfile.Profile()
    prof.enable()
    run = sim_transfer(size, delay=delay)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    out.write(f"\n---- the same, top {top} by cumulative time ----\n")
    stats.sort_stats("cumulative").print_stats(top)
    text = out.getvalue()
    header = (
        f"cProfile of the sim TCP bulk path: {size / 1e6:g} MB h1 -> r1 -> h2 "
        f"(nodes.io.simulate.build_line, link delay {delay * 1e3:g} ms), top {top} by tottime\n"
        f"virtual {run.virtual_s:.3f} s, wall {run.wall_s:.2f} s under the profiler, "
        f"{run.events} wire events, sha256 ok: {run.sha_ok}\n"
    )
    return run, header + text


# ---- the virtual backend ------------------------------------------------------------------

VIRTUAL_LINK = """
name: vbench
nodes:
  h1: {kind: host}
  h2: {kind: host, apps: [sink:5001]}
links:
  - endpoints: [h1, h2]
    rate: 100mbit
    delay: 10ms
"""


@dataclass(frozen=True, slots=True)
class VirtualRun:
    size: int
    virtual_s: float  # the transfer's own duration, as it reports it (virtual)
    wall_s: float  # wall time of the whole Transfer operation
    sha_ok: bool
    goodput_bps: float  # virtual
    retransmits: int
    turns: int  # node turns the lab's world gave during the transfer

    @property
    def ratio(self) -> float:
        return self.virtual_s / self.wall_s if self.wall_s > 0 else 0.0


def virtual_transfer(size: int, *, seed: int = 7) -> VirtualRun:
    """``size`` bytes h1 -> h2 over one 100 Mbit/s, 10 ms link on the virtual backend, as
    the lab service runs a Transfer (node agents called in-process, the lab's world driven
    by the transfer's wait), in this thread (so cProfile sees all of it)."""
    from orchestrator.domain.requests import transfer
    from orchestrator.lab.backends import Backends
    from orchestrator.lab.backends.virtual import VirtualBackend
    from orchestrator.lab.transfer import run_transfer
    from orchestrator.service.registry import LabRegistry

    backend = VirtualBackend()
    registry = LabRegistry(Backends({"virtual": backend}))
    try:
        session = registry.deploy(VIRTUAL_LINK, backend="virtual", seed=seed)
        world = backend.world(session.name)
        session.wait(1.0)  # ARP, gratuitous ARP: settled before the figure starts
        turns = world.turns
        wall0 = time.perf_counter()
        report = run_transfer(session, transfer("h1", "h2", size=size, timeout=3600.0))
        wall = time.perf_counter() - wall0
        return VirtualRun(
            size, report.seconds, wall, report.sha256_match, report.goodput_bps,
            report.retransmits, world.turns - turns,
        )  # fmt: skip
    finally:
        registry.close()


def profile_virtual(size: int, *, top: int = 30) -> tuple[VirtualRun, str]:
    """cProfile of :func:`virtual_transfer`, with the share of time in the world itself
    (nodes/io/world.py) and in the driven runner's turn outside the node."""
    prof = cProfile.Profile()
    prof.enable()
    run = virtual_transfer(size)
    prof.disable()
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    world = sum(
        v[2]
        for k, v in stats.stats.items()  # type: ignore[attr-defined]
        if k[0].endswith("nodes/io/world.py")
    )
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    out.write(f"\n---- the same, top {top} by cumulative time ----\n")
    stats.sort_stats("cumulative").print_stats(top)
    header = (
        f"cProfile of a virtual-backend transfer: {size / 1e6:g} MB h1 -> h2 over one "
        f"100 Mbit/s 10 ms link (bench/simbench.py virtual_transfer), top {top} by tottime\n"
        f"virtual {run.virtual_s:.3f} s, wall {run.wall_s:.2f} s under the profiler, "
        f"{run.turns} node turns, sha256 ok: {run.sha_ok}; time in nodes/io/world.py itself: "
        f"{world / total * 100 if total else 0:.1f}% of {total:.2f} s\n"
    )
    return run, header + out.getvalue()
