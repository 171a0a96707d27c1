"""Running one gate for a Pulumi face: its provider built from checked inputs with the token
the stack chose, progress lines to whoever listens, and a stop the engine can pull.

The token: the stack's secret config ``gate:humanitecToken`` wins over ``HUMANITEC_TOKEN`` in
the environment of ``pulumi up``, so a stack says which credential it deploys with whatever
shell runs it. A refusal names the source that was refused.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, TextIO, cast

from gate.bake.options import bake_of
from gate.core.description import FieldError
from gate.core.errors import ConfigError, GateError, Stopped, UsageError
from gate.core.model import Outcome, OutcomeStatus
from gate.core.secret import Secret, header_token, remember, secrets_in
from gate.providers import Provider
from gate.providers.registry import load_plugin
from gate.pulumi.inputs import request_timeout, target_fields
from gate.pulumi.outcomes import DeploymentGateFailed, failure_message
from gate.render.text import TextReporter
from gate.telling.options import TELLING, tellings_of
from gate.waiting.engine import Timing, wait
from gate.waiting.plan import GatePlan, read_plan
from gate.waiting.telling import closed
from gate.wire import deadline

__all__ = [
    "CONFIG_TOKEN_SOURCE",
    "ENV_TOKEN_SOURCE",
    "Run",
    "build_provider",
    "humanitec_token",
    "lines_to",
    "plan_of",
    "run_gate",
    "token_problem",
]

CONFIG_TOKEN_SOURCE = "the secret config gate:humanitecToken"  # noqa: S105 - a description
ENV_TOKEN_SOURCE = "HUMANITEC_TOKEN in the environment of pulumi"  # noqa: S105 - a description
_AMBIENT_IDS = ("HUMANITEC_ORG", "HUMANITEC_APP", "HUMANITEC_ENV")


def humanitec_token(configured: str | None, env: Mapping[str, str]) -> Secret:
    """The stack's secret config if set, else ``HUMANITEC_TOKEN``; each labelled by source."""
    if configured:
        return header_token(CONFIG_TOKEN_SOURCE, configured)
    if env.get("HUMANITEC_TOKEN", "").strip():
        return header_token(ENV_TOKEN_SOURCE, env["HUMANITEC_TOKEN"])
    raise ConfigError(
        "no Humanitec token: set the stack's secret config gate:humanitecToken "
        "(pulumi config set --secret gate:humanitecToken ...) or HUMANITEC_TOKEN"
    )


def token_problem(
    props: Mapping[str, Any], configured: str | None, env: Mapping[str, str]
) -> str | None:
    """Why a Humanitec gate could not send its token, or None (other providers: None)."""
    if props.get("provider") != "humanitec":
        return None
    try:
        humanitec_token(configured, env)
    except ConfigError as missing:
        return str(missing)
    return None


@dataclass(frozen=True, kw_only=True)
class Run:
    """How one gate runs: where its token and AWS settings come from, and what it may hear."""

    configured_token: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stop: threading.Event | None = None
    """Set by the engine's Cancel: the wait ends as cancelled at its next pause."""
    say: Callable[[str], None] | None = None
    """Receives each progress line (status changes, retries, the outcome)."""
    engine_timeout: float = 0.0
    """The resource's ``customTimeouts`` in seconds, 0 for none."""


def build_provider(props: Mapping[str, Any], run: Run) -> Provider:
    """The provider of checked ``props``; a refusal to start is :class:`DeploymentGateFailed`."""
    env = {key: value for key, value in run.env.items() if key not in _AMBIENT_IDS}
    remember(*secrets_in(run.env))  # no secret the environment holds comes back through an answer
    try:
        # Humanitec v1 always sends a token; v2 takes the stack's when set, else its own
        # variables (HUMANITEC_AUTH_TOKEN first).
        v2_configured = props["provider"] == "humanitec-v2" and bool(run.configured_token)
        token = None
        if props["provider"] == "humanitec" or v2_configured:
            token = humanitec_token(run.configured_token, run.env)
        plugin = load_plugin(str(props["provider"]))
        target = plugin.description.read(target_fields(props, plugin.description), env=env)
        return plugin.build(target, env, request_timeout=request_timeout(props), token=token)
    except GateError as unusable:
        raise DeploymentGateFailed(f"deployment gate not started: {unusable}") from None


def plan_of(props: Mapping[str, Any], run: Run) -> GatePlan:
    """The plan checked ``props`` ask for, read as every face reads its own
    (:func:`~gate.waiting.plan.read_plan`); the resource's ``customTimeouts`` shorten its
    timeout, never lengthen it."""
    try:
        plan = read_plan(props, run.env, telling=TELLING)
    except FieldError as bad:  # read as every face reads them; said as Pulumi names them
        raise UsageError(bad.worded(str)) from None
    if 0 < run.engine_timeout < plan.waiting.timeout:
        plan = replace(plan, waiting=replace(plan.waiting, timeout=run.engine_timeout))
    return plan


def run_gate(props: Mapping[str, Any], run: Run) -> Outcome:
    """Wait on the deployment of checked ``props``; a gate that does not pass raises
    :class:`DeploymentGateFailed` with :func:`failure_message`."""
    try:
        plan = plan_of(props, run)
        bake = bake_of(plan.after, run.env, request_timeout=plan.request_timeout)
        api_url = props.get("api_url")  # a GitHub deployment links the public API's console only
        tellings = tellings_of(
            plan.telling,
            run.env,
            request_timeout=plan.request_timeout,
            humanitec_api_url=api_url if isinstance(api_url, str) else None,
        )
    except GateError as unusable:  # check refuses these; a caller that skipped it learns here
        raise DeploymentGateFailed(f"deployment gate not started: {unusable}") from None
    provider = build_provider(props, run)
    reporter = TextReporter(lines_to(run.say)) if run.say is not None else None
    try:
        stoppable = deadline.stopped_by(run.stop) if run.stop is not None else nullcontext()
        with stoppable:
            outcome = wait(
                provider,
                plan,
                reporter=reporter,
                bake=bake,
                telemetry=tellings,
                timing=Timing(sleep=_sleeper(run.stop)),
            )
    except GateError as unusable:  # a check that cannot work, found before waiting
        raise DeploymentGateFailed(f"deployment gate not started: {unusable}") from None
    finally:
        provider.close()
        if bake is not None:
            bake.close()
        for warning in closed(tellings):
            if run.say is not None:
                run.say(f"warning: {warning}")
    if outcome.status is not OutcomeStatus.SUCCEEDED:
        raise DeploymentGateFailed(failure_message(outcome))
    return outcome


def _sleeper(stop: threading.Event | None) -> Callable[[float], None]:
    if stop is None:
        return time.sleep

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped("cancelled: the Pulumi engine asked the provider to stop")

    return sleep


def lines_to(say: Callable[[str], None]) -> TextIO:
    """A text stream that hands each whole line written to it to ``say``."""
    return cast(TextIO, _Lines(say))


class _Lines(io.TextIOBase):
    """A text stream that hands each whole line written to it to ``say``."""

    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__()
        self._say = say
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._say(line)
        return len(text)
