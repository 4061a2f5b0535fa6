"""Input limits (issue 11): size, control characters, nesting, aliases and their expansion,
each refused with its position and the limit named, fast, by both YAML loaders."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from topology import Diagnostic, TopologyError, load_file, load_text
from topology.errors import MAX_LINE
from topology.limits import (
    MAX_ALIASES,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_DIAGNOSTICS,
    MAX_VALUES,
    check_text,
)
from topology.yamlmarks import MarkedLoader, PyMarkedLoader, YamlSyntaxError, load_marked

LOADERS = [pytest.param(MarkedLoader, id="default"), pytest.param(PyMarkedLoader, id="python")]


def yaml_problem(text: str, loader: Any) -> YamlSyntaxError:
    with pytest.raises(YamlSyntaxError) as info:
        load_marked(text, loader_class=loader)
    return info.value


def laughs(levels: int, width: int = 10) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_text_size_limit_names_the_limit_and_where_it_is_crossed() -> None:
    assert check_text("a" * MAX_BYTES) is None
    line = "x" * 99 + "\n"
    text = line * (MAX_BYTES // 100 + 1)
    problem = check_text(text)
    assert problem is not None
    assert "at most 1 MiB" in problem.message
    assert (problem.line, problem.column) == (MAX_BYTES // 100 + 1, MAX_BYTES % 100 + 1)


def test_text_size_counts_utf8_bytes() -> None:
    text = "é" * (MAX_BYTES // 2 + 1)  # two bytes each
    problem = check_text(text)
    assert problem is not None and "1.0 MiB" in problem.message
    assert problem.column == MAX_BYTES // 2 + 1


@pytest.mark.parametrize(
    ("char", "label"),
    [("\x00", "U+0000 (NUL)"), ("\x1b", "U+001B (ESC)"), ("\x7f", "U+007F (DEL)"),
     ("\x0b", "U+000B (vertical tab)"), ("\x9b", "U+009B"), ("\ud800", "U+D800 (a lone surrogate)"),
     ("\ufffe", "U+FFFE")],
)  # fmt: skip
def test_control_characters_are_named_at_their_position(char: str, label: str) -> None:
    problem = check_text(f"name: t\nnodes:\n  h1: {{kind: h{char}st}}\n")
    assert problem is not None
    assert (problem.line, problem.column) == (3, 15)
    assert label in problem.message and "not allowed" in problem.message


def test_text_yaml_allows_passes() -> None:
    assert check_text("a: 'tab\there, é, ✓, 😀, \u0085'\r\n") is None


@pytest.mark.parametrize("loader", LOADERS)
def test_nesting_is_limited(loader: Any) -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    load_marked(ok, loader_class=loader)
    for text in ("a: " + "[" * 100_000, "a:\n" + "".join(" " * i + "- \n" for i in range(200))):
        exc = yaml_problem(text, loader)
        assert f"nesting deeper than {MAX_DEPTH} levels" in exc.message
        assert exc.pos.line >= 1


@pytest.mark.parametrize("loader", LOADERS)
def test_a_billion_laughs_fails_fast(loader: Any) -> None:
    started = time.perf_counter()
    exc = yaml_problem(laughs(9), loader)
    assert time.perf_counter() - started < 1.0
    assert f"more than {MAX_VALUES} values once aliases are expanded" in exc.message
    assert exc.pos.line == 5  # l4 holds 111 111 values: the first level over the limit


@pytest.mark.parametrize("loader", LOADERS)
def test_modest_aliases_are_fine(loader: Any) -> None:
    data, _, _ = load_marked(laughs(3), loader_class=loader)
    assert len(data["l2"]) == 10 and data["l2"][0][0] == ["lol"] * 10


@pytest.mark.parametrize("loader", LOADERS)
def test_alias_count_is_limited(loader: Any) -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    exc = yaml_problem(text, loader)
    assert f"more than {MAX_ALIASES} aliases" in exc.message
    assert exc.pos.line == 2


@pytest.mark.parametrize("loader", LOADERS)
def test_an_alias_inside_its_own_anchor_is_refused(loader: Any) -> None:
    exc = yaml_problem("a: &x [1, *x]\n", loader)
    assert "alias *x is inside its own anchor" in exc.message
    assert (exc.pos.line, exc.pos.column) == (1, 11)
    exc = yaml_problem("a: &x {b: *x}\n", loader)
    assert "inside its own anchor" in exc.message


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1" + "0" * 5000 + "\n", "cannot read this value"),
        ("a: !!timestamp 2001-02-30\n", "cannot read this value"),
        ("a: !!python/object:os.system x\n", "could not determine a constructor"),
        ("a: *nope\n", "undefined alias"),
        ("a: [1, 2\n", "invalid YAML"),
    ],
)
def test_values_yaml_cannot_build_are_positioned_yaml_errors(
    loader: Any, text: str, message: str
) -> None:
    exc = yaml_problem(text, loader)
    assert message in exc.message
    assert exc.pos.line == 1 or message == "invalid YAML"


@pytest.mark.parametrize("loader", LOADERS)
def test_both_loaders_give_the_same_positions(loader: Any) -> None:
    data, pos, _ = load_marked("x: 1\nnodes:\n  h1: {kind: é host}\n", loader_class=loader)
    assert pos.line == 1
    assert data["nodes"].key_pos["h1"].line == 3
    assert data["nodes"]["h1"].value_pos["kind"].column == 14


# -- through the loader: always a positioned TopologyError ---------------------------------------


def load_problem(text: str, file: str = "t.yaml") -> Diagnostic:
    with pytest.raises(TopologyError) as info:
        load_text(text, file=file)
    return info.value.diagnostics[0]


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("name: t\nnodes:\n  h1: {kind: h\x00st}\n", (3, 15), "U+0000 (NUL) is not allowed"),
        ("name: t\x1b[31m\n", (1, 8), "U+001B (ESC)"),
        ("name: t\nnodes: " + "[" * 200 + "\n", (2, 7 + MAX_DEPTH), "nesting deeper than 32"),
        ("a: &a [1, *a]\n", (1, 11), "inside its own anchor"),
        (laughs(9), (5, 45), "more than 100000 values once aliases are expanded"),
        ("x: " + "y" * (MAX_BYTES - 3) + "z\n", (1, MAX_BYTES + 1), "file too large"),
    ],
)
def test_each_limit_is_a_positioned_topology_error(
    text: str, position: tuple[int, int], message: str
) -> None:
    started = time.perf_counter()
    d = load_problem(text)
    assert time.perf_counter() - started < 2.0
    assert message in d.message
    assert (d.line, d.column) == position
    assert d.file == "t.yaml"


def test_load_file_reads_no_further_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"name: t\n" + b"# " + b"x" * (3 * MAX_BYTES) + b"\n")
    with pytest.raises(TopologyError) as info:
        load_file(path)
    assert "file too large (more than 1 MiB)" in info.value.message
    assert info.value.line == 2


def test_messages_stay_short_whatever_the_input() -> None:
    long = "k" * 100_000
    texts = [
        f"name: t\nnodes:\n  h: {{kind: {long}}}\n",
        f"name: t\nnodes:\n  {long[:1000]}: {{kind: host}}\n",
        f"name: t\nnodes:\n  h: {{kind: host, {long[:1000]}: 1}}\n",
        f"name: {long}\nnodes:\n  h: {{kind: host}}\n",
        f"name: t\nnodes:\n  h: {{kind: host}}\nfaults:\n  - {{node: h, delay: '{long}'}}\n",
        f"name: t\nnodes:\n  h: {{kind: host}}\nlinks:\n  - endpoints: [h, {long[:500]}]\n",
        "name: t\nnodes:\n"
        + "".join(f"  host{i}: {{kind: host}}\n" for i in range(300))
        + "links:\n  - endpoints: [host1, nobody]\n",
        f"a: *{long[:1000]}\n",
    ]
    for text in texts:
        with pytest.raises(TopologyError) as info:
            load_text(text, file="f" * 5000)
        for d in info.value.diagnostics:
            assert len(d.format()) <= MAX_LINE, d.format()[:200]


def test_very_many_problems_are_reported_first_ones_first() -> None:
    text = "name: t\nnodes:\n" + "".join(f"  n{i}: {{kind: hots}}\n" for i in range(300))
    with pytest.raises(TopologyError) as info:
        load_text(text)
    found = info.value.diagnostics
    assert len(found) == MAX_DIAGNOSTICS + 1
    assert [d.line for d in found[:3]] == [3, 4, 5]
    assert found[-1].message == f"… and {300 - MAX_DIAGNOSTICS} more problems not shown"


def test_a_100_node_lab_loads_well_under_a_second() -> None:
    nodes = "".join(
        f"  n{i}: {{kind: {'router' if i % 2 else 'host'}, apps: [echo]}}\n" for i in range(100)
    )
    links = "".join(f"  - endpoints: [n{i}, n{i + 1}]\n" for i in range(99))
    faults = "".join(
        f"  - {{at: {i}, link: n{i}-n{i + 1}, loss: 5%, delay: 20ms}}\n" for i in range(0, 99, 10)
    )
    text = f"name: big\npool: 10.20.0.0/16\nnodes:\n{nodes}links:\n{links}faults:\n{faults}"
    best = 1e9
    for _ in range(3):
        started = time.perf_counter()
        lab = load_text(text)
        best = min(best, time.perf_counter() - started)
    assert len(lab.nodes) == 100 and len(lab.links) == 99
    assert best < 0.5
