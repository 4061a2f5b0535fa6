"""YAML loading that remembers where every key and value came from.

A safe loader builds :class:`MarkedMap` (a dict) and :class:`MarkedSeq` (a list) that keep
the 1-based ``(line, column)`` of the container, of every key and of every value, so later
stages can point at the exact spot. Duplicate keys, which PyYAML silently merges, are
reported. The composer enforces :mod:`topology.limits` (nesting depth, aliases and their
expansion) as it goes, so a hostile file fails at its first excess.

The events come from libyaml when PyYAML has it (five times faster) and from PyYAML's pure
Python parser otherwise; composing and constructing are PyYAML's own either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.resolver import Resolver

from topology.limits import MAX_ALIASES, MAX_DEPTH, MAX_VALUES


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


class LimitExceeded(yaml.MarkedYAMLError):
    """A limit of :mod:`topology.limits` broken at ``problem_mark``."""


class _Marking:
    """Composer and constructor hooks shared by the libyaml and the pure Python loaders:
    limits while composing, positions while constructing."""

    def _init_marking(self) -> None:
        self.problems: list[YamlProblem] = []
        self.depth = 0
        self.aliases = 0
        self.sizes: dict[int, int] = {}  # id(node) -> values in it once aliases are expanded
        self.values = 0  # values so far, aliases expanded

    def _count(self, event: Any, values: int) -> None:
        self.values += values
        if self.values > MAX_VALUES:
            expanded = " once aliases are expanded" if self.aliases else ""
            raise _limit(event, f"more than {MAX_VALUES} values{expanded} (the limit)")

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        loader: Any = self
        event = loader.peek_event()
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _limit(event, f"more than {MAX_ALIASES} aliases (the limit)")
            node = loader.anchors.get(event.anchor)
            if node is not None and id(node) not in self.sizes:
                raise _limit(event, f"alias *{event.anchor} is inside its own anchor: a cycle")
            if node is not None:
                self._count(event, self.sizes[id(node)])
            return Composer.compose_node(loader, parent, index)
        self._count(event, 1)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _limit(
                    event,
                    f"nesting deeper than {MAX_DEPTH} levels of lists and mappings (the limit)",
                )
            node = Composer.compose_node(loader, parent, index)
        finally:
            self.depth -= 1
        if node is None:  # pragma: no cover - the composer returns a node or raises
            return None
        self.sizes[id(node)] = 1 + self._children_size(node)
        return node

    def _children_size(self, node: Node) -> int:
        if isinstance(node, SequenceNode):
            return sum(self.sizes[id(item)] for item in node.value)
        if isinstance(node, MappingNode):
            return sum(self.sizes[id(k)] + self.sizes[id(v)] for k, v in node.value)
        return 0

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return SafeConstructor.construct_object(self, node, deep)  # type: ignore[arg-type]
        except (ValueError, OverflowError, TypeError, KeyError) as exc:  # e.g. a 5000-digit int
            problem = str(exc).split(":")[0][:120] or type(exc).__name__
            raise ConstructorError(None, None, f"cannot read this value ({problem})",
                                   node.start_mark) from None  # fmt: skip


def _limit(event: Any, message: str) -> LimitExceeded:
    return LimitExceeded(problem=message, problem_mark=event.start_mark)


class PyMarkedLoader(_Marking, yaml.SafeLoader):
    """The pure Python loader (see module docstring)."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._init_marking()


MarkedLoader: type[Any] = PyMarkedLoader
if yaml.__with_libyaml__:  # pragma: no branch - PyYAML wheels ship libyaml
    from yaml._yaml import CParser

    class CMarkedLoader(_Marking, Composer, SafeConstructor, Resolver, CParser):
        """libyaml's events, PyYAML's composer (with the limits) and constructor."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._init_marking()

    MarkedLoader = CMarkedLoader


def _construct_map(loader: Any, node: MappingNode) -> MarkedMap:
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


def _construct_seq(loader: Any, node: SequenceNode) -> MarkedSeq:
    result = MarkedSeq(Pos.of(node))
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_pos.append(Pos.of(item))
    return result


_Marking.yaml_constructors = {  # type: ignore[attr-defined]
    **yaml.SafeLoader.yaml_constructors,
    "tag:yaml.org,2002:map": _construct_map,
    "tag:yaml.org,2002:seq": _construct_seq,
}


class YamlSyntaxError(Exception):
    def __init__(self, pos: Pos, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def load_marked(
    text: str, *, loader_class: type[Any] | None = None
) -> tuple[Any, Pos, list[YamlProblem]]:
    """Parse one YAML document: (data, position of the document, problems such as duplicate
    keys). Raises :class:`YamlSyntaxError` for text that is not YAML or breaks a limit of
    :mod:`topology.limits` (check the text itself with :func:`topology.limits.check_text`
    first: the YAML reader refuses control characters without a position)."""
    loader = (loader_class or MarkedLoader)(text)
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
        if "maximum nesting depth" in what:  # libyaml's own limit (1000 levels) came first
            what = f"nesting deeper than {MAX_DEPTH} levels of lists and mappings (the limit)"
            raise YamlSyntaxError(pos, what) from None
        if isinstance(exc, LimitExceeded):
            raise YamlSyntaxError(pos, what) from None
        raise YamlSyntaxError(pos, f"invalid YAML: {what}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(Pos(1, 1), f"invalid YAML: {str(exc)[:200]}") from None
    finally:
        loader.dispose()
