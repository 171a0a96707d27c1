"""``gate:index:DeploymentGate`` (and ``DeploymentGates``, many targets at once) as a native
Pulumi provider, for programs in any language.

The rules are the Python component's (:mod:`gate.pulumi.inputs`, :mod:`gate.pulumi.changes`,
:mod:`gate.pulumi.outcomes`); what the native provider adds is what a dynamic provider is never
told: preview (answered without a single API call), the resource's ``customTimeouts`` (they
shorten the gate's ``timeout``), Cancel (every wait under way ends as cancelled) and the engine's
log, where each progress line is scoped to its resource. The Humanitec token is secret provider
config; the state holds the inputs and the outcome, never the token. A gate of many targets is
served by the same calls, through the dynamic ``DeploymentGates``'s path
(:mod:`gate.pulumi.many`).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    UpdateRequest,
    UpdateResponse,
)
from pulumi.runtime import rpc

from gate.core.description import camel_case
from gate.core.errors import ConfigError
from gate.core.model import Outcome
from gate.core.secret import header_token
from gate.providers.registry import available_providers, load_plugin
from gate.pulumi.changes import Change, change_of, fleet_change_of
from gate.pulumi.inputs import TARGET_KEYS, check_inputs, given_ids
from gate.pulumi.many import (
    MANY_OUTPUT_KEYS,
    gates_failures,
    gates_outputs,
    run_gates,
)
from gate.pulumi.many import skipped_outputs as skipped_gates
from gate.pulumi.native import schema
from gate.pulumi.native.engine_log import EngineLog
from gate.pulumi.native.properties import (
    BLOCKS,
    Flat,
    Gates,
    from_python,
    name_of,
    secret_texts,
    to_python,
)
from gate.pulumi.outcomes import OUTPUT_KEYS, DeploymentGateFailed, outputs_of, skipped_outputs
from gate.pulumi.running import CONFIG_TOKEN_SOURCE, Run, run_gate, token_problem
from gate.pulumi.secret_inputs import hidden, resource_id

__all__ = ["TYPE_TOKEN", "GateProvider", "schema_text"]

TYPE_TOKEN = "gate:index:DeploymentGate"  # noqa: S105 - a Pulumi type token, not a secret
MANY_TYPE_TOKEN = "gate:index:DeploymentGates"  # noqa: S105 - a Pulumi type token
TOKEN_KEY = "humanitecToken"  # noqa: S105 - the name of a config key
OUTPUTS = tuple(camel_case(key) for key in OUTPUT_KEYS)
MANY_OUTPUTS = tuple(camel_case(key) for key in MANY_OUTPUT_KEYS)
CANCELLED = "deployment gate cancelled: the Pulumi engine asked the provider to stop"
MAX_GATES = 1024
"""Gates one provider process waits on at once (the engine's --parallel defaults to 'many')."""


def schema_text() -> str:
    """The schema of the ``gate`` package: a target type for every provider installed."""
    return schema.schema_text([load_plugin(name).description for name in available_providers()])


class GateProvider(Provider):
    def __init__(self, *, log: EngineLog, env: Mapping[str, str] | None = None) -> None:
        self._log = log
        self._env = env
        self._token: str | None = None
        self._stop = threading.Event()
        # Not asyncio's default pool (min(32, CPUs + 4) threads: 6 gates at once on 2 CPUs,
        # the others' clocks not started): a gate mostly sleeps, so every one gets a thread.
        self._waits = ThreadPoolExecutor(max_workers=MAX_GATES, thread_name_prefix="gate")

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=schema_text())

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        failures = []
        token = _configured_token(request.new_inputs, {})
        if token:
            try:
                header_token(CONFIG_TOKEN_SOURCE, token)
            except ConfigError as unusable:
                failures.append(CheckFailure(TOKEN_KEY, str(unusable)))
        return CheckResponse(inputs=request.new_inputs, failures=failures)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        self._token = _configured_token(request.args, request.variables)
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def check(self, request: CheckRequest) -> CheckResponse:
        secrets = secret_texts(request.new_inputs)
        failures = [
            CheckFailure(failure.property, hidden(failure.reason, secrets))
            for failure in self._failures(request.urn, request.new_inputs)
        ]
        return CheckResponse(inputs=request.new_inputs, failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        kind = _kind(request.urn)
        olds, news = kind.flat(request.old_state), kind.flat(request.new_inputs)
        change = kind.change(olds.props, news.props)
        detailed: dict[str, PropertyDiff] = {}
        for key in change.replaces:
            for name in _top_level(key, olds.block, news.block):
                detailed[name] = PropertyDiff(PropertyDiffKind.UPDATE_REPLACE, input_diff=True)
        for key in change.updates:
            detailed[camel_case(key)] = PropertyDiff(PropertyDiffKind.UPDATE, input_diff=True)
        if change.waits_again:
            detailed["status"] = PropertyDiff(PropertyDiffKind.UPDATE, input_diff=False)
        replaces = [name for name, diff in detailed.items() if diff.kind.name.endswith("REPLACE")]
        return DiffResponse(
            changes=change.changed,
            replaces=replaces,
            diffs=list(detailed),
            detailed_diff=detailed,
            delete_before_replace=False,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        kind = _kind(request.urn)
        flat = kind.flat(request.properties)
        if request.preview:
            unknown = _unknown_outputs(kind.outputs)
            return CreateResponse(properties={**request.properties, **unknown})
        secrets = secret_texts(request.properties)
        outputs = await self._outputs(request.urn, flat.props, request.timeout, secrets)
        if kind is _MANY:
            ids = [target["name"] for target in flat.props["targets"]]
        else:
            ids = [flat.props["provider"], *outputs["target"].values()]
        return CreateResponse(
            resource_id=resource_id([str(part) for part in ids], secrets),
            properties={**request.properties, **_as_properties(outputs, request.properties)},
        )

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        kind = _kind(request.urn)
        olds, news = kind.flat(request.olds), kind.flat(request.news)
        if not kind.change(olds.props, news.props).waits_again:
            recorded = {key: request.olds[key] for key in kind.outputs if key in request.olds}
            return UpdateResponse(properties={**request.news, **recorded})
        if request.preview:
            unknown = _unknown_outputs(kind.outputs)
            return UpdateResponse(properties={**request.news, **unknown})
        secrets = secret_texts(request.news)
        outputs = await self._outputs(request.urn, news.props, request.timeout, secrets)
        return UpdateResponse(properties={**request.news, **_as_properties(outputs, request.news)})

    async def delete(self, request: DeleteRequest) -> None:
        """Forgetting a gate leaves the deployment alone."""

    async def cancel(self) -> None:
        self._stop.set()

    def _failures(self, urn: str, inputs: Mapping[str, PropertyValue]) -> list[CheckFailure]:
        if _kind(urn) is _MANY:
            return self._gates_failures(Gates(inputs))
        flat = Flat(inputs)
        if len(flat.blocks) != 1:
            given = " and ".join(flat.blocks) or "none"
            blocks = ", ".join(BLOCKS)
            reason = f"set exactly one of {blocks} (the deployment to wait on); got {given}"
            return [CheckFailure("", reason)]
        named = name_of(flat.block)
        failures = [
            CheckFailure(named(failure.key), failure.reason)
            for failure in check_inputs(flat.props, named)
        ]
        problem = token_problem(flat.props, self._token, self._environment())
        if problem:
            failures.append(CheckFailure("", problem))
        return failures

    def _gates_failures(self, gates: Gates) -> list[CheckFailure]:
        """A gate of many's failures, named as the schema names them: each target in exactly
        one block, then the dynamic DeploymentGates's checks."""
        failures = []
        blockless = set()
        for index, flat in enumerate(gates.targets):
            if len(flat.blocks) != 1:
                blockless.add(f"targets[{index}].provider")
                given = " and ".join(flat.blocks) or "none"
                reason = f"set exactly one of {', '.join(BLOCKS)}; got {given}"
                failures.append(CheckFailure(f"targets[{index}]", reason))
        checked = gates_failures(
            gates.props,
            configured_token=self._token,
            env=self._environment(),
            name_of=camel_case,
            target_name_of=gates.target_name_of,
        )
        return failures + [
            CheckFailure(failure.key, failure.reason)
            for failure in checked
            if failure.key not in blockless
        ]

    async def _outputs(
        self, urn: str, props: Mapping[str, Any], timeout: float, secrets: tuple[str, ...]
    ) -> dict[str, Any]:
        """The gate's outputs; its log lines and its failure never show a secret input."""
        try:
            return await self._waited(urn, props, timeout, secrets)
        except DeploymentGateFailed as failed:
            raise DeploymentGateFailed(hidden(str(failed), secrets)) from None

    async def _waited(
        self, urn: str, props: Mapping[str, Any], timeout: float, secrets: tuple[str, ...]
    ) -> dict[str, Any]:
        many = _kind(urn) is _MANY
        if props.get("skip_await") is True:
            self._log.say(urn, "not waiting: skipAwait is set (no API was called)")
            return skipped_gates(props, "skipAwait") if many else skipped_outputs(given_ids(props))
        if self._stop.is_set():
            raise DeploymentGateFailed(CANCELLED)
        created = time.monotonic()

        def run_from_create() -> Run:
            # The gate's clock started at Create: time spent before a thread took it counts.
            left = max(timeout - (time.monotonic() - created), 0.001) if timeout > 0 else 0.0
            return Run(
                configured_token=self._token,
                env=self._environment(),
                stop=self._stop,
                say=lambda line: self._log.say(urn, hidden(line, secrets)),
                engine_timeout=left,
            )

        loop = asyncio.get_running_loop()
        if many:
            gates = await loop.run_in_executor(
                self._waits, lambda: run_gates(props, run_from_create())
            )
            return gates_outputs(gates)

        def wait_from_create() -> Outcome:
            return run_gate(props, run_from_create())

        outcome = await loop.run_in_executor(self._waits, wait_from_create)
        return outputs_of(outcome)

    def _environment(self) -> Mapping[str, str]:
        return dict(os.environ) if self._env is None else self._env


def _configured_token(
    args: Mapping[str, PropertyValue], variables: Mapping[str, str]
) -> str | None:
    value = args.get(TOKEN_KEY)
    if value is not None and isinstance(to_python(value), str):
        return str(to_python(value)) or None
    for key in (f"gate:config:{TOKEN_KEY}", f"gate:{TOKEN_KEY}"):
        if variables.get(key):
            return variables[key]
    return None


def _top_level(key: str, old_block: str, new_block: str) -> list[str]:
    """The top-level inputs a changed flat key shows as: its target block(s), or itself."""
    if key in TARGET_KEYS:
        return sorted({old_block, new_block} - {""})
    return [camel_case(key)]


def _unknown_outputs(keys: tuple[str, ...]) -> dict[str, PropertyValue]:
    # The wire's own unknown sentinel: this SDK's PropertyValue.computed() cannot be marshalled.
    return {key: PropertyValue(rpc.UNKNOWN) for key in keys}


@dataclass(frozen=True)
class _Kind:
    """What tells the two resources apart in every call: how their inputs are read flat,
    when they wait again, and what they record."""

    flat: Callable[[Mapping[str, PropertyValue]], Flat | Gates]
    change: Callable[[Mapping[str, Any], Mapping[str, Any]], Change]
    outputs: tuple[str, ...]


_ONE = _Kind(Flat, change_of, OUTPUTS)
_MANY = _Kind(Gates, fleet_change_of, MANY_OUTPUTS)


def _kind(urn: str) -> _Kind:
    """The resource a URN names: ``urn:pulumi:stack::project::parent$gate:index:Type::name``."""
    parts = urn.split("::")
    typ = parts[2].rsplit("$", 1)[-1] if len(parts) > 3 else ""
    return _MANY if typ == MANY_TYPE_TOKEN else _ONE


def _as_properties(
    outputs: Mapping[str, Any], inputs: Mapping[str, PropertyValue]
) -> dict[str, PropertyValue]:
    """The outputs as property values, secret if any input was (a secret id stays secret)."""
    secret = any(value.contains_secret() for value in inputs.values())
    return {camel_case(key): from_python(value, secret=secret) for key, value in outputs.items()}
