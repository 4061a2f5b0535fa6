"""The tiny HTTP server and client on our TCP, through a router."""

from __future__ import annotations

import hashlib

import pytest

from nodes.apps.base import PolledApp, tcp_engine
from nodes.apps.data import pattern_bytes, pattern_sha256
from nodes.apps.http import HttpClient, HttpServer, parse_url
from nodes.apps.testing import run_until, tcp_line
from nodes.io.simulate import Line
from nodes.stack.host import Host
from nodes.stack.tcp.api import Readiness, TcpSocket

H2 = "http://10.0.1.2"


class RawClient(PolledApp):
    """Connects, sends ``request`` as is, and collects everything until EOF."""

    def __init__(self, host: Host, dst: int, port: int, request: bytes) -> None:
        super().__init__(host)
        self.sock = tcp_engine(host).socket()
        self.request, self.dst, self.port = request, dst, port
        self.received = bytearray()
        self.eof = False

    def start(self, *, now: float) -> None:
        self._attach(now)
        self.sock.connect(self.dst, self.port, now=now)

    def _wants_service(self) -> bool:
        ready = self.sock.readiness()
        return not self.eof and bool(
            ready & Readiness.READABLE or (self.request and ready & Readiness.WRITABLE)
        )

    def _service(self, now: float) -> None:
        if self.request and self.sock.readiness() & Readiness.WRITABLE:
            self.request = self.request[self.sock.send(self.request, now=now) :]
        try:
            while data := self.sock.recv(65536, now=now):
                self.received += data
        except BlockingIOError:
            return
        except ConnectionResetError:
            pass
        self.eof = True
        self.sock.close(now=now)


class ScriptedServer(PolledApp):
    """Accepts one connection, waits for a request head, answers with ``pieces`` (each
    its own send), then closes."""

    def __init__(self, host: Host, port: int, pieces: list[bytes]) -> None:
        super().__init__(host)
        self.listener = tcp_engine(host).socket()
        self.listener.bind(0, port)
        self.pieces = list(pieces)
        self.conn: TcpSocket | None = None
        self.request = bytearray()
        self.closed = False

    def start(self, *, now: float) -> None:
        self.listener.listen()
        self._attach(now)

    def _wants_service(self) -> bool:
        if self.conn is None:
            return bool(self.listener.readiness() & Readiness.READABLE)
        return not self.closed and bool(self.conn.readiness() & Readiness.READABLE)

    def _service(self, now: float) -> None:
        if self.conn is None:
            self.conn = self.listener.accept()
        try:
            while data := self.conn.recv(65536, now=now):
                self.request += data
        except BlockingIOError:
            pass
        if b"\r\n\r\n" in self.request and self.pieces:
            for piece in self.pieces:
                self.conn.send(piece, now=now)
            self.pieces = []
            self.conn.close(now=now)
            self.closed = True


def served(seed: int = 0) -> tuple[Line, HttpServer]:
    line = tcp_line(1, delay=0.002)
    server = HttpServer(line.right, 80, seed=seed)
    server.start(now=0.0)
    return line, server


def fetch(line: Line, urls: str | list[str], **kwargs: object) -> HttpClient:
    client = HttpClient(line.left, urls, **kwargs)  # type: ignore[arg-type]
    client.start(now=line.sim.now)
    run_until(line, lambda: client.done, timeout=30)
    return client


def raw(line: Line, request: bytes, port: int = 80) -> bytes:
    client = RawClient(line.left, line.address("h2"), port, request)
    client.start(now=line.sim.now)
    run_until(line, lambda: client.eof, timeout=60)
    return bytes(client.received)


def test_get_index_and_bytes_with_sha256() -> None:
    line, server = served(seed=5)
    client = fetch(line, [f"{H2}/", f"{H2}/bytes/3000000", f"{H2}/sha256/3000000"], keep_body=True)
    index, data, digest = client.results
    assert index.status == 200 and index.reason == "OK" and index.error is None
    assert index.body is not None and index.body.startswith(b"wirelab http server")
    assert index.header("content-type") == "text/plain; charset=utf-8"
    assert data.status == 200 and data.body_bytes == 3_000_000 and not data.chunked
    assert data.header("Content-Length") == "3000000"
    assert data.sha256 == pattern_sha256(3_000_000, 5)
    assert data.body is not None and data.body[:1000] == pattern_bytes(1000, 5)
    assert digest.body == pattern_sha256(3_000_000, 5).encode() + b"\n"
    assert 0 < data.elapsed < 2 and data.start >= index.start
    # keep-alive: three requests, one connection; the last asked to close
    assert client.connections == 1 and server.accepted == 1 and server.requests == 3
    assert digest.header("connection") == "close"
    assert server.statuses[200] == 3


def test_404_405_and_head() -> None:
    line, server = served()
    client = fetch(line, [f"{H2}/nothing", f"{H2}/bytes/12x"], keep_body=True)
    assert [r.status for r in client.results] == [404, 404]
    post = fetch(line, f"{H2}/", method="POST")
    assert post.results[0].status == 405 and post.results[0].header("Allow") == "GET, HEAD"
    head = fetch(line, f"{H2}/bytes/5000", method="HEAD")
    assert head.results[0].status == 200 and head.results[0].body_bytes == 0
    assert head.results[0].header("content-length") == "5000"
    assert server.statuses == {404: 2, 405: 1, 200: 1}


def test_malformed_requests_get_400_and_the_connection_closes() -> None:
    line, server = served()
    for bad in (
        b"GARBAGE\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    ):
        reply = raw(line, bad)
        assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), (bad, reply)
        assert b"\r\nConnection: close\r\n" in reply
        head, _, body = reply.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        assert len(body) == length
    assert raw(line, b"GET / HTTP/2.0\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 505 ")
    assert server.statuses[400] == 5
    run_until(line, lambda: not server.conns, timeout=1)  # each client's FIN ends it


def test_http10_pipelining_and_server_side_close() -> None:
    line, server = served()
    reply = raw(line, b"GET /bytes/10 HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close" in reply
    assert reply.endswith(b"\r\n\r\n" + pattern_bytes(10))
    two = raw(
        line,
        b"GET /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert two.count(b"HTTP/1.1 ") == 2
    assert two.index(b" 200 OK") < two.index(b" 404 Not Found")
    assert server.accepted == 2


def test_idle_keep_alive_connections_time_out() -> None:
    line = tcp_line(1)
    server = HttpServer(line.right, 8080, idle_timeout=2.0)
    server.start(now=0.0)
    client = RawClient(line.left, line.address("h2"), 8080, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    client.start(now=0.0)
    run_until(line, lambda: client.eof, timeout=10)
    assert 2.0 < line.sim.now < 2.1 and client.received.startswith(b"HTTP/1.1 200 OK")
    assert not server.conns


def test_client_decodes_a_chunked_response_split_anywhere() -> None:
    line = tcp_line(1)
    body = b"hello, " + b"x" * 5000 + b" world"
    pieces = [
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Test: 1\r\n\r\n7\r\nhello, \r\n",
        b"1388;ext=1\r\n" + b"x" * 2000,
        b"x" * 3000 + b"\r\n6\r\n world\r\n0\r\nTrailer: yes\r\n\r\n",
    ]
    server = ScriptedServer(line.right, 8000, pieces)
    server.start(now=0.0)
    client = fetch(line, "http://10.0.1.2:8000/chunky", keep_body=True)
    result = client.results[0]
    assert result.error is None and result.status == 200 and result.chunked
    assert result.body == body and result.body_bytes == len(body)
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    assert result.header("x-test") == "1"
    assert server.request.startswith(b"GET /chunky HTTP/1.1\r\nHost: 10.0.1.2:8000\r\n")
    assert b"\r\nConnection: close\r\n" in server.request


def test_client_reads_until_close_and_reports_truncation() -> None:
    line = tcp_line(1)
    until_close = ScriptedServer(line.right, 8001, [b"HTTP/1.0 200 OK\r\n\r\n", b"abc" * 100])
    until_close.start(now=0.0)
    result = fetch(line, "http://10.0.1.2:8001/").results[0]
    assert result.error is None and result.body_bytes == 300
    short = ScriptedServer(line.right, 8002, [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"])
    short.start(now=line.sim.now)
    result = fetch(line, "http://10.0.1.2:8002/").results[0]
    assert result.status == 200 and result.body_bytes == 3
    assert result.error is not None and result.error.startswith("EPROTO")


def test_client_errors_refused_and_timeout() -> None:
    line = tcp_line(1)
    refused = fetch(line, "http://10.0.1.2:81/").results[0]
    assert refused.error == "ECONNREFUSED" and refused.status is None
    silent = ScriptedServer(line.right, 8003, [])
    silent.start(now=line.sim.now)
    t0 = line.sim.now
    result = fetch(line, "http://10.0.1.2:8003/", timeout=1.5).results[0]
    assert result.error == "ETIMEDOUT" and result.elapsed == pytest.approx(1.5)
    assert line.sim.now == pytest.approx(t0 + 1.5)


def test_parse_url() -> None:
    url = parse_url("http://10.1.2.3:8080/a/b?c=1")
    assert (url.port, url.path, url.authority) == (8080, "/a/b?c=1", "10.1.2.3:8080")
    assert parse_url("http://10.1.2.3").path == "/"
    assert parse_url("http://10.1.2.3:80/").authority == "10.1.2.3"
    for bad in ("https://10.1.2.3/", "http://example.com/", "http://10.1.2.3:0/", "10.1.2.3"):
        with pytest.raises(ValueError):
            parse_url(bad)
