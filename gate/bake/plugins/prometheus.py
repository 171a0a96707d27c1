"""PromQL queries as a bake check: ``--query``, asked of ``--prometheus``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from gate.bake.check import Check
from gate.core.description import Field, FieldError, TargetValues, named

__all__ = ["plugin"]


def _query_and_server(values: TargetValues) -> None:
    """A query needs the server; the server is asked by a query or a comparison
    (:mod:`gate.bake.plugins.compare`)."""
    if values.given("query") and not values.given("prometheus"):
        raise FieldError("query", f"{named('query')} needs {named('prometheus')}")
    if values.given("prometheus") and not (values.given("query") or values.given("compare")):
        raise FieldError(
            "prometheus",
            f"{named('prometheus')} needs a {named('query')} or a {named('compare')}",
        )


class PrometheusQueries:
    name = "prometheus"
    enabled_by = "query"
    fields = (
        Field(
            "prometheus", "the Prometheus that --query and --compare ask", kind="url", metavar="URL"
        ),
        Field(
            "query",
            "a PromQL query that fails the bake if it returns any series during it, as alerting "
            "rules work: sum(rate(http_requests_total{code=~'5..'}[1m])) > 0",
            kind="list",
            metavar="PROMQL",
        ),
    )
    rules = (_query_and_server,)

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterator[Check]:
        from gate.bake.prometheus import PrometheusQuery  # httpx: only for a bake that asks

        server = values.text("prometheus") or ""  # given: the rule says so
        for query in values.texts("query"):
            yield PrometheusQuery(server, query, request_timeout=request_timeout)


plugin = PrometheusQueries()
