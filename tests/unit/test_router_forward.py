"""Forwarding decision, RFC 1624 TTL decrement, record route."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nodes.router.fib import Fib, Route
from nodes.router.forward import Action, decide, decrement_ttl, record_route
from nodes.stack.interfaces import Interface, Interfaces
from nodes.wire.checksum import internet_checksum
from nodes.wire.ipv4 import RecordRoute, build_ipv4, encode_options, parse_ipv4

A, B = 0x0A000001, 0x0A010002


def setup() -> tuple[Fib, Interfaces]:
    ifaces = Interfaces()
    ifaces.add(Interface("eth1", b"\x02" * 6, 0x0A010001, 24, mtu=576))
    fib = Fib()
    fib.add(Route(0x0A010000, 24, "eth1"))
    return fib, ifaces


@pytest.mark.parametrize(
    ("kw", "action"),
    [
        ({}, Action.FORWARD),
        ({"dst": 0x08080808}, Action.NO_ROUTE),
        ({"ttl": 1}, Action.TTL_EXCEEDED),
        ({"payload": bytes(1000)}, Action.FRAGMENT),
        ({"payload": bytes(1000), "df": True}, Action.FRAG_NEEDED),
        ({"dst": 0x08080808, "ttl": 1}, Action.NO_ROUTE),
    ],
)
def test_decide(kw: dict[str, object], action: Action) -> None:
    args: dict[str, object] = {"src": A, "dst": B, "proto": 17, "payload": bytes(8), "ttl": 9}
    args.update(kw)
    d = decide(parse_ipv4(build_ipv4(**args)), *setup())  # type: ignore[arg-type]
    assert d.action is action
    if action is Action.FRAG_NEEDED:
        assert d.mtu == 576


@given(ttl=st.integers(2, 255), tos=st.integers(0, 255), ident=st.integers(0, 0xFFFF))
def test_incremental_ttl_checksum_matches_full_recompute(ttl: int, tos: int, ident: int) -> None:
    raw = build_ipv4(src=A, dst=B, proto=6, payload=b"abc", ttl=ttl, tos=tos, ident=ident)
    buf = bytearray(raw)
    decrement_ttl(buf)
    assert buf[8] == ttl - 1
    assert internet_checksum(buf[:20]) == 0
    assert buf == bytearray(
        build_ipv4(src=A, dst=B, proto=6, payload=b"abc", ttl=ttl - 1, tos=tos, ident=ident)
    )


def test_record_route_writes_next_slot_or_leaves_full_option() -> None:
    opts = encode_options([RecordRoute(4, (0, 0), 11)])
    pkt = parse_ipv4(build_ipv4(src=A, dst=B, proto=1, payload=b"", options=opts))
    new = record_route(pkt, 0x01020304)
    assert new is not None
    again = parse_ipv4(build_ipv4(src=A, dst=B, proto=1, payload=b"", options=new))
    (rr,) = again.options
    assert isinstance(rr, RecordRoute) and rr.route == (0x01020304, 0) and rr.pointer == 8
    full = encode_options([RecordRoute(12, (1, 2), 11)])
    pkt = parse_ipv4(build_ipv4(src=A, dst=B, proto=1, payload=b"", options=full))
    assert record_route(pkt, 9) is None
