"""Local ICMP input (RFC 792/1122): echo and timestamp responders, incoming errors routed
to the transport whose packet they quote (``on_icmp_error``), and every message shown to
the host's ICMP listeners (raw-socket style: ping, traceroute)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nodes.stack.icmp import icmp_timestamp_ms
from nodes.wire.errors import BadChecksum, WireError
from nodes.wire.icmp import (
    IcmpMessage,
    IcmpType,
    build_echo,
    build_timestamp,
    parse_icmp,
    parse_quoted,
    parse_timestamp,
)
from nodes.wire.ipv4 import IPProto, IPv4Packet, RecordRoute, encode_options

if TYPE_CHECKING:
    from nodes.stack.host import Host

_IN_COUNTER: dict[int, str] = {
    IcmpType.DEST_UNREACH: "icmp_in_dest_unreachs",
    IcmpType.TIME_EXCEEDED: "icmp_in_time_excds",
    IcmpType.PARAM_PROBLEM: "icmp_in_parm_probs",
    IcmpType.SOURCE_QUENCH: "icmp_in_src_quenchs",
    IcmpType.REDIRECT: "icmp_in_redirects",
    IcmpType.ECHO_REPLY: "icmp_in_echo_reps",
    IcmpType.TIMESTAMP_REPLY: "icmp_in_timestamp_reps",
}


class IcmpInput:
    def __init__(self, host: Host) -> None:
        self._host = host
        self._c = host.counter_set

    def receive(self, pkt: IPv4Packet, bcast: bool, *, now: float) -> None:
        c = self._c
        c.inc("icmp_in_msgs")
        try:
            msg = parse_icmp(pkt.payload)
        except BadChecksum:
            c.inc("icmp_in_csum_errors")
            c.inc("icmp_in_errors")
            return
        except WireError:
            c.inc("icmp_in_errors")
            return
        t = msg.type
        if t == IcmpType.ECHO_REQUEST:
            c.inc("icmp_in_echos")
            self._echo_reply(pkt, msg, bcast, now=now)
        elif t == IcmpType.TIMESTAMP:
            c.inc("icmp_in_timestamps")
            self._timestamp_reply(pkt, msg, bcast, now=now)
        elif msg.is_error:
            c.inc(_IN_COUNTER[t])
            try:
                quoted = parse_quoted(msg)
            except WireError:
                c.inc("icmp_in_errors")
                return
            handler = self._host.handlers.get(quoted.proto)
            if handler is not None:
                handler.on_icmp_error(msg, quoted, now=now)
            elif quoted.proto != IPProto.ICMP and not self._host.listeners:
                c.inc("icmp_in_error_unmatched")
        elif t in _IN_COUNTER:
            c.inc(_IN_COUNTER[t])
        else:
            c.inc("icmp_in_unknown_types")
        for listener in tuple(self._host.listeners):
            listener.on_icmp(pkt, msg, now=now)

    def _reply_source(self, pkt: IPv4Packet) -> int | None:
        return pkt.dst if self._host.interfaces.is_local(pkt.dst) else None

    def _echo_reply(self, pkt: IPv4Packet, msg: IcmpMessage, bcast: bool, *, now: float) -> None:
        cfg = self._host.config
        if cfg.icmp_echo_ignore_all or (bcast and cfg.icmp_echo_ignore_broadcasts):
            self._c.inc("icmp_in_echo_ignored")
            return
        options = b""
        src = self._reply_source(pkt)
        for opt in pkt.options:
            if isinstance(opt, RecordRoute):  # ping -R: record ourselves, echo the option
                me = src if src is not None else self._host.source_address_for(pkt.src) or 0
                options = encode_options([opt.record(me)])
        reply = build_echo(IcmpType.ECHO_REPLY, msg.ident, msg.seq, msg.payload)
        if self._host.output(
            pkt.src, IPProto.ICMP, reply, now=now, src=src, tos=pkt.tos, options=options
        ):
            self._c.inc("icmp_out_msgs")
            self._c.inc("icmp_out_echo_reps")

    def _timestamp_reply(
        self, pkt: IPv4Packet, msg: IcmpMessage, bcast: bool, *, now: float
    ) -> None:
        if bcast:
            self._c.inc("icmp_in_echo_ignored")
            return
        try:
            originate, _, _ = parse_timestamp(msg)
        except WireError:
            self._c.inc("icmp_in_errors")
            return
        ms = icmp_timestamp_ms(now)
        reply = build_timestamp(IcmpType.TIMESTAMP_REPLY, msg.ident, msg.seq, originate, ms, ms)
        if self._host.output(pkt.src, IPProto.ICMP, reply, now=now, src=self._reply_source(pkt)):
            self._c.inc("icmp_out_msgs")
            self._c.inc("icmp_out_timestamp_reps")
