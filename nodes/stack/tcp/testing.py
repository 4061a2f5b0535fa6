"""Test doubles for TCP without the rest of the stack: a fake IP layer that records what
the engine sends, and a two-node in-memory network with a manual clock where a test can
drop, delay, duplicate, reorder or corrupt segments. Sans-I/O like the rest."""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nodes.faults.engine import FaultEngine
from nodes.faults.model import FaultSpec
from nodes.io.simulate import Line, build_line
from nodes.stack.config import StackConfig
from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.connection import Connection
from nodes.stack.tcp.engine import TcpEngine
from nodes.wire.tcp import TcpOptions, TcpSegment, build_tcp, parse_tcp


@dataclass(frozen=True, slots=True)
class Packet:
    """The part of an IPv4Packet TCP looks at."""

    src: int
    dst: int
    payload: memoryview
    df: bool = True


@dataclass(frozen=True, slots=True)
class Icmp:
    type: int
    code: int
    rest: int


@dataclass(frozen=True, slots=True)
class Quoted:
    src: int
    dst: int
    proto: int
    total_length: int
    l4: memoryview


@dataclass(slots=True)
class FakeIp:
    """Records every send_ip call; ``mtu`` is what route_mtu answers."""

    address: int
    mtu: int = 1500
    sent: list[Packet] = field(default_factory=list)
    routable: bool = True

    def send_ip(
        self, dst: int, proto: int, payload: bytes | memoryview, *, now: float,
        src: int | None = None, ttl: int | None = None, df: bool = False, tos: int = 0,
    ) -> bool:  # fmt: skip
        if not self.routable:
            return False
        self.sent.append(Packet(src or self.address, dst, memoryview(bytes(payload)), df))
        return True

    def route_mtu(self, dst: int) -> int | None:
        return self.mtu if self.routable else None

    def source_address_for(self, dst: int) -> int | None:
        return self.address if self.routable else None

    def drain(self) -> list[TcpSegment]:
        """Parsed segments sent since the last drain (checksums verified)."""
        out = [parse_tcp(p.payload, p.src, p.dst) for p in self.sent]
        self.sent.clear()
        return out


# A link filter sees (now, packet) and returns [(extra_delay, payload bytes), ...]:
# [] drops, two entries duplicate, changed bytes corrupt, extra delay reorders.
LinkFilter = Callable[[float, Packet], list[tuple[float, bytes]]]


