"""CloudWatch alarms as a bake check, against moto (in-process and its loopback server) and,
for what moto does not implement, botocore's Stubber.

moto 5.2 answers DescribeAlarms (exact names, prefixes, metric and composite alarms) and
SetAlarmState, but has no DescribeAlarmHistory or PutCompositeAlarm, ignores ``AlarmTypes``
and never pages. So the moto tests serve DescribeAlarmHistory from moto's own records
(tests/parts/moto_alarms.py), put composite alarms into moto's backend directly, and the
Stubber tests cover the history's shapes (an alarm that flapped between reads), the
``AlarmTypes`` sent, paging and its bounds, and throttling.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from gate.bake import cloudwatch
from gate.bake.check import Breach, Check, Reading
from gate.bake.cloudwatch import CloudWatchAlarms, cloudwatch_alarms
from gate.core.errors import RequestRejected, TransientError, UsageError
from gate.providers.aws.clients import make_clients
from tests.parts.moto_alarms import alarm_history_served

pytestmark = pytest.mark.usefixtures("aws_env")

REGION = "eu-west-1"
SINCE = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
NOW = SINCE + timedelta(minutes=5)
TYPES = ["MetricAlarm", "CompositeAlarm"]
REASON = "Threshold Crossed: 1 datapoint [7.0 (23/11/26 10:02:00)] was greater than 1.0"


def history_params(name: str, token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "AlarmName": name,
        "AlarmTypes": TYPES,
        "HistoryItemType": "StateUpdate",
        "StartDate": SINCE,
        "EndDate": NOW,
        "ScanBy": "TimestampDescending",
        "MaxRecords": 100,
    }
    return {**params, "NextToken": token} if token else params


def put_alarm(client: Any, name: str) -> None:
    client.put_metric_alarm(
        AlarmName=name,
        Namespace="Shop",
        MetricName="5xx",
        ComparisonOperator="GreaterThanThreshold",
        EvaluationPeriods=1,
        Period=60,
        Threshold=1.0,
        Statistic="Sum",
    )


def put_composite_alarm(name: str, rule: str) -> None:
    """Into moto's backend: moto has no PutCompositeAlarm, but lists an alarm with a rule as
    a composite one."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    cloudwatch_backends[DEFAULT_ACCOUNT_ID][REGION].put_metric_alarm(
        name=name,
        namespace="",
        metric_name="",
        comparison_operator="",
        evaluation_periods=0,
        period=0,
        threshold=0.0,
        statistic="",
        description="",
        dimensions=[],
        alarm_actions=[],
        rule=rule,
    )


@pytest.fixture
def moto() -> Iterator[Any]:
    """moto's CloudWatch in this process, its history served; every alarm's state changes
    are at the real time, outside the window of :data:`SINCE` to :data:`NOW`."""
    with mock_aws(), alarm_history_served():
        yield boto3.client("cloudwatch", region_name=REGION)


def check(client: Any, *names: str, **options: Any) -> CloudWatchAlarms:
    return CloudWatchAlarms(list(names), client, **options)


def test_the_alarms_are_a_check(moto: Any) -> None:
    alarms = check(moto, "checkout-5xx", "checkout-*", "checkout-5xx")
    assert isinstance(alarms, Check)
    assert alarms.kind == "alarm"
    assert alarms.describe() == "CloudWatch alarms checkout-5xx, checkout-*"


def test_ok_alarms_pass(moto: Any) -> None:
    names = ["checkout-5xx", "checkout-latency", "payments-5xx"]
    for name in names:
        put_alarm(moto, name)
    alarms = check(moto, *names)
    alarms.prepare()
    assert alarms.read(SINCE, NOW) == Reading("3 alarms OK")


def test_an_alarm_in_alarm_breaches_with_its_state_reason(moto: Any) -> None:
    put_alarm(moto, "checkout-5xx")
    put_alarm(moto, "checkout-latency")
    moto.set_alarm_state(AlarmName="checkout-5xx", StateValue="ALARM", StateReason=REASON)
    reading = check(moto, "checkout-5xx", "checkout-latency").read(SINCE, NOW)
    assert reading.summary == "1 of 2 alarms in ALARM"
    [breach] = reading.breaches
    assert (breach.check, breach.detail) == ("alarm checkout-5xx", REASON)
    assert breach.at is not None
    assert breach.at.tzinfo is timezone.utc


