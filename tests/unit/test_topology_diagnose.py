"""Pydantic errors -> diagnostics: locations walked down the YAML marks, the model at a
location, and the valid parts of an invalid file."""

from __future__ import annotations

from typing import Any

import pytest

from topology.declared import EndpointFile, LabFile, LinkFile, NodeFile
from topology.diagnose import model_at, read_lab
from topology.errors import Report, Where
from topology.faultfile import FaultFile, GEFile, MatchFile
from topology.yamlmarks import load_marked


def read(text: str) -> tuple[LabFile | None, Report]:
    data, pos, _ = load_marked(text)
    report = Report("t.yaml")
    return read_lab(data, Where("", pos), report), report


@pytest.mark.parametrize(
    ("loc", "model"),
    [
        ((), LabFile),
        (("nodes", "h1"), NodeFile),
        (("links", 0), LinkFile),
        (("links", 3, "endpoints", 1), EndpointFile),
        (("lans", "office", "members", 0), EndpointFile),
        (("faults", 2), FaultFile),
        (("faults", 0, "ge"), GEFile),
        (("faults", 0, "match"), MatchFile),
        (("nodes", "h1", "apps", "<list>", 0), None),  # AppItem's keys are "key"s
        (("nodes", "h1", "routes", "<list>", 0, "dst"), None),
        (("nodes", "h1", "kind"), None),
        (("nowhere",), None),
    ],
)
def test_model_at_a_location(loc: tuple[Any, ...], model: type | None) -> None:
    found = model_at(loc)
    if model is None:
        assert found is None or found.__name__ in ("AppItem", "RouteFile")
    else:
        assert found is model


def test_locations_skip_union_tags_and_stop_at_short_forms() -> None:
    _, report = read(
        "name: t\nnodes:\n  h1: {kind: host, apps: {echo: [1, 0]}}\n"
        "links:\n  - endpoints: [h1:e/0, h1]\n"
    )
    found = [(d.line, d.column, d.path) for d in report.diagnostics]
    assert found == [(3, 37, "nodes.h1.apps.echo[1]"), (5, 17, "links[0].endpoints[0]")]


def test_a_key_error_points_at_the_key() -> None:
    _, report = read("name: t\nnodes:\n  h1: {kind: host}\n  9x: {kind: host}\n")
    (d,) = report.diagnostics
    assert (d.line, d.column, d.path) == (4, 3, "nodes.9x")


def test_a_valid_file_is_located() -> None:
    lab, report = read(
        "name: t\nnodes:\n  h1: {kind: host}\n  r1: {kind: router}\n"
        "links:\n  - endpoints: [h1, {node: r1, address: 10.0.0.2/24}]\n"
    )
    assert lab is not None and not report.diagnostics
    member = lab.links[0].endpoints[1]
    assert member.where().path == "links[0].endpoints[1]"
    assert (member.where("address").pos.line, member.where("address").pos.column) == (6, 41)
    assert lab.links[0].endpoints[0].where("iface") == lab.links[0].endpoints[0].where()


def test_an_invalid_file_keeps_its_valid_parts_at_their_places() -> None:
    lab, report = read(
        "name: t\nnodes:\n  h1: {kind: hots}\n  r1: {kind: router}\n"
        "links:\n  - {endpoints: [h1, r1], mtu: 1}\n  - {name: x, endpoints: [r1, h1]}\n"
    )
    assert [d.path for d in report.diagnostics] == ["nodes.h1.kind", "links[0].mtu"]
    assert lab is not None
    assert list(lab.nodes) == ["r1"] and lab.written_nodes == {"h1", "r1"}
    (link,) = lab.links
    assert link.name == "x" and link.where().path == "links[1]"
    assert lab.written_networks == {"x"}


def test_no_lab_when_the_top_is_not_a_mapping() -> None:
    lab, report = read("- a\n")
    assert lab is None
    assert report.diagnostics[0].message == "expected a mapping, got a list"
