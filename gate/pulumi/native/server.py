"""The ``pulumi-resource-gate`` plugin: the gate provider as a gRPC server for the engine.

The SDK's servicer (``pulumi.provider.experimental.server``) does the protocol. Create and
Update are served here so that a gate that does not pass fails its resource with the gate's
message alone; the SDK's own handler would append a Python stack trace to it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from typing import Any

import grpc
import grpc.aio
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import CreateRequest, UpdateRequest
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime import proto
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from gate import __version__
from gate.pulumi.native.engine_log import EngineLog
from gate.pulumi.native.provider import GateProvider
from gate.pulumi.outcomes import DeploymentGateFailed

__all__ = ["GateServicer", "main", "start"]


class GateServicer(ProviderServicer):
    async def Create(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            response = await self._provider.create(
                CreateRequest(
                    request.urn,
                    PropertyValue.unmarshal_map(request.properties),
                    request.timeout,
                    request.preview,
                )
            )
        except DeploymentGateFailed as failed:
            await context.abort(grpc.StatusCode.UNKNOWN, str(failed))
        return proto.CreateResponse(
            id=response.resource_id or "", properties=PropertyValue.marshal_map(response.properties)
        )

    async def Update(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            response = await self._provider.update(
                UpdateRequest(
                    request.urn,
                    request.id,
                    PropertyValue.unmarshal_map(request.olds),
                    PropertyValue.unmarshal_map(request.news),
                    timeout=request.timeout,
                    ignore_changes=list(request.ignoreChanges),
                    preview=request.preview,
                )
            )
        except DeploymentGateFailed as failed:
            await context.abort(grpc.StatusCode.UNKNOWN, str(failed))
        return proto.UpdateResponse(properties=PropertyValue.marshal_map(response.properties))


async def start(provider: GateProvider, engine_address: str) -> tuple[grpc.aio.Server, int]:
    """Serve ``provider`` on a free loopback port; returns the started server and its port."""
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    servicer = GateServicer([engine_address], __version__, provider, engine_address)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


def plugin_arguments(argv: list[str]) -> argparse.Namespace:
    """What the engine passes a plugin: its own flags (``--tracing ADDR`` when tracing is on,
    ``--logtostderr``, ``-v=N``), then its address; an unknown flag is passed over."""
    parser = argparse.ArgumentParser(prog="pulumi-resource-gate", description=__doc__)
    parser.add_argument("--tracing", help="where the engine collects traces (not used)")
    parser.add_argument("--logtostderr", action="store_true", help="(not used)")
    parser.add_argument("-v", dest="verbosity", help="(not used)")
    parser.add_argument("engine", help="the Pulumi engine's address")
    known, _ = parser.parse_known_args(argv)
    return known


def main(argv: list[str] | None = None) -> None:
    """The plugin's entry point: the engine starts it with its own address and reads the
    port from the first line of standard output."""
    known = plugin_arguments(sys.argv[1:] if argv is None else argv)

    async def serve() -> None:
        log = EngineLog(known.engine)
        server, port = await start(GateProvider(log=log), known.engine)
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        try:
            await server.wait_for_termination()
        finally:
            log.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
