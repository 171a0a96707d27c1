"""How a bake runs, declared once as fields: how long it lasts, how often it reads, and how
it judges what its rounds found (Argo Rollouts' analysis semantics: a failure limit, a limit
of unreadable rounds in a row, an inconclusive policy, a report-only mode). The bake's
options (:mod:`gate.bake.options`) list them for every face, and a
:class:`gate.bake.run.Bake` made in code is checked by the same fields, in the same words."""

from __future__ import annotations

from typing import Literal

from gate.core.description import Field

__all__ = [
    "BAKE",
    "BAKE_FAILURE_LIMIT",
    "BAKE_INCONCLUSIVE",
    "BAKE_INTERVAL",
    "BAKE_REPORT_ONLY",
    "BAKE_UNREADABLE_LIMIT",
    "DEFAULT_BAKE_INTERVAL",
    "INCONCLUSIVE_POLICIES",
    "JUDGING",
    "InconclusivePolicy",
]

DEFAULT_BAKE_INTERVAL = 15.0
InconclusivePolicy = Literal["pass", "fail"]
INCONCLUSIVE_POLICIES: tuple[InconclusivePolicy, ...] = ("pass", "fail")

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
BAKE_FAILURE_LIMIT = Field(
    "bake_failure_limit",
    "how many rounds that find a new breach the bake tolerates before it fails (0: the "
    "first breach fails it); a breach found in the bake's last round is never tolerated",
    kind="number",
    metavar="N",
    default=0,
    least=0,
    most=1000,
    whole=True,
)
BAKE_UNREADABLE_LIMIT = Field(
    "bake_unreadable_limit",
    "end the bake as unreadable (exit 4) once a check could not be read this many rounds "
    "in a row; unset, a check unread mid-bake is read again until the bake's end",
    kind="number",
    metavar="N",
    least=1,
    most=1000,
    whole=True,
)
BAKE_INCONCLUSIVE = Field(
    "bake_inconclusive",
    "what a check's inconclusive verdict at the end of the bake does (too few samples, no "
    "baseline): pass (said in the outcome) or fail (the bake fails, exit 1)",
    kind="choice",
    choices=INCONCLUSIVE_POLICIES,
    default="pass",
)
BAKE_REPORT_ONLY = Field(
    "bake_report_only",
    "run every check for the whole bake and report what the bake would have decided, "
    "without ever failing the gate (or rolling back) on it: how a new check is adopted",
    kind="flag",
)
JUDGING = (BAKE_FAILURE_LIMIT, BAKE_UNREADABLE_LIMIT, BAKE_INCONCLUSIVE, BAKE_REPORT_ONLY)
"""How the bake judges its rounds, after how long and how often."""
