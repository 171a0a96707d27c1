"""The JSON Schema of a targets file (``gate wait-all FILE``), made from the fields its reader
checks an entry with: each provider's target description, the waiting options and the bake
and rollback options, with their types, bounds, defaults, choices and docs.

``gate/schemas/targets.schema.json`` is this module's output for the built-in providers,
committed for editors (``$schema`` in JSON, ``# yaml-language-server: $schema=...`` in
YAML); a test keeps the two equal and holds the schema to the reader. ``gate schema
targets`` prints it for every provider installed, third-party ones included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from gate.bake.options import AFTER_SUCCESS
from gate.cli.targets import MAX_TARGETS
from gate.core.description import Field, TargetDescription, file_key
from gate.core.durations import LONGEST_DURATION, compact_duration
from gate.waiting.options import WAITING

__all__ = ["targets_schema", "targets_schema_text"]

_ID = r"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,254}$"
""":func:`gate.core.ids.require_id`'s rule, as an ECMA-262 pattern."""
_NUMBER = r"[+-]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d+)?"
"""A number as Python's ``float()`` reads text (the reader's rule for a number in a text)."""
_DURATION = r"^\s*(\d+(\.\d+)?|(\d+(\.\d+)?([mM][sS]|[sS]|[mM]|[hH]))+)\s*$"
""":func:`gate.core.durations.parse_duration`'s forms, without a sign (no duration is < 0)."""
_NOT_BLANK = r"\S"

_LIMITS = (
    "What this schema cannot say, and `gate wait-all` checks before its first read: rules on "
    "fields together (such as one of `deploy-id`, `latest` and `run`, `query` needs "
    "`prometheus`, a bake check needs `bake`, `interval` within `max-interval`); the bounds "
    "of a number or duration written as text (`'0s'`); a field the environment may give "
    "(such as `org`), so required here of no target; a field spelled in capitals "
    "(`Deploy-Id`); two targets on one deployment; a file over 1 MiB."
)


def targets_schema(descriptions: Sequence[TargetDescription]) -> dict[str, Any]:
    """The schema of a targets file whose targets are of ``descriptions``' providers."""
    providers = [description.provider for description in descriptions]
    options = (*WAITING, *AFTER_SUCCESS.fields)
    waiting = {field.key for field in WAITING}
    defs: dict[str, Any] = {
        "unset": {"description": "No value: the default applies.", "enum": [None, "", []]},
        "provider": {"description": "Which system ran the deployment.", "enum": providers},
        "name": {
            "description": "The target's name in reports (else the ids that tell it apart).",
            "anyOf": [{"type": "string", "pattern": _NOT_BLANK}, {"type": "null"}],
        },
        "options": {
            "description": "The waiting, bake and rollback fields every target may have.",
            "properties": _spelled(
                "options",
                {field.key: _property(field, unset=field.key not in waiting) for field in options},
            ),
        },
    }
    shared = {
        "provider": {"$ref": "#/$defs/provider"},
        "name": {"$ref": "#/$defs/name"},
        **{
            spelling: {"$ref": f"#/$defs/options/properties/{spelling}"}
            for spelling in defs["options"]["properties"]
        },
    }
    for description in descriptions:
        own = {
            field.key: _property(field, as_text=True, unset=not _needed(field))
            for field in description.fields
        }
        twice = [key for key in (*description.keys, *(f.key for f in options)) if "_" in key]
        defs[description.provider] = {
            "description": _provider_summary(description),
            "type": "object",
            "properties": {**shared, **_spelled(description.provider, own)},
            "additionalProperties": False,
            "allOf": [{"not": {"required": [file_key(key), key]}} for key in twice],
        }
    defs["part"] = {
        "description": "A target, or the defaults, as written: its provider's fields.",
        "type": "object",
        "properties": {"provider": {"$ref": "#/$defs/provider"}},
        "allOf": [_if_provider(name, {"$ref": f"#/$defs/{name}"}) for name in providers],
    }
    defs["target"] = {
        "description": "A target of a list without defaults: its provider and what it needs.",
        "required": ["provider"],
        "allOf": [
            {"$ref": "#/$defs/part"},
            *(_if_provider(d.provider, _required(d)) for d in descriptions if _required(d)),
        ],
    }
    targets: dict[str, Any] = {"type": "array", "minItems": 1, "maxItems": MAX_TARGETS}
    document: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "gate wait-all targets file",
        "description": (
            "The deployments `gate wait-all FILE` waits on: a list of targets, or "
            "`{defaults, targets}` where each target's fields win over the defaults. A target "
            "has its `provider`'s fields, the waiting fields and the bake and rollback fields, "
            "each spelled `deploy-id` or `deploy_id`. " + _LIMITS
        ),
        "type": ["array", "object"],
        "if": {"type": "array"},
        "then": {**targets, "items": {"$ref": "#/$defs/target"}},
        "else": {
            "properties": {
                "$schema": {"type": "string", "description": "This schema, for an editor."},
                "defaults": {
                    "description": "Fields every target has unless it gives its own.",
                    "anyOf": [{"$ref": "#/$defs/part"}, {"type": "null"}],
                },
                "targets": {**targets, "items": {"$ref": "#/$defs/part"}},
            },
            "required": ["targets"],
            "additionalProperties": False,
            "allOf": [
                {  # without a provider in the defaults, each target names its own
                    "if": _defaults({"required": ["provider"]}),
                    "else": {"properties": {"targets": {"items": {"required": ["provider"]}}}},
                },
                *(_defaults_hold(name) for name in providers),
                *(need for d in descriptions for need in _needed_beside_defaults(d)),
            ],
        },
        "$defs": defs,
    }
    return document