def test_insufficient_data_is_noted_not_a_breach_by_default(moto: Any) -> None:
    put_alarm(moto, "checkout-5xx")
    put_alarm(moto, "checkout-latency")
    moto.set_alarm_state(
        AlarmName="checkout-latency", StateValue="INSUFFICIENT_DATA", StateReason="no datapoints"
    )
    reading = check(moto, "checkout-5xx", "checkout-latency").read(SINCE, NOW)
    assert reading == Reading(
        "1 of 2 alarms OK, 1 INSUFFICIENT_DATA",
        notes=("alarm checkout-latency is INSUFFICIENT_DATA",),
    )


def test_insufficient_data_breaches_when_told(moto: Any) -> None:
    put_alarm(moto, "checkout-latency")
    moto.set_alarm_state(
        AlarmName="checkout-latency", StateValue="INSUFFICIENT_DATA", StateReason="no datapoints"
    )
    reading = check(moto, "checkout-latency", insufficient_data="breach").read(SINCE, NOW)
    assert [(b.check, b.detail) for b in reading.breaches] == [
        ("alarm checkout-latency", "INSUFFICIENT_DATA: no datapoints")
    ]


def test_a_missing_alarm_or_empty_prefix_is_refused_before_the_wait(
    moto: Any,
) -> None:
    put_alarm(moto, "checkout-5xx")
    alarms = check(moto, "checkout-5xx", "checkout-gone", "payments-*")
    with pytest.raises(UsageError) as refused:
        alarms.prepare()
    assert str(refused.value).startswith(
        "no CloudWatch alarm checkout-gone, payments-* in eu-west-1"
    )
    assert refused.value.exit_code == 2


def test_a_missing_alarm_is_noted_when_told_to_ignore_it(moto: Any) -> None:
    put_alarm(moto, "checkout-5xx")
    alarms = check(moto, "checkout-5xx", "checkout-gone", missing="ignore")
    alarms.prepare()
    assert alarms.read(SINCE, NOW) == Reading(
        "1 alarm OK", notes=("no CloudWatch alarm checkout-gone exists",)
    )


def test_an_alarm_deleted_during_the_bake_ends_it_unread(moto: Any) -> None:
    put_alarm(moto, "checkout-5xx")
    alarms = check(moto, "checkout-5xx")
    alarms.prepare()
    moto.delete_alarms(AlarmNames=["checkout-5xx"])
    with pytest.raises(RequestRejected, match="checkout-5xx no longer exists"):
        alarms.read(SINCE, NOW)


def test_a_prefix_watches_every_alarm_it_matches_and_no_other(moto: Any) -> None:
    for name in ("checkout-5xx", "checkout-latency", "payments-5xx"):
        put_alarm(moto, name)
    moto.set_alarm_state(AlarmName="payments-5xx", StateValue="ALARM", StateReason=REASON)
    alarms = check(moto, "checkout-*")
    alarms.prepare()
    assert alarms.read(SINCE, NOW) == Reading("2 alarms OK")


def test_a_composite_alarm_in_alarm_breaches(moto: Any) -> None:
    put_alarm(moto, "checkout-5xx")
    put_composite_alarm("checkout-health", 'ALARM("checkout-5xx")')
    moto.set_alarm_state(
        AlarmName="checkout-health", StateValue="ALARM", StateReason="checkout-5xx in ALARM"
    )
    reading = check(moto, "checkout-*").read(SINCE, NOW)
    assert reading.summary == "1 of 2 alarms in ALARM"
    assert [(b.check, b.detail) for b in reading.breaches] == [
        ("alarm checkout-health", "checkout-5xx in ALARM")
    ]


