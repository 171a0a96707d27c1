"""A metric compared before and during the bake: ``--compare NAME=PROMQL``, asked of
``--prometheus``, judged by :mod:`gate.bake.verdict`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gate.bake.check import Check
from gate.bake.verdict import DIRECTIONS, MinEffect
from gate.core.description import Field, FieldError, TargetValues, named
from gate.core.errors import UsageError

__all__ = ["plugin"]


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


class PrometheusComparisons:
    name = "compare"
    enabled_by = "compare"
    fields = (
        Field(
            "compare",
            "a metric judged against itself before the deployment: NAME=PROMQL, one series, "
            "read over the bake and over as long before it; a regression fails the bake: "
            "error_ratio=sum(rate(http_requests_total{code=~'5..'}[1m])) / "
            "sum(rate(http_requests_total[1m]))",
            kind="list",
            metavar="NAME=PROMQL",
        ),
        Field(
            "compare_direction",
            "which way a --compare metric gets worse",
            kind="choice",
            choices=DIRECTIONS,
            default="higher-is-worse",
        ),
        Field(
            "compare_confidence",
            "how sure the one-sided Mann-Whitney U test must be that the bake is worse "
            "(95: p < 0.05)",
            kind="percent",
            metavar="PERCENT",
            default=95.0,
            least=50,
            most=99.99,
        ),
        Field(
            "compare_min_effect",
            "how far the bake's median must move the worse way to count: +20% (of the "
            "baseline's median) or an amount in the metric's unit (0.01)",
            metavar="EFFECT",
            default="+20%",
        ),
        Field(
            "compare_min_samples",
            "fewer samples on either side and the verdict is inconclusive: said, not failed",
            kind="number",
            metavar="N",
            default=10,
            least=3,
            most=10_000,
            whole=True,
        ),
    )
    rules = (_needs_a_server, _min_effect_reads)

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterator[Check]:
        from gate.bake.comparison import PrometheusComparison  # httpx: only for a bake that asks

        server = values.text("prometheus") or ""  # given: the rule says so
        direction = next(
            (way for way in DIRECTIONS if way == values.text("compare_direction")), DIRECTIONS[0]
        )
        for written in values.texts("compare"):
            yield PrometheusComparison.parse(
                written,
                server,
                bake_seconds=values.number_of("bake"),
                interval=values.number_of("bake_interval"),
                direction=direction,
                min_effect=MinEffect.parse(values.text("compare_min_effect") or ""),
                confidence=values.number_of("compare_confidence") / 100,
                min_samples=int(values.number_of("compare_min_samples")),
                request_timeout=request_timeout,
            )


plugin = PrometheusComparisons()
