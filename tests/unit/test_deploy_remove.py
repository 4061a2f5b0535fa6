"""Destroy's removal against the fake backend: concurrent, networks as soon as their nodes
are gone, failures isolated and named, progress once per object."""

from __future__ import annotations

import threading

import pytest

import topology
from orchestrator.domain.lab import DeployProgress as ProgressEvent
from orchestrator.lab import remove as remove_module
from orchestrator.lab.backends.fake import FakeBackend, FakeEngine
from orchestrator.lab.deploy import deploy
from orchestrator.lab.progress import DeployError
from orchestrator.lab.remove import REMOVE_PARALLEL, destroy
from topology import Lab

PAIRS = """
name: pairs
nodes: {a: {kind: host}, b: {kind: host}, c: {kind: host}, d: {kind: host}}
links: [{endpoints: [a, b]}, {endpoints: [c, d]}]
"""
WAIT = 5.0  # s: a test that waits this long has failed


def star(n: int) -> Lab:
    hosts = ", ".join(f"h{k}: {{kind: host}}" for k in range(n))
    links = ", ".join(f"{{endpoints: [r, h{k}]}}" for k in range(n))
    return topology.load_text(
        f"name: star\nnodes: {{r: {{kind: router}}, {hosts}}}\nlinks: [{links}]\n"
    )


def assert_empty(backend: FakeBackend) -> None:
    assert backend.engine.nodes == {}
    assert backend.engine.networks == {}
    assert backend.engine.dirs == set()


class BlockingBackend(FakeBackend):
    """The first ``parties`` remove_node calls wait on a barrier: they only pass when that
    many are in flight at once (a serial or narrow removal breaks it after WAIT s)."""

    def __init__(self, engine: FakeEngine, parties: int) -> None:
        super().__init__(engine)
        self.barrier = threading.Barrier(parties, timeout=WAIT)
        self.entered = 0
        self.mutex = threading.Lock()

    def remove_node(self, lab: str, node: str) -> None:
        with self.mutex:
            self.entered += 1
            blocked = self.entered <= self.barrier.parties
        if blocked:
            self.barrier.wait()
        super().remove_node(lab, node)


def test_nodes_are_removed_many_at_a_time() -> None:
    lab = star(REMOVE_PARALLEL + 3)
    engine = FakeEngine()
    deploy(lab, FakeBackend(engine))
    assert REMOVE_PARALLEL >= 8  # the engine's calls are I/O bound: more than 2 cores' worth
    backend = BlockingBackend(engine, REMOVE_PARALLEL)
    removed = destroy("star", backend)
    assert len(removed.nodes) == REMOVE_PARALLEL + 4
    assert not backend.barrier.broken
    assert_empty(backend)


def test_networks_wait_for_every_node_by_default() -> None:
    lab = topology.load_text(PAIRS)
    backend = FakeBackend()
    deploy(lab, backend)
    destroy("pairs", backend)
    ops = backend.ops()
    first_network = min(i for i, (op, _) in enumerate(ops) if op == "remove_network")
    assert first_network > max(i for i, (op, _) in enumerate(ops) if op == "remove_node")
    assert_empty(backend)


def test_a_network_goes_as_soon_as_its_nodes_are_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remove_module, "OVERLAP_NETWORKS", True)
    lab = topology.load_text(PAIRS)
    engine = FakeEngine()
    deploy(lab, FakeBackend(engine, agent_sockets=False))  # with a management network
    a_b_removed = threading.Event()

    class Slow(FakeBackend):
        def remove_node(self, lab: str, node: str) -> None:
            if node == "c":  # held until a-b (which c is not on) is gone
                assert a_b_removed.wait(WAIT), "a-b waited for an unrelated node"
            super().remove_node(lab, node)

        def remove_network(self, lab: str, name: str) -> None:
            super().remove_network(lab, name)  # the fake refuses while endpoints are left
            if name == "wl.pairs.a-b":
                a_b_removed.set()

    backend = Slow(engine)
    removed = destroy("pairs", backend)
    assert sorted(removed.nodes) == ["a", "b", "c", "d"]
    ops = backend.ops()
    c_d = ops.index(("remove_network", "wl.pairs.c-d"))
    assert c_d > max(ops.index(("remove_node", n)) for n in "cd")
    assert ops.index(("remove_network", "wl.pairs._mgmt")) > max(  # no node lists it
        ops.index(("remove_node", n)) for n in "abcd"
    )
    assert_empty(backend)


def test_one_failure_is_named_and_everything_else_removed() -> None:
    lab = topology.load_text(PAIRS)
    backend = FakeBackend()
    deploy(lab, backend)
    backend.fail("remove_node", "a", times=1, message="device busy")
    with pytest.raises(DeployError) as caught:
        destroy("pairs", backend)
    text = str(caught.value)
    assert "node a: device busy (remove_node a)" in text
    assert "network wl.pairs.a-b" in text  # a still has an endpoint on it
    assert "node b" not in text and "c-d" not in text
    assert [n.spec.node for n in backend.engine.nodes.values()] == ["a"]
    assert list(backend.engine.networks) == ["wl.pairs.a-b"]
    destroy("pairs", backend)
    assert_empty(backend)


def test_a_network_that_fails_early_is_tried_again_after_the_nodes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(remove_module, "REMOVE_PARALLEL", 1)  # a deterministic order
    monkeypatch.setattr(remove_module, "OVERLAP_NETWORKS", True)
    lab = topology.load_text(PAIRS)
    backend = FakeBackend()
    deploy(lab, backend)
    backend.fail("remove_network", "wl.pairs.a-b", times=1)
    destroy("pairs", backend)
    assert backend.ops("remove_network").count(("remove_network", "wl.pairs.a-b")) == 2
    assert_empty(backend)


def test_a_failure_of_the_last_try_is_reported() -> None:
    lab = topology.load_text(PAIRS)
    backend = FakeBackend()
    deploy(lab, backend)
    backend.fail("remove_network", "wl.pairs.c-d", times=-1)
    with pytest.raises(DeployError, match=r"network wl\.pairs\.c-d: injected failure"):
        destroy("pairs", backend)
    assert list(backend.engine.networks) == ["wl.pairs.c-d"]
    assert backend.engine.nodes == {}


def test_progress_names_every_object_once_and_counts_up() -> None:
    lab = star(12)
    backend = FakeBackend()
    deploy(lab, backend)
    events: list[ProgressEvent] = []
    removed = destroy("star", backend, progress=events.append)
    total = len(removed.nodes) + len(removed.networks)
    assert total == 13 + 12  # the nodes and one link per host
    assert [e.done for e in events] == list(range(1, total + 1))
    assert all(e.step == "remove" and e.total == total for e in events)
    assert sorted(e.node or "" for e in events) == sorted([*removed.nodes, *removed.networks])


def test_only_networks_left_are_removed() -> None:
    lab = topology.load_text(PAIRS)
    backend = FakeBackend()
    deploy(lab, backend)
    for node in "abcd":
        backend.remove_node("pairs", node)
    removed = destroy("pairs", backend)
    assert removed.nodes == () and len(removed.networks) == 2
    assert_empty(backend)
