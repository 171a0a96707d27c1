"""Humanitec Platform Orchestrator: v1 (:mod:`~gate.providers.humanitec.v1`) and v2
(:mod:`~gate.providers.humanitec.v2`), over the HTTP API they share
(:mod:`~gate.providers.humanitec.api`).

A library user builds a provider from here::

    from gate.providers.humanitec import HumanitecDeployment, connect

The names are imported when first used, so a plugin of this package (``gate wait humanitec
--help``) loads no httpx.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gate.providers.humanitec.api import connect
    from gate.providers.humanitec.v1.reader import HumanitecDeployment
    from gate.providers.humanitec.v2.reader import HumanitecV2Deployment

_EXPORTS = {
    "HumanitecDeployment": "gate.providers.humanitec.v1.reader",
    "HumanitecV2Deployment": "gate.providers.humanitec.v2.reader",
    "connect": "gate.providers.humanitec.api",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


__all__ = ["HumanitecDeployment", "HumanitecV2Deployment", "connect"]
