"""The bake's and the rollback's options, declared once as fields: every face is made from
them, as it is from a target's description (``--alarm``, ``alarm:`` in a targets file, the
action's ``alarms`` input, Pulumi's ``alarm``). :data:`AFTER_SUCCESS` reads and checks them
together; :func:`bake_of` builds the checks they ask for."""

from __future__ import annotations

from collections.abc import Mapping

from gate.bake.check import Check
from gate.bake.lengths import BAKE, BAKE_INTERVAL
from gate.bake.run import Bake
from gate.core.description import Field, FieldError, TargetDescription, TargetValues, named
from gate.core.model import ON_FAILURE, OnFailure

__all__ = ["AFTER_SUCCESS", "BAKING", "ROLLING_BACK", "bake_of", "on_failure_of"]

DEFAULT_PROBE_FAILURES = 3.0

BAKING = (
    BAKE,
    Field(
        "alarm",
        "a CloudWatch alarm that fails the bake if it is (or was, during the bake) in ALARM; "
        "a name, or a prefix ending in *; composite alarms too",
        kind="list",
        metavar="NAME",
    ),
    Field(
        "alarm_region",
        "the alarms' AWS region (else the AWS chain's)",
        env=("AWS_REGION", "AWS_DEFAULT_REGION"),
        metavar="REGION",
    ),
    Field(
        "alarm_endpoint_url", "another CloudWatch endpoint (an emulator)", kind="url", metavar="URL"
    ),
    Field(
        "insufficient_data",
        "an alarm with INSUFFICIENT_DATA: ok (named, not a breach) or breach",
        kind="choice",
        choices=("ok", "breach"),
        default="ok",
    ),
    Field(
        "missing_alarm",
        "an alarm that does not exist: refuse (exit 2 before waiting) or ignore (named)",
        kind="choice",
        choices=("refuse", "ignore"),
        default="refuse",
    ),
    Field("prometheus", "the Prometheus that --query asks", kind="url", metavar="URL"),
    Field(
        "query",
        "a PromQL query that fails the bake if it returns any series during it, as alerting "
        "rules work: sum(rate(http_requests_total{code=~'5..'}[1m])) > 0",
        kind="list",
        metavar="PROMQL",
    ),
    Field(
        "alertmanager",
        "an Alertmanager whose active alerts (matching --alert-filter) fail the bake",
        kind="url",
        metavar="URL",
    ),
    Field(
        "alert_filter",
        'which Alertmanager alerts count, as a matcher: service="checkout"',
        kind="list",
        metavar="MATCHER",
    ),
    Field(
        "probe",
        "a URL that fails the bake when it answers non-2xx, or not at all, "
        "--probe-failures times in a row",
        kind="list",
        metavar="URL",
    ),
    Field(
        "probe_failures",
        "how many failed probes in a row are a breach",
        kind="number",
        default=DEFAULT_PROBE_FAILURES,
        metavar="N",
        least=1,
        most=1000,
        whole=True,
    ),
    BAKE_INTERVAL,
)
ROLLING_BACK = (
    Field(
        "on_failure",
        "what to do when the gate fails: nothing, rollback (redeploy what ran before and gate "
        "it), or rollback-also-on-timeout",
        kind="choice",
        choices=ON_FAILURE,
        default="nothing",
    ),
    Field(
        "dry_run",
        "with --on-failure rollback: say what the rollback would redeploy, and do nothing",
        kind="flag",
    ),
)


def _checks_need_a_bake(values: TargetValues) -> None:
    checks = ("alarm", "query", "alertmanager", "probe")
    given = [key for key in checks if values.given(key)]
    if given and not values.given("bake"):
        raise FieldError(given[0], f"{named(given[0])} is read during a bake: give {named('bake')}")
    if values.given("bake") and not given:
        raise FieldError(
            "bake",
            f"{named('bake')} needs something to watch: {named('alarm')}, {named('query')}, "
            f"{named('alertmanager')} or {named('probe')}",
        )


_WHICH = {
    "prometheus": f"a {named('query')}",
    "alertmanager": f"an {named('alert_filter')}: every alert, an always-firing Watchdog "
    "among them, would fail the bake",
}


def _each_needs_its_server(values: TargetValues) -> None:
    for listed, server in (("query", "prometheus"), ("alert_filter", "alertmanager")):
        if values.given(listed) and not values.given(server):
            raise FieldError(listed, f"{named(listed)} needs {named(server)}")
        if values.given(server) and not values.given(listed):
            raise FieldError(server, f"{named(server)} needs {_WHICH[server]}")


def _dry_run_of_a_rollback(values: TargetValues) -> None:
    if values.flag("dry_run") and values.text("on_failure") == "nothing":
        raise FieldError("dry_run", f"{named('dry_run')} needs {named('on_failure')} rollback")


AFTER_SUCCESS = TargetDescription(
    "gate",
    "what the gate does after the deployment ended: bake, roll back",
    BAKING + ROLLING_BACK,
    rules=(
        _checks_need_a_bake,
        _each_needs_its_server,
        _dry_run_of_a_rollback,
    ),
)


def bake_of(values: TargetValues, env: Mapping[str, str], *, request_timeout: float) -> Bake | None:
    """The bake ``values`` (checked by :data:`AFTER_SUCCESS`) ask for, or None."""
    duration = values.number("bake")
    if duration is None:
        return None
    checks: list[Check] = []
    try:
        return _made(values, env, duration, checks, request_timeout=request_timeout)
    except BaseException:
        for made in checks:
            made.close()
        raise


def _made(
    values: TargetValues,
    env: Mapping[str, str],
    duration: float,
    checks: list[Check],
    *,
    request_timeout: float,
) -> Bake:
    """The checks ``values`` ask for, made into ``checks`` as they are (so a failure part
    way closes those made), and the bake of them."""
    if values.given("alarm"):
        from gate.bake.cloudwatch import cloudwatch_alarms

        checks.append(
            cloudwatch_alarms(
                values.texts("alarm"),
                region=values.text("alarm_region"),
                profile=env.get("AWS_PROFILE") or None,
                endpoint_url=values.text("alarm_endpoint_url"),
                request_timeout=request_timeout,
                allow_plain_http=False,
                insufficient_data="breach"
                if values.text("insufficient_data") == "breach"
                else "ok",
                missing="ignore" if values.text("missing_alarm") == "ignore" else "refuse",
            )
        )
    prometheus = values.text("prometheus")
    if prometheus is not None:
        from gate.bake.prometheus import PrometheusQuery

        for query in values.texts("query"):
            checks.append(PrometheusQuery(prometheus, query, request_timeout=request_timeout))
    alertmanager = values.text("alertmanager")
    if alertmanager is not None:
        from gate.bake.alertmanager import AlertmanagerAlerts

        checks.append(
            AlertmanagerAlerts(
                alertmanager, values.texts("alert_filter"), request_timeout=request_timeout
            )
        )
    if values.given("probe"):
        from gate.bake.probe import HttpProbe

        failures = int(values.number_of("probe_failures"))
        for url in values.texts("probe"):
            checks.append(
                HttpProbe(url, failures_in_a_row=failures, request_timeout=request_timeout)
            )
    return Bake(duration, checks, interval=values.number_of("bake_interval"))


def on_failure_of(values: TargetValues) -> OnFailure:
    chosen = values.text("on_failure")
    return next((policy for policy in ON_FAILURE if policy == chosen), "nothing")
