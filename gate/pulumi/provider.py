"""The dynamic provider behind :class:`gate.pulumi.DeploymentGate`.

It lives in an importable module so that Pulumi pickles it by reference, and it holds no
client, token or other state when pickled: clients are built inside ``create`` from the
environment of ``pulumi up`` (and the token, failing that, from the stack config read in
``configure``). The dynamic provider host serves at most four calls at once, so at most four
gates wait in parallel in one update.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from gate.durations import format_duration, parse_duration
from gate.engine import WaitOptions, wait
from gate.errors import GateError
from gate.ids import require_id
from gate.model import Outcome, OutcomeStatus
from gate.providers import Provider
from gate.registry import load_plugin
from gate.render.text import format_error

__all__ = ["DeploymentGateFailed", "DeploymentWaitProvider"]

PROVIDERS = ("humanitec", "greengrass", "greengrass-v2")
TOKEN_CONFIG_KEYS = ("gate:humanitecToken", "humanitecToken")
TARGET_KEYS = (
    "provider",
    "org",
    "app",
    "env",
    "deploy_id",
    "latest",
    "api_url",
    "group_id",
    "deployment_id",
    "region",
    "profile",
    "endpoint_url",
    "min_success",
    "unfinished_devices",
    "fail_fast",
)
ID_KEYS = ("org", "app", "env", "deploy_id", "group_id", "deployment_id")
DURATION_KEYS = ("timeout", "interval", "max_interval", "request_timeout", "not_found_grace")
OUTPUT_KEYS = (
    "status",
    "raw_status",
    "errors",
    "finished_at",
    "elapsed_seconds",
    "target",
    "progress",
    "devices",
)


class DeploymentGateFailed(Exception):
    """The deployment did not succeed; the message lists every error detail."""


class DeploymentWaitProvider(ResourceProvider):
    """check validates, create waits, diff replaces on a new target, delete does nothing."""

    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self._configured_token: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._configured_token = None

    def configure(self, req: ConfigureRequest) -> None:
        for key in TOKEN_CONFIG_KEYS:
            value = req.config.get(key)
            if value:
                self._configured_token = str(value)
                return

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        checked, failures = checked_durations(news)
        return CheckResult(checked, target_failures(news) + failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outcome = self._wait(props)
        outs = {**props, **_outputs(outcome)}
        return CreateResult(id_="/".join([outcome.provider, *outcome.target.values()]), outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in TARGET_KEYS if olds.get(key) != news.get(key)]
        options = [key for key in DURATION_KEYS if olds.get(key) != news.get(key)]
        return DiffResult(
            changes=bool(replaces or options),
            replaces=replaces,
            delete_before_replace=False,
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only wait options changed: the recorded outcome stands, with the new inputs."""
        recorded = {key: olds.get(key) for key in OUTPUT_KEYS}
        return UpdateResult(outs={**news, **recorded})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forgetting a gate leaves the deployment alone."""

    def _wait(self, props: Mapping[str, Any]) -> Outcome:
        provider, options = self._build(props, props)
        try:
            outcome = wait(provider, options=options)
        finally:
            provider.close()
        if outcome.status is not OutcomeStatus.SUCCEEDED:
            raise DeploymentGateFailed(failure_message(outcome))
        return outcome

    def _build(
        self, target: Mapping[str, Any], timing: Mapping[str, Any]
    ) -> tuple[Provider, WaitOptions]:
        """The provider of ``target``'s props, and the wait options of ``timing``'s."""
        env = dict(os.environ)
        if self._configured_token and not env.get("HUMANITEC_TOKEN"):
            env["HUMANITEC_TOKEN"] = self._configured_token
        plugin = load_plugin(str(target["provider"]))
        flags = argparse.Namespace(**{key: target.get(key) for key in TARGET_KEYS})
        flags.latest = bool(target.get("latest"))
        options = WaitOptions(
            timeout=_seconds(timing["timeout"], "timeout"),
            interval=_seconds(timing["interval"], "interval"),
            max_interval=(
                None
                if timing.get("max_interval") is None
                else _seconds(timing["max_interval"], "max_interval")
            ),
            not_found_grace=_seconds(timing["not_found_grace"], "not_found_grace"),
        )
        request_timeout = _seconds(timing["request_timeout"], "request_timeout")
        try:
            provider = plugin.build(flags, env, request_timeout=request_timeout)
        except GateError as unusable:
            raise DeploymentGateFailed(f"deployment gate not started: {unusable}") from None
        return provider, options


def target_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    """What is wrong with a target's props (provider, ids, fleet policy), by input name."""
    failures: list[CheckFailure] = []
    provider = news.get("provider")
    if _known(provider) and provider not in PROVIDERS:
        failures.append(CheckFailure("provider", f"must be one of {', '.join(PROVIDERS)}"))
    for key in ID_KEYS:
        value = news.get(key)
        if value is None or not _known(value):
            continue
        try:
            require_id(key, str(value))
        except GateError as bad:
            failures.append(CheckFailure(key, str(bad)))
    return failures + _fleet_policy_failures(news)


