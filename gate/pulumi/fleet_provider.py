"""The dynamic provider behind :class:`gate.pulumi.DeploymentGates`: many targets, one wait.

``create`` runs :func:`gate.waiting.fleet.wait_all` over every target in one call of the provider
host, so the targets share one request budget per API (the host serves four calls at once;
four single gates could not share anything). Check, diff and update follow the single gate's
rules (:mod:`gate.pulumi.inputs`, :mod:`gate.pulumi.changes`), target by target.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure

from gate.core.description import FieldError
from gate.core.model import OutcomeStatus
from gate.providers import Provider
from gate.pulumi.changes import Change, fleet_change_of
from gate.pulumi.inputs import (
    DURATION_KEYS,
    NameOf,
    check_inputs,
    given_ids,
    known,
    timing_failures,
    wait_options,
)
from gate.pulumi.outcomes import (
    SKIPPED,
    DeploymentGateFailed,
    failure_message,
    outputs_of,
    skipped_outputs,
)
from gate.pulumi.provider import DeploymentWaitProvider
from gate.pulumi.running import Run, build_provider, token_problem
from gate.waiting.fleet import FleetOutcome, Target, wait_all
from gate.waiting.options import MAX_RATE
from gate.waiting.plan import GatePlan
from gate.wire.sharing import Sharing

__all__ = ["DeploymentsWaitProvider"]

FLEET_OUTPUT_KEYS = ("status", "summary", "outcomes", "elapsed_seconds")


class DeploymentsWaitProvider(DeploymentWaitProvider):
    """check validates each target, create waits on all, diff and update follow
    :func:`fleet_change_of`; the rest (and what hides a secret input) is the single gate's
    provider."""

    def _failures(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        failures = [CheckFailure(f.key, f.reason) for f in timing_failures(news)]
        targets = news.get("targets")
        if known(targets) and (not isinstance(targets, list) or not targets):
            failures.append(CheckFailure("targets", "must be a non-empty list of targets"))
        names: set[object] = set()
        for index, target in enumerate(targets if isinstance(targets, list) else []):
            if not known(target) or not isinstance(target, dict):
                continue
            name = target.get("name")
            if known(name) and name in names:
                failures.append(CheckFailure(f"targets[{index}].name", f"{name!r} is used twice"))
            names.add(name)
            failures += [
                CheckFailure(f"targets[{index}].{failure.key}", failure.reason)
                for failure in check_inputs(target, _in_target(index))
            ]
            problem = token_problem(target, self._configured_token, os.environ)
            if problem and not any(failure.property == "" for failure in failures):
                failures.append(CheckFailure("", problem))
        max_rate = news.get("max_rate")
        if known(max_rate) and max_rate is not None:
            try:
                MAX_RATE.number(max_rate)
            except FieldError as refused:
                failures.append(CheckFailure("max_rate", refused.worded(str)))
        return failures

    recorded_keys = FLEET_OUTPUT_KEYS

    def _change(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Change:
        return fleet_change_of(olds, news)

    def _id_parts(self, props: Mapping[str, Any], outs: Mapping[str, Any]) -> list[str]:
        return [str(target["name"]) for target in props["targets"]]

    def _outputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        if props.get("skip_await") is True:
            return {
                "status": SKIPPED,
                "summary": f"{len(props['targets'])} not waited on (skip_await)",
                "outcomes": [
                    {"name": t["name"], **skipped_outputs(given_ids(t))} for t in props["targets"]
                ],
                "elapsed_seconds": 0.0,
            }
        return _fleet_outputs(self._wait_all(props))

    def _wait_all(self, props: Mapping[str, Any]) -> FleetOutcome:
        given = props.get("max_rate")
        sharing = Sharing(max_rate=MAX_RATE.number(MAX_RATE.default if given is None else given))
        run = Run(configured_token=self._configured_token)
        timing = {key: props.get(key) for key in DURATION_KEYS}
        options = wait_options(props)
        providers: list[Provider] = []
        try:
            targets = []
            with sharing.active():
                for target in props["targets"]:
                    provider = build_provider({**timing, **target}, run)
                    providers.append(provider)
                    targets.append(Target(str(target["name"]), provider, options))
            release = GatePlan(fail_fast=bool(props.get("fail_fast")))
            outcome = wait_all(targets, release, sharing=sharing)
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


def _in_target(index: int) -> NameOf:
    return lambda key: f"targets[{index}].{key}"


def _fleet_outputs(outcome: FleetOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "summary": outcome.summary,
        "outcomes": [{"name": o.name, **outputs_of(o)} for o in outcome.outcomes],
        "elapsed_seconds": outcome.elapsed_seconds,
    }
