"""The lab commands of ``wirelab`` (deploy, destroy, inspect, ping, traceroute, transfer,
fault, show, capture, graph, serve, exec, app, http), registered in orchestrator/cli.py.

Every lab command talks to a LabService (``wirelab serve``): ``--server ADDR`` or
$WIRELAB_SERVER, else the one recorded in ~/.wirelab/serve.json ($WIRELAB_HOME), else
127.0.0.1:50050; when none answers, the command starts ``wirelab serve`` in the
background (sim labs live in that process; docker labs outlive it, found by labels).
``--token``/$WIRELAB_TOKEN is sent as a bearer token.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wirelab.v1 import lab_pb2, node_pb2

from orchestrator import render
from orchestrator.client import (
    ACTIONS,
    DIRECTIONS,
    LabClient,
    LabError,
    connect,
    fault_spec,
    fault_target,
    to_json,
)
from orchestrator.faults import parse_duration, parse_probability, parse_rate, parse_size

EXIT_OK = 0
EXIT_FAILED = 1  # the operation ran and failed (no reply, sha256 mismatch, refused)
EXIT_USAGE = 2  # bad arguments (also the server's INVALID_ARGUMENT)
EXIT_NOT_FOUND = 3  # no such lab, node, interface, fault or app
EXIT_UNAVAILABLE = 4  # no server (or node agent) answers
EXIT_AUTH = 5  # the server wants another token

EXIT_CODES = """exit codes:
  0  success
  1  the operation failed (no reply, sha256 mismatch, refused by the lab)
  2  usage error or invalid argument
  3  not found (lab, node, interface, fault, app)
  4  no server or node agent answers
  5  unauthenticated (wrong or missing --token)"""

Subparsers = Any
Handler = Callable[[argparse.Namespace], int]


# ---- shared plumbing ----------------------------------------------------------------------


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("server")
    g.add_argument("--server", metavar="ADDR", help="LabService address ($WIRELAB_SERVER)")
    g.add_argument("--token", help="bearer token ($WIRELAB_TOKEN)")
    return p


COMMON = _common()


def _json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _command(
    sub: Subparsers, name: str, help: str, description: str | None = None, **kw: Any
) -> argparse.ArgumentParser:
    """A subcommand (or a group of them) with the exit codes as its epilog."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kw,
    )
    return parser


def _parser(
    sub: Subparsers, name: str, help: str, description: str = "", **kw: Any
) -> argparse.ArgumentParser:
    """A subcommand that talks to the server (--server, --token)."""
    return _command(sub, name, help, description or help, parents=[COMMON], **kw)


def _exit_for(exc: LabError) -> int:
    import grpc

    return {
        grpc.StatusCode.INVALID_ARGUMENT: EXIT_USAGE,
        grpc.StatusCode.NOT_FOUND: EXIT_NOT_FOUND,
        grpc.StatusCode.UNAVAILABLE: EXIT_UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED: EXIT_UNAVAILABLE,
        grpc.StatusCode.UNAUTHENTICATED: EXIT_AUTH,
    }.get(exc.code, EXIT_FAILED)


def _client(args: argparse.Namespace) -> LabClient:
    return connect(args.server, token=args.token)


def _run(fn: Callable[[argparse.Namespace, LabClient], int]) -> Handler:
    """A handler with a client; server errors -> a message on stderr and an exit code."""

    def handler(args: argparse.Namespace) -> int:
        try:
            client = _client(args)
        except LabError as exc:
            print(f"wirelab: {exc.message}", file=sys.stderr)
            return _exit_for(exc)
        try:
            return fn(args, client)
        except LabError as exc:
            print(f"wirelab: {exc.message}", file=sys.stderr)
            return _exit_for(exc)
        except KeyboardInterrupt:
            return 130
        finally:
            client.close()

    return handler


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a parser raising ValueError (its message shown)."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__.replace("parse_", "")
    return convert


