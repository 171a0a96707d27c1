"""What a gate does beyond its target, read once: a :class:`GatePlan`, and :func:`read_plan`.

Every face reads its plan through :func:`read_plan`, from one flat mapping of field keys to
values: the command line's parsed flags (their ``dest`` is the key), a targets file's
fields (``max-interval`` read as ``max_interval``),
Pulumi's inputs (mapped back from its ``name_of``). Every rule about a value lives in its
field's declaration (:mod:`gate.waiting.options`, :mod:`gate.bake.options`,
:mod:`gate.telling.options`), and every rule across fields in its description, so every
face refuses the same values with the same words, spelled its own way
(:meth:`~gate.core.description.FieldError.worded`).

A single gate is a release of one: the release's options (a shared request budget,
fail-fast) are part of every plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal

from gate.bake.options import AFTER_SUCCESS, ROLLING_BACK, on_failure_of
from gate.core.description import TargetDescription, TargetValues
from gate.core.model import OnFailure
from gate.waiting.options import (
    RELEASE_OPTIONS,
    REPORTING_OPTIONS,
    WAITING,
    WAITING_OPTIONS,
    WaitOptions,
)

__all__ = ["FOR_EACH_TARGET", "GatePlan", "Output", "plan_keys", "read_plan"]

Output = Literal["text", "json", "github"]

FOR_EACH_TARGET = (*(each.key for each in WAITING), *(each.key for each in ROLLING_BACK))
"""What a release's plan gives each of its targets, which a target may override: how long
to wait and how often to read, and what to do when it fails. (The release's bake is its
own, once every target passed; what it tells and how it reports are the release's.)"""


def _no_values() -> TargetValues:
    return TargetValues(TargetDescription("gate", "nothing", ()), {})


@dataclass(frozen=True, kw_only=True)
class GatePlan:
    """What a gate does beyond its target: every option a face can give, checked.

    - ``waiting``: how long it waits and how often it reads (``timeout``, ``interval``,
      ``max_interval``, ``not_found_grace``), and ``request_timeout``, the longest wait for
      one API answer;
    - ``after``: what it does once the deployment ended: its bake (``bake``, its checks,
      ``bake_interval``, built by :func:`gate.bake.options.bake_of`), and ``on_failure``,
      what to do when the gate fails, with ``dry_run``: a rollback only said;
    - ``telling``: what it tells the platform (OpenTelemetry, a GitHub deployment);
    - ``output``, ``junit``, ``json_report``: how it reports its outcome;
    - ``max_rate`` and ``fail_fast``: the release's (a single gate is a release of one):
      requests a second to each API, shared by its targets, and whether the first target
      that cannot succeed cancels the others.
    """

    waiting: WaitOptions = field(default_factory=WaitOptions)
    request_timeout: float = float(WAITING_OPTIONS.field("request_timeout").default or 0)
    after: TargetValues = field(default_factory=_no_values)
    telling: TargetValues = field(default_factory=_no_values)
    output: Output = "text"
    junit: str | None = None
    json_report: str | None = None
    max_rate: float = float(RELEASE_OPTIONS.field("max_rate").default or 0)
    fail_fast: bool = False
    on_failure: OnFailure = "nothing"
    dry_run: bool = False
    given: Mapping[str, object] = field(default_factory=dict)
    """The values given (by field key), as given: what a target's own plan is read over."""

    def for_each_target(self) -> dict[str, object]:
        """What this plan gives each target of its release (see :data:`FOR_EACH_TARGET`)."""
        return {key: value for key, value in self.given.items() if key in FOR_EACH_TARGET}


def plan_keys(telling: TargetDescription) -> frozenset[str]:
    """Every key a plan reads (``telling``: see :func:`read_plan`)."""
    return frozenset(key for each in _sections(telling) for key in each.keys)


def read_plan(
    given: Mapping[str, object],
    env: Mapping[str, str] | None = None,
    *,
    telling: TargetDescription | None = None,
) -> GatePlan:
    """The plan ``given`` asks for: each value checked by its field, each section's fields
    together by its description; the first problem is raised, a
    :class:`~gate.core.description.FieldError` the face spells its own way.

    ``given``: values by field key; None, empty and keys no plan field has are left aside
    (a face may hand its whole mapping, target fields and all). ``env``: the environment
    the command line falls back to (an alarm's region), and ``GITHUB_ACTIONS``, which makes
    ``github`` the default output; None for faces that take only what is written.
    ``telling``: :data:`gate.telling.options.TELLING` (it lies above the engine, so the face
    hands it in); None when the face tells nothing.
    """
    written = {
        key: value
        for key, value in given.items()
        if key in plan_keys(telling or _NO_TELLING) and value not in (None, "", [], ())
    }

    def read(description: TargetDescription) -> TargetValues:
        mine = {key: value for key, value in written.items() if key in description.keys}
        return description.read(mine, env=env)

    waiting = read(WAITING_OPTIONS)
    after = read(AFTER_SUCCESS)
    told = read(telling) if telling is not None else _no_values()
    release = read(RELEASE_OPTIONS)
    reporting = read(REPORTING_OPTIONS)
    on_github = env is not None and env.get("GITHUB_ACTIONS") == "true"
    output = reporting.text("output") or ("github" if on_github else "text")
    return GatePlan(
        waiting=_wait_options(waiting),
        request_timeout=waiting.number_of("request_timeout"),
        after=after,
        on_failure=on_failure_of(after),
        dry_run=after.flag("dry_run"),
        telling=told,
        output="json" if output == "json" else "github" if output == "github" else "text",
        junit=reporting.text("junit"),
        json_report=reporting.text("json_report"),
        max_rate=release.number_of("max_rate"),
        fail_fast=release.flag("fail_fast"),
        given=written,
    )


_NO_TELLING = TargetDescription("gate", "tells nothing", ())


def _wait_options(waiting: TargetValues) -> WaitOptions:
    """The engine's options: each of its attributes is the waiting field of that key (given,
    else declared default; one with neither keeps the engine's own: no longest gap)."""
    given: dict[str, float] = {}
    for each in fields(WaitOptions):
        number = waiting.number(each.name) if each.name in WAITING_OPTIONS.keys else None
        if number is not None:
            given[each.name] = number
    return WaitOptions(**given)


def _sections(telling: TargetDescription) -> tuple[TargetDescription, ...]:
    return (WAITING_OPTIONS, AFTER_SUCCESS, telling, RELEASE_OPTIONS, REPORTING_OPTIONS)
