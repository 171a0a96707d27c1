"""What a Pulumi gate's inputs mean, and everything wrong with them, by input name.

Both Pulumi faces (the Python dynamic provider and the native ``gate`` provider) hold a gate's
inputs as one flat mapping with the keys below. Each face shows its own names (``deploy_id``
or ``humanitec.deployId``) through a ``name_of`` function, so a reason never names a CLI flag.
Check runs before preview and before every update: anything that can be known wrong from
the inputs alone is a check failure, never an error halfway through ``pulumi up``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from gate.description import TargetDescription
from gate.durations import LONGEST_DURATION, format_duration, parse_duration
from gate.engine import DEFAULT_REQUEST_TIMEOUT, WaitOptions
from gate.errors import GateError, UsageError
from gate.ids import require_id
from gate.schedule import DEFAULT_MAX_INTERVAL
from gate.urls import require_api_url

__all__ = [
    "DURATION_KEYS",
    "PROVIDERS",
    "TARGET_KEYS",
    "Failure",
    "NameOf",
    "check_inputs",
    "given_ids",
    "is_latest",
    "known",
    "seconds",
    "target_fields",
    "timing_failures",
    "wait_options",
]

PROVIDERS = ("humanitec", "greengrass", "greengrass-v2")
TARGET_KEYS_OF: Mapping[str, tuple[str, ...]] = {
    "humanitec": (
        "org",
        "app",
        "env",
        "deploy_id",
        "latest",
        "api_url",
        "allow_plain_http",
        "require_ready",
    ),
    "greengrass": (
        "group_id",
        "deployment_id",
        "region",
        "profile",
        "endpoint_url",
        "allow_plain_http",
    ),
    "greengrass-v2": (
        "deployment_id",
        "min_success",
        "unfinished_devices",
        "fail_fast",
        "region",
        "profile",
        "endpoint_url",
        "allow_plain_http",
    ),
}
TARGET_KEYS = ("provider", *dict.fromkeys(k for keys in TARGET_KEYS_OF.values() for k in keys))
"""Inputs that say which deployment to wait on: a change is a new gate (a replace)."""
REQUIRED_IDS: Mapping[str, tuple[str, ...]] = {
    "humanitec": ("org", "app", "env"),
    "greengrass": ("group_id", "deployment_id"),
    "greengrass-v2": ("deployment_id",),
}
ID_KEYS = ("org", "app", "env", "deploy_id", "group_id", "deployment_id")
URL_KEYS = ("api_url", "endpoint_url")
TEXT_KEYS = (*ID_KEYS, *URL_KEYS, "pipeline", "run", "region", "profile", "unfinished_devices")
"""Inputs that are text: a number given for one (``org: 123``) is refused, not turned into
text, as every Pulumi language would let it through as a number."""
DURATION_KEYS = ("timeout", "interval", "max_interval", "request_timeout", "not_found_grace")

NameOf = Callable[[str], str]
"""A face's name for an input key (``deploy_id`` -> ``humanitec.deployId``)."""


@dataclass(frozen=True)
class Failure:
    """One input that cannot work: its key and a reason a person can act on."""

    key: str
    reason: str


def known(value: object) -> bool:
    """False for the placeholder Pulumi passes for a value not known yet (during preview)."""
    from pulumi.runtime import rpc

    return value != rpc.UNKNOWN


def is_latest(props: Mapping[str, Any]) -> bool:
    """True when a Humanitec gate follows the environment's latest deployment."""
    return props.get("provider") == "humanitec" and props.get("latest") is True


def given_ids(props: Mapping[str, Any]) -> dict[str, str]:
    """The ids a gate was given (for a gate that read nothing, so resolved none)."""
    return {key: str(props[key]) for key in ID_KEYS if props.get(key)}


def check_inputs(props: Mapping[str, Any], name_of: NameOf = str) -> list[Failure]:
    """Every input of ``props`` that cannot work; values not known yet are left for later."""
    provider = props.get("provider")
    if not known(provider):
        return []
    if provider not in PROVIDERS:
        return [Failure("provider", f"{name_of('provider')} must be one of {', '.join(PROVIDERS)}")]
    failures = _missing_ids(str(provider), props, name_of)
    failures += _malformed(props, name_of)
    failures += timing_failures(props, name_of)
    failures += _fleet_policy_failures(props, name_of)
    for key in ("latest", "allow_plain_http", "require_ready", "fail_fast", "skip_await"):
        value = props.get(key)
        if known(value) and value is not None and not isinstance(value, bool):
            failures.append(Failure(key, f"{name_of(key)} must be true or false"))
    return failures


def _missing_ids(provider: str, props: Mapping[str, Any], name_of: NameOf) -> list[Failure]:
    failures = [
        Failure(key, f"{name_of(key)} is required and has no value")
        for key in REQUIRED_IDS[provider]
        if known(props.get(key)) and not props.get(key)
    ]
    if provider != "humanitec":
        return failures
    deploy_id, latest = props.get("deploy_id"), props.get("latest")
    if not (known(deploy_id) and known(latest)):
        return failures
    if latest is True and deploy_id is not None:
        failures.append(
            Failure("deploy_id", f"set {name_of('deploy_id')} or {name_of('latest')}, not both")
        )
    elif latest is not True and not deploy_id:
        failures.append(
            Failure(
                "deploy_id",
                f"{name_of('deploy_id')} has no value (did an Output resolve to nothing?): "
                f"give the deployment's id, or set {name_of('latest')} to wait on the "
                "environment's latest deployment",
            )
        )
    return failures


def _malformed(props: Mapping[str, Any], name_of: NameOf) -> list[Failure]:
    failures = [
        Failure(key, f"{name_of(key)} must be text, not {_kind_of(props[key])}")
        for key in TEXT_KEYS
        if props.get(key) is not None and known(props[key]) and not isinstance(props[key], str)
    ]
    wrong_type = {failure.key for failure in failures}
    for key in ID_KEYS:
        value = props.get(key)
        if value and known(value) and key not in wrong_type:
            try:
                require_id(name_of(key), str(value))
            except GateError as bad:
                failures.append(Failure(key, str(bad)))
    plain_http = props.get("allow_plain_http") is True
    for key in URL_KEYS:
        value = props.get(key)
        if value and known(value) and key not in wrong_type:
            try:
                require_api_url(
                    name_of(key),
                    str(value),
                    allow_plain_http=plain_http,
                    plain_http_advice=f"set {name_of('allow_plain_http')}",
                )
            except GateError as bad:
                failures.append(Failure(key, str(bad)))
    return failures


def timing_failures(props: Mapping[str, Any], name_of: NameOf = str) -> list[Failure]:
    """The durations of ``props`` that are not usable, alone or together."""
    failures = []
    parsed: dict[str, float] = {}
    for key in DURATION_KEYS:
        value = props.get(key)
        if value is None or not known(value):
            continue
        try:
            parsed[key] = seconds(value, name_of(key))
        except GateError as bad:
            failures.append(Failure(key, str(bad)))
            continue
        too_low = parsed[key] < 0 if key == "not_found_grace" else parsed[key] <= 0
        if too_low or parsed[key] > LONGEST_DURATION:
            bound = "0 or more" if key == "not_found_grace" else "more than 0"
            most = format_duration(LONGEST_DURATION)
            failures.append(Failure(key, f"{name_of(key)} must be {bound} and at most {most}"))
    interval = parsed.get("interval")
    longest = parsed.get("max_interval", DEFAULT_MAX_INTERVAL)
    if interval is not None and interval > longest and not _names_failed(failures, "max_interval"):
        source = (
            f"{name_of('max_interval')} ({format_duration(longest)})"
            if "max_interval" in parsed
            else f"{format_duration(longest)}, the longest gap between reads unless "
            f"{name_of('max_interval')} is set"
        )
        failures.append(
            Failure(
                "interval",
                f"{name_of('interval')} ({format_duration(interval)}) must not exceed {source}",
            )
        )
    return failures


def _names_failed(failures: list[Failure], key: str) -> bool:
    return any(failure.key == key for failure in failures)


def _fleet_policy_failures(props: Mapping[str, Any], name_of: NameOf) -> list[Failure]:
    """A Greengrass v2 policy that can never work."""
    if props.get("provider") != "greengrass-v2":
        return []
    from gate.providers.greengrass_v2 import FleetPolicy

    min_success = props.get("min_success")
    unfinished = props.get("unfinished_devices")
    failures: list[Failure] = []
    if known(min_success) and min_success is not None:
        number = (
            min_success
            if isinstance(min_success, (int, float)) and not isinstance(min_success, bool)
            else math.nan
        )
        try:
            FleetPolicy(min_success=number)
        except GateError:
            failures.append(
                Failure(
                    "min_success", f"{name_of('min_success')} must be a number above 0, at most 100"
                )
            )
    if known(unfinished) and unfinished is not None:
        try:
            FleetPolicy(unfinished=str(unfinished))
        except GateError:
            failures.append(
                Failure(
                    "unfinished_devices", f"{name_of('unfinished_devices')} must be count or ignore"
                )
            )
    return failures


def seconds(value: object, name: str) -> float:
    """A duration input in seconds: a finite number, or text such as ``"90s"``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise UsageError(f"{name} must be a number of seconds, not {value}")
        return float(value)
    if not isinstance(value, str):
        raise UsageError(f"{name} must be a duration such as 90s or 20m, not {_kind_of(value)}")
    return parse_duration(value, flag=name)


def _kind_of(value: object) -> str:
    """``a number`` / ``true or false`` / ``a list``: how a refusal names what it was given."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def wait_options(props: Mapping[str, Any], *, engine_timeout: float = 0.0) -> WaitOptions:
    """The wait options of checked ``props`` (unset ones as ``gate wait`` has them);
    ``engine_timeout`` (the resource's ``customTimeouts``, 0 for none) shortens the gate's own
    timeout, never lengthens it."""
    given = {
        key: seconds(props[key], key)
        for key in ("timeout", "interval", "max_interval", "not_found_grace")
        if props.get(key) is not None
    }
    options = WaitOptions(**given)
    if 0 < engine_timeout < options.timeout:
        options = replace(options, timeout=engine_timeout)
    return options


def request_timeout(props: Mapping[str, Any]) -> float:
    value = props.get("request_timeout")
    return DEFAULT_REQUEST_TIMEOUT if value is None else seconds(value, "request_timeout")


def target_fields(props: Mapping[str, Any], description: TargetDescription) -> dict[str, object]:
    """The fields of ``description`` that checked ``props`` give (unset ones left out)."""
    return {key: props[key] for key in description.keys if props.get(key) is not None}
