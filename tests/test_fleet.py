"""Many deployments in one gate: ``gate wait-all FILE``, repeated ids, the shared budget.

Against the package's emulator on 127.0.0.1 in real time (the targets wait in threads of
their own, each on a real socket), with deployments of a second or two.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from gate.cli.command import main
from gate.core.model import OutcomeStatus
from gate.core.secret import Secret
from gate.emulator import Emulator, Fault, Timeline
from gate.providers.aws.clients import make_clients
from gate.providers.humanitec.api import connect
from gate.providers.humanitec.v1.reader import HumanitecDeployment
from gate.waiting.engine import Timing, WaitOptions
from gate.waiting.fleet import Target, tally, wait_all
from gate.wire.rate import NoSlotInTime, RateLimiter
from gate.wire.sharing import Sharing
from tests.support import TOKEN, clean_env, killed_if_failed

QUICK = ["--interval", "0.1s", "--max-interval", "0.2s"]
WAIT_IN_SHOP = ["wait", "humanitec", "--org", "acme", "--app", "shop"]
SUCCEEDS = Timeline([(0, "pending"), (0.3, "in progress"), (1.0, "succeeded")])
FAILS = Timeline([(0, "pending"), (0.5, "failed")])
ENDLESS = Timeline([(0, "in progress")])
SUCCEEDS_BY_READS = Timeline([(0, "pending"), (1, "in progress"), (2, "succeeded")])
FAILS_BY_READS = Timeline([(0, "pending"), (1, "failed")])
"""For the paced emulator: statuses by the reads of the deployment, each one seen."""
BROKEN = [{"code": "CLD-001", "message": "Incorrect credentials", "scope": "workload"}]


def gate(
    emulator: Emulator, *args: str, stdin: str = "", extra_env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {"HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url, **(extra_env or {})}
    code = main(list(args), env=env, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return code, out.getvalue(), err.getvalue()


def release(
    tmp_path: Path, *targets: dict[str, Any], defaults: dict[str, Any] | None = None
) -> str:
    path = tmp_path / "release.yaml"
    document = {
        "defaults": defaults
        or {"provider": "humanitec", "org": "acme", "app": "shop", "latest": True},
        "targets": list(targets),
    }
    import yaml

    path.write_text(yaml.safe_dump(document))
    return str(path)


def latest_in(emulator: Emulator, env: str, options: WaitOptions) -> Target:
    """A target for the library: the latest deployment of ``env`` (built in any Sharing)."""
    client = connect(emulator.url, Secret(TOKEN), request_timeout=2.0)
    provider = HumanitecDeployment(client, org="acme", app="shop", env=env, token=Secret(TOKEN))
    return Target(env, provider, options)


def test_a_release_waits_on_three_environments_and_reports_each(
    paced_emulator: Emulator, tmp_path: Path
) -> None:
    emulator = paced_emulator
    emulator.add_humanitec("acme", "shop", "staging", SUCCEEDS_BY_READS)
    emulator.add_humanitec("acme", "shop", "production", FAILS_BY_READS, errors=BROKEN)
    emulator.add_humanitec("acme", "shop", "qa", SUCCEEDS_BY_READS)
    file = release(tmp_path, {"env": "staging"}, {"env": "production"}, {"env": "qa"})
    junit = tmp_path / "junit.xml"

    code, out, err = gate(
        emulator, "wait-all", file, *QUICK, "--output", "json", "--junit", str(junit)
    )

    assert code == 1
    whole = json.loads(out)
    assert whole["status"] == "failed"
    assert whole["summary"] == "2/3 succeeded, 1 failed"
    assert whole["exit_code"] == 1
    by_name = {target["name"]: target for target in whole["targets"]}
    assert list(by_name) == ["staging", "production", "qa"]
    assert by_name["staging"]["status"] == "succeeded"
    assert by_name["production"]["status"] == "failed"
    assert by_name["production"]["errors"][0]["message"] == "Incorrect credentials"
    assert by_name["production"]["target"]["deploy_id"] != "latest"
    assert "gate: [" in err
    assert "production: status: pending -> failed" in err
    assert "  - production: failed: the deployment ended as 'failed'" in err
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert [case.get("name") for case in cases] == ["staging", "production", "qa"]
    assert [case.find("failure") is not None for case in cases] == [False, True, False]


def test_every_target_succeeding_is_success_and_json_lists_work_too(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_humanitec("acme", "shop", "staging", SUCCEEDS)
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    targets = [
        {"provider": "humanitec", "org": "acme", "app": "shop", "env": env, "latest": True}
        for env in ("staging", "production")
    ]
    code, out, _ = gate(
        emulator, "wait-all", "-", *QUICK, "--output", "json", stdin=json.dumps(targets)
    )
    assert code == 0
    assert json.loads(out)["summary"] == "2/2 succeeded"


def test_repeated_ids_on_one_provider_are_one_target_each(emulator: Emulator) -> None:
    emulator.add_humanitec("acme", "shop", "staging", SUCCEEDS)
    emulator.add_humanitec("acme", "shop", "production", FAILS, errors=BROKEN)
    code, out, _ = gate(
        emulator,
        *WAIT_IN_SHOP,
        "--env",
        "staging",
        "--env",
        "production",
        "--latest",
        *QUICK,
        "--output",
        "json",
    )
    assert code == 1
    whole = json.loads(out)
    assert [(t["name"], t["status"]) for t in whole["targets"]] == [
        ("staging", "succeeded"),
        ("production", "failed"),
    ]


def test_repeated_deploy_ids_wait_on_each_deployment(emulator: Emulator) -> None:
    first = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    second = emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    code, out, _ = gate(
        emulator,
        *WAIT_IN_SHOP,
        "--env",
        "production",
        "--deploy-id",
        first,
        "--deploy-id",
        second,
        *QUICK,
        "--output",
        "json",
    )
    assert code == 0
    assert [t["target"]["deploy_id"] for t in json.loads(out)["targets"]] == [first, second]


def test_two_repeated_ids_are_refused_before_any_read(emulator: Emulator) -> None:
    code, _, err = gate(
        emulator,
        *WAIT_IN_SHOP,
        "--env",
        "a",
        "--env",
        "b",
        "--deploy-id",
        "x",
        "--deploy-id",
        "y",
    )
    assert code == 2
    assert "--deploy-id and --env are both repeated" in err
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("targets", "said"),
    [
        (
            [{"env": "staging"}, {"env": "qa", "colour": "blue"}],
            "release.yaml: target 2: unknown field 'colour' for provider humanitec",
        ),
        (
            [{"env": "staging"}, {"env": "qa", "name": "qa", "timeout": "soon"}],
            "release.yaml: target 2 (qa): field 'timeout' 'soon' is not a duration",
        ),
        (
            [{"env": "staging"}, {"env": "../prod"}],
            "release.yaml: target 2: field 'env'",
        ),
        (
            [{"env": "staging"}, {"env": "staging"}],
            "release.yaml: target 2: waits on the same deployment as release.yaml: target 1",
        ),
        (
            [{"env": "staging", "name": "x"}, {"env": "qa", "name": "x"}],
            "has the same name as release.yaml: target 1 (x) ('x')",
        ),
        (
            [{"env": "staging"}, {"env": ["qa", "prod"]}],
            "release.yaml: target 2: field 'env' must be text, not a list",
        ),
        (
            [{"env": "staging"}, "production"],
            "release.yaml: target 2: expected a mapping of fields, not a str",
        ),
        (
            [{"env": "staging"}, {"env": "qa", "provider": "nomad"}],
            "release.yaml: target 2: field 'provider': unknown provider 'nomad'",
        ),
        (
            [{"env": "staging"}, {"env": "qa", "interval": "1m", "max-interval": "10s"}],
            "release.yaml: target 2: field 'interval' (1m00s) must not exceed field 'max-interval'",
        ),
    ],
)
def test_a_bad_entry_is_refused_naming_it_before_the_first_read(
    emulator: Emulator, tmp_path: Path, targets: list[Any], said: str
) -> None:
    file = release(tmp_path, *targets)
    code, _, err = gate(emulator, "wait-all", file)
    assert code == 2
    assert said in err.replace(str(tmp_path) + "/", "")
    assert err.count("\n") == 1
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("targets: [\n  {env: staging\n", "line 3"),
        ("{}", "expected a non-empty list of targets"),
        ("targets: []", "expected a non-empty list of targets"),
        ("wrong: []", "unknown top-level field 'wrong'"),
        ("defaults: 3\ntargets: [{}]", "'defaults' must be a mapping"),
        ("[{env: staging}]", "target 1: field 'provider' is missing"),
    ],
)
def test_a_file_that_is_not_a_list_of_targets_is_refused(
    emulator: Emulator, text: str, said: str
) -> None:
    code, _, err = gate(emulator, "wait-all", "-", stdin=text)
    assert code == 2
    assert said in err
    assert err.startswith("gate: error: stdin: ")


def test_a_missing_file_is_a_usage_error(emulator: Emulator, tmp_path: Path) -> None:
    code, _, err = gate(emulator, "wait-all", str(tmp_path / "nope.yaml"))
    assert (code, err.strip().endswith("nope.yaml: no such file")) == (2, True)


def test_fail_fast_cancels_the_rest_naming_the_target_that_failed(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_humanitec("acme", "shop", "production", FAILS, errors=BROKEN)
    emulator.add_humanitec("acme", "shop", "staging", ENDLESS)
    file = release(tmp_path, {"env": "production"}, {"env": "staging"})

    code, out, _ = gate(emulator, "wait-all", file, *QUICK, "--fail-fast", "--output", "json")

    assert code == 1
    whole = json.loads(out)
    assert whole["summary"] == "0/2 succeeded, 1 failed, 1 cancelled"
    staging = whole["targets"][1]
    assert staging["status"] == "cancelled"
    assert staging["reason"].startswith("cancelled by --fail-fast: production failed")
    assert whole["elapsed_seconds"] < 60


def test_without_fail_fast_every_failure_is_reported_together(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_humanitec("acme", "shop", "production", FAILS, errors=BROKEN)
    emulator.add_humanitec("acme", "shop", "eu", Timeline([(0, "pending"), (1.2, "failed")]))
    emulator.add_humanitec("acme", "shop", "staging", SUCCEEDS)
    file = release(tmp_path, {"env": "production"}, {"env": "eu"}, {"env": "staging"})
    code, out, _ = gate(emulator, "wait-all", file, *QUICK, "--output", "json")
    assert code == 1
    assert [t["status"] for t in json.loads(out)["targets"]] == ["failed", "failed", "succeeded"]


@pytest.mark.parametrize(
    ("ends", "code", "status"),
    [
        (("failed", "timeout", "unreadable"), 1, "failed"),
        (("timeout", "unreadable", "succeeded"), 3, "timed_out"),
        (("unreadable", "succeeded", "succeeded"), 4, "error"),
    ],
)
def test_the_exit_code_is_the_worst_ending_failed_then_timeout_then_unreadable(
    emulator: Emulator, tmp_path: Path, ends: tuple[str, ...], code: int, status: str
) -> None:
    targets = []
    for index, ending in enumerate(ends):
        env = f"env-{index}"
        if ending == "failed":
            emulator.add_humanitec("acme", "shop", env, FAILS)
        elif ending == "timeout":
            emulator.add_humanitec("acme", "shop", env, ENDLESS)
        elif ending == "succeeded":
            emulator.add_humanitec("acme", "shop", env, SUCCEEDS)
        # unreadable: an environment with no deployment, not found past the grace
        targets.append({"env": env, "timeout": "2s", "not-found-grace": "0s"})
    file = release(tmp_path, *targets)

    exit_code, out, _ = gate(emulator, "wait-all", file, *QUICK, "--output", "json")

    assert (exit_code, json.loads(out)["status"]) == (code, status)


def test_a_signal_cancels_every_target_and_still_writes_the_outcome(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_humanitec("acme", "shop", "staging", ENDLESS)
    emulator.add_humanitec("acme", "shop", "production", ENDLESS)
    file = release(tmp_path, {"env": "staging"}, {"env": "production"})
    env = {**clean_env(), "HUMANITEC_TOKEN": TOKEN, "HUMANITEC_API_URL": emulator.url}
    with (
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gate",
                "wait-all",
                file,
                "--output",
                "json",
                "--interval",
                "1s",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
        killed_if_failed(process),
    ):
        assert process.stderr is not None
        seen = 0
        for line in process.stderr:
            seen += "status: in progress" in line
            if seen == 2:
                break
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=15)

    assert process.returncode == 128 + signal.SIGTERM
    whole = json.loads(stdout)
    assert whole["status"] == "cancelled"
    assert [t["status"] for t in whole["targets"]] == ["cancelled", "cancelled"]
    assert all(t["reason"].startswith("interrupted by signal 15") for t in whole["targets"])


def test_targets_on_one_api_keep_to_its_shared_rate(tmp_path: Path) -> None:
    # Twice the gate's rate: a busy machine may deliver requests sent 0.25 s apart in bunches,
    # but never so that a second of the API sees as many as two seconds of the gate's.
    with Emulator(token=TOKEN, rate_limit=8) as emulator:
        for index in range(8):
            emulator.add_humanitec(
                "acme", "shop", f"env-{index}", Timeline([(0, "pending"), (3, "succeeded")])
            )
        file = release(tmp_path, *({"env": f"env-{index}"} for index in range(8)))
        code, out, _ = gate(
            emulator,
            "wait-all",
            file,
            "--interval",
            "0.1s",
            "--max-interval",
            "0.5s",
            "--max-rate",
            "4",
            "--output",
            "json",
        )
        assert (code, emulator.throttled) == (0, 0)
        assert json.loads(out)["throttled"] == 0
        times = emulator.request_times
        assert len(times) >= 3 * 8  # the environment, then the deployment while it runs
        # 8 gates reading every 0.1-0.5 s would make ~30 requests a second; the budget says 4
        assert (len(times) - 1) / (times[-1] - times[0]) <= 4 * 1.05


def test_a_429_to_one_target_holds_back_every_target_on_that_api(emulator: Emulator) -> None:
    sharing = Sharing(max_rate=100)
    for env in ("staging", "production"):
        emulator.add_humanitec("acme", "shop", env, SUCCEEDS)
    emulator.inject(Fault.http(429, retry_after="1"), path_contains="/envs/staging/")
    with sharing.active():
        targets = [
            latest_in(emulator, env, WaitOptions(interval=0.1, max_interval=0.2))
            for env in ("staging", "production")
        ]
    try:
        outcome = wait_all(targets, sharing=sharing)
    finally:
        sharing.close()

    assert outcome.succeeded
    assert outcome.throttled == 1
    throttled_at = next(
        t
        for t, path in zip(emulator.request_times, emulator.requests, strict=True)
        if "/envs/staging/" in path
    )
    after = [t - throttled_at for t in emulator.request_times if t > throttled_at]
    # Unheld, production would read 4-8 times in the second after the 429. A slot handed out
    # before the gate saw the 429 may still be used (late, on a busy machine); no later one.
    held_back = [gap for gap in after if 0.05 < gap < 0.95]
    assert len(held_back) <= 1, after
    assert max(after) >= 0.95


def test_targets_on_one_api_share_one_client_and_pool(emulator: Emulator, aws_env: None) -> None:
    sharing = Sharing()
    with sharing.active():
        one = connect(emulator.url, Secret(TOKEN), request_timeout=2.0)
        same = connect(emulator.url, Secret(TOKEN), request_timeout=2.0)
        other_token = connect(emulator.url, Secret("other"), request_timeout=2.0)
        settings: dict[str, Any] = {
            "region": "eu-west-1",
            "profile": None,
            "endpoint_url": emulator.url,
            "request_timeout": 2.0,
            "allow_plain_http": True,
        }
        aws = make_clients(["greengrass"], **settings)
        aws_again = make_clients(["greengrass"], **settings)
    assert one is same
    assert one is not other_token
    assert aws is aws_again
    assert one._transport._pool is other_token._transport._pool  # type: ignore[attr-defined]
    sharing.close()
    assert one.is_closed


def test_humanitec_and_greengrass_targets_wait_in_one_gate(
    emulator: Emulator, tmp_path: Path, aws_env: None
) -> None:
    emulator.add_humanitec("acme", "shop", "production", SUCCEEDS)
    group, deployment = emulator.add_greengrass(
        Timeline([(0, "InProgress"), (0.8, "Failure")]),
        error_message="Greengrass core failed",
    )
    file = release(
        tmp_path,
        {
            "provider": "humanitec",
            "org": "acme",
            "app": "shop",
            "env": "production",
            "latest": True,
            "name": "humanitec",
        },
        {
            "provider": "greengrass",
            "group-id": group,
            "deployment-id": deployment,
            "region": "eu-west-1",
            "endpoint-url": emulator.url,
            "name": "edge",
        },
        defaults={"interval": "0.1s", "max-interval": "0.2s"},
    )
    code, out, _ = gate(emulator, "wait-all", file, "--output", "json")
    assert code == 1
    statuses = {t["name"]: (t["status"], t["raw_status"]) for t in json.loads(out)["targets"]}
    assert statuses == {"humanitec": ("succeeded", "succeeded"), "edge": ("failed", "Failure")}


def test_a_stopped_gate_does_not_sit_out_its_queue_for_request_slots(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "failed")]), errors=BROKEN)
    with Emulator(token=TOKEN) as slow_api:
        for index in range(6):
            slow_api.add_humanitec("acme", "shop", f"env-{index}", ENDLESS)
        queued = ({"env": f"env-{i}", "api-url": slow_api.url} for i in range(6))
        file = release(tmp_path, {"env": "production"}, *queued)
        code, out, _ = gate(
            emulator,
            "wait-all",
            file,
            *QUICK,
            "--max-rate",
            "0.5",
            "--fail-fast",
            "--output",
            "json",
        )
    whole = json.loads(out)
    assert code == 1
    assert [t["status"] for t in whole["targets"]] == ["failed"] + ["cancelled"] * 6
    # production fails on its second read (2 s slots) and its errors are read at 4 s; the
    # slow API's queue of six reads takes 12 s
    assert whole["elapsed_seconds"] < 10


def test_the_rate_limiter_spaces_requests_and_a_429_pushes_every_slot_back() -> None:
    now = [0.0]
    slept: list[float] = []

    def pause(seconds: float) -> bool:
        slept.append(seconds)
        now[0] += seconds
        return False

    limiter = RateLimiter(2.0, clock=lambda: now[0], pause=pause)
    for _ in range(3):
        assert limiter.acquire(within=10)
    assert slept == [0.5, 0.5]
    limiter.throttle(3.0)
    limiter.acquire(within=10)
    assert now[0] == pytest.approx(4.0)
    limiter.throttle(30.0)
    with pytest.raises(NoSlotInTime):
        limiter.acquire(within=10)


def test_a_429_pushes_back_the_slots_already_taken() -> None:
    now = [0.0]
    answered_429: list[float] = []

    def pause(seconds: float) -> bool:
        if not answered_429:  # another target's request is answered 429 while this one waits
            answered_429.append(now[0])
            limiter.throttle(5.0)
        now[0] += seconds
        return False

    limiter = RateLimiter(1.0, clock=lambda: now[0], pause=pause)
    limiter.acquire(within=100)
    limiter.acquire(within=100)  # its slot was 1 s away: the API asked for 5 s of quiet
    assert now[0] == pytest.approx(6.0)
    answered_429.clear()
    with pytest.raises(NoSlotInTime) as pushed:  # its slot 1 s away, pushed 5 s on: too far
        limiter.acquire(within=3)
    assert pushed.value.throttled, "the API's throttling, not the budget, took the slot away"


def test_a_read_with_a_budget_shorter_than_the_deadline_missing_a_slot_is_no_shortage(
    emulator: Emulator,
) -> None:
    """A history read (10 s) may find the queue longer than its own budget: that is not the
    release being too large for the rate, and nothing says it is."""
    from gate.wire import deadline
    from gate.wire.transport import NoRequestSlot

    short: list[str] = []
    sharing = Sharing(max_rate=1.0)
    sharing.on_short = lambda origin, rate: short.append(origin)
    with sharing.active():
        client = connect(emulator.url, Secret(TOKEN), request_timeout=2.0)
    sharing.limiter(emulator.url.rstrip("/")).acquire(within=1)  # the next slot: 1 s away
    try:
        with deadline.within(0.5), pytest.raises(NoRequestSlot) as missed:
            client.get("/orgs/acme/apps/shop/envs/production")
        assert not missed.value.final
        assert short == []
        with deadline.within(0.5, to_the_deadline=True), pytest.raises(NoRequestSlot) as spent:
            client.get("/orgs/acme/apps/shop/envs/production")
        assert spent.value.final
        assert short == [emulator.url.rstrip("/")], "a status read that cannot be made is"
    finally:
        client.close()
        sharing.close()


def test_a_request_that_explains_a_failure_goes_ahead_of_the_queued_status_reads() -> None:
    now = [0.0]
    waits: list[float] = []

    def record(seconds: float) -> bool:  # each waiter sleeps on its own: time stands still
        waits.append(seconds)
        return False

    limiter = RateLimiter(1.0, clock=lambda: now[0], pause=record)
    for _ in range(5):  # five status reads queued: slots at 0 to 4 s
        limiter.acquire(within=100)
    assert waits == [1.0, 2.0, 3.0, 4.0]
    limiter.acquire(within=0.5, first=True)  # an error list: now, not in 5 s
    assert waits == [1.0, 2.0, 3.0, 4.0]
    limiter.acquire(within=100)  # the queue behind pays the slot back
    assert waits[-1] == 6.0
    limiter.throttle(3.0)  # a 429 holds back everything, first or not
    with pytest.raises(NoSlotInTime):
        limiter.acquire(within=2, first=True)


def test_tally_names_every_kind_of_ending() -> None:
    ended = [OutcomeStatus.SUCCEEDED] * 7 + [OutcomeStatus.FAILED]
    assert tally(ended, 12) == "7/12 succeeded, 1 failed, 4 running"
    assert tally([OutcomeStatus.ERROR, OutcomeStatus.TIMED_OUT], 2) == (
        "0/2 succeeded, 1 timed out, 1 unreadable"
    )


def test_github_gets_one_annotation_per_failed_target_within_its_limit_and_a_table(
    emulator: Emulator, tmp_path: Path
) -> None:
    hostile = [{"code": "X", "message": "bad\n::warning::injected | cell ##[error]x"}]
    for index in range(12):
        emulator.add_humanitec("acme", "shop", f"env-{index:02d}", FAILS, errors=hostile)
    emulator.add_humanitec("acme", "shop", "fine", SUCCEEDS)
    file = release(tmp_path, *({"env": f"env-{i:02d}"} for i in range(12)), {"env": "fine"})
    outputs, summary = tmp_path / "out", tmp_path / "summary.md"
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }

    code, out, _ = gate(emulator, "wait-all", file, *QUICK, "--max-rate", "100", extra_env=github)

    assert code == 1
    commands = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(commands) == 10
    assert commands[0].startswith("::error title=Deployment failed%3A env-00::")
    assert "%0AX: bad ::warning::injected" in commands[0]
    assert commands[-1].endswith("::3 more targets: see the job summary")
    assert not any(line.startswith("::warning::injected") for line in out.splitlines())
    table = summary.read_text()
    assert "Deployments: 1/13 succeeded, 12 failed" in table
    assert table.count("| failed | failed |") == 12
    assert "injected \\| cell" in table
    written = outputs.read_text()
    assert "summary<<ghadelimiter_" in written
    listed = written.split("outcomes<<")[1].split("\n")[1]
    assert [item["name"] for item in json.loads(listed)][:2] == ["env-00", "env-01"]


def test_text_progress_says_a_summary_line_instead_of_every_heartbeat(
    paced_emulator: Emulator,
) -> None:
    from gate.render.fleet_text import FleetTextReporter

    emulator = paced_emulator
    # the tenth read succeeds: reads at least 0.1 s apart take 0.9 s or more to get there,
    # past the first summary at 0.5 s however fast the machine is
    by_the_tenth_read = Timeline([(0, "pending"), (9, "succeeded")])
    for env in ("staging", "production"):
        emulator.add_humanitec("acme", "shop", env, by_the_tenth_read)
    stream = io.StringIO()
    targets = [
        latest_in(emulator, env, WaitOptions(interval=0.1, max_interval=0.2, heartbeat=0.3))
        for env in ("staging", "production")
    ]
    outcome = wait_all(
        targets, reporter=FleetTextReporter(stream), timing=Timing(summary_every=0.5)
    )
    for target in targets:
        target.provider.close()

    said = stream.getvalue()
    assert outcome.succeeded
    assert "still waiting" not in said
    assert "0/2 succeeded, 2 running" in said
    assert said.splitlines()[-1] == f"gate: 2/2 succeeded after {said.split('after ')[-1].strip()}"
    assert "gate: [" in said
    assert "] staging: status: pending" in said


def test_wait_all_explains_itself(emulator: Emulator) -> None:
    with pytest.raises(SystemExit) as ended:
        gate(emulator, "wait-all", "--help")
    assert ended.value.code == 0
    code, _, err = gate(emulator, "wait-all")
    assert code == 2
    assert "the following arguments are required: file" in err
