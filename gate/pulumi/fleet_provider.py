"""The dynamic provider behind :class:`gate.pulumi.DeploymentGates`: many targets, one wait.

``create`` runs :func:`gate.fleet.wait_all` over every target in one call of the provider
host, so the targets share one request budget per API (the host serves four calls at once;
four single gates could not share anything). Check, diff and update follow the single gate's
provider, target by target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, UpdateResult

from gate.fleet import FleetOutcome, Target, wait_all
from gate.model import OutcomeStatus
from gate.providers import Provider
from gate.pulumi.provider import (
    DURATION_KEYS,
    DeploymentGateFailed,
    DeploymentWaitProvider,
    _known,
    _outputs,
    checked_durations,
    failure_message,
    target_failures,
)
from gate.sharing import DEFAULT_MAX_RATE, Sharing

__all__ = ["DeploymentsWaitProvider"]

FLEET_OUTPUT_KEYS = ("status", "summary", "outcomes", "elapsed_seconds")


class DeploymentsWaitProvider(DeploymentWaitProvider):
    """check validates each target, create waits on all, diff replaces on a new target list."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        checked, failures = checked_durations(news)
        targets = news.get("targets")
        if _known(targets) and (not isinstance(targets, list) or not targets):
            failures.append(CheckFailure("targets", "must be a non-empty list of targets"))
        names: set[object] = set()
        for index, target in enumerate(targets if isinstance(targets, list) else []):
            if not _known(target) or not isinstance(target, dict):
                continue
            name = target.get("name")
            if _known(name) and name in names:
                failures.append(CheckFailure(f"targets[{index}].name", f"{name!r} is used twice"))
            names.add(name)
            failures += [
                CheckFailure(f"targets[{index}].{failure.property}", failure.reason)
                for failure in target_failures(target)
            ]
        max_rate = news.get("max_rate")
        if _known(max_rate) and not (
            isinstance(max_rate, (int, float)) and not isinstance(max_rate, bool) and max_rate > 0
        ):
            failures.append(CheckFailure("max_rate", "must be a number above 0"))
        return CheckResult(checked, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outcome = self._wait_all(props)
        outs = {**props, **_fleet_outputs(outcome)}
        return CreateResult(id_="/".join(o.name for o in outcome.outcomes), outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in ("targets", "fail_fast") if olds.get(key) != news.get(key)]
        options = [key for key in (*DURATION_KEYS, "max_rate") if olds.get(key) != news.get(key)]
        return DiffResult(
            changes=bool(replaces or options), replaces=replaces, delete_before_replace=False
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={**news, **{key: olds.get(key) for key in FLEET_OUTPUT_KEYS}})

    def _wait_all(self, props: Mapping[str, Any]) -> FleetOutcome:
        sharing = Sharing(max_rate=float(props.get("max_rate") or DEFAULT_MAX_RATE))
        providers: list[Provider] = []
        try:
            targets = []
            with sharing.active():
                for target in props["targets"]:
                    provider, options = self._build(target, props)
                    providers.append(provider)
                    targets.append(Target(str(target["name"]), provider, options))
            outcome = wait_all(targets, fail_fast=bool(props.get("fail_fast")), sharing=sharing)
        finally:
            for provider in providers:
                provider.close()
            sharing.close()
        if not outcome.succeeded:
            failed = [o for o in outcome.outcomes if o.status is not OutcomeStatus.SUCCEEDED]
            lines = [f"deployment gates: {outcome.summary}"]
            lines += [f"{o.name}: {failure_message(o)}" for o in failed]
            raise DeploymentGateFailed("\n".join(lines))
        return outcome


def _fleet_outputs(outcome: FleetOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "summary": outcome.summary,
        "outcomes": [{"name": o.name, **_outputs(o)} for o in outcome.outcomes],
        "elapsed_seconds": outcome.elapsed_seconds,
    }
