"""Named drop/event counters, ``netstat -s`` style. Every drop path has its own name.

Counters are per node (one :class:`Counters` per :class:`~nodes.stack.host.Host`); every
known name is present from the start (value 0) so users see what could have happened.
"""

from __future__ import annotations

KNOWN = (
    # Ethernet
    "eth_in_frames",
    "eth_in_truncated",
    "eth_in_if_down",
    "eth_in_other_host",
    "eth_in_unknown_ethertype",
    "eth_out_frames",
    "eth_out_if_down",
    # ARP
    "arp_in_requests",
    "arp_in_replies",
    "arp_in_errors",
    "arp_in_not_for_us",
    "arp_in_bad_sender",
    "arp_out_requests",
    "arp_out_replies",
    "arp_out_gratuitous",
    "arp_resolution_failed",
    "arp_unresolved_discards",
    "arp_failed_packets",
    "arp_conflicts",
    "arp_in_unsolicited",
    "arp_probe_failed",
    # the neighbour table (Linux /proc/net/stat/arp_cache)
    "arp_allocs",
    "arp_destroys",
    "arp_forced_gc_runs",
    "arp_periodic_gc_runs",
    "arp_table_fulls",
    # IPv4 (Ip: section)
    "ip_in_receives",
    "ip_in_hdr_errors",
    "ip_in_csum_errors",
    "ip_in_truncated_pkts",
    "ip_in_bad_options",
    "ip_in_martian_src",
    "ip_in_addr_errors",
    "ip_in_unknown_protos",
    "ip_in_delivers",
    "ip_in_mcast_not_joined",
    "ip_in_no_route",
    "ip_out_requests",
    "ip_out_no_routes",
    "ip_out_discards",
    "ip_out_if_down",
    "ip_forw_datagrams",
    "ip_forw_ttl_exceeded",
    "ip_frag_oks",
    "ip_frag_fails",
    "ip_frag_creates",
    "ip_reasm_reqds",
    "ip_reasm_oks",
    "ip_reasm_fails",
    "ip_reasm_timeout",
    "ip_reasm_overlaps",
    "ip_reasm_mem_drops",
    "ip_reasm_too_big",
    "ip_in_loopback",
    # ICMP (Icmp: section)
    "icmp_in_msgs",
    "icmp_in_errors",
    "icmp_in_csum_errors",
    "icmp_in_dest_unreachs",
    "icmp_in_time_excds",
    "icmp_in_parm_probs",
    "icmp_in_src_quenchs",
    "icmp_in_redirects",
    "icmp_in_echos",
    "icmp_in_echo_reps",
    "icmp_in_timestamps",
    "icmp_in_timestamp_reps",
    "icmp_in_unknown_types",
    "icmp_in_echo_ignored",
    "icmp_in_error_unmatched",
    "icmp_out_msgs",
    "icmp_out_errors",
    "icmp_out_dest_unreachs",
    "icmp_out_time_excds",
    "icmp_out_parm_probs",
    "icmp_out_echos",
    "icmp_out_echo_reps",
    "icmp_out_timestamp_reps",
    "icmp_out_ratelimit_host",
    "icmp_out_ratelimit_global",
    "icmp_ratelimit_peer_evictions",
    "icmp_error_suppressed_icmp_error",
    "icmp_error_suppressed_fragment",
    "icmp_error_suppressed_broadcast",
    "icmp_error_suppressed_bad_src",
    # UDP (Udp: section)
    "udp_in_datagrams",
    "udp_no_ports",
    "udp_in_errors",
    "udp_in_csum_errors",
    "udp_rcvbuf_errors",
    "udp_errqueue_drops",
    "udp_out_datagrams",
    "udp_out_no_route",
)


class Counters:
    """A dict of named counters with every known name pre-registered at zero."""

    __slots__ = ("values",)

    def __init__(self, extra: tuple[str, ...] = ()) -> None:
        self.values: dict[str, int] = dict.fromkeys(KNOWN + extra, 0)

    def inc(self, name: str, n: int = 1) -> None:
        values = self.values
        values[name] = values.get(name, 0) + n

    def __getitem__(self, name: str) -> int:
        return self.values.get(name, 0)

    def snapshot(self) -> dict[str, int]:
        return dict(self.values)
