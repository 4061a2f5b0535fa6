"""What a Linux sender's offloads leave in frames read from AF_PACKET (pure helpers).

Over veth, the kernel hands an AF_PACKET reader frames whose transport checksum is not
finished (CHECKSUM_PARTIAL: the field holds only the pseudo-header sum, the "device"
was supposed to complete it). The reader learns this from PACKET_AUXDATA, whose
``tp_status`` has TP_STATUS_CSUMNOTREADY set. Such a frame was built by a kernel on
this machine and never crossed a wire, so its payload is intact; :func:`complete_checksum`
writes the checksum a NIC would have written. The stack then sees exactly the frame a
real wire would carry (it verifies it like any other, and captures decode cleanly),
and needs no "trust me" flag.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from nodes.wire.checksum import transport_checksum

# <linux/if_packet.h>
TP_STATUS_CSUMNOTREADY = 1 << 3
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
TP_STATUS_CSUM_VALID = 1 << 7
TP_STATUS_GSO_TCP = 1 << 8

# struct tpacket_auxdata { u32 tp_status, tp_len, tp_snaplen; u16 tp_mac, tp_net,
# tp_vlan_tci, tp_vlan_tpid; }
_AUX = struct.Struct("=IIIHHHH")
AUXDATA_SIZE = _AUX.size

_ETHERTYPE_IPV4 = 0x0800
_ETH_HLEN = 14
_PROTO_CSUM_OFFSET = {6: 16, 17: 6}  # TCP, UDP: where the checksum field sits
_U16 = struct.Struct("!H")


@dataclass(frozen=True, slots=True)
class AuxData:
    status: int
    length: int  # the frame's length on the wire (> snaplen: truncated read)
    snaplen: int
    mac_offset: int
    net_offset: int
    vlan_tci: int
    vlan_tpid: int

    @property
    def csum_not_ready(self) -> bool:
        return bool(self.status & TP_STATUS_CSUMNOTREADY)

    @property
    def csum_valid(self) -> bool:
        return bool(self.status & TP_STATUS_CSUM_VALID)

    @property
    def vlan_valid(self) -> bool:
        return bool(self.status & TP_STATUS_VLAN_VALID)


def parse_auxdata(data: bytes) -> AuxData:
    """Decode a PACKET_AUXDATA control message. ValueError if it is too short."""
    if len(data) < AUXDATA_SIZE:
        raise ValueError(f"PACKET_AUXDATA needs {AUXDATA_SIZE} bytes, got {len(data)}")
    return AuxData(*_AUX.unpack_from(data))


def complete_checksum(frame: bytearray) -> bool:
    """Write the TCP/UDP checksum of an IPv4 frame in place (as a NIC completing a
    CHECKSUM_PARTIAL frame would). False, frame untouched, when the frame is not an
    unfragmented IPv4 TCP/UDP packet long enough to hold the header it claims."""
    if len(frame) < _ETH_HLEN + 20 or _U16.unpack_from(frame, 12)[0] != _ETHERTYPE_IPV4:
        return False
    ip = _ETH_HLEN
    ver_ihl = frame[ip]
    ihl = (ver_ihl & 0x0F) * 4
    proto = frame[ip + 9]
    field = _PROTO_CSUM_OFFSET.get(proto)
    if ver_ihl >> 4 != 4 or ihl < 20 or field is None:
        return False
    if _U16.unpack_from(frame, ip + 6)[0] & 0x3FFF:  # MF or a fragment offset
        return False
    total = _U16.unpack_from(frame, ip + 2)[0]
    start, end = ip + ihl, ip + total
    if end > len(frame) or end - start < field + 2:
        return False
    src = int.from_bytes(frame[ip + 12 : ip + 16], "big")
    dst = int.from_bytes(frame[ip + 16 : ip + 20], "big")
    at = start + field
    frame[at : at + 2] = b"\x00\x00"
    csum = transport_checksum(src, dst, proto, memoryview(frame)[start:end])
    if csum == 0 and proto == 17:
        csum = 0xFFFF  # RFC 768: a computed 0 is sent as all ones
    _U16.pack_into(frame, at, csum)
    return True
