"""Driven mode, what the virtual backend's nodes run on: a MemPort without an eventfd that
tells its world a frame arrived, and a Runner without thread or selector that takes turns
(nodes/io/memport.py ``evented=False``, nodes/io/runner.py ``driven=True``)."""

from __future__ import annotations

import pytest

from nodes.io.memport import MemPort, connect
from nodes.io.runner import Runner, RunnerStopped
from nodes.io.world import World


class Node:
    """Echoes every frame back on the interface it came from, ``delay`` later."""

    def __init__(self, delay: float = 0.5) -> None:
        self.delay = delay
        self.got: list[tuple[float, bytes]] = []
        self._due: list[tuple[float, str, bytes]] = []
        self._out: list[tuple[str, bytes]] = []

    def receive_frame(self, ifname: str, frame: bytes | memoryview, *, now: float) -> None:
        self.got.append((now, bytes(frame)))
        self._due.append((now + self.delay, ifname, bytes(frame)))

    def frames_to_send(self) -> list[tuple[str, bytes]]:
        out, self._out = self._out, []
        return out

    def next_deadline(self) -> float | None:
        return min((t for t, _, _ in self._due), default=None)

    def on_timer(self, *, now: float) -> None:
        self._out += [(i, f) for t, i, f in self._due if t <= now]
        self._due = [d for d in self._due if d[0] > now]


def test_a_driven_port_has_no_fd_and_tells_its_receiver() -> None:
    marks: list[str] = []
    a = MemPort("a", evented=False)
    b = MemPort("b", evented=False, on_frame=lambda: marks.append("b"))
    connect(a, b)
    with pytest.raises(ValueError, match="driven"):
        a.fileno()
    assert a.send(b"x" * 60)
    assert marks == ["b"] and b.pending == 1
    assert b.recv_batch(10) == [b"x" * 60]
    a.close()
    b.close()  # no fd to close: no error


def test_a_driven_runner_reads_pending_frames_and_says_when_it_next_needs_a_turn() -> None:
    world = World()
    a = MemPort("a", evented=False)
    b = MemPort("b", evented=False, on_frame=lambda: world.mark("n"))
    connect(a, b)
    node = Node(delay=0.5)
    runner = Runner(node, {"eth0": b}, clock=world.now, driven=True)
    world.seat("n").attach(runner)
    world.settle()
    a.send(b"ping" * 15)
    world.sleep(0.1)
    assert node.got == [(0.0, b"ping" * 15)]
    assert runner.next_wakeup() == 0.5 and a.pending == 0
    world.sleep(1.0)
    assert a.recv_batch(10) == [b"ping" * 15]  # echoed at t=0.5
    assert runner.stats.frames_delivered == 1 and runner.stats.frames_sent == 1


def test_a_driven_runner_runs_calls_at_once_and_has_no_loop_of_its_own() -> None:
    runner = Runner(Node(), {}, clock=lambda: 0.0, driven=True)
    assert runner.call(lambda: 41 + 1).result(0) == 42
    with pytest.raises(RuntimeError, match="driven"):
        runner.run()
    runner.stop()
    with pytest.raises(RunnerStopped):
        runner.call(lambda: 1).result(0)
    runner.close()
