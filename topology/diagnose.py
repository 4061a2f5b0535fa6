"""Read the declared lab from the position-marked YAML tree, every problem at its place.

:func:`read_lab` validates the tree with pydantic (:class:`~topology.declared.LabFile`).
Each pydantic error becomes a :class:`~topology.errors.Diagnostic`:

* its location (``('links', 0, 'endpoints', 1)``) is walked down the YAML tree to the
  deepest value the file really has: that value's line and column, and the path written
  ``links[0].endpoints[1]``. Union branch tags (``<list>``) are skipped; a location below
  a short form (``iface`` of ``"h1:e/0"``) stops at the short form; a dict key's error
  (``[key]``) points at the key;
* an unknown key points at the key and lists the keys allowed there with a did-you-mean,
  a missing key points at the key of its mapping, a wrong type says what was expected and
  what was found, and a parser's message (:mod:`topology.values`) is kept with its allowed
  values and suggestion.

When the file has errors, every node, link, LAN and fault that is valid on its own is still
read (at its own position), so that the cross-reference checks of :mod:`topology.validate`
report their problems in the same pass.
"""

from __future__ import annotations

from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from topology.declared import TAGS, LabFile
from topology.errors import Diagnostic, Report, Where, child_path, did_you_mean
from topology.fields import ERROR_TYPE
from topology.filebase import FileModel, locate
from topology.limits import MAX_DIAGNOSTICS
from topology.units import echo, kind_of
from topology.yamlmarks import MarkedMap, MarkedSeq

_EXPECTED = {
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean (true or false)",
}


def read_lab(data: Any, root: Where, report: Report) -> LabFile | None:
    """The declared lab, the problems of its structure added to ``report``. With problems,
    the lab holds the parts that are valid on their own (None when not even its top is a
    mapping, or when there are more problems than are reported anyway)."""
    try:
        lab = LabFile.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        described = 10 * MAX_DIAGNOSTICS  # enough to find the first ones by position
        for error in errors[:described]:
            report.add(diagnostic(report.file, data, root, error))
        report.omitted += max(0, len(errors) - described)
        return salvage(data, root) if len(errors) <= MAX_DIAGNOSTICS else None
    locate(lab, data, root)
    lab.remember_names(data)
    return lab


# -- errors -> diagnostics ---------------------------------------------------------------------


class _Spot:
    """Where a location leads in the file: the deepest value reached."""

    __slots__ = ("key", "where")

    def __init__(self, where: Where, key: bool) -> None:
        self.where = where
        self.key = key  # the location names the key itself

    @property
    def pos(self) -> tuple[int, int]:
        pos = self.where.key_pos if self.key and self.where.key_pos else self.where.pos
        return pos.line, pos.column


def _walk(data: Any, root: Where, loc: tuple[Any, ...]) -> _Spot:
    raw, where = data, root
    parts = [p for p in loc if p not in TAGS]
    key = bool(parts) and parts[-1] == "[key]"
    for part in parts[:-1] if key else parts:
        if isinstance(raw, MarkedMap):
            found = _find_key(raw, part)
            if found is _MISSING:
                break
            where = Where(child_path(where.path, found), raw.value_pos[found], raw.key_pos[found])
            raw = raw[found]
        elif isinstance(raw, MarkedSeq) and isinstance(part, int) and 0 <= part < len(raw):
            where = Where(child_path(where.path, part), raw.item_pos[part])
            raw = raw[part]
        else:
            break
    return _Spot(where, key)


_MISSING = object()


def _find_key(raw: MarkedMap, part: Any) -> Any:
    try:
        if part in raw:
            return part
    except TypeError:  # pragma: no cover - loc parts are str or int
        return _MISSING
    return next((k for k in raw if str(k) == str(part)), _MISSING)