def targets_schema_text(descriptions: Sequence[TargetDescription]) -> str:
    return json.dumps(targets_schema(descriptions), indent=2) + "\n"


def _defaults(schema: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {"defaults": {"type": "object", **schema}}, "required": ["defaults"]}


def _defaults_hold(provider: str) -> dict[str, Any]:
    """The defaults are fields of every provider a target takes from them or names itself."""
    names = {"properties": {"provider": {"const": provider}}, "required": ["provider"]}
    fields = {"$ref": f"#/$defs/{provider}"}
    provider_less = {"items": {"if": {"not": {"required": ["provider"]}}, "then": fields}}
    return {
        "allOf": [
            {"if": _defaults(names), "then": {"properties": {"targets": provider_less}}},
            {
                "if": {"properties": {"targets": {"contains": names}}, "required": ["targets"]},
                "then": {"properties": {"defaults": fields}},
            },
        ]
    }


def _if_provider(provider: str, then: dict[str, Any]) -> dict[str, Any]:
    names = {"properties": {"provider": {"const": provider}}, "required": ["provider"]}
    return {"if": names, "then": then}


def _required(description: TargetDescription) -> dict[str, Any]:
    """The fields a target of ``description`` must have when nothing else can give them."""
    needed = [field.key for field in description.fields if _needed(field)]
    if not needed:
        return {}
    return {"allOf": [{"anyOf": [{"required": [s]} for s in _spellings(key)]} for key in needed]}


def _needed_beside_defaults(description: TargetDescription) -> list[dict[str, Any]]:
    """Each field a target of ``description`` must have, unless the defaults give it."""
    provider = description.provider
    names = {"properties": {"provider": {"const": provider}}, "required": ["provider"]}
    conditions: list[dict[str, Any]] = []
    for field in description.fields:
        if not _needed(field):
            continue
        has = {"anyOf": [{"required": [s]} for s in _spellings(field.key)]}
        lacking = {"not": _defaults(has)}
        naming = {"items": {"if": names, "then": has}}
        taking = {"items": {"if": {"not": {"required": ["provider"]}}, "then": has}}
        conditions += [
            {"if": lacking, "then": {"properties": {"targets": naming}}},
            {
                "if": {"allOf": [lacking, _defaults(names)]},
                "then": {"properties": {"targets": taking}},
            },
        ]
    return conditions


