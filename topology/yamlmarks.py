"""YAML loading that remembers where every key and value came from.

A SafeLoader subclass builds :class:`MarkedMap` (a dict) and :class:`MarkedSeq` (a list)
that keep the 1-based ``(line, column)`` of the container, of every key and of every
value, so later stages can point at the exact spot. Duplicate keys, which PyYAML
silently merges, are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode


@dataclass(frozen=True, slots=True)
class Pos:
    line: int  # 1-based
    column: int  # 1-based

    @classmethod
    def of(cls, node: Node) -> Pos:
        return cls(node.start_mark.line + 1, node.start_mark.column + 1)


class MarkedMap(dict[Any, Any]):
    """A mapping with the position of itself, of each key and of each value."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[Any, Pos] = {}
        self.value_pos: dict[Any, Pos] = {}


class MarkedSeq(list[Any]):
    """A sequence with the position of itself and of each item."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []


@dataclass(frozen=True, slots=True)
class YamlProblem:
    pos: Pos
    message: str


class MarkedLoader(yaml.SafeLoader):
    """SafeLoader whose maps and sequences carry positions (see module docstring)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[YamlProblem] = []


def _construct_map(loader: MarkedLoader, node: MappingNode) -> MarkedMap:
    loader.flatten_mapping(node)
    result = MarkedMap(Pos.of(node))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            loader.problems.append(YamlProblem(Pos.of(key_node), "a key must be a plain scalar"))
            continue
        if key in result:
            first = result.key_pos[key]
            loader.problems.append(
                YamlProblem(
                    Pos.of(key_node),
                    f"duplicate key {key!r} (first defined at line {first.line})",
                )
            )
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_pos[key] = Pos.of(key_node)
        result.value_pos[key] = Pos.of(value_node)
    return result


def _construct_seq(loader: MarkedLoader, node: SequenceNode) -> MarkedSeq:
    result = MarkedSeq(Pos.of(node))
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_pos.append(Pos.of(item))
    return result


MarkedLoader.yaml_constructors = {
    **yaml.SafeLoader.yaml_constructors,
    "tag:yaml.org,2002:map": _construct_map,
    "tag:yaml.org,2002:seq": _construct_seq,
}


class YamlSyntaxError(Exception):
    def __init__(self, pos: Pos, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def load_marked(text: str) -> tuple[Any, Pos, list[YamlProblem]]:
    """Parse one YAML document: (data, position of the document, problems such as duplicate
    keys). Raises :class:`YamlSyntaxError` for text that is not YAML."""
    loader = MarkedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, Pos(1, 1), []
        data = loader.construct_document(node)
        return data, Pos.of(node), loader.problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(mark.line + 1, mark.column + 1) if mark is not None else Pos(1, 1)
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(pos, f"invalid YAML: {what}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Pos(1, 1), f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