def checked_durations(news: Mapping[str, Any]) -> tuple[dict[str, Any], list[CheckFailure]]:
    """``news`` with its durations in seconds, and the durations that are not usable."""
    failures: list[CheckFailure] = []
    checked = dict(news)
    for key in DURATION_KEYS:
        value = news.get(key)
        if value is None or not _known(value):
            continue
        try:
            checked[key] = _seconds(value, key)
        except GateError as bad:
            failures.append(CheckFailure(key, str(bad)))
            continue
        if checked[key] <= 0 and key != "not_found_grace":
            failures.append(CheckFailure(key, f"{key} must be more than 0"))
    return checked, failures


def failure_message(outcome: Outcome) -> str:
    """One readable message: what ended how, then every error detail on its own line."""
    target = ", ".join(f"{key}={value}" for key, value in outcome.target.items())
    took = format_duration(outcome.elapsed_seconds)
    lines = [
        f"deployment gate {outcome.status.value}: {outcome.provider} deployment ({target}) "
        f"after {took}: {outcome.reason}"
    ]
    lines += [f"  - {format_error(error)}" for error in outcome.errors]
    return "\n".join(lines)


def _fleet_policy_failures(news: Mapping[str, Any]) -> list[CheckFailure]:
    """A Greengrass v2 policy that can never work, named by its input."""
    if news.get("provider") != "greengrass-v2":
        return []
    from gate.providers.greengrass_v2 import FleetPolicy

    min_success = news.get("min_success")
    unfinished = news.get("unfinished_devices")
    failures: list[CheckFailure] = []
    if _known(min_success) and min_success is not None:
        number = min_success if isinstance(min_success, (int, float)) else math.nan
        try:
            FleetPolicy(min_success=math.nan if isinstance(min_success, bool) else number)
        except GateError:
            failures.append(CheckFailure("min_success", "must be a number above 0 and at most 100"))
    if _known(unfinished) and unfinished is not None:
        try:
            FleetPolicy(unfinished=str(unfinished))
        except GateError:
            failures.append(CheckFailure("unfinished_devices", "must be 'count' or 'ignore'"))
    return failures


def _outputs(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "raw_status": outcome.raw_status,
        "errors": [error.as_dict() for error in outcome.errors],
        "finished_at": outcome.finished_at,
        "elapsed_seconds": outcome.elapsed_seconds,
        "target": dict(outcome.target),
        "progress": outcome.progress,
        "devices": [device.as_dict() for device in outcome.devices],
    }


def _seconds(value: object, key: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return parse_duration(str(value), flag=key)


def _known(value: object) -> bool:
    """False for the placeholder Pulumi passes for a value not known yet (during preview)."""
    from pulumi.runtime import rpc

    return value != rpc.UNKNOWN
