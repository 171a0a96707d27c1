"""CloudWatch comparisons (``--compare-cloudwatch``): through the real command against moto's
loopback server, whose metrics were put with timestamps before the gate starts (the baseline
window's healthy values, and the bake's already in the future), and, for what moto does not
do, botocore's Stubber.

moto 5.2's GetMetricData reads MetricStat queries and an Expression that names another query
(``"Expression": "m1"``), but computes no metric math (``100*m1/m2`` gives nothing), never
pages and never says PartialData or Messages: the Stubber tests cover a math query's
request and answer in botocore's shapes, paging and its bound, the statuses, and a query
CloudWatch refuses.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from gate.bake.cloudwatch_series import MAX_PAGES, CloudWatchSeries, metric_data_queries
from gate.bake.comparison import Baseline, Comparison
from gate.bake.verdict import MinEffect
from gate.core.errors import ReadError, TransientError, UsageError
from gate.emulator import Emulator, Timeline
from tests.builders import json_outcome
from tests.support import TOKEN, run_gate
from tests.test_bake_cli import AWS, gate

BAKE = ["--bake", "10s", "--bake-interval", "1s", "--compare-min-samples", "5"]
LONGER_BAKE = ["--bake", "20s", "--bake-interval", "1s"]
"""For a release whose metric changes when the test starts the gate: the baseline window
ends when the deployment began (Humanitec says when), and over 20 seconds a sample of the
release's in it cannot move its median."""
HISTORY_SECONDS = 300
REGION = "eu-west-1"


def stat(query_id: str, metric: str, *, returned: bool = True) -> dict[str, Any]:
    query: dict[str, Any] = {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "Shop",
                "MetricName": metric,
                "Dimensions": [{"Name": "Service", "Value": "checkout"}],
            },
            "Period": 1,
            "Stat": "Average",
        },
    }
    return query if returned else {**query, "ReturnData": False}


def compared(name: str, metric: str) -> str:
    """``NAME=QUERIES``: the metric through an Expression that names it, as moto computes."""
    queries = [{"Id": "e", "Expression": "m1"}, stat("m1", metric, returned=False)]
    return f"{name}={json.dumps(queries)}"


def healthy(generator: random.Random) -> float:
    return max(0.0, generator.gauss(0.003, 0.0003))


def doubled(generator: random.Random) -> float:
    return 2 * healthy(generator)


Draw = Callable[[random.Random], float]


@pytest.fixture
def put_metric(moto_server: str) -> Iterator[Callable[..., None]]:
    """Puts one value a second of a metric, from ``start`` to ``end`` seconds from now."""
    client = boto3.client(
        "cloudwatch",
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    now = datetime.now(timezone.utc).replace(microsecond=0)
    generator = random.Random(31)

    def put(metric: str, draw: Draw, start: int, end: int) -> None:
        data = [
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "Service", "Value": "checkout"}],
                "Timestamp": now + timedelta(seconds=second),
                "Value": draw(generator),
                "StorageResolution": 1,
            }
            for second in range(start, end)
        ]
        for first in range(0, len(data), 500):
            client.put_metric_data(Namespace="Shop", MetricData=data[first : first + 500])

    yield put
    client.close()