def test_moto_server_over_the_gates_wire(moto_server: str) -> None:
    """The factory's client, over a real socket: an alarm in ALARM needs no history read."""
    alarms = cloudwatch_alarms(
        ["checkout-*"],
        region=REGION,
        profile=None,
        endpoint_url=moto_server,
        request_timeout=10,
        missing="refuse",
    )
    try:
        with pytest.raises(UsageError, match="no CloudWatch alarm checkout-"):
            alarms.prepare()
        with closing(
            boto3.client("cloudwatch", region_name=REGION, endpoint_url=moto_server)
        ) as aws:
            put_alarm(aws, "checkout-5xx")
            aws.set_alarm_state(AlarmName="checkout-5xx", StateValue="ALARM", StateReason=REASON)
        with alarm_history_served():
            alarms.prepare()
        reading = alarms.read(SINCE, NOW)
        assert reading.summary == "1 of 1 alarm in ALARM"
        assert [b.detail for b in reading.breaches] == [REASON]
    finally:
        alarms.close()


def test_moto_server_ok_alarm(moto_server: str) -> None:
    made = make_clients(
        ["cloudwatch"], region=REGION, profile=None, endpoint_url=moto_server, request_timeout=10
    )
    client = made.clients["cloudwatch"]
    put_alarm(client, "checkout-5xx")
    alarms = check(client, "checkout-5xx", close=made.close)
    try:
        with alarm_history_served():
            alarms.prepare()
            assert alarms.read(SINCE, NOW) == Reading("1 alarm OK")
    finally:
        alarms.close()


@pytest.fixture
def fleet(moto_server: str) -> Iterator[tuple[Any, CloudWatchAlarms, list[str]]]:
    """50 OK alarms on moto's server, all made before the bake begins; the gate's own client,
    with every call it makes counted by botocore's ``before-call`` event."""
    made = make_clients(
        ["cloudwatch"], region=REGION, profile=None, endpoint_url=moto_server, request_timeout=10
    )
    client = made.clients["cloudwatch"]
    for number in range(50):
        put_alarm(client, f"fleet-{number:02}")
    calls: list[str] = []
    client.meta.events.register(
        "before-call.cloudwatch", lambda model, **_: calls.append(model.name)
    )
    alarms = check(client, "fleet-*", close=made.close)
    try:
        with alarm_history_served():
            alarms.prepare()
            yield client, alarms, calls
    finally:
        alarms.close()


def test_unchanged_alarms_cost_one_call_a_round(
    fleet: tuple[Any, CloudWatchAlarms, list[str]],
) -> None:
    """No alarm was updated since the bake began: no history can hold a flap, none is read."""
    _, alarms, calls = fleet
    began = datetime.now(timezone.utc)
    calls.clear()
    for _ in range(2):
        assert alarms.read(began, datetime.now(timezone.utc)) == Reading("50 alarms OK")
    assert calls == ["DescribeAlarms", "DescribeAlarms"]


def test_an_alarm_updated_in_the_window_has_its_history_read_and_a_flap_caught(
    fleet: tuple[Any, CloudWatchAlarms, list[str]],
) -> None:
    client, alarms, calls = fleet
    began = datetime.now(timezone.utc)
    client.set_alarm_state(AlarmName="fleet-07", StateValue="ALARM", StateReason=REASON)
    client.set_alarm_state(AlarmName="fleet-07", StateValue="OK", StateReason="recovered")
    calls.clear()
    reading = alarms.read(began, datetime.now(timezone.utc))
    assert calls == ["DescribeAlarms", "DescribeAlarmHistory"]
    assert reading.summary == "1 of 50 alarms went to ALARM during the bake"
    [breach] = reading.breaches
    assert breach.check == "alarm fleet-07"
    assert breach.detail == f"went to ALARM during the bake (now OK): {REASON}"


# What moto does not implement, with botocore's Stubber (which checks every request and answer
# against the service model).


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    made = make_clients(
        ["cloudwatch"], region=REGION, profile=None, endpoint_url=None, request_timeout=5
    )
    client = made.clients["cloudwatch"]
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
    made.close()


