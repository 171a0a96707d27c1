"""Running Pulumi programs without the engine: ``pulumi.runtime.set_mocks`` plus, for dynamic
resources, what the dynamic provider host does with them.

For a dynamic resource the harness decodes the real serialized ``__provider`` (base64, then
dill, as ``pulumi/dynamic/__main__.py`` does), calls ``configure`` with the stack config,
then the real ``check`` and, outside preview, ``create``. A provider that captured a client,
a socket or a token shows up here as a failure to pickle or as the secret in the payload.
As the engine does for that host (it does not accept secrets), the provider is sent every
input unwrapped, and an output named like a secret input is made secret again.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import dill
import pulumi
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.settings import SETTINGS, reset_options
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from tests.provider_host import annotate_secrets, unwrapped

T = TypeVar("T")

PROVIDER_KEY = "__provider"


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str | None = None


@dataclass
class DynamicProviderHost(Mocks):
    project: str = "test-project"
    config: dict[str, str] = field(default_factory=dict)
    preview: bool = False
    resources: list[Registered] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)
    serialized_providers: list[str] = field(default_factory=list)
    first_said: list[str] = field(default_factory=list)
    """For each failure, what the dynamic provider host prints first: the message of its
    cause, taken as raised (Pulumi later re-raises a failure ``from`` itself, which
    overwrites ``__cause__`` when the failure was the RPC's own)."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        if not args.typ.startswith("pulumi-python:dynamic"):
            self.resources.append(Registered(args.typ, args.name, inputs, inputs))
            return f"{args.name}-id", inputs
        try:
            return self._dynamic(args.typ, args.name, inputs)
        except BaseException as failure:
            self.failures.append(failure)
            self.first_said.append(str(failure.__cause__ or failure))
            raise

    def _dynamic(self, typ: str, name: str, inputs: dict[str, Any]) -> tuple[str | None, dict]:
        serialized = inputs[PROVIDER_KEY]
        self.serialized_providers.append(serialized)
        provider = dill.loads(base64.b64decode(serialized))
        provider.configure(ConfigureRequest(Config(dict(self.config), self.project)))
        checked = provider.check({}, unwrapped(inputs))
        if checked.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in checked.failures)
            raise ValueError(f"check failed: {reasons}")
        checked.inputs[PROVIDER_KEY] = serialized
        if self.preview:
            self.resources.append(Registered(typ, name, inputs, {}))
            return None, {}
        result = provider.create(checked.inputs)
        outputs = dict(result.outs or {})
        outputs[PROVIDER_KEY] = serialized
        annotate_secrets(outputs, inputs)
        self.resources.append(Registered(typ, name, inputs, outputs, result.id))
        return result.id, outputs

    def call(self, args: MockCallArgs) -> dict[str, Any]:
        return {}


@contextmanager
def fresh_runtime() -> Iterator[None]:
    """Pulumi's runtime on an event loop of its own, left with nothing pending: Pulumi keeps
    its state in globals, and a task one test left pending (``set_mocks`` registers the
    stack) would otherwise be destroyed in another test's teardown, or be awaited from
    another loop."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()
        reset_options()  # and the root stack resource, whose outputs belong to this loop
        asyncio.set_event_loop(None)
        loop.close()


def install(host: DynamicProviderHost) -> None:
    pulumi.runtime.set_mocks(host, project=host.project, stack="test", preview=host.preview)
    pulumi.runtime.set_all_config(dict(host.config))


def run_program(program: Callable[[], T]) -> T:
    """Run ``program`` as the language host does: every registration awaited, the first
    failure (a failed ``check`` or ``create``) raised. Returns what ``program`` returned."""
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    returned: list[T] = []
    try:
        _sync_await(run_pulumi_func(lambda: returned.append(program())))
    except Exception as failure:
        _RAISED.append(failure)
        asyncio.get_event_loop().set_exception_handler(_unless_raised)
        raise
    return returned[0]


_RAISED: list[BaseException] = []
"""Failures :func:`run_program` raised to its test. Pulumi sets the same failure on each
output of the failed resource; nobody awaits those, so asyncio would print each one as
"Future exception was never retrieved" when they are collected, after pytest's summary."""


def _unless_raised(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    raised = context.get("exception")
    if not any(raised is failure for failure in _RAISED):
        loop.default_exception_handler(context)


def settle(*outputs: pulumi.Output[Any]) -> list[Any]:
    """The values of outputs whose resources are registered (see :func:`run_program`)."""

    async def values() -> list[Any]:
        return [await output.future() for output in outputs]

    return _sync_await(values())


def known(output: pulumi.Output[Any]) -> bool:
    return _sync_await(output.is_known())


def secret(output: pulumi.Output[Any]) -> bool:
    return _sync_await(output.is_secret())
