"""The node event loop (nodes/io/runner.py) with fake ports, a fake node, a fake fault
engine and a manual clock: delivery, the delay heap, timers, taps, the command queue,
MTU faults applied and restored by the loop."""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from nodes.faults.engine import FaultEngine
from nodes.faults.model import Direction, Effects, FaultSpec
from nodes.faults.mtu import MtuChange
from nodes.io.runner import Runner, RunnerStopped
from nodes.stack.host import Host


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class FakePort:
    """A datagram socketpair: the test writes frames into ``wire``, the runner reads them."""

    def __init__(self) -> None:
        self.inside, self.wire = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.inside.setblocking(False)
        self.sent: list[bytes] = []
        self.refuse = False

    def fileno(self) -> int:
        return self.inside.fileno()

    def recv_batch(self, limit: int) -> list[bytes]:
        frames: list[bytes] = []
        while len(frames) < limit:
            try:
                frames.append(self.inside.recv(65536))
            except BlockingIOError:
                break
        return frames

    def send(self, frame: bytes) -> bool:
        if self.refuse:
            return False
        self.sent.append(frame)
        return True

    def close(self) -> None:
        self.inside.close()
        self.wire.close()


class FakeNode:
    def __init__(self) -> None:
        self.received: list[tuple[str, bytes, float]] = []
        self.out: list[tuple[str, bytes]] = []
        self.deadline: float | None = None
        self.timer_calls: list[float] = []
        self.echo = True

    def receive_frame(self, ifname: str, frame: bytes | memoryview, *, now: float) -> None:
        if bytes(frame) == b"boom":
            raise RuntimeError("stack bug")
        self.received.append((ifname, bytes(frame), now))
        if self.echo:
            self.out.append((ifname, b"re:" + bytes(frame)))

    def frames_to_send(self) -> list[tuple[str, bytes]]:
        out, self.out = self.out, []
        return out

    def next_deadline(self) -> float | None:
        return self.deadline

    def on_timer(self, *, now: float) -> None:
        self.timer_calls.append(now)
        self.deadline = None
        self.out.append(("eth0", b"tick"))


class FakeFaults:
    """Delay every frame on (iface, direction) by ``delay``; drop frames starting b"drop"."""

    def __init__(self, delay: float, covered: set[tuple[str, Direction]]) -> None:
        self.delay = delay
        self.covered = covered
        self.deadline: float | None = None
        self.expired_at: list[float] = []

    def active(self, ifname: str, direction: Direction) -> bool:
        return (ifname, direction) in self.covered

    def process(
        self, ifname: str, direction: Direction, frame: bytes, *, now: float
    ) -> list[tuple[float, bytes]]:
        if frame.startswith(b"drop"):
            return []
        return [(now + self.delay, frame)]

    def next_deadline(self) -> float | None:
        return self.deadline

    def on_timer(self, *, now: float) -> None:
        self.expired_at.append(now)
        self.deadline = None


@pytest.fixture
def port() -> Iterator[FakePort]:
    p = FakePort()
    yield p
    p.close()


def make(port: FakePort, faults: FakeFaults | None = None) -> tuple[Runner, FakeNode, Clock]:
    node, clock = FakeNode(), Clock()
    return Runner(node, {"eth0": port}, faults=faults, clock=clock), node, clock


def test_frames_in_and_out_with_now_from_the_clock(port: FakePort) -> None:
    runner, node, _clock = make(port)
    port.wire.send(b"one")
    port.wire.send(b"two")
    runner.run_once(max_wait=1.0)
    assert node.received == [("eth0", b"one", 100.0), ("eth0", b"two", 100.0)]
    assert port.sent == [b"re:one", b"re:two"]
    c = runner.counters()
    assert c["io_frames_in"] == 2 and c["io_frames_delivered"] == 2 and c["io_frames_sent"] == 2
    runner.close()


def test_batch_cap_leaves_the_rest_for_the_next_turn(port: FakePort) -> None:
    node, clock = FakeNode(), Clock()
    runner = Runner(node, {"eth0": port}, clock=clock, batch=2)
    for i in range(5):
        port.wire.send(b"f%d" % i)
    runner.run_once(max_wait=0)
    assert len(node.received) == 2
    runner.run_once(max_wait=0)
    runner.run_once(max_wait=0)
    assert [f for _, f, _ in node.received] == [b"f0", b"f1", b"f2", b"f3", b"f4"]
    runner.close()


