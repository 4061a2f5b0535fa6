"""Address helpers. Inside the stack IPv4 addresses are ``int`` and MACs are 6-byte
``bytes``; these convert at the edges (config, display, tests)."""

from __future__ import annotations

import ipaddress

BROADCAST_MAC = b"\xff" * 6
ZERO_MAC = b"\x00" * 6
BROADCAST_IP = 0xFFFFFFFF


def ip_from_str(text: str) -> int:
    """'10.0.0.1' -> int. Raises ValueError for a bad address."""
    return int(ipaddress.IPv4Address(text))


def ip_to_str(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def mac_from_str(text: str) -> bytes:
    """'02:00:00:00:00:01' -> 6 bytes. Raises ValueError for a bad MAC."""
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 for p in parts):
        raise ValueError(f"bad MAC address {text!r}: expected six hex pairs like 02:00:00:00:00:01")
    return bytes(int(p, 16) for p in parts)


def mac_to_str(value: bytes) -> str:
    return ":".join(f"{b:02x}" for b in value)


def prefix_mask(prefix_len: int) -> int:
    """/24 -> 0xFFFFFF00."""
    if not 0 <= prefix_len <= 32:
        raise ValueError(f"bad prefix length {prefix_len}: allowed 0..32")
    return (0xFFFFFFFF << (32 - prefix_len)) & 0xFFFFFFFF if prefix_len else 0


def network_of(address: int, prefix_len: int) -> int:
    return address & prefix_mask(prefix_len)


def directed_broadcast(address: int, prefix_len: int) -> int:
    return address | (~prefix_mask(prefix_len) & 0xFFFFFFFF)


def is_multicast(address: int) -> bool:
    return (address >> 28) == 0xE


ALL_HOSTS = 0xE0000001  # 224.0.0.1: every multicast-capable host has joined it


def multicast_mac(group: int) -> bytes:
    """The Ethernet address of an IPv4 multicast group (RFC 1112 6.4): 01:00:5e and the
    group's low 23 bits (224.0.0.9 -> 01:00:5e:00:00:09)."""
    return b"\x01\x00\x5e" + (group & 0x7FFFFF).to_bytes(3, "big")
