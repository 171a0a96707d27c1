"""--on-failure rollback in a gate of many, through the real `gate wait-all`: a rollback once
due is planned, started and gated to its end, whatever --fail-fast does to the others."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from gate.emulator import Emulator, Timeline
from tests.support import TOKEN
from tests.test_fleet import ENDLESS, QUICK, gate, release

FAILING = [f"region-{number}" for number in range(4)]
UNDECIDED = [f"region-{number}" for number in range(4, 8)]


class FailsTogether(Emulator):
    """The emulator, its timelines moved on by reads, except that the answer to a failed
    deployment's error list is held until every one of ``failing`` deployments was asked for
    its own. The gate asks for it once it has read "failed", before its failure is decided:
    when the first is decided (and --fail-fast stops the others), each has read its failure."""

    def __init__(self, failing: int) -> None:
        super().__init__(token=TOKEN, seconds_per_read=1.0)
        self.failing = failing
        self.explained: set[str] = set()
        self.all_failed = threading.Event()
        self._lock = threading.Lock()

    def _answer(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: object,
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET" and path.endswith("/errors"):
            with self._lock:
                self.explained.add(path)
                if len(self.explained) == self.failing:
                    self.all_failed.set()
            self.all_failed.wait(timeout=60)  # a bound for a broken gate, never a pace
        return super()._answer(method, path, headers, query, body)


@pytest.fixture
def together() -> Iterator[FailsTogether]:
    with FailsTogether(failing=len(FAILING)) as running:
        yield running


def failing_together(emulator: Emulator) -> None:
    """Each failing environment: a deployment that succeeded an hour ago, then one that fails
    at its second read; a rollback started there succeeds after a number of reads of its own
    (2, 4, 6, 8), so the rollbacks end one after another. Each undecided environment: a
    deployment still in progress, which --fail-fast cancels."""
    for number, env in enumerate(FAILING):
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
            "acme", "shop", env, Timeline([(0, "in progress"), (2 + 2 * number, "succeeded")])
        )
    for env in UNDECIDED:
        emulator.add_humanitec("acme", "shop", env, ENDLESS, set_id=f"slow-{env}")


def test_fail_fast_never_abandons_a_rollback_once_due(
    together: FailsTogether, tmp_path: Path
) -> None:
    """Four targets read their failure before the first is decided: each is rolled back and
    its rollback gated to success, the first rollback to end cancelling none of the others;
    --fail-fast cancels only the four waits still undecided, and those are never rolled back."""
    failing_together(together)
    file = release(tmp_path, *({"env": env} for env in FAILING + UNDECIDED))
    code, out, err = gate(
        together,
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
    assert together.all_failed.is_set(), together.explained
    targets = {target["name"]: target for target in json.loads(out)["targets"]}
    for env in FAILING:
        target = targets[env]
        assert target["status"] == "failed", (env, target["reason"])
        rollback = target["rollback"]
        assert rollback is not None, env
        assert rollback["outcome"] is not None, (env, rollback["reason"])
        assert rollback["outcome"]["status"] == "succeeded", (env, rollback)
    for env in UNDECIDED:
        target = targets[env]
        assert target["status"] == "cancelled", (env, target["status"])
        assert target["reason"].startswith("cancelled by --fail-fast:")
        assert target["rollback"] is None
    started = sorted(body["set_id"] for _, body, _ in together.posted)
    assert started == sorted(f"good-{env}" for env in FAILING)
