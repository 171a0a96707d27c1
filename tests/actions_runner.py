"""What the GitHub Actions runner does with a step, modelled for tests.

Parsing follows the runner's own rules (actions/runner ``ActionCommand.cs`` and
``SetOutputFileCommand``): a ``::command`` is recognised at the start of a line after leading
whitespace; the legacy ``##[command]`` form anywhere in a line; ``::stop-commands::TOKEN``
switches parsing off until a line ``::TOKEN::``; an output file holds ``name=value`` lines or
``name<<DELIMITER`` blocks that end at the first line equal to the delimiter.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_SUPPORTED = re.compile(r"inputs\.[\w-]+|steps\.[\w-]+\.outputs\.[\w-]+")


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str
    legacy: bool = False


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def parse_commands(output: str) -> list[Command]:
    commands: list[Command] = []
    resume_token: str | None = None
    for raw in output.splitlines():
        line = raw.lstrip()
        if resume_token is not None:
            if line == f"::{resume_token}::":
                resume_token = None
            continue
        if line.startswith("::"):
            end = line.find("::", 2)
            if end < 0:
                continue
            head, data = line[2:end], line[end + 2 :]
            name, _, props = head.partition(" ")
            if name == "stop-commands":
                resume_token = data
                continue
            properties = {}
            for pair in filter(None, props.split(",")):
                key, _, value = pair.partition("=")
                properties[key] = unescape_property(value)
            commands.append(Command(name, properties, unescape_data(data)))
        elif "##[" in line:
            commands.append(Command("legacy", {}, line, legacy=True))
    return commands


def parse_output_file(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            collected = []
            while index < len(lines) and lines[index] != delimiter:
                collected.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"no end delimiter for output {name!r}")
            index += 1
            values[name] = "\n".join(collected)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def load_action(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def expand(text: str, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if not _SUPPORTED.fullmatch(expression):
            raise AssertionError(f"the test runner does not evaluate {expression!r}")
        parts = expression.split(".")
        if parts[0] == "inputs":
            return inputs[parts[1]]
        return steps.get(parts[1], {}).get(parts[3], "")

    return _EXPRESSION.sub(value, text)


@dataclass
class StepRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class ActionRun:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    files: list[Path] = field(default_factory=list)

    @property
    def returncode(self) -> int:
        return self.steps[-1].returncode

    @property
    def stdout(self) -> str:
        return "".join(step.stdout for step in self.steps)

    @property
    def stderr(self) -> str:
        return "".join(step.stderr for step in self.steps)


def step_env(
    step: dict[str, Any], inputs: dict[str, str], steps: dict[str, dict[str, str]]
) -> dict[str, str]:
    return {name: expand(str(value), inputs, steps) for name, value in step.get("env", {}).items()}


def with_defaults(action: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    unknown = set(given) - set(inputs)
    assert not unknown, f"not inputs of the action: {unknown}"
    inputs.update(given)
    return inputs


def run_action(
    action_dir: Path,
    given: dict[str, str],
    *,
    env: dict[str, str],
    runner_temp: Path,
    workspace: Path,
    popen_hook: Any = None,
) -> ActionRun:
    """Run a composite action's steps in order, as the runner does, until one fails."""
    action = load_action(action_dir / "action.yml")
    inputs = with_defaults(action, given)
    summary = workspace / "step_summary.md"
    summary.touch()
    run = ActionRun()
    step_outputs: dict[str, dict[str, str]] = {}
    for number, step in enumerate(action["runs"]["steps"]):
        assert step["shell"] == "bash"
        script = workspace / f"step-{number}.sh"
        script.write_text(step["run"])
        output_file = workspace / f"output-{number}.txt"
        output_file.touch()
        full_env = {
            **env,
            **step_env(step, inputs, step_outputs),
            "GITHUB_ACTIONS": "true",
            "GITHUB_ACTION_PATH": str(action_dir),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(runner_temp),
        }
        command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)]
        with subprocess.Popen(
            command,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=workspace,
        ) as process:
            try:
                if popen_hook is not None and step.get("id") == "gate":
                    popen_hook(process)
                stdout, stderr = process.communicate(timeout=300)
            except BaseException:
                process.kill()  # or leaving the block would wait for the step without end
                raise
        outputs = parse_output_file(output_file.read_text())
        run.steps.append(StepRun(process.returncode, stdout, stderr, outputs))
        if "id" in step:
            step_outputs[step["id"]] = outputs
        if process.returncode != 0:
            break
    run.outputs = {
        name: expand(spec["value"], inputs, step_outputs)
        for name, spec in action["outputs"].items()
    }
    run.summary = summary.read_text()
    run.files = [path for path in runner_temp.iterdir() if path.is_file()]
    run.files += [path for path in workspace.iterdir() if path.is_file()]
    return run
