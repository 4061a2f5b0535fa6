"""Labs: serve, deploy, destroy, inspect, events; and the node image."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

import typer

from orchestrator.cli import common, render
from orchestrator.cli.common import ServerOpt, TokenOpt
from orchestrator.cli.progress import DeployView, ImageProgress
from orchestrator.cli.topo import TopologyArg
from orchestrator.domain.errors import InvalidArgument
from orchestrator.domain.events import EventKind
from orchestrator.domain.values import duration as parse_duration

LAB_INFO_JSON = (
    "the LabInfo {name, backend, state, topology_hash, age_s, faults, source, engine, nodes: "
    "[{name, kind, state, agent, apps, container, interfaces: [{name, address, prefix_len, mac, "
    "mtu, planned_mtu, link, up}]}], links: [{name, type, subnet, mtu, members}]} (mtu: in "
    "force now; planned_mtu: the topology's; container, engine: docker only)"
)


class BackendChoice(StrEnum):
    SIM = "sim"
    DOCKER = "docker"
    VIRTUAL = "virtual"
    SWARM = "swarm"


@common.command
def deploy(
    topology: TopologyArg,
    name: Annotated[str, typer.Option(help="the lab's name (default: the topology's)")] = "",
    backend: Annotated[
        BackendChoice | None,
        typer.Option(
            help="docker: containers on bridge networks; swarm: containers across a Docker "
            "Swarm on overlay networks (WIRELAB_SWARM_MANAGER); sim: every node in the server "
            "process, real time; virtual: every node in the server process, virtual time "
            "(deterministic, faster than real time; time passes only while an operation waits: "
            "see `wirelab wait`) (default: docker when a Docker engine answers the server, else "
            "sim)",
            show_default=False,
        ),
    ] = None,
    replace: Annotated[bool, typer.Option(help="replace a lab of the same name")] = False,
    seed: Annotated[int | None, typer.Option(help="seed of the nodes' stacks (default 1)")] = None,
    no_timeline: Annotated[
        bool, typer.Option("--no-timeline", help="skip the topology's timeline of faults")
    ] = False,
    as_json: Annotated[bool, common.json_opt(LAB_INFO_JSON)] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Deploy a topology and wait until every node is ready (progress on stderr).

    Deploying the same topology again returns the running lab. The first progress line
    says which backend the server chose, and why.
    """
    with common.client(server, token) as c, DeployView(common.err()) as view:
        lab = c.deploy(
            topology,
            name=name,
            backend=backend.value if backend else "",
            replace=replace,
            seed=seed,
            skip_timeline=no_timeline,
            progress=view,
        )
    if as_json:
        common.print_json(lab.info)
    else:
        common.show(render.lab_info(lab.info))
    return common.EXIT_OK


