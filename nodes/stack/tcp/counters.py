"""Every stack-wide TCP counter (``netstat -s`` style) and what it counts. The engine
reports all of them, zeros included, as ``tcp_<name>``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

COUNTERS: Mapping[str, str] = MappingProxyType({
    # connections (RFC 4022 / netstat -s "Tcp:")
    "active_opens": "connections that went CLOSED -> SYN_SENT (connect)",
    "passive_opens": "connections that went LISTEN -> SYN_RCVD (incl. SYN cookies)",
    "attempt_fails": "connects that failed: refused, timed out, ICMP unreachable",
    "estab_resets": "ESTABLISHED/CLOSE_WAIT connections that were reset or aborted",
    "curr_estab": "connections in ESTABLISHED or CLOSE_WAIT now",
    "in_segs": "segments received (checksum verified)",
    "out_segs": "segments sent",
    "retrans_segs": "segments retransmitted",
    "in_errs": "segments dropped as undecodable (bad checksum, truncated, malformed)",
    "bad_checksum": "segments whose checksum did not verify",
    "truncated": "segments shorter than their header",
    "malformed": "segments with a bad data offset or option length",
    "in_rsts": "acceptable RSTs received",
    "out_rsts": "RSTs sent",
    "no_socket": "segments for no connection and no listener (answered with RST)",
    # listeners
    "listen_overflows": "SYNs or final ACKs dropped because the accept queue was full",
    "listen_drops": "SYNs dropped by a listener (queue full, no cookies)",
    "syncookies_sent": "SYN-ACKs with a SYN cookie (SYN queue full)",
    "syncookies_recv": "ACKs whose SYN cookie validated",
    "syncookies_failed": "ACKs whose SYN cookie did not validate",
    "synack_bad_ack": "SYN-ACKs acknowledging a wrong ISN, answered with RST",
    "syn_retrans": "SYN retransmissions",
    "synack_retrans": "SYN-ACK retransmissions",
    "time_wait_recycled": "TIME_WAIT connections reused by a new SYN",
    "time_wait_fin_reacked": "retransmitted FINs re-ACKed in TIME_WAIT (2MSL restarted)",
    # validation (RFC 5961, RFC 7323)
    "challenge_acks": "challenge ACKs sent (in-window RST/SYN, old ACK)",
    "challenge_acks_limited": "challenge ACKs suppressed by the rate limit",
    "rst_out_of_window": "RSTs ignored because they were out of window",
    "out_of_window": "segments outside the receive window (ACKed, dropped)",
    "paws_rejected": "segments dropped by PAWS (old timestamp)",
    "ack_too_new": "segments acknowledging unsent data (dropped, ACKed)",
    "ack_too_old": "segments with an ACK older than the window (dropped)",
    "no_ack_dropped": "segments without ACK in a synchronized state (dropped)",
    "syn_sent_dropped": "segments in SYN_SENT that were neither SYN nor a valid RST",
    "listener_dropped": "RSTs and segments without SYN or ACK sent to a listener",
    "sack_blocks_below_ack": "SACK blocks at or below the cumulative ACK (stale or D-SACK)",
    "dsack_sent": "D-SACK blocks sent for duplicate data (RFC 2883)",
    # data
    "dup_data_segments": "data segments we already had (ACKed, dropped)",
    "ooo_segments": "data segments queued out of order",
    "rcv_window_full": "data beyond the receive window, dropped",
    "data_after_fin": "data received after the peer's FIN, dropped",
    "abort_on_data": "connections reset because data arrived after close()",
    "abort_on_close": "connections reset by close() with unread data",
    "abort_on_linger": "connections reset by close() with SO_LINGER 0",
    "delayed_acks": "ACKs sent by the delayed-ACK timer",
    "window_updates": "window updates sent after the application read",
    "dup_acks": "duplicate ACKs received",
    "quick_acks": "ACKs sent at once in quick-ACK mode (connection start, after idle)",
    "rcvbuf_grown": "receive buffers grown by autotuning (tcp_rcv_space_adjust)",
    "sndbuf_grown": "send buffers grown with cwnd (tcp_sndbuf_expand)",
    # loss recovery
    "fast_retransmits": "fast retransmits (entries into recovery)",
    "sack_recoveries": "recoveries using SACK (RFC 6675)",
    "reno_recoveries": "recoveries without SACK (NewReno, RFC 6582)",
    "lost_retransmits": "retransmissions detected lost by SACK and sent again",
    "spurious_recoveries_undone": "recoveries undone by Eifel detection (RFC 3522)",
    "timeouts": "retransmission timeouts",
    "timeout_aborts": "connections dropped after too many timeouts",
    "persist_probes": "zero-window probes sent",
    "persist_aborts": "connections dropped after unanswered zero-window probes",
    "keepalive_probes": "keepalive probes sent",
    "keepalive_timeouts": "connections dropped by keepalive",
    "fin_wait2_timeouts": "orphaned FIN_WAIT_2 connections that timed out",
    # ICMP
    "icmp_errors": "ICMP errors applied to a connection",
    "icmp_no_socket": "ICMP errors quoting no known connection",
    "icmp_out_of_window": "ICMP errors quoting a sequence number not in flight (ignored)",
    "pmtu_updates": "path MTU reductions from ICMP fragmentation needed",
})  # fmt: skip
