"""Every test is in exactly one tier, and the tiers are the ones pyproject declares."""

from __future__ import annotations

import pytest

from tests.tiers import TIERS


def test_every_collected_test_has_exactly_one_tier(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    assert items
    wrong = {
        item.nodeid: tiers
        for item in items
        if len(tiers := {mark.name for mark in item.iter_markers() if mark.name in TIERS}) != 1
    }
    assert not wrong


def test_the_tiers_are_declared_markers(pytestconfig: pytest.Config) -> None:
    declared = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert set(TIERS) <= declared
