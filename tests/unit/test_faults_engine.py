"""FaultEngine: fast path, management, MTU, down, chaining, combined effects, expiry."""

from __future__ import annotations

import random
import struct

import pytest

from nodes.faults import (
    IFACE_ANY,
    Direction,
    DuplicateFaultError,
    Effects,
    FaultEngine,
    FaultExpired,
    FaultSpec,
    FaultSpecError,
    GilbertElliott,
    Match,
    RateLimit,
    UnknownFaultError,
)

EG, IN = Direction.EGRESS, Direction.INGRESS


def ipv4_frame(l3_size: int, proto: int = 17, dport: int = 9) -> bytes:
    """Ethernet + a 20-byte IPv4 header + ports, padded to an L3 size of ``l3_size``."""
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, l3_size, 1, 0, 64, proto, 0, 0x0A000001, 0x0A000102)
    l4 = struct.pack("!HH", 1234, dport)
    return eth + ip + l4 + bytes(l3_size - 24)


FRAME = ipv4_frame(100)
ARP = b"\xff" * 6 + b"\x04" * 6 + b"\x08\x06" + bytes(28)


def new_engine() -> FaultEngine:
    return FaultEngine(rng=random.Random(1))


def test_no_fault_fast_path() -> None:
    engine = new_engine()
    assert not engine.active("eth0", EG)
    assert engine.process("eth0", EG, FRAME, now=3.0) == [(3.0, FRAME)]
    assert engine.next_deadline() is None
    assert engine.list() == []
    assert engine.next_event() is None


def test_active_per_interface_direction_and_wildcard() -> None:
    engine = new_engine()
    engine.add(FaultSpec("eth0", Effects(loss=0.5), EG), now=0.0)
    assert engine.active("eth0", EG)
    assert not engine.active("eth0", IN)
    assert not engine.active("eth1", EG)
    engine.add(FaultSpec("eth1", Effects()), now=0.0)
    assert engine.active("eth1", EG) and engine.active("eth1", IN)
    engine.add(FaultSpec(IFACE_ANY, Effects(delay=0.1), IN), now=0.0)
    assert engine.active("eth7", IN) and not engine.active("eth7", EG)
    assert engine.process("eth7", IN, FRAME, now=1.0) == [(1.1, FRAME)]


def test_process_rejects_both() -> None:
    with pytest.raises(ValueError, match=r"EGRESS or Direction\.INGRESS"):
        new_engine().process("eth0", Direction.BOTH, FRAME, now=0.0)


def test_add_get_list_remove_clear() -> None:
    engine = new_engine()
    a = engine.add(FaultSpec("eth0", Effects(loss=0.1)), now=1.0)
    b = engine.add(FaultSpec("eth0", Effects(delay=0.1), seed=42, duration=5.0), now=2.0)
    c = engine.add(FaultSpec("eth1", Effects(down=True)), now=3.0, fault_id="cut")
    assert (a.fault_id, b.fault_id, c.fault_id) == ("f1", "f2", "cut")
    assert b.seed == 42 and isinstance(a.seed, int)
    assert (b.added_at, b.expires_at, a.expires_at) == (2.0, 7.0, None)
    assert [info.fault_id for info in engine.list()] == ["f1", "f2", "cut"]
    assert engine.get("cut").spec.effects.down
    with pytest.raises(DuplicateFaultError):
        engine.add(FaultSpec("eth0", Effects()), now=0.0, fault_id="cut")
    with pytest.raises(FaultSpecError, match="fault_id"):
        engine.add(FaultSpec("eth0", Effects()), now=0.0, fault_id=" ")
    engine.process("eth1", EG, FRAME, now=3.0)
    removed = engine.remove("cut")
    assert removed.counters.dropped_down == 1
    assert not engine.active("eth1", EG)
    with pytest.raises(UnknownFaultError, match="no fault with id 'cut'"):
        engine.remove("cut")
    with pytest.raises(KeyError):
        engine.get("cut")
    assert [info.fault_id for info in engine.clear()] == ["f1", "f2"]
    assert engine.list() == [] and not engine.active("eth0", EG)
    assert engine.next_deadline() is None
    assert engine.add(FaultSpec("eth0", Effects()), now=0.0).fault_id == "f4"


