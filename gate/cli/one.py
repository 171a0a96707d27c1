"""Running one gate from the command line: build its provider, wait, write the outcome.

Imported once ``gate wait`` has parsed a target, so ``gate wait PROVIDER --help`` never
loads the engine or the renderers.
"""

from __future__ import annotations

import argparse
import signal
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TextIO

from gate.bake.options import AFTER_SUCCESS, bake_of, on_failure_of
from gate.cli.common import (
    Reports,
    check_report_paths,
    say,
    signals_deferred,
    wait_options_of,
    write_reports,
)
from gate.cli.flags import given_of
from gate.cli.telling import close_tellings, tellings_from
from gate.core.errors import Interrupted
from gate.core.model import Outcome, OutcomeStatus
from gate.core.provider import ProviderPlugin
from gate.core.timestamps import iso_utc
from gate.render.github import GitHubReporter, rollback_annotation, step_outputs
from gate.render.json import outcome_to_json
from gate.render.junit import junit_xml
from gate.render.summary import summary_markdown
from gate.render.text import TextReporter
from gate.waiting.engine import wait
from gate.waiting.reporter import Reporter

__all__ = ["run_one"]


def run_one(
    plugin: ProviderPlugin,
    parsed: argparse.Namespace,
    given: Mapping[str, object],
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
) -> int:
    """Wait on the one target ``given`` (its fields) with ``parsed``'s waiting and report
    flags; the exit code."""
    options = wait_options_of(parsed)
    output = parsed.output or ("github" if env.get("GITHUB_ACTIONS") == "true" else "text")
    github = output == "github"
    check_report_paths(parsed, env, github=github)
    reporter: Reporter = GitHubReporter(out) if github else TextReporter(err)
    began = time.monotonic(), datetime.now(timezone.utc)
    after = AFTER_SUCCESS.read(given_of(parsed, AFTER_SUCCESS), env=env)
    tellings = tellings_from(parsed, env, request_timeout=parsed.request_timeout)
    try:
        target = plugin.description.read(given, env=env)
        bake = bake_of(after, env, request_timeout=parsed.request_timeout)
        provider = plugin.build(target, env, request_timeout=parsed.request_timeout)
    except (Interrupted, KeyboardInterrupt) as interrupt:
        signum = interrupt.signum if isinstance(interrupt, Interrupted) else signal.SIGINT
        outcome = _cancelled_before_waiting(plugin.name, signum, *began)
        say(err, f"gate: {outcome.reason}\n")
    else:
        try:
            outcome = wait(
                provider,
                options=options,
                reporter=reporter,
                bake=bake,
                on_failure=on_failure_of(after),
                dry_run=after.flag("dry_run"),
                telemetry=tellings,
            )
        finally:
            provider.close()
            if bake is not None:
                bake.close()
    with signals_deferred():
        if github and outcome.rollback is not None:  # it ended after the wait's annotations
            say(out, rollback_annotation(outcome.rollback) + "\n", err=err, what="an annotation")
        if output == "json":
            say(out, outcome_to_json(outcome) + "\n", err=err, what="the JSON outcome")
        write_reports(_reports_of(outcome), parsed, env, github=github, err=err)
    close_tellings(tellings, err)  # after the outcome is written: a signal now costs nothing
    return outcome.exit_code


def _reports_of(outcome: Outcome) -> Reports:
    return Reports(
        junit=lambda: junit_xml([outcome]).decode(),
        json=lambda: outcome_to_json(outcome),
        outputs=lambda reports: step_outputs(outcome, reports),
        summary=lambda: summary_markdown(outcome),
    )


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
