"""Header prediction (the ESTABLISHED fast path) changes nothing but the work done.

Two engines under test, one with ``header_prediction`` and one forced down the full path,
get the same seeded random segment sequences from a scripted peer: in-order data, pure
ACKs, duplicate ACKs, window updates (zero windows too), out-of-order and duplicate data,
old timestamps (PAWS), SACK blocks, old and too-new ACKs, URG, FIN; the application sends
and reads, and time advances (delayed ACKs, RTOs, tail loss probes, persist probes).
After every step the emitted segments (bytes), the whole connection state (TCB,
congestion control, RTT estimator, scoreboard, buffers, timers), the engine's counters
and timer heap must be identical; the fast-path counters must show it was taken.
"""

from __future__ import annotations

import random
from collections import deque
from enum import Enum
from typing import Any

import pytest

from nodes.stack.tcp.api import TcpSocket
from nodes.stack.tcp.config import TcpConfig
from nodes.stack.tcp.connection import Connection
from nodes.stack.tcp.testing import Script
from nodes.wire.tcp import TcpFlags as F
from nodes.wire.tcp import TcpOptions, TcpSegment

MSS = 1448
MASK = 0xFFFFFFFF
FAST_COUNTERS = ("fastpath_acks", "fastpath_data")
_SKIP = frozenset({"owner", "cfg", "stats", "listener"})  # the engine, its config, shared


def snapshot(obj: object) -> Any:
    """Everything reachable from ``obj`` as plain comparable values."""
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, Enum)):
        return obj
    if isinstance(obj, (bytearray, memoryview)):
        return bytes(obj)
    if isinstance(obj, (list, tuple, deque)):
        return [snapshot(x) for x in obj]
    if isinstance(obj, dict):
        return {k: snapshot(v) for k, v in obj.items()}
    names = list(vars(obj)) if hasattr(obj, "__dict__") else []
    for cls in type(obj).__mro__:
        slots = getattr(cls, "__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return {n: snapshot(getattr(obj, n)) for n in names if n not in _SKIP and hasattr(obj, n)} | {
        "__type__": type(obj).__name__
    }


class Twin:
    """One engine with header prediction, one without, driven identically."""

    def __init__(self, opts: TcpOptions, **config: Any) -> None:
        self.scripts = [Script(TcpConfig(header_prediction=on, **config)) for on in (True, False)]
        for s in self.scripts:
            s.listen().set_buffer_sizes(rcvbuf=24 * MSS)
        self.socks: list[TcpSocket] = []
        self.iss = 0
        for s in self.scripts:
            sock, self.iss = s.accept_connection(options=opts, window=1000)
            self.socks.append(sock)
        self.step = 0

    @property
    def fast(self) -> Script:
        return self.scripts[0]

    def conns(self) -> list[Connection]:
        out = []
        for sock in self.socks:
            assert sock.connection is not None
            out.append(sock.connection)
        return out

    def inject(self, flags: int, **kw: Any) -> list[TcpSegment]:
        for s in self.scripts:
            s.inject(flags, **kw)
        return self.check()

    def app(self, call: str, *args: Any) -> list[TcpSegment]:
        results = []
        for s, sock in zip(self.scripts, self.socks, strict=True):
            try:
                results.append(getattr(sock, call)(*args, now=s.now))
            except OSError as err:  # BlockingIOError, BrokenPipeError
                results.append(type(err).__name__)
        assert results[0] == results[1], (self.step, call, results)
        return self.check()

    def advance(self, dt: float) -> list[TcpSegment]:
        for s in self.scripts:
            s.advance(s.now + dt)
        return self.check()

    def check(self) -> list[TcpSegment]:
        self.step += 1
        fast, slow = self.scripts
        raw = [[bytes(p.payload) for p in s.ip.sent] for s in self.scripts]
        assert raw[0] == raw[1], f"step {self.step}: different segments out"
        stats = [
            {k: v for k, v in s.engine.stats.items() if k not in FAST_COUNTERS}
            for s in self.scripts
        ]
        assert stats[0] == stats[1], f"step {self.step}: counters differ"
        heaps = [[(w, t) for w, t, _ in s.engine._timers] for s in self.scripts]
        assert heaps[0] == heaps[1], f"step {self.step}: timers differ"
        a, b = (snapshot(c) for c in self.conns())
        diff = {k for k in a if a[k] != b.get(k)}
        assert not diff, f"step {self.step}: connection state differs in {sorted(diff)}"
        slow.out()
        return fast.out()


