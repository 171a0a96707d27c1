"""Every test is in exactly one tier, and the tiers are the ones pyproject declares."""

from __future__ import annotations

from typing import cast

import pytest

from tests.support import run_gate
from tests.tiers import TIERS, tier_of


def test_every_collected_test_has_exactly_one_tier(request: pytest.FixtureRequest) -> None:
    """The tier ``-m`` selects by (told in conftest.py), and no second one said beside it."""
    items = request.session.items
    assert items
    wrong = {
        item.nodeid: tiers
        for item in items
        if len(tiers := {tier_of(item)} | {m.name for m in item.iter_markers() if m.name in TIERS})
        != 1
    }
    assert not wrong


def test_the_tiers_are_declared_markers(pytestconfig: pytest.Config) -> None:
    declared = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert set(TIERS) <= declared


def test_a_test_that_runs_the_command_is_end_to_end() -> None:
    """However run_gate runs it (through an object of tests/gate_forks.py)."""

    def runs_the_command() -> None:
        run_gate("--version")

    assert tier_of(cast(pytest.Item, _Item(runs_the_command))) == "e2e"


class _Item:
    """What tier_of reads of a collected test: its function, and no marker said."""

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def get_closest_marker(self, name: str) -> None:
        return None
