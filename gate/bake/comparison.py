"""A metric compared before and during the bake, whatever serves it: a :class:`MetricSeries`
(Prometheus: :mod:`gate.bake.prometheus_series`; CloudWatch:
:mod:`gate.bake.cloudwatch_series`) judged by :mod:`gate.bake.verdict`.

The baseline window is as long as the bake and ends when the deployment began, where the
provider says (the bake tells the comparison:
:class:`~gate.bake.check.ReadsBeforeTheDeployment`), else when the bake began (the moment
the deployment succeeded, so a long deployment's own rollout is in the baseline), unless a
window is given (:class:`Baseline`); the verdict says which. The bake window is the bake.
Both are read once, when the bake's time is up: the verdict is the judge's on the whole bake,
and reading once keeps a long bake from testing again and again until chance says
regression. Until then each round says it is waiting; a regression is a breach (the bake
fails, and a rollback follows as for any breach); an inconclusive verdict (too few samples,
no baseline) is said as such (:attr:`Reading.inconclusive
<gate.bake.check.Reading.inconclusive>`), and the bake's ``--bake-inconclusive`` policy
decides what it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal, NamedTuple, Protocol

from gate.bake.check import Breach, Reading
from gate.bake.verdict import DIRECTIONS, Direction, MinEffect, judge
from gate.core.durations import format_duration
from gate.core.errors import UsageError
from gate.core.model import ComparisonVerdict
from gate.core.text import one_line
from gate.core.timestamps import iso_utc, parse_timestamp

__all__ = [
    "DEFAULT_CONFIDENCE_PERCENT",
    "DEFAULT_MIN_EFFECT",
    "DEFAULT_MIN_SAMPLES",
    "Baseline",
    "BaselineEnd",
    "BaselineWindow",
    "Comparison",
    "MetricSeries",
    "Samples",
    "named_metric",
]

DEFAULT_CONFIDENCE_PERCENT = 95.0
DEFAULT_MIN_EFFECT = "+20%"
DEFAULT_MIN_SAMPLES = 10
"""The judge's defaults, every face's (``--compare-*``) and the library's."""

_SHOWN = 200
_JUDGED_EARLY = 1.0
"""How long before the bake's end a round is its last: the bake's rounds keep the monotonic
clock and a check is given the wall clock, which may differ by a fraction of a second."""


class Samples(NamedTuple):
    values: list[float]
    notes: tuple[str, ...] = ()
    """What the source said of its answer without failing it (CloudWatch's ``Messages``)."""


class MetricSeries(Protocol):
    """Where a comparison's metric is read: one series over a window."""

    @property
    def source(self) -> str:
        """``Prometheus``, ``CloudWatch``."""
        ...

    def describe(self) -> str:
        """The query and where it is asked, for a person."""
        ...

    def prepare(self, name: str) -> None:
        """Run the query once before the deployment is waited on; a query the source
        rejects is a :class:`~gate.core.errors.UsageError` (exit 2)."""
        ...

    def samples(self, start: datetime, end: datetime, what: str) -> Samples:
        """The metric's values from ``start`` to ``end``; ``what`` names the read in errors."""
        ...

    def close(self) -> None: ...


def named_metric(written: str, form: str, example: str) -> tuple[str, Direction | None, str]:
    """``NAME=QUERY`` or ``NAME:DIRECTION=QUERY`` (``throughput:lower-is-worse=...``): the
    name, the comparison's own direction if it says one, the query. ``form`` and
    ``example`` say how it is written in an error (``PROMQL``, ``error_ratio=sum(...)``)."""
    head, equals, query = written.partition("=")
    name, colon, said = head.partition(":")
    name, said, query = name.strip(), said.strip(), query.strip()
    if not equals or not name or not query or (colon and not said):
        shown = repr(one_line(written, limit=_SHOWN))
        raise UsageError(
            f"a comparison is NAME={form} or NAME:DIRECTION={form} ({example}), not {shown}"
        )
    if not colon:
        return name, None, query
    direction = next((way for way in DIRECTIONS if way == said), None)
    if direction is None:
        raise UsageError(
            f"the comparison {one_line(name, limit=80)} says the direction "
            f"{one_line(said, limit=40)!r}: it is one of {', '.join(DIRECTIONS)}"
        )
    return name, direction, query


BaselineEnd = Literal["deployment-start", "bake-start", "given"]
"""What ended a baseline window: the deployment's start (where the provider says when it
began), the bake's start (it does not), or the window given."""


class BaselineWindow(NamedTuple):
    start: datetime
    end: datetime
    ends: BaselineEnd

    def said(self) -> str:
        """``baseline: the 10m00s before the deployment began``."""
        if self.ends == "given":
            return f"baseline: the window given, {iso_utc(self.start)}..{iso_utc(self.end)}"
        length = format_duration((self.end - self.start).total_seconds())
        if self.ends == "deployment-start":
            return f"baseline: the {length} before the deployment began"
        return (
            f"baseline: the {length} before the bake began (when the deployment began is not known)"
        )


