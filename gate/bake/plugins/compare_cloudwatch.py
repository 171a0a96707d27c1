"""CloudWatch metrics compared before and during the bake: ``--compare-cloudwatch
NAME=QUERIES``, one of the ``--compare`` family (:mod:`gate.bake.plugins.compare`: the
judge's options are the family's). Its own plugin only because a plugin is turned on by one
field; the region, endpoint and credentials are the bake's CloudWatch ones
(:func:`gate.bake.plugins.cloudwatch.bake_cloudwatch`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gate.bake.check import Check
from gate.bake.comparison import named_metric
from gate.bake.plugins.cloudwatch import bake_cloudwatch
from gate.bake.plugins.compare import compared
from gate.core.description import Field, TargetValues

__all__ = ["plugin"]

_EXAMPLE = (
    'error_ratio=[{"Id":"e","Expression":"100*m1/m2"},{"Id":"m1","ReturnData":false,'
    '"MetricStat":{...}}, ...]'
)


class CloudWatchComparisons:
    name = "compare_cloudwatch"
    enabled_by = "compare_cloudwatch"
    fields = (
        Field(
            "compare_cloudwatch",
            "a CloudWatch metric judged against itself before the deployment, as --compare: "
            "NAME=QUERIES or NAME:DIRECTION=QUERIES, QUERIES a JSON list of GetMetricData's "
            "MetricDataQueries (as aws cloudwatch get-metric-data takes them; metric math "
            "too) or file://queries.json; the one query with ReturnData true is judged: "
            + _EXAMPLE,
            kind="list",
            metavar="NAME=QUERIES",
        ),
    )
    rules = ()

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterator[Check]:
        from gate.bake.cloudwatch_series import CloudWatchSeries, metric_data_queries

        written = [
            named_metric(text, "QUERIES", _EXAMPLE) for text in values.texts("compare_cloudwatch")
        ]
        read = [(name, way, metric_data_queries(queries)) for name, way, queries in written]
        aws = bake_cloudwatch(values, env, request_timeout=request_timeout)  # boto3: when asked
        for name, direction, queries in read:
            series = CloudWatchSeries(
                queries,
                aws.clients["cloudwatch"],
                credential_source=aws.credential_source,
                close=aws.close,
            )
            yield compared(values, name, direction, series)


plugin = CloudWatchComparisons()
