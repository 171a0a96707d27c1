"""CloudWatch alarms as a bake check: an alarm in ``ALARM`` now, or at any time since the bake
began, is a breach.

Alarms are named as the user wrote them: ``checkout-5xx`` exactly, ``checkout-*`` by prefix;
metric and composite alarms alike. Each read lists them again (``DescribeAlarms``, so an alarm
added under a prefix is watched too) and, for every alarm not in ``ALARM`` now whose state was
updated since the bake began, reads its ``StateUpdate`` history over the bake's window
(``DescribeAlarmHistory``), so an alarm that went to ``ALARM`` and back between two reads
still fails the bake. An alarm whose ``StateUpdatedTimestamp`` is before the bake began has no
state update in the window, so its history is not read: a round costs one ``DescribeAlarms``
per 100 names or per prefix, however many healthy alarms they list. A breach in hand is kept
whatever else fails to read: a read that fails after one alarm was seen breaching ends as that
breach (the failure named in a note), and fails as a whole only when nothing breached. Every
listing is bounded in pages, and a cut one is said. botocore is reached through
:func:`gate.providers.aws.calls.call_aws`, which raises only gate errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from gate.bake.check import Breach, Reading
from gate.core.errors import AuthError, ReadError, RequestRejected, TransientError, UsageError
from gate.core.text import from_api, one_line, quoted
from gate.core.timestamps import parse_timestamp
from gate.providers.aws.calls import call_aws

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

    from gate.providers.aws.clients import AwsClients

__all__ = [
    "ALARM_TYPES",
    "MAX_HISTORY_PAGES",
    "MAX_LIST_PAGES",
    "CloudWatchAlarms",
    "InsufficientData",
    "Missing",
    "cloudwatch_alarms",
    "cloudwatch_client",
    "not_permitted",
]

InsufficientData = Literal["ok", "breach"]
Missing = Literal["refuse", "ignore"]

ALARM_TYPES = ("MetricAlarm", "CompositeAlarm")
"""Without ``AlarmTypes``, CloudWatch lists metric alarms only."""
PAGE_SIZE = 100
"""``MaxRecords`` and the most ``AlarmNames`` one request may carry (the service's maximum)."""
MAX_LIST_PAGES = 10
"""Pages of alarms one name or prefix may list: a prefix matching more than 1000 alarms is
too broad to watch whole."""
MAX_HISTORY_PAGES = 5
"""Pages of one alarm's state updates read per window; one ``ALARM`` among them is enough."""
REASON_LIMIT = 500
NAME_LIMIT = 255
"""The longest alarm name CloudWatch accepts."""


@dataclass(frozen=True)
class _Alarm:
    name: str
    state: str
    reason: str
    at: datetime | None


_Update = tuple[str, str, datetime | None]
"""A state update: the new state, its reason, when."""


@dataclass(frozen=True)
class _Found:
    alarms: Mapping[str, _Alarm]
    missing: tuple[str, ...]
    """Names and prefixes, as the user wrote them, that matched no alarm."""
    cut: tuple[str, ...]
    """Names and prefixes whose listing stopped at :data:`MAX_LIST_PAGES`."""
    unread: ReadError | None = None
    """Why the listing stopped before every name and prefix was listed (``missing`` is then
    only of those listed)."""


class CloudWatchAlarms:
    """Named CloudWatch alarms (exact names, or prefixes ending in ``*``) in one region."""

    kind = "alarm"

    def __init__(
        self,
        names: Sequence[str],
        client: CloudWatchClient,
        *,
        insufficient_data: InsufficientData = "ok",
        missing: Missing = "refuse",
        credential_source: Callable[[], str] = lambda: "the AWS default chain",
        close: Callable[[], None] | None = None,
    ) -> None:
        if insufficient_data not in ("ok", "breach"):
            raise UsageError(
                f"insufficient_data must be 'ok' or 'breach', not {insufficient_data!r}"
            )
        if missing not in ("refuse", "ignore"):
            raise UsageError(f"missing must be 'refuse' or 'ignore', not {missing!r}")
        self._names = _checked_names(names)
        self._client = client
        self._breaching = {"ALARM"} | (
            {"INSUFFICIENT_DATA"} if insufficient_data == "breach" else set()
        )
        self._missing = missing
        self._credential_source = credential_source
        self._close = close or client.close

    def __repr__(self) -> str:
        return f"CloudWatchAlarms({list(self._names)!r})"

    def describe(self) -> str:
        return f"CloudWatch alarms {', '.join(self._names)}"

    def prepare(self) -> None:
        """Before the wait, what every read will need: the alarms exist, and the credentials
        may call both actions a read makes (a role copied from CodeDeploy's alarm setup has
        ``DescribeAlarms`` only). A refusal is exit 2 naming the IAM action; a fault that may
        pass stays a :class:`~gate.core.errors.TransientError`."""
        found = self._find()
        if isinstance(found.unread, AuthError):
            raise not_permitted(
                "cloudwatch:DescribeAlarms", "to read the alarms' states", found.unread
            ) from found.unread
        if found.unread is not None:
            raise found.unread
        if found.cut:
            raise UsageError(
                f"{_listed(found.cut)} matches more than {MAX_LIST_PAGES * PAGE_SIZE} "
                "CloudWatch alarms: name the alarms to watch more narrowly"
            )
        if found.missing and self._missing == "refuse":
            raise UsageError(
                f"no CloudWatch alarm {_listed(found.missing)} in {self._region()}: "
                "check the names and the region (or let missing alarms be ignored)"
            )
        # Proven even when nothing is found yet: the deployment may create the alarms.
        first = next(iter(found.alarms), None)
        named = {"AlarmName": first} if first is not None else {}
        try:
            self._call(
                "describe_alarm_history",
                first or "history",
                **named,
                AlarmTypes=list(ALARM_TYPES),
                HistoryItemType="StateUpdate",
                MaxRecords=1,
            )
        except AuthError as refused:
            raise not_permitted(
                "cloudwatch:DescribeAlarmHistory",
                "to catch an alarm that flapped between reads",
                refused,
            ) from refused

    def read(self, since: datetime, now: datetime) -> Reading:
        found = self._find()
        notes = [f"no CloudWatch alarm {name} exists" for name in found.missing]
        notes += [
            f"{name} matches more than {MAX_LIST_PAGES * PAGE_SIZE} alarms; the rest were not read"
            for name in found.cut
        ]
        breaches: list[Breach] = []
        in_alarm = went = insufficient = 0
        quiet: list[_Alarm] = []
        for alarm in found.alarms.values():
            if alarm.state == "INSUFFICIENT_DATA":
                insufficient += 1
            if alarm.state in self._breaching:
                in_alarm += alarm.state == "ALARM"
                detail = (
                    alarm.reason if alarm.state == "ALARM" else f"{alarm.state}: {alarm.reason}"
                )
                breaches.append(Breach(f"alarm {alarm.name}", detail, alarm.at, ongoing=True))
            else:
                quiet.append(alarm)
        unread = found.unread
        began = _utc(since)
        for alarm in quiet if unread is None else ():
            label = f"alarm {alarm.name}"
            if alarm.state == "INSUFFICIENT_DATA":
                notes.append(f"{label} is INSUFFICIENT_DATA")
            if alarm.at is not None and began is not None and alarm.at < began:
                continue  # no update since the bake began, so none in the history's window
            try:
                earlier, cut = self._breach_in_history(alarm.name, since, now)
            except ReadError as fault:
                unread = fault
                break
            if earlier is not None:
                went += 1
                state, reason, at = earlier
                said = f"went to {state} during the bake (now {alarm.state}): {reason}"
                breaches.append(Breach(label, said, at))
            elif cut:
                notes.append(
                    f"{label}: only its latest {MAX_HISTORY_PAGES * PAGE_SIZE} state changes "
                    "in the bake were read"
                )
        if unread is not None:
            if not breaches:
                raise unread
            notes.append(f"not every alarm could be read: {one_line(str(unread), limit=300)}")
        if found.missing and self._missing == "refuse" and not breaches:
            raise RequestRejected(
                f"CloudWatch alarm {_listed(found.missing)} no longer exists in {self._region()}"
            )
        summary = _summary(len(found.alarms), in_alarm, went, insufficient)
        return Reading(summary, tuple(breaches), tuple(notes))

    def close(self) -> None:
        self._close()

    def _find(self) -> _Found:
        """Every alarm the names and prefixes list, until a listing fails (said in
        ``unread``: the alarms listed before it are kept, so a breach among them is not
        lost)."""
        alarms: dict[str, _Alarm] = {}
        missing: list[str] = []
        cut: list[str] = []
        exact = [name for name in self._names if not name.endswith("*")]
        try:
            for start in range(0, len(exact), PAGE_SIZE):
                batch = exact[start : start + PAGE_SIZE]
                self._list(", ".join(batch), alarms, AlarmNames=batch)
                missing += [name for name in batch if name not in alarms]
            for name in self._names:
                if name.endswith("*"):
                    listed: dict[str, _Alarm] = {}
                    try:
                        more = self._list(name, listed, AlarmNamePrefix=name[:-1])
                    finally:
                        alarms.update(listed)
                    missing += [name] if not listed else []
                    cut += [name] if more else []
        except ReadError as fault:
            return _Found(alarms, tuple(missing), tuple(cut), unread=fault)
        return _Found(alarms, tuple(missing), tuple(cut))

    def _list(self, what: str, into: dict[str, _Alarm], **params: Any) -> bool:
        """Adds the alarms one name batch or prefix lists to ``into``, page by page (a page
        read is kept if a later one fails); whether pages were left unread."""
        token = ""
        for _ in range(MAX_LIST_PAGES):
            page = self._call(
                "describe_alarms",
                what,
                AlarmTypes=list(ALARM_TYPES),
                MaxRecords=PAGE_SIZE,
                **params,
                **({"NextToken": token} if token else {}),
            )
            for key in ("MetricAlarms", "CompositeAlarms"):
                into.update((alarm.name, alarm) for alarm in map(_alarm, _items(page, key)))
            token = from_api(page.get("NextToken"))
            if not token:
                return False
        return True

    def _breach_in_history(
        self, name: str, since: datetime, now: datetime
    ) -> tuple[_Update | None, bool]:
        """The latest update into a breaching state within the window, if any; whether
        pages were left unread."""
        token = ""
        for _ in range(MAX_HISTORY_PAGES):
            page = self._call(
                "describe_alarm_history",
                name,
                AlarmName=name,
                AlarmTypes=list(ALARM_TYPES),
                HistoryItemType="StateUpdate",
                StartDate=since,
                EndDate=now,
                ScanBy="TimestampDescending",
                MaxRecords=PAGE_SIZE,
                **({"NextToken": token} if token else {}),
            )
            for item in _items(page, "AlarmHistoryItems"):
                state, reason = _new_state(item.get("HistoryData"), name)
                if state in self._breaching:
                    return (state, reason, _utc(item.get("Timestamp"))), False
            token = from_api(page.get("NextToken"))
            if not token:
                return None, False
        return None, True

    def _call(self, operation: str, what: str, **params: Any) -> Mapping[str, Any]:
        return call_aws(
            getattr(self._client, operation),
            service="CloudWatch",
            missing=lambda: f"CloudWatch alarm {what}",
            credential_source=self._credential_source,
            **params,
        )

    def _region(self) -> str:
        region = getattr(getattr(self._client, "meta", None), "region_name", None)
        return region if isinstance(region, str) else "the region"


def cloudwatch_alarms(
    names: Sequence[str],
    *,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    request_timeout: float,
    allow_plain_http: bool = False,
    insufficient_data: InsufficientData = "ok",
    missing: Missing = "refuse",
) -> CloudWatchAlarms:
    """:class:`CloudWatchAlarms` with a client from the AWS chain, on the gate's bounded wire."""
    aws = cloudwatch_client(
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        request_timeout=request_timeout,
        allow_plain_http=allow_plain_http,
    )
    return CloudWatchAlarms(
        names,
        aws.clients["cloudwatch"],
        insufficient_data=insufficient_data,
        missing=missing,
        credential_source=aws.credential_source,
        close=aws.close,
    )


def cloudwatch_client(
    *,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    request_timeout: float,
    allow_plain_http: bool = False,
) -> AwsClients:
    """The bake's CloudWatch client from the AWS chain, on the gate's bounded wire: the
    alarms' and the comparisons' (:mod:`gate.bake.cloudwatch_series`)."""
    from gate.providers.aws.clients import make_clients

    return make_clients(
        ["cloudwatch"],
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        request_timeout=request_timeout,
        allow_plain_http=allow_plain_http,
    )


def _checked_names(names: Sequence[str]) -> tuple[str, ...]:
    if isinstance(names, str):
        names = [names]
    checked: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name or name == "*":
            raise UsageError(
                f"a CloudWatch alarm name or prefix* is needed, not {name!r}"
                + (" (that would watch every alarm)" if name == "*" else "")
            )
        if len(name.rstrip("*")) > NAME_LIMIT or one_line(name, limit=NAME_LIMIT + 1) != name:
            raise UsageError(
                f"{one_line(name, limit=80)!r} is not a CloudWatch alarm name: at most "
                f"{NAME_LIMIT} characters, no control characters or line breaks"
            )
        if name not in checked:
            checked.append(name)
    if not checked:
        raise UsageError("no CloudWatch alarm to watch: name at least one")
    return tuple(checked)


def _items(page: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    listed = page.get(key)
    if listed is None:
        return []
    if not isinstance(listed, list):
        raise TransientError(f"CloudWatch answered with {key} that is not a list")
    return [item for item in listed if isinstance(item, Mapping)]


ALARM_STATES = frozenset({"OK", "ALARM", "INSUFFICIENT_DATA"})


def _alarm(item: Mapping[str, Any]) -> _Alarm:
    name = from_api(item.get("AlarmName"))
    state = from_api(item.get("StateValue"))
    if not name or not state:
        raise TransientError("CloudWatch listed an alarm without its name or state")
    if state not in ALARM_STATES:  # a state word not known is not read as OK
        raise TransientError(
            f"CloudWatch said alarm {one_line(name, limit=NAME_LIMIT)} is {quoted(state)}, "
            "a state gate does not know"
        )
    return _Alarm(
        name=one_line(name, limit=NAME_LIMIT),
        state=one_line(state, limit=40),
        reason=_reason(item.get("StateReason")),
        at=_utc(item.get("StateUpdatedTimestamp")),
    )


def _new_state(history_data: object, name: str) -> tuple[str, str]:
    """``newState.stateValue`` and ``newState.stateReason`` of a ``StateUpdate`` item."""
    try:
        data = json.loads(from_api(history_data))
    except (ValueError, RecursionError) as exc:
        raise TransientError(
            f"CloudWatch answered with a state update of alarm {name} that is not JSON"
        ) from exc
    new = data.get("newState") if isinstance(data, dict) else None
    if not isinstance(new, dict):
        raise TransientError(
            f"CloudWatch answered with a state update of alarm {name} without newState"
        )
    return from_api(new.get("stateValue")), _reason(new.get("stateReason"))


def _reason(value: object) -> str:
    return one_line(from_api(value), limit=REASON_LIMIT) or "(no reason given)"


def _utc(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return (
            value.replace(tzinfo=timezone.utc)
            if value.tzinfo is None
            else value.astimezone(timezone.utc)
        )
    return parse_timestamp(value)


def not_permitted(action: str, why: str, refused: AuthError) -> UsageError:
    return UsageError(
        f"the credentials may not call {action}, which the bake needs {why}: {refused}"
    )


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names)


def _summary(total: int, in_alarm: int, went: int, insufficient: int) -> str:
    noun = "alarm" if total == 1 else "alarms"
    parts = []
    if in_alarm:
        parts.append(f"{in_alarm} of {total} {noun} in ALARM")
    if went:
        parts.append(f"{went} of {total} {noun} went to ALARM during the bake")
    if not parts:
        ok = total - insufficient
        parts.append(f"{total} {noun} OK" if ok == total else f"{ok} of {total} {noun} OK")
    if insufficient:
        parts.append(f"{insufficient} INSUFFICIENT_DATA")
    return ", ".join(parts)
