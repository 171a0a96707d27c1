"""GitHub Deployments: each gate recorded as a deployment of the commit, with its statuses.

Gates run through the library (``gate.wait``, ``wait_all``) on the package's emulator, and
tell a loopback GitHub API (tests/parts/github_api.py) that records every request; the last
tests send the same requests to Prism serving GitHub's published REST description
(tests/parts/prism.py), which refuses any request that does not validate.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

import gate
from gate.core.errors import ConfigError, UsageError
from gate.core.model import Outcome, OutcomeStatus
from gate.core.secret import scrubbed
from gate.core.text import one_line
from gate.emulator import Emulator, Timeline
from gate.providers.humanitec.v1.reader import HumanitecDeployment
from gate.telling.github_deployments import (
    DESCRIPTION_LIMIT,
    STATES,
    TASK,
    GitHubDeployments,
    github_deployments,
)
from gate.waiting.engine import Timing, WaitOptions
from gate.waiting.fleet import Target, wait_all
from gate.waiting.plan import GatePlan
from gate.waiting.telling import Gated, Telling
from gate.wire.sharing import Sharing
from tests.builders import an_outcome, humanitec_provider
from tests.parts.github_api import GitHubApiServer, github_api
from tests.parts.prism import (
    DESCRIPTION,
    PATHS,
    RecordingProxy,
    prism_fixture,  # noqa: F401 (the fixture prism)
)
from tests.support import VirtualClock

GITHUB_TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
SHA = "ffac537e6cbbf934b08745a378932722df287a53"
RUN_ID = "1658821493"
QUICK = WaitOptions(timeout=60.0, interval=0.05, max_interval=0.1)
SUCCEEDS_BY_READS = Timeline([(0, "pending"), (1, "in progress"), (2, "succeeded")])
FAILS_BY_READS = Timeline([(0, "pending"), (1, "failed")])
ENDLESS = Timeline([(0, "in progress")])
BROKEN = [{"code": "CLD-001", "message": "Incorrect credentials", "scope": "workload"}]
SHOP_PAGE = "https://app.humanitec.io/orgs/acme/apps/shop/envs/"


@pytest.fixture
def github() -> Iterator[GitHubApiServer]:
    with github_api(GITHUB_TOKEN) as server:
        yield server


def workflow(api_url: str, **changes: str | None) -> dict[str, str]:
    """The environment a GitHub Actions job gives its steps."""
    env: dict[str, str | None] = {
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_SHA": SHA,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_API_URL": api_url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": RUN_ID,
        "GITHUB_RUN_ATTEMPT": "1",
        **changes,
    }
    return {key: value for key, value in env.items() if value is not None}


def telling(
    api_url: str,
    *,
    environment: str | None = "production",
    environment_url: str | None = None,
    sleeps: list[float] | None = None,
    **changes: str | None,
) -> GitHubDeployments:
    return github_deployments(
        workflow(api_url, **changes),
        environment=environment,
        environment_url=environment_url,
        request_timeout=5.0,
        sleep=(sleeps if sleeps is not None else []).append,
    )


def gated(provider: HumanitecDeployment, told: Telling, **kwargs: Any) -> Outcome:
    try:
        options = kwargs.pop("options", QUICK)
        return gate.wait(provider, options, telemetry=[told], timing=Timing(**kwargs))
    finally:
        provider.close()


def posted(github: GitHubApiServer) -> list[tuple[str, str]]:
    """Each request as ``(method, what)``: ``list``, ``create``, or the status's state."""
    said = []
    for request in github.requests:
        if request.raw_path.endswith("/statuses"):
            said.append((request.method, request.body["state"]))
        else:
            said.append((request.method, "list" if request.method == "GET" else "create"))
    return said


def statuses_of(github: GitHubApiServer, deployment_id: int) -> list[dict[str, Any]]:
    with github.lock:
        return list(github.statuses[deployment_id])


def statuses(github: GitHubApiServer) -> list[dict[str, Any]]:
    return [r.body for r in github.requests if r.raw_path.endswith("/statuses")]


