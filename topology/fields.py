"""Pydantic field types for the notations of :mod:`topology.values`.

A field is written ``Annotated[T, NOTATION]``: the notation (a :class:`Notation`) validates
the value with a parser of :mod:`topology.values` and gives its JSON Schema. A parser's
:class:`~topology.values.Problem` becomes a pydantic error of type ``wirelab`` carrying the
message, the allowed values and the did-you-mean, which :mod:`topology.diagnose` turns into
a positioned :class:`~topology.errors.Diagnostic`. Optional fields are written
``Annotated[T | None, NOTATION] = None``: leaving the key out means the default, while an
explicit ``null`` is refused like any other wrong type.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import deepcopy
from enum import StrEnum
from typing import Any

from pydantic import BeforeValidator, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from topology import units, values
from topology.model import MAX_MTU, MIN_MTU
from topology.values import Problem

ERROR_TYPE = "wirelab"

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
PLEN = r"/([0-9]|[12][0-9]|3[0-2])"
NAME = r"[A-Za-z][A-Za-z0-9_-]{0,31}"
IFACE = r"[A-Za-z][A-Za-z0-9_.-]{0,14}"
_NUM = r"\s*[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?\s*"


def pydantic_error(problem: Problem) -> PydanticCustomError:
    return PydanticCustomError(
        ERROR_TYPE,
        "{message}",
        {
            "message": problem.message,
            "allowed": problem.allowed,
            "suggestion": problem.suggestion,
            "at": problem.at,
            "at_key": problem.at_key,
        },
    )


def checked(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``check`` with its :class:`Problem` raised as a pydantic error (for validators)."""

    def run(value: Any) -> Any:
        try:
            return check(value)
        except Problem as problem:
            raise pydantic_error(problem) from None

    run.__name__ = getattr(check, "__name__", "check")
    return run


class Notation:
    """``Annotated`` metadata: validate with ``parse``, describe with ``schema``."""

    __slots__ = ("parse", "schema")

    def __init__(self, parse: Callable[[Any], Any], schema: dict[str, Any]) -> None:
        self.parse = checked(parse)
        self.schema = schema

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.parse)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return deepcopy(self.schema)


def shorthand(expand: Callable[[Any], Any], *input_types: Any) -> BeforeValidator:
    """A short form (``"h1:eth0"``) expanded to the long one before validation; the JSON
    Schema accepts ``input_types`` (the short forms' schemas and the long form)."""
    union: Any = input_types[0]
    for extra in input_types[1:]:
        union = union | extra
    return BeforeValidator(checked(expand), json_schema_input_type=union)


def pattern(regex: str, description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "pattern": f"^{regex}$"}
    if description:
        out["description"] = description
    return out


# -- notations ---------------------------------------------------------------------------------


def ints(lo: int, hi: int | None = None) -> Notation:
    schema: dict[str, Any] = {"type": "integer", "minimum": lo}
    if hi is not None:
        schema["maximum"] = hi
    return Notation(lambda v: values.integer(v, lo, hi), schema)


def choice(what: str, kind: type[StrEnum], allowed: Sequence[str] = ()) -> Notation:
    names = list(allowed) or [k.value for k in kind]
    return Notation(lambda v: values.enum_choice(v, what, kind, names), {"enum": names})


def strings(what: str, allowed: Sequence[str]) -> Notation:
    return Notation(lambda v: values.choice(v, what, allowed), {"enum": list(allowed)})


def name(what: str) -> Notation:
    return Notation(lambda v: values.name(v, what), pattern(NAME))


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.lower() != c.upper() else c for c in word)


_UNITS = "|".join(_any_case(u) for u in sorted(units.DURATION_UNITS, key=len, reverse=True))
DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        pattern(rf"{_NUM}({_UNITS})?", "'20ms', '1.5s', '200us', '2m'"),
    ],
}


def duration(lo: float = 0.0, *, positive: bool = False) -> Notation:
    schema = deepcopy(DURATION_SCHEMA)
    schema["anyOf"][0]["minimum"] = lo
    if positive:
        schema["anyOf"][0] = {"type": "number", "exclusiveMinimum": 0}
    return Notation(lambda v: values.duration(v, lo, positive=positive), schema)


BOOL = Notation(values.boolean, {"type": "boolean"})
STRING = Notation(values.string, {"type": "string"})
IMAGE = Notation(values.image, {"type": "string", "description": "a Docker image reference"})
COMMAND = Notation(
    values.command,
    {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
)
ENV = Notation(
    values.environment,
    {
        "type": "object",
        "additionalProperties": {
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
        },
    },
)
BIND = Notation(values.bind, pattern(r"/[^:]*:/[^:]*(:(ro|rw))?"))
PORT = ints(1, 65535)
ANY_PORT = ints(0, 65535)
MTU = ints(MIN_MTU, MAX_MTU)
SEED = ints(0, 2**64 - 1)
IFACE_NAME = Notation(values.iface_name, pattern(IFACE))
PREFIX = Notation(values.network, pattern(f"{IPV4}{PLEN}", "a.b.c.d/len, host bits zero"))
ROUTE_DST = Notation(
    lambda v: values.network(v, default=True),
    {"anyOf": [pattern(f"{IPV4}{PLEN}"), {"const": "default"}]},
)
ADDRESS = Notation(values.address, pattern(f"{IPV4}({PLEN})?", "a.b.c.d or a.b.c.d/len"))
NEXT_HOP = Notation(lambda v: values.host(v, "via"), pattern(IPV4))
MAC = Notation(values.mac, pattern(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}"))
PROBABILITY = Notation(
    values.probability,
    {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, pattern(rf"{_NUM}%?")]},
)
RATE = Notation(
    values.rate,
    {
        "anyOf": [
            {"type": "number", "exclusiveMinimum": 0},
            pattern(rf"{_NUM}(([kKmMgGtT][iI]?)?([bB][iI][tT][sS]?(/s)?|b/s))?"),
        ],
        "description": "bits/s, or tc's notation: '512kbit', '10mbit', '1gbit', '10Mbit/s'",
    },
)
