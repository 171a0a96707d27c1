"""Every test is in exactly one tier, and the tiers are the ones pyproject declares."""

from __future__ import annotations

import pytest

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
