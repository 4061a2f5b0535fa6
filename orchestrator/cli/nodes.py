"""A node's state and live configuration: show, iface, route, capture, exec, app."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from nodes.apps.ref import is_ref
from orchestrator.cli import common, render, shell
from orchestrator.cli.common import LabArg, NodeArg, ServerOpt, TokenOpt
from orchestrator.domain.errors import InvalidArgument
from orchestrator.domain.requests import app_args
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
        list[str] | None,
        typer.Argument(
            metavar="CMD",
            help="the command and its arguments (with -i/-t: default a shell)",
            show_default=False,
        ),
    ] = None,
    interactive: Annotated[
        bool,
        typer.Option("--interactive", "-i", help="keep stdin open (docker exec -i): no time limit"),
    ] = False,
    tty: Annotated[
        bool, typer.Option("--tty", "-t", help="a terminal (docker exec -t): -it for a shell")
    ] = False,
    timeout: Annotated[str, typer.Option(metavar="DURATION")] = "30s",
    as_json: Annotated[
        bool, common.json_opt("the ExecResult {exit_code, output} (stdout and stderr)")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Run a command in a node's container (any node kind on docker).

    `wirelab exec LAB NODE -- ip addr` runs through the server (at most --timeout) and exits
    with the command's status. `wirelab exec -it LAB NODE [CMD]` is an interactive terminal
    (a shell by default, no time limit): `docker exec -it` on the node's container, run here
    when the lab's Docker engine is on this machine.
    """
    if interactive or tty:
        if as_json:
            raise InvalidArgument("-i/-t is a terminal session: no --json", "--json")
        with common.client(server, token) as c:
            info = c.lab(lab).info
            command = shell.docker_exec(
                info, node, argv or [], interactive=interactive, tty=tty, server=c.address
            )
        return shell.run(command)
    if not argv:
        raise InvalidArgument("give a command (or -it for an interactive shell)", "CMD")
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
APP_JSON = (
    "the AppInfo {app_id, kind, port, running, state (running|stopped|failed|finished), "
    "error, stats: {name: n}}"
)
BUILTINS = ", ".join(k.value for k in AppKind)


def split_app(text: str, port: int) -> tuple[str, int]:
    """``echo:7`` / ``kvstore.server:make:7000`` -> (app, port); --port gives it otherwise."""
    head, colon, tail = text.rpartition(":")
    if colon and tail.isdigit() and (head in BUILTINS.split(", ") or is_ref(head)):
        if port and port != int(tail):
            raise InvalidArgument(f"{text} and --port {port} disagree", "--port")
        return head, int(tail)
    if text not in BUILTINS.split(", ") and not is_ref(text):
        raise InvalidArgument(
            f"unknown app {text[:100]!r}: one of {BUILTINS}, or your own as module:factory "
            "(like kvstore.server:make)",
            "APP",
        )
    return text, port


@app_app.command("start")
@common.command
def app_start(
    lab: LabArg,
    node: NodeArg,
    app: Annotated[
        str,
        typer.Argument(
            metavar="APP",
            help=f"a built-in ({BUILTINS}) or your own app as module:factory, [:PORT]",
            show_default=False,
        ),
    ],
    port: Annotated[int, typer.Option(help="default: the kind's port (your own app: none)")] = 0,
    arg: Annotated[
        list[str] | None,
        typer.Option(
            "--arg", "-a", metavar="NAME=VALUE", help="an argument of the app (repeat it)"
        ),
    ] = None,
    as_json: Annotated[bool, common.json_opt(APP_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Start an app: a built-in, or your own (module:factory from the lab's code folder or
    the node image; see nodes/apps/api.py).

    `wirelab app start LAB h2 kvstore:serve --port 7000 --arg size=100`
    """
    kind, port = split_app(app, port)
    try:
        args = app_args(arg or [])
    except InvalidArgument as exc:
        raise common.as_option(exc, {"args": "--arg"}) from None
    with common.lab(server, token, lab) as handle:
        try:
            info = handle.start_app(node, kind, port, args)
        except InvalidArgument as exc:
            raise common.as_option(exc, {"args": "--arg", "port": "--port"}) from None
    common.print_json(info) if as_json else common.show(f"{node}: started {info.app_id}")
    return common.EXIT_OK


def split_forward(text: str) -> tuple[int, str]:
    """``[LOCAL_PORT:]HOST:PORT`` -> (local port or 0, HOST:PORT)."""
    head, colon, rest = text.partition(":")
    if colon and head.isdigit() and ":" in rest:
        local = int(head)
        if not 0 < local < 65536:
            raise InvalidArgument(f"local port {head} is not 1..65535", "TARGET")
        return local, rest
    _, colon, port = text.rpartition(":")
    if not colon or not port.isdigit():
        raise InvalidArgument(
            f"expected [LOCAL_PORT:]HOST:PORT (h2:80, 8080:h2:80), got {text[:100]!r}", "TARGET"
        )
    return 0, text


@common.command
def forward(
    lab: LabArg,
    node: NodeArg,
    target: Annotated[
        str,
        typer.Argument(
            metavar="[LOCAL_PORT:]HOST:PORT",
            help="where to: a node (h2), node:iface or address, and a port",
            show_default=False,
        ),
    ],
    as_json: Annotated[bool, common.json_opt(APP_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Carry the TCP of programs in a node's container over wirelab's stack.

    The node's agent listens on 127.0.0.1:LOCAL_PORT in its container (default: PORT) and
    relays every connection over our TCP to HOST:PORT: `wirelab forward LAB h1 8080:h2:80`,
    then `wirelab exec LAB h1 -- curl http://127.0.0.1:8080/`. Faults shape that TCP and
    `show LAB h1 tcp` lists it. Stop it with `wirelab app stop LAB h1 forward:8080`.
    """
    local, to = split_forward(target)
    with common.lab(server, token, lab) as handle:
        try:
            info = handle.forward(node, to, local)
        except InvalidArgument as exc:
            raise common.as_option(exc, {"to": "TARGET", "args": "TARGET"}) from None
    if as_json:
        common.print_json(info)
    else:
        common.show(
            f"{node}: 127.0.0.1:{info.port} -> {to} over wirelab's TCP ({info.app_id}; "
            f"stop: wirelab app stop {lab} {node} {info.app_id})"
        )
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
