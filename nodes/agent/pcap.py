"""The classic pcap file format (libpcap 2.4, microsecond timestamps, Ethernet)."""

from __future__ import annotations

import struct

MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
DEFAULT_SNAPLEN = 65535
_GLOBAL = struct.Struct("<IHHiIII")
_RECORD = struct.Struct("<IIII")
GLOBAL_HEADER_LEN = _GLOBAL.size
RECORD_HEADER_LEN = _RECORD.size


def global_header(snaplen: int = DEFAULT_SNAPLEN, linktype: int = LINKTYPE_ETHERNET) -> bytes:
    return _GLOBAL.pack(MAGIC, 2, 4, 0, 0, snaplen, linktype)


def record(timestamp: float, frame: bytes | memoryview, snaplen: int = DEFAULT_SNAPLEN) -> bytes:
    """One packet record: ``timestamp`` in seconds since the epoch."""
    usec_total = round(timestamp * 1_000_000)
    sec, usec = divmod(usec_total, 1_000_000)
    data = frame[:snaplen]
    return _RECORD.pack(sec, usec, len(data), len(frame)) + bytes(data)
