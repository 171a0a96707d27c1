"""``gate wait-all FILE`` and ``gate wait PROVIDER`` with one id repeated: many targets, one gate.

Every target is parsed and its provider built before the first read (a bad one is exit 2,
naming the entry and field), inside one :class:`~gate.wire.sharing.Sharing` so that targets on
the same API share its client, connections and request budget. Exit codes: the worst of the
targets', failed (1) before timed out (3) before unreadable (4); 128+N after signal N.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TextIO

from gate.bake.options import AFTER_SUCCESS, ROLLING_BACK, bake_of, on_failure_of
from gate.bake.run import Bake
from gate.cli.common import (
    Reports,
    check_report_paths,
    say,
    signals_deferred,
    wait_options_of,
    write_reports,
)
from gate.cli.flags import given_of
from gate.cli.parsers import wait_all_parser
from gate.cli.targets import TargetEntry, as_text, plugin_of, read_entries
from gate.cli.telling import close_tellings, tellings_from
from gate.core.description import FieldError, file_key
from gate.core.errors import GateError, UsageError
from gate.providers import Provider, ProviderPlugin
from gate.render.fleet_text import FleetTextReporter, GitHubFleetReporter
from gate.render.github import fleet_step_outputs
from gate.render.json import fleet_to_json
from gate.render.junit import junit_xml
from gate.render.summary import fleet_summary_markdown
from gate.waiting.engine import check_bake_fits
from gate.waiting.fleet import FleetOutcome, FleetReporter, Target, wait_all
from gate.waiting.options import WAITING
from gate.wire.sharing import Sharing

__all__ = ["TargetSpec", "rolling_back_of", "run_fleet", "wait_all_command"]

_WAITING_DESTS = ("timeout", "interval", "max_interval", "request_timeout", "not_found_grace")


@dataclass(frozen=True)
class TargetSpec:
    """A target parsed, not yet built: its name (if given), plugin, flags, and where it was
    written (for errors)."""

    name: str | None
    plugin: ProviderPlugin
    flags: argparse.Namespace
    """The waiting flags (``timeout``, ``interval``, ...)."""
    where: str
    target: Mapping[str, object]
    """The target's fields as given (by field key), not yet checked."""
    entry: TargetEntry | None = None
    after: Mapping[str, object] = field(default_factory=dict)
    """Its bake and rollback options as given (by field key), not yet checked."""

    def explain(self, error: GateError) -> GateError:
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
    entries = read_entries(parsed.file, stdin)
    defaults = {dest: getattr(parsed, dest) for dest in _WAITING_DESTS}
    specs = [_parse_entry(entry, defaults, rolling_back_of(parsed)) for entry in entries]
    return run_fleet(specs, parsed, env, out, err, began=began)


def rolling_back_of(parsed: argparse.Namespace) -> dict[str, object]:
    """The command line's rollback options: every target's defaults (a target that fails
    rolls back by them, as the release does when its own bake fails)."""
    return {
        field.key: getattr(parsed, field.key)
        for field in ROLLING_BACK
        if getattr(parsed, field.key)
    }


