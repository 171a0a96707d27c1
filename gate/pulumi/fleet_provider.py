"""The dynamic provider behind :class:`gate.pulumi.DeploymentGates`: many targets, one wait.

``create`` runs :func:`gate.waiting.fleet.wait_all` over every target in one call of the provider
host, so the targets share one request budget per API (the host serves four calls at once;
four single gates could not share anything). Check, run and outputs are the native
provider's too (:mod:`gate.pulumi.many`); diff and update follow the single gate's rules
(:mod:`gate.pulumi.changes`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import CheckFailure

from gate.pulumi.changes import Change, fleet_change_of
from gate.pulumi.many import (
    MANY_OUTPUT_KEYS,
    gates_failures,
    gates_outputs,
    run_gates,
    skipped_outputs,
)
from gate.pulumi.provider import DeploymentWaitProvider
from gate.pulumi.running import Run

__all__ = ["DeploymentsWaitProvider"]


class DeploymentsWaitProvider(DeploymentWaitProvider):
    """check validates each target, create waits on all, diff and update follow
    :func:`fleet_change_of`; the rest (and what hides a secret input) is the single gate's
    provider."""

    def _failures(self, news: Mapping[str, Any]) -> list[CheckFailure]:
        failures = gates_failures(news, configured_token=self._configured_token, env=os.environ)
        return [CheckFailure(failure.key, failure.reason) for failure in failures]

    recorded_keys = MANY_OUTPUT_KEYS

    def _change(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Change:
        return fleet_change_of(olds, news)

    def _id_parts(self, props: Mapping[str, Any], outs: Mapping[str, Any]) -> list[str]:
        return [str(target["name"]) for target in props["targets"]]

    def _outputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        if props.get("skip_await") is True:
            return skipped_outputs(props, "skip_await")
        run = Run(configured_token=self._configured_token)
        return gates_outputs(run_gates(props, run))
