"""OpenTelemetry traces of runs: one trace per run, a span per candidate and one per call.

Call spans follow the GenAI semantic conventions (``gen_ai.operation.name``, ``gen_ai.request.model``,
``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``, ``gen_ai.response.finish_reasons``)
and add the workbench's own ``workbench.candidate.id``, ``workbench.example.id``,
``workbench.cached`` and ``workbench.score``.

Off by default (nothing is recorded and no span object is made). Setting the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns it on with the
OTLP/HTTP exporter, which reads the other standard ``OTEL_EXPORTER_OTLP_*`` variables itself;
``OTEL_SDK_DISABLED=true`` keeps it off.

Where the work happens. At the engine's ~1,000 calls a second, making opentelemetry-sdk spans
(~28 us each) and encoding them as OTLP protobuf (~43 us) in the engine's process cost about a
quarter of its CPU. So the engine only records each span as a plain tuple (ids, times,
attributes: a few microseconds), and a child process (this file run as a script, fed batches of
tuples through a pipe by a writer thread) replays them through the SDK's ``TracerProvider``, with
the ids the engine chose, into a ``BatchSpanProcessor`` and the ``OTLPSpanExporter``. The SDK's
pipeline (span limits, processors, exporter, resource) is the standard one; it just runs in
another process. Tests and embedding code can pass their own span processor to ``configure``,
which replays the same tuples the same way in this process.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import os
import pickle
import queue
import random
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

INSTRUMENTATION_NAME = "prompt-workbench"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SEND_EVERY_SPANS = 1024
"""Spans per batch sent to the exporting process ..."""
SEND_EVERY_S = 0.5
"""... or fewer, when this long has passed since the last batch (a slow server still shows up live)."""
FLUSH_TIMEOUT_S = 30.0
KIND_INTERNAL, KIND_CLIENT = 0, 2  # opentelemetry.trace.SpanKind values
log = logging.getLogger(__name__)

# A finished span, as the engine hands it on:
# (name, trace_id, span_id, parent_span_id or 0, kind, start_ns, end_ns, attributes, error or None)
SpanRecord = tuple[str, int, int, int, int, int, int, dict[str, Any], "str | None"]

_ids = random.Random()  # its own generator: a run that seeds the global one must not repeat trace ids


def _new_id(bits: int) -> int:
    return _ids.getrandbits(bits) or 1


class Span:
    """An open span: its ids and attributes. ``end`` hands the finished record to the sink."""

    __slots__ = ("_sink", "attributes", "kind", "name", "parent_id", "span_id", "start_ns", "trace_id")

    def __init__(self, sink: _Sink, name: str, trace_id: int, parent_id: int, kind: int,
                 attributes: dict[str, Any]) -> None:
        self._sink = sink
        self.name, self.trace_id, self.parent_id, self.kind = name, trace_id, parent_id, kind
        self.span_id = _ids.getrandbits(64) or 1
        self.attributes = attributes
        self.start_ns = time.time_ns()

    def child(self, name: str, attributes: dict[str, Any], kind: int = KIND_INTERNAL) -> Span:
        return Span(self._sink, name, self.trace_id, self.span_id, kind, attributes)

    def end(self, attributes: dict[str, Any] | None = None, error: str | None = None) -> None:
        if attributes:
            self.attributes.update(attributes)
        self._sink.submit((self.name, self.trace_id, self.span_id, self.parent_id, self.kind, self.start_ns,
                           time.time_ns(), self.attributes, error))


# ---- replaying records through the SDK (in the exporting process, or here for configure()) ----

def _replayer(processor: Any, resource: Any = None) -> Any:
    """A function that replays one ``SpanRecord`` through a ``TracerProvider`` feeding ``processor``,
    with the record's own trace and span ids; and the provider (to flush and shut down)."""
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.id_generator import IdGenerator
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON
    from opentelemetry.trace import (
        NonRecordingSpan,
        SpanContext,
        SpanKind,
        Status,
        StatusCode,
        TraceFlags,
    )

    class GivenIds(IdGenerator):
        """Hands the SDK the ids the engine chose (one replay at a time, in one thread)."""
        trace_id = span_id = 0

        def generate_span_id(self) -> int:
            return self.span_id

        def generate_trace_id(self) -> int:
            return self.trace_id

        def is_trace_id_random(self) -> bool:
            return True

    ids = GivenIds()
    # Always on: the engine records whole runs, and a sampler here would keep children of dropped parents.
    provider = TracerProvider(id_generator=ids, sampler=ALWAYS_ON,
                              **({"resource": resource} if resource is not None else {}))
    provider.add_span_processor(processor)
    tracer = provider.get_tracer(INSTRUMENTATION_NAME)
    sampled = TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)
    kinds = {kind.value: kind for kind in SpanKind}
    lock = threading.Lock()

    def replay(record: SpanRecord) -> None:
        name, trace_id, span_id, parent_id, kind, start_ns, end_ns, attributes, error = record
        if parent_id:
            parent = trace.set_span_in_context(NonRecordingSpan(SpanContext(trace_id, parent_id, False, sampled)))
        else:
            parent = Context()
        with lock:
            ids.trace_id, ids.span_id = trace_id, span_id
            span = tracer.start_span(name, context=parent, kind=kinds.get(kind, SpanKind.INTERNAL),
                                     attributes=attributes, start_time=start_ns)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error[:200]))
        span.end(end_time=end_ns)

    return replay, provider


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


