"""``gate demo``, the README's first command, shows both backends ending both ways."""

import re

from tests.support import run_gate


def _case(out: str, flag: str) -> str:
    """The demo's case whose ``gate wait`` line holds ``flag``: that line to the next case."""
    (case,) = [part for part in out.split("\n$ gate wait ") if flag in part.partition("\n")[0]]
    return case


def test_demo_gates_a_success_and_a_failure_on_each_backend() -> None:
    result = run_gate("demo", timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count("(as expected)") == 10
    assert "UNEXPECTED" not in out
    assert "$ gate wait humanitec" in out
    assert "$ gate wait greengrass" in out
    assert "POD-CRASHLOOP Container is crash-looping" in out
    assert "LambdaExecutionFailure: function 'sensor-reader' failed to start" in out
    assert '"status": "failed"' in out
    assert "$ gate wait greengrass-v2" in out
    assert "1 of 4 devices failed" in out
    assert "[device press-3] FAILED: com.acme.PressController: exited with code 1" in out
    step_log = "[step log deploy/0 Deploy] ERROR: Resource 'postgres' was not ready after 300s"
    assert step_log in out, "a failed deployment shows its pipeline step's log"
    assert "its workloads never became ready: 1/2 workloads ready; worker: ImagePullBackOff" in out
    assert "$ gate wait humanitec-v2" in out
    assert "--env eu --env us --env apac --latest" in out
    assert "gate: 2/3 succeeded, 1 failed after" in out
    assert "then failed its bake" in out
    assert "HTTP 503" in out
    assert "rolling back: redeploy set 5e7b0c2f91d4" in out
    compared = _case(out, "--env cart")
    assert compared.rstrip().endswith("-> exit code 1 (as expected)")
    assert "query clear" in compared, "the fixed threshold's query is read"
    assert "query breached" not in compared, "and no fixed threshold is crossed"
    numbers = (
        r"then failed its bake [^\n]*: comparison error_ratio: error_ratio during the bake "
        r"0\.00\d+ \(median of \d+\) vs 0\.00\d+ before \(median of \d+\): \+\d+%, "
        r"p = [\d.e-]+: regression \(p < 0\.05 and, at 95% confidence, a shift of \+\d+% or worse, "
        r"beyond \+20%\)"
    )
    assert re.search(numbers, compared), compared
    assert "rollback succeeded: redeploy set c4d2a7e1b093" in compared
