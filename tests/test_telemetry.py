"""OpenTelemetry: one trace per run with candidate and call spans (GenAI conventions), off by default,
and a real OTLP/HTTP export to a receiver on 127.0.0.1 when OTEL_EXPORTER_OTLP_ENDPOINT is set."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from optimizer.evaluate import telemetry
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan


@pytest.fixture(autouse=True)
def reset_telemetry() -> Iterator[None]:
    telemetry.configure(None)
    yield
    telemetry.configure(None)


def small_request(**overrides) -> RunRequest:
    values = dict(task="k8s_log_analysis", template="prompt_templates/k8s_log_analysis_v1.yaml", n_examples=4, seed=1,
                  include_baseline=False, temperature=0.0)
    values.update(overrides)
    return RunRequest(**values)


def test_off_by_default_records_nothing(monkeypatch: pytest.MonkeyPatch, store, fake_client) -> None:
    for name in telemetry.ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert telemetry.start_span("probe") is None and not telemetry.enabled()
    asyncio.run(run_plan(store, plan_run(small_request()), fake_client))
    assert telemetry._sink is None  # no exporting process was started


def test_sdk_disabled_keeps_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not telemetry.enabled()


def test_one_trace_per_run_with_candidate_and_call_spans(store, fake_client) -> None:
    exporter = InMemorySpanExporter()
    telemetry.configure(SimpleSpanProcessor(exporter))
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="random", max_candidates=2, n_examples=3, seed=4))
    run_id = asyncio.run(run_plan(store, plan, fake_client))
    asyncio.run(run_plan(store, plan, fake_client, run_id=run_id + "-again"))  # all cache hits

    spans = exporter.get_finished_spans()
    runs = [span for span in spans if span.name.startswith("run ")]
    assert {span.attributes["workbench.run.id"] for span in runs} == {run_id, run_id + "-again"}
    first_trace = next(span.context.trace_id for span in runs if span.attributes["workbench.run.id"] == run_id)
    in_first = [span for span in spans if span.context.trace_id == first_trace]
    candidates = [span for span in in_first if span.name.startswith("candidate ")]
    calls = [span for span in in_first if span.name.startswith("chat ")]
    assert len(candidates) == 3 and len(calls) == 9
    run_span = next(span for span in in_first if span.name.startswith("run "))
    assert all(span.parent.span_id == run_span.context.span_id for span in candidates)
    by_candidate = {span.context.span_id: span.attributes["workbench.candidate.id"] for span in candidates}
    for call in calls:
        attributes = call.attributes
        assert by_candidate[call.parent.span_id] == attributes["workbench.candidate.id"]
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.request.model"]
        assert attributes["gen_ai.usage.input_tokens"] > 0 and attributes["gen_ai.usage.output_tokens"] > 0
        assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
        assert attributes["workbench.cached"] is False
        assert attributes["workbench.score"] >= 0.0  # a balanced contribution may exceed 1
        assert attributes["workbench.example.id"]
    stored = {(row["candidate_id"], row["example_id"]): row["overall"] for row in store.evaluation_rows(run_id)}
    assert {(c.attributes["workbench.candidate.id"], c.attributes["workbench.example.id"]): c.attributes["workbench.score"]
            for c in calls} == stored
    second_calls = [span for span in spans if span.name.startswith("chat ") and span.context.trace_id != first_trace]
    assert len(second_calls) == 9 and all(span.attributes["workbench.cached"] for span in second_calls)


class _Receiver(BaseHTTPRequestHandler):
    bodies: list[tuple[str, str, bytes]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Receiver.bodies.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_real_otlp_http_round_trip(store, fake_client, monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.bodies = []
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("OTEL_SERVICE_NAME", "workbench-test")
        run_id = asyncio.run(run_plan(store, plan_run(small_request()), fake_client))
        telemetry.flush()
    finally:
        server.shutdown()
        server.server_close()
    assert _Receiver.bodies and all(path == "/v1/traces" for path, _, _ in _Receiver.bodies)
    assert all(kind == "application/x-protobuf" for _, kind, _ in _Receiver.bodies)
    spans, services = [], set()
    for _, _, body in _Receiver.bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            services |= {a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"}
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    assert services == {"workbench-test"}
    calls = [span for span in spans if span.name.startswith("chat ")]
    assert len(calls) == 4 and len({span.trace_id for span in spans}) == 1
    keys = {attribute.key for attribute in calls[0].attributes}
    assert {"gen_ai.request.model", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
            "gen_ai.response.finish_reasons", "workbench.candidate.id", "workbench.example.id", "workbench.cached",
            "workbench.score"} <= keys
    # The spans were built and encoded in the exporting process from the engine's records: the
    # tree and the values must come through as the engine chose them.
    (run_span,) = [span for span in spans if span.name == f"run {run_id}"]
    (candidate,) = [span for span in spans if span.name.startswith("candidate ")]
    assert not run_span.parent_span_id and candidate.parent_span_id == run_span.span_id
    assert all(call.parent_span_id == candidate.span_id for call in calls)
    assert len({span.span_id for span in spans}) == len(spans) == 6
    stored = {row["example_id"]: row["overall"] for row in store.evaluation_rows(run_id)}
    for call in calls:
        values = {a.key: a.value for a in call.attributes}
        assert values["gen_ai.usage.input_tokens"].int_value > 0 and values["gen_ai.usage.output_tokens"].int_value > 0
        assert [v.string_value for v in values["gen_ai.response.finish_reasons"].array_value.values] == ["stop"]
        assert values["workbench.cached"].bool_value is False
        assert values["workbench.score"].double_value == stored[values["workbench.example.id"].string_value]
        assert call.start_time_unix_nano <= call.end_time_unix_nano


def test_a_burst_of_spans_is_exported_without_drops(monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch processor's defaults drop spans past a 2,048-span queue; the workbench's settings keep
    them at the engine's rate (5,000 spans recorded as fast as the engine can, sent in batches to the
    exporting process)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.bodies = []
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        parent = telemetry.start_span("candidate c")
        assert parent is not None
        for number in range(5000):
            span = telemetry.start_call_span(parent, model="m", candidate_id="c", example_id=str(number), params={})
            telemetry.end_call_span(span, {"prompt_tokens": 3, "completion_tokens": 2}, cached=False, score=1.0)
        parent.end()
        telemetry.flush()
    finally:
        server.shutdown()
        server.server_close()
    received = 0
    for _, _, body in _Receiver.bodies:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received += sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
    assert received == 5001