def test_a_gate_that_succeeds_is_created_in_progress_then_success(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    told = telling(github.url)

    outcome = gated(humanitec_provider(paced_emulator, env="production"), told)

    assert outcome.succeeded
    assert isinstance(told, Telling)
    assert told.close() == []
    assert posted(github) == [
        ("GET", "list"),
        ("POST", "create"),
        ("POST", "in_progress"),
        ("POST", "success"),
    ]
    listing, creating = github.requests[:2]
    assert listing.raw_path == "/repos/acme/shop/deployments"
    assert listing.query == {
        "sha": SHA,
        "environment": "production",
        "task": TASK,
        "per_page": "100",
    }
    assert creating.body == {
        "ref": SHA,
        "task": TASK,
        "environment": "production",
        "description": "the latest Humanitec deployment in acme/shop/production",
        "auto_merge": False,
        "required_contexts": [],
        "payload": {"deploy_gate": {"run_id": RUN_ID}},
    }
    (deployment,) = github.deployments
    assert github.states(deployment["id"]) == ["in_progress", "success"]
    started, ended = statuses(github)
    run_page = f"https://github.com/acme/shop/actions/runs/{RUN_ID}/attempts/1"
    assert started == {
        "state": "in_progress",
        "description": "waiting for the latest Humanitec deployment in acme/shop/production",
        "log_url": run_page,
        "environment_url": SHOP_PAGE + "production",
    }
    assert ended["description"].startswith("succeeded after ")
    assert ended["log_url"] == run_page
    assert ended["environment_url"] == SHOP_PAGE + "production"
    for request in github.requests:
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
        assert request.headers["user-agent"] == "deploy-gate"


def test_a_failed_gate_posts_failure_with_its_reason_within_140_characters(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    long = [{**BROKEN[0], "message": "Incorrect credentials " + "and more " * 40}]
    paced_emulator.add_humanitec("acme", "shop", "production", FAILS_BY_READS, errors=long)
    told = telling(github.url, environment_url="https://shop.example.com")

    outcome = gated(humanitec_provider(paced_emulator, env="production"), told)

    assert outcome.status is OutcomeStatus.FAILED
    assert told.close() == []
    assert [s["state"] for s in statuses(github)] == ["in_progress", "failure"]
    ended = statuses(github)[-1]
    assert outcome.reason
    whole = one_line(f"failed after x: {outcome.reason}", limit=10_000)
    assert ended["description"] == one_line(ended["description"], limit=DESCRIPTION_LIMIT)
    assert len(ended["description"]) <= DESCRIPTION_LIMIT
    assert outcome.reason[:20] in ended["description"]
    if len(whole) > DESCRIPTION_LIMIT:
        assert ended["description"].endswith("…")
    assert ended["environment_url"] == "https://shop.example.com"  # the one given wins
    assert statuses(github)[0]["environment_url"] == "https://shop.example.com"


def test_the_description_is_cut_between_characters_and_never_holds_the_token(
    github: GitHubApiServer,
) -> None:
    told = telling(github.url)
    reporter = told.for_gate(Gated())
    reason = f"token {GITHUB_TOKEN} refused; " + "日本語のエラー🙂" * 30
    reporter.started("a deployment", 60.0)
    reporter.finished(an_outcome(OutcomeStatus.FAILED, reason=reason))

    assert told.close() == []
    description = statuses(github)[-1]["description"]
    assert len(description) == DESCRIPTION_LIMIT
    assert description.endswith("…")
    assert GITHUB_TOKEN not in description
    assert "token *** refused" in description
    description.encode("utf-8")  # whole characters: no half of a surrogate pair


def test_a_gate_that_times_out_posts_error(
    virtual_emulator: Emulator, clock: VirtualClock, github: GitHubApiServer
) -> None:
    virtual_emulator.add_humanitec("acme", "shop", "production", ENDLESS)
    told = telling(github.url)

    outcome = gated(
        humanitec_provider(virtual_emulator, env="production"),
        told,
        options=WaitOptions(timeout=60.0, interval=5.0),
        clock=clock,
        sleep=clock.sleep,
    )

    assert outcome.status is OutcomeStatus.TIMED_OUT
    assert told.close() == []
    assert [s["state"] for s in statuses(github)] == ["in_progress", "error"]
    assert statuses(github)[-1]["description"].startswith("timed out after 1m")


def test_a_gate_that_cannot_read_its_deployment_posts_error(
    emulator: Emulator, github: GitHubApiServer
) -> None:
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    told = telling(github.url)

    outcome = gated(
        humanitec_provider(emulator, env="production", token="wrong-token-0123456789"), told
    )

    assert outcome.status is OutcomeStatus.ERROR
    assert told.close() == []
    assert [s["state"] for s in statuses(github)] == ["in_progress", "error"]
    assert statuses(github)[-1]["description"].startswith("could not be read after ")


def test_a_single_gate_without_an_environment_is_in_progress_in_its_target_s_from_the_start(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "staging", SUCCEEDS_BY_READS)
    told = telling(github.url, environment=None)

    outcome = gated(humanitec_provider(paced_emulator, env="staging"), told)

    assert outcome.succeeded
    assert told.close() == []
    assert posted(github) == [
        ("GET", "list"),
        ("POST", "create"),
        ("POST", "in_progress"),
        ("POST", "success"),
    ]
    assert github.requests[0].query["environment"] == "staging"
    assert github.deployments[0]["environment"] == "staging"


def test_a_target_naming_no_environment_is_a_warning(github: GitHubApiServer) -> None:
    told = telling(github.url, environment=None)
    reporter = told.for_gate(Gated())
    reporter.started("Humanitec v2 deployment d-1 in acme", 60.0)
    reporter.finished(an_outcome(OutcomeStatus.SUCCEEDED, target={"deployment_id": "d-1"}))

    assert told.close() == [
        "GitHub deployment status not posted: Humanitec v2 deployment d-1 in acme names no "
        "environment: give --github-environment"
    ]
    assert github.requests == []


@pytest.mark.parametrize(
    ("target", "environment"),
    [
        ({"group_id": "g-17", "deployment_id": "d"}, "g-17"),
        (
            {"deployment_id": "d", "target_arn": "arn:aws:iot:eu-west-1:1:thinggroup/Edge"},
            "Edge",
        ),
    ],
    ids=["greengrass-v1-group", "greengrass-v2-thing-group"],
)
def test_a_greengrass_target_names_its_environment(
    github: GitHubApiServer, target: dict[str, str], environment: str
) -> None:
    told = telling(github.url, environment=None)
    told.for_gate(Gated()).finished(an_outcome(OutcomeStatus.SUCCEEDED, target=target))

    assert told.close() == []
    assert github.deployments[0]["environment"] == environment
    assert "environment_url" not in statuses(github)[0]  # a console page only for Humanitec


def test_a_release_records_each_target_in_its_own_environment(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    """Built in the release's Sharing scope, as the CLI builds it: the stop of the waits
    --fail-fast cancelled never holds back the statuses that say it."""
    paced_emulator.add_humanitec("acme", "shop", "staging", SUCCEEDS_BY_READS)
    paced_emulator.add_humanitec("acme", "shop", "production", FAILS_BY_READS, errors=BROKEN)
    paced_emulator.add_humanitec("acme", "shop", "qa", ENDLESS)
    sharing = Sharing(max_rate=100)
    with sharing.active():
        told = telling(github.url, environment=None)
        targets = [
            Target(env, humanitec_provider(paced_emulator, env=env), QUICK)
            for env in ("staging", "production", "qa")
        ]
        try:
            whole = wait_all(targets, GatePlan(fail_fast=True), sharing=sharing, telemetry=[told])
        finally:
            sharing.close()

    assert whole.exit_code == 1
    assert whole.outcomes[2].status is OutcomeStatus.CANCELLED
    assert told.close() == []
    by_environment = {d["environment"]: d["id"] for d in github.deployments}
    assert set(by_environment) == {"staging", "production", "qa"}
    assert github.states(by_environment["production"]) == ["in_progress", "failure"]
    assert github.states(by_environment["qa"]) == ["in_progress", "inactive"]
    assert github.states(by_environment["staging"])[0] == "in_progress"
    assert github.states(by_environment["staging"])[-1] in ("success", "inactive")
    assert "fail-fast" in statuses_of(github, by_environment["qa"])[-1]["description"]


def test_a_given_environment_in_a_release_is_left_aside_with_a_warning(
    github: GitHubApiServer,
) -> None:
    told = telling(github.url, environment="production")
    told.release_started([Gated("eu"), Gated("us")])
    for name in ("eu", "us"):
        told.for_gate(Gated(name)).finished(
            an_outcome(OutcomeStatus.SUCCEEDED, target={"env": name}, name=name)
        )

    warnings = told.close()

    assert [d["environment"] for d in github.deployments] == ["eu", "us"]
    assert warnings == [
        "GitHub deployment status not posted: the GitHub environment 'production' is for a "
        "single gate: each target of a gate of many is recorded in its own, by its name or its "
        "environment's"
    ]


def test_a_re_run_adds_statuses_to_the_deployment_its_run_created(
    github: GitHubApiServer,
) -> None:
    other_run = github.add_deployment(
        ref=SHA, environment="production", task=TASK, payload={"deploy_gate": {"run_id": "7"}}
    )
    ours = github.add_deployment(
        ref=SHA, environment="production", task=TASK, payload={"deploy_gate": {"run_id": RUN_ID}}
    )
    github.add_deployment(  # newer, but not the gate's
        ref=SHA, environment="production", task="deploy", payload={}
    )
    told = telling(github.url, GITHUB_RUN_ATTEMPT="2")
    reporter = told.for_gate(Gated())
    reporter.started("a deployment", 60.0)
    reporter.finished(an_outcome(OutcomeStatus.SUCCEEDED))

    assert told.close() == []
    assert posted(github) == [("GET", "list"), ("POST", "in_progress"), ("POST", "success")]
    assert github.states(ours["id"]) == ["in_progress", "success"]
    assert github.states(other_run["id"]) == []
    assert statuses(github)[0]["log_url"].endswith(f"/runs/{RUN_ID}/attempts/2")


def test_outside_a_workflow_run_nothing_is_reused_and_no_log_url_is_sent(
    github: GitHubApiServer,
) -> None:
    told = telling(github.url, GITHUB_RUN_ID=None, GITHUB_RUN_ATTEMPT=None, GITHUB_SHA=None)
    told.for_gate(Gated()).started("a deployment", 60.0)

    assert told.close() == []
    assert posted(github) == [("POST", "create"), ("POST", "in_progress")]
    assert github.requests[0].body["ref"] == "refs/heads/main"
    assert "log_url" not in statuses(github)[0]


def test_a_5xx_is_retried_after_a_short_backoff(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    github.fail_next("POST", 502, times=2)
    sleeps: list[float] = []
    told = telling(github.url, sleeps=sleeps)

    outcome = gated(humanitec_provider(paced_emulator, env="production"), told)

    assert outcome.succeeded
    assert told.close() == []
    assert sleeps == [1.0, 2.0]
    assert len(github.deployments) == 1
    assert github.states(github.deployments[0]["id"]) == ["in_progress", "success"]


def test_a_5xx_that_lasts_is_a_warning_after_three_attempts(github: GitHubApiServer) -> None:
    github.fail_next("POST", 503, times=10)
    sleeps: list[float] = []
    told = telling(github.url, sleeps=sleeps)
    told.for_gate(Gated()).started("a deployment", 60.0)

    assert told.close() == [
        "GitHub deployment status not posted: production: creating the deployment in "
        "'production': HTTP 503: fault (after 3 attempts)"
    ]
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_is_waited_out_as_retry_after_says(
    github: GitHubApiServer, status: int
) -> None:
    github.fail_next(
        "POST",
        status,
        headers={"Retry-After": "3"},
        body={"message": "You have exceeded a secondary rate limit."},
    )
    sleeps: list[float] = []
    told = telling(github.url, sleeps=sleeps)
    told.for_gate(Gated()).started("a deployment", 60.0)

    assert told.close() == []
    assert sleeps == [3.0]
    assert posted(github) == [
        ("GET", "list"),
        ("POST", "create"),
        ("POST", "create"),
        ("POST", "in_progress"),
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "120"},
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "99999999999"},
        {},
    ],
    ids=["retry-after-too-long", "primary-limit-reset-later", "secondary-limit-naming-no-time"],
)
def test_a_rate_limit_longer_than_the_gate_waits_is_given_up_at_once(
    paced_emulator: Emulator, github: GitHubApiServer, headers: dict[str, str]
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    github.fail_next("POST", 429 if not headers else 403, headers=headers, times=5)
    sleeps: list[float] = []
    told = telling(github.url, sleeps=sleeps)

    outcome = gated(humanitec_provider(paced_emulator, env="production"), told)

    assert outcome.succeeded
    assert outcome.exit_code == 0
    (warning,) = told.close()
    assert "longer than the gate waits for it" in warning
    assert sleeps == []
    assert posted(github) == [("GET", "list"), ("POST", "create")]  # nothing more for it


def test_a_refused_token_is_one_warning_and_the_gate_s_outcome_is_unchanged(
    paced_emulator: Emulator,
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "staging", SUCCEEDS_BY_READS)
    paced_emulator.add_humanitec("acme", "shop", "production", FAILS_BY_READS, errors=BROKEN)
    with github_api("ghs_another-token-the-server-knows") as github:
        told = telling(github.url, environment=None)
        targets = [
            Target(env, humanitec_provider(paced_emulator, env=env), QUICK)
            for env in ("staging", "production")
        ]
        try:
            whole = wait_all(targets, telemetry=[told])
        finally:
            for target in targets:
                target.provider.close()
        warnings = told.close()

    assert whole.exit_code == 1
    assert [o.status for o in whole.outcomes] == [OutcomeStatus.SUCCEEDED, OutcomeStatus.FAILED]
    assert warnings == [
        "GitHub deployment status not posted: GitHub refused GITHUB_TOKEN: listing the "
        "deployments: HTTP 401: Bad credentials"
    ]
    assert len(github.requests) == 1  # no later request could do better
    assert GITHUB_TOKEN not in repr(whole)


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (403, "GitHub refused GITHUB_TOKEN (the job needs `permissions: deployments: write`)"),
        (404, "(no such repository, or the token cannot see it)"),
        (422, "production: listing the deployments: HTTP 422"),
    ],
    ids=["forbidden", "not-found", "unprocessable"],
)
def test_a_refusal_is_a_warning_that_never_holds_the_token(
    github: GitHubApiServer, status: int, said: str
) -> None:
    github.fail_next(
        "GET", status, body={"message": f"Resource not accessible with {GITHUB_TOKEN}"}
    )
    told = telling(github.url)
    reporter = told.for_gate(Gated())
    reporter.started("a deployment", 60.0)
    reporter.finished(an_outcome(OutcomeStatus.SUCCEEDED))

    (warning,) = told.close()
    assert said in warning
    assert GITHUB_TOKEN not in warning
    assert "Resource not accessible with ***" in warning
    assert len(github.requests) == 1  # nothing more is posted for that deployment


