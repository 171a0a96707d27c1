"""The comparison through the real command, against a real Prometheus whose past was
backfilled by promtool (tests/parts/prometheus_history.py): the baseline window holds stored
samples from before the gate ran, the bake's are scraped while it bakes.

The release's behaviour changes when the gate is started; the baseline window ends when the
deployment began (the emulated Humanitec says when), a moment later."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gate.core.timestamps import iso_utc
from gate.emulator import Device, Emulator, Fault, Timeline
from tests.builders import ERROR_RATIO as EMULATED_RATIO
from tests.builders import FAST, as_flags, compared_bake, humanitec_provider, json_outcome
from tests.parts.prometheus_history import (
    HistoryPrometheus,
    NoisyExporter,
    history_openmetrics,
    prometheus_with_history,
)
from tests.support import TOKEN, gate_greengrass_v2, run_gate
from tests.test_bake_cli import gate
from tests.test_telling_cost import modules_of_the_command

BAKE = ["--bake", "20s", "--bake-interval", "1s"]
"""Its baseline window reaches back past the few seconds Prometheus has scraped into the
backfilled history."""
HISTORY_SECONDS = 600
ERROR_RATIO = 'error_ratio=checkout_error_ratio{service="checkout"}'
FIXED_THRESHOLD = 'checkout_error_ratio{service="checkout"} > 0.05'
"""What a user would alert on: well above anything this release does."""


def healthy(generator: random.Random) -> float:
    return max(0.0, generator.gauss(0.003, 0.0003))


def doubled(generator: random.Random) -> float:
    return 2 * healthy(generator)


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[HistoryPrometheus]:
    exporter = NoisyExporter(seed=31)
    exporter.draw("checkout_error_ratio", healthy)
    now = time.time()
    history = history_openmetrics(
        "checkout_error_ratio", healthy, exporter, seed=7, start=now - HISTORY_SECONDS, end=now - 1
    )
    try:
        with prometheus_with_history(tmp_path / "prometheus", history, exporter) as running:
            running.stack.wait_for(
                "Prometheus serves the backfilled history",
                lambda: running.stack.query(
                    f"count_over_time(checkout_error_ratio[{HISTORY_SECONDS}s]) > 500"
                )["result"],
            )
            yield running
    finally:
        exporter.close()


def test_a_release_that_doubles_its_error_ratio_is_rolled_back_by_the_comparison(
    paced_emulator: Emulator, prometheus: HistoryPrometheus
) -> None:
    good = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), started_ago=3600
    )
    prometheus.exporter.draw("checkout_error_ratio", doubled)
    result = gate(
        paced_emulator,
        *BAKE,
        "--prometheus",
        prometheus.url,
        "--query",
        FIXED_THRESHOLD,
        "--compare",
        ERROR_RATIO,
        "--on-failure",
        "rollback",
    )
    assert result.returncode == 1, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "breached"
    (breach,) = outcome["bake"]["breaches"]
    assert breach["check"] == "comparison error_ratio"
    assert breach["detail"].startswith("error_ratio during the bake 0.00"), breach
    assert ": regression (p < 0.05 and, at 95% confidence, a shift of +" in breach["detail"]
    assert "or worse, beyond +20%)" in breach["detail"]
    assert "error_ratio during the bake" in outcome["reason"]
    query, comparison = outcome["bake"]["checks"]
    assert query["summary"] == "query clear", "no fixed threshold was crossed"
    assert comparison["kind"] == "comparison"
    assert comparison["verdict"]["outcome"] == "regression"
    assert comparison["verdict"]["bake"]["median"] > comparison["verdict"]["baseline"]["median"]
    assert query["verdict"] is None
    assert outcome["rollback"]["plan"]["to"] == good
    assert outcome["rollback"]["outcome"]["status"] == "succeeded"


def test_a_release_that_keeps_its_error_ratio_passes_and_no_data_is_inconclusive(
    paced_emulator: Emulator, prometheus: HistoryPrometheus
) -> None:
    """The policy for an inconclusive verdict: named in the outcome, the gate not failed."""
    result = gate(
        paced_emulator,
        *BAKE,
        "--prometheus",
        prometheus.url,
        "--compare",
        ERROR_RATIO,
        "--compare",
        "unreported=sum(checkout_unreported_ratio)",
        "--on-failure",
        "rollback",
    )
    assert result.returncode == 0, result.stderr
    outcome = json_outcome(result)
    assert outcome["bake"]["status"] == "passed"
    same, unreported = outcome["bake"]["checks"]
    (said,) = same["notes"]
    assert said.startswith("comparison error_ratio during the bake 0.00"), said
    assert ": pass (" in said
    assert "(median of 1" in said, "both sides have at least 10 samples"
    assert unreported["notes"] == [], "the bake's policy names it, not the check"
    (said,) = outcome["bake"]["notes"]
    assert said.endswith(
        ": comparison unreported during the bake no samples (0) vs no samples before: "
        "inconclusive (0 samples before, fewer than the 10 it needs); "
        "baseline: the 20.0s before the deployment began"
    ), said
    assert said.startswith("inconclusive, passed by the bake's policy: "), said
    assert unreported["summary"] == "comparison unreported inconclusive"
    assert paced_emulator.posted == [], "nothing rolled back"


SERVED = ["--prometheus", "http://127.0.0.1:9", "--compare", "e=up"]


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--compare", "error_ratio=up"], "--compare needs --prometheus"),
        (
            ["--prometheus", "http://127.0.0.1:9", "--compare", "just promql"],
            "a comparison is NAME=PROMQL",
        ),
        (
            [*SERVED, "--compare-min-effect", "twenty"],
            "--compare-min-effect: a minimum effect is a percentage such as +20%",
        ),
        (
            [*SERVED, "--compare-confidence", "100"],
            "--compare-confidence must be 50% or more and at most 99.99%",
        ),
    ],
    ids=["no-server", "no-name", "effect-unreadable", "confidence-out-of-bounds"],
)
def test_a_comparison_that_cannot_work_is_refused_with_exit_2(
    emulator: Emulator, extra: list[str], said: str
) -> None:
    result = gate(emulator, "--bake", "1m", *extra)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr, result.stderr


def test_an_expression_giving_several_series_is_refused_before_waiting(
    emulator: Emulator, prometheus: HistoryPrometheus
) -> None:
    prometheus.exporter.draw("checkout_other_ratio", healthy)
    prometheus.stack.wait_for_series("checkout_other_ratio")
    result = gate(
        emulator,
        "--bake",
        "1m",
        "--prometheus",
        prometheus.url,
        "--compare",
        'ratios={__name__=~"checkout_.*_ratio"}',
    )
    assert result.returncode == 2, result.stderr
    assert "gives 2 series: aggregate it to one (sum, avg" in result.stderr
    assert emulator.posted == []


def test_scipy_is_imported_only_when_a_comparison_is_judged(
    paced_emulator: Emulator, prometheus: HistoryPrometheus
) -> None:
    without = modules_of_the_command(paced_emulator)
    assert "gate.bake.verdict" in without, "the plugin's fields are read by every gate"
    assert not [name for name in without if name.split(".")[0] == "scipy"]
    now = datetime.now(timezone.utc)
    history = f"{iso_utc(now - timedelta(seconds=300))}..{iso_utc(now - timedelta(seconds=200))}"
    judged = modules_of_the_command(
        paced_emulator,
        *("--bake", "3s", "--bake-interval", "0.5s", "--compare-min-samples", "3"),
        *("--prometheus", prometheus.url, "--compare", ERROR_RATIO),
        *("--compare-baseline", history),  # the backfill's: the seconds before it has a gap
    )
    assert "scipy.stats" in judged, "so the check above can fail"


@pytest.mark.parametrize(
    ("interval", "window", "step"), [(0.5, 3, 0.5), (15, 600, 15), (1, 86_400, 8.64)]
)
def test_the_step_is_the_bake_interval_unless_the_window_has_too_many(
    interval: float, window: float, step: float
) -> None:
    from gate.bake.prometheus_series import comparison_step

    assert comparison_step(interval, window) == pytest.approx(step)


def test_a_comparison_costs_three_requests_a_bake_as_bench_counts_them() -> None:
    """One before waiting, one a window at the end; the bench's request row says so."""
    from bench.baseline import requests_per_bake

    counted = requests_per_bake(duration=60, interval=15)
    assert counted["--compare"] == 3
    assert counted["--query (fixed threshold)"] > 3


