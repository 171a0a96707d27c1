"""The options only a gate of many targets has, declared once as fields, for both Pulumi
faces: whether the first target that does not succeed ends the rest, and the shared request
budget. ``max_rate`` is the command line's own declaration (``--max-rate``)."""

from __future__ import annotations

from gate.core.description import Field, TargetDescription
from gate.waiting.options import MAX_RATE

__all__ = ["FAIL_FAST", "MANY"]

FAIL_FAST = Field(
    "fail_fast",
    "stop waiting once one target has not succeeded; the rest end as cancelled (off: wait for "
    "all, so every failure is reported together)",
    kind="flag",
    default=False,
)
"""``gate wait-all --fail-fast``'s meaning; its flag is written in ``gate.cli.common`` (to move
next to :data:`~gate.waiting.options.MAX_RATE` once the plan reads it)."""

MANY = TargetDescription("gate", "how a gate of many targets waits on them", (FAIL_FAST, MAX_RATE))
"""The many-target options read together, as both Pulumi faces read them."""
