"""The Hodges-Lehmann shift's confidence bound (gate.bake.shift): the Mann-Whitney critical
value, and the k-th pairwise difference however many pairs there are."""

from __future__ import annotations

import random

import pytest

from gate.bake.shift import _select, lower_bound


@pytest.mark.parametrize(
    ("size", "confidence", "k"),
    [(10, 0.95, 28), (20, 0.95, 139), (10, 0.99, 20), (20, 0.99, 115)],
)
def test_the_bound_is_the_difference_at_the_mann_whitney_critical_value(
    size: int, confidence: float, k: int
) -> None:
    """``k - 1`` is the one-sided critical value of U in the exact tables (no ties)."""
    before = [float(index) for index in range(size)]
    during = [index + 0.5 / size for index in range(size)]  # no two differences are equal
    differences = sorted(y - x for y in during for x in before)
    assert lower_bound(before, during, confidence) == differences[k - 1]


@pytest.mark.parametrize("seed", range(8))
def test_the_kth_difference_is_selected_as_sorting_finds_it(seed: int) -> None:
    generator = random.Random(seed)
    ties = seed % 2 == 0  # counts, with many equal differences; or continuous values
    before = [
        float(generator.randint(0, 4)) if ties else generator.gauss(0, 1)
        for _ in range(generator.randint(1, 50))
    ]
    during = [
        float(generator.randint(0, 6)) if ties else generator.gauss(0.5, 2)
        for _ in range(generator.randint(1, 50))
    ]
    differences = sorted(y - x for y in during for x in before)
    for k in {1, len(differences), generator.randint(1, len(differences))}:
        assert _select(sorted(before, reverse=True), sorted(during), k) == differences[k - 1]


def test_two_long_windows_are_bounded_without_listing_every_pair() -> None:
    generator = random.Random(31)
    before = [float(generator.randint(0, 40)) for _ in range(600)]
    during = [float(generator.randint(2, 42)) for _ in range(600)]
    bound = lower_bound(before, during, 0.95)
    assert bound is not None
    assert 0 < bound <= 2, "a shift of 2, bounded below"


def test_the_bound_of_identical_samples_is_no_shift() -> None:
    assert lower_bound([3.0] * 12, [3.0] * 12, 0.95) == 0.0