def test_a_release_that_doubles_its_cloudwatch_error_ratio_is_rolled_back(
    paced_emulator: Emulator, moto_server: str, put_metric: Callable[..., None]
) -> None:
    good = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), started_ago=3600
    )
    put_metric("ErrorRatio", healthy, -HISTORY_SECONDS, 0)
    put_metric("ErrorRatio", doubled, 0, 120)
    result = gate(
        paced_emulator,
        *LONGER_BAKE,
        "--compare-cloudwatch",
        compared("error_ratio", "ErrorRatio"),
        "--on-failure",
        "rollback",
        moto=moto_server,
    )
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "breached"
    (breach,) = outcome["bake"]["breaches"]
    assert breach["check"] == "comparison error_ratio"
    assert breach["detail"].startswith("error_ratio during the bake 0.00"), breach
    assert ": regression (p < 0.05 and, at 95% confidence, a shift of +" in breach["detail"]
    (check,) = outcome["bake"]["checks"]
    assert check["kind"] == "comparison"
    assert check["watched"] == (
        "CloudWatch comparison error_ratio (higher is worse): e = m1 in eu-west-1"
    )
    verdict = check["verdict"]
    assert (verdict["name"], verdict["direction"], verdict["outcome"]) == (
        "error_ratio",
        "higher-is-worse",
        "regression",
    )
    assert verdict["bake"]["median"] > verdict["baseline"]["median"] > 0
    assert verdict["baseline"]["samples"] >= 10
    assert verdict["bake"]["samples"] >= 10
    assert verdict["bake"]["from"] == outcome["bake"]["started_at"]
    assert verdict["baseline"]["ends"] == "deployment-start"
    assert verdict["baseline"]["to"] < verdict["bake"]["from"], "ends when the deployment began"
    assert verdict["change"] > 0.2
    assert verdict["p_value"] < 0.05
    assert (verdict["confidence"], verdict["min_effect"]) == (0.95, "+20%")
    assert outcome["rollback"]["plan"]["to"] == good
    assert outcome["rollback"]["outcome"]["status"] == "succeeded"


def cycling(values: list[float]) -> Draw:
    """Each put value the next of ``values``, round and round: any 10 seconds hold them all."""
    turns = itertools.cycle(values)
    return lambda generator: next(turns)


def test_small_counts_whose_median_steps_a_whole_count_pass_when_the_shift_is_within_the_effect(
    paced_emulator: Emulator, moto_server: str, put_metric: Callable[..., None]
) -> None:
    """Errors of about 2 a second: the bake's mean is 18% higher (2.6 against 2.2), within the
    minimum effect of +20%, but its median steps from 2 to 3 (+50%) and the test calls the
    rise significant. The medians alone failed this release; the shift's bound passes it."""
    put_metric("Errors", cycling([2, 2, 3, 3, 2, 2, 2, 2, 2, 2]), -HISTORY_SECONDS, 0)
    put_metric("Errors", cycling([3, 2, 2, 3, 3, 2, 3, 2, 3, 3]), 0, 120)
    result = gate(
        paced_emulator,
        *LONGER_BAKE,
        "--compare-cloudwatch",
        compared("errors", "Errors"),
        "--on-failure",
        "rollback",
        moto=moto_server,
    )
    assert result.returncode == 0, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "passed"
    (check,) = outcome["bake"]["checks"]
    (said,) = check["notes"]
    assert "during the bake 3 (median of " in said, said
    assert " vs 2 before (median of " in said, said
    assert ": +50%, p = " in said, said
    assert ": pass (significant, but at 95% confidence the shift may be as small as " in said
    assert ", within +20%); baseline: " in said, said
    assert paced_emulator.posted == [], "nothing rolled back"


def test_a_kept_metric_passes_its_own_direction_is_kept_and_no_baseline_is_inconclusive(
    paced_emulator: Emulator, moto_server: str, put_metric: Callable[..., None]
) -> None:
    """Requests per second doubled: worse by the default direction, better by its own. A
    metric with no data (a new one, or in another region) is inconclusive."""
    put_metric("ErrorRatio", healthy, -HISTORY_SECONDS, 120)
    put_metric("Requests", healthy, -HISTORY_SECONDS, 0)
    put_metric("Requests", doubled, 0, 120)
    result = gate(
        paced_emulator,
        *BAKE,
        "--compare-cloudwatch",
        compared("error_ratio", "ErrorRatio"),
        "--compare-cloudwatch",
        compared("throughput:lower-is-worse", "Requests"),
        "--compare-cloudwatch",
        compared("new_ratio", "NewRatio"),
        "--on-failure",
        "rollback",
        moto=moto_server,
    )
    assert result.returncode == 0, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "passed"
    kept, throughput, new = outcome["bake"]["checks"]
    (said,) = kept["notes"]
    assert said.startswith("comparison error_ratio during the bake 0.00"), said
    assert ": pass (" in said
    assert "lower is worse" in throughput["watched"]
    (said,) = throughput["notes"]
    assert ": pass (p >= 0.05: not significant)" in said, said
    assert new["summary"] == "comparison new_ratio inconclusive"
    assert new["notes"] == [], "the bake's policy names it, not the check"
    (said,) = outcome["bake"]["notes"]
    assert said.endswith(
        ": comparison new_ratio during the bake no samples (0) vs no samples before: "
        "inconclusive (0 samples before, fewer than the 5 it needs); "
        "baseline: the 10.0s before the deployment began"
    ), said
    assert said.startswith("inconclusive, passed by the bake's policy: "), said
    assert new["verdict"]["outcome"] == "inconclusive"
    assert paced_emulator.posted == [], "nothing rolled back"


