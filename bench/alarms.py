"""CloudWatch alarms in a bake: the calls one round costs, for 50 alarms on moto's server
(history served from moto's own records, tests/parts/moto_alarms.py), when none changed
since the bake began and when one went to ``ALARM`` and back just before the round.

Anchor: ``DescribeAlarms``, then every alarm's ``DescribeAlarmHistory`` over the bake's
window (how the gate read before, and what a loop that catches a flap without looking at the
timestamps does). Beside it, ``DescribeAlarms`` alone (how CodeDeploy watches alarms: a flap
between two reads goes unseen). The gate runs its own check (gate.bake.cloudwatch) on its
own client. Every call of every client is counted by botocore's ``before-call`` event.

``python -m bench.alarms`` measures and prints this section alone; ``python -m bench`` has it
among the others.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

ANCHOR = "DescribeAlarms + every alarm's history (anchor)"
ALARMS_ONLY = "DescribeAlarms only (CodeDeploy's way)"
GATE = "gate"
REGION = "eu-west-1"
TYPES = ["MetricAlarm", "CompositeAlarm"]

Round = Callable[[datetime], bool]
"""One round of a watcher over the window from the bake's start: whether it saw a breach."""


@dataclass(frozen=True)
class Figures:
    who: str
    alarms: int
    steady_calls: float
    """Calls a round, none of the alarms changed since the bake began."""
    steady_ms: float
    """Median wall time of such a round."""
    flapped_calls: int
    """Calls of the round just after one alarm went to ALARM and back."""
    caught: bool
    """Whether that round saw the flap."""


def every_history(client: Any, prefix: str) -> Round:
    def round_(since: datetime) -> bool:
        listed = client.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=TYPES, MaxRecords=100)[
            "MetricAlarms"
        ]
        breached = any(alarm["StateValue"] == "ALARM" for alarm in listed)
        for alarm in listed:
            items = client.describe_alarm_history(
                AlarmName=alarm["AlarmName"],
                AlarmTypes=TYPES,
                HistoryItemType="StateUpdate",
                StartDate=since,
                EndDate=datetime.now(timezone.utc),
                ScanBy="TimestampDescending",
                MaxRecords=100,
            )["AlarmHistoryItems"]
            breached |= any(
                json.loads(item["HistoryData"])["newState"]["stateValue"] == "ALARM"
                for item in items
            )
        return breached

    return round_


def alarms_only(client: Any, prefix: str) -> Round:
    def round_(since: datetime) -> bool:
        listed = client.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=TYPES, MaxRecords=100)[
            "MetricAlarms"
        ]
        return any(alarm["StateValue"] == "ALARM" for alarm in listed)

    return round_


def the_gate(endpoint: str, prefix: str) -> tuple[Round, Any, Callable[[], None]]:
    """The gate's check on the gate's own client (as gate.bake.cloudwatch.cloudwatch_alarms
    makes it), that client, and how to close both."""
    from gate.bake.cloudwatch import CloudWatchAlarms
    from gate.providers.aws.clients import make_clients

    made = make_clients(
        ["cloudwatch"], region=REGION, profile=None, endpoint_url=endpoint, request_timeout=10
    )
    client = made.clients["cloudwatch"]
    check = CloudWatchAlarms([f"{prefix}*"], client, close=made.close)

    def round_(since: datetime) -> bool:
        return bool(check.read(since, datetime.now(timezone.utc)).breaches)

    return round_, client, check.close


@contextmanager
def fake_credentials() -> Iterator[None]:
    """moto takes any keys; the gate's client finds these in the environment."""
    names = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def measure(alarms: int = 50, rounds: int = 5) -> list[Figures]:
    """The anchor first; each watcher on alarms of its own, made before the bake begins."""
    import boto3
    from moto.server import ThreadedMotoServer

    from tests.parts.moto_alarms import alarm_history_served

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line a request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with fake_credentials(), alarm_history_served():
            setup = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint)
            watchers: dict[str, tuple[str, Round, Any, Callable[[], None]]] = {}
            for number, who in enumerate((ANCHOR, ALARMS_ONLY, GATE)):
                prefix = f"bench-{number}-"
                for alarm in range(alarms):
                    setup.put_metric_alarm(
                        AlarmName=f"{prefix}{alarm:03}",
                        Namespace="Shop",
                        MetricName="5xx",
                        ComparisonOperator="GreaterThanThreshold",
                        EvaluationPeriods=1,
                        Period=60,
                        Threshold=1.0,
                        Statistic="Sum",
                    )
                if who == GATE:
                    round_, client, close = the_gate(endpoint, prefix)
                else:
                    client = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint)
                    round_ = (every_history if who == ANCHOR else alarms_only)(client, prefix)
                    close = client.close
                watchers[who] = (prefix, round_, client, close)
            began = datetime.now(timezone.utc)
            figures = [
                _watch(who, prefix, round_, client, setup, began, alarms, rounds)
                for who, (prefix, round_, client, _) in watchers.items()
            ]
            for *_, close in watchers.values():
                close()
            setup.close()
    finally:
        server.stop()
    return figures


def _watch(
    who: str,
    prefix: str,
    round_: Round,
    client: Any,
    setup: Any,
    began: datetime,
    alarms: int,
    rounds: int,
) -> Figures:
    calls: list[str] = []
    client.meta.events.register(
        "before-call.cloudwatch", lambda model, **_: calls.append(model.name)
    )
    spent = []
    for _ in range(rounds):
        started = time.perf_counter()
        round_(began)
        spent.append(time.perf_counter() - started)
    steady = len(calls) / rounds
    flapped = f"{prefix}{alarms // 2:03}"
    setup.set_alarm_state(AlarmName=flapped, StateValue="ALARM", StateReason="5xx above 1")
    setup.set_alarm_state(AlarmName=flapped, StateValue="OK", StateReason="recovered")
    calls.clear()
    caught = round_(began)
    return Figures(who, alarms, steady, 1000 * statistics.median(spent), len(calls), caught)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alarms", description=__doc__)
    parser.add_argument("--alarms", type=int, default=50, help="alarms watched (default 50)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds with no alarm changed (default 5)"
    )
    args = parser.parse_args()
    from bench.__main__ import alarm_rows, render

    print(f"bench: a bake's round over {args.alarms} CloudWatch alarms...", file=sys.stderr)
    print(render(alarm_rows(measure(args.alarms, args.rounds))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
