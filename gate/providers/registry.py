"""Finding provider plugins: the built-in ones by name, others through entry points.

Built-ins are imported only when chosen, so ``gate wait humanitec`` never imports boto3.
A third-party package registers a plugin object in its own ``pyproject.toml``::

    [project.entry-points."gate.providers"]
    mysystem = "gate_mysystem:plugin"
"""

from __future__ import annotations

import importlib

from gate.core.errors import UsageError
from gate.providers import ProviderPlugin

__all__ = ["BUILT_IN", "ENTRY_POINT_GROUP", "available_providers", "load_plugin"]

ENTRY_POINT_GROUP = "gate.providers"

_BUILTIN = {
    "greengrass": "gate.providers.greengrass.v1.plugin",
    "greengrass-v2": "gate.providers.greengrass.v2.plugin",
    "humanitec": "gate.providers.humanitec.v1.plugin",
    "humanitec-v2": "gate.providers.humanitec.v2.plugin",
}
BUILT_IN = tuple(_BUILTIN)
"""The providers that ship with the gate, by name: every list of them, in code, the action and
the README, is this one (tests hold the written ones to it)."""


def available_providers() -> list[str]:
    """Every provider name ``gate wait`` accepts, built-in and installed."""
    from importlib.metadata import entry_points  # here: a built-in needs no metadata

    installed = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(installed | _BUILTIN.keys())


def load_plugin(name: str) -> ProviderPlugin:
    """The plugin registered as ``name``; built-ins win over entry points of the same name."""
    if name in _BUILTIN:
        loaded: object = importlib.import_module(_BUILTIN[name]).plugin
    else:
        from importlib.metadata import entry_points

        matches = entry_points(group=ENTRY_POINT_GROUP, name=name)
        if not matches:
            known = ", ".join(available_providers())
            raise UsageError(f"unknown provider {name!r} (known: {known})")
        loaded = next(iter(matches)).load()
    if not isinstance(loaded, ProviderPlugin):
        raise UsageError(f"provider {name!r} does not implement gate.providers.ProviderPlugin")
    return loaded