@pytest.mark.parametrize("regressed", [True, False], ids=["regressed", "kept-its-level"])
def test_the_library_builds_a_comparison_from_gates_own_names(
    emulator: Emulator, regressed: bool
) -> None:
    """Every name a program needs is exported by ``gate``: a regression fails the outcome
    and rolls back, as it does through the command."""
    from gate import (
        Bake,
        Baseline,
        Comparison,
        GatePlan,
        MinEffect,
        OutcomeStatus,
        PrometheusSeries,
        WaitOptions,
        wait,
    )

    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), started_ago=3600, set_id="good"
    )
    deploy_id = emulator.add_humanitec("acme", "shop", "production", Timeline([(0, "succeeded")]))
    window = compared_bake(emulator, regressed=regressed)["compare_baseline"]
    series = PrometheusSeries(emulator.url, EMULATED_RATIO, interval=0.5, request_timeout=5)
    comparison = Comparison(
        "error_ratio",
        series,
        bake_seconds=4,
        min_effect=MinEffect.parse("+20%"),
        min_samples=5,
        baseline=Baseline.parse(window),
    )
    provider = humanitec_provider(emulator, deploy_id=deploy_id)
    bake = Bake(4, [comparison], interval=0.5)
    try:
        outcome = wait(
            provider,
            GatePlan(waiting=WaitOptions(timeout=60, interval=0.05), on_failure="rollback"),
            bake=bake,
        )
    finally:
        provider.close()
        bake.close()
    assert outcome.bake is not None
    (judged,) = outcome.bake.checks
    assert judged.verdict is not None
    if not regressed:
        assert outcome.status is OutcomeStatus.SUCCEEDED, outcome.reason
        assert judged.verdict.outcome == "pass"
        assert emulator.posted == []
        return
    assert outcome.status is OutcomeStatus.FAILED
    assert judged.verdict.outcome == "regression"
    assert outcome.reason is not None
    assert "comparison error_ratio: error_ratio during the bake" in outcome.reason
    assert outcome.rollback is not None
    assert outcome.rollback.status.value == "succeeded"
    assert [body["set_id"] for _, body, _ in emulator.posted] == ["good"]  # type: ignore[index]


