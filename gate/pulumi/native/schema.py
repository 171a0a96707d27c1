"""The native provider's schema, made from the providers' target descriptions.

Each provider's target is one object type (``gate:index:HumanitecV2Target``) and one input
of the resource, named like the provider in camelCase (``humanitecV2``); its properties are
the description's fields, camelCased, with their docs, defaults, choices and secrecy; the
waiting options (:data:`gate.waiting.options.WAITING`) are inputs of the resource.
``gate:index:DeploymentGates`` takes a list of named targets, each with the same blocks, the
same options and the many-target ones (:data:`gate.waiting.options.RELEASE_OPTIONS`). The rest
(the package, the provider's config, the outputs) is written by hand in
``schema_frame.json``. ``schema.json`` is this module's output for the built-in providers, kept
in the repository for SDK generation; a test keeps the two equal. The provider serves the
schema of every provider installed, third-party ones included.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from gate.core.description import Field, TargetDescription, camel_case
from gate.core.durations import compact_duration

__all__ = ["block_of", "describe", "frame_description", "schema", "type_token"]

_KINDS = {"flag": "boolean", "number": "number", "percent": "number"}


def block_of(provider: str) -> str:
    """The resource's input for ``provider``'s target: ``greengrass-v2`` -> ``greengrassV2``."""
    return camel_case(provider.replace("-", "_"))


def type_token(provider: str) -> str:
    block = block_of(provider)
    return f"gate:index:{block[0].upper()}{block[1:]}Target"


def schema(
    descriptions: Sequence[TargetDescription], waiting: Sequence[Field] = ()
) -> dict[str, Any]:
    """The whole schema, with one target type and input for each of ``descriptions``, and
    an input for each of the ``waiting`` options."""
    document: dict[str, Any] = copy.deepcopy(_frame())
    resource = document["resources"]["gate:index:DeploymentGate"]
    blocks: dict[str, Any] = {}
    for description in descriptions:
        document["types"][type_token(description.provider)] = _target_type(description)
        blocks[block_of(description.provider)] = {
            "$ref": f"#/types/{type_token(description.provider)}",
            "description": f"Wait on {description.summary}.",
        }
    names = [f"`{block}`" for block in blocks]
    first = next(iter(blocks.values()))
    first["description"] += f" Exactly one of {', '.join(names[:-1])} and {names[-1]}."
    timing = {camel_case(field.key): _property(field) for field in waiting}
    resource["inputProperties"] = {**blocks, **timing, **resource["inputProperties"]}
    resource["properties"] = {**blocks, **timing, **resource["properties"]}
    _many(document, blocks, timing)
    return document


def _many(document: dict[str, Any], blocks: dict[str, Any], options: dict[str, Any]) -> None:
    """``gate:index:DeploymentGates``: a list of named targets, each with the single gate's
    blocks; the single gate's options, and the many-target ones; each target's outcome as
    the single gate's outputs, with its name."""
    from gate.waiting.options import RELEASE_OPTIONS

    one = document["resources"]["gate:index:DeploymentGate"]
    named = document["types"]["gate:index:NamedTarget"]
    named["properties"] = {**named["properties"], **blocks}
    ended = document["types"]["gate:index:TargetOutcome"]
    ended["properties"] = {
        **ended["properties"],
        **{key: one["properties"][key] for key in one["required"]},
    }
    ended["required"] = [*ended["required"], *one["required"]]
    resource = document["resources"]["gate:index:DeploymentGates"]
    many = {camel_case(field.key): _property(field) for field in RELEASE_OPTIONS.fields}
    for side in ("inputProperties", "properties"):
        targets, *rest = resource[side].items()
        resource[side] = dict([targets, *options.items(), *many.items(), *rest])


def schema_text(descriptions: Sequence[TargetDescription]) -> str:
    """The schema of ``descriptions`` and the gate's waiting, bake and rollback options, as the
    provider serves it."""
    from gate.bake.options import AFTER_SUCCESS
    from gate.telling.options import TELLING_FIELDS
    from gate.waiting.options import WAITING

    options = (*WAITING, *AFTER_SUCCESS.fields, *TELLING_FIELDS)
    return json.dumps(schema(descriptions, options), indent=2) + "\n"


def _target_type(description: TargetDescription) -> dict[str, Any]:
    summary = description.summary[0].upper() + description.summary[1:] + "."
    if description.exactly_one_of:
        names = [f"`{camel_case(key)}`" for key in description.exactly_one_of]
        summary += f" Give exactly one of {', '.join(names[:-1])} and {names[-1]}."
    typed: dict[str, Any] = {
        "type": "object",
        "description": summary,
        "properties": {camel_case(field.key): _property(field) for field in description.fields},
    }
    required = [camel_case(field.key) for field in description.fields if field.required]
    if required:
        typed["required"] = required
    return typed


def describe(field: Field) -> str:
    """A field's doc as both Pulumi faces say it: with its choices and its default."""
    said = field.doc[0].upper() + field.doc[1:] + "."
    if field.choices:
        said += f" One of {', '.join(f'`{choice}`' for choice in field.choices)}."
    if field.default is not None and field.default is not False:
        default = field.default
        shown = f"{default:g}" if isinstance(default, float) else str(default).lower()
        if field.kind == "duration":
            shown = compact_duration(float(default))
        said += f" Default: `{shown}`."
    return said


def _property(field: Field) -> dict[str, Any]:
    said = describe(field)
    typed: dict[str, Any] = {"type": _KINDS.get(field.kind, "string"), "description": said}
    if field.kind == "list":
        typed = {"type": "array", "items": {"type": "string"}, "description": said}
    if field.secret:
        typed["secret"] = True
    return typed


def frame_description(name: str) -> str:
    """The frame's words for an input of the single gate written by hand there (``triggers``)."""
    inputs = _frame()["resources"]["gate:index:DeploymentGate"]["inputProperties"]
    said: str = inputs[name]["description"]
    return said


def _frame() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("schema_frame.json").read_text("utf-8")
    frame: dict[str, Any] = json.loads(text)
    return frame
