"""The Humanitec provider against the package's emulator on 127.0.0.1, in virtual time."""

from __future__ import annotations

import hashlib
import json
import re
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from gate import WaitOptions, wait
from gate.core.errors import AuthError, NotFoundError, TransientError, UsageError
from gate.core.model import OutcomeStatus, State
from gate.core.secret import Secret
from gate.emulator import Emulator, Fault, Timeline
from gate.providers.humanitec.v1.judge import STATUSES
from gate.providers.humanitec.v1.reader import HumanitecDeployment, connect
from gate.waiting.engine import Timing
from tests.support import CONTRACT, TOKEN, VirtualClock

ERRORS = [
    {
        "scope": "workload",
        "object_id": "api",
        "code": "CLD-001",
        "summary": "Provider error",
        "message": "Incorrect credentials",
    },
    {"scope": "", "object_id": "", "code": "", "summary": "", "message": "second error"},
]


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    return json.loads(CONTRACT.read_text())


def schema_validator(contract: dict[str, Any], name: str, *, array: bool = False) -> OAS30Validator:
    ref = {"$ref": f"#/components/schemas/{name}"}
    schema = {"type": "array", "items": ref} if array else ref
    return OAS30Validator({**schema, "components": contract["components"]})


@pytest.fixture
def provider_for(virtual_emulator: Emulator) -> Iterator[Any]:
    made: list[HumanitecDeployment] = []

    def make(
        deploy_id: str | None,
        *,
        env: str = "production",
        token: str = TOKEN,
        request_timeout: float = 5.0,
    ) -> HumanitecDeployment:
        client = connect(virtual_emulator.url, Secret(token), request_timeout=request_timeout)
        provider = HumanitecDeployment(
            client, org="acme", app="shop", env=env, deploy_id=deploy_id, token=Secret(token)
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()


def test_the_contract_is_the_published_one_unedited() -> None:
    recorded = re.search(
        r"SHA-256 is `([0-9a-f]{64})`", (CONTRACT.parent / "README.md").read_text()
    )
    assert recorded, "tests/contracts/README.md records the contract's hash"
    assert hashlib.sha256(CONTRACT.read_bytes()).hexdigest() == recorded.group(1)


def test_every_status_the_contract_documents_is_mapped(contract: dict[str, Any]) -> None:
    described = contract["components"]["schemas"]["DeploymentResponse"]["properties"]["status"]
    documented = set(re.findall(r"`([^`]+)`", described["description"]))
    assert documented == {"pending", "in progress", "succeeded", "failed"}
    assert set(STATUSES) == documented
    assert {STATUSES[word] for word in ("succeeded", "failed")} == {State.SUCCEEDED, State.FAILED}


def test_emulator_answers_follow_the_contract(
    virtual_emulator: Emulator, contract: dict[str, Any]
) -> None:
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (5, "failed")]), errors=ERRORS
    )
    base = f"{virtual_emulator.url}/orgs/acme/apps/shop/envs/production"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    virtual_emulator.clock.advance(10)  # type: ignore[attr-defined]
    checks = [
        (f"{base}/deploys/{deploy_id}", schema_validator(contract, "DeploymentResponse")),
        (
            f"{base}/deploys/{deploy_id}/errors",
            schema_validator(contract, "DeploymentErrorResponse", array=True),
        ),
        (base, schema_validator(contract, "EnvironmentResponse")),
        (f"{base}/deploys", schema_validator(contract, "DeploymentResponse", array=True)),
        (f"{base}/deploys/nope", schema_validator(contract, "HumanitecErrorResponse")),
    ]
    for url, validator in checks:
        validator.validate(httpx.get(url, headers=headers).json())
    unauthorized = httpx.get(base, headers={"Authorization": "Bearer wrong"})
    assert unauthorized.status_code == 401
    schema_validator(contract, "HumanitecErrorResponse").validate(unauthorized.json())


def test_a_deployment_is_followed_to_success(
    virtual_emulator: Emulator, provider_for: Any, clock: VirtualClock
) -> None:
    deploy_id = virtual_emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "pending"), (3, "in progress"), (40, "succeeded")]),
    )
    outcome = wait(provider_for(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.SUCCEEDED
    assert outcome.raw_status == "succeeded"
    assert outcome.target == {
        "org": "acme",
        "app": "shop",
        "env": "production",
        "deploy_id": deploy_id,
    }
    assert outcome.deployment_changed_at is not None


def test_a_failure_reports_every_entry_of_the_error_list(
    virtual_emulator: Emulator, provider_for: Any, clock: VirtualClock
) -> None:
    deploy_id = virtual_emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "in progress"), (20, "failed")]),
        errors=ERRORS,
    )
    outcome = wait(provider_for(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.FAILED
    assert [error.as_dict() for error in outcome.errors] == [
        {**error, "error_type": ""} for error in ERRORS
    ]
    assert any(path.endswith(f"/deploys/{deploy_id}/errors") for path in virtual_emulator.requests)


def test_latest_is_resolved_once_and_then_followed_by_id(
    virtual_emulator: Emulator, provider_for: Any, clock: VirtualClock
) -> None:
    first = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (30, "succeeded")])
    )
    provider = provider_for(None)
    assert provider.target["deploy_id"] == "latest"
    assert provider.fetch().raw_status == "in progress"
    virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "failed")]), errors=ERRORS
    )
    outcome = wait(provider, timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded
    assert outcome.target["deploy_id"] == first


def test_latest_on_a_never_deployed_environment_is_not_found(
    virtual_emulator: Emulator, provider_for: Any
) -> None:
    virtual_emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "pending")]))
    with pytest.raises(NotFoundError, match="not found"):
        provider_for(None, env="staging").fetch()


