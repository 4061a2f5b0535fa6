"""Pure topology model: YAML schema, loader with line-numbered errors, validation, address
plan and static routes. No I/O beyond reading the file in :func:`load_file`.

    from topology import load_file, TopologyError
    lab = load_file("topology/examples/quickstart.yaml")
"""

from __future__ import annotations

from pathlib import Path

from topology.errors import Diagnostic, TopologyError
from topology.export import lab_to_dict
from topology.loader import load_file, load_text
from topology.model import (
    AppKind,
    AppSpec,
    FaultEntry,
    FaultTarget,
    IfRef,
    Interface,
    Lab,
    Lan,
    Link,
    Node,
    NodeKind,
    Redistribute,
    RipOptions,
    Route,
    RouteMode,
    Routing,
    Segment,
    Shaping,
    StackOptions,
    TargetKind,
)

__all__ = [
    "AppKind",
    "AppSpec",
    "Diagnostic",
    "FaultEntry",
    "FaultTarget",
    "IfRef",
    "Interface",
    "Lab",
    "Lan",
    "Link",
    "Node",
    "NodeKind",
    "Redistribute",
    "RipOptions",
    "Route",
    "RouteMode",
    "Routing",
    "Segment",
    "Shaping",
    "StackOptions",
    "TargetKind",
    "TopologyError",
    "example_path",
    "lab_to_dict",
    "load_file",
    "load_text",
]


def example_path(name: str) -> str:
    """The path of a bundled example, e.g. ``example_path("quickstart")``."""
    path = Path(__file__).parent / "examples" / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no example topology {name!r} at {path}")
    return str(path)
