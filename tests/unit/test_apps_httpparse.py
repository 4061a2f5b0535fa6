"""HTTP/1.x parsing: requests (server side) and responses (client side), fed in any split."""

from __future__ import annotations

import pytest

from nodes.apps.httpparse import HttpError, RequestParser, ResponseParser

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4\r\nWiki\r\n5;name=v\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n"
)


def body_of(parser: ResponseParser, pieces: list[bytes], eof: bool = False) -> bytes:
    out = b"".join(b"".join(parser.feed(p)) for p in pieces)
    if eof:
        out += b"".join(parser.feed_eof())
    return out


def test_chunked_body_decodes_at_every_split_point() -> None:
    for cut in range(1, len(CHUNKED)):
        parser = ResponseParser()
        assert body_of(parser, [CHUNKED[:cut], CHUNKED[cut:]]) == b"Wikipedia in\r\n\r\nchunks."
        assert parser.complete and parser.chunked and parser.head is not None


def test_chunked_byte_by_byte() -> None:
    parser = ResponseParser()
    body = body_of(parser, [CHUNKED[i : i + 1] for i in range(len(CHUNKED))])
    assert body == b"Wikipedia in\r\n\r\nchunks." and parser.complete


def test_content_length_and_leftover() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b c\r\n\r\nhelloHTTP/1.1"
    parser = ResponseParser()
    assert body_of(parser, [raw]) == b"hello"
    assert parser.complete and parser.leftover == b"HTTP/1.1"
    assert parser.head is not None and parser.head.header("x-a") == "b c"
    assert parser.head.keep_alive


def test_content_length_fast_path_counts_exactly() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n")
    assert parser.feed(b"abc") == [b"abc"] and not parser.complete
    assert parser.feed(b"defXYZ") == [b"def"] and parser.complete
    assert parser.leftover == b"XYZ"


def test_read_until_close_interim_and_bodyless() -> None:
    parser = ResponseParser()
    raw = [b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nab", b"cd"]
    assert body_of(parser, raw, eof=True) == b"abcd"
    assert parser.complete and parser.head is not None and parser.head.status == 200
    assert not parser.head.keep_alive  # HTTP/1.0 without keep-alive
    for status in (b"204 No Content", b"304 Not Modified"):
        p = ResponseParser()
        p.feed(b"HTTP/1.1 " + status + b"\r\nContent-Length: 10\r\n\r\n")
        assert p.complete
    head = ResponseParser(no_body=True)
    head.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
    assert head.complete


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/9 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad header\r\n\r\n",
    ],
)
def test_malformed_responses_raise(raw: bytes) -> None:
    with pytest.raises(HttpError):
        ResponseParser().feed(raw)


def test_truncated_response_raises_at_eof() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(HttpError, match="closed"):
        parser.feed_eof()


def test_requests_pipelined_with_bodies_skipped() -> None:
    parser = RequestParser()
    raw = (
        b"\r\nGET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"
        b"GET http://h:8/b?x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        b"HEAD /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
    )
    requests = []
    for i in range(len(raw)):
        parser.feed(raw[i : i + 1])
        while (req := parser.next_request()) is not None:
            requests.append(req)
    assert [(r.method, r.target, r.version) for r in requests] == [
        ("GET", "/a", (1, 1)),
        ("GET", "/b?x", (1, 0)),
        ("HEAD", "/c", (1, 1)),
    ]
    assert [r.keep_alive for r in requests] == [True, True, False]
    assert requests[0].header("HOST") == "h"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET nopath HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
        (b"GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 20000, 431),
    ],
)
def test_bad_requests_carry_their_status(raw: bytes, status: int) -> None:
    parser = RequestParser()
    parser.feed(raw)
    with pytest.raises(HttpError) as info:
        parser.next_request()
    assert info.value.status == status
