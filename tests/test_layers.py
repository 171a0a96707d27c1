"""The house's layers, as its folders show them, and the rules on who imports whom.

From the bottom: ``core`` (the vocabulary: model, errors, target descriptions, checks of
ids, URLs, durations, text) imports nothing else of the gate; ``wire`` (the bounded HTTP
transport, deadlines, the shared request budget, retries) only the core; ``waiting`` (the
engine, its schedule, progress, the fleet) the core and the wire; ``providers`` the core
and the wire, never the engine or a face; ``bake`` (the health checks read after a
deployment succeeded) the core, the wire and the providers' clients, and the engine runs
it; ``telling`` (what the gate tells the platform: a trace, GitHub deployments) the core,
the wire and the engine's seam for it; the faces (``cli``, ``render``, ``pulumi``) sit on
top, and ``emulator`` (the APIs played for tests and the demo) stands alone. The core and
the engine import no client library when they are imported.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "gate"
MAY_IMPORT = {
    "core": {"core"},
    "wire": {"core", "wire"},
    "waiting": {"core", "wire", "waiting", "bake"},
    "providers": {"core", "wire", "providers"},
    "bake": {"core", "wire", "providers", "bake"},
    "telling": {"core", "wire", "waiting", "telling"},
    "render": {"core", "waiting", "render"},
    "pulumi": {"core", "wire", "waiting", "providers", "bake", "telling", "render", "pulumi"},
    "cli": {
        "core",
        "wire",
        "waiting",
        "providers",
        "bake",
        "telling",
        "render",
        "cli",
        "emulator",
    },
    "emulator": {"emulator"},
}
FACES = ("cli", "pulumi")
CLIENT_LIBRARIES = {"httpx", "httpcore", "boto3", "botocore", "pulumi", "yaml", "grpc"}
NO_CLIENT_LIBRARY_ON_IMPORT = ("core", "waiting")


@functools.cache  # read once per run, not once per test
def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


@functools.cache
def imports(path: Path, *, at_import_only: bool = False) -> frozenset[str]:
    """Every module ``path`` imports (``from a import b``: ``a.b`` when it is a module, else
    ``a``); ``at_import_only``: those run when it is imported."""
    known = modules()
    tree = ast.parse(path.read_text())
    nodes = tree.body if at_import_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                inner = f"{node.module}.{alias.name}"
                names.add(inner if inner in known else node.module)
    return frozenset(names)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in MAY_IMPORT else None


def test_every_module_lives_in_a_layer() -> None:
    loose = sorted(
        name
        for name in modules()
        if layer_of(name) is None and name not in ("gate", "gate.__main__")
    )
    assert loose == []


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_a_layer_imports_only_what_lies_beneath_it(layer: str) -> None:
    broken = []
    for name, path in modules().items():
        if layer_of(name) != layer:
            continue
        for imported in imports(path):
            if imported.split(".")[0] != "gate" or (imported == "gate" and layer in FACES):
                continue  # a face may say the package's version
            below = layer_of(imported)
            if below is None or below not in MAY_IMPORT[layer]:
                broken.append(f"{name} imports {imported}")
    assert broken == []


@pytest.mark.parametrize("layer", NO_CLIENT_LIBRARY_ON_IMPORT)
def test_the_core_and_the_engine_import_no_client_library(layer: str) -> None:
    heavy = [
        f"{name} imports {imported}"
        for name, path in modules().items()
        if layer_of(name) == layer
        for imported in imports(path, at_import_only=True)
        if imported.split(".")[0] in CLIENT_LIBRARIES
    ]
    assert heavy == []


def test_a_providers_judge_reads_nothing() -> None:
    """A judge (``gate.providers.<api>.<version>.judge``) turns recorded answers into a
    verdict: it imports the core's vocabulary and no reader, wire or client library."""
    judges = {name: path for name, path in modules().items() if name.endswith(".judge")}
    assert len(judges) == 4
    impure = [
        f"{name} imports {imported}"
        for name, path in judges.items()
        for imported in imports(path)
        if imported.split(".")[0] in CLIENT_LIBRARIES
        or (imported.startswith("gate.") and layer_of(imported) != "core")
    ]
    assert impure == []


def test_the_emulator_is_only_started_by_the_demo() -> None:
    users = sorted(
        name
        for name, path in modules().items()
        if layer_of(name) not in ("emulator", None)
        and any(imported.startswith("gate.emulator") for imported in imports(path))
    )
    assert users == ["gate.cli.demo"]


def test_no_two_modules_import_each_other_round_a_circle() -> None:
    found = modules()
    graph = {
        name: {
            imported
            for imported in imports(path)
            if imported in found and imported != name and imported != "gate"
        }
        for name, path in found.items()
    }
    circles = []
    for start in graph:
        seen, stack = set(), [(start, (start,))]
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    circles.append(" -> ".join((*trail, start)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*trail, nxt)))
    assert circles == []


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["wait", "humanitec", "--help"], ["wait", "greengrass-v2", "--help"]],
)
def test_answering_before_any_wait_loads_no_client_library(argv: list[str]) -> None:
    """What ``gate --version`` and ``gate wait PROVIDER --help`` load is measured in bench/;
    here, that they load none of what only a wait needs (httpx, boto3, tenacity, renderers)."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom gate.cli import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{sorted(CLIENT_LIBRARIES | {'tenacity'})!r} or m.startswith('gate.render.github')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "[]"
