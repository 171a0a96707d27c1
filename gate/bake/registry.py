"""Finding bake check plugins: the built-in ones by module, others through entry points, as
providers are found (:mod:`gate.providers.registry`).

A third-party package registers a plugin object (a :class:`~gate.bake.plugin.CheckPlugin`)
in its own ``pyproject.toml``::

    [project.entry-points."gate.checks"]
    health-file = "gate_health_file:plugin"

Its fields then are flags of ``gate wait``, keys of a targets file and inputs of every face,
after the built-in checks' own.
"""

from __future__ import annotations

import functools
import importlib

from gate.bake.lengths import BAKE, BAKE_INTERVAL, JUDGING
from gate.bake.plugin import CheckPlugin
from gate.core.errors import UsageError

__all__ = ["BUILT_IN", "ENTRY_POINT_GROUP", "installed_checks"]

ENTRY_POINT_GROUP = "gate.checks"

_BUILTIN = {
    "cloudwatch": "gate.bake.plugins.cloudwatch",
    "prometheus": "gate.bake.plugins.prometheus",
    "compare": "gate.bake.plugins.compare",
    "compare_cloudwatch": "gate.bake.plugins.compare_cloudwatch",
    "alertmanager": "gate.bake.plugins.alertmanager",
    "probe": "gate.bake.plugins.probe",
}
BUILT_IN = tuple(_BUILTIN)
"""The checks that ship with the gate, in the order their fields are listed."""


@functools.cache
def installed_checks() -> tuple[CheckPlugin, ...]:
    """Every check a bake may use: the built-ins, then installed ones by name (a built-in
    wins over an entry point of its name). A plugin that cannot be loaded, or declares a
    field another check declares, is a :class:`~gate.core.errors.UsageError`."""
    from importlib.metadata import entry_points

    found = [
        _checked(name, importlib.import_module(path).plugin) for name, path in _BUILTIN.items()
    ]
    installed = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda point: point.name)
    for point in installed:
        if point.name in _BUILTIN:
            continue
        try:
            loaded = point.load()
        except Exception as broken:
            raise UsageError(f"check {point.name!r} cannot be loaded: {broken}") from broken
        found.append(_checked(point.name, loaded))
    _refuse_shared_fields(found)
    return tuple(found)


def _checked(name: str, loaded: object) -> CheckPlugin:
    if not isinstance(loaded, CheckPlugin):
        raise UsageError(f"check {name!r} does not implement gate.bake.plugin.CheckPlugin")
    if loaded.enabled_by not in {field.key for field in loaded.fields}:
        raise UsageError(f"check {name!r} is enabled by {loaded.enabled_by!r}, not its field")
    return loaded


def _refuse_shared_fields(plugins: list[CheckPlugin]) -> None:
    owner = {field.key: "the bake" for field in (BAKE, BAKE_INTERVAL, *JUDGING)}
    for plugin in plugins:
        for field in plugin.fields:
            if field.key in owner:
                raise UsageError(
                    f"check {plugin.name!r} declares {field.key!r}, which {owner[field.key]} "
                    "declares too"
                )
            owner[field.key] = f"check {plugin.name!r}"
