"""gRPC in the caller's thread (orchestrator/wire/inprocess.py): generated stubs and
servicers unchanged, messages through their bytes, status codes as on the network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, cast

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # type: ignore[import-untyped]
from wirelab.v1 import node_pb2, node_pb2_grpc

from nodes.agent.runtime import NodeRuntime
from nodes.agent.servicer import NodeAgentService, add_to_server
from orchestrator.wire.inprocess import InProcessRpcError, InProcessServer
from orchestrator.wire.status import from_rpc_error

Req = health_pb2.HealthCheckRequest
Resp = health_pb2.HealthCheckResponse


def _server_with(handlers: dict[str, Any]) -> InProcessServer:
    server = InProcessServer("test")
    server.add_registered_method_handlers("t.T", handlers)
    return server


def _unary(fn: Any) -> Any:
    return grpc.unary_unary_rpc_method_handler(
        fn, request_deserializer=Req.FromString, response_serializer=Resp.SerializeToString
    )


def _stream(fn: Any) -> Any:
    return grpc.unary_stream_rpc_method_handler(
        fn, request_deserializer=Req.FromString, response_serializer=Resp.SerializeToString
    )


def test_the_generated_health_stub_calls_the_servicer_in_this_thread() -> None:
    server = InProcessServer()
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    checker.set("svc", Resp.SERVING)
    stub = health_pb2_grpc.HealthStub(server.channel())
    assert stub.Check(Req(service="svc"), timeout=1.0).status == Resp.SERVING
    with pytest.raises(grpc.RpcError) as info:
        stub.Check(Req(service="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_messages_cross_as_bytes_so_the_sides_share_nothing() -> None:
    seen: list[Any] = []

    def check(request: Any, context: grpc.ServicerContext) -> Any:
        seen.append(request)
        request.service = "changed by the server"
        return Resp(status=Resp.SERVING)

    server = _server_with({"Check": _unary(check)})
    request = Req(service="mine")
    call = server.channel().unary_unary(
        "/t.T/Check", request_serializer=Req.SerializeToString,
        response_deserializer=Resp.FromString,
    )  # fmt: skip
    assert call(request).status == Resp.SERVING
    assert request.service == "mine" and seen[0] is not request
    assert threading.current_thread() is threading.main_thread()


def test_abort_keeps_its_status_other_exceptions_are_unknown_and_a_set_code_counts() -> None:
    def aborts(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, "node: not configured")

    def raises(request: Any, context: grpc.ServicerContext) -> Any:
        raise KeyError("boom")

    def sets(request: Any, context: grpc.ServicerContext) -> Any:
        context.set_code(grpc.StatusCode.NOT_FOUND)
        context.set_details("no such thing")
        return Resp()

    server = _server_with({"A": _unary(aborts), "R": _unary(raises), "S": _unary(sets)})
    channel = server.channel()
    outcomes = {}
    for name in ("A", "R", "S"):
        call = channel.unary_unary(f"/t.T/{name}", Req.SerializeToString, Resp.FromString)
        with pytest.raises(InProcessRpcError) as info:
            call(Req())
        outcomes[name] = (info.value.code(), info.value.details())
    assert outcomes["A"] == (grpc.StatusCode.FAILED_PRECONDITION, "node: not configured")
    assert outcomes["R"][0] == grpc.StatusCode.UNKNOWN and "boom" in outcomes["R"][1]
    assert outcomes["S"] == (grpc.StatusCode.NOT_FOUND, "no such thing")
    with pytest.raises(InProcessRpcError) as missing:
        channel.unary_unary("/t.T/Missing", Req.SerializeToString, Resp.FromString)(Req())
    assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_a_stopped_server_is_unavailable_and_maps_to_the_domain_error() -> None:
    server = _server_with({"Check": _unary(lambda r, c: Resp())})
    server.stop()
    call = server.channel().unary_unary("/t.T/Check", Req.SerializeToString, Resp.FromString)
    with pytest.raises(InProcessRpcError) as info:
        call(Req())
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert type(from_rpc_error(info.value)).__name__ == "Unavailable"


def test_callbacks_run_when_the_call_ends_and_futures_are_done_at_once() -> None:
    ended: list[str] = []

    def check(request: Any, context: grpc.ServicerContext) -> Any:
        assert context.is_active()
        remaining = context.time_remaining()
        assert remaining is not None and 0 < remaining <= 5.0
        context.add_callback(lambda: ended.append("ended"))
        return Resp(status=Resp.SERVING)

    server = _server_with({"Check": _unary(check)})
    call = server.channel().unary_unary("/t.T/Check", Req.SerializeToString, Resp.FromString)
    future = call.future(Req(), timeout=5.0)
    assert future.done() and future.result().status == Resp.SERVING
    assert ended == ["ended"]


def test_a_stream_runs_as_the_caller_reads_and_cancel_ends_it() -> None:
    produced: list[int] = []

    def numbers(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        for i in range(100):
            if not context.is_active():
                return
            produced.append(i)
            yield Resp(status=Resp.SERVING)

    server = _server_with({"N": _stream(numbers)})
    call = server.channel().unary_stream("/t.T/N", Req.SerializeToString, Resp.FromString)(Req())
    assert produced == []  # nothing runs before the caller reads
    first = [next(call) for _ in range(3)]
    assert len(first) == 3 and produced == [0, 1, 2]
    call.cancel()
    with pytest.raises(InProcessRpcError) as info:
        next(call)
    assert info.value.code() == grpc.StatusCode.CANCELLED
    assert produced == [0, 1, 2]


def test_the_node_agent_servicer_answers_through_its_generated_stub() -> None:
    runtime = NodeRuntime(lambda config: {}, name="n1")
    server = InProcessServer()
    add_to_server(NodeAgentService(runtime), cast(grpc.Server, server))
    stub = node_pb2_grpc.NodeAgentStub(cast(grpc.Channel, server.channel()))
    status = stub.GetStatus(node_pb2.GetStatusRequest())
    assert status.name == "n1" and not status.ready
    with pytest.raises(grpc.RpcError) as info:
        stub.ListRoutes(node_pb2.ListRoutesRequest())
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
