"""Per-connection information like ``ss -ti``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


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

    def ss_line(self) -> str:
        """The info as ``ss -ti`` prints it (times in ms)."""
        parts = [self.congestion]
        if self.snd_wscale or self.rcv_wscale:
            parts.append(f"wscale:{self.snd_wscale},{self.rcv_wscale}")
        parts.append(f"rto:{self.rto * 1000:g}")
        if self.srtt is not None:
            parts.append(f"rtt:{self.srtt * 1000:.3f}/{self.rttvar * 1000:.3f}")
        parts += [f"mss:{self.mss}", f"pmtu:{self.pmtu}", f"rcvmss:{self.rcv_mss}",
                  f"cwnd:{self.cwnd}"]  # fmt: skip
        if self.ssthresh is not None:
            parts.append(f"ssthresh:{self.ssthresh}")
        parts += [
            f"bytes_sent:{self.bytes_sent}", f"bytes_retrans:{self.bytes_retrans}",
            f"bytes_acked:{self.bytes_acked}", f"bytes_received:{self.bytes_received}",
            f"segs_out:{self.segs_out}", f"segs_in:{self.segs_in}",
            f"data_segs_out:{self.data_segs_out}", f"data_segs_in:{self.data_segs_in}",
        ]  # fmt: skip
        if self.unacked:
            parts.append(f"unacked:{self.unacked // max(self.mss, 1)}")
        if self.retrans or self.retransmits:
            parts.append(f"retrans:{self.retransmits}/{self.retrans}")
        if self.lost:
            parts.append(f"lost:{self.lost // max(self.mss, 1)}")
        if self.sacked:
            parts.append(f"sacked:{self.sacked // max(self.mss, 1)}")
        if self.dup_acks:
            parts.append(f"dupacks:{self.dup_acks}")
        parts.append(f"rcv_space:{self.rcv_wnd}")
        return f"{SS_STATES.get(self.state, self.state)} " + " ".join(parts)


SS_STATES: Mapping[str, str] = MappingProxyType({
    "ESTABLISHED": "ESTAB", "SYN_SENT": "SYN-SENT", "SYN_RCVD": "SYN-RECV",
    "FIN_WAIT_1": "FIN-WAIT-1", "FIN_WAIT_2": "FIN-WAIT-2", "CLOSE_WAIT": "CLOSE-WAIT",
    "LAST_ACK": "LAST-ACK", "TIME_WAIT": "TIME-WAIT", "CLOSING": "CLOSING", "CLOSED": "UNCONN",
})  # fmt: skip