@common.command
def destroy(
    lab: Annotated[
        str | None,
        typer.Argument(metavar="LAB", help="the lab", autocompletion=common.complete_lab),
    ] = None,
    all_labs: Annotated[bool, typer.Option("--all", help="every lab")] = False,
    as_json: Annotated[bool, common.json_opt("the names destroyed: [name, ...]")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Destroy a lab (or every lab): containers, networks, processes."""
    if bool(lab) == all_labs:
        raise InvalidArgument("give LAB or --all", "destroy")
    with common.client(server, token) as c:
        gone = c.destroy(lab or "", all=all_labs)
    if as_json:
        common.print_json(gone)
    else:
        common.show("destroyed: " + (", ".join(gone) or "nothing"))
    return common.EXIT_OK


@common.command
def inspect(
    lab: Annotated[
        str | None,
        typer.Argument(
            metavar="LAB",
            help="the lab (default: list every lab)",
            autocompletion=common.complete_lab,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        common.json_opt(
            "without LAB, a list of LabSummary {name, backend, nodes, running, faults, age_s}; "
            "with LAB, " + LAB_INFO_JSON
        ),
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """List labs, or show one lab with its live interface values.

    One lab: nodes, interfaces with the MTU in force and the planned one, up or down,
    links and apps.
    """
    with common.client(server, token) as c:
        if lab:
            info = c.lab(lab).info
            common.print_json(info) if as_json else common.show(render.lab_info(info))
        else:
            labs = c.labs()
            common.print_json(labs) if as_json else common.show(render.lab_list(labs))
    return common.EXIT_OK


class EventChoice(StrEnum):
    LINK = "link"
    TCP = "tcp"
    NODE_FAULT = "node_fault"
    RIP_ROUTE = "rip_route"


@common.command
def wait(
    lab: common.LabArg,
    duration: Annotated[str, typer.Argument(help="lab time to let pass, e.g. 30s, 1.5s, 200ms")],
    as_json: Annotated[
        bool, common.json_opt("{lab_time_s, virtual}: the lab's time after the wait")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Let a lab's time pass.

    In a virtual lab nothing happens between operations: this moves its clock on (the
    topology's timeline faults fire, fault durations end, apps and timers run) as fast as
    the CPU allows. In a real-time lab (docker, sim) it just sleeps.
    """
    seconds = parse_duration(duration, "DURATION", low=0.0, high=7 * 86400.0)
    with common.lab(server, token, lab) as handle:
        after = handle.wait(seconds)
    if as_json:
        common.print_json({"lab_time_s": after})
    else:
        common.show(f"{lab}: lab time {after:.3f} s")
    return common.EXIT_OK


@common.command
def events(
    lab: common.LabArg,
    nodes: Annotated[
        list[str] | None,
        typer.Option("--node", metavar="NODE", help="only this node's events (repeatable)"),
    ] = None,
    kinds: Annotated[
        list[EventChoice] | None,
        typer.Option(
            "--kind",
            help="only these node events (repeatable); lab events (fault, node_state, destroyed) "
            "always come",
        ),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(metavar="N", help="stop after N events (the first, subscribed, not counted)"),
    ] = None,
    for_: Annotated[
        str | None, typer.Option("--for", metavar="DURATION", help="stop after, e.g. 30s")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="one JSON object per line, the LabEvent: {kind, unix_time_s, lab, node, link: "
            "{iface, up, mtu, change} | tcp: {local_address, local_port, remote_address, "
            "remote_port, old_state, new_state} | node_fault: {change, fault} | fault: {change, "
            "fault} | node_state: {action, state} | rip_route: {prefix, change, metric, "
            "old_metric, gateway, iface, learned_from}, dropped}",
        ),
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> int:
    """Stream a lab's events, one line each, until Ctrl-C or the lab is destroyed.

    Interfaces going up or down or changing MTU (link), TCP state changes (tcp), node
    faults added, cleared or expired (node_fault), RIP routes added, changed or withdrawn
    (rip_route), lab faults (fault) and node actions (node_state). The first event,
    subscribed, says nothing is missed from then on.
    """
    seconds = None if for_ is None else parse_duration(for_, "--for", low=0.001, high=1e9)
    if count is not None and count < 1:
        raise InvalidArgument("must be >= 1", "--count")
    wanted = [EventKind(k.value) for k in kinds or ()]
    timers: list[threading.Timer] = []

    def on_start(cancel: Callable[[], object]) -> None:
        if seconds is not None:
            timer = threading.Timer(seconds, cancel)
            timer.daemon = True
            timer.start()
            timers.append(timer)

    seen = 0
    with common.client(server, token) as c:
        try:
            for event in c.lab(lab, fetch=False).events(nodes or (), wanted, on_start=on_start):
                if as_json:
                    common.print_json_line(event)
                else:
                    common.out().print(render.event_line(event), soft_wrap=True)
                    common.out().file.flush()
                if event.kind is EventKind.DESTROYED:
                    break
                if event.kind is not EventKind.SUBSCRIBED:
                    seen += 1
                    if count is not None and seen >= count:
                        break
        finally:
            for timer in timers:
                timer.cancel()
    return common.EXIT_OK


@common.command
def serve(
    address: Annotated[
        str, typer.Option(metavar="HOST:PORT", help="where to listen (default 127.0.0.1:50050)")
    ] = "",
    token: Annotated[
        str | None,
        typer.Option(metavar="TOKEN", help="require this bearer token ($WIRELAB_TOKEN)"),
    ] = None,
) -> int:
    """Run the LabService (gRPC) in the foreground.

    Sim labs live in this process; docker labs outlive it. Writes its address to
    ~/.wirelab/serve.json ($WIRELAB_HOME) for the other commands. Ctrl-C or SIGTERM stops.
    """
    import logging

    from orchestrator.client.connect import SERVE_FILE, home
    from orchestrator.service.server import DEFAULT_ADDRESS, start_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    token = token or os.environ.get("WIRELAB_TOKEN") or None
    directory = home()
    try:
        server = start_server(address or DEFAULT_ADDRESS, token=token, home=directory)
    except (OSError, RuntimeError) as exc:
        raise common.fail(f"serve: {exc}", common.EXIT_UNAVAILABLE) from None
    directory.mkdir(parents=True, exist_ok=True)
    state = directory / SERVE_FILE
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps({"address": server.address, "pid": os.getpid(), "auth": bool(token)}))
    tmp.replace(state)
    common.note(
        f"wirelab serve: listening on {server.address}" + (" (token required)" if token else "")
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
            if json.loads(state.read_text()).get("pid") == os.getpid():
                state.unlink()
        except (OSError, ValueError):
            pass
    return common.EXIT_OK


image_app = typer.Typer(name="image", help="The node image (docker labs).", no_args_is_help=True)


@image_app.command("build")
@common.command
def image_build(
    force: Annotated[bool, typer.Option(help="rebuild the node image")] = False,
    force_base: Annotated[bool, typer.Option(help="rebuild the base image too")] = False,
    as_json: Annotated[
        bool, common.json_opt("{tag, latest, base, built, base_built, seconds}")
    ] = False,
) -> int:
    """Build the node image offline unless one with the same inputs exists.

    Installs and starts the Docker engine when missing (as root). Progress on stderr.
    """
    from dataclasses import asdict

    from orchestrator.image.build import ImageError, build
    from orchestrator.image.engine import CommandError, DockerEngineError

    try:
        result = build(force=force, force_base=force_base, progress=ImageProgress(common.err()))
    except (ImageError, CommandError, DockerEngineError) as exc:
        raise common.fail(f"image: {exc}") from None
    if as_json:
        common.print_json(asdict(result))
    else:
        common.show(f"{result.tag} ({'built' if result.built else 'cached'}, {result.seconds} s)")
    return common.EXIT_OK