PROBABILITY, DURATION, RATE, SIZE = map(
    _typed, (parse_probability, parse_duration, parse_rate, parse_size)
)


# ---- deploy / destroy / inspect -------------------------------------------------------------


def _register_deploy(sub: Subparsers) -> None:
    p = _parser(
        sub,
        "deploy",
        "deploy a topology (idempotent)",
        "Deploy a topology and wait until every node is ready; progress on stderr. "
        "Deploying the same topology again is a no-op.",
    )
    p.add_argument("topology", metavar="TOPO", help="topology YAML file")
    p.add_argument("--name", default="", help="lab name (default: the topology's)")
    p.add_argument(
        "--backend",
        choices=("sim", "docker"),
        default="sim",
        help="sim: every node in the server process; docker: containers",
    )
    p.add_argument("--replace", action="store_true", help="replace a lab of the same name")
    p.add_argument("--seed", type=int, help="seed of the nodes' stacks (default 1)")
    p.add_argument("--no-timeline", action="store_true", help="skip the topology's faults")
    _json_flag(p)
    p.set_defaults(handler=_run(_deploy))


def _deploy(args: argparse.Namespace, client: LabClient) -> int:
    try:
        text = Path(args.topology).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"wirelab: {args.topology}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    progress = render.Progress()
    try:
        lab = client.deploy(
            yaml=text,
            name=args.name,
            backend=args.backend,
            replace=args.replace,
            seed=args.seed,
            skip_timeline=args.no_timeline,
            progress=progress,
        )
    finally:
        progress.close()
    if args.json:
        _print_json(to_json(lab))
    else:
        print(render.lab_info(lab))
    return EXIT_OK


def _register_destroy(sub: Subparsers) -> None:
    p = _parser(sub, "destroy", "destroy a lab (or every lab)")
    p.add_argument("lab", metavar="LAB", nargs="?", help="the lab")
    p.add_argument("--all", action="store_true", help="every lab")
    p.set_defaults(handler=_run(_destroy))


def _destroy(args: argparse.Namespace, client: LabClient) -> int:
    if bool(args.lab) == bool(args.all):
        print("wirelab destroy: give LAB or --all", file=sys.stderr)
        return EXIT_USAGE
    gone = client.destroy(args.lab or "", all=args.all)
    print("destroyed: " + (", ".join(gone) or "nothing"))
    return EXIT_OK


def _register_inspect(sub: Subparsers) -> None:
    p = _parser(sub, "inspect", "list labs, or show one lab's nodes, interfaces and state")
    p.add_argument("lab", metavar="LAB", nargs="?", help="the lab (default: list every lab)")
    _json_flag(p)
    p.set_defaults(handler=_run(_inspect))


def _inspect(args: argparse.Namespace, client: LabClient) -> int:
    if args.lab:
        lab = client.get_lab(args.lab)
        _print_json(to_json(lab)) if args.json else print(render.lab_info(lab))
    else:
        labs = client.list_labs()
        _print_json(to_json(labs)) if args.json else print(render.lab_list(labs))
    return EXIT_OK


# ---- ping / traceroute / transfer / http ---------------------------------------------------


def _register_ping(sub: Subparsers) -> None:
    p = _parser(sub, "ping", "ICMP echo from a node (exit 1 when nothing replied)")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE", help="who pings")
    p.add_argument("destination", metavar="DST", help="node, node:iface or address")
    p.add_argument("-c", "--count", type=int, default=3)
    p.add_argument("-s", "--size", type=int, help="ICMP data bytes (default 56)")
    p.add_argument("-i", "--interval", type=DURATION, help="between requests (default 1s)")
    p.add_argument("-t", "--ttl", type=int)
    p.add_argument("-W", "--wait", type=DURATION, help="for the last reply (default 1s)")
    p.add_argument("--df", action="store_true", help="set Don't Fragment")
    _json_flag(p)
    p.set_defaults(handler=_run(_ping))


