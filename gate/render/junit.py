"""A JUnit XML report that GitLab, Jenkins and Azure Pipelines read: one test case per gated
deployment, built with ElementTree (never by pasting strings)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from gate.core.model import Outcome, OutcomeStatus
from gate.render.text import format_error

__all__ = ["junit_xml"]

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters, escaped or not: show them as ``?``."""
    return _NOT_XML.sub("?", text)


def junit_xml(outcomes: Sequence[Outcome]) -> bytes:
    failures = sum(o.status is OutcomeStatus.FAILED for o in outcomes)
    errors = sum(o.status not in (OutcomeStatus.FAILED, OutcomeStatus.SUCCEEDED) for o in outcomes)
    total_time = f"{sum(o.elapsed_seconds for o in outcomes):.3f}"
    root = ET.Element(
        "testsuites",
        name="deploy-gate",
        tests=str(len(outcomes)),
        failures=str(failures),
        errors=str(errors),
        time=total_time,
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name="deploy-gate",
        tests=str(len(outcomes)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=total_time,
        timestamp=outcomes[0].started_at if outcomes else "",
    )
    for outcome in outcomes:
        _testcase(suite, outcome)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _testcase(suite: ET.Element, outcome: Outcome) -> None:
    name = outcome.name or " ".join(f"{key}={value}" for key, value in outcome.target.items())
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"deploy-gate.{outcome.provider}",
        name=_clean(name),
        time=f"{outcome.elapsed_seconds:.3f}",
    )
    rolled = [outcome.rollback.said()] if outcome.rollback is not None else []
    if outcome.status is OutcomeStatus.SUCCEEDED:
        if rolled:  # it passed; the release it belongs to failed its bake and rolled it back
            ET.SubElement(case, "system-out").text = _clean(rolled[0])
        return
    kind = "failure" if outcome.status is OutcomeStatus.FAILED else "error"
    reason = outcome.reason or outcome.status.value
    element = ET.SubElement(
        case, kind, message=_clean(reason), type=_clean(outcome.raw_status or outcome.status.value)
    )
    lines = [reason, *rolled, *(f"- {format_error(error)}" for error in outcome.errors)]
    element.text = _clean("\n".join(lines))
