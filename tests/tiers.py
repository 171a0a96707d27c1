"""Each test's tier, told from what it runs, so no test has to say it and none is forgotten.

- ``e2e``: the test starts a process of ours: the real ``gate`` command (``run_gate``), the
  GitHub Action's steps (``run_action``), the Pulumi provider host, or any other subprocess a
  test module or a helper starts (ruff, mypy, the docs build).
- ``integration``: in-process, against a real part on loopback: the emulator, moto (in-process
  or its server), Prometheus, Prism, the OTLP receiver, the GitHub API server (``tests/parts``),
  or any HTTP server a test module defines.
- ``unit``: neither: tables and pure functions, in milliseconds.

What a test runs is read from its code, its fixtures' code, and, transitively, the code of the
helpers they call that live in ``tests/`` or ``bench/`` (the package's own code is not
followed: a test that drives it through a server names the server). The widest tier found
wins. A test may still say its tier with ``@pytest.mark.unit`` (or the others): it is kept.
"""

from __future__ import annotations

import socketserver
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["TIERS", "tier_of"]

TIERS = ("unit", "integration", "e2e")
"""From the fastest to the widest; ``-m unit`` runs the fast tier."""

_PARTS = "tests.parts."
_FOLLOWED = {"tests", "bench"}
"""The repository's harness code, followed into; the package's own code is not."""
"""Modules of real parts (servers and their installers): reaching one makes a test integration."""


def tier_of(item: pytest.Item) -> str:
    """The tier ``item`` belongs to: the one it says, else the widest it reaches."""
    said = [tier for tier in TIERS if item.get_closest_marker(tier) is not None]
    if said:
        return said[-1]
    found = {"unit"}
    seen: set[int] = set()
    for root in _roots(item):
        found |= _tier_of_function(root, seen)
    return max(found, key=TIERS.index)


def _roots(item: pytest.Item) -> Iterator[Any]:
    yield getattr(item, "obj", None)
    info = getattr(item, "_fixtureinfo", None)
    for definitions in info.name2fixturedefs.values() if info else ():
        for definition in definitions:
            yield definition.func


def _tier_of_function(function: Any, seen: set[int]) -> set[str]:
    """A function's tier, through the decorators that wrap it (``@mock_aws``,
    ``@contextmanager``): a wrapper from moto makes it integration."""
    found: set[str] = set()
    while isinstance(function, types.FunctionType):
        module = function.__globals__.get("__name__", "")
        if _followed(module):
            found |= _reached(function.__code__, function.__globals__, seen)
        else:
            found |= _tier_of_module(module, module)
        function = getattr(function, "__wrapped__", None)
    return found


def _tier_of_module(module: str, caller: str) -> set[str]:
    if module == "subprocess":
        return {"integration"} if caller.startswith(_PARTS) else {"e2e"}
    if module.startswith(("moto", "gate.emulator")):
        return {"integration"}
    return set()


def _reached(code: types.CodeType, namespace: dict[str, Any], seen: set[int]) -> set[str]:
    if id(code) in seen:
        return set()
    seen.add(id(code))
    found: set[str] = set()
    for constant in code.co_consts:  # nested functions, lambdas, comprehensions
        if isinstance(constant, types.CodeType):
            found |= _reached(constant, namespace, seen)
    # modules of ours named in the code (``lag`` of ``from bench import lag``, at the top or
    # in the function): the other names may be their attributes (``lag.long_tailed_replay``)
    imported: list[dict[str, Any]] = []
    for name in code.co_names:
        for names in (namespace, sys.modules, *imported):
            module = names.get(name)
            if isinstance(module, types.ModuleType) and _followed(module.__name__):
                imported.append(vars(module))
                break
    for name in code.co_names:
        found |= _tier_of_module(name, namespace.get("__name__", ""))  # imported in a function
        for names in (namespace, *imported):
            if name in names:
                found |= _tier_of_object(names[name], namespace, seen)
                break
    return found


def _tier_of_object(value: Any, namespace: dict[str, Any], seen: set[int]) -> set[str]:
    module = value.__name__ if isinstance(value, types.ModuleType) else _module_of(value)
    found = _tier_of_module(module, namespace.get("__name__", ""))
    if isinstance(value, type) and issubclass(value, socketserver.BaseServer):
        found.add("integration")
    if not _followed(module) or isinstance(value, types.ModuleType):
        return found
    if module.startswith(_PARTS):
        found.add("integration")
    if isinstance(value, types.FunctionType):
        found |= _tier_of_function(value, seen)
    elif isinstance(value, type):
        for member in vars(value).values():
            found |= _tier_of_function(getattr(member, "__func__", member), seen)
        for base in value.__mro__[1:]:
            found |= _tier_of_object(base, namespace, seen)
    else:  # an object of ours (run_gate's fork server): what its class runs
        found |= _tier_of_object(type(value), namespace, seen)
    return found


def _followed(module: str) -> bool:
    return module.split(".")[0] in _FOLLOWED


def _module_of(value: Any) -> str:
    module = getattr(value, "__module__", None)
    if isinstance(module, str):
        return module
    return ""
