"""Metrics compared before and during the bake: the ``--compare`` family, judged by
:mod:`gate.bake.verdict`. ``--compare NAME=PROMQL`` asks ``--prometheus``;
``--compare-cloudwatch NAME=QUERIES`` (:mod:`gate.bake.plugins.compare_cloudwatch`) asks
CloudWatch; the judge's options here are every comparison's, whatever its source. A
comparison may say its own direction: ``NAME:lower-is-worse=...``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gate.bake.check import Check
from gate.bake.comparison import (
    DEFAULT_CONFIDENCE_PERCENT,
    DEFAULT_MIN_EFFECT,
    DEFAULT_MIN_SAMPLES,
    Baseline,
    Comparison,
    MetricSeries,
    named_metric,
)
from gate.bake.verdict import DIRECTIONS, Direction, MinEffect
from gate.core.description import Field, FieldError, TargetValues, named
from gate.core.errors import UsageError

__all__ = ["compared", "plugin"]


def _needs_a_server(values: TargetValues) -> None:
    if values.given("compare") and not values.given("prometheus"):
        raise FieldError("compare", f"{named('compare')} needs {named('prometheus')}")


def _min_effect_reads(values: TargetValues) -> None:
    try:
        MinEffect.parse(values.text("compare_min_effect") or "")
    except UsageError as refused:
        raise FieldError(
            "compare_min_effect", f"{named('compare_min_effect')}: {refused}"
        ) from None


def _baseline_reads(values: TargetValues) -> None:
    try:
        Baseline.parse(values.text("compare_baseline") or "")
    except UsageError as refused:
        raise FieldError("compare_baseline", f"{named('compare_baseline')}: {refused}") from None


def compared(
    values: TargetValues, name: str, direction: Direction | None, series: MetricSeries
) -> Comparison:
    """The comparison of ``series`` as the family's options (``values``) judge it; its own
    ``direction`` if it says one, else ``--compare-direction``."""
    default = next(
        (way for way in DIRECTIONS if way == values.text("compare_direction")), DIRECTIONS[0]
    )
    return Comparison(
        name,
        series,
        bake_seconds=values.number_of("bake"),
        direction=direction or default,
        min_effect=MinEffect.parse(values.text("compare_min_effect") or ""),
        confidence=values.number_of("compare_confidence") / 100,
        min_samples=int(values.number_of("compare_min_samples")),
        baseline=Baseline.parse(values.text("compare_baseline") or ""),
    )


class Comparisons:
    name = "compare"
    enabled_by = "compare"
    fields = (
        Field(
            "compare",
            "a metric judged against itself before the deployment: NAME=PROMQL (one series, "
            "from --prometheus), or NAME:DIRECTION=PROMQL; read over the bake and over the "
            "baseline window; a regression fails the bake: "
            "error_ratio=sum(rate(http_requests_total{code=~'5..'}[1m])) / "
            "sum(rate(http_requests_total[1m]))",
            kind="list",
            metavar="NAME=PROMQL",
        ),
        Field(
            "compare_direction",
            "which way a compared metric gets worse, unless its NAME:DIRECTION= says",
            kind="choice",
            choices=DIRECTIONS,
            default=DIRECTIONS[0],
        ),
        Field(
            "compare_baseline",
            "the baseline window, START..END in ISO 8601 UTC "
            "(2026-12-06T09:00:00Z..2026-12-06T10:00:00Z); else as long as the bake, ending "
            "when the deployment began (where the provider says; else when the bake began)",
            metavar="START..END",
        ),
        Field(
            "compare_confidence",
            "how sure the one-sided Mann-Whitney U test must be that the bake is worse "
            "(95: p < 0.05)",
            kind="percent",
            metavar="PERCENT",
            default=DEFAULT_CONFIDENCE_PERCENT,
            least=50,
            most=99.99,
        ),
        Field(
            "compare_min_effect",
            "how far the bake must be shifted the worse way, at the confidence, to count: "
            "+20% (of the baseline's median) or an amount in the metric's unit (0.01)",
            metavar="EFFECT",
            default=DEFAULT_MIN_EFFECT,
        ),
        Field(
            "compare_min_samples",
            "fewer samples on either side and the verdict is inconclusive: said, not failed",
            kind="number",
            metavar="N",
            default=DEFAULT_MIN_SAMPLES,
            least=3,
            most=10_000,
            whole=True,
        ),
    )
    rules = (_needs_a_server, _min_effect_reads, _baseline_reads)

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterator[Check]:
        from gate.bake.prometheus_series import PrometheusSeries  # httpx: only when asked

        server = values.text("prometheus") or ""  # given: the rule says so
        for written in values.texts("compare"):
            name, direction, query = named_metric(written, "PROMQL", "error_ratio=sum(rate(...))")
            series = PrometheusSeries(
                server,
                query,
                interval=values.number_of("bake_interval"),
                request_timeout=request_timeout,
            )
            yield compared(values, name, direction, series)


plugin = Comparisons()
