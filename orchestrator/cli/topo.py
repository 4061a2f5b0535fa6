"""Commands on topology files, no server needed: validate, schema, graph."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.cli import common, render
from orchestrator.client import read_topology
from topology import Lab, TopologyError, lab_to_dict, load_text
from topology.schema import json_schema

TopologyArg = Annotated[
    str,
    typer.Argument(
        metavar="TOPOLOGY",
        help="a topology YAML file, or a bundled example's name (quickstart, diamond, lan ...)",
        show_default=False,
    ),
]


def load(ref: str) -> Lab:
    """A topology file or bundled example, planned. InvalidArgument (exit 2) when it cannot
    be read; TopologyError when it is invalid."""
    text, path = read_topology(ref)
    return load_text(text, file=path)


def print_diagnostics(exc: TopologyError) -> None:
    for diagnostic in exc.diagnostics:
        sys.stderr.write(diagnostic.format() + "\n")


@common.command
def validate(
    topology: TopologyArg,
    as_json: Annotated[
        bool,
        common.json_opt(
            "{valid: true, lab: {name, pool, defaults, nodes: [{name, kind, interfaces: [{name, "
            "address, prefixlen, network, mac, mtu, segment}], routes: [{dst, via, dev, origin}], "
            "apps, stack}], links, lans, faults}} or {valid: false, errors: [{file, line, column, "
            "path, message, allowed, suggestion}]}"
        ),
    ] = False,
) -> int:
    """Check a topology and show its address plan.

    Loads, validates and plans it; prints nodes, interfaces, addresses, networks and
    routes. Exit 0 when valid, 1 when invalid (every error on stderr as
    file:line:col: field: message), 2 when the file cannot be read.
    """
    try:
        lab = load(topology)
    except TopologyError as exc:
        print_diagnostics(exc)
        if as_json:
            errors = [d.to_dict() for d in exc.diagnostics]
            sys.stdout.write(json.dumps({"valid": False, "errors": errors}, indent=2) + "\n")
        return common.EXIT_INVALID
    if as_json:
        sys.stdout.write(json.dumps({"valid": True, "lab": lab_to_dict(lab)}, indent=2) + "\n")
    else:
        common.show(render.planned_lab(lab))
    return common.EXIT_OK


@common.command
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="write to FILE instead of stdout"),
    ] = None,
) -> int:
    """Print the JSON Schema of topology files (draft 2020-12, for editors)."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return common.EXIT_OK
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise common.fail(f"{output}: {exc.strerror or exc}", common.EXIT_USAGE) from None
    return common.EXIT_OK


@common.command
def graph(
    topology: TopologyArg,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE", help="the drawing: .svg, .png or .pdf"),
    ],
) -> int:
    """Draw a topology: nodes by kind, links with their subnets, LANs as hubs."""
    from orchestrator.cli.plots import plot_topology

    try:
        lab = load(topology)
    except TopologyError as exc:
        print_diagnostics(exc)
        return common.EXIT_INVALID
    try:
        plot_topology(lab, str(output))
    except (OSError, ValueError) as exc:
        raise common.fail(f"{output}: {exc}", common.EXIT_USAGE) from None
    common.out().print(f"graph: {output}", soft_wrap=True)
    return common.EXIT_OK
