"""Kernel interface lookup by ioctl (no iproute2 needed): name, index, MAC, IPv4
address and prefix, MTU. Reads the network namespace of the calling process."""

from __future__ import annotations

import errno
import fcntl
import socket
import struct
from dataclasses import dataclass

from nodes.wire.addr import ip_from_str, ip_to_str, mac_to_str

# <linux/sockios.h>
SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
SIOCGIFNETMASK = 0x891B
SIOCGIFMTU = 0x8921
SIOCGIFHWADDR = 0x8927
IFF_UP = 0x1
IFF_LOOPBACK = 0x8
ARPHRD_ETHER = 1

_IFREQ_SIZE = 40  # struct ifreq on 64-bit Linux: 16-byte name + 24-byte union
IFNAMSIZ = 16


@dataclass(frozen=True, slots=True)
class InterfaceInfo:
    name: str
    index: int
    mac: bytes
    address: int | None  # primary IPv4 address; None when the kernel has none
    prefix_len: int | None
    mtu: int
    up: bool

    def describe(self) -> str:
        addr = "-" if self.address is None else f"{ip_to_str(self.address)}/{self.prefix_len}"
        return f"{self.name} (index {self.index}, {mac_to_str(self.mac)}, {addr}, mtu {self.mtu})"


def _ioctl(sock: socket.socket, request: int, name: str) -> bytes | None:
    """One SIOCGIF* request; None when the kernel says the item does not exist."""
    raw = name.encode()
    if len(raw) >= IFNAMSIZ:
        raise ValueError(f"interface name {name!r} is longer than {IFNAMSIZ - 1} bytes")
    try:
        return fcntl.ioctl(sock.fileno(), request, raw.ljust(_IFREQ_SIZE, b"\x00"))
    except OSError as exc:
        if exc.errno in (errno.EADDRNOTAVAIL, errno.ENODEV, errno.EINVAL):
            return None
        raise


def _prefix_len(mask: int) -> int:
    length = bin(mask).count("1")
    if mask != ((1 << 32) - 1) ^ ((1 << (32 - length)) - 1):
        raise ValueError(f"non-contiguous netmask {ip_to_str(mask)}")
    return length


def interface_info(name: str, index: int = 0) -> InterfaceInfo | None:
    """Everything about one interface; None if it does not exist (or vanished)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        hw = _ioctl(sock, SIOCGIFHWADDR, name)
        mtu_raw = _ioctl(sock, SIOCGIFMTU, name)
        flags_raw = _ioctl(sock, SIOCGIFFLAGS, name)
        if hw is None or mtu_raw is None or flags_raw is None:
            return None
        addr_raw = _ioctl(sock, SIOCGIFADDR, name)
        mask_raw = _ioctl(sock, SIOCGIFNETMASK, name) if addr_raw is not None else None
    address = prefix = None
    if addr_raw is not None and mask_raw is not None:
        address = int.from_bytes(addr_raw[20:24], "big")
        prefix = _prefix_len(int.from_bytes(mask_raw[20:24], "big"))
    (flags,) = struct.unpack_from("=H", flags_raw, 16)
    (mtu,) = struct.unpack_from("=i", mtu_raw, 16)
    if index == 0:
        index = socket.if_nametoindex(name)
    return InterfaceInfo(name, index, bytes(hw[18:24]), address, prefix, mtu, bool(flags & IFF_UP))


def list_interfaces(*, include_loopback: bool = False) -> list[InterfaceInfo]:
    """Every interface of this network namespace, in index order."""
    infos = []
    for index, name in sorted(socket.if_nameindex()):
        info = interface_info(name, index)
        if info is None:
            continue
        if not include_loopback and info.name == "lo":
            continue
        infos.append(info)
    return infos


def find_by_address(address: int | str) -> InterfaceInfo | None:
    """The interface whose primary IPv4 address is ``address``."""
    ip = ip_from_str(address) if isinstance(address, str) else address
    return next((i for i in list_interfaces() if i.address == ip), None)


def find_by_mac(mac: bytes) -> InterfaceInfo | None:
    return next((i for i in list_interfaces() if i.mac == mac), None)