def test_bad_token_is_an_auth_error_that_never_shows_the_token(
    virtual_emulator: Emulator, provider_for: Any
) -> None:
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending")])
    )
    with pytest.raises(AuthError) as raised:
        provider_for(deploy_id, token="wrong-token-123").fetch()
    assert "HTTP 401" in str(raised.value)
    assert "Could not validate token" in str(raised.value)
    assert "wrong-token-123" not in str(raised.value)


def test_api_text_echoing_the_token_is_redacted(
    virtual_emulator: Emulator, provider_for: Any
) -> None:
    body = json.dumps({"error": "API-000", "message": f"bad token {TOKEN}"}).encode()
    virtual_emulator.inject(Fault.http(403, body=body))
    with pytest.raises(AuthError) as raised:
        provider_for("d1").fetch()
    assert TOKEN not in str(raised.value)
    assert "***" in str(raised.value)


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.http(503), "HTTP 503"),
        (Fault.http(429, retry_after="4"), "HTTP 429"),
        (Fault.ok_body(b"<html>gateway</html>"), "not JSON"),
        (Fault.ok_body(b'{"id": "d-fault"}'), "'status'"),
        (Fault.ok_body(b'{"id": "d-other", "status": "succeeded"}'), "answered with 'd-other'"),
        (Fault.ok_body(b'["not", "an", "object"]'), "not a JSON object"),
        (Fault.ok_body(b"[" * 100_000 + b"]" * 100_000), "nests too deeply"),
        (Fault.reset(), "connection failed"),
        (Fault.hang(2), "request timeout"),
    ],
    ids=[
        "503",
        "429",
        "html-body",
        "no-status",
        "another-deployments-answer",
        "array-body",
        "deeply-nested",
        "reset-mid-body",
        "hang",
    ],
)
def test_transient_faults_are_translated_for_retrying(
    virtual_emulator: Emulator, provider_for: Any, fault: Fault, words: str
) -> None:
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending")]), deploy_id="d-fault"
    )
    virtual_emulator.inject(fault)
    # only a hang should meet the request timeout, however busy the machine
    request_timeout = 0.3 if fault.kind == "hang" else 30
    with pytest.raises(TransientError, match=words) as raised:
        provider_for(deploy_id, request_timeout=request_timeout).fetch()
    if fault.headers.get("Retry-After"):
        assert raised.value.retry_after == 4


