"""gate: block until a deployment reaches a terminal status, and say why it failed.

The public library is this package: import every name from ``gate`` itself (and, for Pulumi
programs, from ``gate.pulumi``). Every other module (``gate.core``, ``gate.wire``,
``gate.waiting``, ``gate.providers``, ``gate.bake``, ``gate.telling``, ``gate.render``,
``gate.cli``, ``gate.emulator`` and what is under them) is internal: it may change in any
release, whatever its ``__all__`` says.

    import os

    from gate import HumanitecDeployment, Secret, WaitOptions, connect, wait

    client = connect("https://api.humanitec.io", Secret(os.environ["HUMANITEC_TOKEN"]),
                     request_timeout=10)
    outcome = wait(HumanitecDeployment(client, org="acme", app="shop", env="production",
                                       deploy_id="0f3c9a"), WaitOptions(timeout=900))
    if not outcome.succeeded:
        print(outcome.reason, outcome.errors)
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gate.bake.comparison import Baseline, Comparison
    from gate.bake.probe import HttpProbe
    from gate.bake.prometheus_series import PrometheusSeries
    from gate.bake.run import Bake
    from gate.bake.verdict import MinEffect
    from gate.core.description import Field, FieldError, TargetDescription, TargetValues
    from gate.core.errors import (
        AuthError,
        ConfigError,
        GateError,
        NotFoundError,
        ReadError,
        RequestRejected,
        TransientError,
        UsageError,
    )
    from gate.core.model import ErrorDetail, Outcome, OutcomeStatus, Snapshot, State
    from gate.core.secret import Secret
    from gate.providers import Provider, ProviderPlugin
    from gate.providers.greengrass.v1.reader import GreengrassDeployment
    from gate.providers.greengrass.v2.judge import FleetPolicy
    from gate.providers.greengrass.v2.reader import GreengrassV2Deployment
    from gate.providers.humanitec.api import connect
    from gate.providers.humanitec.v1.reader import HumanitecDeployment
    from gate.providers.humanitec.v2.reader import HumanitecV2Deployment
    from gate.waiting.engine import Timing, WaitOptions, wait
    from gate.waiting.fleet import FleetOutcome, Target, wait_all
    from gate.waiting.plan import GatePlan
    from gate.wire.sharing import Sharing

_EXPORTS = {
    "AuthError": "gate.core.errors",
    "Bake": "gate.bake.run",
    "Baseline": "gate.bake.comparison",
    "Comparison": "gate.bake.comparison",
    "ConfigError": "gate.core.errors",
    "ErrorDetail": "gate.core.model",
    "Field": "gate.core.description",
    "FieldError": "gate.core.description",
    "FleetOutcome": "gate.waiting.fleet",
    "GateError": "gate.core.errors",
    "GatePlan": "gate.waiting.plan",
    "FleetPolicy": "gate.providers.greengrass.v2.judge",
    "GreengrassDeployment": "gate.providers.greengrass.v1.reader",
    "GreengrassV2Deployment": "gate.providers.greengrass.v2.reader",
    "HttpProbe": "gate.bake.probe",
    "HumanitecDeployment": "gate.providers.humanitec.v1.reader",
    "HumanitecV2Deployment": "gate.providers.humanitec.v2.reader",
    "MinEffect": "gate.bake.verdict",
    "NotFoundError": "gate.core.errors",
    "Outcome": "gate.core.model",
    "OutcomeStatus": "gate.core.model",
    "Provider": "gate.providers",
    "PrometheusSeries": "gate.bake.prometheus_series",
    "ProviderPlugin": "gate.providers",
    "ReadError": "gate.core.errors",
    "RequestRejected": "gate.core.errors",
    "Secret": "gate.core.secret",
    "Sharing": "gate.wire.sharing",
    "Snapshot": "gate.core.model",
    "State": "gate.core.model",
    "Target": "gate.waiting.fleet",
    "TargetDescription": "gate.core.description",
    "TargetValues": "gate.core.description",
    "Timing": "gate.waiting.engine",
    "TransientError": "gate.core.errors",
    "UsageError": "gate.core.errors",
    "WaitOptions": "gate.waiting.engine",
    "connect": "gate.providers.humanitec.api",
    "wait": "gate.waiting.engine",
    "wait_all": "gate.waiting.fleet",
}
"""Where each public name lives: imported when first used, so ``gate --version`` and
``gate wait PROVIDER --help`` load only what they need."""


if not TYPE_CHECKING:  # hidden from type checkers, which would read any name through it as Any

    def __getattr__(name: str) -> Any:
        if name not in _EXPORTS:
            raise AttributeError(f"module 'gate' has no attribute {name!r}")
        return getattr(importlib.import_module(_EXPORTS[name]), name)


__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "Bake",
    "Baseline",
    "Comparison",
    "ConfigError",
    "ErrorDetail",
    "Field",
    "FieldError",
    "FleetOutcome",
    "FleetPolicy",
    "GateError",
    "GatePlan",
    "GreengrassDeployment",
    "GreengrassV2Deployment",
    "HttpProbe",
    "HumanitecDeployment",
    "HumanitecV2Deployment",
    "MinEffect",
    "NotFoundError",
    "Outcome",
    "OutcomeStatus",
    "PrometheusSeries",
    "Provider",
    "ProviderPlugin",
    "ReadError",
    "RequestRejected",
    "Secret",
    "Sharing",
    "Snapshot",
    "State",
    "Target",
    "TargetDescription",
    "TargetValues",
    "Timing",
    "TransientError",
    "UsageError",
    "WaitOptions",
    "__version__",
    "connect",
    "wait",
    "wait_all",
]
