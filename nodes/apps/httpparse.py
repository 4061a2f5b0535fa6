"""Incremental HTTP/1.x message parsing (RFC 9112), sans-I/O: feed bytes as they come.

:class:`RequestParser` (server side) yields :class:`Request` heads and skips request
bodies framed by Content-Length; :class:`ResponseParser` (client side) yields the status
line and headers, then the body decoded from Content-Length, chunked transfer coding,
or "read until close". Malformed input raises :class:`HttpError` with the status a
server should answer (400, 431, 501, 505).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEAD = 16384  # bytes of request/status line + headers
MAX_CHUNK_LINE = 1024

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
_STATUS = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_FIELD_VALUE_BAD = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

Headers = tuple[tuple[str, str], ...]


class HttpError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def header(headers: Headers, name: str) -> str | None:
    """The value of the first header called ``name`` (case-insensitive)."""
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)


def header_tokens(headers: Headers, name: str) -> list[str]:
    """Comma-separated tokens of every ``name`` header, lower-cased (Connection, TE)."""
    name = name.lower()
    values = [v for k, v in headers if k.lower() == name]
    return [t.strip().lower() for v in values for t in v.split(",") if t.strip()]


def _parse_fields(lines: list[bytes]) -> Headers:
    out = []
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):  # also rejects "Name :" and obs-fold
            raise HttpError(400, f"malformed header line {line[:60]!r}")
        value = value.strip(b" \t")
        if _FIELD_VALUE_BAD.search(value):
            raise HttpError(400, f"control character in header {name.decode()}")
        out.append((name.decode("ascii"), value.decode("latin-1")))
    return tuple(out)


def _content_length(headers: Headers) -> int | None:
    values = {v.strip() for k, v in headers if k.lower() == "content-length"}
    if not values:
        return None
    if len(values) > 1 or not all(v.isdigit() for v in values):
        raise HttpError(400, f"bad Content-Length {sorted(values)}")
    return int(values.pop())


def _split_head(buf: bytearray) -> list[bytes] | None:
    """Lines of a complete head at the start of ``buf`` (consumed), None if incomplete.
    Leading empty lines are skipped (RFC 9112 2.2)."""
    while buf.startswith(b"\r\n"):
        del buf[:2]
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD:
            raise HttpError(431, "request head too large")
        return None
    if end > MAX_HEAD:
        raise HttpError(431, "request head too large")
    head = bytes(buf[:end])
    del buf[: end + 4]
    return head.split(b"\r\n")


class _Head:
    """What request and response heads share: header lookup, connection persistence."""

    __slots__ = ()
    version: tuple[int, int]
    headers: Headers

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    @property
    def keep_alive(self) -> bool:
        tokens = header_tokens(self.headers, "connection")
        if self.version >= (1, 1):
            return "close" not in tokens
        return "keep-alive" in tokens


# ---- requests ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Request(_Head):
    method: str
    target: str  # origin-form path (absolute-form is reduced to its path)
    version: tuple[int, int]
    headers: Headers


class RequestParser:
    def __init__(self) -> None:
        self._buf = bytearray()
        self._skip = 0  # request body bytes still to discard

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def next_request(self) -> Request | None:
        """The next complete request head, or None until more bytes come."""
        buf = self._buf
        if self._skip:
            n = min(self._skip, len(buf))
            del buf[:n]
            self._skip -= n
            if self._skip:
                return None
        lines = _split_head(buf)
        if lines is None:
            return None
        request = _parse_request(lines)
        if header(request.headers, "transfer-encoding") is not None:
            raise HttpError(501, "request bodies with Transfer-Encoding are not supported")
        self._skip = _content_length(request.headers) or 0
        return request


def _parse_request(lines: list[bytes]) -> Request:
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise HttpError(400, f"malformed request line {lines[0][:80]!r}")
    method, target, version_b = parts
    match = _VERSION.fullmatch(version_b)
    if match is None:
        raise HttpError(400, f"malformed HTTP version {version_b[:20]!r}")
    version = (int(match[1]), int(match[2]))
    if version[0] != 1:
        raise HttpError(505, f"HTTP version {version[0]}.{version[1]} not supported")
    if target.startswith((b"http://", b"https://")):
        slash = target.find(b"/", target.index(b"//") + 2)
        target = target[slash:] if slash >= 0 else b"/"
    elif not target.startswith(b"/") and target != b"*":
        raise HttpError(400, f"malformed request target {target[:80]!r}")
    if any(c <= 0x20 or c == 0x7F for c in target):
        raise HttpError(400, "control character in the request target")
    headers = _parse_fields(lines[1:])
    if version >= (1, 1) and header(headers, "host") is None:
        raise HttpError(400, "HTTP/1.1 request without Host")
    return Request(method.decode("ascii"), target.decode("latin-1"), version, headers)


# ---- responses ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ResponseHead(_Head):
    version: tuple[int, int]
    status: int
    reason: str
    headers: Headers


_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS, _UNTIL_CLOSE, _DONE = range(8)


class ResponseParser:
    """One response. ``feed`` returns decoded body pieces; ``head`` is set once the
    status line and headers are in; ``complete`` once the body ended. Interim (1xx)
    responses are skipped. ``no_body`` for responses to HEAD."""

    def __init__(self, *, no_body: bool = False) -> None:
        self._buf = bytearray()
        self._state = _HEAD
        self._left = 0
        self._no_body = no_body
        self.head: ResponseHead | None = None
        self.chunked = False

    @property
    def complete(self) -> bool:
        return self._state == _DONE

    @property
    def leftover(self) -> bytes:
        """Bytes after the end of this response (the next response on the connection)."""
        return bytes(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        if self._state == _UNTIL_CLOSE:
            return [bytes(data)] if data else []
        if self._state == _LENGTH and not self._buf and len(data) <= self._left:
            self._left -= len(data)  # fast path: the body of a Content-Length response
            if not self._left:
                self._state = _DONE
            return [bytes(data)] if data else []
        self._buf += data
        out: list[bytes] = []
        while self._step(out):
            pass
        return out

    def feed_eof(self) -> list[bytes]:
        """The connection closed: completes a read-until-close body, else HttpError."""
        if self._state == _UNTIL_CLOSE:
            self._state = _DONE
        if self._state != _DONE:
            raise HttpError(502, "connection closed before the response was complete")
        return []

    def _step(self, out: list[bytes]) -> bool:
        """Advance one parsing step; False when more input is needed (or done)."""
        state, buf = self._state, self._buf
        if state == _HEAD:
            lines = _split_head(buf)
            if lines is None:
                return False
            self._start(lines)
        elif state == _LENGTH:
            if not buf:
                return False
            n = min(self._left, len(buf))
            out.append(bytes(buf[:n]))
            del buf[:n]
            self._left -= n
            if not self._left:
                self._state = _DONE
        elif state == _CHUNK_SIZE:
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > MAX_CHUNK_LINE:
                    raise HttpError(502, "chunk size line too long")
                return False
            size_b = bytes(buf[:end]).split(b";", 1)[0].strip(b" \t")
            del buf[: end + 2]
            if not _HEX.fullmatch(size_b):
                raise HttpError(502, f"bad chunk size {size_b[:20]!r}")
            self._left = int(size_b, 16)
            self._state = _CHUNK_DATA if self._left else _TRAILERS
        elif state == _CHUNK_DATA:
            if not buf:
                return False
            n = min(self._left, len(buf))
            out.append(bytes(buf[:n]))
            del buf[:n]
            self._left -= n
            if not self._left:
                self._state = _CHUNK_CRLF
        elif state == _CHUNK_CRLF:
            if len(buf) < 2:
                return False
            if buf[:2] != b"\r\n":
                raise HttpError(502, "chunk data not followed by CRLF")
            del buf[:2]
            self._state = _CHUNK_SIZE
        elif state == _TRAILERS:
            end = buf.find(b"\r\n")
            if end < 0:
                return False
            del buf[: end + 2]
            if end == 0:
                self._state = _DONE
        elif state == _UNTIL_CLOSE:
            if buf:
                out.append(bytes(buf))
                buf.clear()
            return False
        return self._state != _DONE

    def _start(self, lines: list[bytes]) -> None:
        match = _STATUS.fullmatch(lines[0])
        if match is None:
            raise HttpError(502, f"malformed status line {lines[0][:80]!r}")
        status = int(match[3])
        head = ResponseHead(
            (int(match[1]), int(match[2])),
            status,
            (match[4] or b"").decode("latin-1"),
            _parse_fields(lines[1:]),
        )
        if 100 <= status < 200:
            return  # interim response: the real one follows
        self.head = head
        coding = header_tokens(head.headers, "transfer-encoding")
        if self._no_body or status in (204, 304):
            self._state = _DONE
        elif coding:
            if coding[-1] != "chunked":
                self._state = _UNTIL_CLOSE  # RFC 9112 6.3 rule 4
            else:
                self.chunked = True
                self._state = _CHUNK_SIZE
        else:
            length = _content_length(head.headers)
            if length is None:
                self._state = _UNTIL_CLOSE
            else:
                self._left = length
                self._state = _LENGTH if length else _DONE
