"""``wirelab fault``: add, list and clear faults; partitions; node actions."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nodes.faults.model import Direction, Distribution
from orchestrator.cli import common, render
from orchestrator.cli.common import LabArg, NodeArg, ServerOpt, TokenOpt
from orchestrator.domain import requests
from orchestrator.domain.errors import InvalidArgument
from orchestrator.domain.faults import FaultRequest
from topology.model import NodeAction

app = typer.Typer(
    name="fault",
    help="Faults on a running lab: impair interfaces, links and nodes; partition; kill, stop, "
    "restart nodes. A fault lasts until cleared or its --duration ends.",
    no_args_is_help=True,
)

LAB_FAULT_JSON = (
    "the LabFault {fault_id, lab, state (active|expired|cleared), origin (api|timeline|"
    "partition), seed, age_ms, remaining_ms, description, request: {target: {kind, node, iface, "
    "link, groups}, effects: {loss, delay_s, mtu, ...only what is set}, direction, match, seed, "
    "duration_s}, counters: {seen, matched, dropped, ...}, parts: [{node, fault_id, spec: {iface, "
    "effects, direction, match, seed, duration_s}, seed, counters, first_hit_ms}]}"
)
EFFECTS = "Effects"
WHAT = "Target and behaviour"

# request fields -> the options that set them (errors name the option)
_OPTIONS = {
    "loss": "--loss",
    "ge": "--ge",
    "delay": "--delay",
    "jitter": "--jitter",
    "distribution": "--distribution",
    "duplicate": "--duplicate",
    "corrupt": "--corrupt",
    "reorder": "--reorder",
    "rate": "--rate",
    "mtu": "--mtu",
    "blackhole_mtu": "--blackhole-mtu",
    "down": "--down",
    "direction": "--direction",
    "match": "--match",
    "seed": "--seed",
    "duration": "--duration",
    "fault_id": "--id",
    "endpoint": "--link",
    "link": "--link",
    "node": "--node",
    "target": "--link/--node",
    "partition": "GROUP",
    "one_way": "--one-way",
    "effects": "effects",
}


def _effect(help: str, metavar: str = "P") -> Any:
    return typer.Option(metavar=metavar, help=help, rich_help_panel=EFFECTS, show_default=False)


def fault_request(
    *,
    link: str | None,
    node: str | None,
    direction: Direction,
    match: str | None,
    seed: int | None,
    duration: str | None,
    fault_id: str,
    effects: dict[str, Any],
) -> FaultRequest:
    """The request `fault add` sends: the same builder as ``Lab.add_fault`` (errors name
    the command-line option)."""
    given = {k: v for k, v in effects.items() if v is not None and v is not False}
    try:
        return requests.fault(
            link=link,
            node=node,
            direction=direction,
            match=match,
            seed=seed,
            duration=duration,
            fault_id=fault_id,
            **given,
        )
    except InvalidArgument as exc:
        raise common.as_option(exc, _OPTIONS) from None


@app.command("add")
@common.command
def add(
    lab: LabArg,
    link: Annotated[
        str | None,
        typer.Option(
            metavar="NODE:IF|LINK",
            help="one interface (r1:eth1), or every member of a link or LAN by name",
            rich_help_panel=WHAT,
            show_default=False,
        ),
    ] = None,
    node: Annotated[
        str | None,
        typer.Option(
            metavar="NODE",
            help="every interface of a node",
            rich_help_panel=WHAT,
            show_default=False,
        ),
    ] = None,
    direction: Annotated[
        Direction,
        typer.Option(
            help="egress: frames the node sends; ingress: frames it receives", rich_help_panel=WHAT
        ),
    ] = Direction.BOTH,
    match: Annotated[
        str | None,
        typer.Option(
            metavar="SPEC",
            help="only these packets, e.g. tcp,dst=10.0.1.2,dport=80 (protocol, src=, dst=, "
            "sport=, dport=)",
            rich_help_panel=WHAT,
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="replay the same decisions (default: random, reported)",
            rich_help_panel=WHAT,
            show_default=False,
        ),
    ] = None,
    duration: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION",
            help="expire after, e.g. 5s (default: until cleared)",
            rich_help_panel=WHAT,
            show_default=False,
        ),
    ] = None,
    fault_id: Annotated[
        str, typer.Option("--id", help="the fault's id (default F1, F2, ...)", rich_help_panel=WHAT)
    ] = "",
    loss: Annotated[str | None, _effect("random loss, e.g. 5% or 0.05")] = None,
    ge: Annotated[
        str | None,
        _effect(
            "Gilbert-Elliott bursty loss: P,R[,LOSS_BAD[,LOSS_GOOD]] (good->bad, bad->good)",
            "P,R[,BAD[,GOOD]]",
        ),
    ] = None,
    delay: Annotated[str | None, _effect("added delay, e.g. 20ms", "DURATION")] = None,
    jitter: Annotated[str | None, _effect("delay variation, e.g. 2ms", "DURATION")] = None,
    distribution: Annotated[
        Distribution | None, _effect("of the jitter (default uniform)", "uniform|normal")
    ] = None,
    duplicate: Annotated[str | None, _effect("duplicate frames, e.g. 1%")] = None,
    corrupt: Annotated[str | None, _effect("flip a bit in frames, e.g. 0.1%")] = None,
    reorder: Annotated[
        str | None, _effect("send frames ahead of delayed ones (with --delay)")
    ] = None,
    rate: Annotated[str | None, _effect("rate limit, e.g. 10mbit", "RATE")] = None,
    mtu: Annotated[
        int | None,
        _effect(
            "lower the interface MTU for the fault's life (routers then send ICMP "
            "frag-needed and fragment, as on a real smaller link)",
            "BYTES",
        ),
    ] = None,
    blackhole_mtu: Annotated[
        int | None,
        _effect("silently drop frames above this size (a PMTUD black hole)", "BYTES"),
    ] = None,
    down: Annotated[
        bool,
        typer.Option("--down", help="the link is down: drop everything", rich_help_panel=EFFECTS),
    ] = False,
    as_json: Annotated[bool, common.json_opt(LAB_FAULT_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Impair an interface (--link NODE:IF), a link or LAN (--link NAME) or a node (--node).

    Units as in topology files: 5% or 0.05, 20ms, 10mbit. The lab fans the fault out to node
    faults and sums their counters (wirelab fault list).
    """
    ge_values = None if ge is None else [x.strip() for x in ge.split(",") if x.strip()]
    request = fault_request(
        link=link,
        node=node,
        direction=direction,
        match=match,
        seed=seed,
        duration=duration,
        fault_id=fault_id,
        effects={
            "loss": loss,
            "ge": ge_values,
            "delay": delay,
            "jitter": jitter,
            "distribution": distribution,
            "duplicate": duplicate,
            "corrupt": corrupt,
            "reorder": reorder,
            "rate": rate,
            "mtu": mtu,
            "blackhole_mtu": blackhole_mtu,
            "down": down,
        },
    )
    with common.client(server, token) as c:
        fault = c.wire.add_fault(lab, request)
    common.print_json(fault) if as_json else common.show(render.fault_added(fault))
    return common.EXIT_OK


