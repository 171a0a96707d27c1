"""``gate wait``, ``gate wait-all FILE`` and ``gate wait PROVIDER`` with one id repeated: one
path, a release of one target or of many.

Every target is parsed and its provider built before the first read (a bad one is exit 2,
naming the entry and field), inside one :class:`~gate.wire.sharing.Sharing` so that targets on
the same API share its client, connections and request budget. Exit codes: the worst of the
targets', failed (1) before timed out (3) before unreadable (4); 128+N after signal N.

A single gate (``gate wait`` with no id repeated) is a release of one: it runs the same path,
and only its rendering is a single gate's (its progress lines, one outcome object in JSON,
its step outputs and summary), as it always was.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TextIO

from gate.bake.options import AFTER_SUCCESS, bake_of
from gate.bake.run import Bake
from gate.cli.common import (
    Reports,
    check_report_paths,
    say,
    signals_latch,
    write_reports,
)
from gate.cli.parsers import wait_all_parser
from gate.cli.plan import plan_from
from gate.cli.targets import TargetEntry, as_text, plugin_of, read_entries
from gate.cli.telling import close_tellings
from gate.core.description import FieldError, file_key
from gate.core.errors import GateError, Interrupted, UsageError
from gate.core.model import Outcome, OutcomeStatus
from gate.core.timestamps import iso_utc
from gate.providers import Provider, ProviderPlugin
from gate.telling.options import tellings_of
from gate.waiting.engine import Timing, check_bake_fits
from gate.waiting.fleet import FleetOutcome, FleetReporter, NullFleetReporter, Target, wait_all
from gate.waiting.options import WAITING
from gate.waiting.plan import GatePlan, read_plan
from gate.waiting.reporter import Reporter
from gate.wire.sharing import Sharing

__all__ = ["TargetSpec", "run_release", "wait_all_command"]


@dataclass(frozen=True)
class TargetSpec:
    """A target parsed, not yet built: its name (if given), plugin, plan, and where it was
    written (for errors)."""

    name: str | None
    plugin: ProviderPlugin
    plan: GatePlan
    """How its gate waits, bakes and rolls back: the release's, and its own fields."""
    where: str
    """How errors name it: ``release.yaml: target 3``, ``--env production``; empty for a
    single gate."""
    target: Mapping[str, object]
    """The target's fields as given (by field key), not yet checked."""
    entry: TargetEntry | None = None

    def explain(self, error: GateError) -> GateError:
        if not self.where:  # a single gate: its flags need no place said
            return error
        if self.entry is not None:
            return self.entry.explain(error)
        if isinstance(error, FieldError):
            return UsageError(f"{self.where}: {error}")
        return type(error)(f"{self.where}: {error}")


def wait_all_command(
    rest: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO, stdin: TextIO
) -> int:
    parser = wait_all_parser()
    began = time.monotonic()
    parsed = parser.parse_args(list(rest))
    plan = plan_from(parsed, env)
    entries = read_entries(parsed.file, stdin)
    specs = [_parse_entry(entry, plan, env) for entry in entries]
    return run_release(specs, plan, env, out, err, began=began)