def diagnostic(file: str, data: Any, root: Where, error: ErrorDetails) -> Diagnostic:
    kind, loc = error["type"], tuple(error["loc"])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == ERROR_TYPE:
        spot = _walk(data, root, loc + tuple(ctx["at"]))
        spot.key = spot.key or bool(ctx["at_key"])
        return Diagnostic(
            file, *spot.pos, spot.where.path, ctx["message"], ctx["allowed"], ctx["suggestion"]
        )
    if kind == "missing":
        spot = _walk(data, root, loc[:-1])
        spot.key = True
        return Diagnostic(file, *spot.pos, spot.where.path, f"missing required key {loc[-1]!r}")
    spot = _walk(data, root, loc)
    if kind == "extra_forbidden":
        spot.key = True
        model = model_at(loc[:-1])
        allowed = tuple(model.model_fields) if model else ()
        noun = model.KEY_NOUN if model else "key"
        key = loc[-1]
        suggestion = did_you_mean(key, allowed) if isinstance(key, str) else None
        return Diagnostic(
            file, *spot.pos, spot.where.path, f"unknown {noun} {echo(key)}", allowed, suggestion
        )
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {kind_of(error.get('input'))}"
    else:  # pragma: no cover - every notation raises the errors above
        message = error["msg"]
    return Diagnostic(file, *spot.pos, spot.where.path, message)


def model_at(loc: tuple[Any, ...]) -> type[FileModel] | None:
    """The model class a location leads to from :class:`LabFile`, or None."""
    tp: Any = LabFile
    for part in loc:
        if part in TAGS:
            tp = _strip(tp, part)
            continue
        tp = _strip(tp, None)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) in (list, tuple):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    tp = _strip(tp, None)
    return tp if isinstance(tp, type) and issubclass(tp, FileModel) else None


def _strip(tp: Any, tag: str | None) -> Any:
    """``tp`` without Annotated and Optional; a tagged union's branch ``tag``."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, UnionType):
            arms = [a for a in get_args(tp) if a is not NoneType]
            tagged = [a for a in arms if tag is not None and _tag(a) == tag]
            tp = tagged[0] if tagged else arms[0]
        else:
            return tp


def _tag(tp: Any) -> str | None:
    if get_origin(tp) is not Annotated:
        return None
    return next((m.tag for m in tp.__metadata__ if isinstance(m, Tag)), None)


# -- the valid parts of an invalid file --------------------------------------------------------


@cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


@cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    info = LabFile.model_fields[name]
    tp: Any = info.annotation
    if info.metadata:
        tp = Annotated.__class_getitem__((tp, *info.metadata))  # type: ignore[attr-defined]
    return TypeAdapter(tp)


def _valid(tp: Any, raw: Any) -> tuple[bool, Any]:
    try:
        return True, _adapter(tp).validate_python(raw)
    except ValidationError:
        return False, None


def salvage(data: Any, root: Where) -> LabFile | None:
    """A :class:`LabFile` of the parts of ``data`` that are valid on their own, each located
    at its place in the file (the file's other problems are reported by pydantic)."""
    if not isinstance(data, MarkedMap):
        return None
    found: dict[str, Any] = {"name": "lab", "nodes": {}}
    keys: dict[str, Where] = {}
    for name, info in LabFile.model_fields.items():
        if name not in data:
            continue
        raw = data[name]
        where = Where(child_path(root.path, name), data.value_pos[name], data.key_pos[name])
        keys[name] = where
        tp = _strip(info.annotation, None)
        if get_origin(tp) is dict and isinstance(raw, MarkedMap):
            key_type, item_type = get_args(tp)
            items = {}
            for key, value in raw.items():
                ok_key, parsed_key = _valid(key_type, key)
                ok, item = _valid(item_type, value)
                if ok_key and ok:
                    sub = Where(child_path(where.path, key), raw.value_pos[key], raw.key_pos[key])
                    locate(item, value, sub)
                    items[parsed_key] = item
            found[name] = items
        elif get_origin(tp) is list and isinstance(raw, MarkedSeq):
            kept = []
            for i, value in enumerate(raw):
                ok, item = _valid(get_args(tp)[0], value)
                if ok:
                    locate(item, value, Where(child_path(where.path, i), raw.item_pos[i]))
                    kept.append(item)
            found[name] = kept
        else:
            ok, value = _valid_field(name, raw)
            if ok:
                found[name] = value
    lab = LabFile.model_construct(**found)
    lab._where, lab._keys = root, keys
    lab.remember_names(data)
    return lab


def _valid_field(name: str, raw: Any) -> tuple[bool, Any]:
    try:
        return True, _field_adapter(name).validate_python(raw)
    except ValidationError:
        return False, None
