"""The app registry (topology ``apps``), the deterministic payload stream, and the
polling base class's guard against apps that never consume their readiness."""

from __future__ import annotations

import hashlib
import random

import pytest

from nodes.apps.base import PolledApp, tcp_engine
from nodes.apps.bulk import BulkSink
from nodes.apps.data import BLOCK, PatternStream, pattern_bytes, pattern_sha256
from nodes.apps.echo import TcpEchoServer, UdpEchoServer
from nodes.apps.http import HttpServer
from nodes.apps.registry import APP_KINDS, SERVER_KINDS, UnknownAppError, make_app
from nodes.stack.host import Host
from topology.model import AppKind


def host() -> Host:
    h = Host("h1", rng=random.Random(1))
    h.add_interface("eth0", "02:00:00:00:00:01", "10.0.0.1", 24)
    return h


def test_registry_covers_the_topology_kinds() -> None:
    assert set(APP_KINDS) == {k.value for k in AppKind}


def test_make_app_starts_each_kind() -> None:
    h = host()
    apps = [make_app(kind, 1000 + i, host=h, now=0.0) for i, kind in enumerate(SERVER_KINDS)]
    kinds = {type(a) for a in apps}
    assert kinds == {HttpServer, TcpEchoServer, BulkSink, UdpEchoServer}
    assert [a.port for a in apps] == [1000, 1001, 1002, 1003]
    assert all(
        isinstance(a, PolledApp) and a.next_deadline() is None for a in apps
    )  # idle: nothing to do
    http = make_app("http-server", 80, host=h, now=0.0, seed=9)
    assert isinstance(http, HttpServer) and http.seed == 9
    with pytest.raises(OSError, match="EADDRINUSE"):
        make_app("echo", 1001, host=h, now=0.0)
    for app in apps:
        app.close(now=1.0)
    make_app("echo", 1001, host=h, now=1.0)  # the port is free again


def test_unknown_kind_lists_the_allowed_ones() -> None:
    with pytest.raises(UnknownAppError) as info:
        make_app("ftp", 21, host=host(), now=0.0)
    message = str(info.value)
    assert "'ftp'" in message
    assert "http-server, echo, sink, udp-echo, forward" in message
    assert "module:factory" in message


def test_bad_port_and_every_host_has_tcp() -> None:
    with pytest.raises(ValueError, match="port"):
        make_app("echo", 0, host=host(), now=0.0)
    bare = Host("bare")
    assert tcp_engine(bare) is bare.tcp  # the Host composes TCP (no registration needed)


def test_pattern_stream_is_deterministic_whatever_the_read_sizes() -> None:
    size = 3 * BLOCK + 123
    whole = pattern_bytes(size, seed=4)
    assert len(whole) == size and whole != pattern_bytes(size, seed=5)
    assert whole[:BLOCK] == random.Random(4).randbytes(BLOCK)  # documented construction
    stream, parts = PatternStream(4, size), []
    rng = random.Random(0)
    while block := stream.peek(rng.randrange(1, 20000)):
        take = rng.randrange(1, len(block) + 1)
        parts.append(bytes(block[:take]))
        stream.advance(take)
    assert b"".join(parts) == whole and stream.remaining == 0
    assert pattern_sha256(size, 4) == hashlib.sha256(whole).hexdigest()
    assert pattern_bytes(0) == b"" and pattern_bytes(10, 4) == whole[:10]
    with pytest.raises(ValueError):
        PatternStream(1, -1)


def test_an_app_that_never_consumes_its_readiness_is_caught() -> None:
    class Stuck(PolledApp):
        def _wants_service(self) -> bool:
            return True

    h = host()
    app = Stuck(h)
    app._attach(0.0)
    with pytest.raises(RuntimeError, match="without progress"):
        for _ in range(20000):
            h.on_timer(now=0.0)
