"""A gate of many targets for both Pulumi faces: its check, its run and its outputs.

Its inputs are one flat mapping, as a single gate's are (:mod:`gate.pulumi.inputs`), with
``targets``: a list of flat targets, each with its ``name``. What a gate does beyond its
targets is the single gate's, read through the same declarations, as ``gate wait-all`` reads
its command line: the bake is the release's own, once every target passed; ``on_failure``
rolls back each target that failed, and every target when the release's bake fails; the
tellings hear of each target. ``fail_fast`` and ``max_rate`` are read by their declarations
(:data:`gate.waiting.options.RELEASE_OPTIONS`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from gate.bake.options import bake_of
from gate.core.errors import GateError, Interrupted
from gate.core.model import Outcome, OutcomeStatus
from gate.providers import Provider
from gate.pulumi.inputs import (
    DURATION_KEYS,
    Failure,
    NameOf,
    after_fields,
    check_inputs,
    given_ids,
    known,
    option_failures,
)
from gate.pulumi.outcomes import SKIPPED, DeploymentGateFailed, failure_message, outputs_of
from gate.pulumi.outcomes import skipped_outputs as skipped_one
from gate.pulumi.running import Run, build_provider, lines_to, plan_of, token_problem
from gate.render.fleet_text import FleetTextReporter
from gate.telling.options import tellings_of
from gate.waiting.engine import Timing
from gate.waiting.fleet import FleetOutcome, FleetReporter, Target, wait_all
from gate.waiting.options import RELEASE_OPTIONS
from gate.waiting.reporter import Reporter
from gate.waiting.telling import Telling, closed
from gate.wire.sharing import Sharing

__all__ = [
    "MANY_OUTPUT_KEYS",
    "TargetNameOf",
    "fleet_failure_message",
    "gates_failures",
    "gates_outputs",
    "in_target",
    "run_gates",
    "skipped_outputs",
]

MANY_OUTPUT_KEYS = ("status", "summary", "outcomes", "elapsed_seconds")
STOP_CHECK_EVERY = 1.0
"""How often a gate of many looks whether the engine asked it to stop (Cancel)."""

TargetNameOf = Callable[[int, Mapping[str, Any]], NameOf]
"""A face's name for an input key of the target at an index (``targets[1].env``)."""


def in_target(index: int, target: Mapping[str, Any]) -> NameOf:
    """The dynamic provider's names: ``targets[1].deploy_id``."""
    return lambda key: f"targets[{index}].{key}"


def gates_failures(
    props: Mapping[str, Any],
    *,
    configured_token: str | None,
    env: Mapping[str, str],
    name_of: NameOf = str,
    target_name_of: TargetNameOf = in_target,
) -> list[Failure]:
    """Every input of a gate of many that cannot work, each keyed by the face's name for it:
    its options as a single gate's, each target as a single gate's target, and the
    many-target options by their declarations (``fail_fast: "false"`` is refused, never
    read as true)."""
    failures = [Failure(name_of(f.key), f.reason) for f in option_failures(props, name_of)]
    targets = props.get("targets")
    if known(targets) and (not isinstance(targets, list) or not targets):
        failures.append(Failure(name_of("targets"), "must be a non-empty list of targets"))
    names: set[object] = set()
    for index, target in enumerate(targets if isinstance(targets, list) else []):
        if not known(target) or not isinstance(target, dict):
            continue
        named = target_name_of(index, target)
        name = target.get("name")
        if known(name) and name in names:
            failures.append(Failure(named("name"), f"{name!r} is used twice"))
        names.add(name)
        failures += [
            Failure(named(failure.key), failure.reason) for failure in check_inputs(target, named)
        ]
        problem = token_problem(target, configured_token, env)
        if problem and not any(failure.key == "" for failure in failures):
            failures.append(Failure("", problem))
    given = after_fields(props, RELEASE_OPTIONS)
    unknown = [key for key, value in given.items() if not known(value)]
    failures += [
        Failure(name_of(problem.key), problem.worded(name_of))
        for problem in RELEASE_OPTIONS.problems(given, unknown=unknown)
    ]
    return failures