def run_release(
    specs: Sequence[TargetSpec],
    plan: GatePlan,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
    *,
    began: float | None = None,
    one: bool = False,
) -> int:
    """Build every target, wait on all of them, write the reports; the exit code.

    ``one``: a single gate (``gate wait``), a release of its one target: the plan's bake is
    the target's own, and the outcome is rendered as one gate's. Else the plan's bake is the
    release's: once every target passed (its own bake, from the targets file, included),
    before the gate passes.

    Every timeout counts from ``began`` (a ``time.monotonic()``; now if not given): reading
    and building ten thousand targets is part of the time the pipeline gave the gate."""
    began = time.monotonic() if began is None else began
    began_at = datetime.now(timezone.utc)
    check_report_paths(plan, env)
    tellings = tellings_of(plan.telling, env, request_timeout=plan.request_timeout)
    sharing = Sharing(max_rate=plan.max_rate)
    providers: list[Provider] = []
    bakes: list[Bake] = []
    try:
        try:
            release_bake = None
            if not one:
                release_bake = bake_of(plan.after, env, request_timeout=plan.request_timeout)
            if release_bake is not None:
                bakes.append(release_bake)
            kept = release_bake.duration if release_bake is not None else 0.0
            # A budget shared by many: a gate of one shares it with no one, and a 429 it
            # hears pauses no one else (its retries follow the API's answer alone).
            with sharing.active() if len(specs) > 1 else nullcontext():
                built = [_build(spec, env, providers, bakes, kept) for spec in specs]
        except (Interrupted, KeyboardInterrupt) as interrupt:
            if not one:
                raise
            signum = interrupt.signum if isinstance(interrupt, Interrupted) else signal.SIGINT
            outcome = _cancelled_before_waiting(specs[0].plugin.name, signum, began, began_at)
            say(err, f"gate: {outcome.reason}\n")
            ended = FleetOutcome(
                (outcome,), outcome.status, 0.0, outcome.started_at, outcome.finished_at, signum
            )
        else:
            names = [""] if one else _names(specs, providers)
            targets = [
                replace(built_target, name=name, named=bool(spec.name))
                for spec, name, built_target in zip(specs, names, built, strict=True)
            ]
            _check_distinct(targets, specs)
            ended = wait_all(
                targets,
                plan,
                reporter=_reporter(plan, out, err, one=one),
                sharing=sharing,
                bake=release_bake,
                telemetry=tellings,
                timing=Timing(started=began),
            )
    finally:
        signals_latch()  # how the gate ends is decided: from here no signal changes its code
        for provider in providers:
            provider.close()
        for made in bakes:
            made.close()
        sharing.close()
    _render(ended, plan, env, out, err, one=one)
    close_tellings(tellings, err)  # after the outcome is written: a signal now costs nothing
    return ended.outcomes[0].exit_code if one else ended.exit_code


def _reporter(plan: GatePlan, out: TextIO, err: TextIO, *, one: bool) -> FleetReporter:
    if one:
        from gate.render.github import GitHubReporter
        from gate.render.text import TextReporter

        return _OneReporter(GitHubReporter(out) if plan.output == "github" else TextReporter(err))
    from gate.render.fleet_text import FleetTextReporter, GitHubFleetReporter

    return GitHubFleetReporter(out) if plan.output == "github" else FleetTextReporter(err)


class _OneReporter(NullFleetReporter):
    """A release of one, said as a single gate: its one gate's lines, and nothing of the
    whole."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter

    def for_target(self, target: Target) -> Reporter:
        return self._reporter


def _render(
    ended: FleetOutcome,
    plan: GatePlan,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
    *,
    one: bool,
) -> None:
    """The outcome on stdout and in the report files: one gate's shape for a single gate,
    the release's for many."""
    from gate.render.json import fleet_to_json, outcome_to_json

    if one:
        from gate.render.github import rollback_annotation

        (outcome,) = ended.outcomes
        if plan.output == "github" and outcome.rollback is not None:  # after the annotations
            say(out, rollback_annotation(outcome.rollback) + "\n", err=err, what="an annotation")
    if plan.output == "json":
        shown = outcome_to_json(ended.outcomes[0]) if one else fleet_to_json(ended)
        say(out, shown + "\n", err=err, what="the JSON outcome")
    write_reports(_one_report(ended.outcomes[0]) if one else _reports_of(ended), plan, env, err=err)


def _cancelled_before_waiting(
    provider: str, signum: int, began: float, began_at: datetime
) -> Outcome:
    return Outcome(
        status=OutcomeStatus.CANCELLED,
        provider=provider,
        target={},
        raw_status=None,
        errors=(),
        reason=f"interrupted by signal {signum} before the wait started",
        elapsed_seconds=round(time.monotonic() - began, 3),
        polls=0,
        started_at=iso_utc(began_at),
        finished_at=iso_utc(datetime.now(timezone.utc)),
        signal=signum,
    )


