"""Reading whether an environment's workloads are ready: ``GET .../envs/{env}/runtime``.

A Humanitec deployment ``succeeded`` once its manifests were applied; its workloads can still
fail to start (an image that cannot be pulled, a container that crash-loops). The runtime
answer, asked for as ``application/v2+json`` (contract: ``RuntimeInfoResponseV2``), says per
workload (module) a ``status`` and a ``status_class``, and per controller its pods and their
containers' ``state``: the words Kubernetes used. What it means is judged by
:func:`gate.providers.humanitec.v1.judge.readiness`.
"""

from __future__ import annotations

from gate.providers.humanitec.api import HumanitecApi, path_of
from gate.providers.humanitec.v1.judge import Readiness, readiness

__all__ = ["read_readiness"]

RUNTIME_MEDIA_TYPE = "application/v2+json"


def read_readiness(api: HumanitecApi, *, org: str, app: str, env: str) -> Readiness:
    path = path_of("orgs", org, "apps", app, "envs", env, "runtime")
    body = api.get_object(path, "environment runtime", headers={"Accept": RUNTIME_MEDIA_TYPE})
    return readiness(body)
