"""The tests' builders, one of each, named for what they return.

- Polling fast: :data:`FAST` (``gate`` flags), :data:`FAST_JSON` (the same, JSON on stdout),
  :data:`FAST_PULUMI` (the dynamic provider's inputs), :data:`FAST_NATIVE` (the native
  provider's camelCase inputs): one pair of numbers, in each face's spelling.
- Targets: :func:`humanitec_target` (the ids of a Humanitec deployment, as a dict),
  :func:`humanitec_provider` (the provider, connected to the emulator),
  :func:`humanitec_action_inputs` (the GitHub Action's inputs gating one on the emulator).
- Running the command: :func:`gate_humanitec` (``gate wait humanitec`` on the emulator, as a
  pipeline runs it); :func:`gate_greengrass_v2` and :func:`run_gate` are in tests/support.py.
- Comparisons: :func:`compared_bake` (a bake comparing the emulator's Prometheus error
  ratio with a given baseline window, as field keys), :func:`as_flags` (them as ``gate``
  flags).
- Outcomes: :func:`an_outcome` (an :class:`Outcome` value), :func:`json_outcome` (what the
  command printed with ``--output json``).
- Servers are fixtures (tests/conftest.py: ``emulator``, ``paced_emulator``,
  ``virtual_emulator``, ``moto_server``) and parts (tests/parts/).
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from typing import Any

from gate.core.model import Outcome, OutcomeStatus
from gate.core.secret import Secret
from gate.core.timestamps import iso_utc
from gate.emulator import Emulator
from gate.providers.humanitec.api import connect
from gate.providers.humanitec.v1.reader import HumanitecDeployment
from tests.support import TOKEN, run_gate

__all__ = [
    "FAST",
    "FAST_JSON",
    "FAST_NATIVE",
    "FAST_PULUMI",
    "an_outcome",
    "as_flags",
    "compared_bake",
    "gate_humanitec",
    "humanitec_action_inputs",
    "humanitec_provider",
    "humanitec_target",
    "json_outcome",
]

INTERVAL, MAX_INTERVAL = "0.05s", "0.2s"
"""Poll every 50 ms, backing off to 200 ms at most: a deployment on the emulator is seen to
end within a few reads, and no test waits a second for nothing."""

FAST = ["--interval", INTERVAL, "--max-interval", MAX_INTERVAL]
FAST_JSON = [*FAST, "--output", "json"]
FAST_PULUMI = {"interval": INTERVAL, "max_interval": MAX_INTERVAL}
FAST_NATIVE = {"interval": INTERVAL, "maxInterval": MAX_INTERVAL}
FAST_ACTION = {"interval": INTERVAL, "max-interval": MAX_INTERVAL}


def humanitec_target(
    app: str = "shop", env: str = "production", org: str = "acme", deploy_id: str = "0f3c"
) -> dict[str, str]:
    """A Humanitec deployment's ids, as outcomes and targets carry them."""
    return {"org": org, "app": app, "env": env, "deploy_id": deploy_id}


def humanitec_action_inputs(deploy_id: str, **more: str) -> dict[str, str]:
    """The GitHub Action's inputs for Humanitec deployment ``deploy_id`` of acme/shop/production
    (the emulator's ``HUMANITEC_API_URL`` comes from the environment), polling fast."""
    return {
        "provider": "humanitec",
        "org": "acme",
        "app": "shop",
        "env": "production",
        "deploy-id": deploy_id,
        "humanitec-token": TOKEN,
        **FAST_ACTION,
        **more,
    }


def humanitec_provider(
    emulator: Emulator,
    *,
    env: str = "production",
    deploy_id: str | None = None,
    token: str = TOKEN,
    request_timeout: float = 5.0,
) -> HumanitecDeployment:
    """The Humanitec v1 provider for acme/shop/``env`` on the emulator (the latest deployment
    unless ``deploy_id``); close it when done."""
    client = connect(emulator.url, Secret(token), request_timeout=request_timeout)
    return HumanitecDeployment(
        client, org="acme", app="shop", env=env, deploy_id=deploy_id, token=Secret(token)
    )


def gate_humanitec(
    emulator: Emulator, *flags: str, env: str = "production", token: str | None = TOKEN
) -> subprocess.CompletedProcess[str]:
    """``gate wait humanitec`` for acme/shop/``env`` on the emulator, polling fast, with
    ``flags`` after; ``token=None`` leaves HUMANITEC_TOKEN unset."""
    variables = {"HUMANITEC_API_URL": emulator.url}
    if token is not None:
        variables["HUMANITEC_TOKEN"] = token
    return run_gate(
        "wait",
        "humanitec",
        "--org",
        "acme",
        "--app",
        "shop",
        "--env",
        env,
        *FAST,
        *flags,
        env=variables,
    )


def an_outcome(status: OutcomeStatus = OutcomeStatus.SUCCEEDED, **fields: Any) -> Outcome:
    """A Humanitec gate's outcome with ``status``; ``fields`` change any other field."""
    values: dict[str, Any] = {
        "status": status,
        "provider": "humanitec",
        "target": humanitec_target(deploy_id="0f3c9a"),
        "raw_status": status.value,
        "errors": (),
        "reason": None if status is OutcomeStatus.SUCCEEDED else "it broke",
        "elapsed_seconds": 12.5,
        "polls": 4,
        "started_at": "2026-11-23T10:00:00.000Z",
        "finished_at": "2026-11-23T10:00:12.500Z",
    }
    return Outcome(**{**values, **fields})


def json_outcome(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON line ``gate wait ... --output json`` printed."""
    assert result.stdout.count("\n") == 1, (result.stdout, result.stderr)
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome


ERROR_RATIO = "cart:http_errors:ratio_rate1m"


def compared_bake(emulator: Emulator, *, regressed: bool) -> dict[str, Any]:
    """A 4-second bake (read every 0.5 s) whose comparison ``error_ratio`` reads the
    emulator's Prometheus, as field keys: the error ratio tripled 30 s ago (``regressed``) or
    kept its level, and the baseline window is given, 20 s ending a minute ago, so each side
    holds the level it is meant to however long the gate takes to start. Rolls back on a
    failure."""
    emulator.add_error_ratio(ERROR_RATIO, 0.02, worse_by=3.0 if regressed else 1.0, worse_after=-30)
    now = datetime.now(timezone.utc)
    window = f"{iso_utc(now - timedelta(seconds=80))}..{iso_utc(now - timedelta(seconds=60))}"
    return {
        "bake": "4s",
        "bake_interval": "0.5s",
        "prometheus": emulator.url,
        "compare": [f"error_ratio={ERROR_RATIO}"],
        "compare_baseline": window,
        "compare_min_samples": 5,
        "on_failure": "rollback",
    }


def as_flags(values: dict[str, Any]) -> list[str]:
    """Field keys and values as ``gate wait`` flags (a list repeats its flag)."""
    flags: list[str] = []
    for key, value in values.items():
        for each in value if isinstance(value, list) else [value]:
            flags += [f"--{key.replace('_', '-')}", str(each)]
    return flags
