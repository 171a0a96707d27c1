"""Each gate as an OpenTelemetry trace and metrics, sent over OTLP/HTTP (``--otel``).

One span a gated deployment, ``gate wait PROVIDER``, from the wait's start to its end, and
for a gate of many one span more, ``gate wait-all``, each target's span its child. A span
holds the deployment's semantic-convention attributes (``deployment.id``, ``.name``,
``.environment.name``, ``.status``; ``cicd.pipeline.*`` and ``vcs.*`` where GitHub Actions'
variables say them) and the gate's own under ``gate.*`` (provider, raw status, reason, reads,
lag, exit code, target ids); its status is ERROR with the reason when the gate did not pass;
its events are the status changes, the failed pipeline steps (with the last lines of their
log), the failed devices, other errors, the bake and its breaches, the rollback, each kind
bounded (:mod:`gate.telling.otel_attributes`). Two instruments, sent once at the end as
deltas (each run of the gate is a short-lived process; a backend adds them up):
``gate.deployment.duration`` (histogram, s) and ``gate.deployment.outcomes`` (counter), by
``gate.provider``, ``deployment.environment.name`` and ``gate.status``: a change failure
rate without a log pipeline.

Configured as every OpenTelemetry SDK is, from the ``env`` given (never from ``os.environ``
behind the caller's back): ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the ``_TRACES_`` and
``_METRICS_`` ones; an explicit endpoint overrides them all), ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_SERVICE_NAME`` (else ``deploy-gate``), ``OTEL_RESOURCE_ATTRIBUTES``; ``TRACEPARENT``
(W3C trace context, as CI tracing tools pass it) makes the gate's spans part of that trace.
``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` ``none`` (or ``OTEL_SDK_DISABLED=true``,
both) leaves that signal unsent; any other exporter than ``otlp`` is said in a warning, and
OTLP is sent. The gate sends OTLP over ``http/protobuf`` only: an
``OTEL_EXPORTER_OTLP_PROTOCOL`` (or ``_TRACES_``, ``_METRICS_``) of ``grpc`` or
``http/json`` is said in one warning line (:func:`otel_settings`' ``notes``), never
silently left aside.
The providers are the gate's own, never the process's global ones. (The OTLP exporter itself
still reads its TLS and compression variables, and adds any OTLP headers, from the process's
environment: a CLI's ``env`` is that one.)

It never blocks or fails the gate: spans are kept in memory and sent at :meth:`close`, which
spends at most :data:`CLOSE_BOUND` seconds on the trace and the metrics together (each sent
in a thread of its own, the exporter's retries cut off at the bound) and says a collector
that did not take them as a warning, never an exception nor an exit code. No token, OTLP
header or other secret of the environment is ever an attribute.

The SDK is imported only by :func:`otel_telling`: importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gate.core.errors import ConfigError, GateError, TransientError, UsageError
from gate.core.model import Outcome, Snapshot
from gate.core.secret import remember, scrubbed, secrets_in
from gate.core.text import one_line
from gate.core.timestamps import parse_timestamp
from gate.telling.otel_attributes import (
    KEPT_PHASE_LINES,
    KEPT_STATUS_CHANGES,
    Event,
    Kept,
    bake_events,
    deployment_attributes,
    metric_attributes,
    outcome_events,
    parse_key_values,
    pipeline_attributes,
    scrubbed_attributes,
)
from gate.waiting.reporter import Reporter
from gate.waiting.telling import Gated, Telling

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Span, Tracer

    from gate.waiting.fleet import FleetOutcome

__all__ = [
    "CLOSE_BOUND",
    "DEFAULT_ENDPOINT",
    "NEEDS_THE_SDK",
    "SERVICE_NAME",
    "OtelSettings",
    "OtelTelling",
    "otel_settings",
    "otel_telling",
]

CLOSE_BOUND = 3.0
"""The most seconds :meth:`OtelTelling.close` spends sending the trace and the metrics (at
once, each in its own thread): a collector that is down or never answers costs the gate
this much at its end, once, and a warning."""
DEFAULT_ENDPOINT = "http://localhost:4318"
"""Where OTLP/HTTP goes when nothing says otherwise, as every OpenTelemetry SDK has it."""
SERVICE_NAME = "deploy-gate"
NEEDS_THE_SDK = "--otel needs the OpenTelemetry SDK: pip install 'deploy-gate[otel]'"
DURATION_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
"""Seconds: a deployment takes from seconds to an hour."""
EXPORT_MARGIN = 1.0
"""The exporters' own timeout is the bound and this much more: a collector that never answers
is given up on by the bound, always, never by a race between the two."""
MAX_EVENTS = 256
"""The SDK's bound on a span's events, above the gate's own bounds of each kind."""
MAX_ATTRIBUTE_LENGTH = 4096
_SDK_MODULES = (
    "opentelemetry.sdk.trace",
    "opentelemetry.sdk.metrics",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
)


