"""The native provider's property values, as the flat inputs of :mod:`gate.pulumi.inputs`.

The schema nests a target in one of ``humanitec``, ``greengrass`` and ``greengrassV2`` and
names everything in camelCase; the shared rules work on one flat snake_case mapping. This
module translates both ways and names each flat key back the way the schema does, so a check
failure says ``humanitec.deployId``, never ``deploy_id`` or ``--deploy-id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime import rpc

from gate.core.description import camel_case
from gate.providers.registry import available_providers
from gate.pulumi.inputs import AFTER_KEYS, NameOf
from gate.pulumi.native.schema import block_of
from gate.pulumi.secret_inputs import longest_first
from gate.waiting.options import RELEASE_OPTIONS

__all__ = [
    "BLOCKS",
    "Flat",
    "Gates",
    "from_python",
    "name_of",
    "secret_texts",
    "to_python",
]

BLOCKS = {block_of(name): name for name in available_providers()}
"""A target's block in the schema, and the provider it names (every provider installed)."""
TOP_LEVEL = (
    "timeout",
    "interval",
    "max_interval",
    "request_timeout",
    "not_found_grace",
    "triggers",
    "skip_await",
    *AFTER_KEYS,
)


def snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def to_python(value: PropertyValue) -> Any:
    """Plain Python: secrets unwrapped, a value not known yet as ``rpc.UNKNOWN``."""
    inner = value.value
    if isinstance(inner, Computed):
        return rpc.UNKNOWN
    if isinstance(inner, Mapping):
        return {key: to_python(item) for key, item in inner.items()}
    if isinstance(inner, tuple):
        return [to_python(item) for item in inner]
    return inner


def secret_texts(values: Mapping[str, PropertyValue]) -> tuple[str, ...]:
    """Every text that is secret (marked so, or inside a secret), longest first: what no
    message, log line or resource id may show."""
    found: set[str] = set()

    def walk(value: PropertyValue, secret: bool) -> None:
        secret = secret or value.is_secret
        inner = value.value
        if isinstance(inner, Mapping):
            for item in inner.values():
                walk(item, secret)
        elif isinstance(inner, tuple):
            for item in inner:
                walk(item, secret)
        elif secret and isinstance(inner, str) and inner:
            found.add(inner)

    for value in values.values():
        walk(value, False)
    return longest_first(found)


def from_python(value: Any, *, secret: bool = False) -> PropertyValue:
    """A property value of plain Python; dict keys in camelCase, every part ``secret``."""
    if isinstance(value, Mapping):
        converted: Any = {
            camel_case(str(k)): from_python(v, secret=secret) for k, v in value.items()
        }
    elif isinstance(value, (list, tuple)):
        converted = [from_python(item, secret=secret) for item in value]
    elif isinstance(value, int) and not isinstance(value, bool):
        converted = float(value)
    else:
        converted = value
    return PropertyValue(converted, is_secret=secret)


class Flat:
    """A gate's inputs (or recorded state), flat, and which block its target was in."""

    def __init__(self, properties: Mapping[str, PropertyValue]) -> None:
        self.props: dict[str, Any] = {}
        self.blocks = [block for block in BLOCKS if _given(properties.get(block))]
        for key in TOP_LEVEL:
            if camel_case(key) in properties:
                self.props[key] = to_python(properties[camel_case(key)])
        if len(self.blocks) == 1:
            block = self.blocks[0]
            self.props["provider"] = BLOCKS[block]
            target = to_python(properties[block])
            if isinstance(target, dict):
                self.props.update({snake(key): value for key, value in target.items()})
            elif target == rpc.UNKNOWN:
                self.props["provider"] = rpc.UNKNOWN
        if "status" in properties:
            self.props["status"] = to_python(properties["status"])

    @property
    def block(self) -> str:
        return self.blocks[0] if len(self.blocks) == 1 else ""


class Gates:
    """A gate of many's inputs (or recorded state), flat: its options as a single gate's, and
    ``targets``, each one flat (:class:`Flat`) with its ``name``."""

    block = ""
    """A gate of many names no block at its top level."""

    def __init__(self, properties: Mapping[str, PropertyValue]) -> None:
        self.props: dict[str, Any] = {}
        for key in (*TOP_LEVEL, *RELEASE_OPTIONS.keys, "status"):
            if camel_case(key) in properties:
                self.props[key] = to_python(properties[camel_case(key)])
        self.targets: list[Flat] = []
        given = properties.get("targets")
        if given is None or given.value is None:
            return
        if not isinstance(given.value, tuple):
            self.props["targets"] = to_python(given)
            return
        targets: list[Any] = []
        for item in given.value:
            if not isinstance(item.value, Mapping):
                targets.append(to_python(item))
                continue
            flat = Flat(item.value)
            if "name" in item.value:
                flat.props["name"] = to_python(item.value["name"])
            self.targets.append(flat)
            targets.append(flat.props)
        self.props["targets"] = targets

    def blocks_of(self, index: int) -> list[str]:
        target = self.props["targets"][index]
        return next((flat.blocks for flat in self.targets if flat.props is target), [])

    def target_name_of(self, index: int, target: Mapping[str, Any]) -> NameOf:
        """The schema's name for a flat key of the target at ``index``."""
        blocks = self.blocks_of(index)
        named = name_of(blocks[0] if len(blocks) == 1 else "")
        return lambda key: f"targets[{index}].{named(key)}"


def name_of(block: str) -> NameOf:
    """The schema's name for a flat key of a target in ``block``."""

    def named(key: str) -> str:
        if key in TOP_LEVEL or not block:
            return camel_case(key)
        return f"{block}.{camel_case(key)}"

    return named


def _given(value: PropertyValue | None) -> bool:
    return value is not None and value.value is not None
