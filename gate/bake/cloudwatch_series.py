"""A comparison's metric read from CloudWatch: ``GetMetricData`` with the queries as ``aws
cloudwatch get-metric-data --metric-data-queries`` takes them (a JSON list, or
``file://queries.json``), metric math included.

The values judged are those of the one query that returns data (``ReturnData`` true, its
default: the others say ``"ReturnData": false``). Each window is one request, paged on
``NextToken`` (a result ``PartialData`` has more pages) up to :data:`MAX_PAGES`; a result
CloudWatch could not compute (``InternalError``) is read again, one it may not read
(``Forbidden``) fails the read, and the ``Messages`` it adds are named in the outcome's
notes. :meth:`CloudWatchSeries.prepare` runs the queries once over the last hour, so a query
CloudWatch rejects (a bad expression, an unknown field) is refused before the deployment is
waited on (exit 2), and credentials that may not call ``cloudwatch:GetMetricData`` too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.bake.cloudwatch import not_permitted
from gate.bake.comparison import Samples
from gate.core.errors import AuthError, ReadError, RequestRejected, TransientError, UsageError
from gate.core.text import from_api, one_line
from gate.providers.aws.calls import call_aws

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

__all__ = ["MAX_PAGES", "CloudWatchSeries", "metric_data_queries", "returned_id"]

MAX_PAGES = 10
"""Pages of one window's datapoints (100,800 a page): more is a period too short for it."""
MAX_QUERIES = 500
"""The most ``MetricDataQueries`` one request may carry (the service's maximum)."""
_FILE = "file://"
_SHOWN = 200
_PREPARED_OVER = timedelta(hours=1)


def metric_data_queries(text: str) -> list[dict[str, Any]]:
    """The queries ``text`` gives: a JSON list, or ``file://PATH`` holding one."""
    written = text.strip()
    if written.startswith(_FILE):
        path = Path(written.removeprefix(_FILE)).expanduser()
        try:
            written = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"the CloudWatch queries {path} cannot be read: {exc}") from None
    try:
        queries = json.loads(written)
    except (ValueError, RecursionError):
        queries = None
    if (
        not isinstance(queries, list)
        or not queries
        or not all(
            isinstance(query, dict) and isinstance(query.get("Id"), str) for query in queries
        )
    ):
        raise UsageError(
            "CloudWatch queries are a JSON list of MetricDataQueries, each with an Id, as "
            "aws cloudwatch get-metric-data takes them (or file://queries.json), not "
            f"{one_line(text, limit=_SHOWN)!r}"
        )
    if len(queries) > MAX_QUERIES:
        raise UsageError(f"{len(queries)} CloudWatch queries: GetMetricData takes {MAX_QUERIES}")
    returned_id(queries)
    return queries


def returned_id(queries: Sequence[Mapping[str, Any]]) -> str:
    """The id of the one query that returns data (``ReturnData`` is true unless it says not)."""
    returned = [str(q.get("Id")) for q in queries if q.get("ReturnData", True) is not False]
    if len(returned) != 1:
        raise UsageError(
            f"{len(returned)} of the CloudWatch queries return data ({', '.join(returned)}): "
            'exactly one is judged; give the others "ReturnData": false'
        )
    return returned[0]


