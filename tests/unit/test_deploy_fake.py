"""Deploy / destroy / inspect against the fake backend: order, progress, idempotency,
rollback at every step, label-only discovery, errors."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address, IPv4Network

import pytest

import topology
from orchestrator.domain.errors import FailedPrecondition
from orchestrator.domain.lab import DeployProgress as ProgressEvent
from orchestrator.lab import labels as L
from orchestrator.lab.backends.base import NetworkSpec, NodeSpec
from orchestrator.lab.backends.fake import FakeBackend, FakeEngine
from orchestrator.lab.deploy import Timeouts, deploy
from orchestrator.lab.inspect import LabNotFoundError, inspect
from orchestrator.lab.inspect import list_labs as list_labs
from orchestrator.lab.progress import DeployError, LabConflictError
from orchestrator.lab.remove import destroy, destroy_all
from orchestrator.lab.session import LabSession
from topology import Lab

OTHER_QUICKSTART = """
name: quickstart
nodes: {a: {kind: host}, b: {kind: host}}
links: [{endpoints: [a, b]}]
"""
FAST = Timeouts(agent_up=0.3, configure=1.0, ready=0.3, exec=1.0, rpc=0.5)


def load(name: str) -> Lab:
    return topology.load_file(topology.example_path(name))


@pytest.fixture
def quickstart() -> Lab:
    return load("quickstart")


@pytest.fixture
def mixed() -> Lab:
    return load("mixed-linux")


def assert_empty(backend: FakeBackend) -> None:
    assert backend.engine.nodes == {}
    assert backend.engine.networks == {}
    assert backend.engine.dirs == set()  # the agents' socket directories on the host


# ---- the happy path ------------------------------------------------------------------------


def test_deploy_runs_the_steps_in_order(quickstart: Lab) -> None:
    backend = FakeBackend()
    handle = deploy(quickstart, backend)
    ops = [op for op, _ in backend.calls]
    first = {op: ops.index(op) for op in reversed(ops)}
    last = {op: len(ops) - 1 - ops[::-1].index(op) for op in ops}
    assert last["create_network"] < first["create_node"]
    assert last["create_node"] < first["start_node"]
    assert last["start_node"] < first["health"]
    rpcs = [op for op in ops if op in ("health", "configure", "status")]
    assert rpcs[:6] == ["health"] * 3 + ["configure"] * 3  # every agent up, then configured
    assert sorted(rpcs[6:]) == ["health"] * 3 + ["status"] * 3  # then ready
    assert [t for op, t in backend.calls if op == "create_network"] == [
        "wl.quickstart.h1-r1", "wl.quickstart.r1-h2"
    ]  # fmt: skip
    assert sorted(handle.agents) == ["h1", "h2", "r1"]
    configured = {n.spec.node: n.configured for n in backend.engine.nodes.values()}
    assert all(c is not None for c in configured.values())
    h2 = configured["h2"]
    assert h2 is not None and [f"{a.kind}:{a.port}" for a in h2.apps] == [
        "http-server:80", "echo:7", "sink:5001", "udp-echo:7"
    ]  # fmt: skip


def test_every_object_is_labelled(mixed: Lab) -> None:
    backend = FakeBackend()
    deploy(mixed, backend)
    digest = L.topology_hash(mixed)
    for node in backend.engine.nodes.values():
        labels = node.spec.labels
        assert labels[L.LAB] == "mixed-linux" and labels[L.NODE] == node.spec.node
        assert labels[L.TOPOLOGY_HASH] == digest and labels[L.KIND] == node.spec.kind.value
        assert L.LINK in labels
    for net in backend.engine.networks.values():
        assert net.labels[L.LAB] == "mixed-linux" and net.labels[L.TOPOLOGY_HASH] == digest
        assert net.labels[L.LINK] == (net.link or "")


def test_progress_events_count_up_per_step(quickstart: Lab) -> None:
    events: list[ProgressEvent] = []
    deploy(quickstart, FakeBackend(), progress=events.append)
    steps = list(dict.fromkeys(e.step for e in events))
    assert steps == ["image", "network", "create", "start", "agent", "configure", "linux", "ready"]
    for step in ("create", "start", "agent", "configure", "ready"):
        mine = [e for e in events if e.step == step]
        assert mine[0].node == "" and mine[0].done == 0 and mine[0].total == 3
        assert sorted(e.node or "" for e in mine[1:]) == ["h1", "h2", "r1"]
        assert [e.done for e in mine[1:]] == [1, 2, 3]
    assert [e for e in events if e.step == "linux"] == [ProgressEvent("linux", "", 0, 0)]


def test_linux_nodes_are_configured_by_exec_and_run_no_agent(mixed: Lab) -> None:
    backend = FakeBackend()
    handle = deploy(mixed, backend)
    assert sorted(handle.agents) == ["h1", "r1"]
    assert sorted(t for op, t in backend.calls if op == "exec") == ["lx1"] * 3 + ["lx2"] * 3
    assert {t for op, t in backend.calls if op == "configure"} == {"h1", "r1"}
    lx1 = backend.engine.nodes[L.container_name("mixed-linux", "lx1")].spec
    assert lx1.management is None and lx1.command[0] == "/bin/sh"
    session = LabSession(handle)
    try:
        with pytest.raises(FailedPrecondition, match="lx1 is a linux node"):
            session.agent("lx1")
    finally:
        session.close(destroy=False)


def test_a_linux_router_is_created_forwarding_and_verified() -> None:
    lab = load("linux-router")
    backend = FakeBackend()
    handle = deploy(lab, backend)
    assert sorted(handle.agents) == ["h1"]
    lxr = backend.engine.nodes[L.container_name("linux-router", "lxr")].spec
    assert lxr.sysctls["net.ipv4.ip_forward"] == "1"
    assert lxr.sysctls["net.ipv4.conf.all.rp_filter"] == "0"
    lx1 = backend.engine.nodes[L.container_name("linux-router", "lx1")].spec
    assert lx1.sysctls["net.ipv4.ip_forward"] == "0"
    assert sorted(t for op, t in backend.calls if op == "exec") == sorted(["lx1", "lxr", "lx2"] * 3)
    destroy("linux-router", backend)
    assert_empty(backend)


# ---- idempotency -----------------------------------------------------------------------------


def test_deploying_the_same_topology_again_is_a_no_op(quickstart: Lab) -> None:
    backend = FakeBackend()
    first = deploy(quickstart, backend)
    backend.calls.clear()
    events: list[ProgressEvent] = []
    again = deploy(load("quickstart"), backend, progress=events.append)
    assert [op for op, _ in backend.calls] == []
    assert again.agents == first.agents
    assert [e.step for e in events] == ["existing"]


def test_a_different_topology_with_the_same_name_is_refused(quickstart: Lab) -> None:
    backend = FakeBackend()
    deploy(quickstart, backend)
    changed = topology.load_text(OTHER_QUICKSTART)
    with pytest.raises(LabConflictError, match="lab quickstart is already deployed") as err:
        deploy(changed, backend)
    assert "replace=True" in str(err.value)
    assert len(backend.engine.nodes) == 3  # untouched


def test_replace_swaps_the_lab(quickstart: Lab) -> None:
    backend = FakeBackend()
    deploy(quickstart, backend)
    changed = topology.load_text(OTHER_QUICKSTART)
    events: list[ProgressEvent] = []
    handle = deploy(changed, backend, replace=True, progress=events.append)
    assert sorted(handle.agents) == ["a", "b"]
    assert {n.spec.node for n in backend.engine.nodes.values()} == {"a", "b"}
    assert events[0].step == "replace"


def test_an_incomplete_lab_with_the_same_topology_is_redeployed(quickstart: Lab) -> None:
    backend = FakeBackend()
    deploy(quickstart, backend)
    backend.remove_node("quickstart", "h2")  # e.g. someone removed a container
    events: list[ProgressEvent] = []
    deploy(quickstart, backend, progress=events.append)
    assert events[0].step == "replace" and "incomplete (missing h2)" in events[0].message
    assert len(backend.engine.nodes) == 3


def test_a_lab_with_dead_nodes_is_redeployed(quickstart: Lab) -> None:
    backend = FakeBackend()
    deploy(quickstart, backend)
    backend.engine.nodes[L.container_name("quickstart", "r1")].state = "exited"  # a reboot
    events: list[ProgressEvent] = []
    deploy(quickstart, backend, progress=events.append)
    assert events[0].message == "not running: r1 (exited): redeploying"
    assert {n.state for n in backend.engine.nodes.values()} == {"running"}


# ---- rollback ----------------------------------------------------------------------------


def _failure_points(lab: Lab) -> list[tuple[str, str | None, bool]]:
    nodes = [n.name for n in lab.nodes]
    agents = [n.name for n in lab.nodes if n.kind.value != "linux"]
    linux = [n.name for n in lab.nodes if n.kind.value == "linux"]
    networks = [L.network_name(lab.name, s.name) for s in lab.segments]
    points: list[tuple[str, str | None]] = [("image", None)]
    points += [("create_network", n) for n in networks]
    points += [("create_node", n) for n in nodes]
    points += [("start_node", n) for n in nodes]
    points += [(op, n) for op in ("agent_address", "health", "configure", "status") for n in agents]
    points += [("exec", n) for n in linux]
    partial = [
        (op, t, True) for op, t in points if op in ("create_network", "create_node", "start_node")
    ]
    return [(op, t, False) for op, t in points] + partial


@pytest.mark.parametrize("op,target,after", _failure_points(load("mixed-linux")))
def test_a_failure_at_any_step_leaves_nothing_behind(
    op: str, target: str | None, after: bool
) -> None:
    lab = load("mixed-linux")
    backend = FakeBackend()
    backend.fail(op, target, times=-1, after=after)
    events: list[ProgressEvent] = []
    with pytest.raises(DeployError) as err:
        deploy(lab, backend, progress=events.append, timeouts=FAST)
    assert_empty(backend)
    assert err.value.lab == "mixed-linux"
    if target is not None and op not in ("create_network",):
        assert err.value.node == target, str(err.value)
    if op != "image":
        assert any(e.step == "rollback" for e in events)
    assert backend.agents().closed >= 1


@pytest.mark.parametrize("after", [False, True])
def test_a_failing_management_network_leaves_nothing_behind(after: bool) -> None:
    backend = FakeBackend(agent_sockets=False)  # agents on TCP: a management network
    mgmt = L.management_network_name("mixed-linux")
    backend.fail("create_network", mgmt, times=-1, after=after)
    with pytest.raises(DeployError, match=r"network wl\.mixed-linux\._mgmt"):
        deploy(load("mixed-linux"), backend, timeouts=FAST)
    assert_empty(backend)


def test_rollback_also_sweeps_objects_it_did_not_track(quickstart: Lab) -> None:
    backend = FakeBackend()
    create_node = backend.create_node

    def create_node_and_a_stray(spec: NodeSpec) -> None:  # e.g. a racing deploy's object
        create_node(spec)
        stray = NetworkSpec(
            "quickstart",
            "stray",
            "x",
            IPv4Network("10.9.9.0/24"),
            IPv4Address("10.9.9.1"),
            1500,
            (),
            {L.LAB: "quickstart"},
        )
        backend.engine.networks.setdefault("stray", stray)

    backend.create_node = create_node_and_a_stray  # type: ignore[method-assign]
    backend.fail("start_node", "r1")
    with pytest.raises(DeployError, match="start r1"):
        deploy(quickstart, backend, timeouts=FAST)
    assert_empty(backend)


def test_a_partly_created_object_is_removed(quickstart: Lab) -> None:
    backend = FakeBackend()
    backend.fail("create_node", "r1", after=True)  # created, then "connect" failed
    with pytest.raises(DeployError, match="create r1"):
        deploy(quickstart, backend, timeouts=FAST)
    assert ("remove_node", "r1") in backend.calls
    assert_empty(backend)


def test_a_failing_rollback_keeps_the_original_error(quickstart: Lab) -> None:
    backend = FakeBackend()
    backend.fail("configure", "h2")
    backend.fail("remove_node", "h1", times=-1)
    events: list[ProgressEvent] = []
    with pytest.raises(DeployError, match="configure h2: injected failure"):
        deploy(quickstart, backend, timeouts=FAST, progress=events.append)
    assert any("rollback incomplete" in e.message for e in events)
    assert list(backend.engine.nodes) == [L.container_name("quickstart", "h1")]


# ---- errors --------------------------------------------------------------------------------


def test_a_node_that_exits_is_reported_with_its_logs(quickstart: Lab) -> None:
    backend = FakeBackend()
    backend.crash("r1", "line 1\nImportError: no module named grpc")
    with pytest.raises(DeployError) as err:
        deploy(quickstart, backend, timeouts=FAST)
    text = str(err.value)
    assert "lab quickstart: agent r1" in text and "exited" in text
    assert "ImportError: no module named grpc" in text
    assert_empty(backend)


def test_an_agent_that_never_answers_times_out_naming_the_node(quickstart: Lab) -> None:
    backend = FakeBackend()
    backend.fail("health", "h2", times=-1)
    with pytest.raises(
        DeployError,
        match=r"agent h2: its agent did not answer at unix:///run/wirelab/quickstart/h2/",
    ):
        deploy(quickstart, backend, timeouts=FAST)
    assert_empty(backend)


def test_missing_apps_fail_the_ready_step(quickstart: Lab) -> None:
    backend = FakeBackend()
    original = backend.agents()._status

    def no_apps(node):  # type: ignore[no-untyped-def]
        return dataclasses.replace(original(node), apps=())

    backend.agents()._status = no_apps  # type: ignore[method-assign]
    with pytest.raises(DeployError, match="ready h2: apps not running: echo:7, http-server:80"):
        deploy(quickstart, backend, timeouts=FAST)
    assert_empty(backend)


def test_linux_setup_errors_name_the_node(mixed: Lab) -> None:
    backend = FakeBackend()
    backend.fail("exec", "lx2", message="ethtool: Operation not permitted")
    with pytest.raises(DeployError, match=r"linux lx2: .*Operation not permitted"):
        deploy(mixed, backend, timeouts=FAST)
    assert_empty(backend)


# ---- destroy / inspect / list ----------------------------------------------------------------


def test_destroy_finds_everything_by_label_from_another_orchestrator(quickstart: Lab) -> None:
    engine = FakeEngine()
    deploy(quickstart, FakeBackend(engine))
    other = FakeBackend(engine)  # the first orchestrator "died"; only labels remain
    removed = destroy("quickstart", other)
    assert sorted(removed.nodes) == ["h1", "h2", "r1"]
    assert len(removed.networks) == 2
    assert engine.nodes == {} and engine.networks == {} and engine.dirs == set()
    assert ("remove_lab_files", "quickstart") in other.calls
    assert destroy("quickstart", other).nodes == ()  # nothing left is not an error


def test_destroy_removes_the_labs_files_also_when_no_object_is_left(quickstart: Lab) -> None:
    backend = FakeBackend()
    deploy(quickstart, backend)
    stray = "/run/wirelab/quickstart/h9"  # e.g. a node whose container was removed by hand
    backend.engine.dirs.add(stray)
    for node in ("h1", "h2", "r1"):
        backend.remove_node("quickstart", node)
    assert backend.engine.dirs == {stray}
    destroy("quickstart", backend)
    assert_empty(backend)


def test_destroy_keeps_the_files_of_nodes_it_could_not_remove(quickstart: Lab) -> None:
    backend = FakeBackend()
    deploy(quickstart, backend)
    backend.fail("remove_node", "r1", times=-1)
    with pytest.raises(DeployError, match="node r1: injected failure"):
        destroy("quickstart", backend)
    assert backend.engine.dirs == {"/run/wirelab/quickstart/r1"}  # its agent still runs
    assert ("remove_lab_files", "quickstart") not in backend.calls


def test_destroy_leaves_other_labs_alone(quickstart: Lab, mixed: Lab) -> None:
    backend = FakeBackend()
    deploy(quickstart, backend)
    deploy(mixed, backend)
    destroy("quickstart", backend)
    assert backend.lab_names() == ["mixed-linux"]
    assert destroy_all(backend)[0].lab == "mixed-linux"
    assert_empty(backend)


def test_destroy_reports_what_it_could_not_remove(quickstart: Lab) -> None:
    backend = FakeBackend()
    deploy(quickstart, backend)
    backend.fail("remove_network", "wl.quickstart.h1-r1", times=-1)  # also its retry
    with pytest.raises(DeployError, match=r"network wl\.quickstart\.h1-r1: injected failure"):
        destroy("quickstart", backend)
    assert list(backend.engine.networks) == ["wl.quickstart.h1-r1"]
    destroy("quickstart", FakeBackend(backend.engine))
    assert_empty(backend)


def test_inspect_and_list_come_from_labels(mixed: Lab) -> None:
    engine = FakeEngine()
    deploy(mixed, FakeBackend(engine))
    other = FakeBackend(engine)
    info = inspect("mixed-linux", other)
    assert info.topology_hash == L.topology_hash(mixed) and info.running
    r1 = next(n for n in info.nodes if n.name == "r1")
    assert r1.kind == "router"
    assert r1.management == "unix:///run/wirelab/mixed-linux/r1/agent.sock"
    assert [(i.name, i.link, i.address, i.prefix_len) for i in r1.interfaces] == [
        ("eth0", "h1-r1", "10.134.1.3", 24),
        ("eth1", "lx1-r1", "10.134.2.3", 24),
        ("eth2", "r1-lx2", "10.200.0.2", 24),
    ]
    lx2 = next(n for n in info.nodes if n.name == "lx2")
    assert lx2.management == "" and lx2.interfaces[0].address == "10.200.0.10"
    assert {n.link for n in info.networks} == {"h1-r1", "lx1-r1", "r1-lx2"}
    assert info.to_dict()["name"] == "mixed-linux"
    [summary] = list_labs(other)
    assert (summary.name, summary.nodes, summary.running, summary.networks) == (
        "mixed-linux", 4, 4, 3
    )  # fmt: skip
    with pytest.raises(LabNotFoundError, match="no lab 'nope'"):
        inspect("nope", other)


def test_the_deployed_lab_knows_its_agents(quickstart: Lab) -> None:
    backend = FakeBackend()
    deployed = deploy(quickstart, backend)
    assert deployed.lab is quickstart and deployed.backend is backend
    assert deployed.agents["h1"] == "unix:///run/wirelab/quickstart/h1/agent.sock"
    assert str(deployed.lab.node("h2").interfaces[0].address) == "10.173.2.3"
    assert inspect("quickstart", backend).running
    assert sorted(destroy("quickstart", backend).nodes) == ["h1", "h2", "r1"]


def test_agents_on_a_management_network_are_reached_there(quickstart: Lab) -> None:
    backend = FakeBackend(agent_sockets=False)
    deployed = deploy(quickstart, backend)
    assert deployed.agents["h1"] == "172.30.250.2:50051"
    info = inspect("quickstart", backend)
    assert {n.link for n in info.networks} == {"", "h1-r1", "r1-h2"}
    destroy("quickstart", backend)
    assert_empty(backend)