def test_an_unreachable_api_is_a_warning_after_a_few_attempts(
    paced_emulator: Emulator,
) -> None:
    with github_api(GITHUB_TOKEN) as github:
        gone = github.url  # the port is closed once the server stops
    paced_emulator.add_humanitec("acme", "shop", "production", FAILS_BY_READS, errors=BROKEN)
    sleeps: list[float] = []
    told = telling(gone, sleeps=sleeps)

    outcome = gated(humanitec_provider(paced_emulator, env="production"), told)

    assert outcome.exit_code == 1
    assert told.close() == [
        "GitHub deployment status not posted: listing the deployments: connection failed "
        "(ConnectError)"
    ]
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    "repository",
    ["../shop", "acme/..", "acme/shop/../../orgs", "acme/sh%2Fop", "acme/shop?x=1", "acme", ""],
)
def test_a_repository_that_is_not_owner_slash_repo_is_a_config_error(repository: str) -> None:
    with pytest.raises(ConfigError) as refused:
        github_deployments(
            workflow("https://api.github.com", GITHUB_REPOSITORY=repository),
            environment=None,
            environment_url=None,
            request_timeout=5.0,
        )
    assert refused.value.exit_code == 2
    assert "GITHUB_REPOSITORY" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_names_never_change_a_request_s_path(github: GitHubApiServer) -> None:
    told = telling(github.url, environment="../../orgs/x?y=1#z", GITHUB_REPOSITORY="a.b-c/.github")
    reporter = told.for_gate(Gated())
    reporter.started("a deployment", 60.0)
    reporter.finished(an_outcome(OutcomeStatus.SUCCEEDED))

    assert told.close() == []
    deployment_id = github.deployments[0]["id"]
    assert [r.raw_path for r in github.requests] == [
        "/repos/a.b-c/.github/deployments",
        "/repos/a.b-c/.github/deployments",
        f"/repos/a.b-c/.github/deployments/{deployment_id}/statuses",
        f"/repos/a.b-c/.github/deployments/{deployment_id}/statuses",
    ]
    assert github.requests[0].query["environment"] == "../../orgs/x?y=1#z"