def test_egress_delay_holds_frames_until_their_release_time(port: FakePort) -> None:
    faults = FakeFaults(0.5, {("eth0", Direction.EGRESS)})
    runner, node, clock = make(port, faults)
    node.out += [("eth0", b"a"), ("eth0", b"drop-me"), ("eth0", b"b")]
    runner.run_once(max_wait=0)
    assert port.sent == [] and runner.next_wakeup() == 100.5
    assert runner.counters()["io_frames_held"] == 2
    clock.t = 100.499
    runner.run_once(max_wait=0)
    assert port.sent == []
    clock.t = 100.5
    runner.run_once(max_wait=0)
    assert port.sent == [b"a", b"b"]  # same release time: original order kept
    assert runner.next_wakeup() is None
    runner.close()


def test_ingress_delay_then_delivery_at_release_time(port: FakePort) -> None:
    faults = FakeFaults(0.25, {("eth0", Direction.INGRESS)})
    runner, node, clock = make(port, faults)
    port.wire.send(b"late")
    port.wire.send(b"drop")
    runner.run_once(max_wait=0)
    assert node.received == [] and runner.next_wakeup() == 100.25
    clock.t = 101.0
    runner.run_once(max_wait=0)
    assert node.received == [("eth0", b"late", 101.0)]
    assert port.sent == [b"re:late"]  # egress not covered: straight out
    runner.close()


def test_node_and_fault_timers_run_only_when_due(port: FakePort) -> None:
    faults = FakeFaults(0.0, set())
    runner, node, clock = make(port, faults)
    node.deadline, faults.deadline = 101.0, 102.0
    runner.run_once(max_wait=0)
    assert node.timer_calls == [] and faults.expired_at == []
    assert runner.next_wakeup() == 101.0
    clock.t = 101.0
    runner.run_once(max_wait=0)
    assert node.timer_calls == [101.0] and port.sent == [b"tick"]
    assert runner.next_wakeup() == 102.0
    clock.t = 102.5
    runner.run_once(max_wait=0)
    assert faults.expired_at == [102.5]
    runner.close()


def test_what_input_makes_due_runs_in_the_same_turn(port: FakePort) -> None:
    """A frame that makes the node due now (an app's socket became readable) gets the
    node's timer work -- the app's reply -- out in the turn that read it."""
    runner, node, _clock = make(port)
    node.echo = False
    original = node.receive_frame

    def receive(ifname: str, frame: bytes | memoryview, *, now: float) -> None:
        original(ifname, frame, now=now)
        node.deadline = now  # the app wants service at once

    node.receive_frame = receive  # type: ignore[method-assign]
    port.wire.send(b"request")
    runner.run_once(max_wait=1.0)
    assert node.timer_calls == [100.0]
    assert port.sent == [b"tick"]
    assert runner.stats.turns == 1
    runner.close()


def test_select_sleeps_until_the_deadline_not_longer(port: FakePort) -> None:
    node = FakeNode()
    runner = Runner(node, {"eth0": port})  # real clock
    node.deadline = time.monotonic() + 0.05
    start = time.monotonic()
    runner.run_once()  # sleeps ~50 ms, wakes for the deadline
    runner.run_once(max_wait=0)
    assert node.timer_calls and 0.04 <= time.monotonic() - start < 1.0
    runner.close()


def test_taps_see_the_wire_and_errors_are_counted(port: FakePort) -> None:
    runner, node, _clock = make(port)
    seen: list[tuple[str, Direction, bytes, float]] = []
    runner.add_tap(lambda i, d, f, t: seen.append((i, d, f, t)))
    port.wire.send(b"boom")  # the stack raises: logged and counted, loop goes on
    port.wire.send(b"ok")
    node.out.append(("eth9", b"nowhere"))
    runner.run_once(max_wait=0)
    assert seen == [
        ("eth0", Direction.INGRESS, b"boom", 100.0),
        ("eth0", Direction.INGRESS, b"ok", 100.0),
        ("eth0", Direction.EGRESS, b"re:ok", 100.0),
    ]
    port.refuse = True
    node.out.append(("eth0", b"full"))
    runner.run_once(max_wait=0)
    c = runner.counters()
    assert c["io_node_errors"] == 1 and c["io_frames_no_port"] == 1
    assert c["io_frames_send_failed"] == 1
    runner.close()