def _needed(field: Field) -> bool:
    """Required, and given by nothing but the file (no environment variable)."""
    return field.required and not field.env


def _spellings(key: str) -> list[str]:
    return list(dict.fromkeys((file_key(key), key)))


def _spelled(where: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Each field by its file key (``deploy-id``), and its ``deploy_id`` spelling beside it."""
    spelled: dict[str, Any] = {}
    for key, schema in properties.items():
        spelled[file_key(key)] = schema
        if key != file_key(key):
            spelled[key] = {"$ref": f"#/$defs/{where}/properties/{file_key(key)}"}
    return spelled


def _provider_summary(description: TargetDescription) -> str:
    said = f"A {description.provider} target: {description.summary}."
    if description.exactly_one_of:
        said += " Give exactly one of " + ", ".join(
            f"`{file_key(key)}`" for key in description.exactly_one_of
        )
        said += "."
    return said


def _property(field: Field, *, as_text: bool = False, unset: bool = True) -> dict[str, Any]:
    """``field``'s value as a file may write it. ``as_text``: a number is taken as text (a
    target's own fields: ``env: 2024``); ``unset``: ``~``, ``''`` and ``[]`` mean no value."""
    value = _value(field, as_text=as_text)
    typed: dict[str, Any] = {"description": _described(field)}
    default = _default(field)
    if default is not None:
        typed["default"] = default
    if unset:
        typed["anyOf"] = [*value.get("anyOf", [value]), {"$ref": "#/$defs/unset"}]
    else:
        typed.update(value)
    return typed


def _value(field: Field, *, as_text: bool) -> dict[str, Any]:
    kind = field.kind
    if kind == "flag":
        return {"type": "boolean"}
    if kind == "choice":
        return {"enum": list(field.choices)}
    if kind in ("number", "percent"):
        suffix = r"\s*%?" if kind == "percent" else ""
        written = {"type": "string", "pattern": rf"^\s*{_NUMBER}{suffix}\s*$"}
        number = {"type": "integer" if field.whole else "number", **_bounds(field)}
        return {"anyOf": [number, written]}
    if kind == "duration":
        seconds = {"type": "number", **_bounds(field)}
        return {"anyOf": [seconds, {"type": "string", "pattern": _DURATION}]}
    if kind == "url":
        return {"type": "string", "format": "uri"}
    text: dict[str, Any] = {"type": "string"}
    if kind == "id":
        text["pattern"] = _ID
    if kind == "list":
        item = {"type": "string", "pattern": _NOT_BLANK}
        text = {"anyOf": [item, {"type": "array", "items": item}]}
    if as_text:
        number = {"type": "number", **({"minimum": 0} if kind == "id" else {})}
        return {"anyOf": [*text.get("anyOf", [text]), number]}
    return text


def _bounds(field: Field) -> dict[str, float]:
    least, most = field.least, field.most
    if field.kind == "duration":
        least = 0.0 if least is None and field.more_than is None else least
        most = LONGEST_DURATION if most is None else most
    bounds = {"exclusiveMinimum": field.more_than, "minimum": least, "maximum": most}
    return {name: _number(bound) for name, bound in bounds.items() if bound is not None}


def _number(value: float) -> float:
    return int(value) if float(value).is_integer() else value


def _default(field: Field) -> object:
    default = field.default
    if default is None or default is False:
        return None
    if field.kind == "duration" and isinstance(default, (int, float)):
        return compact_duration(float(default))
    if isinstance(default, float):
        return _number(default)
    return default


def _described(field: Field) -> str:
    # a field's doc names other fields as flags (--query): a file names them by key
    doc = re.sub(r"--([a-z][a-z-]*)", r"\1", field.doc)
    said = doc[0].upper() + doc[1:] + "."
    if field.choices:
        said += f" One of {', '.join(f'`{choice}`' for choice in field.choices)}."
    if field.env:
        said += f" Unset: {' or '.join(f'`${name}`' for name in field.env)} from the environment."
    return said
