"""Interface lookup by ioctl (nodes/io/ifaces.py): runs unprivileged on the loopback."""

from __future__ import annotations

import pytest

from nodes.io.ifaces import _prefix_len, find_by_address, interface_info, list_interfaces
from nodes.wire.addr import ip_from_str


def test_loopback_is_described() -> None:
    lo = interface_info("lo")
    assert lo is not None
    assert lo.address == ip_from_str("127.0.0.1") and lo.prefix_len == 8
    assert lo.mac == bytes(6) and lo.mtu >= 1500 and lo.up and lo.index >= 1
    assert "127.0.0.1/8" in lo.describe()


def test_listing_and_lookups() -> None:
    names = [i.name for i in list_interfaces(include_loopback=True)]
    assert "lo" in names
    assert "lo" not in [i.name for i in list_interfaces()]
    assert interface_info("wl-nope0") is None
    assert find_by_address("192.0.2.254") is None  # TEST-NET-1: on no interface here
    with pytest.raises(ValueError, match="longer than"):
        interface_info("x" * 16)


def test_prefix_length_from_netmask() -> None:
    assert _prefix_len(0xFFFFFF00) == 24
    assert _prefix_len(0) == 0 and _prefix_len(0xFFFFFFFF) == 32
    with pytest.raises(ValueError, match="non-contiguous"):
        _prefix_len(0xFF00FF00)