def test_a_given_baseline_window_is_the_one_judged_against(
    paced_emulator: Emulator, moto_server: str, put_metric: Callable[..., None]
) -> None:
    """An incident before the deployment doubled the ratio: against the minutes before the
    bake the release looks the same; against the given quiet window, it regressed."""
    put_metric("ErrorRatio", healthy, -HISTORY_SECONDS, -200)
    put_metric("ErrorRatio", doubled, -200, 120)
    start = datetime.now(timezone.utc) - timedelta(seconds=HISTORY_SECONDS - 10)
    window = f"{start:%Y-%m-%dT%H:%M:%SZ}..{start + timedelta(seconds=60):%Y-%m-%dT%H:%M:%SZ}"
    result = gate(
        paced_emulator,
        *BAKE,
        "--compare-cloudwatch",
        compared("error_ratio", "ErrorRatio"),
        "--compare-baseline",
        window,
        moto=moto_server,
    )
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    (breach,) = outcome["bake"]["breaches"]
    assert "(median of 60)" in breach["detail"], "the given window's 60 seconds"
    (check,) = outcome["bake"]["checks"]
    assert f"baseline {start:%Y-%m-%dT%H:%M:%S}.000Z.." in check["watched"]


def test_a_query_cloudwatch_rejects_is_refused_before_waiting(
    emulator: Emulator, moto_server: str
) -> None:
    result = gate(
        emulator,
        "--bake",
        "1m",
        "--compare-cloudwatch",
        'error_ratio=[{"Id": "e", "Label": "neither MetricStat nor Expression"}]',
        moto=moto_server,
    )
    assert result.returncode == 2, result.stderr
    assert "CloudWatch cannot run the comparison error_ratio: " in result.stderr
    assert "MetricStat is required" in result.stderr
    assert emulator.posted == []


QUERY = json.dumps([stat("m1", "ErrorRatio")])


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("error_ratio", "a comparison is NAME=QUERIES or NAME:DIRECTION=QUERIES"),
        ("error_ratio=[{", "CloudWatch queries are a JSON list of MetricDataQueries"),
        ('error_ratio=[{"Label": "x"}]', "each with an Id"),
        (
            f"error_ratio={json.dumps([stat('m1', 'A'), stat('m2', 'B')])}",
            "2 of the CloudWatch queries return data (m1, m2): exactly one is judged; give "
            'the others "ReturnData": false',
        ),
        (f"error_ratio:sideways={QUERY}", "says the direction 'sideways': it is one of"),
        ("error_ratio=file:///nowhere/queries.json", "the CloudWatch queries /nowhere/queries"),
    ],
    ids=["no-queries", "not-json", "no-id", "two-returned", "direction", "no-file"],
)
def test_queries_that_cannot_work_are_refused_with_exit_2(
    emulator: Emulator, written: str, said: str
) -> None:
    result = gate(emulator, "--bake", "1m", "--compare-cloudwatch", written)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr, result.stderr
    assert emulator.posted == []


