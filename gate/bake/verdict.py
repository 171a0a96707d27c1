"""Judging a metric during the bake against the same metric before it: a one-sided
Mann-Whitney U test, a minimum effect on the Hodges-Lehmann shift's confidence bound, and a
minimum number of samples on each side.

A release **regressed** when both hold:

* the bake's samples are stochastically worse than the baseline's: the one-sided
  Mann-Whitney U test (``scipy.stats.mannwhitneyu``, ``alternative="greater"`` when higher is
  worse, ``"less"`` when lower is worse) gives ``p < 1 - confidence``;
* at the same confidence, the bake is shifted the worse way by more than the minimum effect:
  the one-sided bound of the Hodges-Lehmann shift (:mod:`gate.bake.shift`: the least the
  bake is worse by, from the order statistics of the pairwise differences) exceeds it,
  relative to the baseline's median (``+20%``: ``bound > 0.20 * |median(baseline)|``; a
  baseline median of 0 makes any worse bound count) or absolute (``0.01``: ``bound >
  0.01``).

Kayenta's Mann-Whitney classifier decides the same way (the interval beyond a tolerance).
The bound is the test inverted, so it does not move in the whole steps a median of small
counts does, and a significant but small shift passes however noisy its medians.

With fewer usable (finite) samples than the minimum on either side the verdict is
**inconclusive**, and so is it when either side has none, or too few for any bound at the
confidence; otherwise it **passes**. The test and the bound make no assumption on the shape
of the values, but do assume the samples of each side are independent: samples of a rate
over a window longer than the step are not, which makes ``p`` smaller and the bound tighter
than they should be; the minimum effect is what keeps that from failing a release over
nothing.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from gate.bake.shift import lower_bound
from gate.core.errors import UsageError

__all__ = ["DIRECTIONS", "Direction", "MinEffect", "Outcome", "Verdict", "judge"]

Direction = Literal["higher-is-worse", "lower-is-worse"]
DIRECTIONS: tuple[Direction, ...] = ("higher-is-worse", "lower-is-worse")
Outcome = Literal["pass", "regression", "inconclusive"]


@dataclass(frozen=True)
class MinEffect:
    """How far the bake must be shifted the worse way, at the judge's confidence, to count:
    ``relative`` (0.2 for ``+20%`` of the baseline's median) or ``absolute`` (in the
    metric's unit)."""

    amount: float
    relative: bool

    @classmethod
    def parse(cls, text: str) -> MinEffect:
        """``+20%`` / ``20%`` (relative) or ``0.01`` / ``+0.01`` (absolute)."""
        written = text.strip().removeprefix("+")
        relative = written.endswith("%")
        try:
            amount = float(written.removesuffix("%"))
        except ValueError:
            amount = math.nan
        if not math.isfinite(amount) or amount < 0:
            raise UsageError(
                f"a minimum effect is a percentage such as +20% or an amount such as 0.01, "
                f"not {text!r}"
            )
        return cls(amount / 100 if relative else amount, relative)

    def __str__(self) -> str:
        return f"+{self.amount * 100:g}%" if self.relative else f"+{self.amount:g}"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    baseline_median: float | None
    bake_median: float | None
    baseline_size: int
    bake_size: int
    relative_change: float | None
    """``(bake - baseline) / |baseline|`` of the medians; None without both, or when the
    baseline's median is 0."""
    p_value: float | None
    """None when the test was not run (too few samples)."""
    why: str
    """What decided: ``p < 0.05 and, at 95% confidence, a shift of +480% or worse, beyond
    +20%``."""
    shift_bound: float | None = None
    """At the confidence, the least the bake is shifted the worse way (the Hodges-Lehmann
    shift's one-sided bound, in the metric's unit, signed as bake - baseline: a lower bound
    when higher is worse, an upper bound when lower is worse); None when not computed."""

    def said(self, name: str) -> str:
        """``error_ratio during the bake 0.021 (median of 40) vs 0.003 before (median of
        40): +600%, p = 0.002: regression``."""
        during = (
            f"{_value(self.bake_median)} (median of {self.bake_size})"
            if self.bake_median is not None
            else f"no samples ({self.bake_size})"
        )
        before = (
            f"{_value(self.baseline_median)} before (median of {self.baseline_size})"
            if self.baseline_median is not None
            else "no samples before"
        )
        numbers = []
        if self.bake_median is not None and self.baseline_median is not None:
            numbers.append(_change(self.relative_change, self.bake_median - self.baseline_median))
        if self.p_value is not None:
            numbers.append(f"p = {self.p_value:.2g}")
        compared = f"{name} during the bake {during} vs {before}"
        if numbers:
            compared += f": {', '.join(numbers)}"
        return f"{compared}: {self.outcome} ({self.why})"


def judge(
    baseline: Sequence[float],
    bake: Sequence[float],
    *,
    direction: Direction,
    min_effect: MinEffect,
    confidence: float = 0.95,
    min_samples: int = 10,
) -> Verdict:
    """The verdict on ``bake`` against ``baseline`` (non-finite samples are left out)."""
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence must be in [0.5, 1), not {confidence}")
    before = [value for value in baseline if math.isfinite(value)]
    during = [value for value in bake if math.isfinite(value)]
    before_median = statistics.median(before) if before else None
    during_median = statistics.median(during) if during else None
    relative = None
    if before_median is not None and during_median is not None and before_median != 0:
        relative = (during_median - before_median) / abs(before_median)

    def verdict(outcome: Outcome, why: str, p_value: float | None = None) -> Verdict:
        return Verdict(
            outcome,
            before_median,
            during_median,
            len(before),
            len(during),
            relative,
            p_value,
            why,
        )

    fewest = min(len(before), len(during))
    if fewest < max(min_samples, 1):
        side = "before" if len(before) <= len(during) else "during the bake"
        return verdict(
            "inconclusive", f"{fewest} samples {side}, fewer than the {min_samples} it needs"
        )
    assert before_median is not None
    assert during_median is not None
    alpha = 1 - confidence
    p_value = _one_sided_p(before, during, direction)
    if p_value >= alpha:
        return verdict("pass", f"p >= {alpha:g}: not significant", p_value)
    higher = direction == "higher-is-worse"
    worse = lower_bound(*((before, during) if higher else (during, before)), confidence)
    at = f"{confidence * 100:g}%"
    if worse is None:
        return verdict(
            "inconclusive",
            f"too few samples ({len(before)} before, {len(during)} during the bake) for a "
            f"bound at {at} confidence",
            p_value,
        )
    bound = worse if higher else -worse
    allowed = min_effect.amount * abs(before_median) if min_effect.relative else min_effect.amount
    shown = _change(
        bound / abs(before_median) if min_effect.relative and before_median else None, bound
    )

    def judged(outcome: Outcome, why: str) -> Verdict:
        return replace(verdict(outcome, why, p_value), shift_bound=bound)

    if worse > allowed:
        return judged(
            "regression",
            f"p < {alpha:g} and, at {at} confidence, a shift of {shown} or worse, "
            f"beyond {min_effect}",
        )
    return judged(
        "pass",
        f"significant, but at {at} confidence the shift may be as small as {shown}, "
        f"within {min_effect}",
    )


def _one_sided_p(before: list[float], during: list[float], direction: Direction) -> float:
    """The p-value of "the bake's samples are worse"; 1 when every sample is the same."""
    if len(set(before) | set(during)) == 1:
        return 1.0  # nothing moved: the test's variance is 0
    from scipy.stats import mannwhitneyu  # scipy: only when a comparison is judged

    alternative = "greater" if direction == "higher-is-worse" else "less"
    p_value = float(mannwhitneyu(during, before, alternative=alternative).pvalue)
    return p_value if math.isfinite(p_value) else 1.0


def _value(number: float | None) -> str:
    return "none" if number is None else f"{number:.4g}"


def _change(relative: float | None, delta: float) -> str:
    if relative is not None:
        return f"{relative * 100:+.0f}%"
    return f"{delta:+.4g}"
