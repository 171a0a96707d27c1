"""--on-failure rollback in a gate of many, through the real `gate wait-all`: a rollback once
due is planned, started and gated to its end, whatever --fail-fast does to the others."""

from __future__ import annotations

import json
from pathlib import Path

from gate.emulator import Emulator, Timeline
from tests.test_fleet import QUICK, gate, release

ENVIRONMENTS = [f"region-{number}" for number in range(8)]


def failing_together(emulator: Emulator) -> None:
    """Each environment: a deployment that succeeded an hour ago, then one that fails at its
    second read; a rollback started there takes a few reads to succeed."""
    for env in ENVIRONMENTS:
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "succeeded")]),
            started_ago=3600,
            set_id=f"good-{env}",
        )
        emulator.add_humanitec(
            "acme", "shop", env, Timeline([(0, "in progress"), (1, "failed")]), set_id=f"bad-{env}"
        )
        emulator.then_humanitec(
            "acme", "shop", env, Timeline([(0, "in progress"), (4, "succeeded")])
        )


def test_fail_fast_never_abandons_a_rollback_once_due(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    """Every target whose own gate failed is rolled back and the rollback gated to success;
    --fail-fast cancels only the waits still undecided, and those are never rolled back."""
    failing_together(paced_emulator)
    file = release(tmp_path, *({"env": env} for env in ENVIRONMENTS))
    code, out, err = gate(
        paced_emulator,
        "wait-all",
        file,
        *QUICK,
        "--fail-fast",
        "--on-failure",
        "rollback",
        "--max-rate",
        "4",
        "--output",
        "json",
    )
    assert code == 1, err
    targets = json.loads(out)["targets"]
    failed = [target for target in targets if target["status"] == "failed"]
    assert failed, err
    for target in failed:
        rollback = target["rollback"]
        assert rollback is not None, target["name"]
        assert rollback["outcome"] is not None, (target["name"], rollback["reason"])
        assert rollback["outcome"]["status"] == "succeeded", (target["name"], rollback)
    for target in targets:
        if target["status"] != "failed":
            assert target["status"] == "cancelled"
            assert target["reason"].startswith("cancelled by --fail-fast:")
            assert target["rollback"] is None
    started = sorted(body["set_id"] for _, body, _ in paced_emulator.posted)
    assert started == sorted(f"good-{target['name']}" for target in failed)
