"""10 MB transfers through a simulated router (h1 -- r1 -- h2) with the host stack, the
router and the fault engine: byte-exact (sha256) within a virtual time bound, under loss,
reordering, duplication, corruption, an MTU drop (PMTUD) and a link outage."""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from nodes.faults.engine import FaultEngine
from nodes.faults.model import Direction, Effects, FaultSpec
from nodes.io.simulate import Line, build_line
from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.engine import TcpEngine
from nodes.stack.tcp.info import TcpInfo

SIZE = 10 * 1024 * 1024
CHUNK = 1 << 16


@dataclass
class Result:
    elapsed: float
    received: bytes
    sender: TcpInfo
    counters: dict[str, int]
    line: Line


def payload(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def transfer(
    size: int = SIZE,
    *,
    faults: list[FaultSpec] = (),  # type: ignore[assignment]
    delay: float = 0.005,
    config: TcpConfig | None = None,
    during: Callable[[Line, float], None] | None = None,
    timeout: float = 120.0,
) -> Result:
    line = build_line(1, delay=delay, seed=7)
    sim = line.sim
    # fixed 128 KiB receive buffers (no autotuning): these transfers are sized for that
    # window over a 20 ms RTT, so the impairments below happen mid-transfer
    cfg = config or TcpConfig(moderate_rcvbuf=False)
    tcp1 = TcpEngine(ip=line.left, config=cfg, rng=random.Random(1))
    tcp2 = TcpEngine(ip=line.right, config=cfg, rng=random.Random(2))
    line.left.register_protocol(6, tcp1)
    line.right.register_protocol(6, tcp2)
    if faults:
        engine = FaultEngine(rng=random.Random(3))
        for k, spec in enumerate(faults):
            engine.add(spec, now=0.0, fault_id=f"f{k}")
        sim.set_impairment("r1", engine)
    server = tcp2.socket()
    server.bind(0, 5001)
    server.listen(8)
    client = tcp1.socket()
    client.connect(line.address("h2"), 5001, now=sim.now)
    data = payload(size)
    got = bytearray()
    state: dict[str, object] = {"sent": 0, "peer": None, "start": None}

    def pump() -> bool:
        now = sim.now
        if during is not None:
            during(line, now)
        if state["peer"] is None:
            with contextlib.suppress(BlockingIOError):
                state["peer"] = server.accept()
        if client.state == "ESTABLISHED" or client.state == "CLOSE_WAIT":
            if state["start"] is None:
                state["start"] = now
            sent = int(state["sent"])  # type: ignore[call-overload]
            while sent < size:
                try:
                    sent += client.send(memoryview(data)[sent : sent + CHUNK], now=now)
                except BlockingIOError:
                    break
            state["sent"] = sent
        peer = state["peer"]
        if isinstance(peer, TcpSocket):
            while True:
                try:
                    chunk = peer.recv(1 << 20, now=now)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                got.extend(chunk)
        return len(got) >= size

    done = sim.run(pump, timeout=timeout)
    assert done, f"transfer stalled at {len(got)}/{size} bytes, t={sim.now:.1f}"
    info = client.info()
    assert info is not None
    counters = line.left.counters()
    return Result(sim.now - float(state["start"] or 0.0), bytes(got), info, counters, line)  # type: ignore[arg-type]


def assert_exact(result: Result, size: int = SIZE) -> None:
    assert len(result.received) == size
    assert hashlib.sha256(result.received).digest() == hashlib.sha256(payload(size)).digest()


def both(**effects: object) -> list[FaultSpec]:
    """The same impairment on both router interfaces (so both directions of the flow)."""
    return [FaultSpec(i, Effects(**effects), Direction.INGRESS, seed=11 + k)  # type: ignore[arg-type]
            for k, i in enumerate(("eth0", "eth1"))]  # fmt: skip


def test_clean_transfer_1mb() -> None:
    result = transfer(1 << 20)
    assert_exact(result, 1 << 20)
    assert result.sender.retrans == 0 and result.elapsed < 1.0


@pytest.mark.slow
def test_10mb_clean() -> None:
    result = transfer()
    assert_exact(result)
    assert result.elapsed < 3.0  # ~1.7 s: the 128 KiB window over a 20 ms RTT


@pytest.mark.slow
def test_10mb_with_5_percent_loss() -> None:
    result = transfer(faults=both(loss=0.05))
    assert_exact(result)
    assert result.sender.retrans > 100
    assert result.elapsed < 60.0  # ~39 s: 5% loss each way keeps cwnd near 1.22/sqrt(p)


@pytest.mark.slow
def test_10mb_with_20_percent_reordering() -> None:
    result = transfer(faults=both(delay=0.004, reorder=0.2))
    assert_exact(result)
    assert result.counters["tcp_spurious_recoveries_undone"] >= 1  # Eifel undo
    assert result.elapsed < 10.0


@pytest.mark.slow
def test_10mb_with_5_percent_duplication() -> None:
    result = transfer(faults=both(duplicate=0.05))
    assert_exact(result)
    assert result.sender.retrans == 0 and result.elapsed < 5.0


@pytest.mark.slow
def test_10mb_with_2_percent_corruption() -> None:
    result = transfer(faults=both(corrupt=0.02))
    assert_exact(result)
    assert result.counters["tcp_bad_checksum"] > 0
    assert result.elapsed < 30.0


@pytest.mark.slow
def test_10mb_with_mtu_drop_to_576_mid_transfer() -> None:
    def shrink(line: Line, now: float) -> None:
        if now >= 0.5:
            router = line.routers[0]
            if router.interfaces.get("eth1").mtu != 576:
                router.set_mtu("eth1", 576)
                router.set_mtu("eth0", 576)

    result = transfer(during=shrink)
    assert_exact(result)
    assert result.sender.pmtu == 576 and result.sender.mss == 576 - 40 - 12
    assert result.counters["tcp_pmtu_updates"] >= 1
    assert result.elapsed < 5.0


@pytest.mark.slow
def test_10mb_with_a_2s_link_outage() -> None:
    def outage(line: Line, now: float) -> None:
        sim = line.sim
        if now >= 0.5 and "r1" not in sim.impairments:
            engine = FaultEngine(rng=random.Random(5))
            engine.add(FaultSpec("eth1", Effects(down=True), duration=2.0), now=now)
            sim.set_impairment("r1", engine)

    result = transfer(during=outage)
    assert_exact(result)
    assert result.counters["tcp_timeouts"] >= 1
    assert result.elapsed < 10.0  # 2 s dark + RTO backoff (0.2+0.4+0.8+1.6 s)


def test_local_mtu_drop_uses_the_hosts_own_frag_needed() -> None:
    def shrink_local(line: Line, now: float) -> None:
        if now >= 0.3 and line.left.interfaces.get("eth0").mtu != 1000:
            line.left.set_mtu("eth0", 1000)  # our own egress: Host reports EMSGSIZE via ICMP
            line.routers[0].set_mtu("eth0", 1000)

    result = transfer(1 << 21, during=shrink_local)
    assert_exact(result, 1 << 21)
    assert result.sender.pmtu == 1000 and result.counters["tcp_pmtu_updates"] == 1
    assert result.elapsed < 2.0
