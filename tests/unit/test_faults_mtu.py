"""MTU faults (nodes/faults/mtu.py + the engine's caps): applied to the node's interfaces,
the lowest of several, the wildcard, restored on remove / clear / expiry, the base MTU
changed while capped, the frame path untouched, and what each fault counts."""

from __future__ import annotations

import random

import pytest

from nodes.faults import Direction, Effects, FaultEngine, FaultSpec, MtuChange, MtuSync
from nodes.router.router import Router
from nodes.stack.host import Host

EG, IN = Direction.EGRESS, Direction.INGRESS


def node() -> Router:
    r = Router("r1")
    r.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    r.add_interface("eth1", "02:00:00:00:00:02", "10.0.1.1", 24, mtu=9000)
    r.frames_to_send()  # the gratuitous ARPs
    return r


def setup() -> tuple[Router, FaultEngine, MtuSync]:
    r, engine = node(), FaultEngine(rng=random.Random(1))
    sync = MtuSync.attach(r, engine)
    assert sync is not None
    return r, engine, sync


def mtus(host: Host) -> dict[str, int]:
    return {i.name: i.mtu for i in host.interfaces}


def test_a_fault_sets_the_interface_mtu_and_removing_it_restores_it() -> None:
    r, engine, sync = setup()
    assert sync.pending and sync.sync() == []  # nothing to apply at first
    info = engine.add(FaultSpec("eth1", Effects(mtu=1000)), now=0.0)
    assert sync.pending
    assert sync.sync() == [MtuChange("eth1", 9000, 1000)]
    assert not sync.pending and sync.sync() == []
    eth1 = r.interfaces.get("eth1")
    assert (eth1.mtu, eth1.base_mtu, eth1.mtu_cap) == (1000, 9000, 1000)
    assert mtus(r) == {"eth0": 1500, "eth1": 1000}
    engine.remove(info.fault_id)
    assert sync.sync() == [MtuChange("eth1", 1000, 9000)]
    assert (eth1.mtu, eth1.mtu_cap) == (9000, None)


def test_the_lowest_of_several_holds_and_the_wildcard_covers_every_interface() -> None:
    r, engine, sync = setup()
    engine.add(FaultSpec("eth1", Effects(mtu=1400)), now=0.0, fault_id="a")
    engine.add(FaultSpec("eth1", Effects(mtu=1200)), now=0.0, fault_id="b")
    engine.add(FaultSpec("eth1", Effects(mtu=1300)), now=0.0, fault_id="c")
    sync.sync()
    assert mtus(r) == {"eth0": 1500, "eth1": 1200}
    engine.remove("b")
    assert sync.sync() == [MtuChange("eth1", 1200, 1300)]
    engine.add(FaultSpec("*", Effects(mtu=1250)), now=0.0, fault_id="all")
    assert engine.mtu_caps() == {"eth1": 1300, "*": 1250}
    sync.sync()
    assert mtus(r) == {"eth0": 1250, "eth1": 1250}
    engine.remove("all")
    sync.sync()
    assert mtus(r) == {"eth0": 1500, "eth1": 1300}
    engine.clear()
    assert sync.sync() == [MtuChange("eth1", 1300, 9000)]
    assert mtus(r) == {"eth0": 1500, "eth1": 9000}


def test_a_cap_above_the_configured_mtu_changes_nothing() -> None:
    r, engine, sync = setup()
    engine.add(FaultSpec("eth0", Effects(mtu=4000)), now=0.0)
    assert sync.sync() == []
    assert r.interfaces.get("eth0").mtu == 1500


def test_expiry_restores_the_mtu_at_the_exact_time() -> None:
    r, engine, sync = setup()
    engine.add(FaultSpec("eth0", Effects(mtu=800), duration=2.0), now=1.0)
    sync.sync()
    assert engine.next_deadline() == 3.0 and mtus(r)["eth0"] == 800
    engine.on_timer(now=2.9)
    assert not sync.pending
    engine.on_timer(now=3.0)
    assert sync.pending and sync.sync() == [MtuChange("eth0", 800, 1500)]
    (expired,) = engine.drain_events()
    assert expired.at == 3.0


