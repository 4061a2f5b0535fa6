"""A node's state and live configuration: show, iface, route, capture, exec, app."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from orchestrator.cli import common, render
from orchestrator.cli.common import LabArg, NodeArg, ServerOpt, TokenOpt
from orchestrator.domain.errors import InvalidArgument
from topology.model import AppKind

ROUTES_JSON = (
    "a list of RouteEntry {prefix, gateway, iface, kind (connected|static|rip), metric, age_ms "
    "(rip), learned_from (rip)}"
)


class What(StrEnum):
    INTERFACES = "interfaces"
    ROUTES = "routes"
    ARP = "arp"
    TCP = "tcp"
    COUNTERS = "counters"
    RIP = "rip"


@common.command
def show(
    lab: LabArg,
    node: NodeArg,
    what: Annotated[What, typer.Argument(help="what to show", show_default=False)],
    as_json: Annotated[
        bool,
        common.json_opt(
            "interfaces: [{name, device, mac, address, prefix_len, mtu, up, base_mtu}]; routes: "
            "[{prefix, gateway, iface, kind, metric, age_ms, learned_from}]; rip: {enabled, "
            "daemon, update_s, timeout_s, garbage_s, triggered_updates, split_horizon, "
            "poisoned_reverse, silent, authentication, redistribute, next_update_ms, interfaces: "
            "[{name, up, passive}], neighbors: [{address, iface, last_heard_ms, packets, "
            "bad_packets, bad_routes, routes}], routes: [{prefix, origin, metric, gateway, "
            "learned_from, tag, age_ms, gc_in_ms, offers}], counters: {rip_*: n}}; "
            "arp: [{iface, address, mac, state, "
            "queued_packets}]; tcp: {connections: [{state, local_address, local_port, "
            "remote_address, remote_port, cwnd, ssthresh, srtt_ms, rto_ms, mss, pmtu, ...}], "
            "listeners: [{local_address, local_port, backlog, syn_queue, accept_queue}]}; "
            "counters: {stack: {name: n}, io: {...}, ports: {iface: {...}}, faults: [fault parts]}"
        ),
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """A node's interfaces, routes, ARP cache, TCP connections, counters or RIP.

    tcp is like ss -ti; counters like netstat -s, per interface and per fault: why each
    packet died; rip: timers, neighbours and the RIP table (ours, or FRR's ripd on a linux
    router).
    """
    data: Any
    shown: Any
    with common.lab(server, token, lab) as handle:
        if what is What.INTERFACES:
            status = handle.status(node)
            data, shown = list(status.interfaces), render.interfaces(status)
        elif what is What.ROUTES:
            entries = handle.routes(node)
            data, shown = entries, render.routes(entries)
        elif what is What.ARP:
            arp = handle.arp(node)
            data, shown = arp, render.arp(arp)
        elif what is What.TCP:
            conns = handle.connections(node)
            data, shown = conns, render.connections(conns)
        elif what is What.RIP:
            rip = handle.rip(node)
            data, shown = rip, render.rip(rip)
        else:
            counters = handle.counters(node)
            data, shown = counters, render.counters(counters)
    common.print_json(data) if as_json else common.show(shown)
    return common.EXIT_OK


# ---- live configuration ----------------------------------------------------------------------

iface_app = typer.Typer(
    name="iface",
    help="Change a running node's interface (MTU, up/down, address): it stays so until "
    "changed again (not a fault).",
    no_args_is_help=True,
)


@iface_app.command("set")
@common.command
def iface_set(
    lab: LabArg,
    node: NodeArg,
    iface: Annotated[str, typer.Argument(metavar="IFACE", show_default=False)],
    mtu: Annotated[int | None, typer.Option(metavar="BYTES", help="the interface MTU")] = None,
    up: Annotated[
        bool | None,
        typer.Option("--up/--down", help="bring the interface up or down", show_default=False),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(metavar="A.B.C.D/LEN", help="a new address with its prefix length"),
    ] = None,
    as_json: Annotated[
        bool,
        common.json_opt(
            "the InterfaceInfo afterwards {name, address, prefix_len, mac, mtu, planned_mtu, "
            "link, up}"
        ),
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Set an interface's MTU, state or address on a running node."""
    with common.lab(server, token, lab) as handle:
        try:
            info = handle.set_interface(node, iface, mtu=mtu, up=up, address=address)
        except InvalidArgument as exc:
            names = {"mtu": "--mtu", "address": "--address", "iface": "IFACE"}
            if exc.field == "iface" and "at least one" in exc.detail:
                raise InvalidArgument("give --mtu, --up/--down or --address", "iface set") from None
            raise common.as_option(exc, names) from None
    if as_json:
        common.print_json(info)
    else:
        common.show(render.interface_changed(node, info))
    return common.EXIT_OK


