"""Fragmentation and reassembly engine."""

from __future__ import annotations

from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.stack.ipv4 import Reassembler, fragment
from nodes.wire.ipv4 import IPv4Packet, build_ipv4, parse_ipv4

SRC, DST = 0x0A000001, 0x0A000102
DATA = bytes(range(256)) * 12  # 3072 bytes


def frags(mtu: int = 576, data: bytes = DATA, ident: int = 7) -> list[IPv4Packet]:
    raws = fragment(src=SRC, dst=DST, proto=17, payload=data, mtu=mtu, ident=ident, ttl=64)
    return [parse_ipv4(r) for r in raws]


def reasm(**cfg: object) -> tuple[Reassembler, Counters]:
    c = Counters()
    return Reassembler(StackConfig(**cfg), c), c  # type: ignore[arg-type]


def test_fragment_sizes_offsets_and_flags() -> None:
    fs = frags()
    assert all(f.total_length <= 576 for f in fs)
    assert [f.frag_offset for f in fs] == [i * 552 for i in range(len(fs))]
    assert [f.mf for f in fs] == [True] * (len(fs) - 1) + [False]
    assert b"".join(bytes(f.payload) for f in fs) == DATA
    assert len({f.ident for f in fs}) == 1


def test_refragmenting_a_fragment_keeps_offsets_and_mf() -> None:
    raws = fragment(
        src=SRC,
        dst=DST,
        proto=17,
        payload=DATA[:1000],
        mtu=300,
        ident=1,
        ttl=9,
        base_offset=1480,
        last_mf=True,
    )
    fs = [parse_ipv4(r) for r in raws]
    assert fs[0].frag_offset == 1480 and all(f.mf for f in fs)


def test_reassembly_any_order_with_duplicates() -> None:
    r, c = reasm()
    fs = frags()
    order = [fs[3], fs[0], fs[0], fs[5], fs[1], fs[3], fs[4], fs[2]]
    results = [r.add(f, now=0.0) for f in order]
    whole = [x for x in results if x is not None]
    assert len(whole) == 1
    assert bytes(whole[0].payload) == DATA and not whole[0].mf
    assert whole[0].total_length == 20 + len(DATA)
    assert c["ip_reasm_oks"] == 1 and len(r) == 0 and r.mem == 0
    assert r.add(fs[3], now=1.0) is None  # a late copy opens a queue that just expires
    assert r.on_timer(now=31.0) == [] and len(r) == 0


def test_overlap_drops_whole_datagram() -> None:
    r, c = reasm()
    fs = frags()
    r.add(fs[0], now=0.0)
    f1 = fs[1]
    evil = parse_ipv4(
        build_ipv4(
            src=SRC,
            dst=DST,
            proto=17,
            payload=bytes(f1.payload),
            ident=7,
            mf=True,
            frag_offset=f1.frag_offset - 8,
        )
    )
    assert r.add(evil, now=0.0) is None
    assert c["ip_reasm_overlaps"] == 1 and len(r) == 0
    assert all(r.add(f, now=0.0) is None for f in fs[1:])  # a new queue, fragment 0 gone


def test_timeout_reports_only_with_fragment_zero() -> None:
    r, c = reasm()
    fs = frags()
    r.add(fs[0], now=1.0)
    r.add(fs[1], now=1.0)
    r2 = frags(ident=8)
    r.add(r2[1], now=2.0)
    assert r.next_deadline() == 31.0
    quotes = r.on_timer(now=31.0)
    assert len(quotes) == 1 and parse_ipv4(quotes[0][:20] + bytes(556), verify_checksum=True)
    assert r.next_deadline() == 32.0
    assert r.on_timer(now=32.0) == []
    assert c["ip_reasm_timeout"] == 2 and len(r) == 0 and r.mem == 0


def test_memory_cap_drops_and_counts() -> None:
    r, c = reasm(ipfrag_high_thresh=2000)
    fs = frags()
    for f in fs:
        r.add(f, now=0.0)
    assert c["ip_reasm_mem_drops"] >= 1 and r.mem <= 2000


def test_inconsistent_ends_rejected() -> None:
    r, c = reasm()
    fs = frags()
    r.add(fs[-1], now=0.0)
    short_last = parse_ipv4(
        build_ipv4(src=SRC, dst=DST, proto=17, payload=bytes(8), ident=7, frag_offset=8)
    )
    assert r.add(short_last, now=0.0) is None
    assert c["ip_reasm_fails"] == 1 and len(r) == 0
    odd = parse_ipv4(build_ipv4(src=SRC, dst=DST, proto=17, payload=bytes(13), ident=9, mf=True))
    assert r.add(odd, now=0.0) is None and c["ip_reasm_fails"] == 2