def metric_alarm(
    name: str, state: str = "OK", reason: str = "fine", updated: datetime = NOW
) -> dict[str, Any]:
    """An alarm as DescribeAlarms lists it; by default its state was updated during the
    bake, so its history is read."""
    return {
        "AlarmName": name,
        "StateValue": state,
        "StateReason": reason,
        "StateUpdatedTimestamp": updated,
    }


def listed(
    stubber: Stubber,
    metric: list[dict[str, Any]],
    composite: list[dict[str, Any]] | None = None,
    *,
    token: str | None = None,
    next_token: str | None = None,
    **params: Any,
) -> None:
    answer: dict[str, Any] = {"MetricAlarms": metric, "CompositeAlarms": composite or []}
    if next_token:
        answer["NextToken"] = next_token
    expected = {"AlarmTypes": TYPES, "MaxRecords": 100, **params}
    stubber.add_response(
        "describe_alarms", answer, {**expected, **({"NextToken": token} if token else {})}
    )


def state_update(at: datetime, old: str, new: str, reason: str) -> dict[str, Any]:
    """A StateUpdate history item as CloudWatch writes it."""
    data = {
        "version": "1.0",
        "oldState": {"stateValue": old, "stateReason": "before"},
        "newState": {"stateValue": new, "stateReason": reason},
    }
    return {
        "AlarmName": "checkout-5xx",
        "AlarmType": "MetricAlarm",
        "Timestamp": at,
        "HistoryItemType": "StateUpdate",
        "HistorySummary": f"Alarm updated from {old} to {new}",
        "HistoryData": json.dumps(data),
    }


def test_an_alarm_that_went_to_alarm_and_back_before_the_read_breaches(
    stubbed: tuple[Any, Stubber],
) -> None:
    client, stubber = stubbed
    listed(stubber, [metric_alarm("checkout-5xx")], AlarmNames=["checkout-5xx"])
    went_at = SINCE + timedelta(minutes=2)
    stubber.add_response(
        "describe_alarm_history",
        {
            "AlarmHistoryItems": [
                state_update(went_at + timedelta(minutes=1), "ALARM", "OK", "recovered"),
                state_update(went_at, "OK", "ALARM", REASON),
            ]
        },
        history_params("checkout-5xx"),
    )
    reading = check(client, "checkout-5xx").read(SINCE, NOW)
    assert reading.summary == "1 of 1 alarm went to ALARM during the bake"
    assert reading.breaches == (
        Breach("alarm checkout-5xx", f"went to ALARM during the bake (now OK): {REASON}", went_at),
    )


@pytest.mark.parametrize(
    ("policy", "breaches"),
    [("ok", 0), ("breach", 1)],
    ids=["insufficient-ok", "insufficient-breach"],
)
def test_history_into_insufficient_data_follows_the_policy(
    stubbed: tuple[Any, Stubber], policy: str, breaches: int
) -> None:
    client, stubber = stubbed
    listed(stubber, [metric_alarm("checkout-5xx")], AlarmNames=["checkout-5xx"])
    stubber.add_response(
        "describe_alarm_history",
        {
            "AlarmHistoryItems": [
                state_update(SINCE + timedelta(minutes=2), "INSUFFICIENT_DATA", "OK", "data"),
                state_update(SINCE + timedelta(minutes=1), "OK", "INSUFFICIENT_DATA", "gap"),
            ]
        },
        history_params("checkout-5xx"),
    )
    reading = check(client, "checkout-5xx", insufficient_data=policy).read(SINCE, NOW)
    assert len(reading.breaches) == breaches


def test_composite_alarms_are_asked_for_and_counted(stubbed: tuple[Any, Stubber]) -> None:
    """Without AlarmTypes CloudWatch lists metric alarms only (moto ignores the parameter)."""
    client, stubber = stubbed
    composite = {**metric_alarm("checkout-health", "ALARM", "checkout-5xx in ALARM")}
    listed(stubber, [], [composite], AlarmNames=["checkout-health"])
    reading = check(client, "checkout-health").read(SINCE, NOW)
    assert [b.check for b in reading.breaches] == ["alarm checkout-health"]


