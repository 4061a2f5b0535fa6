"""Per-connection information like ``ss -ti``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TcpInfo:
    state: str
    local: tuple[int, int]
    remote: tuple[int, int]
    congestion: str
    ca_state: str  # open / recovery / loss
    cwnd: int  # segments, like ss
    cwnd_bytes: int
    ssthresh: int | None  # segments; None while infinite
    srtt: float | None  # seconds
    rttvar: float
    rto: float
    mss: int  # payload bytes per full segment (after options)
    pmtu: int
    rcv_mss: int
    snd_wscale: int
    rcv_wscale: int
    snd_wnd: int
    rcv_wnd: int
    bytes_sent: int  # including retransmissions
    bytes_retrans: int
    bytes_acked: int
    bytes_received: int
    segs_out: int
    segs_in: int
    data_segs_out: int
    data_segs_in: int
    retrans: int  # total retransmitted segments
    retransmits: int  # consecutive timeouts now
    lost: int  # bytes presumed lost
    sacked: int  # bytes SACKed by the peer
    dup_acks: int  # duplicate ACKs received
    unacked: int  # bytes in flight (SND.NXT - SND.UNA)
    send_queue: int  # bytes written but not acknowledged
    recv_queue: int  # bytes received but not read
    ooo_bytes: int
    sack: bool
    timestamps: bool