def run_gates(props: Mapping[str, Any], run: Run) -> FleetOutcome:
    """Wait on every target of checked ``props`` at once, with the release's bake, rollback
    and tellings; a gate that does not pass raises :class:`DeploymentGateFailed`."""
    try:
        plan = plan_of(props, run)
    except GateError as unusable:  # check refuses these; a caller that skipped it learns here
        raise DeploymentGateFailed(f"deployment gates not started: {unusable}") from None
    timing = {key: props.get(key) for key in DURATION_KEYS}
    sharing = Sharing(max_rate=plan.max_rate)
    providers: list[Provider] = []
    bake = None
    tellings: list[Telling] = []
    relay = _relay(run.stop, sharing.stopped)
    try:
        try:
            bake = bake_of(plan.after, run.env, request_timeout=plan.request_timeout)
            tellings = tellings_of(plan.telling, run.env, request_timeout=plan.request_timeout)
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
                        plan.waiting,
                        on_failure=plan.on_failure,
                        dry_run=plan.dry_run,
                        api_url=api_url if isinstance(api_url, str) else None,
                    )
                )
        try:
            outcome = wait_all(
                targets,
                plan,
                reporter=_reporter(run),
                sharing=sharing,
                bake=bake,
                telemetry=tellings,
                timing=Timing(summary_every=STOP_CHECK_EVERY if run.stop is not None else 30.0),
            )
        except GateError as unusable:  # a check that cannot work, found before waiting
            raise DeploymentGateFailed(f"deployment gates not started: {unusable}") from None
    finally:
        relay.set()
        for provider in providers:
            provider.close()
        if bake is not None:
            bake.close()
        sharing.close()
        for warning in closed(tellings):
            if run.say is not None:
                run.say(f"warning: {warning}")
    if run.stop is not None and run.stop.is_set():
        raise DeploymentGateFailed(
            "deployment gates cancelled: the Pulumi engine asked the provider to stop\n"
            + fleet_failure_message(outcome)
        )
    if not outcome.succeeded:
        raise DeploymentGateFailed(fleet_failure_message(outcome))
    return outcome


def gates_outputs(outcome: FleetOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "summary": outcome.summary,
        "outcomes": [{"name": o.name, **outputs_of(o)} for o in outcome.outcomes],
        "elapsed_seconds": outcome.elapsed_seconds,
    }


def skipped_outputs(props: Mapping[str, Any], said: str) -> dict[str, Any]:
    """The outputs of a gate of many told not to wait (``said``: the face's name of it)."""
    targets: Sequence[Mapping[str, Any]] = props["targets"]
    return {
        "status": SKIPPED,
        "summary": f"{len(targets)} not waited on ({said})",
        "outcomes": [{"name": t["name"], **skipped_one(given_ids(t))} for t in targets],
        "elapsed_seconds": 0.0,
    }


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


def _relay(stop: threading.Event | None, stopped: threading.Event) -> threading.Event:
    """Until the returned event is set, the engine's Cancel (``stop``) also stops what
    :func:`wait_all` stops by its sharing's event: the release's bake and rollback, and
    requests waiting for a slot."""
    done = threading.Event()
    if stop is None:
        return done

    def relay() -> None:
        while not done.wait(STOP_CHECK_EVERY):
            if stop.is_set():
                stopped.set()
                return

    threading.Thread(target=relay, name="gate-cancel", daemon=True).start()
    return done


def _reporter(run: Run) -> FleetReporter | None:
    if run.say is None and run.stop is None:
        return None
    say = run.say or (lambda line: None)
    return _Stoppable(FleetTextReporter(lines_to(say)), run.stop)


class _Stoppable:
    """Progress lines to the face's log, and the engine's Cancel as the signal a gate of many
    stops on: :func:`wait_all` ends every wait and rollback as cancelled when its watching
    thread is interrupted, and its progress is said from that thread."""

    def __init__(self, inner: FleetTextReporter, stop: threading.Event | None) -> None:
        self._inner = inner
        self._stop = stop
        self._said_at = 0.0

    def started(self, targets: Sequence[Target]) -> None:
        self._inner.started(targets)

    def for_target(self, target: Target) -> Reporter:
        return self._inner.for_target(target)

    def progress(self, ended: Sequence[Outcome], total: int, elapsed: float) -> None:
        if self._stop is not None and self._stop.is_set():
            raise Interrupted(signal.SIGINT)
        if elapsed - self._said_at >= 30.0:
            self._said_at = elapsed
            self._inner.progress(ended, total, elapsed)

    def short_of_requests(self, api: str, rate: float) -> None:
        self._inner.short_of_requests(api, rate)

    def phase(self, line: str, elapsed: float) -> None:
        self._inner.phase(line, elapsed)

    def finished(self, outcome: FleetOutcome) -> None:
        with suppress(Exception):
            self._inner.finished(outcome)
