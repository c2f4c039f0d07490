"""OpenTelemetry traces of runs: one trace per run, a span per candidate and one per call.

Call spans follow the GenAI semantic conventions (``gen_ai.operation.name``, ``gen_ai.request.model``,
``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``, ``gen_ai.response.finish_reasons``)
and add the workbench's own ``workbench.candidate.id``, ``workbench.example.id``,
``workbench.cached`` and ``workbench.score``.

Off by default (a no-op tracer, nothing recorded). Setting the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns it on with the
OTLP/HTTP exporter, which reads the other standard ``OTEL_EXPORTER_OTLP_*`` variables itself.
The provider is the workbench's own, not the process-global one, so embedding code keeps its own.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode, Tracer

INSTRUMENTATION_NAME = "prompt-workbench"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_provider: Any = None
_tracer: Tracer | None = None


def configure(provider: Any = None) -> None:
    """Use ``provider`` (a ``TracerProvider``, e.g. with an in-memory exporter in tests) from now on;
    ``None`` goes back to the environment's choice."""
    global _provider, _tracer
    _provider, _tracer = provider, None


def enabled_by_environment() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def _provider_from_environment() -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service = os.environ.get("OTEL_SERVICE_NAME") or INSTRUMENTATION_NAME
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(), **batch_settings()))
    atexit.register(provider.shutdown)  # flush what is batched when the command ends
    return provider


def batch_settings() -> dict[str, int]:
    """The batch processor's defaults (a 2,048-span queue flushed every 5 s) drop spans at the
    engine's ~1,000 calls a second; these keep them, unless the standard ``OTEL_BSP_*`` say otherwise."""
    settings = {}
    if not os.environ.get("OTEL_BSP_MAX_QUEUE_SIZE"):
        settings["max_queue_size"] = 65_536
    if not os.environ.get("OTEL_BSP_SCHEDULE_DELAY"):
        settings["schedule_delay_millis"] = 1_000
    if not os.environ.get("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"):
        settings["max_export_batch_size"] = 4_096
    return settings


def tracer() -> Tracer:
    """The tracer runs use: the configured provider's, else OTLP/HTTP if the environment asks, else no-op."""
    global _provider, _tracer
    if _tracer is None:
        if _provider is None and enabled_by_environment():
            _provider = _provider_from_environment()
        _tracer = _provider.get_tracer(INSTRUMENTATION_NAME) if _provider is not None else trace.NoOpTracer()
    return _tracer


def flush() -> None:
    if _provider is not None and hasattr(_provider, "force_flush"):
        _provider.force_flush()


def child_context(span: Span) -> Context:
    return trace.set_span_in_context(span)


REQUEST_ATTRIBUTES = (("temperature", "gen_ai.request.temperature"), ("max_tokens", "gen_ai.request.max_tokens"),
                      ("top_p", "gen_ai.request.top_p"), ("seed", "gen_ai.request.seed"))


def start_call_span(parent: Context | None, *, model: str, candidate_id: str, example_id: str,
                    params: dict[str, Any]) -> Span:
    """A call's span, its request attributes set at creation (one attribute set, not one per key)."""
    active = tracer()
    if isinstance(active, trace.NoOpTracer):
        return trace.INVALID_SPAN
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "workbench.candidate.id": candidate_id,
        "workbench.example.id": example_id,
    }
    for key, attribute in REQUEST_ATTRIBUTES:
        value = params.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attributes[attribute] = value
    return active.start_span(f"chat {model}", context=parent, kind=trace.SpanKind.CLIENT, attributes=attributes)


def end_call_span(span: Span, payload: dict[str, Any] | None, *, cached: bool, score: float | None,
                  error: str | None = None) -> None:
    if not span.is_recording():
        return
    attributes: dict[str, Any] = {"workbench.cached": cached}
    if payload is not None:
        if payload.get("model"):
            attributes["gen_ai.response.model"] = str(payload["model"])
        if payload.get("prompt_tokens") is not None:
            attributes["gen_ai.usage.input_tokens"] = int(payload["prompt_tokens"])
        if payload.get("completion_tokens") is not None:
            attributes["gen_ai.usage.output_tokens"] = int(payload["completion_tokens"])
        if payload.get("finish_reason"):
            attributes["gen_ai.response.finish_reasons"] = [str(payload["finish_reason"])]
    if score is not None:
        attributes["workbench.score"] = float(score)
    if error is not None:
        attributes["error.type"] = error.split(":", 1)[0][:80]
        span.set_status(Status(StatusCode.ERROR, error[:200]))
    span.set_attributes(attributes)
    span.end()
