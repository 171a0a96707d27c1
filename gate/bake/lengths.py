"""How long a bake lasts and how often it reads, declared once as fields: the bake's options
(:mod:`gate.bake.options`) list them for every face, and a :class:`gate.bake.run.Bake` made
in code is checked by the same fields, in the same words."""

from __future__ import annotations

from gate.core.description import Field

__all__ = ["BAKE", "BAKE_INTERVAL", "DEFAULT_BAKE_INTERVAL"]

DEFAULT_BAKE_INTERVAL = 15.0

BAKE = Field(
    "bake",
    "after the deployment succeeded, how long its checks must stay healthy before the "
    "gate passes (inside --timeout), such as 10m",
    kind="duration",
    metavar="DURATION",
    more_than=0,
)
BAKE_INTERVAL = Field(
    "bake_interval",
    "how often every check is read during the bake",
    kind="duration",
    metavar="DURATION",
    default=DEFAULT_BAKE_INTERVAL,
    more_than=0,
)
