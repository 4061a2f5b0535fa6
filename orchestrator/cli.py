"""``wirelab``: the command line.

Each subcommand is a ``register(subparsers)`` function in :data:`COMMANDS` that adds its
parser and sets ``handler=`` to a function ``(args) -> exit code``; later commands (deploy,
destroy, inspect, ping, fault, ...) slot in the same way.

Exit codes scripts can trust: 0 success, 1 the input is invalid (or the operation failed),
2 usage or file errors, 3 not found, 4 no server answers, 5 unauthenticated
(orchestrator/cli_lab.py, which holds the lab commands).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from nodes.faults import Direction
from nodes.faults.model import EMPTY_EFFECTS
from orchestrator.cli_lab import COMMANDS as LAB_COMMANDS
from orchestrator.cli_lab import EXIT_CODES
from topology import FaultEntry, Lab, Lan, TopologyError, lab_to_dict, load_file
from topology.schema import json_schema

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

Subparsers = Any  # argparse's _SubParsersAction is private
Handler = Callable[[argparse.Namespace], int]


# -- validate --------------------------------------------------------------------------------


def _register_validate(sub: Subparsers) -> None:
    p = sub.add_parser(
        "validate",
        help="check a topology file and show its address plan",
        description="Load, validate and plan a topology; print nodes, interfaces, addresses "
        "and routes. Exit 0 when valid, 1 when invalid (every error on stderr as "
        "file:line:col: field: message), 2 when the file cannot be read.",
    )
    p.add_argument("topology", metavar="TOPO", help="topology YAML file")
    p.add_argument("--json", action="store_true", help="print the planned lab as JSON")
    p.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    try:
        lab = load_file(args.topology)
    except TopologyError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        if args.json:
            errors = [d.to_dict() for d in exc.diagnostics]
            print(json.dumps({"valid": False, "errors": errors}, indent=2))
        return EXIT_INVALID
    except (OSError, UnicodeDecodeError) as exc:
        return _file_error(args.topology, exc)
    if args.json:
        print(json.dumps({"valid": True, "lab": lab_to_dict(lab)}, indent=2))
    else:
        print(render_lab(lab))
    return EXIT_OK


# -- schema ----------------------------------------------------------------------------------


def _register_schema(sub: Subparsers) -> None:
    p = sub.add_parser(
        "schema",
        help="print the topology JSON Schema (for editors)",
        description="Write the JSON Schema (draft 2020-12) of topology files.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(handler=_schema)


def _schema(args: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        return _file_error(args.output, exc)
    return EXIT_OK


# -- rendering -------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    return "\n".join(line.rstrip() for line in lines)


def render_lab(lab: Lab) -> str:
    summary = (
        f"lab {lab.name} ({lab.source}): {len(lab.nodes)} nodes, {len(lab.links)} links, "
        f"{len(lab.lans)} LANs, pool {lab.pool}, routes {lab.route_mode.value}"
    )
    iface_rows = []
    for node in lab.nodes:
        first = True
        for i in node.interfaces:
            who = [node.name, node.kind.value] if first else ["", ""]
            iface_rows.append([*who, i.name, str(i.cidr), i.mac_str, i.segment, str(i.mtu)])
            first = False
        if first:
            iface_rows.append([node.name, node.kind.value, "-", "-", "-", "-", "-"])
    net_rows = [
        [s.name, "lan" if isinstance(s, Lan) else "link", str(s.subnet), str(s.gateway), str(s.mtu),
         " ".join(str(m) for m in s.members)]
        for s in lab.segments
    ]  # fmt: skip
    route_rows = [
        [n.name, str(r.dst), str(r.via), r.dev, r.origin.value] for n in lab.nodes for r in n.routes
    ]
    parts = [
        summary,
        table(["NODE", "KIND", "IFACE", "ADDRESS", "MAC", "NETWORK", "MTU"], iface_rows),
        table(["NETWORK", "TYPE", "SUBNET", "GATEWAY", "MTU", "MEMBERS"], net_rows),
    ]
    if route_rows:
        parts.append(table(["NODE", "DESTINATION", "VIA", "DEV", "ORIGIN"], route_rows))
    apps = [[n.name, str(a), a.kind.transport] for n in lab.nodes for a in n.apps]
    if apps:
        parts.append(table(["NODE", "APP", "TRANSPORT"], apps))
    if lab.faults:
        faults = [[f"{f.at:g}s", str(f.target), _fault_what(f)] for f in lab.faults]
        parts.append(table(["AT", "TARGET", "FAULT"], faults))
    parts.append("valid (the gateway column is Docker's bridge address, never used by nodes)")
    return "\n\n".join(parts)


def _fault_what(fault: FaultEntry) -> str:
    if fault.action is not None:
        return fault.action.value
    defaults = asdict(EMPTY_EFFECTS)
    effects = {k: v for k, v in asdict(fault.effects).items() if v != defaults[k]}
    text = " ".join(f"{k}={v}" for k, v in effects.items()) or "partition"
    if fault.direction is not Direction.BOTH:
        text += f" ({fault.direction.value})"
    if fault.duration is not None:
        text += f" for {fault.duration:g}s"
    return text


# -- main ------------------------------------------------------------------------------------

COMMANDS: tuple[Callable[[Subparsers], None], ...] = (
    _register_validate,
    _register_schema,
    *LAB_COMMANDS,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirelab",
        description="Network emulation lab on containers, running its own TCP/IP stack.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(sub)
    return parser


def _file_error(path: str, exc: BaseException) -> int:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    print(f"wirelab: {path}: {reason}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