@pytest.mark.parametrize(
    ("changes", "error", "said"),
    [
        ({"GITHUB_TOKEN": None}, ConfigError, "GITHUB_TOKEN is not set"),
        ({"GITHUB_TOKEN": "short"}, ConfigError, "GITHUB_TOKEN is too short"),
        ({"GITHUB_REPOSITORY": None}, ConfigError, "GITHUB_REPOSITORY is not set"),
        ({"GITHUB_SHA": None, "GITHUB_REF": None}, ConfigError, "GITHUB_SHA is not set"),
        ({"GITHUB_API_URL": "http://github.example.com"}, UsageError, "plain http"),
    ],
    ids=["no-token", "short-token", "no-repository", "no-commit", "plain-http-api"],
)
def test_what_a_deployment_needs_is_checked_before_the_gate_starts(
    changes: dict[str, str | None], error: type[Exception], said: str
) -> None:
    with pytest.raises(error, match=said) as refused:
        github_deployments(
            workflow("https://api.github.com", **changes),
            environment=None,
            environment_url=None,
            request_timeout=5.0,
        )
    assert GITHUB_TOKEN not in str(refused.value)


def test_every_ending_posts_a_state_github_documents() -> None:
    assert set(STATES) == set(OutcomeStatus)
    documented = _status_request_schema()["properties"]["state"]["enum"]
    assert set(STATES.values()) <= set(documented)
    assert STATES[OutcomeStatus.SUCCEEDED] == "success"
    assert STATES[OutcomeStatus.FAILED] == "failure"


