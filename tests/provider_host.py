"""Pulumi resource providers driven over gRPC as the engine drives them, without the CLI.

* :func:`dynamic_host` starts Pulumi's real dynamic-provider host (``python -m pulumi.dynamic``,
  the process ``pulumi up`` starts for a Python dynamic resource) and talks to its port.
* :func:`native_host` serves :class:`gate.pulumi.native.provider.GateProvider` in-process, as
  ``pulumi-resource-gate`` does, beside a fake engine that records every Log call.
* :class:`Stack` is one resource across ``pulumi up`` and ``pulumi preview`` runs, making the
  calls the engine makes, in its order: Check, then Create for a new resource; Check, Diff,
  then Update or a replace (Create, then Delete of the old) for a recorded one.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2, provider_pb2_grpc

PROVIDER_KEY = "__provider"


class ProviderError(Exception):
    """A provider call the provider failed; ``str()`` is what the engine would show."""


class CheckFailed(Exception):
    def __init__(self, failures: list[tuple[str, str]]) -> None:
        said = (f"{prop or '(resource)'}: {reason}" for prop, reason in failures)
        super().__init__("; ".join(said))
        self.failures = failures


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

    def call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=120)
        except grpc.RpcError as failed:
            raise ProviderError(failed.details()) from None

    def configure(self, args: Mapping[str, Any], variables: Mapping[str, str] = {}) -> Any:
        request = provider_pb2.ConfigureRequest(
            args=struct(args), variables=dict(variables), acceptSecrets=True
        )
        return self.call("Configure", request)

    def check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.call(
            "Check", provider_pb2.CheckRequest(urn=urn, olds=struct(olds), news=struct(news))
        )
        if answer.failures:
            raise CheckFailed([(f.property, f.reason) for f in answer.failures])
        return plain(answer.inputs)

    def diff(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Any:
        request = provider_pb2.DiffRequest(urn=urn, id=id_, olds=struct(olds), news=struct(news))
        return self.call("Diff", request)

    def create(
        self, urn: str, props: Mapping[str, Any], *, timeout: float = 0, preview: bool = False
    ) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.CreateRequest(
            urn=urn, properties=struct(props), timeout=timeout, preview=preview
        )
        answer = self.call("Create", request)
        return answer.id, plain(answer.properties)

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
            urn=urn, id=id_, olds=struct(olds), news=struct(news), timeout=timeout, preview=preview
        )
        return plain(self.call("Update", request).properties)

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        self.call("Delete", provider_pb2.DeleteRequest(urn=urn, id=id_, properties=struct(props)))

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
    """Pulumi's dynamic-provider host in its own process, with ``env`` as its environment."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],  # -u: it never flushes the port
        stdout=subprocess.PIPE,
        env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Client(provider_pb2_grpc.ResourceProviderStub(channel))
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