def _parse_entry(entry: TargetEntry, release: GatePlan, env: Mapping[str, str]) -> TargetSpec:
    """The entry's target fields, and its plan: the release's waiting and rollback options,
    overridden by its own fields (its bake is its own)."""
    plugin = plugin_of(entry)
    fields = {file_key(key): key for key in plugin.description.keys}
    planned = {file_key(key): key for key in _TARGET_PLAN_KEYS}
    target: dict[str, object] = {}
    given = release.for_each_target()
    for name, value in entry.fields.items():
        if name in planned:
            key = planned[name]
            if key in _WAITING and value in (None, "", []):  # no "unset": the schema's rule
                try:
                    _WAITING[key].check(value, {})
                except GateError as bad:
                    raise entry.explain(bad) from None
            given[key] = value
        elif name in fields:
            key = fields[name]
            kind = plugin.description.field(key).kind
            scalar = isinstance(value, (int, float)) and not isinstance(value, bool)
            target[key] = as_text(value) if scalar and kind not in ("number", "flag") else value
        elif plugin.description.renamed(name.replace("-", "_")) is not None:
            raise entry.explain(plugin.description.not_a_field(name.replace("-", "_")))
        else:
            known = ", ".join(sorted([*fields, *planned]))
            raise UsageError(
                f"{entry.where}: unknown field {name!r} for provider {plugin.name} "
                f"(fields: provider, name, {known})"
            )
    try:
        plan = read_plan(given, env)
    except GateError as bad:
        raise entry.explain(bad) from None
    return TargetSpec(entry.name, plugin, plan, entry.where, target, entry)


_WAITING = {field.key: field for field in WAITING}
_TARGET_PLAN_KEYS = tuple(dict.fromkeys((*(field.key for field in WAITING), *AFTER_SUCCESS.keys)))
"""What a target in a file may plan for itself: its waiting, its bake, its rollback."""


def _build(
    spec: TargetSpec,
    env: Mapping[str, str],
    built: list[Provider],
    bakes: list[Bake],
    kept_for_release: float,
) -> Target:
    """The target, made ready to wait on (its name is given later)."""
    plan = spec.plan
    try:
        bake = bake_of(plan.after, env, request_timeout=plan.request_timeout)
        if bake is not None:
            bakes.append(bake)
        check_bake_fits(bake, plan.waiting, kept_for_release)
        target = spec.plugin.description.read(spec.target, env=env)
        provider = spec.plugin.build(target, env, request_timeout=plan.request_timeout)
    except GateError as bad:
        raise spec.explain(bad) from None
    built.append(provider)
    return Target(
        "",
        provider,
        plan.waiting,
        bake=bake,
        on_failure=plan.on_failure,
        dry_run=plan.dry_run,
        api_url=target.text("api_url") if "api_url" in spec.plugin.description.keys else None,
    )


def _names(specs: Sequence[TargetSpec], providers: Sequence[Provider]) -> list[str]:
    """Each target's own name, else the ids that tell it from the others (``production``
    where only the environment differs)."""
    shared = {
        key
        for key, value in providers[0].target.items()
        if all(p.name == providers[0].name and p.target.get(key) == value for p in providers)
    }
    names = []
    for spec, provider in zip(specs, providers, strict=True):
        telling = [value for key, value in provider.target.items() if key not in shared]
        names.append(spec.name or "/".join(telling or provider.target.values()) or provider.name)
    return names


def _check_distinct(targets: Sequence[Target], specs: Sequence[TargetSpec]) -> None:
    """No deployment twice, no name twice: each would make one report row mean two things."""
    deployments: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    names: dict[str, str] = {}
    for target, spec in zip(targets, specs, strict=True):
        key = (target.provider.name, tuple(sorted(target.provider.target.items())))
        if key in deployments:
            raise UsageError(f"{spec.where}: waits on the same deployment as {deployments[key]}")
        if target.name in names:
            raise UsageError(
                f"{spec.where}: has the same name as {names[target.name]} ({target.name!r}): "
                "give each target a 'name' of its own"
            )
        deployments[key] = names[target.name] = spec.where


def _reports_of(outcome: FleetOutcome) -> Reports:
    from gate.render.github import fleet_step_outputs
    from gate.render.json import fleet_to_json
    from gate.render.junit import junit_xml
    from gate.render.summary import fleet_summary_markdown

    return Reports(
        junit=lambda: junit_xml(outcome.outcomes).decode(),
        json=lambda: fleet_to_json(outcome),
        outputs=lambda reports: fleet_step_outputs(outcome, reports),
        summary=lambda: fleet_summary_markdown(outcome),
    )


def _one_report(outcome: Outcome) -> Reports:
    from gate.render.github import step_outputs
    from gate.render.json import outcome_to_json
    from gate.render.junit import junit_xml
    from gate.render.summary import summary_markdown

    return Reports(
        junit=lambda: junit_xml([outcome]).decode(),
        json=lambda: outcome_to_json(outcome),
        outputs=lambda reports: step_outputs(outcome, reports),
        summary=lambda: summary_markdown(outcome),
    )