def test_mtu_override_drops_larger_l3() -> None:
    engine = new_engine()
    engine.add(FaultSpec("eth0", Effects(blackhole_mtu=1400), EG), now=0.0)
    ok, big = ipv4_frame(1400), ipv4_frame(1401)
    assert engine.process("eth0", EG, ok, now=0.0) == [(0.0, ok)]
    assert engine.process("eth0", EG, big, now=0.0) == []
    assert engine.process("eth0", EG, ARP, now=0.0) == [(0.0, ARP)]
    counters = engine.list()[0].counters
    assert (counters.dropped, counters.dropped_blackhole) == (1, 1)


def test_link_down_drops_everything_in_its_direction() -> None:
    engine = new_engine()
    engine.add(FaultSpec("eth0", Effects(down=True), IN), now=0.0)
    assert engine.process("eth0", IN, FRAME, now=0.0) == []
    assert engine.process("eth0", IN, ARP, now=0.0) == []
    assert engine.process("eth0", EG, ARP, now=0.0) == [(0.0, ARP)]
    counters = engine.list()[0].counters
    assert (counters.seen, counters.dropped, counters.dropped_down) == (2, 2, 2)


def test_faults_chain_in_creation_order() -> None:
    engine = new_engine()
    engine.add(FaultSpec("eth0", Effects(delay=0.1), EG), now=0.0)
    engine.add(FaultSpec(IFACE_ANY, Effects(duplicate=1.0), EG), now=0.0)
    engine.add(FaultSpec("eth0", Effects(delay=0.2), EG), now=0.0)
    out = engine.process("eth0", EG, FRAME, now=1.0)
    assert [frame for _, frame in out] == [FRAME, FRAME]
    assert [at for at, _ in out] == pytest.approx([1.3, 1.3])
    assert [info.counters.seen for info in engine.list()] == [1, 1, 2]


def test_match_limits_a_fault_to_some_traffic() -> None:
    engine = new_engine()
    engine.add(
        FaultSpec("eth0", Effects(delay=0.5), EG, match=Match.of(protocol="udp", dst_port=53)),
        now=0.0,
    )
    dns, other = ipv4_frame(80, dport=53), ipv4_frame(80, dport=80)
    assert engine.process("eth0", EG, dns, now=0.0) == [(0.5, dns)]
    assert engine.process("eth0", EG, other, now=0.0) == [(0.0, other)]
    counters = engine.list()[0].counters
    assert (counters.seen, counters.matched, counters.delayed) == (2, 1, 1)


def test_first_hit_is_the_first_frame_a_fault_acts_on() -> None:
    engine = new_engine()
    dns = engine.add(
        FaultSpec("eth0", Effects(loss=1.0), EG, match=Match.of(dst_port=53)), now=1.0
    ).fault_id
    down = engine.add(FaultSpec("eth1", Effects(down=True), EG), now=1.0).fault_id
    assert engine.get(dns).first_hit_at is None and engine.get(down).first_hit_at is None
    engine.process("eth0", EG, ipv4_frame(80, dport=80), now=1.5)  # seen, not matched
    assert engine.get(dns).first_hit_at is None
    engine.process("eth0", EG, ipv4_frame(80, dport=53), now=2.0)
    engine.process("eth0", EG, ipv4_frame(80, dport=53), now=3.0)
    assert engine.get(dns).first_hit_at == 2.0  # the first, not the latest
    engine.process("eth1", EG, ARP, now=2.5)  # a down link acts on every frame
    assert engine.get(down).first_hit_at == 2.5


