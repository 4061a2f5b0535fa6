"""Hostile gRPC input (issue 11): 10,000 random, malformed and oversized requests against
the LabService and a node agent of a running sim lab. None may get INTERNAL, no answer may
carry more than 1 KiB of message, and both servers keep serving.

Requests are built from the messages' descriptors with a seeded generator (the same
requests every run): every field gets either a plausible value (the lab's name, one of
its nodes or interfaces, a small number) or a hostile one (empty, huge, negative, NaN,
infinite, control characters, 100,000 characters, unknown enum numbers). Every call has a
short deadline, which also bounds the work a valid but long request starts.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor as F
from wirelab.v1 import lab_pb2, lab_pb2_grpc, node_pb2, node_pb2_grpc

from orchestrator.client import Lab, LabClient
from orchestrator.service.server import LabServer, start_server

LAB = "hostile"
PLAUSIBLE = {
    "lab": [LAB],
    "node": ["h1", "r1", "h2"],
    "nodes": ["h1", "r1", "h2"],
    "iface": ["eth0", "eth1", "*"],
    "name": ["eth0", "eth1"],
    "destination": ["h2", "10.0.0.1", "h1:eth0"],
    "fault_id": ["F1", "F2"],
    "app_id": ["sink:5001", "echo:7"],
    "kind": ["sink", "echo", "http-server"],
    "url": ["http://h2/", "http://h2:80/x"],
    "prefix": ["10.0.0.0/24", "default", "0.0.0.0/0"],
    "endpoint": ["r1:eth1", "h1:eth0"],
}
HOSTILE_TEXT = ["", " ", "\x00", "é\u202e", "x" * 300, "A" * 100_000, "../../etc/shadow",
                "{{", "%s%n", "\n\n"]  # fmt: skip
HOSTILE_FLOATS = [0.0, -1.0, 1e12, 1e300, math.inf, -math.inf, math.nan, 5e-324]
MAX_DETAIL = 1024
SKIP = {"Deploy", "Destroy"}  # lab lifecycle: tested on their own
STREAMING = {"Capture", "WatchEvents"}
REQUESTS = 10_000


class Maker:
    """Random protobuf messages from their descriptors, seeded."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def message(self, cls: Any, depth: int = 0) -> Any:
        msg = cls()
        for f in cls.DESCRIPTOR.fields:
            if self.rng.random() < 0.4 or (f.message_type is not None and depth >= 3):
                continue
            if f.message_type is not None and f.message_type.GetOptions().map_entry:
                continue
            if f.is_repeated:
                for _ in range(self.rng.randint(0, 3)):
                    if f.message_type is not None:
                        getattr(msg, f.name).add().CopyFrom(
                            self.message(f.message_type._concrete_class, depth + 1)
                        )
                    else:
                        getattr(msg, f.name).append(self.scalar(f))
            elif f.message_type is not None:
                getattr(msg, f.name).CopyFrom(
                    self.message(f.message_type._concrete_class, depth + 1)
                )
            else:
                setattr(msg, f.name, self.scalar(f))
        return msg

    def scalar(self, f: Any) -> Any:
        r = self.rng
        t = f.type
        if t == F.TYPE_STRING:
            if f.name in PLAUSIBLE and r.random() < 0.75:
                return r.choice(PLAUSIBLE[f.name])
            if r.random() < 0.5:
                return r.choice(HOSTILE_TEXT)
            return "".join(chr(r.randint(0, 0x2FFF)) for _ in range(r.randint(0, 12)))
        if t == F.TYPE_BYTES:
            return r.randbytes(r.randint(0, 64))
        if t == F.TYPE_BOOL:
            return r.random() < 0.5
        if t == F.TYPE_ENUM:
            return r.choice([v.number for v in f.enum_type.values] + [99])
        if t in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
            return r.choice(HOSTILE_FLOATS) if r.random() < 0.5 else r.uniform(0, 2000)
        unsigned = t in (F.TYPE_UINT32, F.TYPE_UINT64, F.TYPE_FIXED32, F.TYPE_FIXED64)
        bits = 64 if t in (F.TYPE_UINT64, F.TYPE_INT64, F.TYPE_FIXED64, F.TYPE_SINT64) else 32
        high = 2**bits - 1 if unsigned else 2 ** (bits - 1) - 1
        low = 0 if unsigned else -(2 ** (bits - 1))
        return r.choice([0, 1, 3, 80, 1200, 5001, 65535, high, r.randint(low, high)])


