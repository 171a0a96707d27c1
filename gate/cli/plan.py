"""The command line's plan: its parsed flags (each ``dest`` a field's key) read by
:func:`gate.waiting.plan.read_plan`, as every face reads its own."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from gate.core.description import TargetDescription
from gate.telling.options import TELLING
from gate.waiting.plan import GatePlan, read_plan

__all__ = ["plan_from"]


def plan_from(
    parsed: argparse.Namespace,
    env: Mapping[str, str],
    *,
    target: TargetDescription | None = None,
) -> GatePlan:
    """The plan ``parsed``'s flags ask for. ``target``: the provider's description, whose
    own fields keep their flags (Greengrass v2's ``--fail-fast`` is about its devices)."""
    own = set(target.keys) if target is not None else set()
    given = {key: value for key, value in vars(parsed).items() if key not in own}
    return read_plan(given, env, telling=TELLING)
