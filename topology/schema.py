"""A JSON Schema (draft 2020-12) for topology files, for editors (e.g. the YAML language
server: ``# yaml-language-server: $schema=wirelab-topology.json``).

Stack options, kinds, apps and fault vocabularies come from :mod:`topology.model` and the
parsers' key lists, so the schema follows the model. The schema checks shape; the loader
remains the authority on meaning (references, addresses, subnet sizes).
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

from topology import faultparse, parse
from topology.model import MAX_MTU, MIN_MTU, StackOptions

SCHEMA_ID = "https://wirelab.invalid/schema/topology-v1.json"

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
PLEN = r"/([0-9]|[12][0-9]|3[0-2])"
NAME = r"[A-Za-z][A-Za-z0-9_-]{0,31}"
IFACE = r"[A-Za-z][A-Za-z0-9_.-]{0,14}"
NUMBER = r"\s*[0-9]*\.?[0-9]+\s*"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _pattern(regex: str, description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "pattern": f"^{regex}$"}
    if description:
        out["description"] = description
    return out


def _object(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = list(required)
    return out


def _map_of(value: dict[str, Any], key_pattern: str = NAME) -> dict[str, Any]:
    return {
        "type": "object",
        "propertyNames": {"pattern": f"^{key_pattern}$"},
        "additionalProperties": value,
    }


def stack_option_schemas() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fld in fields(StackOptions):
        meta = fld.metadata
        doc = f"{meta['doc']} (default {fld.default if fld.default is not MISSING else '-'})"
        schema: dict[str, Any]
        if fld.type == "bool":
            schema = {"type": "boolean"}
        elif fld.type == "int":
            schema = {"type": "integer", "minimum": meta["min"]}
            if "max" in meta:
                schema["maximum"] = meta["max"]
        elif fld.type == "float":
            schema = {"anyOf": [{"type": "number", "minimum": meta["min"]}, _ref("duration")]}
        else:
            schema = {"enum": list(meta["choices"])}
        out[fld.name] = {"description": doc, **schema}
    return out


def _defs() -> dict[str, Any]:
    stack = stack_option_schemas()
    mtu = {"type": "integer", "minimum": MIN_MTU, "maximum": MAX_MTU}
    apps = "|".join(parse.APP_KINDS)
    port = {"type": "integer", "minimum": 1, "maximum": 65535}
    prob = {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, _pattern(rf"{NUMBER}%")]}
    effects: dict[str, Any] = {key: _ref("probability") for key in faultparse.PROBABILITY_EFFECTS}
    effects |= {
        "delay": _ref("duration"),
        "jitter": _ref("duration"),
        "distribution": {"enum": ["uniform", "normal"]},
        "rate": {
            "anyOf": [
                {"type": "integer", "minimum": 1},
                _pattern(rf"{NUMBER}([kKmMgG]?[bB][iI][tT])?\s*"),
            ]
        },
        "mtu": mtu,
        "blackhole_mtu": mtu,
        "down": {"type": "boolean"},
        "ge": _object({k: _ref("probability") for k in faultparse.GE_KEYS}, ("p", "r")),
    }
    targets = {
        "endpoint": _pattern(f"{NAME}:{IFACE}", "one side of a link: node:iface"),
        "link": _pattern(NAME, "a whole link or LAN by name"),
        "node": _pattern(NAME, "every interface of a node, or a node action"),
        "partition": {
            "type": "array",
            "minItems": 2,
            "items": {"type": "array", "minItems": 1, "items": _pattern(NAME)},
        },
    }
    fault = _object(
        {
            "at": _ref("duration"),
            **targets,
            "direction": {"enum": ["egress", "ingress", "both"]},
            "match": _object(
                {
                    "protocol": {"enum": list(faultparse.PROTOCOLS)},
                    "src": _pattern(f"{IPV4}({PLEN})?"),
                    "dst": _pattern(f"{IPV4}({PLEN})?"),
                    "sport": {"type": "integer", "minimum": 0, "maximum": 65535},
                    "dport": {"type": "integer", "minimum": 0, "maximum": 65535},
                }
            ),
            "action": {"enum": ["kill", "stop", "start", "restart", "pause", "unpause"]},
            "duration": _ref("duration"),
            "seed": {"type": "integer", "minimum": 0},
            **effects,
        }
    )
    fault["oneOf"] = [{"required": [t]} for t in targets]
    endpoint = {
        "anyOf": [
            _pattern(f"{NAME}(:{IFACE})?", "node or node:iface"),
            _object(
                {
                    "node": _pattern(NAME),
                    "iface": _pattern(IFACE),
                    "address": _pattern(f"{IPV4}({PLEN})?", "a.b.c.d or a.b.c.d/len"),
                    "mac": _pattern(r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}"),
                },
                ("node",),
            ),
        ]
    }
    route = _object(
        {
            "dst": {"anyOf": [_ref("prefix"), {"const": "default"}]},
            "via": _pattern(IPV4),
            "dev": _pattern(IFACE),
        },
        ("dst", "via"),
    )
    app_item = {
        "anyOf": [
            _pattern(f"({apps})(:[0-9]+)?", "app[:port]"),
            _object({"app": {"enum": list(parse.APP_KINDS)}, "port": port}, ("app",)),
        ]
    }
    app_map = {
        "type": "object",
        "propertyNames": {"enum": list(parse.APP_KINDS)},
        "additionalProperties": {
            "anyOf": [port, {"type": "null"}, {"type": "array", "items": port}]
        },
    }
    node = _object(
        {
            "kind": {"enum": list(parse.KINDS)},
            "forward": {
                "type": "boolean",
                "description": "linux nodes only: the kernel forwards (net.ipv4.ip_forward=1), "
                "a Linux-kernel router the route planner treats like a router (default false)",
            },
            "apps": {"anyOf": [{"type": "array", "items": app_item}, app_map]},
            "routes": {"anyOf": [{"enum": ["auto", "none"]}, {"type": "array", "items": route}]},
            **stack,
        },
        ("kind",),
    )
    node["if"] = {"required": ["forward"]}
    node["then"] = {"properties": {"kind": {"const": "linux"}}}
    segment_common = {"subnet": _ref("prefix"), "mtu": mtu}
    return {
        "name": _pattern(NAME),
        "prefix": _pattern(f"{IPV4}{PLEN}", "a.b.c.d/len, host bits zero"),
        "duration": {
            "anyOf": [{"type": "number", "minimum": 0}, _pattern(rf"{NUMBER}(us|ms|s|m)?")],
            "description": "seconds, or a string with a unit: '50ms', '2s', '200us', '1m'",
        },
        "probability": prob,
        "defaults": _object({"mtu": mtu, **stack}),
        "node": node,
        "endpoint": endpoint,
        "link": _object(
            {
                "endpoints": {
                    "type": "array",
                    "items": _ref("endpoint"),
                    "minItems": 2,
                    "maxItems": 2,
                },
                "name": _pattern(NAME),
                **segment_common,
            },
            ("endpoints",),
        ),
        "lan": _object(
            {
                "members": {"type": "array", "items": _ref("endpoint"), "minItems": 1},
                **segment_common,
            },
            ("members",),
        ),
        "fault": fault,
    }


def json_schema() -> dict[str, Any]:
    """The topology file schema as a JSON-able dict."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "wirelab topology",
        "description": "A wirelab lab: nodes, links, LANs, routes and a fault timeline.",
        **_object(
            {
                "name": _ref("name"),
                "defaults": _ref("defaults"),
                "pool": _ref("prefix"),
                "routes": {"enum": list(parse.LAB_ROUTE_MODES)},
                "nodes": {**_map_of(_ref("node")), "minProperties": 1},
                "links": {"type": "array", "items": _ref("link")},
                "lans": _map_of(_ref("lan")),
                "faults": {"type": "array", "items": _ref("fault")},
            },
            ("name", "nodes"),
        ),
        "$defs": _defs(),
    }