def test_a_failure_whose_error_list_is_refused_still_fails_and_says_why(
    virtual_emulator: Emulator, provider_for: Any, clock: VirtualClock
) -> None:
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "failed")])
    )
    virtual_emulator.inject(Fault.http(403), path_contains="/errors")
    outcome = wait(provider_for(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.status is OutcomeStatus.FAILED
    [detail] = outcome.errors
    assert "error details could not be read" in detail.message
    assert "HTTP 403" in detail.message
    assert detail.scope == "gate"


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.http(503), "HTTP 503"),
        (Fault.hang(30), "no answer within the request timeout"),
        (Fault.http(404, body=b'{"error": "API-404", "message": "Not found."}'), "HTTP 404"),
    ],
    ids=["5xx", "hang", "404"],
)
def test_a_failure_whose_error_list_stays_unreadable_fails_promptly(
    virtual_emulator: Emulator, provider_for: Any, clock: VirtualClock, fault: Fault, words: str
) -> None:
    """First terminal status is final: no wait until the deadline, no 'deployment not found'."""
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "failed")])
    )
    virtual_emulator.inject(fault, times=1000, path_contains="/errors")
    outcome = wait(
        provider_for(deploy_id, request_timeout=0.2),
        WaitOptions(timeout=3600),
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.exit_code == 1
    assert outcome.elapsed_seconds <= 60
    [detail] = outcome.errors
    assert words in detail.message
    assert "was not found" not in detail.message


@pytest.mark.parametrize(
    "bad", ["../x", "..", "a/b", "x?y=1", "x#y", "%2e%2e", "", "a b", "-lead", "a..b"]
)
def test_ids_cannot_change_the_request_path(bad: str) -> None:
    client = httpx.Client(base_url="http://127.0.0.1:9")
    with pytest.raises(UsageError, match=r"not a valid id|is required"):
        HumanitecDeployment(client, org="acme", app="shop", env="production", deploy_id=bad)
    with pytest.raises(UsageError):
        HumanitecDeployment(client, org=bad, app="shop", env="production", deploy_id="d1")


def test_tls_verification_is_on() -> None:
    client = connect("https://api.humanitec.io", Secret("t"), request_timeout=1)
    context: ssl.SSLContext = client._transport._pool._ssl_context  # type: ignore[attr-defined]
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    client.close()


def test_the_token_is_not_in_the_providers_repr_or_the_clients_headers_repr() -> None:
    client = connect("https://api.humanitec.io", Secret(TOKEN), request_timeout=1)
    provider = HumanitecDeployment(
        client, org="a1", app="b1", env="c1", deploy_id="d1", token=Secret(TOKEN)
    )
    assert TOKEN not in repr(provider)
    assert TOKEN not in repr(client.headers)
    assert TOKEN not in repr(Secret(TOKEN))
    client.close()


def test_the_whole_wait_survives_a_burst_of_faults(
    virtual_emulator: Emulator, provider_for: Any, clock: VirtualClock
) -> None:
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (30, "succeeded")])
    )
    for fault in (Fault.http(500), Fault.http(502), Fault.http(504), Fault.http(429)):
        virtual_emulator.inject(fault)
    outcome = wait(
        provider_for(deploy_id),
        WaitOptions(timeout=120),
        timing=Timing(clock=clock, sleep=clock.sleep),
    )
    assert outcome.succeeded
    assert virtual_emulator.pending_faults() == 0


def add_history(emulator: Emulator, durations: list[float]) -> None:
    """Finished deployments, the oldest first, each ending before the next began."""
    ago = sum(durations) + 100 * len(durations)
    for took in durations:
        emulator.add_humanitec(
            "acme",
            "shop",
            "production",
            Timeline([(0, "in progress"), (took, "succeeded")]),
            started_ago=ago,
        )
        ago -= took + 100


def test_past_durations_are_the_finished_deployments_newest_first(
    virtual_emulator: Emulator, provider_for: Any
) -> None:
    add_history(virtual_emulator, [300, 310, 320])
    running = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress")])
    )
    durations = provider_for(running).past_durations()
    assert durations == pytest.approx([320, 310, 300], abs=0.01)


def test_history_makes_a_long_wait_cheap_and_still_quick_to_notice_the_end(
    virtual_emulator: Emulator, provider_for: Any, clock: VirtualClock
) -> None:
    add_history(virtual_emulator, [570, 600, 610, 630, 590, 605])
    deploy_id = virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (600, "succeeded")])
    )
    outcome = wait(provider_for(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded
    assert outcome.polls < 0.3 * 600 / 2
    assert outcome.elapsed_seconds - 600 <= 2.5
    assert sum(path.endswith("/deploys") for path in virtual_emulator.requests) == 1


def test_the_schedule_counts_the_deployments_age_not_only_the_wait(
    virtual_emulator: Emulator, provider_for: Any, clock: VirtualClock
) -> None:
    add_history(virtual_emulator, [570, 600, 610, 630, 590, 605])
    deploy_id = virtual_emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "in progress"), (600, "succeeded")]),
        started_ago=590,
    )
    outcome = wait(provider_for(deploy_id), timing=Timing(clock=clock, sleep=clock.sleep))
    assert outcome.succeeded
    assert outcome.elapsed_seconds <= 12


def test_a_latest_deployment_id_that_could_change_the_path_is_refused(
    virtual_emulator: Emulator, provider_for: Any
) -> None:
    from gate.core.errors import RequestRejected

    virtual_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "pending")]), deploy_id="../../orgs/other"
    )
    with pytest.raises(
        RequestRejected, match=re.escape("last_deploy.id '../../orgs/other' is not a valid")
    ):
        provider_for(None).fetch()
    assert not any("/orgs/other" in path for path in virtual_emulator.requests)


def test_history_with_naive_and_aware_timestamps_is_read_not_a_crash(
    virtual_emulator: Emulator, provider_for: Any
) -> None:
    history = [
        {
            "id": "a",
            "status": "succeeded",
            "created_at": "2026-11-01T10:00:00",
            "status_changed_at": "2026-11-01T10:05:00Z",
        },
        {
            "id": "b",
            "status": "failed",
            "created_at": "2026-11-02T10:00:00+00:00",
            "status_changed_at": "2026-11-02T10:02:00",
        },
        {"id": "c", "status": "succeeded", "created_at": 17, "status_changed_at": None},
    ]
    virtual_emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "pending")]))
    virtual_emulator.inject(Fault.ok_body(json.dumps(history).encode()))
    assert provider_for("d-1").past_durations() == [300.0, 120.0]
