"""Stack-wide TCP settings with Linux's defaults (sysctl net.ipv4.tcp_*), and the
per-socket options an application can set."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TcpConfig:
    syn_retries: int = 6  # tcp_syn_retries: SYN sent at 0,1,3,7,15,31,63 s; fail at 127 s
    synack_retries: int = 5  # tcp_synack_retries
    # tcp_retries2 / tcp_orphan_retries are time limits, as in Linux: give up at the first
    # RTO expiry at least model_timeout(n) after the first retransmission (see timers.py:
    # 15 -> 924.6 s with rto_min 200 ms); SYN and SYN-ACK retries are counts
    retries2: int = 15
    orphan_retries: int = 8  # (0 in sysctl means 8)
    # tcp_retries1: the same kind of time limit (3 -> 3 s with rto_min 200 ms); past it,
    # each RTO is a black-hole suspicion for packetization-layer PMTUD (below)
    retries1: int = 3
    msl: float = 30.0  # TIME_WAIT lasts 2*MSL
    fin_timeout: float = 60.0  # tcp_fin_timeout: orphaned FIN_WAIT_2
    keepalive_time: float = 7200.0
    keepalive_intvl: float = 75.0
    keepalive_probes: int = 9
    delack: float = 0.040  # TCP_DELACK_MIN
    delayed_ack: bool = True  # False: ACK every data segment at once (like TCP_QUICKACK)
    quickacks: int = 16  # TCP_MAX_QUICKACKS: segments ACKed at once at connection start
    rto_initial: float = 1.0
    rto_min: float = 0.2
    rto_max: float = 120.0
    # Buffers in payload bytes (Linux's also count overhead). Unless the application sets
    # SO_RCVBUF/SO_SNDBUF, they autotune: the receive buffer grows when the application
    # drains fast (tcp_rcv_space_adjust, tcp_moderate_rcvbuf), the send buffer with cwnd
    # (tcp_sndbuf_expand); the window scale is chosen from rmem_max (wscale 7 by default).
    rmem: int = 131072  # tcp_rmem[1]
    rmem_max: int = 6 * 1024 * 1024  # tcp_rmem[2]
    wmem: int = 262144  # tcp_wmem[1] is 16 KiB, but Linux expands it at connect already
    wmem_max: int = 4 * 1024 * 1024  # tcp_wmem[2]
    moderate_rcvbuf: bool = True  # tcp_moderate_rcvbuf: receive buffer autotuning
    window_scaling: bool = True
    sack: bool = True
    timestamps: bool = True
    congestion: str = "cubic"
    tlp: bool = True  # tail loss probes (RFC 8985; Linux tcp_early_retrans=3), SACK only
    hystart: bool = True  # CUBIC's HyStart slow-start exit (Linux tcp_cubic hystart=1)
    initial_window: int = 10  # RFC 6928
    # TCP small queues (Linux TSQ): a connection stops sending while the egress queue of
    # its interface below TCP (the node's rate queues: link properties, rate faults)
    # holds more than max(2 segments, ~1 ms at its pacing rate), at most
    # limit_output_bytes (tcp_limit_output_bytes), and resumes as that queue drains. The
    # queue is counted per interface, all connections together (Linux counts each
    # socket's own bytes): one bulk flow sees the same bound, several share it.
    small_queues: bool = True
    limit_output_bytes: int = 1048576
    # header prediction: the ESTABLISHED fast path for in-order data and plain ACKs (same
    # result as the full path, less work); False sends every segment the full way
    header_prediction: bool = True
    syncookies: bool = True  # tcp_syncookies=1: only when the SYN queue is full
    somaxconn: int = 4096
    # The connection table's bounds. A connection costs ~7.5 KiB here with empty buffers
    # where Linux's request sock is ~0.3 KiB and its timewait sock ~0.2 KiB, so Linux's
    # defaults (sized for its small objects and whole machines) are scaled to a node whose
    # whole budget is 40 MB: together these hold at most ~2,000 connections (~15 MiB).
    # tcp_max_syn_backlog, node-wide here: SYN_RCVD children of all listeners together
    # (~2 MiB); past it SYN cookies answer, as for a listener whose own queue is full
    max_syn_backlog: int = 256
    # tcp_max_tw_buckets (~4 MiB): past it a connection closes without TIME_WAIT
    # (time_wait_overflow), as Linux's tcp_time_wait does
    max_tw_buckets: int = 512
    # tcp_max_orphans: connections closed by their application and still finishing (~2 MiB
    # plus the unsent data each may hold); past it close() resets (abort_on_memory)
    max_orphans: int = 256
    # Not a sysctl: Linux's bound is the process's descriptors (RLIMIT_NOFILE, 1024 soft).
    # Every connection but TIME_WAIT counts; past it SYNs and cookie ACKs are dropped and
    # connect() fails with ENOBUFS (table_full)
    max_connections: int = 1024
    challenge_ack_limit: int = 1000  # per second, stack-wide (tcp_challenge_ack_limit)
    default_mss: int = 536  # when the peer's SYN has no MSS option (RFC 9293)
    # Packetization-layer PMTUD (RFC 4821, Linux tcp_mtu_probing; see mtup.py): 0 off,
    # 1 on once retries1 says the path is a black hole, 2 always (starting at base_mss)
    mtu_probing: int = 0
    base_mss: int = 1024  # tcp_base_mss: where the search starts (its lower end)
    probe_threshold: int = 8  # tcp_probe_threshold: stop when high - low < this (bytes)
    probe_interval: float = 600.0  # tcp_probe_interval: search again after (seconds)
    mtu_probe_floor: int = 48  # tcp_mtu_probe_floor: black-hole halving stops here
    min_snd_mss: int = 48  # tcp_min_snd_mss: no segment size below this
    # ip_min_pmtu: an ICMP frag-needed below it sets the path MTU to it, locked, and the
    # connection then sends without DF (routers fragment), as Linux does
    min_pmtu: int = 552
    default_mtu: int = 1500  # when the IP layer has no route MTU
    port_range: tuple[int, int] = (32768, 60999)  # ip_local_port_range


@dataclass(slots=True)
class SocketOptions:
    nodelay: bool = False
    keepalive: bool = False
    keepidle: float | None = None  # None: the stack's keepalive_time
    keepintvl: float | None = None
    keepcnt: int | None = None
    linger: float | None = None  # SO_LINGER: 0 -> close() sends RST
    rcvbuf: int | None = None
    sndbuf: int | None = None
    congestion: str | None = None
    oobinline: bool = True  # urgent data stays in the stream (RFC 6093 advice)

    def copy(self) -> SocketOptions:
        return SocketOptions(
            self.nodelay, self.keepalive, self.keepidle, self.keepintvl, self.keepcnt,
            self.linger, self.rcvbuf, self.sndbuf, self.congestion, self.oobinline,
        )  # fmt: skip