def test_combined_effects_add_up() -> None:
    n = 20_000
    engine = new_engine()
    spec = FaultSpec(
        "eth0",
        Effects(
            loss=0.1,
            corrupt=0.05,
            duplicate=0.05,
            delay=0.02,
            jitter=0.005,
            reorder=0.1,
            rate=RateLimit(100e6, queue_limit_packets=50),
            blackhole_mtu=1000,
        ),
        EG,
        seed=5,
    )
    engine.add(spec, now=0.0)
    out = []
    for i in range(n):
        frame = FRAME if i % 100 else ipv4_frame(1200)  # 1 % too big for the MTU
        out += [(i * 1e-4, at, f) for at, f in engine.process("eth0", EG, frame, now=i * 1e-4)]
    c = engine.list()[0].counters
    assert c.seen == c.matched == n
    assert c.dropped_blackhole == n // 100
    assert c.dropped == c.dropped_blackhole + c.dropped_loss + c.shaped
    assert len(out) == n - c.dropped_blackhole - c.dropped_loss + c.duplicated - c.shaped
    assert c.delayed + c.reordered == len(out)
    assert 0.08 < c.dropped_loss / n < 0.12
    assert 0.03 < c.corrupted / n < 0.07
    assert all(at >= sent for sent, at, _ in out)
    fast = sum(1 for sent, at, _ in out if at - sent < 0.01)
    assert fast == c.reordered


def test_replay_of_combined_effects_is_exact() -> None:
    spec = FaultSpec(
        "eth0",
        Effects(
            loss=0.05,
            gilbert_elliott=None,
            duplicate=0.1,
            corrupt=0.1,
            delay=0.01,
            jitter=0.01,
            reorder=0.2,
        ),
        seed=99,
    )

    def run() -> list[list[tuple[float, bytes]]]:
        engine = new_engine()
        engine.add(spec, now=0.0)
        return [engine.process("eth0", EG, FRAME, now=i * 0.001) for i in range(2000)]

    assert run() == run()


def test_duration_expires_at_the_exact_time_with_an_event() -> None:
    engine = new_engine()
    engine.add(FaultSpec("eth0", Effects(loss=1.0), EG, duration=2.0, seed=3), now=5.0)
    engine.add(FaultSpec("eth0", Effects(delay=0.1), EG, duration=1.0), now=5.5, fault_id="short")
    engine.add(FaultSpec("eth1", Effects(delay=0.1), EG), now=5.0)
    assert engine.next_deadline() == 6.5
    engine.on_timer(now=6.4)
    assert engine.next_event() is None
    engine.on_timer(now=6.5)
    (short,) = engine.drain_events()
    assert (short.fault_id, short.at, short.info.expires_at) == ("short", 6.5, 6.5)
    assert engine.next_deadline() == 7.0
    assert engine.process("eth0", EG, FRAME, now=6.999999) == []
    engine.on_timer(now=7.0)
    event = engine.next_event()
    assert isinstance(event, FaultExpired)
    assert (event.fault_id, event.at, event.info.seed) == ("f1", 7.0, 3)
    assert event.info.counters.dropped == 1
    assert engine.next_event() is None
    assert not engine.active("eth0", EG)
    assert engine.process("eth0", EG, FRAME, now=7.0) == [(7.0, FRAME)]
    assert engine.next_deadline() is None
    assert [info.fault_id for info in engine.list()] == ["f3"]


def test_expiry_is_enforced_by_process_even_without_on_timer() -> None:
    engine = new_engine()
    engine.add(FaultSpec("eth0", Effects(down=True), EG, duration=1.0), now=0.0)
    engine.add(FaultSpec("eth0", Effects(down=True), EG, duration=3.0), now=0.0)
    assert engine.process("eth0", EG, FRAME, now=0.5) == []
    assert engine.process("eth0", EG, FRAME, now=9.0) == [(9.0, FRAME)]
    events = engine.drain_events()
    assert [(e.fault_id, e.at) for e in events] == [("f1", 1.0), ("f2", 3.0)]


def test_counters_per_fault_sum_both_directions() -> None:
    engine = new_engine()
    engine.add(FaultSpec("eth0", Effects(gilbert_elliott=GilbertElliott(p=1.0, r=0.0))), now=0.0)
    for d in (EG, IN, EG):
        engine.process("eth0", d, FRAME, now=0.0)
    counters = engine.list()[0].counters
    # p = 1: the first frame of each direction is seen in the good state, then all lost
    assert (counters.seen, counters.dropped_loss) == (3, 1)
    assert counters.as_dict()["seen"] == 3
