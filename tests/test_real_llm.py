"""End to end with the real embedded llama.cpp server and the real SmolLM2-135M model."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from optimizer.endpoint import model_identity
from optimizer.leaderboard import evaluations_frame, leaderboard
from optimizer.llm_client import LLMClient
from optimizer.runner import RunRequest, plan_run, run_plan

from conftest import run_cli

pytestmark = pytest.mark.real_llm


def test_embedded_server_reports_slots_and_model(real_server) -> None:
    assert real_server.kind == "llama.cpp"
    assert real_server.url.startswith("http://127.0.0.1:")
    assert httpx.get(real_server.url + "/health", timeout=5).status_code == 200

    async def probe():
        async with LLMClient(real_server.url) as client:
            return await client.server_info()

    info = asyncio.run(probe())
    assert info.total_slots == 4
    identity = model_identity(info)
    assert identity.startswith("SmolLM2-135M-Instruct.Q4_1.gguf@sha256:")


def test_two_candidates_three_examples_against_real_model(real_server, store) -> None:
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=2, n_examples=3, seed=1,
                               include_baseline=False, max_tokens=48))

    async def go():
        async with LLMClient(real_server.url) as client:
            return await run_plan(store, plan, client)

    run_id = asyncio.run(go())
    frame = evaluations_frame(store, run_id)
    assert len(frame) == 6
    assert frame["error"].isna().all()
    assert frame["completion_tokens"].between(1, 48).all()
    assert frame["raw_output"].str.len().gt(0).all()
    assert set(frame["finish_reason"]) <= {"stop", "length"}
    assert len(leaderboard(store, run_id)) == 2
    # The second identical run is served from the cache: zero model calls.
    rerun = asyncio.run(go())
    assert evaluations_frame(store, rerun)["cached"].all()


def test_cli_eval_against_real_server(real_server, tmp_path) -> None:
    result = run_cli("eval", "--template", "prompt_templates/k8s_log_analysis_v1.yaml", "--examples", "2",
                     "--url", real_server.url, "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 0, result.stderr
    assert "run " in result.stdout and "completed" in result.stdout
