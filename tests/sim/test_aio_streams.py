"""asyncio on our stack (nodes/io/aio.py): ``open_connection`` / ``start_server`` return
asyncio's own StreamReader/StreamWriter over our TCP, in virtual time, through a router,
with the node's clock as the loop's clock."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from nodes.apps.api import tcp_info
from nodes.apps.testing import run_until, tcp_line
from nodes.faults.engine import FaultEngine
from nodes.faults.model import Direction, Effects, FaultSpec
from nodes.io.aio import (
    AioBridge,
    create_datagram_endpoint,
    open_connection,
    start_server,
)
from nodes.io.simulate import Line


@pytest.fixture(autouse=True)
def close_bridges() -> Iterator[None]:
    yield
    for bridge in BRIDGES:
        bridge.close()
    BRIDGES.clear()


BRIDGES: list[AioBridge] = []


class Lab:
    """A line h1 - r1 - h2 in virtual time with an asyncio bridge on each end host."""

    def __init__(self, delay: float = 0.005) -> None:
        self.line: Line = tcp_line(1, delay=delay)
        sim = self.line.sim
        hosts = {"h1": "10.0.0.1", "h2": "10.0.1.2"}
        self.h1 = AioBridge(self.line.left, lambda: sim.now, hosts)
        self.h2 = AioBridge(self.line.right, lambda: sim.now, hosts)
        BRIDGES.extend((self.h1, self.h2))

    def spawn(self, bridge: AioBridge, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = bridge.run_soon(lambda: bridge.loop.create_task(coro))
        bridge.wake()
        return task

    def run(self, *tasks: asyncio.Task[Any], timeout: float = 30.0) -> None:
        run_until(self.line, lambda: all(t.done() for t in tasks), timeout=timeout)
        for t in tasks:
            if not t.cancelled() and t.exception() is not None:
                raise t.exception()  # type: ignore[misc]


async def echo_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


def test_line_echo_with_streams_round_trips_in_virtual_time() -> None:
    lab = Lab(delay=0.005)  # RTT 20 ms
    servers: list[Any] = []

    async def serve() -> None:
        servers.append(await start_server(echo_session, 7))
        await servers[0].serve_forever()

    rtts: list[float] = []
    peers: list[Any] = []

    async def client() -> list[bytes]:
        reader, writer = await open_connection("h2", 7)  # a node's name
        loop = asyncio.get_running_loop()
        peers.append(writer.get_extra_info("peername"))
        replies = []
        for i in range(5):
            start = loop.time()
            writer.write(f"line {i}\n".encode())
            replies.append(await reader.readline())
            rtts.append(loop.time() - start)
        writer.close()
        await writer.wait_closed()
        return replies

    lab.spawn(lab.h2, serve())
    task = lab.spawn(lab.h1, client())
    lab.run(task)
    assert task.result() == [f"line {i}\n".encode() for i in range(5)]
    assert peers == [("10.0.1.2", 7)]
    # the loop's clock is the simulation's: exactly 4 link crossings of 5 ms each
    assert rtts == [pytest.approx(0.020)] * 5
    assert servers[0].accepted == 1


def test_megabytes_with_back_pressure_and_half_close_survive_loss() -> None:
    lab = Lab(delay=0.002)
    engine = FaultEngine(rng=random.Random(3))
    spec = FaultSpec(iface="eth1", direction=Direction.EGRESS, effects=Effects(loss=0.02), seed=3)
    engine.add(spec, now=0.0)
    lab.line.sim.set_impairment("r1", engine)
    data = random.Random(7).randbytes(3_000_000)
    got: dict[str, Any] = {}

    async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = await reader.read()  # until the client's FIN (write_eof)
        writer.write(hashlib.sha256(body).hexdigest().encode())
        await writer.drain()
        writer.close()

    async def serve() -> None:
        await start_server(sink, 5001)

    async def client() -> None:
        reader, writer = await open_connection("10.0.1.2", 5001)
        writer.write(data)  # more than the transport's high-water mark: drain() waits
        got["buffered"] = writer.transport.get_write_buffer_size()
        await writer.drain()
        writer.write_eof()  # half-close: the server still answers
        got["digest"] = (await reader.read()).decode()
        got["info"] = tcp_info(writer)
        writer.close()

    lab.spawn(lab.h2, serve())
    task = lab.spawn(lab.h1, client())
    lab.run(task, timeout=120)
    assert got["buffered"] > 0
    assert got["digest"] == hashlib.sha256(data).hexdigest()
    info = got["info"]
    assert info["retrans"] > 0 and info["remote"] == ("10.0.1.2", 5001)
    assert engine.list()[0].counters.dropped > 0


def test_refused_and_unresolvable_connections_raise_what_asyncio_raises() -> None:
    lab = Lab()
    outcomes: list[BaseException] = []

    async def client() -> None:
        for host in ("h2", "nowhere"):
            try:
                await open_connection(host, 9)
            except OSError as exc:
                outcomes.append(exc)

    lab.run(lab.spawn(lab.h1, client()))
    refused, bad = outcomes
    assert isinstance(refused, ConnectionRefusedError)
    assert "neither an IPv4 address nor a node" in str(bad)


def test_a_second_server_on_a_port_in_use_fails() -> None:
    lab = Lab()

    async def twice() -> None:
        await start_server(echo_session, 7)
        await start_server(echo_session, 7)

    task = lab.spawn(lab.h2, twice())
    run_until(lab.line, task.done, timeout=1)
    exc = task.exception()
    assert isinstance(exc, OSError) and "EADDRINUSE" in str(exc)


def test_udp_datagram_endpoint_round_trip() -> None:
    lab = Lab(delay=0.001)
    received: list[tuple[bytes, tuple[str, int]]] = []

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            self.transport.sendto(data.upper(), addr)  # type: ignore[attr-defined]

    class Client(asyncio.DatagramProtocol):
        def __init__(self) -> None:
            self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            received.append((data, addr))
            self.done.set_result(None)

    async def server() -> None:
        await create_datagram_endpoint(Echo, local_port=7)

    async def client() -> None:
        transport, protocol = await create_datagram_endpoint(Client, remote=("h2", 7))
        transport.sendto(b"hello")
        await protocol.done  # type: ignore[attr-defined]
        transport.close()

    lab.spawn(lab.h2, server())
    lab.run(lab.spawn(lab.h1, client()))
    assert received == [(b"HELLO", ("10.0.1.2", 7))]


def test_timers_and_sleep_run_on_the_node_clock() -> None:
    lab = Lab()
    woke: list[float] = []

    async def sleeper() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(2.5)
        woke.append(loop.time())
        await asyncio.wait_for(asyncio.sleep(1.0), timeout=5.0)
        woke.append(loop.time())

    start = lab.line.sim.now
    lab.run(lab.spawn(lab.h1, sleeper()))
    assert woke == [pytest.approx(start + 2.5), pytest.approx(start + 3.5)]


def test_closing_the_bridge_cancels_tasks_and_aborts_connections() -> None:
    lab = Lab()
    cancelled: list[bool] = []
    started: list[bool] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started.append(True)
        try:
            await reader.read()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def client() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await open_connection("h2", 80)  # (the writer closes when collected)

    lab.spawn(lab.h2, start_server(hold, 80))
    task = lab.spawn(lab.h1, client())
    lab.run(task)
    run_until(lab.line, lambda: bool(started), timeout=1)
    lab.h2.close()
    assert lab.h2.loop.is_closed() and cancelled == [True]
    reader, _ = task.result()
    read = lab.spawn(lab.h1, reader.read())
    run_until(lab.line, read.done, timeout=5)
    assert isinstance(read.exception(), ConnectionResetError)  # h2's RST
