"""Per-node stack configuration. Defaults follow Linux (sysctl names in comments)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nodes.stack.tcp.config import TcpConfig


@dataclass(frozen=True, slots=True)
class StackConfig:
    # IPv4
    default_ttl: int = 64  # net.ipv4.ip_default_ttl
    forwarding: bool = False  # net.ipv4.ip_forward
    ipfrag_time: float = 30.0  # net.ipv4.ipfrag_time (seconds)
    # net.ipv4.ipfrag_high_thresh (bytes), Linux's value: charged at what the queues really
    # hold here (nodes/stack/ipv4.py), so at most ~4 MiB, a tenth of a node's 40 MB; that
    # also bounds the number of queues (~6,500 of one tiny fragment each)
    ipfrag_high_thresh: int = 4 * 1024 * 1024
    # ARP (net.ipv4.neigh.default.*)
    arp_reachable_time: float = 30.0  # base_reachable_time
    arp_gc_stale_time: float = 60.0  # gc_stale_time
    arp_delay_first_probe: float = 5.0  # delay_first_probe_time
    arp_retrans_time: float = 1.0  # retrans_time
    arp_mcast_solicit: int = 3  # mcast_solicit: broadcast probes while resolving
    arp_ucast_solicit: int = 3  # ucast_solicit: unicast probes to re-confirm a stale entry
    arp_unres_qlen_bytes: int = 212992  # unres_qlen_bytes: queued bytes per unresolved neighbour
    # Not in Linux (its queued packets are charged to the sockets and qdiscs that sent
    # them): all unresolved neighbours' queues together, so that gc_thresh3 entries times
    # unres_qlen_bytes (200+ MiB) cannot happen on a node whose whole budget is 40 MB.
    arp_unres_total_bytes: int = 1024 * 1024
    # The table's size (gc_thresh1/2/3, Linux's defaults): an entry costs ~0.4 KiB here
    # (the flood test measures ~0.4 MiB at gc_thresh3), so Linux's numbers fit a node's
    # 40 MB budget as they are.
    arp_gc_thresh1: int = 128  # below: no garbage collection at all
    arp_gc_thresh2: int = 512  # soft: forced GC (entries idle > 5 s) at most every 5 s
    arp_gc_thresh3: int = 1024  # hard: a new entry that does not fit after GC is refused
    arp_ignore: int = 0  # 0: answer for any local address, 1: only the receiving interface's
    arp_notify: bool = True  # gratuitous ARP when an interface comes up
    # ICMP
    icmp_ratelimit: float = 1.0  # net.ipv4.icmp_ratelimit (1000 ms), per destination
    icmp_ratelimit_burst: int = 6  # XRLIM_BURST_FACTOR
    icmp_ratemask: int = 0x1818  # net.ipv4.icmp_ratemask: dest unreach, quench, time exc, param
    icmp_msgs_per_sec: int = 1000  # net.ipv4.icmp_msgs_per_sec (global)
    icmp_msgs_burst: int = 50  # net.ipv4.icmp_msgs_burst
    # Per-destination rate-limit state (Linux: the inetpeer cache, collected by age from
    # net.ipv4.inet_peer_threshold 65664 entries on). A bucket refills in icmp_ratelimit *
    # burst (6 s) and icmp_msgs_per_sec lets at most ~6,000 destinations be charged in
    # that time; entries cost ~0.2 KiB here, so 4096 (~0.8 MiB) keeps nearly every live one
    icmp_ratelimit_peers: int = 4096
    icmp_echo_ignore_all: bool = False
    icmp_echo_ignore_broadcasts: bool = True
    icmp_error_tos: int = 0xC0  # IPTOS_PREC_INTERNETCONTROL
    # UDP
    # net.core.rmem_default: an endpoint's receive buffer in bytes, shared by its data and
    # error queues, each datagram charged its payload + 256 (nodes/stack/udp.py). Linux's
    # value: ~208 KiB per socket nobody reads, and a node's sockets are its own apps'
    udp_rmem_default: int = 212992
    # bound UDP sockets (Linux's bound is the process's descriptors, RLIMIT_NOFILE 1024);
    # only a node's own applications bind, but each may hold up to udp_rmem_default
    udp_max_sockets: int = 1024
    ip_local_port_range: tuple[int, int] = (32768, 60999)
    # TCP (net.ipv4.tcp_*): the Host builds its TcpEngine from this
    tcp: TcpConfig = field(default_factory=TcpConfig)
