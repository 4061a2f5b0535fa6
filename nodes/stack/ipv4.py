"""IPv4 datagram engine pieces: fragmentation (RFC 791) and reassembly (RFC 815 holes,
RFC 5722-style overlap rejection, Linux ipfrag_time / ipfrag_high_thresh).

Reassembly keys queues by (src, dst, proto, ident). Exact duplicates are ignored; any
other overlap drops the whole datagram. A queue lives ``ipfrag_time`` seconds from its
first fragment; on expiry the caller sends ICMP time exceeded (code 1) only when fragment
0 arrived (RFC 792/1122; it is the one quoted). Memory is capped: a fragment that would
take the total over ``ipfrag_high_thresh`` is dropped and counted (``ip_reasm_mem_drops``),
as Linux since 4.17 drops rather than evicts. The charge is what a queue really holds
here, like an skb's truesize: each fragment's data plus ``FRAG_OVERHEAD``, each queue
``QUEUE_OVERHEAD`` (its objects, key, table slot and the copy of fragment 0's header).
So the cap bounds both the memory and the number of queues (at most
``ipfrag_high_thresh / (QUEUE_OVERHEAD + FRAG_OVERHEAD)``). A queue keeps copies, never
views of the frames its fragments came in (a view would keep the whole frame alive).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.wire.ipv4 import (
    FLAG_DF,
    IPV4_HLEN,
    IPV4_MAX_LENGTH,
    IPv4Packet,
    build_ipv4,
    parse_ipv4,
)

_HDR = struct.Struct("!BBHHHBBHII")  # the fixed IPv4 header's fields

# What holding a fragment and a queue costs in CPython 3.11, measured with tracemalloc
# (tests/unit/test_stack_ipv4_bounds.py checks the charge covers it, in both builds): a
# fragment is a bytes copy (33 bytes + data), a (start, end, data) tuple with its ints and
# a list slot (~145 bytes; ~176 when compiled by mypyc, setup.py);
# a queue is a _Queue, its key tuple of four ints, its list, its table slot and the copy
# of fragment 0's header and first 8 payload bytes.
FRAG_OVERHEAD = 192
QUEUE_OVERHEAD = 480


def fragment(
    *,
    src: int,
    dst: int,
    proto: int,
    payload: bytes | memoryview,
    mtu: int,
    ident: int,
    ttl: int,
    tos: int = 0,
    first_options: bytes = b"",
    other_options: bytes = b"",
    base_offset: int = 0,
    last_mf: bool = False,
) -> list[bytes]:
    """Split ``payload`` into IP fragments that fit ``mtu``. ``base_offset``/``last_mf``
    let a router re-fragment a packet that is itself a fragment."""
    data = memoryview(payload)
    out: list[bytes] = []
    pos, n = 0, len(data)
    options = first_options
    while pos < n or not out:
        room = (mtu - IPV4_HLEN - len(options)) & ~7
        if room <= 0:
            raise ValueError(f"MTU {mtu} leaves no room for fragment data")
        end = min(n, pos + room)
        more = end < n or last_mf
        out.append(
            build_ipv4(
                src=src,
                dst=dst,
                proto=proto,
                payload=data[pos:end],
                ttl=ttl,
                ident=ident,
                tos=tos,
                mf=more,
                frag_offset=base_offset + pos,
                options=options,
            )
        )
        pos = end
        options = other_options
    return out


@dataclass(slots=True)
class _Queue:
    expires: float
    frags: list[tuple[int, int, bytes]] = field(default_factory=list)
    total: int | None = None  # payload length, known once the last fragment arrived
    received: int = 0
    mem: int = 0
    # fragment 0's header and first 8 payload bytes (a copy): its header is the whole
    # datagram's, and it is what ICMP time exceeded quotes; empty until it arrived
    first_raw: bytes = b""
    first_hlen: int = 0


class Reassembler:
    def __init__(self, config: StackConfig, counters: Counters) -> None:
        self._cfg = config
        self._c = counters
        self._queues: dict[tuple[int, int, int, int], _Queue] = {}
        self.mem = 0

    def __len__(self) -> int:
        return len(self._queues)

    def add(self, packet: IPv4Packet, *, now: float) -> IPv4Packet | None:
        """Take one fragment; return the whole datagram when it completes."""
        c = self._c
        c.inc("ip_reasm_reqds")
        key = (packet.src, packet.dst, packet.proto, packet.ident)
        start = packet.frag_offset
        end = start + len(packet.payload)
        if packet.mf and ((end - start) & 7 or end == start):
            c.inc("ip_reasm_fails")  # non-last fragments carry multiples of 8 bytes
            return None
        q = self._queues.get(key)
        cost = end - start + FRAG_OVERHEAD
        if q is None:
            q = _Queue(expires=now + self._cfg.ipfrag_time)
            cost += QUEUE_OVERHEAD
        if self.mem + cost > self._cfg.ipfrag_high_thresh:
            c.inc("ip_reasm_mem_drops")
            c.inc("ip_reasm_fails")
            return None
        for s, e, _ in q.frags:
            if start < e and s < end:
                if (s, e) == (start, end):
                    return None  # an exact duplicate: keep the first copy
                c.inc("ip_reasm_overlaps")
                c.inc("ip_reasm_fails")
                self._drop(key)
                return None
        if not packet.mf:
            if (q.total is not None and q.total != end) or any(e > end for _, e, _ in q.frags):
                c.inc("ip_reasm_fails")  # two different ends, or data past the end
                self._drop(key)
                return None
            q.total = end
        elif q.total is not None and end > q.total:
            c.inc("ip_reasm_fails")
            self._drop(key)
            return None
        if start == 0:
            q.first_raw = bytes(packet.header) + bytes(packet.payload[:8])
            q.first_hlen = packet.header_length
        q.frags.append((start, end, bytes(packet.payload)))
        q.received += end - start
        q.mem += cost
        self.mem += cost
        self._queues[key] = q
        if q.total is None or q.received != q.total:
            return None
        return self._complete(key, q)

    def _complete(self, key: tuple[int, int, int, int], q: _Queue) -> IPv4Packet | None:
        self._drop(key)
        assert q.first_raw  # full coverage without overlap includes offset 0
        if q.first_hlen + (q.total or 0) > IPV4_MAX_LENGTH:
            self._c.inc("ip_reasm_too_big")
            self._c.inc("ip_reasm_fails")
            return None
        _, tos, _, ident, ff, ttl, proto, _, src, dst = _HDR.unpack_from(q.first_raw)
        q.frags.sort()
        data = b"".join(d for _, _, d in q.frags)
        raw = build_ipv4(
            src=src,
            dst=dst,
            proto=proto,
            payload=data,
            ttl=ttl,
            ident=ident,
            tos=tos,
            df=bool(ff & FLAG_DF),
            options=q.first_raw[IPV4_HLEN : q.first_hlen],
        )
        self._c.inc("ip_reasm_oks")
        return parse_ipv4(raw, verify_checksum=False)

    def _drop(self, key: tuple[int, int, int, int]) -> None:
        q = self._queues.pop(key, None)
        if q is not None:
            self.mem -= q.mem

    def next_deadline(self) -> float | None:
        # Queues expire in creation order (fixed lifetime), so the oldest is first.
        for q in self._queues.values():
            return q.expires
        return None

    def on_timer(self, *, now: float) -> list[bytes]:
        """Expire old queues; return the quotes (header + 8 bytes of fragment 0) for
        which ICMP time exceeded / reassembly must be sent."""
        quotes: list[bytes] = []
        for key, q in list(self._queues.items()):
            if q.expires > now:
                break
            self._drop(key)
            self._c.inc("ip_reasm_timeout")
            self._c.inc("ip_reasm_fails")
            if q.first_raw:
                quotes.append(q.first_raw)
        return quotes