def test_changing_the_base_mtu_while_capped() -> None:
    r, engine, sync = setup()
    engine.add(FaultSpec("eth0", Effects(mtu=1000)), now=0.0, fault_id="f")
    sync.sync()
    eth0 = r.interfaces.get("eth0")
    assert not r.set_mtu("eth0", 1400)  # still capped at 1000: nothing in force changes
    assert (eth0.mtu, eth0.base_mtu) == (1000, 1400)
    assert r.set_mtu("eth0", 900)  # below the cap: the base rules
    assert eth0.mtu == 900
    r.set_mtu("eth0", 1400)
    engine.remove("f")
    assert sync.sync() == [MtuChange("eth0", 1000, 1400)]  # the new base comes back
    with pytest.raises(ValueError, match="below the IPv4 minimum 68"):
        r.set_mtu("eth0", 60)


def test_an_mtu_only_fault_stays_off_the_frame_path() -> None:
    _r, engine, _sync = setup()
    engine.add(FaultSpec("eth0", Effects(mtu=1000)), now=0.0)
    engine.add(FaultSpec("*", Effects(mtu=1200), Direction.INGRESS), now=0.0)
    assert not any(engine.active(i, d) for i in ("eth0", "eth1") for d in (EG, IN))
    combined = engine.add(FaultSpec("eth1", Effects(mtu=1000, loss=1.0), EG), now=0.0)
    assert engine.active("eth1", EG) and not engine.active("eth1", IN)
    assert engine.process("eth1", EG, b"\x00" * 60, now=0.0) == []
    assert engine.get(combined.fault_id).counters.dropped_loss == 1


def test_packets_above_a_capped_mtu_are_counted_on_the_faults_they_exceed() -> None:
    r, engine, sync = setup()
    engine.add(FaultSpec("eth1", Effects(mtu=1000)), now=0.0, fault_id="low")
    engine.add(FaultSpec("*", Effects(mtu=1400)), now=0.0, fault_id="wild")
    engine.add(FaultSpec("eth1", Effects(delay=0.01)), now=0.0, fault_id="delay")
    sync.sync()
    r.add_route("10.9.0.0", 16, "10.0.1.2")
    # a DF packet from eth0 to 10.9.x.x, 1200 bytes: refused, frag-needed 1000
    r.output(0x0A090001, 17, bytes(1180), now=5.0, df=True)
    r.output(0x0A090001, 17, bytes(1480), now=6.0)  # fragmented, above both
    r.output(0x0A090001, 17, bytes(900), now=7.0)  # fits: nothing
    counts = {f.fault_id: f.counters.mtu_exceeded for f in engine.list()}
    assert counts == {"low": 2, "wild": 1, "delay": 0}
    first = {f.fault_id: f.first_hit_at for f in engine.list()}
    assert first == {"low": 5.0, "wild": 6.0, "delay": None}
    assert r.counters()["ip_frag_fails"] == 1 and r.counters()["ip_frag_oks"] == 1
    engine.clear()
    sync.sync()
    r.output(0x0A090001, 17, bytes(1480), now=8.0)  # nobody listens any more
    assert engine.list() == []


def test_without_an_mtu_fault_the_node_reports_nothing() -> None:
    r, engine, sync = setup()
    engine.add(FaultSpec("eth1", Effects(loss=0.1)), now=0.0, fault_id="loss")
    sync.sync()
    r.set_mtu("eth1", 1000)  # a configured MTU is no fault's doing
    r.add_route("10.9.0.0", 16, "10.0.1.2")
    r.output(0x0A090001, 17, bytes(1480), now=1.0)
    assert engine.get("loss").counters.mtu_exceeded == 0


def test_only_nodes_and_engines_with_mtus_take_part() -> None:
    class NoMtu:
        def next_deadline(self) -> float | None:
            return None

    engine = FaultEngine(rng=random.Random(1))
    assert MtuSync.attach(NoMtu(), engine) is None
    assert MtuSync.attach(node(), NoMtu()) is None
