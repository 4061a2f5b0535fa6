from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from nodes.stack.tcp.buffers import ByteQueue, ReceiveBuffer, SendBuffer
from nodes.stack.tcp.sack import Scoreboard


def test_send_buffer_write_get_ack() -> None:
    b = SendBuffer(1000, capacity=10)
    assert b.write(b"abcdefghijkl") == 10
    assert b.end == 1010 and b.free() == 0
    assert b.get(1002, 3) == b"cde"
    assert b.ack_to(1004) == 4
    assert b.start == 1004 and b.get(1004, 2) == b"ef"
    assert b.write(b"XY") == 2 and b.end == 1012


def test_send_buffer_keeps_immutable_data_and_copies_the_rest() -> None:
    data = bytes(range(100))
    b = SendBuffer(0, capacity=1000)
    b.write(memoryview(data)[:40])  # a view of bytes: kept by reference
    seg = b.get(10, 20)
    assert isinstance(seg, memoryview) and seg.obj is data and seg == data[10:30]
    mutable = bytearray(b"abcdef")
    b.write(mutable)  # mutable: copied, as a socket's send() does
    mutable[:] = b"XXXXXX"
    assert bytes(b.get(40, 6)) == b"abcdef"
    assert bytes(b.get(35, 8)) == data[35:40] + b"abc"  # a segment across two chunks


def test_send_buffer_drops_acknowledged_chunks_in_bulk() -> None:
    b = SendBuffer(0, capacity=10_000)
    data = bytes(range(200)) * 5
    for k in range(100):  # 100 chunks of 10 bytes
        b.write(data[10 * k : 10 * k + 10])
    b.ack_to(695)  # 69 whole chunks released: their list entries go
    assert len(b._chunks) == 31 and b._head == 0
    assert bytes(b.get(695, 305)) == data[695:]
    b.ack_to(1000)
    assert len(b) == 0 and b.free() == 10_000


@given(st.lists(st.integers(1, 300), min_size=1, max_size=200), st.integers(1, 1500),
       st.integers(0, 2**32))  # fmt: skip
@settings(max_examples=60)
def test_send_buffer_matches_a_flat_model(sizes: list[int], mss: int, start: int) -> None:
    """Random writes, segment reads and ACKs against one flat bytes model."""
    rng = random.Random(len(sizes) * mss)
    b = SendBuffer(start, capacity=4000)
    model = b""
    base = start
    sent = start
    for size in sizes:
        chunk = rng.randbytes(size)
        n = b.write(chunk if size % 2 else bytearray(chunk))
        model += chunk[:n]
        assert b.end == base + len(model) and len(b) == len(model)
        while sent < b.end:
            n = min(mss, b.end - sent)
            assert bytes(b.get(sent, n)) == model[sent - base : sent - base + n]
            sent += n
        acked = rng.randrange(base, sent + 1)
        b.ack_to(acked)
        model, base = model[acked - base :], acked
        assert b.start == base and b.free() == 4000 - len(model)
        if model:  # what is left is still readable from the new start
            assert bytes(b.get(base, len(model))) == model


def test_byte_queue_keeps_frame_views_and_reads_across_chunks() -> None:
    frame = bytes(range(60))
    q = ByteQueue()
    q.append(memoryview(frame)[10:30])  # a view of an immutable frame: kept, not copied
    assert q._chunks[0].obj is frame  # type: ignore[union-attr]
    mutable = bytearray(b"abcdef")
    q.append(memoryview(mutable))  # a view of something mutable: copied
    mutable[:] = b"XXXXXX"
    q.append(b"")
    assert len(q) == 26 and q and bytes(q) == frame[10:30] + b"abcdef"
    assert q.read(15) == frame[10:25]
    assert q.read(8) == frame[25:30] + b"abc" and len(q) == 3
    assert q.read(100) == b"def" and not q and len(q) == 0


def test_receive_buffer_in_order_out_of_order_and_duplicates() -> None:
    r = ReceiveBuffer(100, capacity=1000)
    assert r.add(110, b"klm") == 0 and r.ooo_bytes == 3
    assert r.add(105, b"fghij") == 0
    assert r.blocks() == [(105, 113)]
    assert r.add(100, b"abcde") == 13
    assert r.read(100) == b"abcdefghijklm" and not r.has_gaps()
    assert r.add(100, b"old") == 0  # a duplicate
    assert r.nxt == 113


def test_receive_window_clips_data() -> None:
    r = ReceiveBuffer(0, capacity=4)
    assert r.add(0, b"abcdef") == 4
    assert r.free() == 0 and r.add(4, b"x") == 0
    r.read(2)
    assert r.window_end() == 6


def test_sack_blocks_most_recent_first() -> None:
    r = ReceiveBuffer(0, capacity=1000)
    r.add(10, b"x" * 10)
    r.add(40, b"x" * 10)
    r.add(70, b"x" * 10)
    r.add(20, b"y" * 5)  # extends the first block: most recent
    assert r.sack_blocks(3) == [(10, 25), (70, 80), (40, 50)]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_arrival_order_reassembles_the_stream(data: st.DataObject) -> None:
    stream = bytes(random.Random(data.draw(st.integers(0, 99))).randbytes(400))
    cuts = sorted(data.draw(st.lists(st.integers(1, 399), max_size=20, unique=True)))
    pieces = [(a, stream[a:b]) for a, b in zip([0, *cuts], [*cuts, 400], strict=True)]
    extra = data.draw(st.lists(st.tuples(st.integers(0, 399), st.integers(1, 60)), max_size=10))
    pieces += [(s, stream[s : s + n]) for s, n in extra]  # overlaps and duplicates
    order = data.draw(st.permutations(pieces))
    r = ReceiveBuffer(5000, capacity=1000)
    out = bytearray()
    for off, chunk in order:
        r.add(5000 + off, chunk)
        out += r.read(data.draw(st.integers(0, 500)))
    out += r.read(1000)
    assert bytes(out) == stream and r.nxt == 5400 and r.ooo_bytes == 0


def test_scoreboard_merge_ack_and_loss_boundary() -> None:
    sb = Scoreboard()
    assert sb.add(200, 300) == 100
    assert sb.add(400, 500) == 100
    assert sb.add(250, 450) == 100  # bridges both
    assert (sb.starts, sb.ends, sb.sacked) == ([200], [500], 300)
    assert sb.skip_sacked(300) == 500 and sb.skip_sacked(100) == 100
    sb.ack(250)
    assert sb.sacked == 250 and sb.starts == [250]
    assert sb.lost_boundary(100) == 250  # 250 bytes > 2*MSS SACKed above
    assert sb.lost_boundary(200) == 0
    sb.add(600, 610)
    sb.add(700, 710)
    assert sb.lost_boundary(1000) == 250  # three discontiguous blocks (DupThresh)
    assert sb.sacked_in(0, 605) == 255
    assert sb.next_sacked_start(500) == 600


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 100)), max_size=30))
def test_scoreboard_matches_a_set_model(blocks: list[tuple[int, int]]) -> None:
    sb = Scoreboard()
    model: set[int] = set()
    for s, n in blocks:
        added = sb.add(s, s + n)
        before = len(model)
        model.update(range(s, s + n))
        assert added == len(model) - before
    assert sb.sacked == len(model)
    for a, b in zip(sb.starts, sb.ends, strict=True):
        assert set(range(a, b)) <= model
    assert all(sb.ends[i] < sb.starts[i + 1] for i in range(len(sb.starts) - 1))