@app.command("partition")
@common.command
def partition(
    lab: LabArg,
    groups: Annotated[
        list[str],
        typer.Argument(
            metavar="GROUP...",
            help="comma-separated nodes, at least two groups",
            show_default=False,
        ),
    ],
    one_way: Annotated[
        bool, typer.Option("--one-way", help="drop only what the first group sends")
    ] = False,
    duration: Annotated[
        str | None, typer.Option(metavar="DURATION", help="heal after, e.g. 5s")
    ] = None,
    fault_id: Annotated[str, typer.Option("--id", help="the fault's id")] = "",
    as_json: Annotated[bool, common.json_opt(LAB_FAULT_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Drop traffic between groups of nodes.

    `wirelab fault partition LAB h1,r1 h2` cuts {h1, r1} off from {h2}.
    """
    split = [[n.strip() for n in g.split(",") if n.strip()] for g in groups]
    try:
        request = requests.fault(
            partition=split, one_way=one_way, duration=duration, fault_id=fault_id
        )
    except InvalidArgument as exc:
        raise common.as_option(exc, _OPTIONS) from None
    with common.client(server, token) as c:
        fault = c.wire.add_fault(lab, request)
    common.print_json(fault) if as_json else common.show(render.fault_added(fault))
    return common.EXIT_OK


@app.command("node")
@common.command
def node_action(
    lab: LabArg,
    node: NodeArg,
    action: Annotated[NodeAction, typer.Argument(help="what to do", show_default=False)],
    duration: Annotated[
        str | None,
        typer.Option(metavar="DURATION", help="undo after (kill, stop, pause), e.g. 10s"),
    ] = None,
    as_json: Annotated[
        bool, common.json_opt("the NodeActionResult {node, state, faults_reapplied}")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Kill, stop, start, restart, pause or unpause a node.

    Faults still due are installed again when it comes back.
    """
    with common.lab(server, token, lab) as handle:
        try:
            result = handle.node_action(node, action.value, duration=duration)
        except InvalidArgument as exc:
            raise common.as_option(exc, {"duration": "--duration", "action": "ACTION"}) from None
    if as_json:
        common.print_json(result)
    else:
        extra = (
            f", {result.faults_reapplied} fault(s) re-applied" if result.faults_reapplied else ""
        )
        common.show(f"{result.node}: {action.value} -> {result.state}{extra}")
    return common.EXIT_OK


@app.command("list")
@common.command
def list_faults(
    lab: LabArg,
    active: Annotated[bool, typer.Option("--active", help="only active faults")] = False,
    as_json: Annotated[bool, common.json_opt(f"a list of {LAB_FAULT_JSON}")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Faults with their counters.

    What each one did (seen, matched, dropped, delayed ...) and when it first acted on a
    frame.
    """
    with common.lab(server, token, lab) as handle:
        faults = handle.faults(active_only=active)
    common.print_json(faults) if as_json else common.show(render.fault_list(faults))
    return common.EXIT_OK


@app.command("clear")
@common.command
def clear(
    lab: LabArg,
    fault_id: Annotated[str | None, typer.Argument(metavar="ID", help="the fault")] = None,
    all_faults: Annotated[bool, typer.Option("--all", help="every fault of the lab")] = False,
    as_json: Annotated[bool, common.json_opt(f"the faults cleared: [{LAB_FAULT_JSON}]")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Remove a fault (or all of them); an MTU fault's interface gets its MTU back."""
    if bool(fault_id) == all_faults:
        raise InvalidArgument("give ID or --all", "fault clear")
    with common.lab(server, token, lab) as handle:
        cleared = handle.clear_faults() if all_faults else handle.clear_fault(fault_id or "")
    if as_json:
        common.print_json(cleared)
    else:
        common.show(render.fault_list(cleared) if cleared else "no faults to clear")
    return common.EXIT_OK