def _ping(args: argparse.Namespace, client: LabClient) -> int:
    if args.count < 1:
        print("wirelab ping: -c must be >= 1", file=sys.stderr)
        return EXIT_USAGE
    reply = client.ping(
        args.lab,
        args.node,
        args.destination,
        count=args.count,
        interval=args.interval,
        size=args.size,
        ttl=args.ttl,
        dont_fragment=args.df,
        wait=args.wait,
    )
    _print_json(to_json(reply)) if args.json else print(render.ping(reply, args.destination))
    return EXIT_OK if reply.received else EXIT_FAILED


def _register_traceroute(sub: Subparsers) -> None:
    p = _parser(sub, "traceroute", "the path from a node (exit 1 when not reached)")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE")
    p.add_argument("destination", metavar="DST")
    p.add_argument("-I", "--icmp", action="store_true", help="ICMP echo probes (default UDP)")
    p.add_argument("-m", "--max-hops", type=int)
    p.add_argument("-q", "--probes", type=int)
    p.add_argument("-w", "--wait", type=DURATION, help="per probe (default 1s)")
    _json_flag(p)
    p.set_defaults(handler=_run(_traceroute))


def _traceroute(args: argparse.Namespace, client: LabClient) -> int:
    reply = client.traceroute(
        args.lab,
        args.node,
        args.destination,
        method="icmp" if args.icmp else "",
        max_hops=args.max_hops,
        probes=args.probes,
        wait=args.wait,
    )
    if args.json:
        _print_json(to_json(reply))
    else:
        print(render.traceroute(reply, args.destination))
    return EXIT_OK if reply.reached else EXIT_FAILED


def _register_transfer(sub: Subparsers) -> None:
    p = _parser(sub, "transfer", "TCP bulk transfer checked by sha256 (exit 1 on mismatch)")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("source", metavar="SRC", help="the sending node")
    p.add_argument("destination", metavar="DST", help="node, node:iface or address")
    p.add_argument("--bytes", type=SIZE, default=1 << 20, help="e.g. 10MB, 1MiB (default 1MiB)")
    p.add_argument("--cc", default="", help="congestion control (cubic, reno)")
    p.add_argument("--port", type=int, default=0, help="sink port (default 5001)")
    p.add_argument("--timeout", type=DURATION, default=60.0)
    p.add_argument("--interval", type=DURATION, help="sample interval (default 10ms)")
    p.add_argument("--plot", metavar="FILE.svg", help="plot cwnd/ssthresh/in flight over time")
    _json_flag(p)
    p.set_defaults(handler=_run(_transfer))


def _transfer(args: argparse.Namespace, client: LabClient) -> int:
    reply = client.transfer(
        args.lab,
        args.source,
        args.destination,
        size=args.bytes,
        congestion_control=args.cc,
        port=args.port,
        sample_interval=args.interval,
        timeout=args.timeout,
    )
    if args.plot:
        if not reply.samples:
            print(
                "wirelab transfer: no samples to plot (the sender is a linux node)", file=sys.stderr
            )
        else:
            render.plot_transfer(reply, args.plot)
    if args.json:
        _print_json(to_json(reply))
    else:
        print(render.transfer(reply))
        if args.plot and reply.samples:
            print(f"plot: {args.plot}")
    return EXIT_OK if reply.sha256_match and not reply.error else EXIT_FAILED


def _register_http(sub: Subparsers) -> None:
    p = _parser(sub, "http", "HTTP GET from a node with our stack's client")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE")
    p.add_argument("url", metavar="URL", help="http://NODE-or-ADDRESS[:PORT]/PATH")
    p.add_argument("--timeout", type=DURATION, default=30.0)
    _json_flag(p)
    p.set_defaults(handler=_run(_http))


def _http(args: argparse.Namespace, client: LabClient) -> int:
    reply = client.http_get(args.lab, args.node, args.url, timeout=args.timeout)
    _print_json(to_json(reply)) if args.json else print(render.http(reply, args.url))
    return EXIT_OK if 200 <= reply.status < 400 and not reply.error else EXIT_FAILED