def test_every_request_validates_against_github_s_published_description(prism: str) -> None:
    proxy = RecordingProxy(prism)
    try:
        for status in (OutcomeStatus.SUCCEEDED, OutcomeStatus.FAILED, OutcomeStatus.CANCELLED):
            told = telling(proxy.url, environment_url="https://shop.example.com")
            reporter = told.for_gate(Gated())
            reporter.started("Humanitec deployment 0f3c9a in acme/shop/production", 60.0)
            reporter.finished(an_outcome(status, reason="the deployment ended as 'failed'"))
            assert told.close() == []
        told = telling(proxy.url, environment=None, GITHUB_RUN_ID=None, GITHUB_SHA=None)
        told.for_gate(Gated()).finished(an_outcome(OutcomeStatus.TIMED_OUT, reason="no end"))
        assert told.close() == []
    finally:
        proxy.close()

    operations = {(e.method, e.path.split("?")[0]) for e in proxy.seen}
    assert operations == {
        ("GET", "/repos/acme/shop/deployments"),
        ("POST", "/repos/acme/shop/deployments"),
        ("POST", "/repos/acme/shop/deployments/1/statuses"),
    }
    for exchange in proxy.seen:
        assert exchange.violations is None, exchange
        assert exchange.status in (200, 201), exchange