class Network:
    """Two TCP engines ``a`` and ``b`` joined by a link with a one-way ``delay``, an
    optional ``rate`` (bytes/s), an optional ``filter`` (impairments) and an optional
    ``link_mtu`` (DF packets above it are answered with ICMP frag-needed)."""

    def __init__(
        self,
        *,
        delay: float = 0.005,
        rate: float | None = None,
        config_a: TcpConfig | None = None,
        config_b: TcpConfig | None = None,
        mtu: int = 1500,
        seed: int = 1,
    ) -> None:
        self.now = 0.0
        self.delay = delay
        self.rate = rate
        self.addr_a, self.addr_b = 0x0A000001, 0x0A000102
        self.ip_a, self.ip_b = FakeIp(self.addr_a, mtu), FakeIp(self.addr_b, mtu)
        self.a = TcpEngine(self.ip_a, config_a or TcpConfig(), random.Random(seed))
        self.b = TcpEngine(self.ip_b, config_b or TcpConfig(), random.Random(seed + 1))
        self.filter: LinkFilter | None = None
        self.link_mtu: int | None = None
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._tick = itertools.count()
        self._busy_until = {self.addr_a: 0.0, self.addr_b: 0.0}
        self.delivered = self.dropped = self.icmp_sent = 0

    def engine_for(self, address: int) -> TcpEngine:
        return self.a if address == self.addr_a else self.b

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._events, (when, next(self._tick), action))

    def _collect(self) -> None:
        for ip in (self.ip_a, self.ip_b):
            if ip.sent:
                packets, ip.sent = ip.sent, []
                for pkt in packets:
                    self._enqueue(pkt)

    def _enqueue(self, pkt: Packet) -> None:
        if self.link_mtu is not None and pkt.df and len(pkt.payload) + 20 > self.link_mtu:
            self.icmp_sent += 1
            quoted = Quoted(pkt.src, pkt.dst, 6, len(pkt.payload) + 20, pkt.payload[:8])
            sender, msg = self.engine_for(pkt.src), Icmp(3, 4, self.link_mtu)
            self.at(self.now + self.delay,
                    lambda: sender.on_icmp_error(msg, quoted, now=self.now))  # fmt: skip
            return
        start = max(self.now, self._busy_until[pkt.src])
        tx = len(pkt.payload) / self.rate if self.rate else 0.0
        self._busy_until[pkt.src] = start + tx
        base = start + tx + self.delay
        outs = self.filter(self.now, pkt) if self.filter else [(0.0, bytes(pkt.payload))]
        if not outs:
            self.dropped += 1
        receiver = self.engine_for(pkt.dst)
        for extra, data in outs:
            copy = Packet(pkt.src, pkt.dst, memoryview(data))
            self.at(base + extra, lambda p=copy: self._deliver(receiver, p))  # type: ignore[misc]

    def _deliver(self, engine: TcpEngine, pkt: Packet) -> None:
        self.delivered += 1
        engine.on_packet(pkt, now=self.now)

    def step(self, limit: float) -> bool:
        """Advance to the next event no later than ``limit``; False if there is none."""
        self._collect()
        t_ev = self._events[0][0] if self._events else None
        t_a, t_b = self.a.next_deadline(), self.b.next_deadline()
        times = [t for t in (t_ev, t_a, t_b) if t is not None]
        if not times or min(times) > limit:
            return False
        t = min(times)
        self.now = max(self.now, t)
        while self._events and self._events[0][0] <= t:
            heapq.heappop(self._events)[2]()
        for engine, when in ((self.a, t_a), (self.b, t_b)):
            if when is not None and when <= t:
                engine.on_timer(now=self.now)
        self._collect()
        return True

    def run(
        self,
        duration: float | None = None,
        *,
        until: Callable[[], bool] | None = None,
        max_time: float = 1e9,
    ) -> float:
        """Run until ``until()`` is true, ``duration`` passed, or nothing is left to do."""
        limit = min(self.now + duration, max_time) if duration is not None else max_time
        while not (until is not None and until()):
            if not self.step(limit):
                if duration is not None:
                    self.now = max(self.now, limit)
                break
        return self.now


LOCAL_ADDR = 0xC0000201  # 192.0.2.1: the engine under test
REMOTE_ADDR = 0xC6336402  # 198.51.100.2: the scripted peer


class Script:
    """packetdrill-style: one engine under test; the test plays the peer by injecting
    exact segments and asserts the exact segments and timers that come out."""

    def __init__(self, config: TcpConfig | None = None, *, seed: int = 1, mtu: int = 1500):
        self.ip = FakeIp(LOCAL_ADDR, mtu)
        self.engine = TcpEngine(self.ip, config or TcpConfig(), random.Random(seed))
        self.now = 0.0
        self.listener: TcpSocket | None = None

    def inject(
        self,
        flags: int,
        *,
        seq: int,
        ack: int = 0,
        window: int = 65535,
        payload: bytes = b"",
        options: TcpOptions | None = None,
        sport: int = 40000,
        dport: int = 80,
        urgent: int = 0,
        corrupt: bool = False,
    ) -> None:
        raw = bytearray(build_tcp(
            REMOTE_ADDR, LOCAL_ADDR, src_port=sport, dst_port=dport, seq=seq & 0xFFFFFFFF,
            ack=ack & 0xFFFFFFFF, flags=flags, window=window, payload=payload, options=options,
            urgent=urgent,
        ))  # fmt: skip
        if corrupt:
            raw[-1] ^= 0x55
        self.engine.on_packet(Packet(REMOTE_ADDR, LOCAL_ADDR, memoryview(bytes(raw))), now=self.now)

    def out(self) -> list[TcpSegment]:
        return self.ip.drain()

    def advance(self, to: float) -> None:
        """Fire every timer due up to ``to`` (in order), then set the clock to ``to``."""
        while True:
            when = self.engine.next_deadline()
            if when is None or when > to:
                break
            self.now = max(self.now, when)
            self.engine.on_timer(now=self.now)
        self.now = to

    def deadline(self) -> float | None:
        return self.engine.next_deadline()

    # ------------------------------------------------------------ canned openings
    def listen(self, port: int = 80, backlog: int = 8) -> TcpSocket:
        sock = self.engine.socket()
        sock.bind(0, port)
        sock.listen(backlog)
        self.listener = sock
        return sock

    def accept_connection(
        self,
        *,
        peer_isn: int = 1000,
        options: TcpOptions | None = None,
        window: int = 65535,
        sport: int = 40000,
    ) -> tuple[TcpSocket, int]:
        """Passive open by script; returns (the accepted socket, our ISS)."""
        listener = self.listener or self.listen()
        opts = options if options is not None else TcpOptions(mss=1460)
        self.inject(0x02, seq=peer_isn, options=opts, window=window, sport=sport)
        synack = self.out()[-1]
        ts = None
        if opts.timestamp is not None and synack.options.timestamp is not None:
            ts = (opts.timestamp[0] + 1, synack.options.timestamp[0])
        self.inject(0x10, seq=peer_isn + 1, ack=synack.seq + 1, window=window, sport=sport,
                    options=TcpOptions(timestamp=ts) if ts else None)  # fmt: skip
        self.out()
        return listener.accept(), synack.seq

    def connect(
        self, *, peer_isn: int = 5000, options: TcpOptions | None = None, window: int = 65535
    ) -> tuple[TcpSocket, int]:
        """Active open by script; returns (the connected socket, our ISS)."""
        sock = self.engine.socket()
        sock.connect(REMOTE_ADDR, 80, now=self.now)
        syn = self.out()[-1]
        self.inject(0x12, seq=peer_isn, ack=syn.seq + 1, window=window, sport=80,
                    dport=syn.src_port, options=options or TcpOptions(mss=1460))  # fmt: skip
        self.out()
        return sock, syn.seq