def run_fleet(
    specs: Sequence[TargetSpec],
    parsed: argparse.Namespace,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
    *,
    began: float | None = None,
) -> int:
    """Build every target, wait on all of them, write the reports; the exit code.

    Every timeout counts from ``began`` (a ``time.monotonic()``; now if not given): reading
    and building ten thousand targets is part of the time the pipeline gave the gate. The
    command line's bake is the release's: once every target passed (its own bake, from the
    targets file, included), before the gate passes."""
    began = time.monotonic() if began is None else began
    output = parsed.output or ("github" if env.get("GITHUB_ACTIONS") == "true" else "text")
    github = output == "github"
    check_report_paths(parsed, env, github=github)
    release = AFTER_SUCCESS.read(given_of(parsed, AFTER_SUCCESS), env=env)
    tellings = tellings_from(parsed, env, request_timeout=parsed.request_timeout)
    sharing = Sharing(max_rate=parsed.max_rate)
    providers: list[Provider] = []
    bakes: list[Bake] = []
    try:
        release_bake = bake_of(release, env, request_timeout=parsed.request_timeout)
        if release_bake is not None:
            bakes.append(release_bake)
        kept = release_bake.duration if release_bake is not None else 0.0
        with sharing.active():
            built = [_build(spec, env, providers, bakes, kept) for spec in specs]
        targets = [
            replace(built_target, name=name, named=bool(spec.name))
            for spec, name, built_target in zip(specs, _names(specs, providers), built, strict=True)
        ]
        _check_distinct(targets, specs)
        reporter: FleetReporter = GitHubFleetReporter(out) if github else FleetTextReporter(err)
        stop_early = bool(getattr(parsed, "stop_at_first_failure", False))
        outcome = wait_all(
            targets,
            fail_fast=stop_early,
            reporter=reporter,
            sharing=sharing,
            started=began,
            bake=release_bake,
            on_failure=on_failure_of(release),
            dry_run=release.flag("dry_run"),
            telemetry=tellings,
        )
    finally:
        for provider in providers:
            provider.close()
        for made in bakes:
            made.close()
        sharing.close()
    with signals_deferred():
        if output == "json":
            say(out, fleet_to_json(outcome) + "\n", err=err, what="the JSON outcome")
        write_reports(_reports_of(outcome), parsed, env, github=github, err=err)
    close_tellings(tellings, err)  # after the outcome is written: a signal now costs nothing
    return outcome.exit_code


def _parse_entry(
    entry: TargetEntry, defaults: Mapping[str, object], after_defaults: Mapping[str, object]
) -> TargetSpec:
    plugin = plugin_of(entry)
    fields = {file_key(key): key for key in plugin.description.keys}
    waiting = {file_key(field.key): field for field in WAITING}
    after_keys = {file_key(key): key for key in AFTER_SUCCESS.keys}
    target: dict[str, object] = {}
    timing = dict(defaults)
    after = dict(after_defaults)
    for name, value in entry.fields.items():
        if name in after_keys:
            after[after_keys[name]] = value
        elif name in waiting:
            try:
                timing[waiting[name].key] = waiting[name].seconds(value)
            except GateError as bad:
                raise entry.explain(bad) from None
        elif name in fields:
            key = fields[name]
            kind = plugin.description.field(key).kind
            scalar = isinstance(value, (int, float)) and not isinstance(value, bool)
            target[key] = as_text(value) if scalar and kind not in ("number", "flag") else value
        else:
            known = ", ".join(sorted([*fields, *waiting, *after_keys]))
            raise UsageError(
                f"{entry.where}: unknown field {name!r} for provider {plugin.name} "
                f"(fields: provider, name, {known})"
            )
    timing_flags = argparse.Namespace(**timing)
    return TargetSpec(entry.name, plugin, timing_flags, entry.where, target, entry, after)


def _build(
    spec: TargetSpec,
    env: Mapping[str, str],
    built: list[Provider],
    bakes: list[Bake],
    kept_for_release: float,
) -> Target:
    """The target, made ready to wait on (its name is given later)."""
    flags = spec.flags
    try:
        options = wait_options_of(flags)
        after = AFTER_SUCCESS.read(spec.after, env=env)
        bake = bake_of(after, env, request_timeout=flags.request_timeout)
        if bake is not None:
            bakes.append(bake)
        check_bake_fits(bake, options, kept_for_release)
        target = spec.plugin.description.read(spec.target, env=env)
        provider = spec.plugin.build(target, env, request_timeout=flags.request_timeout)
    except GateError as bad:
        raise spec.explain(bad) from None
    built.append(provider)
    return Target(
        "",
        provider,
        options,
        bake=bake,
        on_failure=on_failure_of(after),
        dry_run=after.flag("dry_run"),
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
    return Reports(
        junit=lambda: junit_xml(outcome.outcomes).decode(),
        json=lambda: fleet_to_json(outcome),
        outputs=lambda reports: fleet_step_outputs(outcome, reports),
        summary=lambda: fleet_summary_markdown(outcome),
    )
