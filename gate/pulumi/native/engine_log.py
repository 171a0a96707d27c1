"""Progress lines to the Pulumi engine, each scoped to the resource it is about."""

from __future__ import annotations

import contextlib

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

__all__ = ["EngineLog"]


class EngineLog:
    """The engine's Log service at ``address`` (the provider's first argument); without an
    address (a provider run by hand), lines go nowhere."""

    def __init__(self, address: str | None) -> None:
        self._channel = grpc.insecure_channel(address) if address else None
        self._engine = engine_pb2_grpc.EngineStub(self._channel) if self._channel else None

    def say(self, urn: str, line: str) -> None:
        if self._engine is None:
            return
        request = engine_pb2.LogRequest(severity=engine_pb2.INFO, message=line, urn=urn)
        with contextlib.suppress(grpc.RpcError):  # a lost progress line must not fail the gate
            self._engine.Log(request, timeout=10)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