# ---------------------------------------------------------------- transfers over the sim


@dataclass(slots=True)
class Transfer:
    """A bulk transfer h1 -> h2 over ``build_line`` (h1 -- r1 -- h2): the result."""

    line: Line
    sender: Connection
    receiver: Connection
    received: int
    sha256: bytes
    elapsed: float  # from ESTABLISHED to the last byte read


def pattern(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def line_transfer(
    size: int,
    *,
    delay: float = 0.005,
    config: TcpConfig | None = None,
    faults: Sequence[FaultSpec] = (),
    rcvbuf: int | None = None,
    during: Callable[[Line, Connection, float], None] | None = None,
    timeout: float = 120.0,
    read_chunk: int = 1 << 20,
    stall_ok: bool = False,
) -> Transfer:
    """Send ``size`` pattern bytes from h1 to h2 (port 5001) through r1 (whose fault
    engine gets ``faults``), reading as fast as the data comes; ``during(line, sender,
    now)`` runs at every simulation step. Fails loudly on a stall (unless ``stall_ok``:
    then ``received`` tells how far it got within ``timeout``)."""
    stack = StackConfig(tcp=config or TcpConfig())
    line = build_line(1, delay=delay, seed=7, host_config=stack)
    sim = line.sim
    if faults:
        engine = FaultEngine(rng=random.Random(3))
        for k, spec in enumerate(faults):
            engine.add(spec, now=0.0, fault_id=f"f{k}")
        sim.set_impairment("r1", engine)
    server = line.right.tcp.socket()
    if rcvbuf is not None:
        server.set_buffer_sizes(rcvbuf=rcvbuf)
    server.bind(0, 5001)
    server.listen(8)
    client = line.left.tcp.socket()
    client.connect(line.address("h2"), 5001, now=sim.now)
    sender = client.connection
    assert sender is not None
    data = memoryview(pattern(size))
    digest = hashlib.sha256()
    peers: list[TcpSocket] = []
    progress = {"sent": 0, "got": 0}
    start: list[float] = []

    def pump() -> bool:
        now = sim.now
        if during is not None:
            during(line, sender, now)
        if not peers:
            with contextlib.suppress(BlockingIOError):
                peers.append(server.accept())
        if client.state == "ESTABLISHED":
            if not start:
                start.append(now)
            sent = progress["sent"]
            with contextlib.suppress(BlockingIOError):
                while sent < size:
                    sent += client.send(data[sent : sent + 65536], now=now)
            progress["sent"] = sent
        for peer in peers:
            with contextlib.suppress(BlockingIOError):
                while chunk := peer.recv(read_chunk, now=now):
                    digest.update(chunk)
                    progress["got"] += len(chunk)
        return progress["got"] >= size

    done = sim.run(pump, timeout=timeout)
    assert done or stall_ok, f"transfer stalled at {progress['got']}/{size} bytes, t={sim.now:.2f}"
    receiver = peers[0].connection
    assert receiver is not None
    elapsed = sim.now - start[0]
    return Transfer(line, sender, receiver, progress["got"], digest.digest(), elapsed)
