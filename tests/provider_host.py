"""Pulumi resource providers driven over gRPC as the engine drives them, without the CLI.

* :func:`dynamic_host` starts Pulumi's real dynamic-provider host (``python -m pulumi.dynamic``,
  the process ``pulumi up`` starts for a Python dynamic resource) and talks to its port.
* :func:`native_host` serves :class:`gate.pulumi.native.provider.GateProvider` in-process, as
  ``pulumi-resource-gate`` does, beside a fake engine that records every Log call.
* :class:`Stack` is one resource across ``pulumi up`` and ``pulumi preview`` runs, making the
  calls the engine makes, in its order: Check, then Create for a new resource; Check, Diff,
  then Update or a replace (Create, then Delete of the old) for a recorded one.

Secret values are the wire's (:func:`secret`). As the engine does, a :class:`Client` sends a
provider whose Configure said ``acceptSecrets: false`` (Pulumi's dynamic provider host) every
value unwrapped, and marks secret again each output named like a secret input.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

PROVIDER_KEY = "__provider"


class ProviderError(Exception):
    """A provider call the provider failed; ``str()`` is what the engine would show."""


class CheckFailed(Exception):
    def __init__(self, failures: list[tuple[str, str]]) -> None:
        said = (f"{prop or '(resource)'}: {reason}" for prop, reason in failures)
        super().__init__("; ".join(said))
        self.failures = failures


def secret(value: Any) -> dict[str, Any]:
    """A secret value as the engine sends and keeps it (the wire's secret signature)."""
    return dict(rpc.wrap_rpc_secret(value))


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def unwrapped(value: Any) -> Any:
    """``value`` with every secret in it unwrapped: what the engine sends a provider that does
    not accept secrets."""
    value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {key: unwrapped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrapped(item) for item in value]
    return value


def annotate_secrets(outs: dict[str, Any], ins: Mapping[str, Any]) -> None:
    """The engine's ``annotateSecrets`` for such a provider: an output named like an input that
    held a secret is made secret (two objects are compared key by key)."""
    for key, given in ins.items():
        if key not in outs:
            continue
        out = outs[key]
        both_objects = all(isinstance(v, dict) and not is_secret(v) for v in (out, given))
        if both_objects:
            annotate_secrets(out, given)
        elif not is_secret(out) and holds_secret(given):
            outs[key] = secret(out)


def holds_secret(value: Any) -> bool:
    return unwrapped(value) != value


def shown(props: Mapping[str, Any]) -> str:
    """What the engine shows of ``props`` in plain text: every secret value left out."""

    def plain_parts(value: Any) -> Any:
        if is_secret(value):
            return "[secret]"
        if isinstance(value, dict):
            return {key: plain_parts(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain_parts(item) for item in value]
        return value

    return json.dumps(plain_parts(dict(props)))


def struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(props))
    return message


def plain(message: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(message)


@dataclass
class Client:
    """One provider's gRPC methods, with plain dicts in and out."""

    stub: provider_pb2_grpc.ResourceProviderStub
    log: Path | None = None
    """Where the provider's process writes its standard error (the engine shows it)."""
    accepts_secrets: bool = True
    """What the provider's Configure answered; the engine unwraps secrets for one that does not."""

    def call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as failed:
            raise ProviderError(failed.details()) from None

    def configure(self, args: Mapping[str, Any], variables: Mapping[str, str] = {}) -> Any:
        request = provider_pb2.ConfigureRequest(
            args=struct(args), variables=dict(variables), acceptSecrets=True
        )
        answer = self.call("Configure", request)
        self.accepts_secrets = answer.acceptSecrets
        return answer

    def sent(self, props: Mapping[str, Any]) -> struct_pb2.Struct:
        """``props`` as the engine sends them to this provider."""
        return struct(props if self.accepts_secrets else unwrapped(dict(props)))

    def received(self, message: struct_pb2.Struct, ins: Mapping[str, Any]) -> dict[str, Any]:
        """A provider's answer for inputs ``ins`` as the engine keeps it."""
        outs = plain(message)
        if not self.accepts_secrets:
            annotate_secrets(outs, ins)
        return outs

    def check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.call(
            "Check", provider_pb2.CheckRequest(urn=urn, olds=self.sent(olds), news=self.sent(news))
        )
        if answer.failures:
            raise CheckFailed([(f.property, f.reason) for f in answer.failures])
        return self.received(answer.inputs, news)

    def diff(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Any:
        request = provider_pb2.DiffRequest(
            urn=urn, id=id_, olds=self.sent(olds), news=self.sent(news)
        )
        return self.call("Diff", request)

    def create(
        self, urn: str, props: Mapping[str, Any], *, timeout: float = 0, preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.CreateRequest(
            urn=urn, properties=self.sent(props), timeout=timeout, preview=preview
        )
        answer = self.call("Create", request)
        return answer.id, self.received(answer.properties, props)

    def update(
        self,
        urn: str,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        *,
        timeout: float = 0,
        preview: bool = False,
    ) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(
            urn=urn,
            id=id_,
            olds=self.sent(olds),
            news=self.sent(news),
            timeout=timeout,
            preview=preview,
        )
        return self.received(self.call("Update", request).properties, news)

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        request = provider_pb2.DeleteRequest(urn=urn, id=id_, properties=self.sent(props))
        self.call("Delete", request)

    def cancel(self) -> None:
        self.call("Cancel", empty_pb2.Empty())

    def schema(self) -> str:
        return str(self.call("GetSchema", provider_pb2.GetSchemaRequest(version=0)).schema)


@dataclass
class Stack:
    """One resource of one stack, across updates (see the module docstring)."""

    client: Client
    urn: str
    state: dict[str, Any] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    calls: list[str] = field(default_factory=list)

    def up(self, inputs: Mapping[str, Any], *, timeout: float = 0) -> dict[str, Any]:
        """``pulumi up``: the resource's outputs, or the provider's error raised."""
        checked = self._check(inputs)
        if self.state is None:
            self.id, outputs = self._create(checked, timeout)
        else:
            diff = self._diff(checked)
            if diff.changes == provider_pb2.DiffResponse.DIFF_NONE:
                self.inputs = checked
                return self.state
            if diff.replaces:
                new_id, outputs = self._create(checked, timeout)
                self.calls.append("Delete")
                self.client.delete(self.urn, self.id, self.state)
                self.id = new_id
            else:
                self.calls.append("Update")
                outputs = self.client.update(
                    self.urn, self.id, self.state, checked, timeout=timeout
                )
        self.state, self.inputs = outputs, checked
        return outputs

    def preview(self, inputs: Mapping[str, Any]) -> str:
        """``pulumi preview`` (the engine asks a provider that supports preview to Create or
        Update with preview set): what the update would do."""
        checked = self._check(inputs)
        if self.state is None:
            self.calls.append("Create(preview)")
            self.client.create(self.urn, checked, preview=True)
            return "create"
        diff = self._diff(checked)
        if diff.changes == provider_pb2.DiffResponse.DIFF_NONE:
            return "same"
        if diff.replaces:
            return "replace"
        self.calls.append("Update(preview)")
        self.client.update(self.urn, self.id, self.state, checked, preview=True)
        return "update"

    def _check(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append("Check")
        return self.client.check(self.urn, self.inputs, inputs)

    def _diff(self, checked: Mapping[str, Any]) -> Any:
        self.calls.append("Diff")
        assert self.state is not None
        return self.client.diff(self.urn, self.id, self.state, checked)

    def _create(self, checked: Mapping[str, Any], timeout: float) -> tuple[str, dict[str, Any]]:
        self.calls.append("Create")
        return self.client.create(self.urn, checked, timeout=timeout)


@contextmanager
def dynamic_host(env: Mapping[str, str]) -> Iterator[Client]:
    """Pulumi's dynamic-provider host in its own process, with ``env`` as its environment;
    what it writes to standard error is kept in the client's ``log``."""
    with tempfile.TemporaryDirectory() as kept, open(Path(kept, "stderr"), "w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],  # -u: it never flushes the port
            stdout=subprocess.PIPE,
            stderr=log,
            env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
            text=True,
        )
        try:
            assert process.stdout is not None
            port = process.stdout.readline()
            assert port.strip().isdigit(), f"the host did not start: {Path(log.name).read_text()}"
            with grpc.insecure_channel(f"127.0.0.1:{int(port)}") as channel:
                yield Client(provider_pb2_grpc.ResourceProviderStub(channel), log=Path(log.name))
        finally:
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


class FakeEngine(engine_pb2_grpc.EngineServicer):
    """The engine's Log service, recording what providers say."""

    def __init__(self) -> None:
        self.logs: list[engine_pb2.LogRequest] = []

    def Log(self, request: engine_pb2.LogRequest, context: Any) -> empty_pb2.Empty:
        self.logs.append(request)
        return empty_pb2.Empty()

    def lines(self, urn: str) -> list[str]:
        return [log.message for log in self.logs if log.urn == urn]


@contextmanager
def native_host(env: Mapping[str, str]) -> Iterator[tuple[Client, FakeEngine]]:
    """The native gate provider served as ``pulumi-resource-gate`` serves it, in this process,
    reporting to a fake engine; ``env`` stands for the environment of ``pulumi up``."""
    from gate.pulumi.native.engine_log import EngineLog
    from gate.pulumi.native.provider import GateProvider
    from gate.pulumi.native.server import start

    engine = FakeEngine()
    engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    engine_pb2_grpc.add_EngineServicer_to_server(engine, engine_server)
    engine_address = f"127.0.0.1:{engine_server.add_insecure_port('127.0.0.1:0')}"
    engine_server.start()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    log = EngineLog(engine_address)
    provider = GateProvider(log=log, env=dict(env))
    server, port = asyncio.run_coroutine_threadsafe(start(provider, engine_address), loop).result(
        timeout=30
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Client(provider_pb2_grpc.ResourceProviderStub(channel)), engine
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(None), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        log.close()
        engine_server.stop(None)
