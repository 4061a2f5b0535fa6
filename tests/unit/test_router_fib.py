"""Longest-prefix match FIB."""

from __future__ import annotations

import pytest

from nodes.router.fib import Fib, Route, RouteKind
from nodes.wire.addr import ip_from_str as ip


def make() -> Fib:
    fib = Fib()
    fib.add(Route(ip("10.0.0.0"), 8, "eth0", ip("192.168.0.1")))
    fib.add(Route(ip("10.1.0.0"), 16, "eth1", None, RouteKind.CONNECTED))
    fib.add(Route(ip("10.1.2.0"), 24, "eth2", ip("10.1.0.9")))
    fib.add(Route(0, 0, "eth3", ip("172.16.0.1")))
    return fib


@pytest.mark.parametrize(
    ("dst", "ifname"),
    [("10.1.2.3", "eth2"), ("10.1.3.3", "eth1"), ("10.9.9.9", "eth0"), ("8.8.8.8", "eth3")],
)
def test_longest_prefix_wins(dst: str, ifname: str) -> None:
    route = make().lookup(ip(dst))
    assert route is not None and route.ifname == ifname


def test_next_hop_and_no_default() -> None:
    fib = make()
    r = fib.lookup(ip("10.1.3.3"))
    assert r is not None and r.next_hop(ip("10.1.3.3")) == ip("10.1.3.3")
    assert fib.remove(0, 0)
    assert fib.lookup(ip("8.8.8.8")) is None  # the cache was cleared
    assert not fib.remove(0, 0)


def test_down_interface_falls_back_to_shorter_prefix() -> None:
    fib = make()
    assert fib.lookup(ip("10.1.2.3")).ifname == "eth2"  # type: ignore[union-attr]
    fib.set_interface_up("eth2", False)
    assert fib.lookup(ip("10.1.2.3")).ifname == "eth1"  # type: ignore[union-attr]
    fib.set_interface_up("eth2", True)
    assert fib.lookup(ip("10.1.2.3")).ifname == "eth2"  # type: ignore[union-attr]


def test_metric_and_validation() -> None:
    fib = Fib()
    fib.add(Route(ip("10.0.0.0"), 8, "a", 1, metric=5))
    fib.add(Route(ip("10.0.0.0"), 8, "b", 2, metric=9))  # worse: ignored
    assert fib.lookup(ip("10.2.3.4")).ifname == "a"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="host bits"):
        fib.add(Route(ip("10.0.0.1"), 8, "a"))
    assert "10.0.0.0/8 via 0.0.0.1 dev a static" in [str(r) for r in fib.routes()]
