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


def counted(frequencies: dict[int, int]) -> list[float]:
    """Samples of an error count: each count as often as it is given."""
    return [float(count) for count, times in frequencies.items() for _ in range(times)]


COUNTS = counted({0: 5, 1: 11, 2: 11, 3: 7, 4: 4, 5: 2})
"""Errors of about 2 a step: a median of 2, a mean of 2.0."""
STEPPED = counted({0: 3, 1: 4, 2: 12, 3: 16, 4: 5})
"""A mean 20% higher (2.4), and a median a whole count higher (3: +50%)."""


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
        # ... unless the shift cannot be bounded above 0: a few more errors than none
        ([0.0] * 30, [0.0] * 24 + [1.0] * 6, "higher-is-worse", "+20%", "pass"),
        # ... and an absolute effect is in the metric's unit whatever the baseline
        ([0.0] * 20, [0.0] * 5 + [0.2] * 15, "higher-is-worse", "0.5", "pass"),
        # small counts: the median steps +50%, significant, but the shift is not surely +20%
        (COUNTS, STEPPED, "higher-is-worse", "+20%", "pass"),
        (COUNTS, [count + 2 for count in COUNTS], "higher-is-worse", "+20%", "regression"),
        # ties everywhere: every sample equal on each side, the sides apart
        ([1.0] * 20, [2.0] * 20, "higher-is-worse", "+20%", "regression"),
        ([1.0] * 20, [1.1] * 20, "higher-is-worse", "+20%", "pass"),
        ([1.0] * 20, [0.5] * 20, "lower-is-worse", "+20%", "regression"),
        ([1.0] * 20, [0.9] * 20, "lower-is-worse", "+20%", "pass"),
        ([1.0] * 20, [0.5] * 20, "lower-is-worse", "0.5", "pass"),
        ([1.0] * 20, [0.5] * 20, "lower-is-worse", "0.4", "regression"),
    ],
    ids=[
        "doubled",
        "same",
        "doubled-higher-is-better",
        "halved-lower-is-worse",
        "doubled-within-150%",
        "doubled-within-0.01",
        "doubled-beyond-0.001",
        "5-before",
        "9-during",
        "none-before",
        "nan-before",
        "all-equal",
        "zero-baseline-rise",
        "zero-baseline-few-errors",
        "zero-baseline-absolute",
        "small-counts-median-steps",
        "small-counts-plus-2",
        "ties-doubled",
        "ties-plus-10%",
        "ties-halved-lower-is-worse",
        "ties-minus-10%-lower-is-worse",
        "ties-halved-within-0.5",
        "ties-halved-beyond-0.4",
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
    assert said.endswith(
        ": regression (p < 0.05 and, at 95% confidence, a shift of +486% or worse, beyond +20%)"
    ), said
    assert verdict.p_value is not None
    assert verdict.p_value < 1e-10
    assert verdict.shift_bound == pytest.approx(0.017)
    assert (verdict.baseline_size, verdict.bake_size) == (40, 40)


@pytest.mark.parametrize(
    ("baseline", "bake", "direction", "min_effect", "bound", "why"),
    [
        (
            COUNTS,
            STEPPED,
            "higher-is-worse",
            "+20%",
            0.0,
            "significant, but at 95% confidence the shift may be as small as +0%, within +20%",
        ),
        (
            [1.0] * 40,
            [0.9] * 20 + [0.8] * 20,
            "lower-is-worse",
            "+20%",
            -0.1,
            "significant, but at 95% confidence the shift may be as small as -10%, within +20%",
        ),
        (
            [2.0] * 40,
            [2.5] * 40,
            "higher-is-worse",
            "1",
            0.5,
            "significant, but at 95% confidence the shift may be as small as +0.5, within +1",
        ),
        (COUNTS, COUNTS[::-1], "higher-is-worse", "+20%", None, "p >= 0.05: not significant"),
    ],
    ids=["counts", "lower-is-worse", "absolute", "not-significant"],
)
def test_a_pass_says_how_small_the_shift_may_be(
    baseline: list[float],
    bake: list[float],
    direction: str,
    min_effect: str,
    bound: float | None,
    why: str,
) -> None:
    verdict = judge(
        baseline,
        bake,
        direction=direction,  # type: ignore[arg-type]
        min_effect=MinEffect.parse(min_effect),
    )
    assert verdict.outcome == "pass", verdict.said("m")
    assert verdict.why == why
    assert verdict.shift_bound == (None if bound is None else pytest.approx(bound))


def test_too_few_samples_for_a_bound_at_the_confidence_are_inconclusive() -> None:
    verdict = judge(
        [1.0],
        [5.0 + index / 10 for index in range(20)],
        direction="higher-is-worse",
        min_effect=MinEffect.parse("+20%"),
        min_samples=1,
    )
    assert verdict.outcome == "inconclusive"
    assert verdict.why == (
        "too few samples (1 before, 20 during the bake) for a bound at 95% confidence"
    )


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
