"""Protobuf message <-> domain record, field by field.

A domain record is a frozen dataclass whose fields carry the message's field names (a
field's ``metadata["proto"]`` renames it). Conversion follows the record's type hints:

- ``X | None``: None when the message field has presence and is not set (and never set
  back when None);
- ``tuple[X, ...]``: a repeated field; ``dict[str, X]``: a map;
- a nested record: the nested message; a ``StrEnum``: the proto enum's value name with its
  prefix cut and lower-cased (``DIRECTION_EGRESS`` -> ``egress``);
- types with a converter registered in :data:`CONVERTERS` (the fault model, which the node
  agent's own converters translate) go through it.

No generated protobuf module is imported here: messages are handled through their
descriptors.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")
Message = Any  # a generated protobuf message

# type -> (from_message, to_message(value, target message)); filled by the wire modules
CONVERTERS: dict[type, tuple[Callable[[Message], Any], Callable[[Any, Message], None]]] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str  # the record's
    proto: str  # the message's
    kind: str  # scalar | record | enum | tuple | dict | custom
    optional: bool
    inner: Any  # the record / enum / element type


@functools.cache
def _plan(cls: Any) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        optional = False
        args = typing.get_args(hint)
        if _is_union(hint) and type(None) in args:
            optional = True
            rest = [a for a in args if a is not type(None)]
            hint = rest[0] if len(rest) == 1 else hint
        origin = typing.get_origin(hint)
        if hint in CONVERTERS:
            kind, inner = "custom", hint
        elif origin is tuple:
            kind, inner = "tuple", typing.get_args(hint)[0]
        elif origin is dict:
            kind, inner = "dict", typing.get_args(hint)[1]
        elif dataclasses.is_dataclass(hint):
            kind, inner = "record", hint
        elif isinstance(hint, type) and issubclass(hint, Enum):
            kind, inner = "enum", hint
        else:
            kind, inner = "scalar", hint
        out.append(_Field(f.name, f.metadata.get("proto", f.name), kind, optional, inner))
    return tuple(out)


def _is_record(t: Any) -> bool:
    return dataclasses.is_dataclass(t)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _has_presence(msg: Message, name: str) -> bool:
    return bool(msg.DESCRIPTOR.fields_by_name[name].has_presence)


def from_message(cls: type[T], msg: Message) -> T:
    """The record ``cls`` from ``msg``."""
    if cls in CONVERTERS:
        return typing.cast(T, CONVERTERS[cls][0](msg))
    known = msg.DESCRIPTOR.fields_by_name
    values: dict[str, Any] = {}
    for f in _plan(typing.cast(Any, cls)):
        if f.proto not in known:
            continue
        descriptor = known[f.proto]
        unset = f.kind not in ("tuple", "dict") and descriptor.has_presence
        if unset and not msg.HasField(f.proto):
            if f.optional:
                values[f.name] = None
            continue  # the record's default
        raw = getattr(msg, f.proto)
        if descriptor.enum_type is not None and f.kind in ("scalar", "enum"):
            word = enum_word(descriptor.enum_type, raw)
            values[f.name] = f.inner(word) if f.kind == "enum" else word
            continue
        values[f.name] = _value_from(f, raw)
    return cls(**values)


def enum_word(enum_type: Any, number: int) -> str:
    """``DIRECTION_EGRESS`` of enum ``Direction`` -> ``egress`` (UNSPECIFIED -> "")."""
    name: str = enum_type.values_by_number[number].name
    prefix = _enum_prefix(enum_type)
    word = name[len(prefix) :] if name.startswith(prefix) else name
    return "" if word == "UNSPECIFIED" else word.lower()


def enum_number(enum_type: Any, word: str) -> int:
    """The inverse of :func:`enum_word` (ValueError for an unknown word)."""
    name = _enum_prefix(enum_type) + (word or "unspecified").upper()
    if name not in enum_type.values_by_name:
        raise ValueError(f"{word!r} is not a {enum_type.name}")
    number: int = enum_type.values_by_name[name].number
    return number


@functools.cache
def _enum_prefix(enum_type: Any) -> str:
    """``NodeKind`` -> ``NODE_KIND_``; an enum whose values do not carry its name's prefix
    (``NodeActionKind``: ``NODE_ACTION_KILL``) -> the prefix its values share."""
    name: str = enum_type.name
    snake = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(name)).upper()
    names: list[str] = [v.name for v in enum_type.values]
    if all(n.startswith(snake + "_") for n in names):
        return snake + "_"
    common: str = min(names)
    for other in names:
        while not other.startswith(common):
            common = common[:-1]
    return common[: common.rfind("_") + 1]


def _value_from(f: _Field, raw: Any) -> Any:
    if f.kind == "scalar":
        return raw
    if f.kind in ("record", "custom"):
        return from_message(f.inner, raw)
    inner: Any = f.inner
    if f.kind == "tuple":
        if _is_record(inner) or inner in CONVERTERS:
            return tuple(from_message(inner, m) for m in raw)
        return tuple(raw)
    # dict
    if _is_record(inner):
        return {k: from_message(inner, v) for k, v in raw.items()}
    if typing.get_origin(f.inner) is dict:  # map<string, Message{map values}>
        return {k: dict(v.values) for k, v in raw.items()}
    return dict(raw)


def to_message(record: Any, msg: Message) -> Message:
    """Fill ``msg`` from ``record`` (None fields stay unset); returns ``msg``."""
    cls = type(record)
    if cls in CONVERTERS:
        CONVERTERS[cls][1](record, msg)
        return msg
    known = msg.DESCRIPTOR.fields_by_name
    for f in _plan(typing.cast(Any, cls)):
        value = getattr(record, f.name)
        if value is None or f.proto not in known:
            continue
        descriptor = known[f.proto]
        if descriptor.enum_type is not None and f.kind in ("scalar", "enum"):
            word = value.value if isinstance(value, Enum) else str(value)
            setattr(msg, f.proto, enum_number(descriptor.enum_type, word))
        elif f.kind == "scalar":
            setattr(msg, f.proto, value)
        elif f.kind in ("record", "custom"):
            to_message(value, getattr(msg, f.proto))
        elif f.kind == "tuple":
            target = getattr(msg, f.proto)
            if dataclasses.is_dataclass(f.inner) or f.inner in CONVERTERS:
                for item in value:
                    to_message(item, target.add())
            else:
                target.extend(value)
        elif f.kind == "dict":
            target = getattr(msg, f.proto)
            if typing.get_origin(f.inner) is dict:
                for k, v in value.items():
                    target[k].values.update(v)
            elif dataclasses.is_dataclass(f.inner):
                for k, v in value.items():
                    to_message(v, target[k])
            else:
                target.update(value)
    return msg


# ---- messages as plain JSON data (the lab journal) ---------------------------------------


def message_json(msg: Message) -> dict[str, Any]:
    """``msg`` as JSON data a jq user reads: the fields that are set, under their proto
    names; 64-bit integers as numbers (protobuf's JSON writes them as strings); enums as
    their words (``kill``, not ``NODE_ACTION_KILL``); bytes as hex."""
    out: dict[str, Any] = {}
    for field, value in msg.ListFields():
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {str(k): _json_value(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            out[field.name] = [_json_value(field, v) for v in value]
        else:
            out[field.name] = _json_value(field, value)
    return out


def _json_value(field: Any, value: Any) -> Any:
    if field.message_type is not None:
        return message_json(value)
    if field.enum_type is not None:
        number = int(value)
        if number not in field.enum_type.values_by_number:
            return number  # a number this build does not know: kept as it is
        return enum_word(field.enum_type, number) or "unspecified"
    if field.type == field.TYPE_BYTES:
        return bytes(value).hex()
    return value


def json_message(data: dict[str, Any], msg: Message) -> Message:
    """The inverse of :func:`message_json`: fill ``msg`` from ``data`` (ValueError naming
    the field when ``data`` does not fit the message)."""
    fields = msg.DESCRIPTOR.fields_by_name
    for name, value in data.items():
        field = fields.get(name)
        if field is None:
            raise ValueError(f"{msg.DESCRIPTOR.name} has no field {name!r}")
        try:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                value_field = field.message_type.fields_by_name["value"]
                target = getattr(msg, name)
                for k, v in value.items():
                    if value_field.message_type is not None:
                        json_message(v, target[k])
                    else:
                        target[k] = _from_json(value_field, v)
            elif field.is_repeated:
                target = getattr(msg, name)
                for v in value:
                    if field.message_type is not None:
                        json_message(v, target.add())
                    else:
                        target.append(_from_json(field, v))
            elif field.message_type is not None:
                getattr(msg, name).SetInParent()
                json_message(value, getattr(msg, name))
            else:
                setattr(msg, name, _from_json(field, value))
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"{msg.DESCRIPTOR.name}.{name}: {exc}") from None
    return msg


def _from_json(field: Any, value: Any) -> Any:
    if field.enum_type is not None:
        if isinstance(value, int):
            return value
        return enum_number(field.enum_type, "" if value == "unspecified" else str(value))
    if field.type == field.TYPE_BYTES:
        return bytes.fromhex(value)
    return value