@pytest.mark.parametrize(
    ("window", "said"),
    [
        ("yesterday", "--compare-baseline: a baseline window is START..END in ISO 8601"),
        (
            "2026-12-06T10:00:00Z..2026-12-06T09:00:00Z",
            "the baseline window 2026-12-06T10:00:00Z..2026-12-06T09:00:00Z ends before",
        ),
        ("2026-12-06T09:00:00Z..2999-01-01T00:00:00Z", "in the future: a baseline is before"),
    ],
    ids=["unreadable", "backwards", "future"],
)
def test_a_baseline_window_that_cannot_be_is_refused_with_exit_2(
    emulator: Emulator, moto_server: str, window: str, said: str
) -> None:
    result = gate(
        emulator,
        "--bake",
        "1m",
        "--compare-cloudwatch",
        f"error_ratio={QUERY}",
        "--compare-baseline",
        window,
        moto=moto_server,
    )
    assert result.returncode == 2, result.stderr
    assert said in result.stderr, result.stderr


def test_queries_may_be_a_file(tmp_path: Path) -> None:
    queries = tmp_path / "queries.json"
    queries.write_text(json.dumps(MATH), encoding="utf-8")
    assert metric_data_queries(f"file://{queries}") == MATH


# The Stubber: what moto does not do.

SINCE = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
NOW = SINCE + timedelta(minutes=10)
MATH = [
    {"Id": "e", "Expression": "100*m1/m2", "Label": "error ratio"},
    {**stat("m1", "Errors", returned=False)},
    {**stat("m2", "Requests", returned=False)},
]


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudwatch", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect(
    stubber: Stubber,
    start: datetime,
    end: datetime,
    answer: dict[str, Any],
    token: str | None = None,
) -> None:
    params: dict[str, Any] = {
        "MetricDataQueries": MATH,
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    stubber.add_response(
        "get_metric_data", answer, {**params, **({"NextToken": token} if token else {})}
    )


def result(
    values: list[float], status: str = "Complete", *, start: datetime = SINCE, **more: Any
) -> dict[str, Any]:
    """Values a minute apart from ``start``."""
    stamps = [start + timedelta(minutes=index) for index in range(len(values))]
    return {"Id": "e", "Values": values, "Timestamps": stamps, "StatusCode": status, **more}


BEFORE = SINCE - timedelta(minutes=10)


def comparison(client: Any, **options: Any) -> Comparison:
    return Comparison(
        "error_ratio",
        CloudWatchSeries(MATH, client),
        bake_seconds=600,
        direction="higher-is-worse",
        min_effect=MinEffect.parse("+20%"),
        confidence=0.95,
        min_samples=5,
        **options,
    )


def test_metric_math_is_asked_in_one_request_a_window_and_judged(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    before = [0.30, 0.31, 0.29, 0.30, 0.32, 0.28, 0.30, 0.31, 0.29, 0.30]
    during = [2 * value for value in before]
    expect(stubber, BEFORE, SINCE, {"MetricDataResults": [result(before, start=BEFORE)]})
    minute_before = SINCE - timedelta(minutes=1)
    expect(
        stubber,
        SINCE,
        NOW,
        {"MetricDataResults": [result([0.3, *during], start=minute_before)]},
    )
    reading = comparison(client).read(SINCE, NOW)
    (breach,) = reading.breaches
    assert breach.detail.startswith(
        "error_ratio during the bake 0.6 (median of 10) vs 0.3 before (median of 10): +100%"
    ), "the minute before the bake, CloudWatch's rounding, is not the bake's"


def test_partial_data_is_paged_and_the_messages_are_said(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    said = {"Code": "MaxMetricsExceeded", "Value": "only the first 500 metrics"}
    expect(
        stubber,
        BEFORE,
        SINCE,
        {
            "MetricDataResults": [result([0.3] * 4, "PartialData", start=BEFORE)],
            "NextToken": "more",
        },
    )
    expect(
        stubber,
        BEFORE,
        SINCE,
        {
            "MetricDataResults": [result([0.3] * 4, start=BEFORE + timedelta(minutes=4))],
            "Messages": [said],
        },
        token="more",
    )
    expect(stubber, SINCE, NOW, {"MetricDataResults": [result([0.3] * 8)]})
    reading = comparison(client).read(SINCE, NOW)
    assert reading.breaches == ()
    verdict, told = reading.notes
    assert "0.3 before (median of 8)" in verdict, "both pages"
    assert told == (
        "reading the comparison error_ratio before: CloudWatch said MaxMetricsExceeded: only "
        "the first 500 metrics"
    )


def test_paging_is_bounded(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    for page in range(MAX_PAGES):
        expect(
            stubber,
            BEFORE,
            SINCE,
            {
                "MetricDataResults": [result([0.3], "PartialData", start=BEFORE)],
                "NextToken": f"t{page + 1}",
            },
            token=f"t{page}" if page else None,
        )
    with pytest.raises(ReadError, match=f"more than {MAX_PAGES} pages of datapoints; give"):
        comparison(client).read(SINCE, NOW)


@pytest.mark.parametrize(
    ("status", "error"), [("InternalError", TransientError), ("Forbidden", ReadError)]
)
def test_a_result_cloudwatch_could_not_give_is_not_judged(
    stubbed: tuple[Any, Stubber], status: str, error: type[Exception]
) -> None:
    client, stubber = stubbed
    messages = [{"Code": status, "Value": "metric Shop/Errors"}]
    expect(
        stubber,
        BEFORE,
        SINCE,
        {"MetricDataResults": [result([], status, Messages=messages)]},
    )
    with pytest.raises(error, match=f"before: CloudWatch .*{status}: metric Shop/Errors"):
        comparison(client).read(SINCE, NOW)


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("ValidationError", "CloudWatch cannot run the comparison error_ratio: CloudWatch "),
        ("AccessDenied", "the credentials may not call cloudwatch:GetMetricData"),
    ],
)
def test_prepare_refuses_what_cloudwatch_refuses(
    stubbed: tuple[Any, Stubber], code: str, said: str
) -> None:
    client, stubber = stubbed
    stubber.add_client_error(
        "get_metric_data", code, "Error in expression 'e': Unknown metric m3", 400
    )
    with pytest.raises(UsageError, match=said):
        comparison(client).prepare()


def test_the_baseline_window_reads_iso_8601() -> None:
    window = Baseline.parse(" 2026-12-06T09:00Z..2026-12-06T10:00:00+00:00 ")
    assert window.window(SINCE, 600, deployment_began=SINCE - timedelta(hours=1)) == (
        datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc),
        datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc),
        "given",
    )