@pytest.mark.parametrize("regressed", [True, False], ids=["regressed", "kept-its-level"])
@pytest.mark.parametrize("whose", ["targets", "release"], ids=["each-targets-bake", "release-bake"])
def test_a_targets_file_compares_in_each_targets_bake_or_the_releases(
    emulator: Emulator, tmp_path: Path, regressed: bool, whose: str
) -> None:
    """The comparison's fields in the file's entries bake each target; as flags of ``gate
    wait-all`` they are the release's bake. A regression rolls every target back."""
    for env in ("eu", "us"):
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "succeeded")]),
            started_ago=3600,
            set_id=f"good-{env}",
        )
        emulator.add_humanitec("acme", "shop", env, Timeline([(0, "succeeded")]))
    bake = compared_bake(emulator, regressed=regressed)
    shared = {"provider": "humanitec", "org": "acme", "app": "shop", "latest": True}
    if whose == "targets":
        shared |= {key.replace("_", "-"): value for key, value in bake.items()}
    release = tmp_path / "release.json"
    targets = [{"env": "eu"}, {"env": "us"}]
    release.write_text(json.dumps({"defaults": shared, "targets": targets}), encoding="utf-8")
    flags = as_flags(bake) if whose == "release" else []
    result = run_gate(
        "wait-all",
        str(release),
        *FAST,
        *flags,
        "--output",
        "json",
        env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN},
    )
    outcome = json.loads(result.stdout)
    bakes = [outcome["bake"]] if whose == "release" else [t["bake"] for t in outcome["targets"]]
    verdicts = [check["verdict"]["outcome"] for baked in bakes for check in baked["checks"]]
    if not regressed:
        assert result.returncode == 0, result.stderr
        assert verdicts == ["pass"] * len(bakes)
        assert emulator.posted == []
        return
    assert result.returncode == 1, result.stderr
    assert verdicts == ["regression"] * len(bakes)
    assert {baked["status"] for baked in bakes} == {"breached"}
    posted = sorted(body["set_id"] for _, body, _ in emulator.posted)  # type: ignore[index]
    assert posted == ["good-eu", "good-us"]


