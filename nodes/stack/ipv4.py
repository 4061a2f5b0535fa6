"""IPv4 datagram engine pieces: fragmentation (RFC 791) and reassembly (RFC 815 holes,
RFC 5722-style overlap rejection, Linux ipfrag_time / ipfrag_high_thresh).

Reassembly keys queues by (src, dst, proto, ident). Exact duplicates are ignored; any
other overlap drops the whole datagram. A queue lives ``ipfrag_time`` seconds from its
first fragment; on expiry the caller sends ICMP time exceeded (code 1) only when fragment
0 arrived (RFC 792/1122; it is the one quoted). Memory is capped: a fragment that would
take the total over ``ipfrag_high_thresh`` is dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.wire.ipv4 import IPV4_HLEN, IPV4_MAX_LENGTH, IPv4Packet, build_ipv4, parse_ipv4

_FRAG_OVERHEAD = 64  # bytes charged per fragment on top of its data (like skb truesize)


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
    first: IPv4Packet | None = None  # fragment 0 (its header is reused, it is quoted)
    first_raw: bytes = b""


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
        if q is None:
            q = _Queue(expires=now + self._cfg.ipfrag_time)
        cost = end - start + _FRAG_OVERHEAD
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
        q.frags.append((start, end, bytes(packet.payload)))
        q.received += end - start
        q.mem += cost
        self.mem += cost
        if start == 0:
            q.first = packet
        self._queues[key] = q
        if q.total is None or q.received != q.total:
            return None
        return self._complete(key, q)

    def _complete(self, key: tuple[int, int, int, int], q: _Queue) -> IPv4Packet | None:
        self._drop(key)
        first = q.first
        assert first is not None  # full coverage without overlap includes offset 0
        if first.header_length + (q.total or 0) > IPV4_MAX_LENGTH:
            self._c.inc("ip_reasm_too_big")
            self._c.inc("ip_reasm_fails")
            return None
        q.frags.sort()
        data = b"".join(d for _, _, d in q.frags)
        raw = build_ipv4(
            src=first.src,
            dst=first.dst,
            proto=first.proto,
            payload=data,
            ttl=first.ttl,
            ident=first.ident,
            tos=first.tos,
            df=first.df,
            options=bytes(first.header[IPV4_HLEN:]),
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
            if q.first is not None:
                quotes.append(q.first_raw)
        return quotes
