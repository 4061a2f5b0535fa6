"""ICMP policy: which errors may be sent (RFC 1122 3.2.2, RFC 1812 4.3.2.7) and how often
(Linux icmp_ratelimit/icmp_ratemask per destination, icmp_msgs_per_sec globally).

Never an error about: an ICMP error (or an unknown ICMP type), a non-first fragment, a
broadcast/multicast destination (IP or link layer), or a source that is not a unicast
host address. The message building is in nodes/wire/icmp.py; the host sends.
"""

from __future__ import annotations

import struct

from nodes.stack.config import StackConfig
from nodes.stack.counters import Counters
from nodes.wire.addr import is_multicast
from nodes.wire.icmp import IcmpType

_QUOTE = struct.Struct("!B5xHxB2xII")  # vihl, frag word, proto, src, dst
_INFO_TYPES = frozenset(
    {
        IcmpType.ECHO_REPLY,
        IcmpType.ECHO_REQUEST,
        IcmpType.TIMESTAMP,
        IcmpType.TIMESTAMP_REPLY,
        15,
        16,
        17,
        18,
    }  # information / address mask request+reply (obsolete, still informational)
)


def error_veto(
    offending: bytes | bytearray | memoryview, *, link_broadcast: bool, is_broadcast: bool
) -> str | None:
    """The counter naming why no ICMP error may be sent about ``offending`` (an IP packet,
    header first), or None when one may. ``is_broadcast``: its destination is an IP
    broadcast address of ours."""
    if len(offending) < 20:
        return "icmp_error_suppressed_bad_src"
    vihl, ff, proto, src, dst = _QUOTE.unpack_from(offending)
    if link_broadcast or is_broadcast or is_multicast(dst) or dst == 0xFFFFFFFF:
        return "icmp_error_suppressed_broadcast"
    if ff & 0x1FFF:
        return "icmp_error_suppressed_fragment"
    if src == 0 or src == 0xFFFFFFFF or is_multicast(src) or (src >> 28) == 0xF:
        return "icmp_error_suppressed_bad_src"
    if proto == 1:
        hlen = (vihl & 0x0F) << 2
        if len(offending) <= hlen or offending[hlen] not in _INFO_TYPES:
            return "icmp_error_suppressed_icmp_error"
    return None


class IcmpRateLimiter:
    """Token buckets: per destination (burst ``icmp_ratelimit_burst``, one token per
    ``icmp_ratelimit`` seconds) and global (``icmp_msgs_per_sec``, ``icmp_msgs_burst``).
    Only types in ``icmp_ratemask`` are limited.

    The per-destination state (Linux keeps it in the inetpeer cache, collected by age) is
    bounded by ``icmp_ratelimit_peers``. The table is kept least recently updated first;
    beyond the bound, entries whose bucket has refilled go first (forgetting them changes
    nothing: a new entry starts full), then the least recently updated one
    (``icmp_ratelimit_peer_evictions``: that destination's limit starts over)."""

    def __init__(self, config: StackConfig, counters: Counters | None = None) -> None:
        self._cfg = config
        self._c = counters if counters is not None else Counters()
        self._peers: dict[int, tuple[float, float]] = {}  # dst -> (tokens, last)
        self._global_tokens = float(config.icmp_msgs_burst)
        self._global_last: float | None = None

    def __len__(self) -> int:
        return len(self._peers)

    def allow(self, icmp_type: int, dst: int, *, now: float) -> str | None:
        """None when the message may go; else the counter naming the limiter that said no."""
        cfg = self._cfg
        if not (cfg.icmp_ratemask >> icmp_type) & 1:
            return None
        if self._global_last is not None:
            refill = (now - self._global_last) * cfg.icmp_msgs_per_sec
            self._global_tokens = min(float(cfg.icmp_msgs_burst), self._global_tokens + refill)
        self._global_last = now
        if self._global_tokens < 1.0:
            return "icmp_out_ratelimit_global"
        interval = cfg.icmp_ratelimit
        cap = interval * cfg.icmp_ratelimit_burst
        peers = self._peers
        tokens, last = peers.pop(dst, (cap, now))  # re-inserted last: the newest
        tokens = min(cap, tokens + (now - last))
        if tokens < interval:
            peers[dst] = (tokens, now)
            return "icmp_out_ratelimit_host"
        peers[dst] = (tokens - interval, now)
        self._global_tokens -= 1.0
        if len(peers) > cfg.icmp_ratelimit_peers:
            self._shrink(cap, now)
        return None

    def _shrink(self, cap: float, now: float) -> None:
        """Back to ``icmp_ratelimit_peers`` entries: refilled buckets first (lossless),
        else the least recently updated one. Each entry goes once: O(1) amortized."""
        peers = self._peers
        limit = self._cfg.icmp_ratelimit_peers
        while len(peers) > limit:
            dst = next(iter(peers))
            tokens, last = peers.pop(dst)
            if tokens + (now - last) < cap:
                self._c.inc("icmp_ratelimit_peer_evictions")


def icmp_timestamp_ms(now: float) -> int:
    """RFC 792 timestamp: milliseconds since midnight UT (virtual time since epoch 0)."""
    return int(now * 1000) % 86_400_000
