"""PromQL queries as a bake check: ``--query``, asked of ``--prometheus``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gate.bake.check import Check
from gate.bake.plugin import each_needs_the_other
from gate.core.description import Field, TargetValues, named

__all__ = ["plugin"]


class PrometheusQueries:
    name = "prometheus"
    enabled_by = "query"
    fields = (
        Field("prometheus", "the Prometheus that --query asks", kind="url", metavar="URL"),
        Field(
            "query",
            "a PromQL query that fails the bake if it returns any series during it, as alerting "
            "rules work: sum(rate(http_requests_total{code=~'5..'}[1m])) > 0",
            kind="list",
            metavar="PROMQL",
        ),
    )
    rules = (each_needs_the_other("query", "prometheus", server_needs=f"a {named('query')}"),)

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterator[Check]:
        from gate.bake.prometheus import PrometheusQuery  # httpx: only for a bake that asks

        server = values.text("prometheus") or ""  # given: the rule says so
        for query in values.texts("query"):
            yield PrometheusQuery(server, query, request_timeout=request_timeout)


plugin = PrometheusQueries()
