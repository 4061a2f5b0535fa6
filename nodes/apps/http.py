"""A tiny HTTP/1.1 server and client on our TCP (parsing in :mod:`nodes.apps.httpparse`).

Server routes (GET and HEAD; other methods get 405 with ``Allow``):
    /               a short text page listing the routes
    /bytes/N        N deterministic bytes (:mod:`nodes.apps.data`, the server's seed),
                    streamed as the socket drains, never held in memory
    /sha256/N       the hex sha256 of what /bytes/N serves, as text
Unknown paths get 404, malformed requests 400 (then the connection closes). Connections
are persistent (HTTP/1.1 keep-alive, HTTP/1.0 with ``Connection: keep-alive``) until the
client asks to close or stays idle for ``idle_timeout``.

The client GETs one or more ``http://a.b.c.d[:port]/path`` URLs, in order, reusing the
connection when the server allows it, and reports status, headers, body size, sha256
and elapsed time per URL (Content-Length, chunked and read-until-close bodies).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nodes.apps.base import CHUNK, RECV_CHUNK, PolledApp, TcpServerApp, errno_name, tcp_engine
from nodes.apps.data import PatternStream, pattern_sha256, sha256
from nodes.apps.httpparse import (
    Headers,
    HttpError,
    Request,
    RequestParser,
    ResponseHead,
    ResponseParser,
    header,
)
from nodes.stack.tcp.api import SHUT_WR, Readiness, TcpSocket
from nodes.wire.addr import ip_from_str

if TYPE_CHECKING:
    from nodes.stack.host import Host

_READABLE, _WRITABLE, _ERROR = (
    int(Readiness.READABLE),
    int(Readiness.WRITABLE),
    int(Readiness.ERROR),
)  # TcpSocket.ready_bits() is a plain int: no enum arithmetic per turn
_REASONS = {
    200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
    431: "Request Header Fields Too Large", 501: "Not Implemented",
    505: "HTTP Version Not Supported",
}  # fmt: skip
_BYTES_PATH = re.compile(r"/(bytes|sha256)/(\d{1,15})")
SERVER_NAME = "wirelab"
INDEX = b"wirelab http server\nGET /bytes/N  N deterministic bytes\nGET /sha256/N  their sha256\n"


# ---- server ------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class _ServerConn:
    sock: TcpSocket
    deadline: float
    parser: RequestParser = field(default_factory=RequestParser)
    out: bytearray = field(default_factory=bytearray)  # response head (+ small body)
    body: PatternStream | None = None
    close_after: bool = False  # close once the current response is out
    closing: bool = False  # our FIN is queued: discard input until the peer's EOF

    @property
    def responding(self) -> bool:
        return bool(self.out) or self.body is not None


class HttpServer(TcpServerApp[_ServerConn]):
    kind = "http-server"

    def __init__(
        self,
        host: Host,
        port: int = 80,
        *,
        address: int = 0,
        seed: int = 0,
        backlog: int = 128,
        idle_timeout: float = 30.0,
        max_bytes: int = 1 << 40,
        max_sha256: int = 1 << 27,
    ) -> None:
        super().__init__(host, port, address=address, backlog=backlog)
        self.seed = seed
        self.idle_timeout = idle_timeout
        self.max_bytes, self.max_sha256 = max_bytes, max_sha256
        self.requests = 0
        self.statuses: Counter[int] = Counter()
        self.bytes_served = 0  # body bytes handed to TCP

    # ---- TcpServerApp ------------------------------------------------------------
    def _new_conn(self, sock: TcpSocket, now: float) -> _ServerConn:
        return _ServerConn(sock, now + self.idle_timeout)

    def _actionable(self, conn: _ServerConn) -> bool:
        ready = conn.sock.ready_bits()
        if ready & _ERROR:
            return True
        if conn.responding:
            return bool(ready & _WRITABLE)
        return bool(ready & _READABLE)

    # ---- PolledApp ---------------------------------------------------------------
    def _timer_deadline(self) -> float | None:
        return min((c.deadline for c in self.conns), default=None)

    def _service(self, now: float) -> None:
        self._accept(now)
        keep = []
        for conn in self.conns:
            if conn.deadline <= now:
                conn.sock.close(now=now)  # idle: FIN (RST if it left unread input)
            elif not self._actionable(conn) or self._serve(conn, now):
                keep.append(conn)
        self.conns = keep

    # ---- one connection ----------------------------------------------------------
    def _serve(self, conn: _ServerConn, now: float) -> bool:
        """Write, read, parse as far as possible; False when the connection is done."""
        sock = conn.sock
        try:
            while True:
                if conn.responding:
                    self._write(conn, now)  # BlockingIOError: wait for WRITABLE
                if conn.close_after and not conn.closing:
                    sock.shutdown(SHUT_WR, now=now)
                    conn.closing = True
                if not conn.closing:
                    request = self._next_request(conn)
                    if request is not None:
                        self._respond(conn, request)
                        continue
                data = sock.recv(RECV_CHUNK, now=now)
                conn.deadline = now + self.idle_timeout
                if not data:
                    sock.close(now=now)
                    return False
                if not conn.closing:
                    conn.parser.feed(data)
        except BlockingIOError:
            return True
        except OSError:
            sock.abort(now=now)
            return False

    def _write(self, conn: _ServerConn, now: float) -> None:
        """Put the pending response in the send buffer; BlockingIOError when it is full."""
        sock = conn.sock
        while conn.out:
            del conn.out[: sock.send(conn.out, now=now)]  # BlockingIOError when full
        body = conn.body
        while body is not None:
            block = body.peek(CHUNK)
            if not block:
                conn.body = None
                break
            n = sock.send(block, now=now)
            body.advance(n)
            self.bytes_served += n

    def _next_request(self, conn: _ServerConn) -> Request | None:
        try:
            return conn.parser.next_request()
        except HttpError as err:
            self._error(conn, err.status, str(err))
            return None

    def _respond(self, conn: _ServerConn, request: Request) -> None:
        self.requests += 1
        if not request.keep_alive:
            conn.close_after = True
        if request.method not in ("GET", "HEAD"):
            self._simple(conn, request, 405, b"method not allowed\n", [("Allow", "GET, HEAD")])
            return
        path = request.target.split("?", 1)[0]
        match = _BYTES_PATH.fullmatch(path)
        if path == "/":
            self._simple(conn, request, 200, INDEX)
        elif match is None:
            self._simple(conn, request, 404, b"not found\n")
        elif match[1] == "bytes":
            n = int(match[2])
            if n > self.max_bytes:
                self._simple(conn, request, 400, b"too many bytes requested\n")
                return
            self._head(conn, request, 200, n, "application/octet-stream")
            if request.method == "GET" and n:
                conn.body = PatternStream(self.seed, n)
        else:
            n = int(match[2])
            if n > self.max_sha256:
                self._simple(conn, request, 400, b"too many bytes to hash\n")
                return
            self._simple(conn, request, 200, pattern_sha256(n, self.seed).encode() + b"\n")

    def _error(self, conn: _ServerConn, status: int, message: str) -> None:
        conn.close_after = True
        body = f"{message}\n".encode("utf-8", "replace")
        self.statuses[status] += 1
        conn.out += _head_bytes((1, 1), status, len(body), "text/plain", close=True) + body

    def _simple(
        self, conn: _ServerConn, request: Request, status: int, body: bytes,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:  # fmt: skip
        self._head(conn, request, status, len(body), "text/plain; charset=utf-8", extra)
        if request.method != "HEAD":
            conn.out += body
            self.bytes_served += len(body)

    def _head(
        self, conn: _ServerConn, request: Request, status: int, length: int, ctype: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:  # fmt: skip
        self.statuses[status] += 1
        conn.out += _head_bytes(
            request.version, status, length, ctype, close=conn.close_after, extra=extra
        )


def _head_bytes(
    version: tuple[int, int], status: int, length: int, ctype: str, *, close: bool,
    extra: list[tuple[str, str]] | None = None,
) -> bytes:  # fmt: skip
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
        f"Server: {SERVER_NAME}",
        f"Content-Type: {ctype}",
        f"Content-Length: {length}",
    ]
    if close:
        lines.append("Connection: close")
    elif version < (1, 1):
        lines.append("Connection: keep-alive")
    lines += [f"{k}: {v}" for k, v in extra or ()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# ---- client ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Url:
    address: int
    port: int
    path: str
    authority: str  # for the Host header


def parse_url(url: str) -> Url:
    """``http://a.b.c.d[:port][/path]`` (an IPv4 literal: there is no DNS here)."""
    match = re.fullmatch(r"http://(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?(/[^\s#]*)?", url)
    if match is None:
        raise ValueError(f"unsupported URL {url!r}: expected http://a.b.c.d[:port]/path")
    port = int(match[2]) if match[2] else 80
    if not 0 < port < 65536:
        raise ValueError(f"bad port in URL {url!r}")
    authority = match[1] if port == 80 else f"{match[1]}:{port}"
    return Url(ip_from_str(match[1]), port, match[3] or "/", authority)