@dataclass(frozen=True)
class OtelSettings:
    """Where and how to send, read once from the environment (no SDK needed to read it)."""

    traces_url: str
    metrics_url: str
    headers: Mapping[str, str] = field(repr=False)
    resource: Mapping[str, str]
    pipeline: Mapping[str, str]
    """``cicd.pipeline.*`` and ``vcs.*``: on every span."""
    secrets: tuple[str, ...] = field(repr=False)
    traceparent: str = ""
    tracestate: str = ""
    traces: bool = True
    """Whether the trace is sent (``OTEL_TRACES_EXPORTER`` is not ``none``)."""
    metrics: bool = True
    """Whether the metrics are sent (``OTEL_METRICS_EXPORTER`` is not ``none``)."""
    notes: tuple[str, ...] = ()
    """What the environment asked that the gate does otherwise: warnings at close."""


def _collector_url(source: str, value: str, error: type[GateError]) -> str:
    text = value.strip()
    shown = repr(text) if len(text) <= 200 else repr(text[:199] + "…")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise error(f"{source} {shown} is not a URL with a valid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise error(f"{source} {shown} is not an http(s) URL with a host")
    if parts.username is not None or parts.password is not None:
        raise error(
            f"{source} must not hold a user or password: send credentials in "
            "OTEL_EXPORTER_OTLP_HEADERS"
        )
    if port is not None and not 0 < port < 65536:
        raise error(f"{source} {shown} has a port out of range (1-65535)")
    if parts.query or parts.fragment:
        raise error(
            f"{source} must not hold a query or fragment: send credentials in "
            "OTEL_EXPORTER_OTLP_HEADERS"
        )
    return text


def _signal_url(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}"


PROTOCOL = "http/protobuf"
"""The one OTLP protocol the gate sends (``opentelemetry-exporter-otlp-proto-http``)."""
_SIGNALS = (("traces", "TRACES"), ("metrics", "METRICS"))


def _exporters(env: Mapping[str, str]) -> tuple[dict[str, bool], list[str]]:
    """Which signals are sent (``OTEL_*_EXPORTER``, ``OTEL_SDK_DISABLED``), and what is
    said of an exporter the gate does not have."""
    disabled = env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    sent: dict[str, bool] = {}
    notes: list[str] = []
    for signal, name in _SIGNALS:
        variable = f"OTEL_{name}_EXPORTER"
        given = env.get(variable, "").strip()
        chosen = {part.strip().lower() for part in given.split(",") if part.strip()} or {"otlp"}
        sent[signal] = not disabled and chosen != {"none"}
        others = sorted(chosen - {"otlp", "none"})
        if others and sent[signal]:
            notes.append(
                f"{variable}={one_line(given, limit=100)!r}: the gate exports otlp (or none), "
                f"so the {signal} go by OTLP, not by {', '.join(others)}"
            )
    return sent, notes


def _protocol_notes(env: Mapping[str, str], sent: Mapping[str, bool]) -> list[str]:
    """One line for each protocol variable that asks for another than http/protobuf."""
    asked: dict[tuple[str, str], list[str]] = {}
    for signal, name in _SIGNALS:
        if not sent[signal]:
            continue
        variable = f"OTEL_EXPORTER_OTLP_{name}_PROTOCOL"
        if not env.get(variable, "").strip():
            variable = "OTEL_EXPORTER_OTLP_PROTOCOL"
        value = env.get(variable, "").strip()
        if value and value.lower() != PROTOCOL:
            asked.setdefault((variable, value), []).append(signal)
    return [
        f"{variable}={one_line(value, limit=100)!r} is not one the gate speaks: it sends the "
        f"{' and the '.join(signals)} over OTLP {PROTOCOL} only (a collector's port 4318); for "
        "gRPC, send to an OpenTelemetry Collector's OTLP/HTTP receiver and export gRPC from it"
        for (variable, value), signals in asked.items()
    ]


def otel_settings(env: Mapping[str, str], *, endpoint: str | None) -> OtelSettings:
    """What ``env`` (and an explicit ``endpoint``, which overrides every endpoint variable)
    say: OTLP/HTTP signal URLs, headers, resource attributes, the CI run, the secrets."""
    if endpoint:
        base = _collector_url("--otel-endpoint", endpoint, UsageError)
        traces = _signal_url(base, "v1/traces")
        metrics = _signal_url(base, "v1/metrics")
    else:
        variable = "OTEL_EXPORTER_OTLP_ENDPOINT"
        given = env.get(variable, "").strip()
        base = _collector_url(variable, given, ConfigError) if given else DEFAULT_ENDPOINT
        traces = _signal_url(base, "v1/traces")
        metrics = _signal_url(base, "v1/metrics")
        for signal, name in (("traces", "TRACES"), ("metrics", "METRICS")):
            variable = f"OTEL_EXPORTER_OTLP_{name}_ENDPOINT"
            if env.get(variable, "").strip():  # used as it is, as the specification says
                url = _collector_url(variable, env[variable], ConfigError)
                traces, metrics = (url, metrics) if signal == "traces" else (traces, url)
    headers = parse_key_values(env.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    resource = parse_key_values(env.get("OTEL_RESOURCE_ATTRIBUTES", ""))
    resource["service.name"] = (
        env.get("OTEL_SERVICE_NAME", "").strip() or resource.get("service.name") or SERVICE_NAME
    )
    sent, notes = _exporters(env)
    return OtelSettings(
        traces_url=traces,
        metrics_url=metrics,
        traces=sent["traces"],
        metrics=sent["metrics"],
        notes=(*notes, *_protocol_notes(env, sent)),
        headers=headers,
        resource=resource,
        pipeline=pipeline_attributes(env),
        secrets=tuple(secrets_in(env)),
        traceparent=env.get("TRACEPARENT", "").strip(),
        tracestate=env.get("TRACESTATE", "").strip(),
    )


def otel_telling(
    env: Mapping[str, str], *, endpoint: str | None, close_within: float = CLOSE_BOUND
) -> Telling:
    """The OpenTelemetry telling configured from ``env``; ``endpoint`` (the OTLP/HTTP
    collector's base URL) overrides ``OTEL_EXPORTER_OTLP_ENDPOINT``. A ConfigError (exit 2)
    when the SDK is not installed, or a variable cannot work; a UsageError for a bad
    ``endpoint``. ``close_within``: :data:`CLOSE_BOUND`, for tests."""
    try:
        for module in _SDK_MODULES:
            importlib.import_module(module)
    except ImportError as missing:
        raise ConfigError(NEEDS_THE_SDK) from missing
    return OtelTelling(otel_settings(env, endpoint=endpoint), close_within=close_within)


def _shown(url: str) -> str:
    """``url`` fit for a warning: scheme, host, port and path (never credentials, a query),
    the signal's own path left out."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    path = parts.path
    for signal in ("/v1/traces", "/v1/metrics"):
        path = path.removesuffix(signal)
    return f"{parts.scheme}://{host}{port}{path}"


def _now_ns() -> int:
    return time.time_ns()


def _ns(text: str | None) -> int | None:
    moment = parse_timestamp(text)
    return int(moment.timestamp() * 1_000_000_000) if moment is not None else None


class _Sending:
    """One export in a thread of its own, so that the caller waits for it only so long."""

    def __init__(self, what: str, url: str, export: Callable[[], bool], stop: Callable[[], None]):
        self.what = what
        self.url = url
        self._export = export
        self._stop = stop
        self._stopped = False
        self._lock = threading.Lock()
        self.succeeded: bool | None = None
        self.fault = ""
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gate-otel-{what}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self.succeeded = self._export()
        except Exception as fault:  # an exporter's fault is a warning, never the gate's
            self.succeeded = False
            self.fault = f"{type(fault).__name__}: {one_line(str(fault), limit=200)}"
        finally:
            self.done.set()
            self.stop()

    def stop(self) -> None:
        """Shut the exporter down (once): its retries end. Never waited for."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        with contextlib.suppress(Exception):  # shutting down is best effort
            self._stop()


@dataclass(frozen=True)
class _Heard:
    """What a gate's reporter heard, taken at once when its span is made."""

    description: str
    timeout: float | None
    first_ns: int | None
    last_ns: int | None
    retries: int
    events: list[Event]
    dropped: int


class _GateReporter:
    """Hears one gated deployment; its span is made at the end, with explicit times. Its
    calls come from the gate's thread; its end may come from another (a gate of many that
    ended a wait that never said how it ended), hence the lock."""

    def __init__(self, telling: OtelTelling, name: str, parent: Context) -> None:
        self._telling = telling
        self.name = name
        self.parent = parent
        self._lock = threading.Lock()
        self._description = ""
        self._timeout: float | None = None
        self._first_ns: int | None = None
        self._last_ns: int | None = None
        self._retries = 0
        self._changes: Kept[Event] = Kept(KEPT_STATUS_CHANGES)
        self._phases: Kept[Event] = Kept(KEPT_PHASE_LINES)
        self._ended = False

    @property
    def ended(self) -> bool:
        return self._ended

    def end(self) -> _Heard | None:
        """What it heard, the first time it is ended; None after."""
        with self._lock:
            if self._ended:
                return None
            self._ended = True
            return _Heard(
                self._description,
                self._timeout,
                self._first_ns,
                self._last_ns,
                self._retries,
                [*self._changes.items(), *self._phases.items()],
                self._changes.dropped + self._phases.dropped,
            )

    def _mark(self) -> int:
        now = _now_ns()
        self._first_ns = now if self._first_ns is None else self._first_ns
        self._last_ns = now
        return now

    def started(self, description: str, timeout: float) -> None:
        with self._lock:
            self._mark()
            self._description = description
            self._timeout = timeout

    def status_changed(self, previous: Snapshot | None, current: Snapshot, elapsed: float) -> None:
        attributes = {
            "gate.status.previous": previous.raw_status if previous else None,
            "gate.status.current": current.raw_status,
            "gate.state": current.state.value,
            "gate.progress": current.progress,
            "gate.elapsed": round(elapsed, 3),
        }
        with self._lock:
            self._changes.add(Event("gate.status_change", attributes, self._mark()))

    def heartbeat(self, current: Snapshot | None, elapsed: float, polls: int) -> None:
        pass

    def warning(self, message: str, elapsed: float) -> None:
        pass  # the outcome holds every warning

    def retrying(self, fault: TransientError, delay: float, elapsed: float) -> None:
        with self._lock:
            self._retries += 1

    def phase(self, line: str, elapsed: float) -> None:
        attributes = {"gate.phase": one_line(line, limit=1000), "gate.elapsed": round(elapsed, 3)}
        with self._lock:
            self._phases.add(Event("gate.phase", attributes, self._mark()))

    def finished(self, outcome: Outcome) -> None:
        with self._lock:
            self._mark()
        self._telling.end_gate(self, outcome)


class OtelTelling:
    """A trace and metrics of the gates it hears (see the module's docstring)."""

    def __init__(self, settings: OtelSettings, *, close_within: float = CLOSE_BOUND) -> None:
        from opentelemetry.context import Context
        from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
        from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import SpanLimits, TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON
        from opentelemetry.sdk.version import __version__ as sdk_version
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        _quiet_sdk_logs()
        self._settings = settings
        self._close_within = close_within
        remember(*settings.secrets)  # a library user's too, who never goes through the command
        version = _gate_version()
        resource = Resource(
            scrubbed_attributes(
                {
                    "telemetry.sdk.language": "python",
                    "telemetry.sdk.name": "opentelemetry",
                    "telemetry.sdk.version": sdk_version,
                    "service.version": version,
                    **settings.resource,
                }
            )
        )
        self._spans: InMemorySpanExporter = InMemorySpanExporter()
        limits = SpanLimits(
            max_attributes=128,
            max_events=MAX_EVENTS,
            max_links=8,
            max_span_attributes=128,
            max_event_attributes=32,
            max_link_attributes=8,
            max_attribute_length=MAX_ATTRIBUTE_LENGTH,
            max_span_attribute_length=MAX_ATTRIBUTE_LENGTH,
        )
        self._tracer_provider: TracerProvider = TracerProvider(
            sampler=ALWAYS_ON, resource=resource, shutdown_on_exit=False, span_limits=limits
        )
        self._tracer_provider.add_span_processor(SimpleSpanProcessor(self._spans))
        self._tracer: Tracer = self._tracer_provider.get_tracer("gate", version or None)
        delta = AggregationTemporality.DELTA
        self._reader: InMemoryMetricReader = InMemoryMetricReader(
            preferred_temporality={Counter: delta, Histogram: delta}
        )
        self._meter_provider: MeterProvider = MeterProvider(
            metric_readers=[self._reader], resource=resource, shutdown_on_exit=False
        )
        meter = self._meter_provider.get_meter("gate", version or None)
        self._duration = meter.create_histogram(
            "gate.deployment.duration",
            unit="s",
            description="How long each gated deployment took, from the wait's start to its end",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._outcomes = meter.create_counter(
            "gate.deployment.outcomes",
            unit="{deployment}",
            description="Gated deployments by how they ended",
        )
        carrier = {"traceparent": settings.traceparent, "tracestate": settings.tracestate}
        self._root: Context = (
            TraceContextTextMapPropagator().extract({k: v for k, v in carrier.items() if v})
            if settings.traceparent
            else Context()
        )
        self._lock = threading.Lock()
        self._gates: list[_GateReporter] = []
        self._release: Span | None = None
        self._release_context: Context | None = None
        self._closing = False
        self._closed = False

    # The seam (gate.waiting.telling.Telling)

    def for_gate(self, gated: Gated) -> Reporter:
        with self._lock:
            gate = _GateReporter(self, gated.name, self._release_context or self._root)
            self._gates.append(gate)
        return gate

    def release_started(self, gates: Sequence[Gated]) -> None:
        from opentelemetry.trace import set_span_in_context

        names = [gate.name for gate in gates]
        attributes = {
            **self._settings.pipeline,
            "gate.targets": len(names),
            "gate.target.names": list(names[:100]),
        }
        with self._lock:
            if self._closing:
                return
            span = self._tracer.start_span(
                "gate wait-all",
                context=self._root,
                attributes=scrubbed_attributes(attributes),
                start_time=_now_ns(),
            )
            self._release = span
            self._release_context = set_span_in_context(span, self._root)

    def release_finished(self, outcome: FleetOutcome) -> None:
        with self._lock:
            release, self._release = self._release, None
            parent, self._release_context = self._release_context, None
            gates = {gate.name: gate for gate in self._gates if gate.parent is parent}
        if parent is not None:
            for target in outcome.outcomes:  # a target whose wait never said how it ended
                gate = gates.get(target.name) or _GateReporter(self, target.name, parent)
                if not gate.ended:
                    self.end_gate(gate, target)
        if release is not None:
            self._end_release(release, outcome)

    def close(self) -> list[str]:
        try:
            return self._close()
        except Exception as fault:  # close never raises
            said = scrubbed(one_line(str(fault), limit=300))
            return [f"OpenTelemetry: nothing was sent ({type(fault).__name__}: {said})"]

    # What it does with them

    def end_gate(self, gate: _GateReporter, outcome: Outcome) -> None:
        """Make ``gate``'s span, from its start to its end, and count it (once)."""
        from opentelemetry.trace import Status, StatusCode

        if self._closed:
            return
        heard = gate.end()
        if heard is None:
            return
        attributes = {
            **self._settings.pipeline,
            **deployment_attributes(outcome, gate.name),
            "gate.description": heard.description,
            "gate.timeout": heard.timeout,
            "gate.retries": heard.retries or None,
        }
        events, dropped = outcome_events(outcome)
        attributes["gate.events.dropped"] = (dropped + heard.dropped) or None
        start = _ns(outcome.started_at) or heard.first_ns or _now_ns()
        end = _ns(outcome.finished_at) or heard.last_ns or _now_ns()
        start = min(start, heard.first_ns or start)
        end = max(end, heard.last_ns or end, start)
        span = self._tracer.start_span(
            f"gate wait {outcome.provider}",
            context=gate.parent,
            attributes=scrubbed_attributes(attributes),
            start_time=start,
        )
        timeline = list(heard.events)
        timeline += [
            Event(event.name, event.attributes, min(max(event.at_ns or end, start), end))
            for event in events
        ]
        for event in sorted(timeline, key=lambda event: event.at_ns or end):
            span.add_event(
                event.name, scrubbed_attributes(event.attributes), timestamp=event.at_ns or end
            )
        if outcome.succeeded:
            span.set_status(Status(StatusCode.OK))
        else:
            why = outcome.reason or outcome.status.value.replace("_", " ")
            span.set_status(Status(StatusCode.ERROR, scrubbed(one_line(why, limit=1000))))
        span.end(end_time=end)
        measured = scrubbed_attributes(metric_attributes(outcome))
        self._duration.record(outcome.elapsed_seconds, measured)
        self._outcomes.add(1, measured)

    def _end_release(self, span: Span, outcome: FleetOutcome) -> None:
        from opentelemetry.trace import Status, StatusCode

        attributes: dict[str, object] = {
            "gate.status": outcome.status.value,
            "gate.summary": outcome.summary,
            "gate.reason": one_line(outcome.reason, limit=1000) if outcome.reason else None,
            "gate.elapsed": outcome.elapsed_seconds,
            "gate.exit_code": outcome.exit_code,
            "gate.signal": outcome.signal,
            "gate.throttled": outcome.throttled or None,
            "error.type": None if outcome.succeeded else outcome.status.value,
        }
        if outcome.bake is not None:
            attributes["gate.bake.status"] = outcome.bake.status.value
            attributes["gate.bake.report_only"] = outcome.bake.report_only or None
            events, dropped = bake_events(outcome.bake)
            attributes["gate.events.dropped"] = dropped or None
            for event in events:
                span.add_event(event.name, scrubbed_attributes(event.attributes), event.at_ns)
        span.set_attributes(scrubbed_attributes(attributes))
        if outcome.succeeded:
            span.set_status(Status(StatusCode.OK))
        else:
            why = outcome.reason or f"{outcome.status.value.replace('_', ' ')}: {outcome.summary}"
            span.set_status(Status(StatusCode.ERROR, scrubbed(one_line(why, limit=1000))))
        span.end(end_time=_now_ns())

    def _close(self) -> list[str]:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics.export import MetricExportResult
        from opentelemetry.sdk.trace.export import SpanExportResult
        from opentelemetry.trace import Status, StatusCode

        with self._lock:
            if self._closing:
                return []
            self._closing = True
            release, self._release = self._release, None
            open_gates = [gate for gate in self._gates if not gate.ended]
        for gate in open_gates:  # started, and never said how it ended
            self._end_open_gate(gate)
        if release is not None:
            release.set_status(
                Status(StatusCode.ERROR, "the gate ended before the release said how it ended")
            )
            release.end(end_time=_now_ns())
        with self._lock:
            self._closed = True
        spans = self._spans.get_finished_spans()
        metrics = self._reader.get_metrics_data()
        self._tracer_provider.shutdown()
        self._meter_provider.shutdown()
        settings, bound = self._settings, self._close_within
        sendings: list[_Sending] = []
        if spans and settings.traces:
            traces = OTLPSpanExporter(
                endpoint=settings.traces_url,
                headers=dict(settings.headers),
                timeout=bound + EXPORT_MARGIN,
            )
            sendings.append(
                _Sending(
                    "trace",
                    settings.traces_url,
                    lambda: traces.export(spans) is SpanExportResult.SUCCESS,
                    traces.shutdown,
                )
            )
        if settings.metrics and metrics is not None and metrics.resource_metrics:
            exporter = OTLPMetricExporter(
                endpoint=settings.metrics_url,
                headers=dict(settings.headers),
                timeout=bound + EXPORT_MARGIN,
            )
            sendings.append(
                _Sending(
                    "metrics",
                    settings.metrics_url,
                    lambda: (
                        exporter.export(metrics, timeout_millis=(bound + EXPORT_MARGIN) * 1000)
                        is MetricExportResult.SUCCESS
                    ),
                    exporter.shutdown,
                )
            )
        deadline = time.monotonic() + bound
        for sending in sendings:
            sending.start()
        for sending in sendings:
            sending.done.wait(max(0.0, deadline - time.monotonic()))
        late = [sending for sending in sendings if not sending.done.is_set()]
        for sending in late:  # its retries end; never waited for
            threading.Thread(target=sending.stop, daemon=True).start()
        failed = [sending for sending in sendings if sending not in late and not sending.succeeded]
        by_collector: dict[str, list[_Sending]] = {}
        for sending in sendings:
            if sending in late or sending in failed:
                by_collector.setdefault(_shown(sending.url), []).append(sending)
        warnings = [f"OpenTelemetry: {note}" for note in settings.notes]
        for url, unsent in by_collector.items():
            what = " and the ".join(sending.what for sending in unsent)
            how = f" within {bound:.1f}s" if any(sending in late for sending in unsent) else ""
            faults = [sending.fault for sending in unsent if sending in failed]
            if faults:
                said = "; ".join(fault for fault in faults if fault)
                how += (
                    f" (it could not be reached, or refused {'them' if len(unsent) > 1 else 'it'}"
                )
                how += f": {said})" if said else ")"
            warnings.append(f"OpenTelemetry: the collector at {url} did not take the {what}{how}")
        return [scrubbed(warning) for warning in warnings]

    def _end_open_gate(self, gate: _GateReporter) -> None:
        from opentelemetry.trace import Status, StatusCode

        heard = gate.end()
        if heard is None:
            return
        attributes: dict[str, Any] = {
            **self._settings.pipeline,
            "deployment.name": gate.name,
            "gate.description": heard.description,
        }
        start = heard.first_ns or _now_ns()
        span = self._tracer.start_span(
            "gate wait",
            context=gate.parent,
            attributes=scrubbed_attributes(attributes),
            start_time=start,
        )
        for event in heard.events:
            span.add_event(event.name, scrubbed_attributes(event.attributes), event.at_ns)
        span.set_status(Status(StatusCode.ERROR, "the gate ended before its outcome was told"))
        span.end(end_time=max(start, heard.last_ns or start))


def _gate_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deploy-gate")
    except PackageNotFoundError:
        return ""


def _quiet_sdk_logs() -> None:
    """The exporters log each failed export; the gate says it once, as a warning. A handler
    of its own keeps Python's last-resort handler from printing theirs to stderr, while an
    application that configured logging still gets them."""
    sdk = logging.getLogger("opentelemetry")
    if not any(isinstance(handler, logging.NullHandler) for handler in sdk.handlers):
        sdk.addHandler(logging.NullHandler())
