"""Measurements from a lab's nodes: ping, traceroute, transfer, http."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli import common, render
from orchestrator.cli.common import LabArg, NodeArg, ServerOpt, TokenOpt
from orchestrator.cli.progress import spinner
from orchestrator.domain.errors import InvalidArgument
from orchestrator.domain.requests import DEFAULT_TRANSFER_SIZE

DestinationArg = Annotated[
    str,
    typer.Argument(metavar="DST", help="a node, node:iface or an address", show_default=False),
]

_PING_NAMES = {
    "count": "--count",
    "interval": "--interval",
    "size": "--size",
    "ttl": "--ttl",
    "wait": "--wait",
    "destination": "DST",
}


@common.command
def ping(
    lab: LabArg,
    node: Annotated[str, typer.Argument(metavar="NODE", help="who pings", show_default=False)],
    destination: DestinationArg,
    count: Annotated[int, typer.Option("--count", "-c", help="echo requests")] = 3,
    size: Annotated[
        str | None,
        typer.Option("--size", "-s", metavar="BYTES", help="ICMP data (default 56)"),
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option("--interval", "-i", metavar="DURATION", help="between requests (default 1s)"),
    ] = None,
    ttl: Annotated[int | None, typer.Option("--ttl", "-t")] = None,
    wait: Annotated[
        str | None,
        typer.Option("--wait", "-W", metavar="DURATION", help="for the last reply (default 1s)"),
    ] = None,
    df: Annotated[bool, typer.Option("--df", help="set Don't Fragment")] = False,
    record_route: Annotated[
        bool, typer.Option("--record-route", "-R", help="IP record route option")
    ] = False,
    as_json: Annotated[
        bool,
        common.json_opt(
            "the PingReport {transmitted, received, errors, loss (0..1), rtt_min_ms, rtt_avg_ms, "
            "rtt_max_ms, results: [{seq, replied, source, rtt_ms, ttl, size_bytes, icmp_type, "
            "icmp_code, next_hop_mtu, route, send_failed}]}"
        ),
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """ICMP echo from a node.

    Exit 1 when nothing replied. An ICMP error, like a router's frag-needed to a --df
    ping, is shown with its next-hop MTU.
    """
    with common.lab(server, token, lab) as handle:
        try:
            report = handle.ping(
                node,
                destination,
                count=count,
                interval=interval,
                size=size,
                ttl=ttl,
                dont_fragment=df,
                wait=wait,
                record_route=record_route,
            )
        except InvalidArgument as exc:
            raise common.as_option(exc, _PING_NAMES) from None
    common.print_json(report) if as_json else common.show(render.ping(report, destination))
    return common.EXIT_OK if report.received else common.EXIT_FAILED


@common.command
def traceroute(
    lab: LabArg,
    node: NodeArg,
    destination: DestinationArg,
    icmp: Annotated[
        bool, typer.Option("--icmp", "-I", help="ICMP echo probes (default UDP)")
    ] = False,
    max_hops: Annotated[int | None, typer.Option("--max-hops", "-m")] = None,
    probes: Annotated[int | None, typer.Option("--probes", "-q", help="per hop")] = None,
    wait: Annotated[
        str | None,
        typer.Option("--wait", "-w", metavar="DURATION", help="per probe (default 1s)"),
    ] = None,
    as_json: Annotated[
        bool,
        common.json_opt(
            "the TraceReport {reached, hops: [{ttl, responder, probes: [{ttl, responder, rtt_ms, "
            "icmp_type, icmp_code}]}]}"
        ),
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """The path from a node, hop by hop. Exit 1 when the destination was not reached."""
    with common.lab(server, token, lab) as handle:
        try:
            report = handle.traceroute(
                node,
                destination,
                method="icmp" if icmp else "udp",
                max_hops=max_hops,
                probes=probes,
                wait=wait,
            )
        except InvalidArgument as exc:
            names = {"max_hops": "--max-hops", "probes": "--probes", "wait": "--wait"}
            raise common.as_option(exc, names) from None
    if as_json:
        common.print_json(report)
    else:
        common.show(render.traceroute(report, destination))
    return common.EXIT_OK if report.reached else common.EXIT_FAILED


@common.command
def transfer(
    lab: LabArg,
    source: Annotated[str, typer.Argument(metavar="SRC", help="the sending node")],
    destination: DestinationArg,
    size: Annotated[
        str,
        typer.Option("--bytes", "--size", metavar="SIZE", help="e.g. 10MB, 1MiB, 500k"),
    ] = "1MiB",
    cc: Annotated[
        str, typer.Option("--cc", help="congestion control: cubic or reno (default the node's)")
    ] = "",
    port: Annotated[int, typer.Option(help="the sink's port (default 5001)")] = 0,
    timeout: Annotated[str, typer.Option(metavar="DURATION", help="give up after")] = "60s",
    interval: Annotated[
        str | None,
        typer.Option(metavar="DURATION", help="sender sample interval (default 10ms)"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="seed of the pattern bytes")] = None,
    plot: Annotated[
        Path | None,
        typer.Option(metavar="FILE.svg", help="plot cwnd, ssthresh and bytes in flight over time"),
    ] = None,
    as_json: Annotated[
        bool,
        common.json_opt(
            "the TransferReport {size_bytes, bytes, bytes_received, seconds, goodput_bps, "
            "sender_sha256, receiver_sha256, sha256_match, retransmits, bytes_retrans, error, "
            "timeout_s, source_address, destination_address, port, final: {state, cwnd, "
            "ssthresh, srtt_ms, mss, pmtu, ...}, samples: [{time_ms, cwnd, ssthresh, "
            "inflight_bytes, srtt_ms, retrans, ca_state}], loads: [{node, busy_fraction, "
            "late_fraction, wakeups, wall_s, saturated}], cpu_bound_nodes: [node, ...]}"
        ),
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """A TCP bulk transfer from SRC to a sink at DST, checked end to end by sha256.

    Exit 1 when it did not complete (it says what arrived: "incomplete: 9.8 of 19.1 MiB
    after 60s") or the digests differ.
    """
    from orchestrator.domain import requests

    names = {
        "size": "--bytes",
        "congestion_control": "--cc",
        "port": "--port",
        "timeout": "--timeout",
        "sample_interval": "--interval",
        "seed": "--seed",
        "source": "SRC",
        "destination": "DST",
    }
    try:
        request = requests.transfer(
            source,
            destination,
            size=size or DEFAULT_TRANSFER_SIZE,
            congestion_control=cc,
            port=port,
            sample_interval=interval,
            timeout=timeout,
            seed=seed,
        )
    except InvalidArgument as exc:
        raise common.as_option(exc, names) from None
    text = (
        f"transfer {render.size(request.size_bytes)} {source} -> {destination} "
        f"(up to {render.duration(request.timeout_s)})"
    )
    with common.client(server, token) as c, spinner(common.err(), text):
        report = c.wire.transfer(lab, request)
    if plot is not None:
        if report.samples:
            from orchestrator.cli.plots import plot_transfer

            plot_transfer(report, str(plot))
        else:
            common.note("transfer: no samples to plot (the sender is a linux node, or it failed)")
    if as_json:
        common.print_json(report)
    else:
        common.show(render.transfer(report, source))
        if plot is not None and report.samples:
            common.show(f"plot: {plot}")
    return common.EXIT_OK if report.ok else common.EXIT_FAILED


@common.command
def http(
    lab: LabArg,
    node: NodeArg,
    url: Annotated[str, typer.Argument(metavar="URL", help="http://NODE-or-ADDRESS[:PORT]/PATH")],
    timeout: Annotated[str, typer.Option(metavar="DURATION")] = "30s",
    as_json: Annotated[
        bool,
        common.json_opt("the HttpReport {status, bytes, sha256, seconds, error, headers: {...}}"),
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """HTTP GET from a node with our stack's client. Exit 1 unless the status is 2xx/3xx."""
    with common.lab(server, token, lab) as handle:
        try:
            report = handle.http_get(node, url, timeout=timeout)
        except InvalidArgument as exc:
            raise common.as_option(exc, {"url": "URL", "timeout": "--timeout"}) from None
    common.print_json(report) if as_json else common.show(render.http(report, url))
    return common.EXIT_OK if report.ok else common.EXIT_FAILED