def _otlp_replayer() -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service = os.environ.get("OTEL_SERVICE_NAME") or INSTRUMENTATION_NAME
    return _replayer(BatchSpanProcessor(OTLPSpanExporter(), **batch_settings()),
                     Resource.create({"service.name": service}))


def export_main() -> None:
    """The exporting process: reads pickled messages from stdin (``("spans", [records])`` or
    ``("flush",)``, written only by the parent that started it), replays and exports them; answers
    each flush with a line on stdout; at end of input it exports what is left and exits."""
    replay, provider = _otlp_replayer()
    source, answers = sys.stdin.buffer, sys.stdout.buffer
    try:
        while True:
            try:
                message = pickle.load(source)
            except (EOFError, pickle.UnpicklingError):  # the parent is gone (maybe mid-batch)
                break
            if message[0] == "spans":
                for record in message[1]:
                    replay(record)
            elif message[0] == "flush":
                provider.force_flush()
                answers.write(b"flushed\n")
                answers.flush()
    finally:
        provider.shutdown()


# ---- sinks: where finished records go ----

class _Sink:
    def submit(self, record: SpanRecord) -> None:
        raise NotImplementedError

    def send(self) -> None:
        """Pass on what is buffered (without waiting for the export)."""

    def flush(self) -> None:
        """Export everything recorded so far, waiting for it."""

    def close(self) -> None:
        self.flush()


class _ReplayHere(_Sink):
    """Replays each record at once in this process, into the given span processor (tests, embedding)."""

    def __init__(self, processor: Any) -> None:
        self._replay, self._provider = _replayer(processor)

    def submit(self, record: SpanRecord) -> None:
        self._replay(record)

    def flush(self) -> None:
        self._provider.force_flush()

    def close(self) -> None:
        self._provider.shutdown()