def test_a_prefix_is_read_page_by_page(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    listed(stubber, [metric_alarm("checkout-a")], AlarmNamePrefix="checkout-", next_token="p2")
    listed(stubber, [metric_alarm("checkout-b")], AlarmNamePrefix="checkout-", token="p2")
    for name in ("checkout-a", "checkout-b"):
        stubber.add_response(
            "describe_alarm_history", {"AlarmHistoryItems": []}, history_params(name)
        )
    assert check(client, "checkout-*").read(SINCE, NOW) == Reading("2 alarms OK")


def test_a_prefix_too_broad_to_list_is_refused_and_noted(
    stubbed: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloudwatch, "MAX_LIST_PAGES", 2)
    client, stubber = stubbed
    for _ in range(2):  # prepare, then read
        listed(stubber, [], AlarmNamePrefix="checkout-", next_token="p2")
        listed(
            stubber,
            [metric_alarm("checkout-b")],
            AlarmNamePrefix="checkout-",
            token="p2",
            next_token="p3",
        )
    stubber.add_response(
        "describe_alarm_history", {"AlarmHistoryItems": []}, history_params("checkout-b")
    )
    alarms = check(client, "checkout-*")
    with pytest.raises(UsageError, match=r"checkout-\* matches more than 200 CloudWatch alarms"):
        alarms.prepare()
    assert alarms.read(SINCE, NOW).notes == (
        "checkout-* matches more than 200 alarms; the rest were not read",
    )


def test_a_long_history_is_read_bounded_and_said(
    stubbed: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloudwatch, "MAX_HISTORY_PAGES", 2)
    client, stubber = stubbed
    listed(stubber, [metric_alarm("checkout-5xx")], AlarmNames=["checkout-5xx"])
    quiet = state_update(SINCE, "ALARM", "OK", "fine")
    for token, next_token in ((None, "h2"), ("h2", "h3")):
        stubber.add_response(
            "describe_alarm_history",
            {"AlarmHistoryItems": [quiet], "NextToken": next_token},
            history_params("checkout-5xx", token),
        )
    reading = check(client, "checkout-5xx").read(SINCE, NOW)
    assert reading.breaches == ()
    assert reading.notes == (
        "alarm checkout-5xx: only its latest 200 state changes in the bake were read",
    )


@pytest.mark.parametrize("operation", ["describe_alarms", "describe_alarm_history"])
def test_throttling_is_transient(stubbed: tuple[Any, Stubber], operation: str) -> None:
    client, stubber = stubbed
    if operation == "describe_alarm_history":
        listed(stubber, [metric_alarm("checkout-5xx")], AlarmNames=["checkout-5xx"])
    stubber.add_client_error(
        operation,
        service_error_code="Throttling",
        service_message="Rate exceeded",
        http_status_code=400,
    )
    with pytest.raises(TransientError, match="Throttling: Rate exceeded"):
        check(client, "checkout-5xx").read(SINCE, NOW)


def test_an_alarm_listed_in_alarm_is_kept_when_a_later_listing_fails(
    stubbed: tuple[Any, Stubber],
) -> None:
    """A breach in hand is a breach, whatever failed to read after it."""
    client, stubber = stubbed
    listed(stubber, [metric_alarm("checkout-5xx", "ALARM", REASON)], AlarmNames=["checkout-5xx"])
    stubber.add_client_error(
        "describe_alarms",
        service_error_code="Throttling",
        service_message="Rate exceeded",
        http_status_code=400,
    )
    reading = check(client, "checkout-5xx", "payments-*").read(SINCE, NOW)
    assert [(b.check, b.detail) for b in reading.breaches] == [("alarm checkout-5xx", REASON)]
    assert reading.notes == (
        "not every alarm could be read: CloudWatch: HTTP 400 Throttling: Rate exceeded",
    )


def test_an_alarm_on_a_page_before_a_failed_page_is_kept(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    listed(
        stubber,
        [metric_alarm("checkout-5xx", "ALARM", REASON)],
        AlarmNamePrefix="checkout-",
        next_token="p2",
    )
    stubber.add_client_error(
        "describe_alarms", service_error_code="InternalFailure", http_status_code=500
    )
    reading = check(client, "checkout-*").read(SINCE, NOW)
    assert [b.check for b in reading.breaches] == ["alarm checkout-5xx"]
    assert reading.notes[0].startswith("not every alarm could be read: CloudWatch: HTTP 500")


def test_prepare_reads_what_every_read_will_read(stubbed: tuple[Any, Stubber]) -> None:
    """One history read before the wait: its permission is proven then, not at the bake."""
    client, stubber = stubbed
    listed(stubber, [metric_alarm("checkout-5xx")], AlarmNames=["checkout-5xx"])
    stubber.add_response(
        "describe_alarm_history",
        {"AlarmHistoryItems": []},
        {
            "AlarmName": "checkout-5xx",
            "AlarmTypes": TYPES,
            "HistoryItemType": "StateUpdate",
            "MaxRecords": 1,
        },
    )
    check(client, "checkout-5xx").prepare()


@pytest.mark.parametrize(
    ("operation", "code", "status"),
    [
        ("describe_alarms", "Throttling", 400),
        ("describe_alarm_history", "Throttling", 400),
        ("describe_alarm_history", "InternalFailure", 500),
    ],
)
def test_a_fault_that_may_pass_before_the_wait_is_transient(
    stubbed: tuple[Any, Stubber], operation: str, code: str, status: int
) -> None:
    """Not a refusal (exit 2): the prepare path retries it within the deadline."""
    client, stubber = stubbed
    if operation == "describe_alarm_history":
        listed(stubber, [metric_alarm("checkout-5xx")], AlarmNames=["checkout-5xx"])
    stubber.add_client_error(
        operation, service_error_code=code, service_message="try later", http_status_code=status
    )
    with pytest.raises(TransientError, match=f"{code}: try later"):
        check(client, "checkout-5xx").prepare()


def test_a_state_update_that_is_not_json_is_transient(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    listed(stubber, [metric_alarm("checkout-5xx")], AlarmNames=["checkout-5xx"])
    garbage = {**state_update(SINCE, "OK", "ALARM", REASON), "HistoryData": "<html>"}
    stubber.add_response(
        "describe_alarm_history", {"AlarmHistoryItems": [garbage]}, history_params("checkout-5xx")
    )
    with pytest.raises(TransientError, match="not JSON"):
        check(client, "checkout-5xx").read(SINCE, NOW)


def test_a_hostile_state_reason_is_bounded_to_one_line(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    hostile = "\x1b[2J\n::error::pwned\n" + "x" * 5000
    listed(stubber, [metric_alarm("checkout-5xx", "ALARM", hostile)], AlarmNames=["checkout-5xx"])
    [breach] = check(client, "checkout-5xx").read(SINCE, NOW).breaches
    assert breach.detail.startswith("?[2J ::error::pwned x")
    assert len(breach.detail) == cloudwatch.REASON_LIMIT


@pytest.mark.parametrize(
    "names",
    [[], [""], ["*"], ["checkout\n5xx"], ["x" * 256]],
    ids=["none", "empty", "every-alarm", "line-break", "too-long"],
)
def test_names_that_cannot_work_are_refused(names: list[str]) -> None:
    with pytest.raises(UsageError):
        CloudWatchAlarms(names, client=object(), close=lambda: None)


def test_unknown_policies_are_refused() -> None:
    with pytest.raises(UsageError, match="insufficient_data"):
        CloudWatchAlarms(["a"], object(), insufficient_data="maybe", close=lambda: None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="missing"):
        CloudWatchAlarms(["a"], object(), missing="warn", close=lambda: None)  # type: ignore[arg-type]


def test_a_state_gate_does_not_know_is_never_read_as_ok(stubbed: tuple[Any, Stubber]) -> None:
    client, stubber = stubbed
    listed(stubber, [metric_alarm("checkout-5xx", "PENDING")], AlarmNames=["checkout-5xx"])
    with pytest.raises(TransientError, match="'PENDING', a state gate does not know"):
        check(client, "checkout-5xx").read(SINCE, NOW)