# ---- faults -------------------------------------------------------------------------------


def _match(text: str) -> dict[str, Any]:
    """``tcp,dst=10.0.0.2,dport=80`` -> match fields."""
    out: dict[str, Any] = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            key, value = "protocol", item
        if key not in ("protocol", "src", "dst", "sport", "dport"):
            raise argparse.ArgumentTypeError(
                f"bad match item {item!r}: use protocol (tcp/udp/icmp), src=, dst=, sport=, dport="
            )
        if key in ("sport", "dport"):
            if not value.isdigit() or int(value) > 65535:
                raise argparse.ArgumentTypeError(f"bad port {value!r} in {item!r}")
            out[key] = int(value)
        else:
            out[key] = value
    return out


def _ge(text: str) -> tuple[float, ...]:
    """``P,R[,LOSS_BAD[,LOSS_GOOD]]`` (probabilities, % allowed)."""
    items = [x for x in text.split(",") if x.strip()]
    if not 1 <= len(items) <= 4:
        raise argparse.ArgumentTypeError(f"bad --ge {text!r}: use P,R[,LOSS_BAD[,LOSS_GOOD]]")
    try:
        return tuple(parse_probability(x) for x in items)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _register_fault(sub: Subparsers) -> None:
    p = _command(
        sub,
        "fault",
        "add, list and clear faults; node actions; partitions",
        "Faults on a running lab.",
    )
    fsub = p.add_subparsers(dest="fault_command", metavar="ACTION", required=True)

    add = _parser(
        fsub,
        "add",
        "impair an interface, a link or a node",
        "Impair traffic. Targets: --link NODE:IF (one interface), --link NAME (every "
        "member of a link or LAN), --node NODE (every interface). Units: 5%% or 0.05, "
        "10ms, 100mbit.",
    )
    add.add_argument("lab", metavar="LAB")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--link", metavar="NODE:IF|LINK", help="an interface, or a link by name")
    target.add_argument("--node", metavar="NODE", help="every interface of a node")
    add.add_argument("--direction", choices=tuple(DIRECTIONS), default="both")
    add.add_argument("--loss", type=PROBABILITY, help="random loss, e.g. 5%%")
    add.add_argument("--ge", type=_ge, metavar="P,R[,BAD[,GOOD]]", help="Gilbert-Elliott loss")
    add.add_argument("--delay", type=DURATION, help="e.g. 10ms")
    add.add_argument("--jitter", type=DURATION, help="e.g. 2ms")
    add.add_argument("--distribution", choices=("uniform", "normal"))
    add.add_argument("--duplicate", type=PROBABILITY)
    add.add_argument("--corrupt", type=PROBABILITY)
    add.add_argument("--reorder", type=PROBABILITY, help="needs --delay")
    add.add_argument("--rate", type=RATE, help="e.g. 100mbit")
    add.add_argument("--mtu", type=int, help="drop frames above it")
    add.add_argument("--down", action="store_true", help="drop everything")
    add.add_argument("--match", type=_match, metavar="SPEC", help="e.g. tcp,dst=10.0.1.2,dport=80")
    add.add_argument("--seed", type=int)
    add.add_argument("--duration", type=DURATION, help="expire after, e.g. 5s")
    add.add_argument("--id", default="", help="fault id (default F1, F2, ...)")
    _json_flag(add)
    add.set_defaults(handler=_run(_fault_add))

    node = _parser(fsub, "node", "kill, stop, start, restart, pause or unpause a node")
    node.add_argument("lab", metavar="LAB")
    node.add_argument("node", metavar="NODE")
    node.add_argument("action", choices=tuple(ACTIONS))
    node.add_argument("--duration", type=DURATION, help="undo after (kill/stop/pause)")
    _json_flag(node)
    node.set_defaults(handler=_run(_fault_node))

    part = _parser(
        fsub,
        "partition",
        "drop traffic between groups of nodes",
        "Partition the lab: wirelab fault partition LAB h1,r1 h2 drops everything "
        "between {h1, r1} and {h2}.",
    )
    part.add_argument("lab", metavar="LAB")
    part.add_argument("groups", metavar="GROUP", nargs="+", help="comma-separated nodes")
    part.add_argument("--one-way", action="store_true", help="only from the first group")
    part.add_argument("--duration", type=DURATION, help="heal after, e.g. 5s")
    part.add_argument("--id", default="")
    _json_flag(part)
    part.set_defaults(handler=_run(_fault_partition))

    lst = _parser(fsub, "list", "faults with their counters")
    lst.add_argument("lab", metavar="LAB")
    lst.add_argument("--active", action="store_true", help="only active faults")
    _json_flag(lst)
    lst.set_defaults(handler=_run(_fault_list))

    clear = _parser(fsub, "clear", "remove a fault (or all of them)")
    clear.add_argument("lab", metavar="LAB")
    clear.add_argument("fault_id", metavar="ID", nargs="?")
    clear.add_argument("--all", action="store_true")
    _json_flag(clear)
    clear.set_defaults(handler=_run(_fault_clear))