class Peer:
    """A scripted peer that mostly behaves (in-order data, ACKs of what it got) and
    sometimes does everything else the full path exists for."""

    def __init__(self, twin: Twin, rng: random.Random, *, ts: bool, sack: bool) -> None:
        self.twin, self.rng, self.ts, self.sack = twin, rng, ts, sack
        self.acked = twin.iss + 1  # what the peer acknowledged of our data
        self.top = twin.iss + 1  # the highest sequence number we sent, + 1
        self.tsval = 100
        self.tsecr = 0
        self.window = 1000
        self.fin = False

    @property
    def seq(self) -> int:
        """The peer's next sequence number: it resends from our RCV.NXT (go-back-N)."""
        return self.twin.conns()[0].rcv_nxt & MASK

    def see(self, segments: list[TcpSegment]) -> None:
        for seg in segments:
            end = (seg.seq + len(seg.payload) + (1 if seg.flags & F.FIN else 0)) & MASK
            if (end - self.top) & MASK < 1 << 31:
                self.top = end
            if seg.options.timestamp is not None:
                self.tsecr = seg.options.timestamp[0]

    def options(self, *, old_ts: bool = False, blocks: tuple[tuple[int, int], ...] = ()) -> Any:
        if self.rng.random() < 0.3:
            self.tsval += self.rng.randrange(1, 5)
        ts = None
        if self.ts:
            ts = ((self.tsval - self.rng.randrange(1, 1000)) & MASK if old_ts else self.tsval,
                  self.tsecr)  # fmt: skip
        if not ts and not blocks:
            return None
        return TcpOptions(timestamp=ts, sack_blocks=blocks)

    def next_ack(self) -> int:
        """Mostly advance toward what we sent; sometimes stay (a duplicate)."""
        out = (self.top - self.acked) & MASK
        if out and self.rng.random() < 0.75:
            step = self.rng.choice((MSS, 2 * MSS, 3 * MSS, self.rng.randrange(1, out + 1)))
            step = min(out, step)
            self.acked = (self.acked + step) & MASK
        return self.acked

    def segment(self, flags: int, payload: bytes = b"", **kw: Any) -> None:
        kw.setdefault("ack", self.acked)
        kw.setdefault("window", self.window)
        kw.setdefault("options", self.options())
        kw.setdefault("seq", self.seq)
        self.see(self.twin.inject(flags, payload=payload, **kw))

    def act(self) -> None:
        rng, twin = self.rng, self.twin
        r = rng.random()
        data = rng.randbytes(rng.choice((MSS, MSS, MSS, rng.randrange(1, MSS + 1))))
        psh = F.PSH if rng.random() < 0.4 else 0
        if r < 0.30:  # in-order data, its ACK possibly advancing
            self.next_ack() if rng.random() < 0.5 else None
            self.segment(F.ACK | psh, data)
        elif r < 0.50:  # a pure ACK (advancing, or a duplicate)
            self.next_ack()
            self.segment(F.ACK)
        elif r < 0.56:  # out of order: a hole of one or more segments
            self.segment(F.ACK | psh, data, seq=self.seq + MSS * rng.randrange(1, 4))
        elif r < 0.59:  # an old duplicate
            back = rng.randrange(1, 3 * MSS)
            self.segment(F.ACK, data, seq=self.seq - back)
        elif r < 0.62:  # PAWS: an old timestamp
            self.segment(F.ACK | psh, data, options=self.options(old_ts=True))
        elif r < 0.67 and self.sack:  # SACK blocks of what we sent beyond the ACK
            out = (self.top - self.acked) & MASK
            blocks = []
            for _ in range(rng.randrange(1, 4)):
                if out > 2 * MSS:
                    left = (self.acked + MSS * rng.randrange(1, out // MSS)) & MASK
                    right = (left + MSS * rng.randrange(1, 4)) & MASK
                    blocks.append((left, right))
            if blocks:
                self.segment(F.ACK, options=self.options(blocks=tuple(blocks)))
        elif r < 0.69:  # the window changes (sometimes closes)
            self.window = rng.choice((0, 3, 200, 1000, 1000, 1000))
            self.segment(F.ACK, ack=self.next_ack())
        elif r < 0.71:  # an ACK from the past or the future
            ack = self.acked - rng.randrange(1, 1 << 20) if rng.random() < 0.5 else self.top + 5
            self.segment(F.ACK, ack=ack & MASK)
        elif r < 0.72:  # urgent data
            self.segment(F.ACK | F.URG, data, urgent=len(data))
        elif r < 0.80:  # the application writes
            self.see(twin.app("send", rng.randbytes(rng.randrange(1, 12 * MSS))))
        elif r < 0.90:  # the application reads
            self.see(twin.app("recv", rng.choice((100, 1 << 20, 1 << 20))))
        else:  # time passes: delayed ACKs, RTO, TLP, persist
            self.see(twin.advance(rng.choice((0.0005, 0.001, 0.002, 0.005, 0.02, 0.05, 0.3))))

    def finish(self) -> None:
        self.segment(F.ACK | F.FIN, b"end")
        for _ in range(20):
            self.act()


CASES: dict[str, tuple[dict[str, Any], bool, bool]] = {  # config, peer TS, peer SACK
    "ts+sack": ({"timestamps": True, "sack": True}, True, True),
    "sack, no ts": ({"timestamps": False, "sack": True}, False, True),
    "ts, no sack": ({"timestamps": True, "sack": False}, True, False),
    "reno": ({"congestion": "reno"}, True, True),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", range(6))
def test_fast_and_full_path_agree_on_random_segment_sequences(case: str, seed: int) -> None:
    config, ts, sack = CASES[case]
    opts = TcpOptions(mss=MSS + (12 if ts else 0), wscale=7, sack_permitted=sack,
                      timestamp=(100, 0) if ts else None)  # fmt: skip
    twin = Twin(opts, **config)
    peer = Peer(twin, random.Random(seed * 7919 + len(case)), ts=ts, sack=sack)
    for _ in range(500):
        peer.act()
    peer.finish()
    fast, slow = (s.engine.stats for s in twin.scripts)
    assert fast["fastpath_acks"] >= 10 and fast["fastpath_data"] >= 10, dict(fast)
    assert slow["fastpath_acks"] == slow["fastpath_data"] == 0


def test_bulk_in_order_data_and_acks_take_the_fast_path() -> None:
    """The common cases, hand-written: in-order data is taken by prediction (and ACKed
    every second segment), a pure ACK for our data is too; a duplicate ACK is not."""
    s = Script()
    s.listen()
    sock, iss = s.accept_connection(
        options=TcpOptions(mss=1460, sack_permitted=True, timestamp=(10, 0))
    )
    stats = s.engine.stats
    seq = 1001
    for k in range(40):
        s.inject(F.ACK, seq=seq, ack=iss + 1, payload=bytes(MSS),
                 options=TcpOptions(timestamp=(11 + k, 0)))  # fmt: skip
        seq += MSS
    assert stats["fastpath_data"] == 40
    assert [seg.ack for seg in s.out()][-1] == seq
    sock.send(bytes(4 * MSS), now=s.now)
    sent = s.out()
    assert len(sent) == 4
    s.advance(0.001)  # (before the tail loss probe: PTO is 2 ms here)
    s.inject(F.ACK, seq=seq, ack=sent[1].seq + MSS, options=TcpOptions(timestamp=(60, 0)))
    assert stats["fastpath_acks"] == 1
    s.inject(F.ACK, seq=seq, ack=sent[1].seq + MSS, options=TcpOptions(timestamp=(60, 0)))
    assert stats["fastpath_acks"] == 1 and stats["dup_acks"] == 1
