"""Traffic selectors: which frames a fault applies to.

The frame is read cheaply at fixed offsets (Ethernet II + IPv4 with its IHL), with no
checksum checks and no codec objects: this runs for every frame on a faulted interface.

Rules:
- A fault without a match applies to every frame (ARP, IPv6 ... included).
- A fault with a match applies only to IPv4 frames that satisfy every given criterion.
  Non-IPv4 frames (ARP) and IPv4 frames too short to read never match.
- Port criteria need TCP or UDP (protocol 6/17, or no protocol: then either of them) and
  a first fragment (offset 0); later fragments carry no ports and do not match.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from types import MappingProxyType

from .errors import FaultSpecError

PROTOCOL_NAMES = MappingProxyType({"icmp": 1, "tcp": 6, "udp": 17})
PORT_PROTOCOLS = frozenset({6, 17})

ETH_HLEN = 14
ETHERTYPE_IPV4 = 0x0800
# From offset 12: ethertype, version/ihl, (tos), total length, id, flags/fragment, ttl,
# protocol, checksum, source, destination.
_ETH_IPV4 = struct.Struct("!HBxHHHBBHII")
_PORTS = struct.Struct("!HH")
_MIN_LEN = 12 + _ETH_IPV4.size


@dataclass(frozen=True, slots=True)
class Prefix:
    """An IPv4 prefix; ``address`` is the network (host bits cleared), ``length`` 0..32."""

    address: int
    length: int

    @property
    def mask(self) -> int:
        return (0xFFFFFFFF << (32 - self.length)) & 0xFFFFFFFF if self.length else 0

    def contains(self, address: int) -> bool:
        return (address & self.mask) == self.address

    def __str__(self) -> str:
        return f"{ipaddress.IPv4Address(self.address)}/{self.length}"

    @classmethod
    def parse(cls, text: str, *, field: str = "prefix") -> Prefix:
        """'10.0.0.0/24' or '10.0.0.1' (a /32). Host bits must be clear (like `ip route`)."""
        try:
            net = ipaddress.IPv4Network(text.strip(), strict=True)
        except ValueError as exc:
            raise FaultSpecError(
                field, f"must be an IPv4 address or prefix like 10.0.0.0/24, got {text!r} ({exc})"
            ) from None
        return cls(int(net.network_address), net.prefixlen)


def protocol_number(value: int | str, *, field: str = "match.protocol") -> int:
    """'icmp'/'tcp'/'udp' (any case) or a number 0..255 -> the IP protocol number."""
    if isinstance(value, str):
        name = value.strip().lower()
        if name in PROTOCOL_NAMES:
            return PROTOCOL_NAMES[name]
        if not name.isdigit():
            raise FaultSpecError(field, f"must be icmp, tcp, udp or a number 0..255, got {value!r}")
        value = int(name)
    if isinstance(value, bool) or not 0 <= value <= 255:
        raise FaultSpecError(field, f"must be icmp, tcp, udp or a number 0..255, got {value!r}")
    return value


def protocol_name(number: int) -> str:
    """6 -> 'tcp' (the names :func:`protocol_number` reads), other numbers as digits."""
    for name, value in PROTOCOL_NAMES.items():
        if value == number:
            return name
    return str(number)


@dataclass(frozen=True, slots=True)
class Match:
    """Optional selector of a fault. All given criteria must hold (AND).
    Use :meth:`of` to build one from text (``Match.of(protocol="tcp", dst="10.0.2.0/24")``)."""

    protocol: int | None = None
    src: Prefix | None = None
    dst: Prefix | None = None
    src_port: int | None = None
    dst_port: int | None = None

    def __post_init__(self) -> None:
        # Text is accepted too (protocol "tcp", src "10.0.0.0/8") and normalised here, so a
        # Match built from untyped input (YAML, proto) holds numbers and Prefix objects.
        if self.protocol is not None:
            object.__setattr__(self, "protocol", protocol_number(self.protocol))
        for name in ("src", "dst"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(
                    self, name, Prefix.parse(getattr(self, name), field=f"match.{name}")
                )
        for name, prefix in (("src", self.src), ("dst", self.dst)):
            if prefix is not None and not isinstance(prefix, Prefix):
                raise FaultSpecError(f"match.{name}", f"must be an IPv4 prefix, got {prefix!r}")
            if prefix is not None and (
                not 0 <= prefix.length <= 32 or prefix.address & ~prefix.mask & 0xFFFFFFFF
            ):
                raise FaultSpecError(f"match.{name}", f"host bits set or bad length in {prefix}")
        for name, port in (("src_port", self.src_port), ("dst_port", self.dst_port)):
            if port is None:
                continue
            if isinstance(port, bool) or not 0 <= port <= 65535:
                raise FaultSpecError(f"match.{name}", f"must be within 0..65535, got {port!r}")
            if self.protocol is not None and self.protocol not in PORT_PROTOCOLS:
                raise FaultSpecError(
                    f"match.{name}", f"needs protocol tcp or udp, got protocol {self.protocol}"
                )

    @classmethod
    def of(
        cls,
        *,
        protocol: int | str | None = None,
        src: str | Prefix | None = None,
        dst: str | Prefix | None = None,
        src_port: int | None = None,
        dst_port: int | None = None,
    ) -> Match:
        return cls(
            protocol=None if protocol is None else protocol_number(protocol),
            src=Prefix.parse(src, field="match.src") if isinstance(src, str) else src,
            dst=Prefix.parse(dst, field="match.dst") if isinstance(dst, str) else dst,
            src_port=src_port,
            dst_port=dst_port,
        )

    @property
    def is_empty(self) -> bool:
        return (
            self.protocol is None
            and self.src is None
            and self.dst is None
            and self.src_port is None
            and self.dst_port is None
        )

    def matches(self, frame: bytes | bytearray | memoryview) -> bool:
        """True if ``frame`` (a whole Ethernet frame) satisfies every criterion."""
        if len(frame) < _MIN_LEN:
            return False
        ethertype, vihl, _total, _ident, frag, _ttl, proto, _csum, src, dst = _ETH_IPV4.unpack_from(
            frame, 12
        )
        if ethertype != ETHERTYPE_IPV4 or vihl >> 4 != 4:
            return False
        if self.protocol is not None and proto != self.protocol:
            return False
        if self.src is not None and (src & self.src.mask) != self.src.address:
            return False
        if self.dst is not None and (dst & self.dst.mask) != self.dst.address:
            return False
        if self.src_port is None and self.dst_port is None:
            return True
        if proto not in PORT_PROTOCOLS or frag & 0x1FFF:
            return False
        offset = ETH_HLEN + (vihl & 0x0F) * 4
        if len(frame) < offset + 4:
            return False
        sport, dport = _PORTS.unpack_from(frame, offset)
        return (self.src_port is None or sport == self.src_port) and (
            self.dst_port is None or dport == self.dst_port
        )
