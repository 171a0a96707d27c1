"""gate: block until a deployment reaches a terminal status, and say why it failed.

from gate import wait, WaitOptions
from gate.providers.humanitec import HumanitecDeployment, connect

outcome = wait(HumanitecDeployment(connect(url, token, request_timeout=10), org=..., ...))
if not outcome.succeeded:
    print(outcome.reason, outcome.errors)
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from gate.providers import Provider, ProviderPlugin
    from gate.waiting.engine import WaitOptions, wait
    from gate.waiting.fleet import FleetOutcome, Target, wait_all
    from gate.wire.sharing import Sharing

_EXPORTS = {
    "AuthError": "gate.core.errors",
    "ConfigError": "gate.core.errors",
    "ErrorDetail": "gate.core.model",
    "Field": "gate.core.description",
    "FieldError": "gate.core.description",
    "FleetOutcome": "gate.waiting.fleet",
    "GateError": "gate.core.errors",
    "NotFoundError": "gate.core.errors",
    "Outcome": "gate.core.model",
    "OutcomeStatus": "gate.core.model",
    "Provider": "gate.providers",
    "ProviderPlugin": "gate.providers",
    "ReadError": "gate.core.errors",
    "RequestRejected": "gate.core.errors",
    "Sharing": "gate.wire.sharing",
    "Snapshot": "gate.core.model",
    "State": "gate.core.model",
    "Target": "gate.waiting.fleet",
    "TargetDescription": "gate.core.description",
    "TargetValues": "gate.core.description",
    "TransientError": "gate.core.errors",
    "UsageError": "gate.core.errors",
    "WaitOptions": "gate.waiting.engine",
    "wait": "gate.waiting.engine",
    "wait_all": "gate.waiting.fleet",
}
"""Where each public name lives: imported when first used, so ``gate --version`` and
``gate wait PROVIDER --help`` load only what they need."""


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gate' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "ErrorDetail",
    "Field",
    "FieldError",
    "FleetOutcome",
    "GateError",
    "NotFoundError",
    "Outcome",
    "OutcomeStatus",
    "Provider",
    "ProviderPlugin",
    "ReadError",
    "RequestRejected",
    "Sharing",
    "Snapshot",
    "State",
    "Target",
    "TargetDescription",
    "TargetValues",
    "TransientError",
    "UsageError",
    "WaitOptions",
    "__version__",
    "wait",
    "wait_all",
]
