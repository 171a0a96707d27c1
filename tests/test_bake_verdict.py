"""The comparison's judge (gate.bake.verdict), as tables: the verdict and its numbers."""

from __future__ import annotations

import random

import pytest

from gate.bake.verdict import MinEffect, judge
from gate.core.errors import UsageError

_SEEDED = random.Random(31)
BASELINE = [0.003 + _SEEDED.gauss(0, 0.0005) for _ in range(40)]
DOUBLED = [2 * value for value in BASELINE[::-1]]
SAME = [0.003 + _SEEDED.gauss(0, 0.0005) for _ in range(40)]


@pytest.mark.parametrize(
    ("baseline", "bake", "direction", "min_effect", "expected"),
    [
        (BASELINE, DOUBLED, "higher-is-worse", "+20%", "regression"),
        (BASELINE, SAME, "higher-is-worse", "+20%", "pass"),
        # doubled, and higher is better: not worse at all
        (BASELINE, DOUBLED, "lower-is-worse", "+20%", "pass"),
        (DOUBLED, BASELINE, "lower-is-worse", "+20%", "regression"),
        # significant, but smaller than the minimum effect
        (BASELINE, DOUBLED, "higher-is-worse", "+150%", "pass"),
        (BASELINE, DOUBLED, "higher-is-worse", "0.01", "pass"),
        (BASELINE, DOUBLED, "higher-is-worse", "0.001", "regression"),
        # too few samples on a side, or none
        (BASELINE[:5], DOUBLED, "higher-is-worse", "+20%", "inconclusive"),
        (BASELINE, DOUBLED[:9], "higher-is-worse", "+20%", "inconclusive"),
        ([], DOUBLED, "higher-is-worse", "+20%", "inconclusive"),
        # non-finite samples (0/0 in PromQL) do not count
        ([float("nan")] * 40, DOUBLED, "higher-is-worse", "+20%", "inconclusive"),
        # nothing moved at all: no test to run, a pass
        ([1.0] * 20, [1.0] * 20, "higher-is-worse", "+20%", "pass"),
        # a baseline of zeros: any significant rise is a regression under a relative effect
        ([0.0] * 20, [0.0] * 5 + [0.2] * 15, "higher-is-worse", "+20%", "regression"),
    ],
)
def test_the_verdict(
    baseline: list[float], bake: list[float], direction: str, min_effect: str, expected: str
) -> None:
    verdict = judge(
        baseline,
        bake,
        direction=direction,  # type: ignore[arg-type]
        min_effect=MinEffect.parse(min_effect),
        min_samples=10,
    )
    assert verdict.outcome == expected, verdict.said("m")


def test_the_verdict_says_its_numbers() -> None:
    verdict = judge(
        [0.003] * 20 + [0.004] * 20,
        [0.021] * 20 + [0.02] * 20,
        direction="higher-is-worse",
        min_effect=MinEffect.parse("+20%"),
    )
    said = verdict.said("error ratio")
    assert said.startswith(
        "error ratio during the bake 0.0205 (median of 40) vs 0.0035 before (median of 40): "
        "+486%, p = "
    ), said
    assert ": regression (p < 0.05 and +486% vs +20%)" in said
    assert verdict.p_value is not None
    assert verdict.p_value < 1e-10
    assert (verdict.baseline_size, verdict.bake_size) == (40, 40)


def test_an_inconclusive_verdict_says_what_it_lacked() -> None:
    verdict = judge(
        [1.0] * 3, [2.0] * 30, direction="higher-is-worse", min_effect=MinEffect.parse("+20%")
    )
    assert verdict.p_value is None
    assert verdict.said("latency").endswith(
        ": inconclusive (3 samples before, fewer than the 10 it needs)"
    )


@pytest.mark.parametrize(("confidence", "expected"), [(0.95, "regression"), (0.999999, "pass")])
def test_the_confidence_sets_the_bar(confidence: float, expected: str) -> None:
    verdict = judge(
        [1.0, 1.1, 0.9, 1.2, 1.0, 0.8, 1.1, 0.9, 1.0, 1.05],
        [1.3, 1.5, 1.2, 1.6, 1.4, 1.1, 1.5, 1.3, 1.4, 1.45],
        direction="higher-is-worse",
        min_effect=MinEffect.parse("+20%"),
        confidence=confidence,
    )
    assert verdict.outcome == expected, verdict.said("m")


@pytest.mark.parametrize(
    ("written", "amount", "relative"),
    [("+20%", 0.2, True), ("20%", 0.2, True), ("0.01", 0.01, False), ("+5", 5.0, False)],
)
def test_a_minimum_effect_is_relative_or_absolute(
    written: str, amount: float, relative: bool
) -> None:
    assert MinEffect.parse(written) == MinEffect(pytest.approx(amount), relative)


@pytest.mark.parametrize("written", ["", "-20%", "twenty", "nan", "inf%"])
def test_a_minimum_effect_that_cannot_be_read_is_refused(written: str) -> None:
    with pytest.raises(UsageError, match="a minimum effect is a percentage"):
        MinEffect.parse(written)