class _ExportProcess(_Sink):
    """Buffers records and sends them in batches to a child process that replays and exports them.
    Pickling and writing happen in a writer thread, so the event loop never waits on the pipe."""

    def __init__(self) -> None:
        # This file run as a script (not ``-m``, which would import the whole optimizer package
        # first: ~0.1 s of CPU for nothing); run_path does not put its folder on sys.path.
        self._process = subprocess.Popen(
            [sys.executable, "-c", "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')",
             str(Path(__file__).resolve())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        self._buffer: list[SpanRecord] = []
        self._buffer_lock = threading.Lock()  # spans may end in more than one thread
        self._last_send = time.monotonic()
        self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._dead = False
        self._writer = threading.Thread(target=self._write, name="workbench-trace-writer", daemon=True)
        self._writer.start()

    def submit(self, record: SpanRecord) -> None:
        with self._buffer_lock:
            self._buffer.append(record)
            full = len(self._buffer) >= SEND_EVERY_SPANS
        if full or time.monotonic() - self._last_send >= SEND_EVERY_S:
            self.send()

    def send(self) -> None:
        with self._buffer_lock:
            self._last_send = time.monotonic()
            batch, self._buffer = self._buffer, []
        if batch:
            self._outbox.put(("spans", batch))

    def _write(self) -> None:
        stream = self._process.stdin
        while True:
            message = self._outbox.get()
            if message is None:
                break
            if self._dead:
                continue
            try:
                pickle.dump(message, stream, protocol=pickle.HIGHEST_PROTOCOL)
                stream.flush()
            except (BrokenPipeError, OSError, ValueError):
                self._dead = True
                log.warning("the trace exporting process is gone; spans from now on are dropped")
        try:
            stream.close()
        except OSError:
            pass

    def flush(self) -> None:
        self.send()
        if self._dead or self._process.poll() is not None:
            return
        self._outbox.put(("flush",))
        answers = self._process.stdout
        ready, _, _ = select.select([answers], [], [], FLUSH_TIMEOUT_S)
        if ready:
            answers.readline()
        else:
            log.warning("the trace exporting process did not flush within %.0f s", FLUSH_TIMEOUT_S)

    def close(self) -> None:
        self.send()
        self._outbox.put(None)  # the writer closes the pipe: the child exports the rest and exits
        self._writer.join(FLUSH_TIMEOUT_S)
        try:
            self._process.wait(FLUSH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()


_sink: _Sink | None = None
_decided = False
_current: contextvars.ContextVar[Span | None] = contextvars.ContextVar("workbench_run_span", default=None)


def configure(processor: Any = None) -> None:
    """Record into ``processor`` (an SDK ``SpanProcessor``, e.g. ``SimpleSpanProcessor`` over the
    in-memory exporter in tests) from now on, replayed in this process; ``None`` goes back to the
    environment's choice. Closes (flushing) whatever was used before."""
    global _sink, _decided
    if _sink is not None:
        _sink.close()
    _sink = _ReplayHere(processor) if processor is not None else None
    _decided = processor is not None


def enabled_by_environment() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def sink() -> _Sink | None:
    """Where spans go: the configured processor, else the exporting process if the environment asks
    (started on first use, closed at exit), else ``None`` (tracing off)."""
    global _sink, _decided
    if not _decided:
        _decided = True
        if enabled_by_environment():
            _sink = _ExportProcess()
            atexit.register(_close_at_exit, _sink)
    return _sink


def _close_at_exit(process_sink: _Sink) -> None:
    if process_sink is _sink:
        process_sink.close()


def enabled() -> bool:
    return sink() is not None


def flush() -> None:
    if _sink is not None:
        _sink.flush()


def start_span(name: str, parent: Span | None = None, attributes: dict[str, Any] | None = None,
               kind: int = KIND_INTERNAL) -> Span | None:
    """A new span under ``parent`` (a new trace when ``None``); ``None`` when tracing is off."""
    target = sink()
    if target is None:
        return None
    if parent is not None:
        return parent.child(name, attributes or {}, kind)
    return Span(target, name, _new_id(128), 0, kind, attributes or {})


def current_span() -> Span | None:
    """The run span the runner opened around this code (``None`` outside a run or when off)."""
    return _current.get()


@contextmanager
def run_span(name: str, attributes: dict[str, Any]) -> Iterator[Span | None]:
    """One trace per run: open the run's root span for the code inside (the engine hangs its
    candidate and call spans under it), end it and pass the batch on when the run leaves."""
    span = start_span(name, None, dict(attributes))
    token = _current.set(span)
    error = None
    try:
        yield span
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        _current.reset(token)
        if span is not None:
            span.end(error=error)
            span._sink.send()


class _RunTracer:
    """What ``tracer()`` returns: ``start_as_current_span`` opens a run span (see ``run_span``)."""

    def start_as_current_span(self, name: str, attributes: dict[str, Any] | None = None) -> Any:
        return run_span(name, attributes or {})


def tracer() -> _RunTracer:
    return _RunTracer()


REQUEST_ATTRIBUTES = (("temperature", "gen_ai.request.temperature"), ("max_tokens", "gen_ai.request.max_tokens"),
                      ("top_p", "gen_ai.request.top_p"), ("seed", "gen_ai.request.seed"))


def start_call_span(parent: Span | None, *, model: str, candidate_id: str, example_id: str,
                    params: dict[str, Any]) -> Span | None:
    """A call's span under its candidate's span, the request attributes set at creation."""
    if parent is None:
        return None
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "workbench.candidate.id": candidate_id,
        "workbench.example.id": example_id,
    }
    for key, attribute in REQUEST_ATTRIBUTES:
        value = params.get(key)
        if value is not None and value.__class__ in (int, float):
            attributes[attribute] = value
    return parent.child(f"chat {model}", attributes, KIND_CLIENT)


def end_call_span(span: Span | None, payload: dict[str, Any] | None, *, cached: bool, score: float | None,
                  error: str | None = None) -> None:
    if span is None:
        return
    attributes = span.attributes
    attributes["workbench.cached"] = cached
    if payload is not None:
        model = payload.get("model")
        if model:
            attributes["gen_ai.response.model"] = model if model.__class__ is str else str(model)
        tokens = payload.get("prompt_tokens")
        if tokens.__class__ is int:
            attributes["gen_ai.usage.input_tokens"] = tokens
        tokens = payload.get("completion_tokens")
        if tokens.__class__ is int:
            attributes["gen_ai.usage.output_tokens"] = tokens
        reason = payload.get("finish_reason")
        if reason:
            attributes["gen_ai.response.finish_reasons"] = (reason if reason.__class__ is str else str(reason),)
    if score is not None:
        attributes["workbench.score"] = float(score)
    if error is not None:
        attributes["error.type"] = error.split(":", 1)[0][:80]
    span.end(None, error)


if __name__ == "__main__":
    export_main()