class CloudWatchSeries:
    """The values of the one returned query of ``queries``, in one region."""

    source = "CloudWatch"

    def __init__(
        self,
        queries: Sequence[Mapping[str, Any]],
        client: CloudWatchClient,
        *,
        credential_source: Callable[[], str] = lambda: "the AWS default chain",
        close: Callable[[], None] | None = None,
    ) -> None:
        self._queries = [dict(query) for query in queries]
        self.returned = returned_id(self._queries)
        self._client = client
        self._credential_source = credential_source
        self._close = close or client.close

    def describe(self) -> str:
        judged = next(query for query in self._queries if query["Id"] == self.returned)
        shown = judged.get("Expression")
        if not isinstance(shown, str):
            stat = _mapping(judged.get("MetricStat"))
            metric = _mapping(stat.get("Metric"))
            words = (metric.get("Namespace"), metric.get("MetricName"), stat.get("Stat"))
            shown = " ".join(word for word in words if isinstance(word, str))
        region = getattr(getattr(self._client, "meta", None), "region_name", None)
        where = f" in {region}" if isinstance(region, str) else ""
        return f"{self.returned} = {one_line(shown, limit=_SHOWN)}{where}"

    def prepare(self, name: str) -> None:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        try:
            self._page(now - _PREPARED_OVER, now, "")
        except AuthError as refused:
            raise not_permitted(
                "cloudwatch:GetMetricData", f"to read the comparison {name}", refused
            ) from refused
        except RequestRejected as refused:
            raise UsageError(
                f"CloudWatch cannot run the comparison {name}: {one_line(str(refused), limit=500)}"
            ) from refused

    def samples(self, start: datetime, end: datetime, what: str) -> Samples:
        start, end = start.replace(microsecond=0), end.replace(microsecond=0)
        if end <= start:
            return Samples([])
        values: list[float] = []
        notes: list[str] = []
        token = ""
        for _ in range(MAX_PAGES):
            page = self._page(start, end, token)
            notes += _messages(page.get("Messages"))
            result = next(
                (
                    item
                    for item in _listed(page, "MetricDataResults")
                    if from_api(item.get("Id")) == self.returned
                ),
                None,
            )
            if result is not None:
                status = from_api(result.get("StatusCode"))
                said = _messages(result.get("Messages"))
                notes += said
                why = f" ({'; '.join(said)})" if said else ""
                if status == "InternalError":
                    raise TransientError(f"{what}: CloudWatch could not compute it{why}")
                if status == "Forbidden":
                    raise ReadError(f"{what}: CloudWatch may not read a metric of it{why}")
                values += _in_window(result, start, end, what)
            token = from_api(page.get("NextToken"))
            if not token:
                told = (f"{what}: CloudWatch said {words}" for words in dict.fromkeys(notes))
                return Samples(values, tuple(told))
        raise ReadError(
            f"{what}: more than {MAX_PAGES} pages of datapoints; give the queries a longer Period"
        )

    def close(self) -> None:
        self._close()

    def _page(self, start: datetime, end: datetime, token: str) -> Mapping[str, Any]:
        paged: dict[str, Any] = {"NextToken": token} if token else {}
        return call_aws(
            self._client.get_metric_data,
            service="CloudWatch",
            missing=lambda: f"CloudWatch metric {self.returned}",
            credential_source=self._credential_source,
            MetricDataQueries=self._queries,
            StartTime=start,
            EndTime=end,
            ScanBy="TimestampAscending",
            **paged,
        )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _listed(page: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    listed = page.get(key)
    if listed is None:
        return []
    if not isinstance(listed, list):
        raise TransientError(f"CloudWatch answered with {key} that is not a list")
    return [item for item in listed if isinstance(item, Mapping)]


def _messages(messages: object) -> list[str]:
    """``Code: Value`` of each of CloudWatch's ``Messages``."""
    if not isinstance(messages, list):
        return []
    said = []
    for message in messages:
        if isinstance(message, Mapping):
            parts = (from_api(message.get("Code")), from_api(message.get("Value")))
            said.append(one_line(": ".join(part for part in parts if part), limit=300))
    return said


def _in_window(result: Mapping[str, Any], start: datetime, end: datetime, what: str) -> list[float]:
    """The result's values whose datapoint (its period's start) is in ``[start, end)``:
    CloudWatch rounds a recent window's start down to the minute, so the bake's first
    request also answers the minute before the bake began."""
    values, stamps = result.get("Values") or [], result.get("Timestamps") or []
    if (
        not isinstance(values, list)
        or not isinstance(stamps, list)
        or len(values) != len(stamps)
        or not all(
            isinstance(value, (int, float)) and not isinstance(value, bool) for value in values
        )
        or not all(isinstance(stamp, datetime) for stamp in stamps)
    ):
        raise TransientError(
            f"{what}: CloudWatch answered with Values and Timestamps that do not pair up"
        )
    return [
        float(value)
        for value, stamp in zip(values, stamps, strict=True)
        if start <= _utc(stamp) < end and math.isfinite(value)
    ]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