def test_prism_refuses_a_request_that_does_not_validate(prism: str) -> None:
    """The contract test's oracle: an invalid status is answered 422 with its violations."""
    request = urllib.request.Request(
        f"{prism}/repos/acme/shop/deployments/1/statuses",
        data=json.dumps({"state": "finished", "description": 7}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/vnd.github+json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=30)
    with refused.value as answer:
        assert answer.code == 422
        violations = json.loads(answer.headers["sl-violations"])
    assert {tuple(v["location"]) for v in violations} >= {("request", "body", "state")}


def _status_request_schema() -> dict[str, Any]:
    from tests.parts.prism import ensure_installed

    ensure_installed()
    whole = json.loads(DESCRIPTION.read_text())
    operation = whole["paths"][PATHS[1]]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def test_a_rate_limit_holds_back_every_later_deployment_too(paced_emulator: Emulator) -> None:
    """A limit is the whole API's: a release does not spend a request per target on it."""
    for env in ("eu", "us", "apac"):
        paced_emulator.add_humanitec("acme", "shop", env, SUCCEEDS_BY_READS)
    with github_api(GITHUB_TOKEN) as github:
        limit = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"}
        github.fail_next("GET", 403, headers=limit, times=10)
        told = telling(github.url, environment=None)
        targets = [
            Target(env, humanitec_provider(paced_emulator, env=env), QUICK)
            for env in ("eu", "us", "apac")
        ]
        try:
            whole = wait_all(targets, telemetry=[told])
        finally:
            for target in targets:
                target.provider.close()
        warnings = told.close()
    assert whole.exit_code == 0
    assert len(github.requests) == 1
    assert len(warnings) == 1


def test_every_secret_of_the_environment_is_cut_out_of_what_github_is_told(
    github: GitHubApiServer,
) -> None:
    """A status of a public repository is public: a reason that echoes any secret of the
    environment (a probe's body, an API's error) is told without it."""
    other = "sk-live-another-secret-value-42"
    told = github_deployments(
        {**workflow(github.url), "PAYMENTS_API_KEY": other},
        environment="production",
        environment_url=None,
        request_timeout=5.0,
        sleep=[].append,
    )
    said = scrubbed(f"probe https://shop/healthz: HTTP 500, body 'key={other}' {GITHUB_TOKEN}")
    assert other not in said
    assert GITHUB_TOKEN not in said
    assert "***" in said
    told.close()


def test_a_target_cut_off_before_its_end_still_gets_its_final_status(
    github: GitHubApiServer,
) -> None:
    """A stopped gate of many gives a wait still reading its last answer a few seconds, then
    ends it from the whole: its deployment is not left in_progress."""
    from gate.waiting.outcomes import FleetOutcome

    told = telling(github.url, environment=None)
    told.release_started([Gated("eu")])
    told.for_gate(Gated("eu")).started("Humanitec deployment d1 in acme/shop/eu", 60.0)
    cut_off = Outcome(
        status=OutcomeStatus.CANCELLED,
        provider="humanitec",
        target={"org": "acme", "app": "shop", "env": "eu"},
        raw_status=None,
        errors=(),
        reason="interrupted by signal 15; a read was still under way",
        elapsed_seconds=0.0,
        polls=0,
        started_at="2026-11-29T10:00:00.000Z",
        finished_at="2026-11-29T10:00:05.000Z",
        name="eu",
    )
    whole = FleetOutcome(
        outcomes=(cut_off,),
        status=OutcomeStatus.CANCELLED,
        elapsed_seconds=5.0,
        started_at="2026-11-29T10:00:00.000Z",
        finished_at="2026-11-29T10:00:05.000Z",
        signal=15,
    )
    told.release_finished(whole)
    assert told.close() == []
    (deployment,) = github.deployments
    assert github.states(deployment["id"]) == ["in_progress", "inactive"]


def test_a_pull_requests_head_commit_is_deployed_not_its_merge_commit(
    paced_emulator: Emulator, github: GitHubApiServer
) -> None:
    paced_emulator.add_humanitec("acme", "shop", "production", SUCCEEDS_BY_READS)
    head = "f" * 40
    told = github_deployments(
        workflow(github.url),  # GITHUB_SHA: the merge commit a pull_request run checks out
        environment="production",
        environment_url=None,
        request_timeout=5.0,
        sleep=[].append,
        ref=head,
    )
    assert gated(humanitec_provider(paced_emulator, env="production"), told).succeeded
    assert told.close() == []
    (listed, created) = github.requests[:2]
    assert listed.query["sha"] == head
    assert created.body["ref"] == head


def test_a_target_that_learns_its_environment_at_its_first_read_is_in_progress_then(
    github: GitHubApiServer,
) -> None:
    """A Greengrass v2 gate knows its thing group once it read the deployment: its GitHub
    deployment is created then, in_progress while it waits, not only at its end."""
    from gate.core.model import Snapshot, State

    ids = {"deployment_id": "d-1"}
    told = telling(github.url, environment=None)
    reporter = told.for_gate(Gated(provider="greengrass_v2", ids=lambda: dict(ids)))
    reporter.started("Greengrass v2 deployment d-1", 60.0)
    ids["target_arn"] = "arn:aws:iot:eu-west-1:123456789012:thinggroup/Edge"
    reporter.status_changed(None, Snapshot(State.RUNNING, "ACTIVE"), 1.0)
    reporter.finished(an_outcome(OutcomeStatus.SUCCEEDED, target=ids))

    assert told.close() == []
    (deployment,) = github.deployments
    assert deployment["environment"] == "Edge"
    assert github.states(deployment["id"]) == ["in_progress", "success"]


def test_two_targets_in_one_environment_get_a_deployment_each(github: GitHubApiServer) -> None:
    told = telling(github.url, environment=None)
    same = {"org": "acme", "app": "shop", "env": "production"}
    gates = [
        Gated(name, "humanitec", lambda name=name: {**same, "deploy_id": name}, named=False)
        for name in ("a1", "b2")
    ]
    told.release_started(gates)
    for gate_ in gates:
        reporter = told.for_gate(gate_)
        reporter.started(f"Humanitec deployment {gate_.name}", 60.0)
        reporter.finished(an_outcome(OutcomeStatus.SUCCEEDED, target=dict(gate_.ids())))

    assert told.close() == []
    assert [d["environment"] for d in github.deployments] == ["production", "production"]
    for deployment in github.deployments:
        assert github.states(deployment["id"]) == ["in_progress", "success"]


def test_an_unnamed_target_naming_no_environment_is_a_warning_asking_for_a_name(
    github: GitHubApiServer,
) -> None:
    told = telling(github.url, environment=None)
    ids = {"org": "acme", "deployment_id": "d-1"}
    gate_ = Gated("acme/d-1", "humanitec_v2", lambda: ids, named=False)
    told.release_started([gate_])
    reporter = told.for_gate(gate_)
    reporter.started("Humanitec v2 deployment d-1 in acme", 60.0)
    reporter.finished(an_outcome(OutcomeStatus.SUCCEEDED, target=dict(gate_.ids())))

    assert told.close() == [
        "GitHub deployment status not posted: acme/d-1: Humanitec v2 deployment d-1 in acme "
        "names no environment: give the target a 'name'"
    ]
    assert github.requests == []


def test_the_readme_names_every_variable_the_tellings_read_and_the_permission() -> None:
    """Every ``GITHUB_*``/``RUNNER_*`` variable gate/telling reads is on the docs' telling
    page, and its workflow example grants ``deployments: write``."""
    import re

    import yaml

    from tests.support import REPO

    read = {
        variable
        for source in (REPO / "gate" / "telling").glob("*.py")
        for variable in re.findall(r'"((?:GITHUB|RUNNER)_[A-Z_]+)"', source.read_text())
    }
    section = (REPO / "docs" / "telling.md").read_text()
    assert {"GITHUB_SERVER_URL", "GITHUB_RUN_ID", "GITHUB_TOKEN"} <= read
    assert sorted(v for v in read if f"`{v}`" not in section) == []
    (example,) = [
        yaml.safe_load(block)
        for block in re.findall(r"^```yaml\n(.*?)^```$", section, re.S | re.M)
        if "deploy-gate@" in block
    ]
    (job,) = example["jobs"].values()
    assert job["permissions"]["deployments"] == "write"