def test_hooks_run_each_turn(port: FakePort) -> None:
    runner, _node, _clock = make(port)
    calls: list[float] = []
    runner.add_hook(calls.append)
    runner.run_once(max_wait=0)
    runner.remove_hook(calls.append)
    runner.run_once(max_wait=0)
    assert calls == [100.0]
    runner.close()


def test_call_from_inside_the_loop_runs_at_once(port: FakePort) -> None:
    node = FakeNode()
    runner = Runner(node, {"eth0": port})
    results: list[int] = []
    runner.add_hook(lambda now: results.append(runner.call(lambda: 42).result(timeout=0)))
    loop = threading.Thread(target=runner.run, daemon=True)
    loop.start()
    try:
        port.wire.send(b"wake")
        deadline = time.monotonic() + 2
        while not results and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        runner.stop()
        loop.join(timeout=2)
    assert results and set(results) == {42}
    runner.close()


def test_call_runs_in_the_loop_thread_and_stop_ends_run(port: FakePort) -> None:
    node = FakeNode()
    runner = Runner(node, {"eth0": port})
    loop = threading.Thread(target=runner.run, daemon=True)
    loop.start()
    try:
        assert runner.call(threading.get_ident).result(timeout=2) == loop.ident
        failing = runner.call(lambda: 1 // 0)
        with pytest.raises(ZeroDivisionError):
            failing.result(timeout=2)
        # the command's effects are seen by the next flush: the frame goes out at once
        runner.call(lambda: node.out.append(("eth0", b"from-agent"))).result(timeout=2)
        deadline = time.monotonic() + 2
        while not port.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        assert port.sent == [b"from-agent"]
    finally:
        runner.stop()
        loop.join(timeout=2)
    assert not loop.is_alive()
    with pytest.raises(RunnerStopped):
        runner.call(lambda: None).result(timeout=0)
    runner.close()


def test_an_idle_loop_sleeps(port: FakePort) -> None:
    node = FakeNode()
    runner = Runner(node, {"eth0": port})
    loop = threading.Thread(target=runner.run, daemon=True)
    loop.start()
    time.sleep(0.3)
    runner.stop()
    loop.join(timeout=2)
    assert runner.stats.turns <= 3  # no polling: one turn to start, one for stop()
    runner.close()


def test_with_the_real_fault_engine_delay_and_expiry(port: FakePort) -> None:
    engine = FaultEngine(rng=random.Random(1))
    node, clock = FakeNode(), Clock()
    runner = Runner(node, {"eth0": port}, faults=engine, clock=clock)
    spec = FaultSpec("eth0", Effects(delay=0.2), Direction.EGRESS, seed=5, duration=1.0)
    added = runner.call(lambda: engine.add(spec, now=clock.t, fault_id="d"))
    runner.run_once(max_wait=0)  # the wake-up fd is readable: the command runs
    assert added.result(timeout=0).seed == 5
    node.out.append(("eth0", b"slow"))
    runner.run_once(max_wait=0)
    assert port.sent == [] and runner.next_wakeup() == pytest.approx(100.2)
    clock.t = 100.2
    runner.run_once(max_wait=0)
    assert port.sent == [b"slow"]
    assert runner.next_wakeup() == 101.0  # the fault's expiry
    clock.t = 101.0
    runner.run_once(max_wait=0)
    assert [e.fault_id for e in engine.drain_events()] == ["d"]
    node.out.append(("eth0", b"fast"))
    runner.run_once(max_wait=0)
    assert port.sent == [b"slow", b"fast"]
    runner.close()


def test_mtu_faults_are_applied_by_the_loop_and_restored_when_they_expire(
    port: FakePort,
) -> None:
    engine = FaultEngine(rng=random.Random(1))
    host, clock = Host("h1"), Clock()
    host.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    runner = Runner(host, {"eth0": port}, faults=engine, clock=clock)
    seen: list[tuple[list[MtuChange], float]] = []
    runner.add_mtu_listener(lambda changes, now: seen.append((changes, now)))
    spec = FaultSpec("eth0", Effects(mtu=1000), duration=2.0)
    runner.call(lambda: engine.add(spec, now=clock.t, fault_id="m"))
    runner.run_once(max_wait=0)  # the command, then the MTU in the same turn
    assert host.interfaces.get("eth0").mtu == 1000
    assert seen == [([MtuChange("eth0", 1500, 1000)], 100.0)]
    assert not engine.active("eth0", Direction.EGRESS)  # frames pass untouched
    assert runner.next_wakeup() == 102.0
    clock.t = 102.0
    runner.run_once(max_wait=0)  # expiry: the configured MTU is back, nobody asked
    assert host.interfaces.get("eth0").mtu == 1500
    assert seen[-1] == ([MtuChange("eth0", 1000, 1500)], 102.0)
    assert runner.sync_mtu(103.0) == []  # nothing left to apply
    runner.close()


def test_an_mtu_fault_that_expires_lazily_wakes_the_loop_at_once(port: FakePort) -> None:
    engine = FaultEngine(rng=random.Random(1))
    host, clock = Host("h1"), Clock()
    host.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    runner = Runner(host, {"eth0": port}, faults=engine, clock=clock)
    engine.add(FaultSpec("eth0", Effects(mtu=1000), duration=1.0), now=100.0)
    engine.add(FaultSpec("eth0", Effects(delay=0.5), Direction.INGRESS), now=100.0)
    runner.run_once(max_wait=0)
    assert host.interfaces.get("eth0").mtu == 1000
    clock.t = 101.5
    engine.process("eth0", Direction.INGRESS, b"x" * 60, now=101.5)  # expires the MTU fault
    assert runner.next_wakeup() == 101.5  # not the delay heap's next release: now
    runner.run_once(max_wait=0)
    assert host.interfaces.get("eth0").mtu == 1500
    runner.close()


def test_stop_and_call_after_close_never_touch_the_closed_fd() -> None:
    runner = Runner(FakeNode(), {}, clock=Clock())
    runner.close()
    # Another object may now own the eventfd's number: writes must not reach it.
    reused = os.eventfd(0, os.EFD_NONBLOCK)
    try:
        runner.stop()
        future = runner.call(lambda: 1)
        with pytest.raises(RunnerStopped):
            future.result(timeout=1)
        with pytest.raises(BlockingIOError):
            os.eventfd_read(reused)
    finally:
        os.close(reused)
    runner.close()  # idempotent


class SlowNode(FakeNode):
    """Each frame costs ``cost`` seconds of the runner's clock (a CPU-bound node)."""

    def __init__(self, clock: Clock, cost: float) -> None:
        super().__init__()
        self.clock, self.cost = clock, cost

    def receive_frame(self, ifname: str, frame: bytes | memoryview, *, now: float) -> None:
        self.clock.t += self.cost
        super().receive_frame(ifname, frame, now=now)


def test_the_loop_counts_its_busy_time_and_late_timers_for_the_saturation_guard(
    port: FakePort,
) -> None:
    clock = Clock()
    node = SlowNode(clock, cost=0.004)
    runner = Runner(node, {"eth0": port}, clock=clock)
    node.deadline = clock.t + 0.001  # due in 1 ms; the frames' work makes it 8 ms late
    port.wire.send(b"one")
    port.wire.send(b"two")
    runner.run_once(max_wait=0.0)  # reads both: 8 ms of work
    node.deadline = None
    runner.run_once(max_wait=0.0)  # nothing to do
    c = runner.counters()
    assert c["io_busy_us"] == pytest.approx(8000, abs=2)
    assert c["io_wall_us"] == pytest.approx(8000, abs=2)
    node.deadline = clock.t  # a timer due now: the next turn is late by the frame's 4 ms
    port.wire.send(b"three")
    runner.run_once(max_wait=0.0)
    node.deadline = clock.t - 0.004
    runner.run_once(max_wait=0.0)
    c = runner.counters()
    assert c["io_wakeups"] >= 1 and c["io_late_wakeups"] >= 1 and c["io_late_us"] >= 3999
