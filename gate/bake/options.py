"""The bake's and the rollback's options, declared once as fields: every face is made from
them, as it is from a target's description (``--alarm``, ``alarm:`` in a targets file, the
action's ``alarms`` input, Pulumi's ``alarm``). The bake's own fields (how long, how often)
are here; each kind of check declares its own in its plugin (:mod:`gate.bake.plugin`), found
by :mod:`gate.bake.registry`. :data:`AFTER_SUCCESS` reads and checks them together;
:func:`bake_of` asks each check the values turn on to build itself."""

from __future__ import annotations

from collections.abc import Mapping

from gate.bake.check import Check
from gate.bake.lengths import BAKE, BAKE_INTERVAL, INCONCLUSIVE_POLICIES, JUDGING
from gate.bake.plugin import CheckPlugin
from gate.bake.registry import installed_checks
from gate.bake.run import Bake
from gate.core.description import Field, FieldError, TargetDescription, TargetValues, named
from gate.core.errors import UsageError
from gate.core.model import ON_FAILURE, OnFailure

__all__ = ["AFTER_SUCCESS", "BAKING", "CHECKS", "ROLLING_BACK", "bake_of", "on_failure_of"]

CHECKS = installed_checks()
"""Every kind of check a bake may use, built-in and installed: each declares its fields."""

BAKING = (BAKE, *(field for plugin in CHECKS for field in plugin.fields), BAKE_INTERVAL, *JUDGING)
ROLLING_BACK = (
    Field(
        "on_failure",
        "what to do when the gate fails: nothing, rollback (redeploy what ran before and gate "
        "it), or rollback-also-on-timeout",
        kind="choice",
        choices=ON_FAILURE,
        default="nothing",
    ),
    Field(
        "dry_run",
        "with --on-failure rollback: say what the rollback would redeploy, and do nothing",
        kind="flag",
    ),
)


def _checks_need_a_bake(values: TargetValues) -> None:
    switches = [plugin.enabled_by for plugin in CHECKS]
    given = [key for key in switches if values.given(key)]
    if given and not values.given("bake"):
        raise FieldError(given[0], f"{named(given[0])} is read during a bake: give {named('bake')}")
    judging = [field.key for field in JUDGING if values.given(field.key)]
    if judging and not values.given("bake"):
        raise FieldError(judging[0], f"{named(judging[0])} judges a bake: give {named('bake')}")
    if values.given("bake") and not given:
        *others, last = [named(key) for key in switches]
        raise FieldError(
            "bake",
            f"{named('bake')} needs something to watch: {', '.join(others)} or {last}",
        )


def _dry_run_of_a_rollback(values: TargetValues) -> None:
    if values.flag("dry_run") and values.text("on_failure") == "nothing":
        raise FieldError("dry_run", f"{named('dry_run')} needs {named('on_failure')} rollback")


AFTER_SUCCESS = TargetDescription(
    "gate",
    "what the gate does after the deployment ended: bake, roll back",
    BAKING + ROLLING_BACK,
    rules=(
        _checks_need_a_bake,
        *(rule for plugin in CHECKS for rule in plugin.rules),
        _dry_run_of_a_rollback,
    ),
)


def bake_of(values: TargetValues, env: Mapping[str, str], *, request_timeout: float) -> Bake | None:
    """The bake ``values`` (checked by :data:`AFTER_SUCCESS`) ask for, or None."""
    duration = values.number("bake")
    if duration is None:
        return None
    checks: list[Check] = []
    try:
        for plugin in CHECKS:
            if values.given(plugin.enabled_by):
                for made in plugin.build(values, env, request_timeout=request_timeout):
                    checks.append(_a_check(plugin, made))  # as made: a failure closes those
        limit = values.number("bake_unreadable_limit")
        chosen = values.text("bake_inconclusive")
        return Bake(
            duration,
            checks,
            interval=values.number_of("bake_interval"),
            failure_limit=int(values.number_of("bake_failure_limit")),
            unreadable_limit=int(limit) if limit is not None else None,
            inconclusive=next((p for p in INCONCLUSIVE_POLICIES if p == chosen), "pass"),
            report_only=values.flag("bake_report_only"),
        )
    except BaseException:
        for made in checks:
            made.close()
        raise


def _a_check(plugin: CheckPlugin, made: object) -> Check:
    if not isinstance(made, Check):
        raise UsageError(
            f"check {plugin.name!r} built {type(made).__name__!r}, not a gate.bake.check.Check"
        )
    return made


def on_failure_of(values: TargetValues) -> OnFailure:
    chosen = values.text("on_failure")
    return next((policy for policy in ON_FAILURE if policy == chosen), "nothing")