def _fault_add(args: argparse.Namespace, client: LabClient) -> int:
    spec = fault_spec(
        direction=args.direction,
        loss=args.loss,
        ge=args.ge,
        delay=args.delay,
        jitter=args.jitter,
        distribution=args.distribution,
        duplicate=args.duplicate,
        corrupt=args.corrupt,
        reorder=args.reorder,
        rate=args.rate,
        mtu=args.mtu,
        down=args.down,
        match=args.match,
        seed=args.seed,
        duration=args.duration,
    )
    if args.link is not None:
        target = fault_target(
            **({"endpoint": args.link} if ":" in args.link else {"link": args.link})
        )
    else:
        target = fault_target(node=args.node)
    fault = client.add_fault_spec(
        args.lab, lab_pb2.LabFaultSpec(target=target, effects=spec, fault_id=args.id)
    )
    _print_json(to_json(fault)) if args.json else print(render.fault_added(fault))
    return EXIT_OK


def _fault_node(args: argparse.Namespace, client: LabClient) -> int:
    reply = client.node_action(args.lab, args.node, args.action, duration=args.duration)
    if args.json:
        _print_json(to_json(reply))
    else:
        extra = f", {reply.faults_reapplied} fault(s) re-applied" if reply.faults_reapplied else ""
        print(f"{reply.node}: {args.action} -> {reply.state}{extra}")
    return EXIT_OK


def _fault_partition(args: argparse.Namespace, client: LabClient) -> int:
    groups = [[n.strip() for n in g.split(",") if n.strip()] for g in args.groups]
    if len(groups) < 2 or any(not g for g in groups):
        print("wirelab fault partition: give at least two groups, like h1,r1 h2", file=sys.stderr)
        return EXIT_USAGE
    fault = client.partition(
        args.lab, groups, one_way=args.one_way, duration=args.duration, fault_id=args.id
    )
    _print_json(to_json(fault)) if args.json else print(render.fault_added(fault))
    return EXIT_OK


def _fault_list(args: argparse.Namespace, client: LabClient) -> int:
    faults = client.list_faults(args.lab, active_only=args.active)
    _print_json(to_json(faults)) if args.json else print(render.fault_list(faults))
    return EXIT_OK


def _fault_clear(args: argparse.Namespace, client: LabClient) -> int:
    if bool(args.fault_id) == bool(args.all):
        print("wirelab fault clear: give ID or --all", file=sys.stderr)
        return EXIT_USAGE
    cleared = client.clear_fault(args.lab, args.fault_id or "", all=args.all)
    if args.json:
        _print_json(to_json(cleared))
    else:
        print(render.fault_list(cleared) if cleared else "no faults to clear")
    return EXIT_OK


# ---- show / capture / exec / apps ------------------------------------------------------------

SHOW = ("interfaces", "routes", "arp", "tcp", "counters")


