"""Renderers for CI: workflow commands, step outputs, job summary and JUnit, with hostile text."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gate.cli.files import require_writable, write_atomically
from gate.core.errors import UsageError
from gate.core.model import ErrorDetail, Outcome, OutcomeStatus
from gate.render.github import (
    MAX_ANNOTATIONS,
    MAX_ERRORS_OUTPUT,
    annotation_lines,
    escape_data,
    escape_property,
    format_outputs,
    step_outputs,
    workflow_command,
)
from gate.render.junit import junit_xml
from gate.render.summary import escape_cell, summary_markdown
from tests.actions_runner import parse_commands, parse_output_file

NASTY = [
    "x\n::error::y",
    "%0A::set-output name=status::succeeded",
    "a\r\nb%25c:d,e",
    "ghadelimiter_5b5e8f0a-0000-4000-8000-000000000000",
    "<script>alert(1)</script> | **x** [y](z) ##[error]w",
    "\x1b[31mred\x1b[0m \x00 nul",
]


def outcome(status: OutcomeStatus, errors: tuple[ErrorDetail, ...] = (), **more: object) -> Outcome:
    values: dict[str, object] = {
        "status": status,
        "provider": "humanitec",
        "target": {"org": "acme", "app": "shop", "env": "production", "deploy_id": "d1"},
        "raw_status": {OutcomeStatus.SUCCEEDED: "succeeded"}.get(status, "failed"),
        "errors": errors,
        "reason": None if status is OutcomeStatus.SUCCEEDED else "why",
        "elapsed_seconds": 12.5,
        "polls": 7,
        "started_at": "2026-11-23T10:00:00.000Z",
        "finished_at": "2026-11-23T10:00:12.500Z",
    }
    values.update(more)
    return Outcome(**values)  # type: ignore[arg-type]


def test_data_and_property_escaping_follow_actions_core() -> None:
    assert escape_data("100%\r\n") == "100%25%0D%0A"
    assert escape_data("%0A") == "%250A"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


@pytest.mark.parametrize("text", NASTY)
def test_a_workflow_command_carries_any_text_as_one_command(text: str) -> None:
    line = workflow_command("error", text, title=text)
    assert "\n" not in line
    assert "\r" not in line
    [command] = parse_commands(line)
    assert command.name == "error"
    assert command.data == text
    assert command.properties == {"title": text}


def test_annotations_stop_at_the_uis_limit_and_point_to_the_summary() -> None:
    errors = tuple(ErrorDetail(code=f"E{i}", message=f"m{i}") for i in range(15))
    lines = annotation_lines(outcome(OutcomeStatus.FAILED, errors))
    assert len(lines) == MAX_ANNOTATIONS
    assert "6 more errors: see the job summary" in lines[-1]


def test_long_messages_are_cut_below_the_uis_limit() -> None:
    [line] = annotation_lines(
        outcome(OutcomeStatus.FAILED, (ErrorDetail(code="E", message="x" * 10_000),))
    )
    assert len(parse_commands(line)[0].data) <= 4000


@pytest.mark.parametrize(
    ("status", "command", "title"),
    [
        (OutcomeStatus.SUCCEEDED, "notice", "Deployment succeeded"),
        (OutcomeStatus.TIMED_OUT, "error", "Deployment gate timed out"),
        (OutcomeStatus.ERROR, "error", "Deployment status could not be read"),
        (OutcomeStatus.CANCELLED, "warning", "Deployment gate cancelled"),
        (OutcomeStatus.FAILED, "error", "Deployment failed"),
    ],
)
def test_one_annotation_for_every_ending_without_details(
    status: OutcomeStatus, command: str, title: str
) -> None:
    [parsed] = parse_commands("\n".join(annotation_lines(outcome(status))))
    assert (parsed.name, parsed.properties["title"]) == (command, title)


def test_outputs_round_trip_through_the_runners_parser_whatever_the_values() -> None:
    errors = tuple(ErrorDetail(code=text, message=text) for text in NASTY)
    values = step_outputs(outcome(OutcomeStatus.FAILED, errors), {"junit-report": "/tmp/j.xml"})
    values["reason"] = "\n".join(NASTY)
    parsed = parse_output_file(format_outputs(values))
    assert parsed == values
    assert [e["message"] for e in json.loads(parsed["errors"])] == NASTY


@pytest.mark.parametrize("text", NASTY)
def test_a_summary_cell_stays_one_cell_and_shows_no_markup(text: str) -> None:
    cell = escape_cell(text)
    assert "\n" not in cell
    assert "\r" not in cell
    assert "<script" not in cell
    unescaped_pipes = cell.replace("\\|", "").count("|")
    assert unescaped_pipes == 0


def test_the_summary_has_target_status_timing_and_an_error_table() -> None:
    errors = (
        ErrorDetail(
            code="CLD-001",
            message="Incorrect credentials",
            scope="workload",
            object_id="api",
            summary="Provider error",
        ),
    )
    markdown = summary_markdown(outcome(OutcomeStatus.FAILED, errors))
    assert "### ❌ Deployment failed" in markdown
    assert "| Target | humanitec: org acme, app shop, env production, deploy\\_id d1 |" in markdown
    assert "| Elapsed | 12.5s |" in markdown
    assert "| Reads | 7 |" in markdown
    assert "| workload api | CLD-001 | Provider error | Incorrect credentials |" in markdown


def test_junit_holds_one_case_with_a_failure_carrying_every_detail() -> None:
    errors = tuple(ErrorDetail(code=f"E{i}", message=text) for i, text in enumerate(NASTY))
    document = junit_xml([outcome(OutcomeStatus.FAILED, errors)])
    root = ET.fromstring(document)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "1"
    assert suite.get("failures") == "1"
    case = suite.find("testcase")
    assert case is not None
    assert case.get("classname") == "deploy-gate.humanitec"
    assert case.get("time") == "12.500"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "why"
    text = failure.text or ""
    assert "%0A::set-output name=status::succeeded" in text
    assert "<script>alert(1)</script>" in text
    assert "\x00" not in text
    assert "\x1b" not in text


@pytest.mark.parametrize(
    ("status", "element"),
    [
        (OutcomeStatus.TIMED_OUT, "error"),
        (OutcomeStatus.ERROR, "error"),
        (OutcomeStatus.CANCELLED, "error"),
        (OutcomeStatus.SUCCEEDED, None),
    ],
)
def test_junit_marks_other_endings(status: OutcomeStatus, element: str | None) -> None:
    case = ET.fromstring(junit_xml([outcome(status)])).find("./testsuite/testcase")
    assert case is not None
    children = [child.tag for child in case]
    assert children == ([element] if element else [])


def many_errors(count: int, size: int) -> Outcome:
    error = ErrorDetail(code="E", message="x" * size, scope="workload", object_id="w")
    return outcome(OutcomeStatus.FAILED, (error,) * count)


def test_the_step_summary_stays_within_githubs_limit_and_says_what_it_left_out() -> None:
    summary = summary_markdown(many_errors(5000, 2000))
    assert len(summary.encode()) < 1024 * 1024 // 2
    assert "more errors are left out here" in summary


def test_step_outputs_stay_bounded_and_count_what_they_left_out() -> None:
    outputs = step_outputs(many_errors(5000, 2000), {})
    kept = json.loads(outputs["errors"])
    assert len(outputs["errors"]) <= MAX_ERRORS_OUTPUT
    assert int(outputs["errors-omitted"]) == 5000 - len(kept) > 0
    assert sum(len(value) for value in outputs.values()) < 400 * 1024


def test_reports_are_written_whole_by_rename_and_appends_keep_what_was_there(
    tmp_path: Path,
) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n")
    write_atomically(str(target), "ours\n", append=True)
    assert target.read_text() == "earlier step\nours\n"
    write_atomically(str(tmp_path / "junit.xml"), "<testsuites/>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "summary.md"]


@pytest.mark.parametrize(
    ("path", "words"),
    [("missing/dir/report.xml", "does not exist"), (".", "is a directory")],
    ids=["missing-directory", "directory"],
)
def test_a_report_path_that_cannot_be_written_is_refused_up_front(
    tmp_path: Path, path: str, words: str
) -> None:
    with pytest.raises(UsageError, match=words):
        require_writable("--junit", str(tmp_path / path))


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("2026-11-23T11:00:00+01:00", "2026-11-23T10:00:00.000Z"),
        ("2026-11-23T10:00:00", "2026-11-23T10:00:00.000Z"),
        ("1795428000000", "2026-11-23T10:00:00.000Z"),
        ("9999-12-31T23:00:00-05:00", None),  # past the last time Python can hold
        ("0001-01-01T00:30:00+01:00", None),
        ("yesterday", None),
    ],
)
def test_the_deployments_creation_time_is_written_in_utc_or_not_at_all(
    said: str, written: str | None
) -> None:
    from gate.render.json import outcome_to_dict
    from tests.builders import an_outcome

    assert outcome_to_dict(an_outcome(deployment_created_at=said))["deployment_created_at"] == (
        written
    )
