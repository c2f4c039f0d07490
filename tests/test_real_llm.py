"""End to end with the real embedded llama.cpp server and the real SmolLM2-135M model."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from optimizer.serving.endpoint import model_identity
from optimizer.evaluate.leaderboard import evaluations_frame, leaderboard
from optimizer.serving.client import LLMClient
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.evaluate.store import RunStore

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
    store_path = tmp_path / "s.sqlite"
    result = run_cli("eval", "--template", "prompt_templates/k8s_log_analysis_v1.yaml", "--examples", "2",
                     "--url", real_server.url, "--store", str(store_path))
    assert result.returncode == 0, result.stderr
    with RunStore(store_path) as store:
        run = store.list_runs()[0]
        frame = evaluations_frame(store, run.id)
    # the CLI's run is stored complete: two real model answers, with tokens, latency and the model's identity
    assert run.status == "completed" and run.strategy == "template" and len(frame) == 2
    assert frame["error"].isna().all() and frame["completion_tokens"].gt(0).all() and frame["latency_s"].gt(0).all()
    assert run.model_identity.endswith(".gguf@sha256:" + run.model_identity[-16:]) and len(run.model_identity.split("@sha256:")[1]) == 16
    assert f"run {run.id}" in result.stdout


def test_export_round_trip_reproduces_the_score_with_the_real_model(real_server, tmp_path) -> None:
    import subprocess

    from optimizer.prompts.versions import load_prompt

    repo = tmp_path / "repo"
    (repo / "prompt_templates").mkdir(parents=True)
    for command in (["init", "-q", "-b", "main"], ["config", "user.email", "t@example.com"], ["config", "user.name", "T"],
                    ["commit", "-q", "--allow-empty", "-m", "init"]):
        subprocess.run(["git", "-C", str(repo), *command], check=True)
    store_path = str(tmp_path / "s.sqlite")
    optimized = run_cli("optimize", "--task", "k8s_log_analysis", "--strategy", "grid", "--candidates", "1",
                        "--examples", "2", "--max-tokens", "40", "--url", real_server.url, "--store", store_path)
    assert optimized.returncode == 0, optimized.stderr
    run_id = optimized.stdout.split("run ", 2)[1].split(":")[0]
    exported = run_cli("export", run_id, "--repo", str(repo), "--current-branch", "--allow-partial", "--store", store_path)
    assert exported.returncode == 0, exported.stderr
    template = load_prompt("k8s_log_analysis", root=repo)
    assert template.id == "k8s_log_analysis_v1" and template.model_defaults["max_tokens"] == 40
    assert template.evaluation["provenance"]["model"].startswith("SmolLM2-135M-Instruct.Q4_1.gguf@sha256:")
    from conftest import ROOT

    local_copy = ROOT / "prompt_templates" / f"_roundtrip_real_{run_id}.yaml"
    local_copy.write_text((repo / "prompt_templates/k8s_log_analysis_v1.yaml").read_text())
    try:
        evaluated = run_cli("eval", "--template", str(local_copy.relative_to(ROOT)), "--url", real_server.url, "--store", store_path)
    finally:
        local_copy.unlink()
    assert evaluated.returncode == 0, evaluated.stderr
    assert "cached 2" in evaluated.stderr
    score = template.evaluation["scores"]["overall"]["mean"]
    assert f"{score:.3f}" in next(line for line in evaluated.stdout.splitlines() if line.strip().startswith("1 "))
