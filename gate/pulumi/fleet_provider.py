"""The dynamic provider behind :class:`gate.pulumi.DeploymentGates`: many targets, one wait.

``create`` runs :func:`gate.waiting.fleet.wait_all` over every target in one call of the provider
host, so the targets share one request budget per API (the host serves four calls at once;
four single gates could not share anything). Check, diff and update follow the single gate's
rules (:mod:`gate.pulumi.inputs`, :mod:`gate.pulumi.changes`), target by target. What a gate
does beyond its targets is the single gate's, read through the same declarations, as
``gate wait-all`` reads its command line: the bake is the release's own, once every target
passed; ``on_failure`` rolls back each target that failed, and every target when the
release's bake fails; the tellings hear of each target.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure

from gate.bake.options import AFTER_SUCCESS, bake_of, on_failure_of
from gate.core.errors import GateError
from gate.core.model import OutcomeStatus
from gate.providers import Provider
from gate.pulumi.changes import Change, fleet_change_of
from gate.pulumi.inputs import (
    DURATION_KEYS,
    Failure,
    NameOf,
    after_fields,
    check_inputs,
    given_ids,
    known,
    option_failures,
    request_timeout,
    wait_options,
)
from gate.pulumi.options import MANY
from gate.pulumi.outcomes import (
    SKIPPED,
    DeploymentGateFailed,
    failure_message,
    outputs_of,
    skipped_outputs,
)
from gate.pulumi.provider import DeploymentWaitProvider
from gate.pulumi.running import Run, build_provider, token_problem
from gate.telling.options import TELLING, tellings_of
from gate.waiting.fleet import FleetOutcome, Target, wait_all
from gate.waiting.telling import Telling, closed
from gate.wire.sharing import Sharing

__all__ = ["DeploymentsWaitProvider", "fleet_failure_message", "many_failures"]

FLEET_OUTPUT_KEYS = ("status", "summary", "outcomes", "elapsed_seconds")


class DeploymentsWaitProvider(DeploymentWaitProvider):
    """check validates each target, create waits on all, diff and update follow
    :func:`fleet_change_of`; the rest (and what hides a secret input) is the single gate's
    provider."""

    def _failures(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        failures = [CheckFailure(f.key, f.reason) for f in option_failures(news)]
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
        return failures + [CheckFailure(f.key, f.reason) for f in many_failures(news)]

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
        env = dict(os.environ)
        try:
            many = MANY.read(after_fields(props, MANY))
            after = AFTER_SUCCESS.read(after_fields(props, AFTER_SUCCESS), env=env)
            telling = TELLING.read(after_fields(props, TELLING), env=env)
            options = wait_options(props)
        except GateError as unusable:  # check refuses these; a caller that skipped it learns here
            raise DeploymentGateFailed(f"deployment gates not started: {unusable}") from None
        run = Run(configured_token=self._configured_token, env=env)
        timing = {key: props.get(key) for key in DURATION_KEYS}
        sharing = Sharing(max_rate=many.number_of("max_rate"))
        providers: list[Provider] = []
        bake = None
        tellings: list[Telling] = []
        try:
            try:
                bake = bake_of(after, env, request_timeout=request_timeout(props))
                tellings = tellings_of(telling, env, request_timeout=request_timeout(props))
            except GateError as unusable:
                raise DeploymentGateFailed(f"deployment gates not started: {unusable}") from None
            targets = []
            with sharing.active():
                for target in props["targets"]:
                    provider = build_provider({**timing, **target}, run)
                    providers.append(provider)
                    api_url = target.get("api_url")
                    targets.append(
                        Target(
                            str(target["name"]),
                            provider,
                            options,
                            on_failure=on_failure_of(after),
                            dry_run=after.flag("dry_run"),
                            api_url=api_url if isinstance(api_url, str) else None,
                        )
                    )
            try:
                outcome = wait_all(
                    targets,
                    fail_fast=many.flag("fail_fast"),
                    sharing=sharing,
                    bake=bake,
                    on_failure=on_failure_of(after),
                    dry_run=after.flag("dry_run"),
                    telemetry=tellings,
                )
            except GateError as unusable:  # a check that cannot work, found before waiting
                raise DeploymentGateFailed(f"deployment gates not started: {unusable}") from None
        finally:
            for provider in providers:
                provider.close()
            if bake is not None:
                bake.close()
            sharing.close()
            list(closed(tellings))  # the dynamic host shows no warning; each is flushed
        if not outcome.succeeded:
            raise DeploymentGateFailed(fleet_failure_message(outcome))
        return outcome


def many_failures(props: Mapping[str, Any]) -> list[Failure]:
    """The many-target options (``fail_fast``, ``max_rate``) that cannot work, by their
    declarations: ``"false"`` is refused, never read as true."""
    given = after_fields(props, MANY)
    unknown = [key for key, value in given.items() if not known(value)]
    return [
        Failure(problem.key, problem.worded(str))
        for problem in MANY.problems(given, unknown=unknown)
    ]


def fleet_failure_message(outcome: FleetOutcome) -> str:
    """The whole first, then why the release failed (its bake), then each target that did not
    succeed or was rolled back, in its own words."""
    lines = [f"deployment gates: {outcome.summary}"]
    if outcome.reason:
        lines.append(f"release: {outcome.reason}")
    for ended in outcome.outcomes:
        if ended.status is not OutcomeStatus.SUCCEEDED:
            lines.append(f"{ended.name}: {failure_message(ended)}")
        elif ended.rollback is not None:
            lines.append(f"{ended.name}: {ended.rollback.said()}")
    return "\n".join(lines)


def _in_target(index: int) -> NameOf:
    return lambda key: f"targets[{index}].{key}"


def _fleet_outputs(outcome: FleetOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "summary": outcome.summary,
        "outcomes": [{"name": o.name, **outputs_of(o)} for o in outcome.outcomes],
        "elapsed_seconds": outcome.elapsed_seconds,
    }
