"""A loopback OTLP/HTTP collector for the trace tests: it decodes what it is sent with the
real protobuf messages (``opentelemetry-proto``), as a collector would.

``POST /v1/traces`` and ``POST /v1/metrics`` take an ``ExportTraceServiceRequest`` /
``ExportMetricsServiceRequest`` (gzip or deflate as ``Content-Encoding`` says). With
``answer`` another status is sent back; with ``hang`` nothing is ever answered, until the
receiver stops. Decoded spans, data points and each request's headers are kept to assert on.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

__all__ = ["DataPoint", "OtlpReceiver", "ReceivedSpan", "decoded"]


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return decoded(value.kvlist_value.values)
    if kind is None:
        return None
    return getattr(value, kind)


def decoded(attributes: Iterator[KeyValue] | Any) -> dict[str, Any]:
    return {attribute.key: value_of(attribute.value) for attribute in attributes}


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    events: list[tuple[str, int, dict[str, Any]]]
    status_code: str
    status_message: str
    resource: dict[str, Any]
    scope: str

    def events_named(self, name: str) -> list[dict[str, Any]]:
        return [attributes for named, _, attributes in self.events if named == name]


@dataclass(frozen=True)
class DataPoint:
    metric: str
    unit: str
    kind: str
    attributes: dict[str, Any]
    value: float
    """A counter's value; a histogram's sum."""
    count: int
    """A histogram's count; 0 for a counter."""
    temporality: int


class OtlpReceiver:
    def __init__(self, *, answer: int = 200, hang: bool = False) -> None:
        self.answer = answer
        self.hang = hang
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.arrived = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def take(self, path: str, headers: dict[str, str], body: bytes) -> None:
        with self._lock:
            self.paths.append(path)
            self.headers.append(headers)
            if path == "/v1/traces":
                self.traces.append(ExportTraceServiceRequest.FromString(body))
            elif path == "/v1/metrics":
                self.metrics.append(ExportMetricsServiceRequest.FromString(body))
        self.arrived.set()

    def spans(self) -> list[ReceivedSpan]:
        found = []
        for request in self.traces:
            for resource_spans in request.resource_spans:
                resource = decoded(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append(
                            ReceivedSpan(
                                name=span.name,
                                trace_id=span.trace_id.hex(),
                                span_id=span.span_id.hex(),
                                parent_span_id=span.parent_span_id.hex(),
                                start_ns=span.start_time_unix_nano,
                                end_ns=span.end_time_unix_nano,
                                attributes=decoded(span.attributes),
                                events=[
                                    (event.name, event.time_unix_nano, decoded(event.attributes))
                                    for event in span.events
                                ],
                                status_code=span.status.StatusCode.Name(span.status.code),
                                status_message=span.status.message,
                                resource=resource,
                                scope=scope_spans.scope.name,
                            )
                        )
        return found

    def data_points(self) -> list[DataPoint]:
        found = []
        for request in self.metrics:
            for resource_metrics in request.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        kind = metric.WhichOneof("data")
                        if kind == "histogram":
                            found += [
                                DataPoint(
                                    metric.name,
                                    metric.unit,
                                    kind,
                                    decoded(point.attributes),
                                    point.sum,
                                    point.count,
                                    metric.histogram.aggregation_temporality,
                                )
                                for point in metric.histogram.data_points
                            ]
                        elif kind == "sum":
                            found += [
                                DataPoint(
                                    metric.name,
                                    metric.unit,
                                    kind,
                                    decoded(point.attributes),
                                    point.as_int or point.as_double,
                                    0,
                                    metric.sum.aggregation_temporality,
                                )
                                for point in metric.sum.data_points
                            ]
        return found

    def every_text(self) -> list[str]:
        """Every string the collector was sent, anywhere: attributes of resources, spans,
        events and data points, span names, statuses, event names."""
        texts: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, dict):
                for key, item in value.items():
                    texts.append(key)
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        for span in self.spans():
            texts += [span.name, span.status_message, span.scope]
            walk(span.attributes)
            walk(span.resource)
            for name, _, attributes in span.events:
                texts.append(name)
                walk(attributes)
        for point in self.data_points():
            texts.append(point.metric)
            walk(point.attributes)
        for request in self.metrics:
            for resource_metrics in request.resource_metrics:
                walk(decoded(resource_metrics.resource.attributes))
        return texts


def _handler_for(receiver: OtlpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            encoding = (self.headers.get("Content-Encoding") or "").lower()
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
            if receiver.hang:
                receiver.arrived.set()
                receiver._released.wait()
                return
            if receiver.answer == 200:
                receiver.take(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            else:
                receiver.arrived.set()
            self.send_response(receiver.answer)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler
