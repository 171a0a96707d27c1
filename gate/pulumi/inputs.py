"""What a Pulumi gate's inputs mean, and everything wrong with them, by input name.

Both Pulumi faces (the Python dynamic provider and the native ``gate`` provider) hold a gate's
inputs as one flat mapping with the keys below. Each face shows its own names (``deploy_id``
or ``humanitec.deployId``) through a ``name_of`` function, so a reason never names a CLI flag.
Check runs before preview and before every update: anything that can be known wrong from
the inputs alone is a check failure, never an error halfway through ``pulumi up``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from gate.bake.options import AFTER_SUCCESS
from gate.core.description import FieldError, TargetDescription
from gate.core.errors import GateError, UsageError
from gate.providers.registry import BUILT_IN, available_providers, load_plugin
from gate.telling.options import TELLING
from gate.waiting.engine import WaitOptions, bake_fits
from gate.waiting.options import DEFAULT_REQUEST_TIMEOUT, DEFAULT_TIMEOUT, WAITING, WAITING_OPTIONS

__all__ = [
    "AFTER_KEYS",
    "DURATION_KEYS",
    "TARGET_KEYS",
    "Failure",
    "NameOf",
    "check_inputs",
    "given_ids",
    "is_latest",
    "known",
    "option_failures",
    "seconds",
    "target_fields",
    "timing_failures",
    "wait_options",
]

TARGET_KEYS_OF: Mapping[str, tuple[str, ...]] = {
    name: load_plugin(name).description.keys for name in BUILT_IN
}
"""Each built-in provider's target fields, as its description declares them."""
TARGET_KEYS = ("provider", *dict.fromkeys(k for keys in TARGET_KEYS_OF.values() for k in keys))
"""Inputs that say which deployment to wait on: a change is a new gate (a replace)."""
ID_KEYS = tuple(
    dict.fromkeys(
        field.key
        for name in BUILT_IN
        for field in load_plugin(name).description.fields
        if field.kind == "id"
    )
)
DURATION_KEYS = tuple(field.key for field in WAITING)
AFTER_KEYS = (*AFTER_SUCCESS.keys, *TELLING.keys)
"""The bake's, the rollback's and the telling's options: changing one is an update, not a
new gate."""
_WAITING = {field.key: field for field in WAITING}

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


def providers() -> list[str]:
    """Every provider a gate may name: built-in, and installed through entry points."""
    return available_providers()


def check_inputs(props: Mapping[str, Any], name_of: NameOf = str) -> list[Failure]:
    """Every input of ``props`` that cannot work; values not known yet are left for later.
    The target's fields are checked by its provider's description, as every face checks
    them, and named as this face names them."""
    provider = props.get("provider")
    if not known(provider):
        return []
    if not isinstance(provider, str) or provider not in providers():
        return [
            Failure("provider", f"{name_of('provider')} must be one of {', '.join(providers())}")
        ]
    description = load_plugin(provider).description
    keys = (*description.keys, *description.former_keys)  # a former key is refused by name
    given = {key: props[key] for key in keys if props.get(key) is not None}
    unknown = [key for key, value in given.items() if not known(value)]
    failures = _unresolved_deploy_id(provider, props, name_of)
    if not failures:
        failures = [
            Failure(problem.key, problem.worded(name_of))
            for problem in description.problems(given, unknown=unknown)
        ]
    return failures + option_failures(props, name_of)


def option_failures(props: Mapping[str, Any], name_of: NameOf = str) -> list[Failure]:
    """What a gate does beyond its target(s) that cannot work: its timing, bake, rollback and
    telling, and ``skip_await``; a gate of one target and a gate of many check them alike."""
    failures = timing_failures(props, name_of) + after_failures(props, name_of)
    value = props.get("skip_await")
    if known(value) and value is not None and not isinstance(value, bool):
        failures.append(Failure("skip_await", f"{name_of('skip_await')} must be true or false"))
    return failures


def _unresolved_deploy_id(
    provider: str, props: Mapping[str, Any], name_of: NameOf
) -> list[Failure]:
    """A Humanitec deploy id given as an Output that resolved to nothing: never read as
    'the latest deployment' (the component sets ``latest`` only when no id was given)."""
    deploy_id, latest, run = props.get("deploy_id"), props.get("latest"), props.get("run")
    if provider != "humanitec" or not (known(deploy_id) and known(latest) and known(run)):
        return []
    if latest is True or deploy_id or run:
        return []
    return [
        Failure(
            "deploy_id",
            f"{name_of('deploy_id')} has no value (did an Output resolve to nothing?): "
            f"give the deployment's id, or set {name_of('latest')} to wait on the "
            "environment's latest deployment",
        )
    ]


def timing_failures(props: Mapping[str, Any], name_of: NameOf = str) -> list[Failure]:
    """The durations of ``props`` that are not usable, alone or together."""
    given = {key: props[key] for key in DURATION_KEYS if props.get(key) is not None}
    unknown = [key for key, value in given.items() if not known(value)]
    return [
        Failure(problem.key, problem.worded(name_of))
        for problem in WAITING_OPTIONS.problems(given, unknown=unknown)
    ]


def after_failures(props: Mapping[str, Any], name_of: NameOf = str) -> list[Failure]:
    """The bake's, the rollback's and the telling's options that cannot work, alone or
    together."""
    given = after_fields(props)
    unknown = [key for key, value in given.items() if not known(value)]
    failures = [
        Failure(problem.key, problem.worded(name_of))
        for description in (AFTER_SUCCESS, TELLING)
        for problem in description.problems(
            {key: value for key, value in given.items() if key in description.keys},
            unknown=[key for key in unknown if key in description.keys],
        )
    ]
    bake, timeout = given.get("bake"), props.get("timeout")
    if failures or bake is None or unknown or not known(timeout):
        return failures
    try:
        limit = DEFAULT_TIMEOUT if timeout is None else seconds(timeout, "timeout")
    except GateError:
        return failures  # the timing's own check names it
    try:
        bake_fits(AFTER_SUCCESS.field("bake").seconds(bake), limit)
    except FieldError as refused:
        failures.append(Failure(refused.key, refused.worded(name_of)))
    return failures


def after_fields(
    props: Mapping[str, Any], description: TargetDescription | None = None
) -> dict[str, object]:
    """The options of :data:`AFTER_KEYS` (of ``description`` alone, when given) that
    ``props`` give."""
    keys = description.keys if description is not None else AFTER_KEYS
    return {key: props[key] for key in keys if props.get(key) is not None}


def seconds(value: object, key: str, name_of: NameOf = str) -> float:
    """The waiting option ``key`` in seconds: a finite number, or text such as ``"90s"``
    (read by its field, as every face reads it), named as ``name_of`` says."""
    try:
        return _WAITING[key].seconds(value)
    except FieldError as bad:
        raise UsageError(bad.worded(name_of)) from None


def wait_options(props: Mapping[str, Any], *, engine_timeout: float = 0.0) -> WaitOptions:
    """The wait options of checked ``props`` (unset ones as ``gate wait`` has them);
    ``engine_timeout`` (the resource's ``customTimeouts``, 0 for none) shortens the gate's own
    timeout, never lengthens it."""
    given = {
        key: seconds(props[key], key)
        for key in ("timeout", "interval", "max_interval", "not_found_grace")
        if props.get(key) is not None
    }
    try:
        options = WaitOptions(**given)
    except FieldError as bad:  # read as every face reads them; said as Pulumi names them
        raise UsageError(bad.worded(str)) from None
    if 0 < engine_timeout < options.timeout:
        options = replace(options, timeout=engine_timeout)
    return options


def request_timeout(props: Mapping[str, Any]) -> float:
    value = props.get("request_timeout")
    return DEFAULT_REQUEST_TIMEOUT if value is None else seconds(value, "request_timeout")


def target_fields(props: Mapping[str, Any], description: TargetDescription) -> dict[str, object]:
    """The fields of ``description`` that checked ``props`` give (unset ones left out)."""
    return {key: props[key] for key in description.keys if props.get(key) is not None}
