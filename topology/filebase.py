"""The base of the topology file's models: pydantic, strict, frozen, no unknown keys, and
every item knows where it was written.

Pydantic validates the position-marked YAML tree (its maps and lists are dicts and lists);
:func:`locate` then walks the validated models beside that tree and gives each model its
:class:`~topology.errors.Where` and those of its keys, so the checks after validation
(:mod:`topology.validate`, :mod:`topology.plan`) point at the right line.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr

from topology.errors import NOWHERE, Where, child_path
from topology.yamlmarks import MarkedMap, MarkedSeq


class FileModel(BaseModel):
    """A mapping of the topology file. ``KEY_NOUN`` names its keys in messages ("unknown
    node key 'knd'")."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, validate_default=False, use_enum_values=False
    )
    KEY_NOUN: ClassVar[str] = "key"

    _where: Where = PrivateAttr(default_factory=lambda: NOWHERE)
    _keys: dict[str, Where] = PrivateAttr(default_factory=dict)

    def where(self, key: str | None = None) -> Where:
        """Where this item (or the value at ``key``, a key or a path below it like
        ``apps[1]``) was written; the item's own place when the key was not written (a
        default, or a short form like ``"h1:eth0"``)."""
        if key is None:
            return self._where
        return self._keys.get(key, self._where)


def locate(model: FileModel, raw: Any, where: Where) -> None:
    """Give ``model`` (validated from ``raw``, found at ``where``) and every model inside it
    their positions; a model also keeps those of the plain values below it
    (``node.where("apps.echo")``, ``node.where("apps[1]")``)."""
    model._where = where
    if not isinstance(raw, MarkedMap):
        return
    for key in type(model).model_fields:
        if key in raw:
            sub = Where(child_path(where.path, key), raw.value_pos[key], raw.key_pos[key])
            _locate_value(model, key, getattr(model, key), raw[key], sub)


def _locate_value(owner: FileModel, rel: str, value: Any, raw: Any, where: Where) -> None:
    owner._keys[rel] = where
    if isinstance(value, FileModel):
        locate(value, raw, where)
    elif isinstance(value, list | tuple) and isinstance(raw, MarkedSeq):
        for i, (item, raw_item) in enumerate(zip(value, raw, strict=False)):
            sub = Where(child_path(where.path, i), raw.item_pos[i])
            _locate_value(owner, child_path(rel, i), item, raw_item, sub)
    elif isinstance(value, dict) and isinstance(raw, MarkedMap):
        for key, item in value.items():
            if key in raw:
                sub = Where(child_path(where.path, key), raw.value_pos[key], raw.key_pos[key])
                _locate_value(owner, child_path(rel, key), item, raw[key], sub)
