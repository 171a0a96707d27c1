"""The command line's plan: its parsed flags (each ``dest`` a field's key) read by
:func:`gate.waiting.plan.read_plan`, as every face reads its own."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from gate.telling.options import TELLING
from gate.waiting.plan import GatePlan, read_plan

__all__ = ["plan_from"]


def plan_from(parsed: argparse.Namespace, env: Mapping[str, str]) -> GatePlan:
    """The plan ``parsed``'s flags ask for."""
    return read_plan(vars(parsed), env, telling=TELLING)