BEGAN = SINCE - timedelta(minutes=25)


@pytest.mark.parametrize(
    ("began", "expected"),
    [
        (BEGAN, (BEGAN - timedelta(minutes=10), BEGAN, "deployment-start")),
        (None, (SINCE - timedelta(minutes=10), SINCE, "bake-start")),
        (SINCE + timedelta(seconds=1), (SINCE - timedelta(minutes=10), SINCE, "bake-start")),
    ],
    ids=["deployment-start", "not-said", "a-start-after-the-bake-began"],
)
def test_the_default_baseline_ends_when_the_deployment_began_if_that_is_known_and_earlier(
    began: datetime | None, expected: tuple[datetime, datetime, str]
) -> None:
    assert Baseline.parse("").window(SINCE, 600, deployment_began=began) == expected


def test_a_targets_file_takes_the_same_string(
    emulator: Emulator, moto_server: str, tmp_path: Path
) -> None:
    """A release's target says its comparison, direction and all, as the flag does; what
    CloudWatch refuses is refused before waiting, naming the target."""
    emulator.add_humanitec("acme", "shop", "eu", Timeline([(0, "in progress")]))
    refused = [{"Id": "e", "Label": "neither MetricStat nor Expression"}]
    target = {
        "env": "eu",
        "latest": True,
        "bake": "1m",
        "alarm-endpoint-url": moto_server,
        "compare-cloudwatch": [
            f"throughput:lower-is-worse={json.dumps(refused)}",
        ],
    }
    shared = {"provider": "humanitec", "org": "acme", "app": "shop", "interval": "0.05s"}
    path = tmp_path / "release.json"
    path.write_text(json.dumps({"defaults": shared, "targets": [target]}), encoding="utf-8")
    result = run_gate(
        "wait-all",
        str(path),
        env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN, **AWS},
    )
    assert result.returncode == 2, result.stderr
    assert "CloudWatch cannot run the comparison throughput: " in result.stderr
    assert emulator.posted == []
