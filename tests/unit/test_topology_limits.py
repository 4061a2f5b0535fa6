"""Input limits (issue 11): size, control characters, nesting, aliases and their expansion,
each refused with its position and the limit named, fast, by both YAML loaders."""

from __future__ import annotations

import time
from typing import Any

import pytest

from topology.limits import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_VALUES, check_text
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