route_app = typer.Typer(
    name="route",
    help="Static routes of a running node: list, add, delete (they stay until changed).",
    no_args_is_help=True,
)
PrefixArg = Annotated[
    str,
    typer.Argument(
        metavar="PREFIX", help="a.b.c.d/len, an address (/32) or default", show_default=False
    ),
]


@route_app.command("add")
@common.command
def route_add(
    lab: LabArg,
    node: NodeArg,
    prefix: PrefixArg,
    via: Annotated[str, typer.Option(metavar="GATEWAY", help="the next hop's address")] = "",
    dev: Annotated[
        str, typer.Option(metavar="IFACE", help="the interface (default: the gateway's subnet)")
    ] = "",
    metric: Annotated[int, typer.Option(help="lower wins among equal prefixes")] = 0,
    as_json: Annotated[bool, common.json_opt("the RouteEntry added")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Add a static route: `wirelab route add LAB r1 10.9.0.0/16 --via 10.0.2.3`."""
    with common.lab(server, token, lab) as handle:
        try:
            entry = handle.add_route(node, prefix, via=via, dev=dev, metric=metric)
        except InvalidArgument as exc:
            names = {"prefix": "PREFIX", "via": "--via", "dev": "--dev", "metric": "--metric"}
            raise common.as_option(exc, names) from None
    common.print_json(entry) if as_json else common.show(render.route_line(node, entry, "added"))
    return common.EXIT_OK


@route_app.command("del")
@common.command
def route_del(
    lab: LabArg,
    node: NodeArg,
    prefix: PrefixArg,
    as_json: Annotated[bool, common.json_opt("the RouteEntry deleted")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Delete a static route by its prefix."""
    with common.lab(server, token, lab) as handle:
        try:
            entry = handle.delete_route(node, prefix)
        except InvalidArgument as exc:
            raise common.as_option(exc, {"prefix": "PREFIX"}) from None
    if as_json:
        common.print_json(entry)
    else:
        common.show(render.route_line(node, entry, "deleted"))
    return common.EXIT_OK


@route_app.command("list")
@common.command
def route_list(
    lab: LabArg,
    node: NodeArg,
    as_json: Annotated[bool, common.json_opt(ROUTES_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """A node's routing table (the same as `wirelab show LAB NODE routes`)."""
    with common.lab(server, token, lab) as handle:
        entries = handle.routes(node)
    common.print_json(entries) if as_json else common.show(render.routes(entries))
    return common.EXIT_OK


# ---- captures and shells ---------------------------------------------------------------------


@common.command
def capture(
    lab: LabArg,
    node: NodeArg,
    iface: Annotated[
        str, typer.Argument(metavar="IFACE", help="an interface, or * for all", show_default=False)
    ],
    write: Annotated[
        str,
        typer.Option(
            "--write", "-w", metavar="FILE", help="the pcap file (- : stdout)", show_default=False
        ),
    ],
    count: Annotated[
        int | None, typer.Option("--count", "-c", help="stop after this many packets")
    ] = None,
    duration: Annotated[
        str | None, typer.Option(metavar="DURATION", help="stop after, e.g. 10s")
    ] = None,
    snaplen: Annotated[int | None, typer.Option(help="bytes kept per frame")] = None,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Capture a node's frames to a pcap file.

    Ctrl-C stops; -w - writes to stdout: `wirelab capture LAB r1 eth1 -w - | tcpdump -r -`.
    """
    with common.lab(server, token, lab) as handle:
        out: BinaryIO
        if write == "-":
            out = sys.stdout.buffer
        else:
            try:
                out = Path(write).open("wb")  # noqa: SIM115
            except OSError as exc:
                raise common.fail(f"{write}: {exc.strerror or exc}", common.EXIT_USAGE) from None
        try:
            packets = handle.capture_to(
                out, node, iface, max_packets=count, duration=duration, snaplen=snaplen
            )
        except InvalidArgument as exc:
            names = {"max_packets": "--count", "duration": "--duration", "snaplen": "--snaplen"}
            raise common.as_option(exc, names) from None
        except KeyboardInterrupt:
            packets = -1
        finally:
            if out is not sys.stdout.buffer:
                out.close()
    if write != "-":
        common.note(("capture stopped" if packets < 0 else f"{packets} packets") + f": {write}")
    return common.EXIT_OK


@common.command
def exec_(
    lab: LabArg,
    node: NodeArg,
    argv: Annotated[
        list[str],
        typer.Argument(metavar="CMD", help="the command and its arguments", show_default=False),
    ],
    timeout: Annotated[str, typer.Option(metavar="DURATION")] = "30s",
    as_json: Annotated[
        bool, common.json_opt("the ExecResult {exit_code, output} (stdout and stderr)")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Run a command in a linux-kind node.

    `wirelab exec LAB NODE -- ip addr`; exits with the command's status.
    """
    with common.lab(server, token, lab) as handle:
        try:
            result = handle.exec(node, argv, timeout=timeout)
        except InvalidArgument as exc:
            raise common.as_option(exc, {"timeout": "--timeout"}) from None
    if as_json:
        common.print_json(result)
    else:
        sys.stdout.write(result.output)
    return result.exit_code if 0 <= result.exit_code < 256 else common.EXIT_FAILED


# ---- apps ------------------------------------------------------------------------------------

app_app = typer.Typer(name="app", help="Start, list and stop apps on nodes.", no_args_is_help=True)
APP_JSON = "the AppInfo {app_id, kind, port, running, stats: {name: n}}"


@app_app.command("start")
@common.command
def app_start(
    lab: LabArg,
    node: NodeArg,
    kind: Annotated[AppKind, typer.Argument(help="the app", show_default=False)],
    port: Annotated[int, typer.Option(help="default: the kind's port")] = 0,
    as_json: Annotated[bool, common.json_opt(APP_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Start an app (an HTTP server, an echo server, a sink, a UDP echo)."""
    with common.lab(server, token, lab) as handle:
        info = handle.start_app(node, kind.value, port)
    common.print_json(info) if as_json else common.show(f"{node}: started {info.app_id}")
    return common.EXIT_OK


@app_app.command("list")
@common.command
def app_list(
    lab: LabArg,
    node: Annotated[str, typer.Argument(metavar="NODE", help="one node (default: all)")] = "",
    as_json: Annotated[bool, common.json_opt(f"{{node: [{APP_JSON}]}}")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Apps of a lab (or of one node) with their counters."""
    with common.lab(server, token, lab) as handle:
        by_node = handle.apps(node)
    common.print_json(by_node) if as_json else common.show(render.apps(by_node))
    return common.EXIT_OK


@app_app.command("stop")
@common.command
def app_stop(
    lab: LabArg,
    node: NodeArg,
    app_id: Annotated[
        str, typer.Argument(metavar="ID", help="kind:port, e.g. sink:5001", show_default=False)
    ],
    as_json: Annotated[bool, common.json_opt(APP_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Stop an app."""
    with common.lab(server, token, lab) as handle:
        info = handle.stop_app(node, app_id)
    common.print_json(info) if as_json else common.show(f"{node}: stopped {info.app_id}")
    return common.EXIT_OK
