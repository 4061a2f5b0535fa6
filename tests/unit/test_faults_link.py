"""Link properties in the FaultEngine: a base layer beneath the faults of an interface and
direction, run by the same pipeline, with its own seeded stream and counters; faults
stack on top and come and go without touching it."""

from __future__ import annotations

import random

import pytest

from nodes.faults import (
    Codel,
    Direction,
    Effects,
    FaultEngine,
    FaultSpec,
    FaultSpecError,
    LinkProps,
)
from nodes.faults.effects import stream_seed

EG, IN = Direction.EGRESS, Direction.INGRESS
FRAME = bytes(1000)


def engine() -> FaultEngine:
    return FaultEngine(rng=random.Random(0))


def test_a_link_layer_is_not_a_fault_and_survives_clearing_them() -> None:
    e = engine()
    info = e.set_link("eth0", EG, LinkProps(delay=0.02), seed=5)
    assert info is not None and info.seed == 5 and info.props.delay == 0.02
    assert e.list() == [] and e.active("eth0", EG) and not e.active("eth0", IN)
    assert e.process("eth0", EG, FRAME, now=1.0) == [(1.02, FRAME)]
    e.add(FaultSpec("eth0", Effects(delay=0.05), EG, seed=1), now=1.0, fault_id="f1")
    assert [f.fault_id for f in e.list()] == ["f1"]
    ((at, _),) = e.process("eth0", EG, FRAME, now=2.0)
    assert at == pytest.approx(2.07)  # the link's 20 ms, then the fault's 50 ms on top
    e.clear()
    assert e.process("eth0", EG, FRAME, now=3.0) == [(3.02, FRAME)]  # the link is still there
    (layer,) = e.links()
    assert layer.counters.seen == 3 and layer.counters.delayed == 3


def test_a_fault_acts_on_what_leaves_the_link() -> None:
    """Link first: its token bucket sees frames in time order; a fault's loss then drops
    frames that did use the link's capacity (as on a real line)."""
    e = engine()
    e.set_link("eth0", EG, LinkProps(rate=8000.0), seed=1)  # 1000 B/s: 1 s per frame
    e.add(FaultSpec("eth0", Effects(loss=1.0), EG, seed=1), now=0.0)
    assert e.process("eth0", EG, FRAME, now=0.0) == []
    assert e.process("eth0", EG, FRAME, now=0.0) == []
    e.clear()
    # the two lost frames took their turns: the first left at once (the bucket's 1514
    # bytes), the second 486 ms later; this one waits a second more
    ((at, _),) = e.process("eth0", EG, FRAME, now=0.0)
    assert at == pytest.approx((1000 - 514) / 1000 + 1.0)


def test_ingress_and_egress_layers_are_independent() -> None:
    e = engine()
    e.set_link("eth0", EG, LinkProps(delay=0.01), seed=1)
    e.set_link("eth0", IN, LinkProps(delay=0.03), seed=1)
    assert e.process("eth0", EG, FRAME, now=0.0)[0][0] == pytest.approx(0.01)
    assert e.process("eth0", IN, FRAME, now=0.0)[0][0] == pytest.approx(0.03)
    assert [(i.iface, i.direction) for i in e.links()] == [("eth0", EG), ("eth0", IN)]


def test_empty_props_remove_a_layer_and_a_new_one_starts_counting_afresh() -> None:
    e = engine()
    e.set_link("eth0", EG, LinkProps(loss=1.0), seed=1)
    assert e.process("eth0", EG, FRAME, now=0.0) == []
    assert e.links()[0].counters.dropped_loss == 1
    e.set_link("eth0", EG, LinkProps(loss=0.5), seed=1)
    assert e.links()[0].counters.seen == 0
    assert e.set_link("eth0", EG, LinkProps(), seed=1) is None
    assert e.links() == [] and not e.active("eth0", EG)


def test_link_loss_is_seeded_and_its_stream_is_not_a_faults() -> None:
    def losses(seed: int) -> list[bool]:
        e = engine()
        e.set_link("eth1", EG, LinkProps(loss=0.3), seed=seed)
        return [not e.process("eth1", EG, FRAME, now=i * 0.001) for i in range(400)]

    assert losses(7) == losses(7)
    assert losses(7) != losses(8)
    assert 0.2 < sum(losses(7)) / 400 < 0.4
    assert stream_seed(7, "eth1", EG, "link") != stream_seed(7, "eth1", EG)


def test_the_rate_queue_limit_drops_are_counted_as_shaped() -> None:
    e = engine()
    e.set_link("eth0", EG, LinkProps(rate=1e6, queue_packets=5), seed=1)
    sent = [e.process("eth0", EG, bytes(1500), now=0.0) for _ in range(10)]
    assert sum(1 for s in sent if s) == 6  # one leaves at once (the burst), five wait
    counters = e.links()[0].counters
    assert counters.shaped == 4 and counters.dropped == 4 and counters.queued == 5


def test_byte_queue_limit() -> None:
    e = engine()
    e.set_link("eth0", EG, LinkProps(rate=1e6, queue_bytes=3000), seed=1)
    sent = [e.process("eth0", EG, bytes(1000), now=0.0) for _ in range(10)]
    assert sum(1 for s in sent if s) == 1 + 3  # the burst's frame, then 3000 bytes queued
    assert e.links()[0].counters.shaped == 6


def test_link_props_validation_and_defaults() -> None:
    assert LinkProps(rate=1e6).queue_packets == 1000  # Linux's txqueuelen
    assert LinkProps(rate=1e6, queue_bytes=10_000).queue_packets is None
    assert LinkProps().empty and not LinkProps(delay=0.001).empty
    with pytest.raises(FaultSpecError, match="queue: a queue needs a rate"):
        LinkProps(queue_packets=10)
    with pytest.raises(FaultSpecError, match="codel: codel needs a rate"):
        LinkProps(delay=0.01, codel=Codel())
    with pytest.raises(FaultSpecError, match="loss"):
        LinkProps(loss=1.5)
    with pytest.raises(FaultSpecError, match="rate"):
        LinkProps(rate=0.5)
    e = engine()
    with pytest.raises(FaultSpecError, match="direction"):
        e.set_link("eth0", Direction.BOTH, LinkProps(delay=0.01))
    with pytest.raises(FaultSpecError, match="iface"):
        e.set_link("*", EG, LinkProps(delay=0.01))
