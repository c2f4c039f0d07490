"""The operations features against the real embedded llama.cpp server and SmolLM2-135M, a few calls each:
the smoke check's constrained candidate parses, a pool over two URLs of one server, tracing with
real token counts, and the gate."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from optimizer.analysis.gate import run_gate
from optimizer.app.server_status import run_smoke_check, smoke_check
from optimizer.evaluate import telemetry
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.serving.client import LLMClient
from optimizer.serving.pool import EndpointPool

pytestmark = pytest.mark.real_llm


def test_smoke_check_candidate_parses_with_the_real_model(real_server) -> None:
    result = run_smoke_check(real_server.url, deadline_s=900)  # generous: shared machines decode slowly
    assert result.level == "ok", result.detail
    assert smoke_check() == result and "parsed" in result.detail


def test_pool_over_two_urls_of_one_server_and_traced_calls(real_server, store) -> None:
    exporter = InMemorySpanExporter()
    telemetry.configure(SimpleSpanProcessor(exporter))
    try:
        pool = EndpointPool([LLMClient(real_server.url), LLMClient(real_server.url.replace("127.0.0.1", "localhost"))])
        plan = plan_run(RunRequest(task="k8s_log_analysis", template="prompt_templates/k8s_log_analysis_v1.yaml",
                                   n_examples=4, include_baseline=False, max_tokens=24))

        async def go() -> str:
            async with pool:
                return await run_plan(store, plan, pool)

        run_id = asyncio.run(go())
    finally:
        telemetry.configure(None)
    run = store.get_run(run_id)
    assert run.status == "completed" and store.count_evaluations(run_id) == 4
    assert run.model_identity.startswith("SmolLM2-135M-Instruct.Q4_1.gguf@sha256:") and ", " in run.server_url
    assert sum(member.client.stats.answered for member in pool.members) == 4
    calls = [span for span in exporter.get_finished_spans() if span.name.startswith("chat ")]
    assert len(calls) == 4
    assert all(0 < span.attributes["gen_ai.usage.output_tokens"] <= 24 for span in calls)
    assert all(span.attributes["gen_ai.usage.input_tokens"] > 50 for span in calls)


def test_gate_against_the_real_model(real_server, store, workspace: Path) -> None:
    folder = workspace / "prompt_templates"
    short = (folder / "k8s_log_analysis_v1.yaml").read_text().replace("max_tokens: 96", "max_tokens: 16")
    assert "max_tokens: 16" in short
    (folder / "k8s_log_analysis_v1.yaml").write_text(short)  # a few tokens per call keep this test short
    (folder / "k8s_log_analysis_v2.yaml").write_text(short)

    async def go():
        async with LLMClient(real_server.url) as client:
            return await run_gate(store, client, "prompt_templates/k8s_log_analysis_v2.yaml", n_examples=3,
                                  splits=["validation"])

    result = asyncio.run(go())
    check = result.checks[0]
    assert check.n == 3 and check.comparison.n == 3 and check.comparison.delta == 0.0  # same prompt, cached
    assert result.passed and "too small to separate" in result.reason()
    assert json.dumps(result.reason())  # one plain paragraph