def _register_show(sub: Subparsers) -> None:
    p = _parser(sub, "show", "a node's interfaces, routes, ARP cache, TCP or counters")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE")
    p.add_argument("what", choices=SHOW)
    _json_flag(p)
    p.set_defaults(handler=_run(_show))


def _show(args: argparse.Namespace, client: LabClient) -> int:
    lab, node = args.lab, args.node
    data: Any
    if args.what == "interfaces":
        status = client.node_status(lab, node)
        data, text = to_json(list(status.interfaces)), render.interfaces(status)
    elif args.what == "routes":
        routes = client.routes(lab, node)
        data, text = to_json(routes), render.routes(routes)
    elif args.what == "arp":
        entries = client.arp_table(lab, node)
        data, text = to_json(entries), render.arp(entries)
    elif args.what == "tcp":
        conns = client.connections(lab, node)
        data, text = to_json(conns), render.connections(conns)
    else:
        counters = client.counters(lab, node)
        data, text = to_json(counters), render.counters(counters)
    _print_json(data) if args.json else print(text)
    return EXIT_OK


def _register_capture(sub: Subparsers) -> None:
    p = _parser(sub, "capture", "capture a node's frames to a pcap file (Ctrl-C stops)")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE")
    p.add_argument("iface", metavar="IF", help="interface, or * for all")
    p.add_argument("-w", "--write", metavar="FILE", required=True, help="pcap file (- = stdout)")
    p.add_argument("-c", "--count", type=int, help="stop after this many packets")
    p.add_argument("--duration", type=DURATION, help="stop after, e.g. 10s")
    p.add_argument("--snaplen", type=int)
    p.set_defaults(handler=_run(_capture))


def _capture(args: argparse.Namespace, client: LabClient) -> int:
    out = sys.stdout.buffer if args.write == "-" else open(args.write, "wb")  # noqa: SIM115
    try:
        packets = client.capture_to(
            out,
            args.lab,
            args.node,
            args.iface,
            max_packets=args.count,
            duration=args.duration,
            snaplen=args.snaplen,
        )
    except KeyboardInterrupt:
        packets = -1
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    if args.write != "-":
        what = "capture stopped" if packets < 0 else f"{packets} packets"
        print(f"{what}: {args.write}", file=sys.stderr)
    return EXIT_OK


def _register_exec(sub: Subparsers) -> None:
    p = _parser(sub, "exec", "run a command in a linux-kind node: wirelab exec LAB NODE -- CMD")
    p.add_argument("lab", metavar="LAB")
    p.add_argument("node", metavar="NODE")
    p.add_argument("argv", metavar="CMD", nargs=argparse.REMAINDER)
    p.add_argument("--timeout", type=DURATION, default=30.0)
    p.set_defaults(handler=_run(_exec))


def _exec(args: argparse.Namespace, client: LabClient) -> int:
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        print("wirelab exec: give a command after --", file=sys.stderr)
        return EXIT_USAGE
    reply = client.exec(args.lab, args.node, argv, timeout=args.timeout)
    sys.stdout.write(reply.output)
    return reply.exit_code if 0 <= reply.exit_code < 256 else EXIT_FAILED


def _register_app(sub: Subparsers) -> None:
    p = _command(sub, "app", "start, list and stop apps on nodes")
    asub = p.add_subparsers(dest="app_command", metavar="ACTION", required=True)
    start = _parser(asub, "start", "start an app (http-server, echo, sink, udp-echo)")
    start.add_argument("lab", metavar="LAB")
    start.add_argument("node", metavar="NODE")
    start.add_argument("kind", choices=("http-server", "echo", "sink", "udp-echo"))
    start.add_argument("--port", type=int, default=0, help="default: the kind's port")
    _json_flag(start)
    start.set_defaults(handler=_run(_app_start))
    lst = _parser(asub, "list", "apps of a lab (or one node)")
    lst.add_argument("lab", metavar="LAB")
    lst.add_argument("node", metavar="NODE", nargs="?", default="")
    _json_flag(lst)
    lst.set_defaults(handler=_run(_app_list))
    stop = _parser(asub, "stop", "stop an app")
    stop.add_argument("lab", metavar="LAB")
    stop.add_argument("node", metavar="NODE")
    stop.add_argument("app_id", metavar="ID", help="kind:port, e.g. sink:5001")
    _json_flag(stop)
    stop.set_defaults(handler=_run(_app_stop))


