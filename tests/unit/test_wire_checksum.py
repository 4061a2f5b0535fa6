"""nodes/wire/checksum.py (the lead's): against a naive RFC 1071 reference and scapy;
RFC 1624 incremental update against recomputation."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP, in4_chksum
from scapy.packet import Raw
from scapy.utils import checksum as scapy_checksum

from nodes.wire.checksum import (
    incremental_update,
    internet_checksum,
    ones_sum,
    pseudo_header_sum,
    transport_checksum,
    verify_transport,
)


def naive_ones_sum(data: bytes, initial: int = 0) -> int:
    """RFC 1071 section 4.1, word by word with end-around carry."""
    if len(data) % 2:
        data += b"\x00"
    total = initial
    for (word,) in struct.iter_unpack("!H", data):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def naive_checksum(data: bytes, initial: int = 0) -> int:
    return ~naive_ones_sum(data, initial) & 0xFFFF


EDGE = [
    b"",
    b"\x00",
    b"\xff",
    b"\x00\x00",
    b"\xff\xff",
    b"\xff\xff" * 100,
    b"\xff\xff\x00\x01",
    bytes(1500),
    b"\xff" * 1501,
    bytes(range(256)) * 6,
    bytes.fromhex("4500003c1c4640004006" + "0000" + "ac100a63ac100a0c"),  # RFC 1071-ish header
]


@pytest.mark.parametrize("data", EDGE)
def test_edge_cases_match_reference_and_scapy(data: bytes) -> None:
    assert ones_sum(data) == naive_ones_sum(data)
    assert internet_checksum(data) == naive_checksum(data)
    assert internet_checksum(data) == scapy_checksum(data)


def test_known_header_checksum() -> None:
    # the classic example header (Wikipedia "Internet checksum"): 0xb861
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert internet_checksum(header) == 0xB861


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_all_buffer_types(kind: type) -> None:
    data = bytes(range(101))
    assert internet_checksum(kind(data)) == naive_checksum(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 0x3FFFF))
def test_random_data_matches_reference(data: bytes, initial: int) -> None:
    assert ones_sum(data, initial) == naive_ones_sum(data, initial)
    assert internet_checksum(data, initial) == naive_checksum(data, initial)
    if initial == 0:
        assert internet_checksum(data) == scapy_checksum(data)


def test_checksum_in_place_verifies_to_zero() -> None:
    rng = random.Random(1)
    for n in range(2, 80, 2):
        data = bytearray(rng.randbytes(n))
        data[0:2] = b"\x00\x00"
        c = internet_checksum(data)
        data[0:2] = c.to_bytes(2, "big")
        assert internet_checksum(data) == 0
        assert ones_sum(data) == 0xFFFF


@pytest.mark.parametrize("payload", [b"", b"a", b"hello world", bytes(range(255))])
def test_transport_checksum_matches_scapy(payload: bytes) -> None:
    src, dst = 0x0A000001, 0xC0A80102
    udp = bytes(UDP(sport=1234, dport=53, chksum=0) / Raw(payload))
    expected = in4_chksum(17, IP(src="10.0.0.1", dst="192.168.1.2"), udp)
    assert (transport_checksum(src, dst, 17, udp) or 0xFFFF) == (expected or 0xFFFF)
    psum = pseudo_header_sum(src, dst, 17, len(udp))
    assert psum == naive_ones_sum(struct.pack("!IIBBH", src, dst, 0, 17, len(udp)))
    filled = bytearray(udp)
    filled[6:8] = transport_checksum(src, dst, 17, udp).to_bytes(2, "big")
    assert verify_transport(src, dst, 17, filled)
    filled[-1 if payload else 0] ^= 1
    assert not verify_transport(src, dst, 17, filled)


def _header(rng: random.Random) -> bytearray:
    h = bytearray(rng.randbytes(20))
    h[10:12] = b"\x00\x00"
    h[10:12] = internet_checksum(h).to_bytes(2, "big")
    return h


def test_incremental_update_matches_recompute_for_ttl_decrement() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        h = _header(rng)
        old_word = (h[8] << 8) | h[9]
        h[8] = (h[8] - 1) & 0xFF
        new_word = (h[8] << 8) | h[9]
        old_csum = int.from_bytes(h[10:12], "big")
        inc = incremental_update(old_csum, old_word, new_word)
        h[10:12] = b"\x00\x00"
        assert inc == internet_checksum(h)


@settings(max_examples=300, deadline=None)
@given(
    st.binary(min_size=20, max_size=20),
    st.integers(1, 9).filter(lambda i: i != 5),
    st.integers(0, 0xFFFF),
)
def test_incremental_update_any_word(raw: bytes, index: int, new_word: int) -> None:
    h = bytearray(b"\x45" + raw[1:])  # a real header is never all zeros
    h[10:12] = b"\x00\x00"
    h[10:12] = internet_checksum(h).to_bytes(2, "big")
    old_word = int.from_bytes(h[2 * index : 2 * index + 2], "big")
    h[2 * index : 2 * index + 2] = new_word.to_bytes(2, "big")
    inc = incremental_update(int.from_bytes(h[10:12], "big"), old_word, new_word)
    # the updated header verifies (RFC 1624's requirement) ...
    patched = bytearray(h)
    patched[10:12] = inc.to_bytes(2, "big")
    assert ones_sum(patched) == 0xFFFF
    # ... and equals a full recomputation
    h[10:12] = b"\x00\x00"
    assert inc == internet_checksum(h)


def test_incremental_update_on_all_zero_data_gives_minus_zero() -> None:
    # Degenerate case (no IPv4 header is all zeros): eqn. 3 yields 0x0000 where a
    # recomputation yields 0xFFFF; both are zero in ones' complement.
    assert incremental_update(0xFFFF, 0, 0) == 0x0000
    assert internet_checksum(bytes(20)) == 0xFFFF


def test_rfc1624_example() -> None:
    # RFC 1624 section 4: HC = 0xDD2F, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000
    assert incremental_update(0xDD2F, 0x5555, 0x3285) == 0x0000
