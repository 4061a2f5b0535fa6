"""One AF_PACKET/SOCK_RAW socket per data interface: whole Ethernet frames in and out.

- bound to ETH_P_ALL on one ifindex (created with protocol 0 first, so no frame from
  another interface is queued before the bind);
- non-blocking, with large kernel buffers (SO_RCVBUFFORCE/SO_SNDBUFFORCE when allowed);
- frames that other local senders transmit on the interface (the kernel, a tcpdump
  replay) are not input: PACKET_IGNORE_OUTGOING where the kernel has it (4.20+), and
  PACKET_OUTGOING frames are skipped anyway (a socket never sees its own sends);
- PACKET_AUXDATA is read with every frame: a frame whose checksum a local Linux sender
  left unfinished (TP_STATUS_CSUMNOTREADY, see nodes/io/offload.py) gets its TCP/UDP
  checksum completed before anyone sees it;
- reads are batched (until EAGAIN or a cap); sends that hit EAGAIN/ENOBUFS are counted
  drops, like a full device queue.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import struct
from dataclasses import dataclass, fields

from nodes.io.offload import (
    AUXDATA_SIZE,
    TP_STATUS_CSUMNOTREADY,
    TP_STATUS_GSO_TCP,
    complete_checksum,
)

# <linux/if_ether.h>, <linux/if_packet.h>, <asm-generic/socket.h>
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_IGNORE_OUTGOING = 23
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33

DEFAULT_BUFFER = 4 * 1024 * 1024
# Big enough for a GSO super-frame (64 KiB IP packet) plus headers: a sender with TSO/GSO
# on hands those to AF_PACKET over veth. MSG_TRUNC flags anything larger.
MAX_FRAME = 65536 + 4096
_ANC_SPACE = socket.CMSG_SPACE(AUXDATA_SIZE)
_STATUS = struct.Struct("=I")  # tpacket_auxdata.tp_status
# plain ints: socket.MSG_TRUNC is an IntFlag member, and ``flags & IntFlag`` builds a new
# enum member through the enum machinery on every frame (~5% of a router's time)
_MSG_TRUNC = int(socket.MSG_TRUNC)
_PACKET_OUTGOING = int(socket.PACKET_OUTGOING)


@dataclass(slots=True)
class PortCounters:
    rx_frames: int = 0
    rx_bytes: int = 0
    rx_outgoing_skipped: int = 0  # another local sender's frames (kernels before 4.20)
    rx_csum_completed: int = 0  # CHECKSUM_PARTIAL frames completed
    rx_csum_incomplete: int = 0  # CSUMNOTREADY but not IPv4 TCP/UDP: passed as they are
    rx_gso_frames: int = 0  # TCP super-frames a TSO/GSO sender did not segment
    rx_truncated: int = 0  # longer than MAX_FRAME: dropped
    rx_errors: int = 0
    tx_frames: int = 0
    tx_bytes: int = 0
    tx_dropped_eagain: int = 0  # socket send buffer full
    tx_dropped_enobufs: int = 0  # device queue full
    tx_dropped_too_big: int = 0  # EMSGSIZE: longer than the device MTU allows
    tx_errors: int = 0  # any other send error (e.g. ENETDOWN)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class RawSocket:
    """The frames of one interface. ``recv_batch`` and ``send`` never block."""

    def __init__(self, ifname: str, *, buffer_bytes: int = DEFAULT_BUFFER) -> None:
        self.ifname = ifname
        self.counters = PortCounters()
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        try:
            self.sock.setblocking(False)
            _set_buffer(self.sock, socket.SO_RCVBUF, SO_RCVBUFFORCE, buffer_bytes)
            _set_buffer(self.sock, socket.SO_SNDBUF, SO_SNDBUFFORCE, buffer_bytes)
            self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            with contextlib.suppress(OSError):  # before Linux 4.20: filtered by pkttype
                self.sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            self.sock.bind((ifname, ETH_P_ALL))
        except BaseException:
            self.sock.close()
            raise
        self._buf = bytearray(MAX_FRAME)
        self._view = memoryview(self._buf)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self._view.release()
        self.sock.close()

    def buffer_sizes(self) -> tuple[int, int]:
        """(SO_RCVBUF, SO_SNDBUF) as the kernel reports them (twice the requested size)."""
        rcv = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        snd = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        return rcv, snd

    def recv_batch(self, limit: int = 64) -> list[bytes]:
        """Up to ``limit`` frames that are waiting (an empty list when none are)."""
        frames: list[bytes] = []
        c = self.counters
        sock, view = self.sock, self._view
        while len(frames) < limit:
            try:
                n, ancdata, flags, addr = sock.recvmsg_into([view], _ANC_SPACE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                c.rx_errors += 1
                break
            if addr[2] == _PACKET_OUTGOING:
                c.rx_outgoing_skipped += 1
                continue
            if flags & _MSG_TRUNC:
                c.rx_truncated += 1
                continue
            status = _aux_status(ancdata)
            if status & TP_STATUS_GSO_TCP:
                c.rx_gso_frames += 1
            if status & TP_STATUS_CSUMNOTREADY:
                fixed = bytearray(view[:n])
                if complete_checksum(fixed):
                    c.rx_csum_completed += 1
                else:
                    c.rx_csum_incomplete += 1
                frames.append(bytes(fixed))
            else:
                frames.append(bytes(view[:n]))
            c.rx_frames += 1
            c.rx_bytes += n
        return frames

    def send(self, frame: bytes) -> bool:
        """Send one frame; False (and a counted drop) when the kernel cannot take it now."""
        c = self.counters
        try:
            self.sock.send(frame)
        except BlockingIOError:
            c.tx_dropped_eagain += 1
            return False
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                c.tx_dropped_enobufs += 1
            elif exc.errno == errno.EMSGSIZE:
                c.tx_dropped_too_big += 1
            else:
                c.tx_errors += 1
            return False
        c.tx_frames += 1
        c.tx_bytes += len(frame)
        return True


def _aux_status(ancdata: list[tuple[int, int, bytes]]) -> int:
    """tp_status of the frame's PACKET_AUXDATA (0 when there is none). Per-frame hot path:
    only the first field is decoded (offload.parse_auxdata has the whole struct)."""
    for level, kind, data in ancdata:
        if level == SOL_PACKET and kind == PACKET_AUXDATA and len(data) >= AUXDATA_SIZE:
            status: int = _STATUS.unpack_from(data)[0]
            return status
    return 0


def _set_buffer(sock: socket.socket, option: int, force_option: int, size: int) -> None:
    """Ask for ``size`` bytes; the FORCE variant (CAP_NET_ADMIN) ignores net.core.*mem_max."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, force_option, size)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, option, size)