def _app_start(args: argparse.Namespace, client: LabClient) -> int:
    info = client.start_app(args.lab, args.node, args.kind, args.port)
    _print_json(to_json(info)) if args.json else print(f"{args.node}: started {info.app_id}")
    return EXIT_OK


def _app_list(args: argparse.Namespace, client: LabClient) -> int:
    nodes = client.list_apps(args.lab, args.node)
    _print_json(to_json(nodes)) if args.json else print(render.apps(nodes))
    return EXIT_OK


def _app_stop(args: argparse.Namespace, client: LabClient) -> int:
    info = client.stop_app(args.lab, args.node, args.app_id)
    _print_json(to_json(info)) if args.json else print(f"{args.node}: stopped {info.app_id}")
    return EXIT_OK


# ---- graph / serve ---------------------------------------------------------------------------


def _register_graph(sub: Subparsers) -> None:
    p = _command(sub, "graph", "draw a topology (SVG/PNG/PDF by extension)")
    p.add_argument("topology", metavar="TOPO")
    p.add_argument("-o", "--output", metavar="FILE.svg", required=True)
    p.set_defaults(handler=_graph)


def _graph(args: argparse.Namespace) -> int:
    from topology import TopologyError, load_file

    try:
        lab = load_file(args.topology)
    except TopologyError as exc:
        for d in exc.diagnostics:
            print(d.format(), file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"wirelab: {args.topology}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    render.plot_topology(lab, args.output)
    print(f"graph: {args.output}")
    return EXIT_OK


def _register_serve(sub: Subparsers) -> None:
    p = _command(
        sub,
        "serve",
        "run the LabService (gRPC) in the foreground",
        "Run the LabService. Sim labs live in this process; docker labs outlive it. Writes its "
        "address to ~/.wirelab/serve.json ($WIRELAB_HOME) for the other commands.",
    )
    p.add_argument("--address", default="", help="host:port (default 127.0.0.1:50050)")
    p.add_argument("--token", default=None, help="require this bearer token ($WIRELAB_TOKEN)")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import logging

    from orchestrator.client import SERVE_FILE, home
    from orchestrator.service import DEFAULT_ADDRESS, start_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    token = args.token or os.environ.get("WIRELAB_TOKEN") or None
    directory = home()
    try:
        server = start_server(args.address or DEFAULT_ADDRESS, token=token, home=directory)
    except (OSError, RuntimeError) as exc:
        print(f"wirelab serve: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    directory.mkdir(parents=True, exist_ok=True)
    state = directory / SERVE_FILE
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps({"address": server.address, "pid": os.getpid(), "auth": bool(token)}))
    tmp.replace(state)
    print(
        f"wirelab serve: listening on {server.address}" + (" (token required)" if token else ""),
        file=sys.stderr,
        flush=True,
    )
    done = threading.Event()

    def stop(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not done.wait(0.5):
            pass
    finally:
        server.stop(grace=1.0)
        try:
            data = json.loads(state.read_text())
            if data.get("pid") == os.getpid():
                state.unlink()
        except (OSError, ValueError):
            pass
    return EXIT_OK


COMMANDS = (
    _register_deploy,
    _register_destroy,
    _register_inspect,
    _register_ping,
    _register_traceroute,
    _register_transfer,
    _register_fault,
    _register_show,
    _register_capture,
    _register_graph,
    _register_serve,
    _register_exec,
    _register_app,
    _register_http,
)

__all__ = ["COMMANDS", "EXIT_CODES", "node_pb2"]
