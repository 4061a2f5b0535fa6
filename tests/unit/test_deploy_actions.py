"""Node actions (kill, stop, start, restart, pause, unpause): the state table every
backend shares, the fake backend's validation and records, and the lab session that
re-configures a node's fresh agent after start/restart (orchestrator/lab/session.py) --
all on the fake backend, no Docker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import topology
from orchestrator.domain.errors import FailedPrecondition
from orchestrator.lab.backends.actions import TRANSITIONS, NodeStateError, transition
from orchestrator.lab.backends.base import BackendError
from orchestrator.lab.backends.fake import FakeBackend
from orchestrator.lab.deploy import Timeouts, deploy
from orchestrator.lab.session import LabSession
from orchestrator.wire.agent import Health
from topology import Lab

FAST = Timeouts(agent_up=0.3, configure=1.0, ready=0.3, exec=1.0, rpc=0.5)


@pytest.fixture
def quickstart() -> Lab:
    return topology.load_file(topology.example_path("quickstart"))


@pytest.fixture
def deployed(quickstart: Lab) -> Iterator[tuple[FakeBackend, LabSession]]:
    backend = FakeBackend()
    session = LabSession(deploy(quickstart, backend, timeouts=FAST))
    yield backend, session
    session.close(destroy=False)


# ---- the table (Docker 20.10's behaviour) -------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "after"),
    [
        ("kill", "running", "exited"),
        ("kill", "paused", "exited"),
        ("stop", "running", "exited"),
        ("stop", "exited", "exited"),  # docker stop of a stopped container: 304, no error
        ("start", "exited", "running"),
        ("start", "running", "running"),
        ("restart", "paused", "running"),
        ("restart", "exited", "running"),
        ("pause", "running", "paused"),
        ("unpause", "paused", "running"),
    ],
)
def test_allowed_transitions(action: str, state: str, after: str) -> None:
    assert transition("r1", action, state) == after


@pytest.mark.parametrize(
    ("action", "state", "words"),
    [
        ("unpause", "running", "cannot unpause r1: it is running (it is not paused)"),
        ("start", "paused", "cannot start r1: it is paused (unpause it instead)"),
        ("kill", "exited", "cannot kill r1: it is exited (it is not running)"),
        ("pause", "exited", "cannot pause r1: it is exited (start it first)"),
        (
            "unpause",
            "created",
            "cannot unpause r1: it is created (unpause needs a node that is paused)",
        ),
    ],
)
def test_refused_transitions_name_the_node_and_its_state(
    action: str, state: str, words: str
) -> None:
    with pytest.raises(NodeStateError) as info:
        transition("r1", action, state)
    assert words in str(info.value)
    err = info.value
    assert (err.node, err.action, err.state) == ("r1", action, state)
    # both a backend error and the lab service's FAILED_PRECONDITION on field "action"
    assert isinstance(err, BackendError) and isinstance(err, FailedPrecondition)
    assert err.field == "action"


def test_every_action_has_a_row_and_unknown_ones_are_refused() -> None:
    assert set(TRANSITIONS) == {"kill", "stop", "start", "restart", "pause", "unpause"}
    with pytest.raises(BackendError, match="unknown node action 'explode'"):
        transition("r1", "explode", "running")


# ---- the fake backend ------------------------------------------------------------------


def test_fake_records_transitions_and_forgets_the_config_of_stopped_nodes(
    deployed: tuple[FakeBackend, LabSession],
) -> None:
    backend, _ = deployed
    node = backend.engine.nodes["wl.quickstart.r1"]
    assert node.configured is not None
    backend.pause_node("quickstart", "r1")
    assert backend.node_state("quickstart", "r1") == "paused"
    assert node.configured is not None  # a pause keeps everything
    assert backend.agents().health(node.address, timeout=1) is Health.UNREACHABLE
    backend.unpause_node("quickstart", "r1")
    assert backend.agents().health(node.address, timeout=1) is Health.SERVING
    backend.kill_node("quickstart", "r1")
    assert node.configured is None and node.state == "exited"
    backend.start_node("quickstart", "r1")
    assert backend.agents().health(node.address, timeout=1) is Health.NOT_SERVING
    assert backend.transitions[-4:] == [
        ("r1", "pause", "running", "paused"),
        ("r1", "unpause", "paused", "running"),
        ("r1", "kill", "running", "exited"),
        ("r1", "start", "exited", "running"),
    ]
    assert ("kill_node", "r1") in backend.calls


def test_fake_refuses_an_unpause_of_a_running_node(
    deployed: tuple[FakeBackend, LabSession],
) -> None:
    backend, _ = deployed
    with pytest.raises(NodeStateError, match="cannot unpause h2: it is running"):
        backend.unpause_node("quickstart", "h2")
    assert backend.node_state("quickstart", "h2") == "running"
    assert [t for t in backend.transitions if t[1] == "unpause"] == []


def test_fake_missing_node_and_injected_failures(
    deployed: tuple[FakeBackend, LabSession],
) -> None:
    backend, _ = deployed
    with pytest.raises(BackendError, match="no node nope"):
        backend.kill_node("quickstart", "nope")
    backend.fail("restart_node", "r1", message="engine hiccup")
    with pytest.raises(BackendError, match="engine hiccup"):
        backend.restart_node("quickstart", "r1")
    assert backend.node_state("quickstart", "r1") == "running"


def test_a_node_that_crashes_on_restart_is_exited_with_its_logs(
    deployed: tuple[FakeBackend, LabSession],
) -> None:
    backend, _ = deployed
    backend.crash("h1", "Traceback: no interface")
    backend.restart_node("quickstart", "h1")
    assert backend.node_state("quickstart", "h1") == "exited"
    assert "no interface" in backend.logs("quickstart", "h1")


# ---- the lab runtime on top (what LabService.NodeAction runs) ----------------------------


def test_runtime_reconfigures_the_fresh_agent_after_start_and_restart(
    deployed: tuple[FakeBackend, LabSession],
) -> None:
    backend, runtime = deployed
    node = backend.engine.nodes["wl.quickstart.r1"]
    planned = node.configured
    assert runtime.node_action("r1", "kill").state == "exited"
    assert node.configured is None
    assert runtime.node_action("r1", "start").state == "running"
    assert node.configured == planned  # configured again from the same plan
    configures = len(backend.ops("configure"))
    assert runtime.node_action("r1", "restart").state == "running"
    assert node.configured == planned
    assert len(backend.ops("configure")) == configures + 1


def test_runtime_pause_and_unpause_do_not_reconfigure(
    deployed: tuple[FakeBackend, LabSession],
) -> None:
    backend, runtime = deployed
    configures = len(backend.ops("configure"))
    assert runtime.node_action("h2", "pause").state == "paused"
    assert runtime.node_action("h2", "unpause").state == "running"
    assert len(backend.ops("configure")) == configures
    with pytest.raises(FailedPrecondition, match="cannot unpause h2: it is running"):
        runtime.node_action("h2", "unpause")


# ---- the sim backend's lifecycle edges (the scenarios cover the traffic) ---------------


@pytest.mark.parametrize("last", ["kill", "pause", "stop"])
def test_sim_labs_are_destroyed_whatever_state_their_nodes_are_in(
    quickstart: Lab, last: str
) -> None:
    from orchestrator.lab.backends.sim import SimBackend
    from orchestrator.lab.remove import destroy

    backend = SimBackend()
    runtime = LabSession(deploy(quickstart, backend))
    try:
        old = runtime.info().node("r1").agent
        assert runtime.node_action("r1", "restart").state == "running"
        assert runtime.info().node("r1").agent != old  # a fresh agent, found again
        assert runtime.status("r1").ready
        result = runtime.node_action("r1", last)
        assert result.state == ("paused" if last == "pause" else "exited")
        refused = backend.start_node if last == "pause" else backend.kill_node
        state = backend.node_state("quickstart", "r1")
        with pytest.raises(NodeStateError, match=f"r1: it is {state}"):
            refused("quickstart", "r1")
    finally:
        runtime.close(destroy=False)
        destroy("quickstart", backend)
    assert backend.find("quickstart").empty
