"""OpenTelemetry set-up and the W3C trace context carried in event envelopes.

Exporters follow the standard OTEL_* variables: OTEL_TRACES_EXPORTER=otlp|console|none (default none locally),
OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (read by the SDK), and OTEL_PYTHON_DISABLED_INSTRUMENTATIONS
(comma-separated; `asyncpg` turns the per-statement spans off).

A span per SQL statement is the largest cost tracing adds (a profile under enrolment load: about a fifth of
enrolment's CPU, an eighth of notification's, docs/profiles.md), so statements are instrumented only when spans
go somewhere (an exporter is configured) and not listed as disabled. The trace context itself (HTTP, events,
notices) is kept either way. Without an exporter no span is recorded at all (sampler `always_off`): its ids are
still made and carried, so logs and events name their trace, but nobody would read the spans' attributes and
timings, and recording them cost up to a third of the outbox relay's CPU.

Statements make spans only inside a trace (a request, an event's processing, a delivery): one outside any is a
background loop's polling (the outbox relay, the consumers' checkpoints, the dispatchers, the metrics sampler), and
would otherwise be exported as a one-span trace, many a second on an idle system.
"""
from __future__ import annotations

import contextlib
import os

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace import sampling


def statement_spans_wanted(configured_provider: bool) -> bool:
    """Whether SQL statements get spans: someone reads the spans, and `asyncpg` is not disabled."""
    disabled = {n.strip().lower() for n in os.getenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")}
    if "asyncpg" in disabled:
        return False
    return configured_provider or os.getenv("OTEL_TRACES_EXPORTER", "none").lower() not in ("", "none")


def configure_tracing(service: str) -> None:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    configured = isinstance(trace.get_tracer_provider(), TracerProvider)  # tests install their own provider
    if not configured:
        _install_provider(service)
    if statement_spans_wanted(configured) and not AsyncPGInstrumentor().is_instrumented_by_opentelemetry:
        AsyncPGInstrumentor().instrument(tracer_provider=InsideATrace())


def _install_provider(service: str) -> None:
    exporter = os.getenv("OTEL_TRACES_EXPORTER", "none").lower()
    resource = Resource.create({"service.name": os.getenv("OTEL_SERVICE_NAME", service)})
    provider = TracerProvider(resource=resource) if exporter not in ("", "none") else _RecordingOnceExported(resource)
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        _refuse_an_exporter_not_installed()
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,  # optional extra
        )

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


class _RecordOnceExported(sampling.Sampler):
    """`always_off` until a span processor is added (then the SDK's default, parent-based always-on)."""

    def __init__(self) -> None:
        self.exported = False
        self._on = sampling.ParentBased(sampling.ALWAYS_ON)

    def should_sample(self, *args, **kwargs) -> sampling.SamplingResult:  # noqa: ANN002, ANN003 - the API's own
        return (self._on if self.exported else sampling.ALWAYS_OFF).should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return "RecordOnceExported"


class _RecordingOnceExported(TracerProvider):
    """A provider with no exporter: its spans are not recorded (their ids are still made and carried) until a span
    processor is added, e.g. by a test reading the spans in memory."""

    def __init__(self, resource: Resource) -> None:
        self._switch = _RecordOnceExported()
        super().__init__(resource=resource, sampler=self._switch)

    def add_span_processor(self, span_processor) -> None:  # noqa: ANN001 - the SDK's own
        super().add_span_processor(span_processor)
        self._switch.exported = True

    @property
    def exported(self) -> bool:
        return self._switch.exported


def spans_can_record() -> bool:
    """Whether a span started now would be recorded: not before an SDK provider is installed (a tool that replays
    events without setting tracing up, as the bench's rebuild does), nor by a provider with no exporter. Then a
    span that is not made current reaches no one, and not making it saves its trace context's extraction, the span
    and its end, per event."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return False
    return not (isinstance(provider, _RecordingOnceExported) and not provider.exported)


class InsideATrace(trace.TracerProvider):
    """The global provider's tracers, making spans only under a span already there (see the module's notes)."""

    def get_tracer(self, *args, **kwargs) -> trace.Tracer:
        return _InsideATrace(trace.get_tracer_provider().get_tracer(*args, **kwargs))


def _in_a_trace(context_: context.Context | None) -> bool:
    return trace.get_current_span(context_).get_span_context().is_valid


class _InsideATrace(trace.Tracer):
    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start_span(self, name, context=None, *args, **kwargs) -> trace.Span:  # noqa: ANN001 - the API's own
        if not _in_a_trace(context):
            return trace.INVALID_SPAN
        return self._tracer.start_span(name, context, *args, **kwargs)

    @contextlib.contextmanager
    def start_as_current_span(self, name, context=None, *args, **kwargs):  # noqa: ANN001, ANN201
        if not _in_a_trace(context):
            yield trace.INVALID_SPAN
            return
        with self._tracer.start_as_current_span(name, context, *args, **kwargs) as span:
            yield span


def _refuse_an_exporter_not_installed() -> None:
    """Only the OTLP/HTTP exporter is installed: a grpc protocol would export nothing, without a word."""
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = os.getenv(variable, "").strip()
        if protocol and protocol != "http/protobuf":
            raise SystemExit(f"{variable}={protocol}: only http/protobuf is installed (the OTLP/HTTP exporter); "
                             "point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's HTTP port, usually 4318")


def current_trace_headers() -> dict[str, str]:
    """traceparent/tracestate of the active span, to store in an event's metadata."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(traceparent: str | None, tracestate: str | None = None) -> context.Context:
    carrier = {k: v for k, v in (("traceparent", traceparent), ("tracestate", tracestate)) if v}
    return propagate.extract(carrier)