@dataclass(frozen=True, slots=True)
class HttpResult:
    url: str
    status: int | None  # None when no response came
    reason: str
    headers: Headers
    body_bytes: int
    sha256: str  # of the decoded body
    chunked: bool
    start: float
    elapsed: float  # request start to last body byte (or to the error)
    error: str | None
    body: bytes | None  # only with keep_body=True

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


class HttpClient(PolledApp):
    kind = "http-client"

    def __init__(
        self,
        host: Host,
        urls: str | Sequence[str],
        *,
        method: str = "GET",
        keep_alive: bool = True,
        keep_body: bool = False,
        headers: Sequence[tuple[str, str]] = (),
        timeout: float = 30.0,
    ) -> None:
        super().__init__(host)
        self.urls = [urls] if isinstance(urls, str) else list(urls)
        if not self.urls:
            raise ValueError("no URL to fetch")
        self._parsed = [parse_url(u) for u in self.urls]
        self.method, self.keep_alive, self.keep_body = method, keep_alive, keep_body
        self.extra_headers = list(headers)
        self.timeout = timeout
        self.results: list[HttpResult] = []
        self.connections = 0
        self._engine = tcp_engine(host)
        self._sock: TcpSocket | None = None
        self._sock_url: Url | None = None
        self._out = bytearray()
        self._parser = ResponseParser()
        self._sha = sha256()
        self._body: list[bytes] | None = None
        self._count = 0
        self._start = 0.0
        self._deadline: float | None = None

    @property
    def done(self) -> bool:
        return len(self.results) == len(self.urls) or any(r.error for r in self.results)

    @property
    def result(self) -> HttpResult | None:
        """The first URL's result."""
        return self.results[0] if self.results else None

    def start(self, *, now: float) -> None:
        self._attach(now)
        self._begin(now)

    def close(self, *, now: float) -> None:
        if not self.done:
            self._fail(now, "ECANCELED")
        self._detach()

    # ---- PolledApp ---------------------------------------------------------------
    def _wants_service(self) -> bool:
        sock = self._sock
        if sock is None or self.done:
            return False
        ready = sock.ready_bits()
        return bool(ready & _READABLE or (self._out and ready & _WRITABLE))

    def _timer_deadline(self) -> float | None:
        return None if self.done else self._deadline

    def _service(self, now: float) -> None:
        if self.done or self._sock is None:
            return
        if self._deadline is not None and now >= self._deadline:
            self._fail(now, "ETIMEDOUT")
            return
        sock = self._sock
        try:
            while self._out:
                del self._out[: sock.send(self._out, now=now)]
        except BlockingIOError:
            pass
        except OSError as err:
            self._fail(now, errno_name(err))
            return
        self._read(sock, now)

    # ---- one request -------------------------------------------------------------
    def _begin(self, now: float) -> None:
        index = len(self.results)
        url = self._parsed[index]
        last = index == len(self.urls) - 1
        self._start, self._deadline = now, now + self.timeout
        self._parser = ResponseParser(no_body=self.method == "HEAD")
        self._sha, self._count = sha256(), 0
        self._body = [] if self.keep_body else None
        same_server = self._sock_url is not None and (
            (self._sock_url.address, self._sock_url.port) == (url.address, url.port)
        )
        if self._sock is None or not same_server:
            if self._sock is not None:
                self._sock.close(now=now)
            self._sock, self._sock_url = self._engine.socket(), url
            self.connections += 1
            try:
                self._sock.connect(url.address, url.port, now=now)
            except OSError as err:
                self._sock = None
                self._fail(now, errno_name(err))
                return
        lines = [
            f"{self.method} {url.path} HTTP/1.1",
            f"Host: {url.authority}",
            f"User-Agent: {SERVER_NAME}",
            "Accept: */*",
        ]
        if last or not self.keep_alive:
            lines.append("Connection: close")
        lines += [f"{k}: {v}" for k, v in self.extra_headers]
        self._out += ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _read(self, sock: TcpSocket, now: float) -> None:
        parser = self._parser
        try:
            while True:
                data = sock.recv(RECV_CHUNK, now=now)
                pieces = parser.feed(data) if data else parser.feed_eof()
                for piece in pieces:
                    self._sha.update(piece)
                    self._count += len(piece)
                    if self._body is not None:
                        self._body.append(piece)
                if parser.complete:
                    self._complete(now, reusable=bool(data))
                    return
        except BlockingIOError:
            return
        except HttpError as err:
            self._fail(now, f"EPROTO: {err}")
        except OSError as err:
            self._fail(now, errno_name(err))

    def _complete(self, now: float, *, reusable: bool) -> None:
        head = self._parser.head
        assert head is not None
        leftover = self._parser.leftover
        self.results.append(self._result(now, head, None))
        reuse = reusable and self.keep_alive and head.keep_alive and not leftover
        if self._sock is not None and not (reuse and not self.done):
            self._sock.close(now=now)
            self._sock = None
        if self.done:
            self._deadline = None
            self._detach()
        else:
            self._begin(now)
            self._service(now)

    def _fail(self, now: float, error: str) -> None:
        """The current request failed: record it, drop the connection, stop."""
        if self._sock is not None:
            self._sock.abort(now=now)
            self._sock = None
        self.results.append(self._result(now, self._parser.head, error))
        self._deadline = None
        self._detach()

    def _result(self, now: float, head: ResponseHead | None, error: str | None) -> HttpResult:
        return HttpResult(
            url=self.urls[len(self.results)],
            status=head.status if head else None,
            reason=head.reason if head else "",
            headers=head.headers if head else (),
            body_bytes=self._count,
            sha256=self._sha.hexdigest(),
            chunked=self._parser.chunked,
            start=self._start,
            elapsed=now - self._start,
            error=error,
            body=b"".join(self._body) if self._body is not None else None,
        )