@pytest.mark.parametrize("knows_its_start", [True, False], ids=["humanitec", "no-start"])
def test_the_baseline_ends_when_the_deployment_began_where_the_provider_says(
    emulator: Emulator, knows_its_start: bool
) -> None:
    """A deployment that ran 20 s, its error ratio tripled from 5 s into the rollout: the
    baseline before the bake holds only the rollout's errors, the one before the deployment
    none. Without the deployment's start (a provider that does not say), the bake's start is
    the boundary, and the verdict says so."""
    emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "succeeded")]), started_ago=3600, set_id="good"
    )
    deploy_id = emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "in progress"), (20, "succeeded")]),
        started_ago=20,
    )
    if not knows_its_start:
        unsaid = json.dumps({"id": deploy_id, "status": "succeeded"}).encode()  # no created_at
        emulator.inject(Fault.ok_body(unsaid), times=1000, path_contains=f"/deploys/{deploy_id}")
    bake = compared_bake(emulator, regressed=True)
    del bake["compare_baseline"]
    emulator.add_error_ratio(EMULATED_RATIO, 0.02, worse_by=3.0, worse_after=-15)
    result = run_gate(
        "wait",
        "humanitec",
        *("--org", "acme", "--app", "shop", "--env", "production", "--deploy-id", deploy_id),
        *FAST,
        *as_flags(bake),
        "--output",
        "json",
        env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN},
    )
    outcome = json_outcome(result)
    (comparison,) = outcome["bake"]["checks"]
    verdict = comparison["verdict"]
    if not knows_its_start:
        assert result.returncode == 0, result.stderr
        assert verdict["outcome"] == "pass", "the rollout's errors were its baseline"
        assert verdict["baseline"]["ends"] == "bake-start"
        (said,) = comparison["notes"]
        assert said.endswith(
            "; baseline: the 4.0s before the bake began (when the deployment began is not known)"
        ), said
        return
    assert result.returncode == 1, result.stderr
    assert verdict["outcome"] == "regression"
    assert verdict["baseline"]["ends"] == "deployment-start"
    assert verdict["baseline"]["to"] < outcome["started_at"], "before the gate even started"
    (breach,) = outcome["bake"]["breaches"]
    assert breach["detail"].endswith("; baseline: the 4.0s before the deployment began")
    assert [body["set_id"] for _, body, _ in emulator.posted] == ["good"]  # type: ignore[index]


def test_a_releases_baseline_ends_when_its_first_deployment_began(
    emulator: Emulator, tmp_path: Path
) -> None:
    """eu began 30 s ago, us 20 s ago, the error ratio tripled 25 s ago: only a baseline that
    ends when eu began holds none of the release's errors."""
    for env, began in (("eu", 30), ("us", 20)):
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "succeeded")]),
            started_ago=3600,
            set_id=f"good-{env}",
        )
        emulator.add_humanitec(
            "acme",
            "shop",
            env,
            Timeline([(0, "in progress"), (began, "succeeded")]),
            started_ago=began,
        )
    bake = compared_bake(emulator, regressed=True)
    del bake["compare_baseline"]
    emulator.add_error_ratio(EMULATED_RATIO, 0.02, worse_by=3.0, worse_after=-25)
    shared = {"provider": "humanitec", "org": "acme", "app": "shop", "latest": True}
    release = tmp_path / "release.json"
    release.write_text(json.dumps({"defaults": shared, "targets": [{"env": "eu"}, {"env": "us"}]}))
    result = run_gate(
        "wait-all",
        str(release),
        *FAST,
        *as_flags(bake),
        "--output",
        "json",
        env={"HUMANITEC_API_URL": emulator.url, "HUMANITEC_TOKEN": TOKEN},
    )
    assert result.returncode == 1, result.stderr
    (comparison,) = json.loads(result.stdout)["bake"]["checks"]
    assert comparison["verdict"]["outcome"] == "regression"
    assert comparison["verdict"]["baseline"]["ends"] == "deployment-start"
    posted = sorted(body["set_id"] for _, body, _ in emulator.posted)  # type: ignore[index]
    assert posted == ["good-eu", "good-us"]


def test_greengrass_v2_says_when_its_deployment_began(emulator: Emulator) -> None:
    """Its ``creationTimestamp``: a device deployment that ran 20 s, the error ratio tripled
    from 5 s into it, regresses against the baseline before it."""
    deployment = emulator.add_greengrass_v2(
        [Device("core-1", Timeline([(0, "IN_PROGRESS"), (20, "SUCCEEDED")]))], started_ago=20
    )
    bake = compared_bake(emulator, regressed=True)
    del bake["compare_baseline"], bake["on_failure"]
    emulator.add_error_ratio(EMULATED_RATIO, 0.02, worse_by=3.0, worse_after=-15)
    result = gate_greengrass_v2(emulator, deployment, *FAST, *as_flags(bake), "--output", "json")
    assert result.returncode == 1, result.stderr
    (comparison,) = json_outcome(result)["bake"]["checks"]
    assert comparison["verdict"]["outcome"] == "regression"
    assert comparison["verdict"]["baseline"]["ends"] == "deployment-start"
