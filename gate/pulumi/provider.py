"""The dynamic provider behind :class:`gate.pulumi.DeploymentGate`.

It lives in an importable module so that Pulumi pickles it by reference, and it holds no
client, token or other state when pickled: clients are built inside ``create`` from the
environment of ``pulumi up`` and the token the stack chose (see :mod:`gate.pulumi.running`).
What the inputs mean, when a gate waits again and what it records are the same as the native
provider's (:mod:`gate.pulumi.inputs`, :mod:`gate.pulumi.changes`, :mod:`gate.pulumi.outcomes`).
The dynamic provider host serves at most four calls at once and ignores Cancel and
``customTimeouts``: here the gate's own ``timeout`` is the only deadline. The host is sent
every input unwrapped, secret or not; the component's ``secret_inputs`` say which were secret,
and those are never shown (see :mod:`gate.pulumi.secret_inputs`).
"""

from __future__ import annotations

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

from gate.pulumi.changes import Change, change_of
from gate.pulumi.inputs import check_inputs, given_ids
from gate.pulumi.outcomes import (
    OUTPUT_KEYS,
    DeploymentGateFailed,
    outputs_of,
    raised_for_host,
    skipped_outputs,
)
from gate.pulumi.running import Run, run_gate, token_problem
from gate.pulumi.secret_inputs import hidden, resource_id, secret_outputs, texts_at

__all__ = ["DeploymentGateFailed", "DeploymentWaitProvider"]

TOKEN_CONFIG_KEYS = ("gate:humanitecToken", "humanitecToken")


class DeploymentWaitProvider(ResourceProvider):
    """check validates, create waits, diff and update follow :func:`change_of`, delete
    leaves the deployment alone; none of them shows a secret input.
    :class:`~gate.pulumi.fleet_provider.DeploymentsWaitProvider` changes what is waited on
    through ``_failures``, ``_outputs``, ``_change``, ``_id_parts`` and ``recorded_keys``."""

    serialize_as_secret_always = False

    recorded_keys: tuple[str, ...] = OUTPUT_KEYS
    """The outputs an update that does not wait carries over from the recorded state."""

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
        secrets = texts_at(news)
        failures = [
            CheckFailure(failure.property, hidden(failure.reason, secrets))
            for failure in self._failures(news)
        ]
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        secrets = texts_at(props)
        outs = {**props, **self._waited(props, secrets)}
        return CreateResult(
            id_=resource_id(self._id_parts(props, outs), secrets),
            outs=secret_outputs(outs, secrets),
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        change = self._change(olds, news)
        return DiffResult(
            changes=change.changed, replaces=list(change.replaces), delete_before_replace=False
        )

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        secrets = texts_at(news)
        if self._change(olds, news).waits_again:
            outs = {**news, **self._waited(news, secrets)}
        else:
            outs = {**news, **{key: olds.get(key) for key in self.recorded_keys}}
        return UpdateResult(outs=secret_outputs(outs, secrets))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, secret_outputs(props, texts_at(props)))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Forgetting a gate leaves the deployment alone."""

    def _change(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Change:
        return change_of(olds, news)

    def _failures(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        failures = [CheckFailure(failure.key, failure.reason) for failure in check_inputs(news)]
        problem = token_problem(news, self._configured_token, os.environ)
        if problem:
            failures.append(CheckFailure("", problem))
        return failures

    def _id_parts(self, props: Mapping[str, Any], outs: Mapping[str, Any]) -> list[str]:
        """The parts of the resource id: ``humanitec``, then the ids waited on."""
        return [str(props["provider"]), *map(str, outs["target"].values())]

    def _outputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The outputs of a gate that passed; raises :class:`DeploymentGateFailed` otherwise."""
        if props.get("skip_await") is True:
            return skipped_outputs(given_ids(props))
        return outputs_of(run_gate(props, Run(configured_token=self._configured_token)))

    def _waited(self, props: Mapping[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
        try:
            return self._outputs(props)
        except DeploymentGateFailed as failed:
            message = hidden(str(failed), secrets)
        raise raised_for_host(message)