def _calls(service: Any, stub_cls: Any, channel: grpc.Channel) -> list[tuple[str, Any, Any]]:
    stub = stub_cls(channel)
    return [
        (m.name, m.input_type._concrete_class, getattr(stub, m.name))
        for m in service.methods
        if m.name not in SKIP
    ]


def _call(fn: Any, request: Any, streaming: bool) -> grpc.StatusCode:
    try:
        if streaming:
            for _ in fn(request, timeout=0.1):
                pass
        else:
            fn(request, timeout=0.3)
    except grpc.RpcError as exc:
        code: grpc.StatusCode = exc.code()
        details = exc.details() or ""
        assert code != grpc.StatusCode.INTERNAL, f"{type(request).__name__}: {details}"
        assert code != grpc.StatusCode.UNKNOWN, f"{type(request).__name__}: {details}"
        assert len(details.encode()) <= MAX_DETAIL, details[:300]
        return code
    return grpc.StatusCode.OK


def _barrage(address: str, service: Any, stub_cls: Any, count: int, seed: int,
             skip: set[str] = frozenset()) -> dict[str, Counter[str]]:  # type: ignore[assignment]  # fmt: skip
    maker = Maker(seed)
    seen: dict[str, Counter[str]] = {}
    with grpc.insecure_channel(address) as channel:
        calls = [c for c in _calls(service, stub_cls, channel) if c[0] not in skip]
        for _ in range(count):
            name, cls, fn = maker.rng.choice(calls)
            code = _call(fn, maker.message(cls), name in STREAMING)
            seen.setdefault(name, Counter())[code.name] += 1
    return seen


@pytest.fixture(scope="module")
def server() -> Iterator[LabServer]:
    srv = start_server("127.0.0.1:0", max_workers=16)
    yield srv
    srv.stop(grace=0.2)


@pytest.fixture(scope="module")
def lab(server: LabServer) -> Iterator[Lab]:
    with LabClient(server.address) as client:
        lab = client.deploy("quickstart", name=LAB, backend="sim")
        yield lab
        lab.destroy()


def test_random_requests_to_the_lab_service(server: LabServer, lab: Lab) -> None:
    service = lab_pb2.DESCRIPTOR.services_by_name["LabService"]
    seen = _barrage(server.address, service, lab_pb2_grpc.LabServiceStub, REQUESTS // 2, 1)
    assert len(seen) == len(service.methods) - len(SKIP)  # every RPC was tried
    assert sum(c["OK"] for c in seen.values()) > 50  # many went deep enough to succeed
    assert lab.client.healthy() and lab.refresh().name == LAB  # still serving


def test_random_requests_to_a_node_agent(server: LabServer) -> None:
    service = node_pb2.DESCRIPTOR.services_by_name["NodeAgent"]
    with LabClient(server.address) as client:
        lab = client.deploy("quickstart", name=f"{LAB}-agent", backend="sim")
        try:
            agent = lab.info.node("r1").agent
            seen = _barrage(agent, service, node_pb2_grpc.NodeAgentStub, REQUESTS // 2, 2,
                            skip={"Configure"})  # fmt: skip
            assert sum(c["OK"] for c in seen.values()) > 50
            assert lab.status("r1").ready  # the agent still answers
        finally:
            lab.destroy()