@dataclass(frozen=True)
class Baseline:
    """The baseline window: as long as the bake and ending when the deployment began (where
    the provider says; else when the bake began), unless ``start`` and ``end`` are given
    (``--compare-baseline START..END``)."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def parse(cls, text: str) -> Baseline:
        """``2026-12-06T09:00Z..2026-12-06T10:00Z`` (ISO 8601; a time without a zone is UTC);
        empty: the default."""
        if not text.strip():
            return cls()
        first, dots, last = text.strip().partition("..")
        start, end = parse_timestamp(first), parse_timestamp(last)
        if not dots or start is None or end is None:
            raise UsageError(
                "a baseline window is START..END in ISO 8601 "
                f"(2026-12-06T09:00:00Z..2026-12-06T10:00:00Z), not {one_line(text, limit=80)!r}"
            )
        if end <= start:
            raise UsageError(f"the baseline window {text.strip()} ends before it starts")
        return cls(start, end)

    def window(
        self, since: datetime, bake_seconds: float, *, deployment_began: datetime | None = None
    ) -> BaselineWindow:
        """The window before a bake that began at ``since``: the given one, else ending at
        ``deployment_began`` if known and before ``since``, else at ``since``."""
        if self.start is not None and self.end is not None:
            return BaselineWindow(self.start, self.end, "given")
        if deployment_began is not None and _utc(deployment_began) < _utc(since):
            end = _utc(deployment_began)
            return BaselineWindow(end - timedelta(seconds=bake_seconds), end, "deployment-start")
        return BaselineWindow(since - timedelta(seconds=bake_seconds), since, "bake-start")

    def __str__(self) -> str:
        if self.start is None or self.end is None:
            return "as long as the bake, before the deployment"
        return f"{iso_utc(self.start)}..{iso_utc(self.end)}"


@dataclass
class Comparison:
    """One named metric compared before and during the bake: ``bake_seconds`` is the bake's
    duration (its window is judged once it is up); ``confidence`` is a fraction (0.95)."""

    name: str
    series: MetricSeries
    bake_seconds: float
    direction: Direction = DIRECTIONS[0]
    min_effect: MinEffect = field(default_factory=lambda: MinEffect.parse(DEFAULT_MIN_EFFECT))
    confidence: float = DEFAULT_CONFIDENCE_PERCENT / 100
    min_samples: int = DEFAULT_MIN_SAMPLES
    baseline: Baseline = field(default_factory=Baseline)
    began: datetime | None = field(default=None, init=False)
    """When the deployment began, as the bake told it (:meth:`deployment_began`)."""
    kind = "comparison"

    def describe(self) -> str:
        worse = "higher" if self.direction == "higher-is-worse" else "lower"
        window = "" if self.baseline.start is None else f", baseline {self.baseline}"
        return (
            f"{self.series.source} comparison {self.name} "
            f"({worse} is worse{window}): {self.series.describe()}"
        )

    def prepare(self) -> None:
        end = self.baseline.end
        if end is not None and end > datetime.now(timezone.utc):
            raise UsageError(
                f"the baseline window of the comparison {self.name} ends at {iso_utc(end)}, "
                "in the future: a baseline is before the bake"
            )
        self.series.prepare(self.name)

    def deployment_began(self, at: datetime | None) -> None:
        self.began = at

    def read(self, since: datetime, now: datetime) -> Reading:
        since, now = _utc(since), _utc(now)
        if (now - since).total_seconds() < self.bake_seconds - _JUDGED_EARLY:
            return Reading(summary=f"comparison {self.name} judged at the end")
        window = self.baseline.window(since, self.bake_seconds, deployment_began=self.began)
        start, end = window.start, window.end
        reading = f"reading the comparison {self.name}"
        before = self.series.samples(start, end, f"{reading} before")
        during = self.series.samples(since, now, f"{reading} during the bake")
        verdict = judge(
            before.values,
            during.values,
            direction=self.direction,
            min_effect=self.min_effect,
            confidence=self.confidence,
            min_samples=self.min_samples,
        )
        said = f"{verdict.said(self.name)}; {window.said()}"
        told = before.notes + during.notes
        numbers = ComparisonVerdict(
            name=self.name,
            direction=self.direction,
            outcome=verdict.outcome,
            baseline_median=verdict.baseline_median,
            bake_median=verdict.bake_median,
            baseline_samples=verdict.baseline_size,
            bake_samples=verdict.bake_size,
            change=verdict.relative_change,
            p_value=verdict.p_value,
            confidence=self.confidence,
            min_effect=str(self.min_effect),
            baseline_window=(iso_utc(start), iso_utc(end)),
            baseline_ends=window.ends,
            bake_window=(iso_utc(since), iso_utc(now)),
            why=verdict.why,
        )
        if verdict.outcome == "regression":
            return Reading(
                summary=f"comparison {self.name} regressed",
                breaches=(Breach(check=f"comparison {self.name}", detail=said),),
                notes=told,
                verdict=numbers,
            )
        if verdict.outcome == "inconclusive":
            return Reading(
                summary=f"comparison {self.name} inconclusive",
                inconclusive=f"comparison {said}",
                notes=told,
                verdict=numbers,
            )
        return Reading(
            summary=f"comparison {self.name} passed",
            notes=(f"comparison {said}", *told),
            verdict=numbers,
        )

    def close(self) -> None:
        self.series.close()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
