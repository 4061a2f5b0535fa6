"""The agent's server and runtime life cycle on a single in-process node: before and
after Configure (health, FAILED_PRECONDITION, field-naming errors), cancellation of a
long call, and the container entry point's start and SIGTERM shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from wirelab.v1 import common_pb2, node_pb2, node_pb2_grpc

from nodes.agent.config import Kind
from nodes.agent.inprocess import memport_factory
from nodes.agent.runtime import NodeRuntime
from nodes.agent.server import AgentServer, clear_stale_socket, start, unix_path
from nodes.io.memport import MemPort, mem_link
from orchestrator.wire.agent import AgentPool, Health

T = 10.0
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class Node:
    runtime: NodeRuntime
    server: AgentServer
    thread: threading.Thread
    channel: grpc.Channel
    stub: node_pb2_grpc.NodeAgentStub
    health: health_pb2_grpc.HealthStub
    ports: tuple[MemPort, MemPort]


@pytest.fixture
def node() -> Iterator[Node]:
    inside, outside = mem_link()
    runtime = NodeRuntime(memport_factory({"eth0": inside}), name="n1", kind=Kind.HOST)
    server = start(runtime, "127.0.0.1:0")
    thread = threading.Thread(target=runtime.run)
    thread.start()
    channel = grpc.insecure_channel(server.address)
    handle = Node(runtime, server, thread, channel, node_pb2_grpc.NodeAgentStub(channel),
                  health_pb2_grpc.HealthStub(channel), (inside, outside))  # fmt: skip
    try:
        yield handle
    finally:
        channel.close()
        server.stop(grace=0.2)
        runtime.stop()
        thread.join(5)
        inside.close()
        outside.close()
    assert not thread.is_alive()


def _request(**changes: object) -> node_pb2.ConfigureRequest:
    req = node_pb2.ConfigureRequest(
        name="n1", kind=node_pb2.NODE_KIND_HOST, seed=1,
        interfaces=[node_pb2.InterfaceConfig(name="eth0", address="10.9.0.2", prefix_len=24)],
        routes=[node_pb2.RouteConfig(prefix="0.0.0.0/0", gateway="10.9.0.1")],
        apps=[node_pb2.AppConfig(kind="sink")],
    )  # fmt: skip
    for key, value in changes.items():
        setattr(req, key, value)
    return req


def _code(err: pytest.ExceptionInfo[grpc.RpcError]) -> grpc.StatusCode:
    assert isinstance(err.value, grpc.Call)
    return err.value.code()


def _details(err: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    assert isinstance(err.value, grpc.Call)
    return err.value.details() or ""


def _health(node: Node) -> int:
    reply = node.health.Check(health_pb2.HealthCheckRequest(service="wirelab.v1.NodeAgent"),
                              timeout=T)  # fmt: skip
    return int(reply.status)


def test_before_configure_the_node_is_not_serving_and_refuses_stack_calls(node: Node) -> None:
    assert _health(node) == NOT_SERVING
    status = node.stub.GetStatus(node_pb2.GetStatusRequest(), timeout=T)
    assert status.name == "n1" and not status.ready and status.kind == node_pb2.NODE_KIND_HOST
    assert not status.interfaces and status.uptime_s >= 0
    calls: list[Callable[[], object]] = [
        lambda: node.stub.ListFaults(node_pb2.ListFaultsRequest(), timeout=T),
        lambda: node.stub.Ping(node_pb2.PingRequest(destination="10.9.0.1"), timeout=T),
        lambda: node.stub.GetCounters(node_pb2.GetCountersRequest(), timeout=T),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert _code(err) == grpc.StatusCode.FAILED_PRECONDITION
        assert "not configured" in _details(err)


def test_configure_errors_name_the_field_and_leave_the_node_configurable(node: Node) -> None:
    bad = _request()
    bad.interfaces[0].name = "eth3"  # no such port on this node
    with pytest.raises(grpc.RpcError) as err:
        node.stub.Configure(bad, timeout=T)
    assert _code(err) == grpc.StatusCode.INVALID_ARGUMENT
    assert _details(err).startswith("interfaces[0].name: no in-process port 'eth3'")
    off_link = _request()
    off_link.routes[0].gateway = "192.168.7.1"
    with pytest.raises(grpc.RpcError) as err:
        node.stub.Configure(off_link, timeout=T)
    assert _details(err).startswith("routes: ") and "no connected subnet" in (_details(err))
    with pytest.raises(grpc.RpcError) as err:
        node.stub.Configure(_request(name="n2"), timeout=T)
    assert _code(err) == grpc.StatusCode.FAILED_PRECONDITION
    reply = node.stub.Configure(_request(), timeout=T)
    assert reply.status.ready and not reply.already_configured
    assert reply.status.apps == ["sink:5001"]
    assert _health(node) == SERVING
    (iface,) = reply.status.interfaces
    assert iface.address == "10.9.0.2" and iface.device == "mem:a" and iface.mac.startswith("02:")


def test_a_cancelled_long_call_cancels_its_job_on_the_node(node: Node) -> None:
    node.stub.Configure(_request(), timeout=T)
    # nobody answers on the far side of the link: the ping waits for replies
    call = node.stub.Ping.future(
        node_pb2.PingRequest(destination="10.9.0.7", count=100, interval_ms=50), timeout=30
    )
    end = time.monotonic() + 5
    while node.runtime.run_in_loop(lambda s: s.jobs.active) == 0 and time.monotonic() < end:
        time.sleep(0.01)
    assert node.runtime.run_in_loop(lambda s: s.jobs.active) == 1
    call.cancel()
    while node.runtime.run_in_loop(lambda s: s.jobs.active) and time.monotonic() < end:
        time.sleep(0.01)
    assert node.runtime.run_in_loop(lambda s: s.jobs.active) == 0
    assert node.runtime.run_in_loop(lambda s: len(s.host.listeners)) == 0  # ping detached


def test_faults_with_an_id_and_clearing_them_all(node: Node) -> None:
    node.stub.Configure(_request(), timeout=T)
    spec = common_pb2.FaultSpec(iface="*", loss=0.5)
    first = node.stub.AddFault(node_pb2.AddFaultRequest(fault=spec, fault_id="mine"), timeout=T)
    assert first.fault_id == "mine" and first.seed > 0  # generated, reported
    with pytest.raises(grpc.RpcError) as err:
        node.stub.AddFault(node_pb2.AddFaultRequest(fault=spec, fault_id="mine"), timeout=T)
    assert _code(err) == grpc.StatusCode.ALREADY_EXISTS
    node.stub.AddFault(node_pb2.AddFaultRequest(fault=spec), timeout=T)
    with pytest.raises(grpc.RpcError) as err:
        node.stub.ClearFault(node_pb2.ClearFaultRequest(), timeout=T)
    assert _code(err) == grpc.StatusCode.INVALID_ARGUMENT
    cleared = node.stub.ClearFault(node_pb2.ClearFaultRequest(all=True), timeout=T).cleared
    assert len(cleared) == 2 and {c.node for c in cleared} == {"n1"}


def test_stopping_before_configure_ends_run() -> None:
    runtime = NodeRuntime(memport_factory({}), name="idle")
    thread = threading.Thread(target=runtime.run)
    thread.start()
    runtime.stop()
    thread.join(5)
    assert not thread.is_alive() and not runtime.ready


def test_the_entry_point_serves_and_stops_cleanly_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nodes.agent", "--listen", "127.0.0.1:0", "--name", "h9",
         "--kind", "host", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{line['port']}") as channel:
            status = node_pb2_grpc.NodeAgentStub(channel).GetStatus(
                node_pb2.GetStatusRequest(), timeout=T
            )
            assert status.name == "h9" and not status.ready
            check = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=T
            )
            assert check.status == NOT_SERVING
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# ---- on a Unix socket (how a docker node's agent listens: a directory the host mounts) ----


def _health_at(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        check = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=T
        )
    return int(check.status)


def test_the_agent_serves_on_a_unix_socket_anyone_behind_its_directory_may_use(
    tmp_path: Path,
) -> None:
    path = tmp_path / "node" / "agent.sock"  # the directory is made when missing
    runtime = NodeRuntime(memport_factory({}), name="u1", kind=Kind.HOST)
    server = start(runtime, f"unix://{path}")
    try:
        assert server.address == f"unix://{path}" and server.port == 0
        assert stat.S_ISSOCK(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o666
        assert _health_at(server.address) == NOT_SERVING
        pool = AgentPool()  # the orchestrator's client dials the same address
        try:
            assert pool.health(server.address, timeout=T) is Health.NOT_SERVING
        finally:
            pool.close()
    finally:
        server.stop(grace=0.2)
        runtime.stop()


def test_a_restarted_agent_replaces_the_socket_a_killed_one_left(tmp_path: Path) -> None:
    path = tmp_path / "agent.sock"
    dead = socket.socket(socket.AF_UNIX)  # what a SIGKILLed agent leaves: nobody listens
    dead.bind(str(path))
    dead.close()
    assert unix_path(f"unix://{path}") == path and clear_stale_socket(path)
    assert not path.exists() and not clear_stale_socket(path)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()
    for round_ in range(2):  # a start on a stale socket, then a restart on the same path
        runtime = NodeRuntime(memport_factory({}), name=f"u{round_}", kind=Kind.HOST)
        server = start(runtime, f"unix://{path}")
        try:
            assert _health_at(f"unix://{path}") == NOT_SERVING
        finally:
            server.stop(grace=0.2)
            runtime.stop()


def test_the_agent_never_deletes_a_file_that_is_not_a_socket(tmp_path: Path) -> None:
    path = tmp_path / "agent.sock"
    path.write_text("mine")
    runtime = NodeRuntime(memport_factory({}), name="u2", kind=Kind.HOST)
    with pytest.raises(OSError, match="not a socket"):
        start(runtime, f"unix://{path}")
    assert path.read_text() == "mine"
    with pytest.raises(OSError, match="absolute path"):
        start(runtime, "unix:agent.sock")


def test_the_entry_point_listens_on_a_unix_socket(tmp_path: Path) -> None:
    address = f"unix://{tmp_path}/agent.sock"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nodes.agent", "--listen", address, "--name", "h8",
         "--kind", "router", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline()) == {"listening": address, "port": 0}
        with grpc.insecure_channel(address) as channel:
            status = node_pb2_grpc.NodeAgentStub(channel).GetStatus(
                node_pb2.GetStatusRequest(), timeout=T
            )
        assert status.name == "h8" and not status.ready
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
