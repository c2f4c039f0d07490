"""Run vs run: the same candidate in two runs (two models), paired on the examples both scored."""

from __future__ import annotations

import asyncio

import pytest
from fake_openai import FakeLLM

from optimizer.analysis.run_vs_run import run_vs_run, shared_candidates
from optimizer.config.paths import default_store_path
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.evaluate.store import RunStore
from optimizer.serving.client import LLMClient

from conftest import FAST_RETRY, GOLDEN_K8S, open_page


class ConstantLLM(FakeLLM):
    """A weaker "model": the same answer to everything."""

    def reply_text(self, body: dict) -> str:
        return "Root cause: unknown\nSeverity: info\nAction required: no"


@pytest.fixture
def two_models(fake_client) -> tuple[str, str, list[str]]:
    weak = ConstantLLM(GOLDEN_K8S, model="weak-model", model_path="/models/weak-model.gguf")
    weak_client = LLMClient("http://weak.invalid", transport=weak.transport(), retry=FAST_RETRY, request_deadline_s=5)
    with RunStore(default_store_path()) as store:
        plan_a = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=2, n_examples=8))
        run_a = asyncio.run(run_plan(store, plan_a, fake_client))
        plan_b = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=2, n_examples=5))
        run_b = asyncio.run(run_plan(store, plan_b, weak_client))
        return run_a, run_b, [example.id for example in plan_b.examples]


def test_same_candidate_paired_on_shared_examples(two_models) -> None:
    run_a, run_b, b_examples = two_models
    with RunStore(default_store_path()) as store:
        shared = shared_candidates(store, run_a, run_b)
        assert len(shared) == 3  # two grid candidates and the baseline, same prompts in both runs
        result = run_vs_run(store, run_a, run_b, shared[0])
        a_rows = {row["example_id"]: row for row in store.evaluation_rows(run_a) if row["candidate_id"] == shared[0]}
        b_rows = {row["example_id"]: row for row in store.evaluation_rows(run_b) if row["candidate_id"] == shared[0]}
    assert result.comparison.n == len(set(a_rows) & set(b_rows)) == 5 and result.only_a == 3 and result.only_b == 0
    expected_delta = sum(b_rows[e]["overall"] - a_rows[e]["overall"] for e in b_examples) / 5
    assert result.comparison.delta == pytest.approx(expected_delta)
    assert result.examples["output B"].str.contains("Root cause: unknown").all()
    assert set(result.fields["field"]) == {"overall", "root_cause", "severity", "action_required"}
    assert "over 5 paired examples" in result.sentence() and "3 examples only in A" in result.sentence()


def test_run_vs_run_page(two_models) -> None:
    run_a, run_b, _ = two_models
    app = open_page("views/run_vs_run.py")
    app.selectbox(key="rvr_a").set_value(run_a).run()
    app.selectbox(key="rvr_b").set_value(run_b).run()
    assert not app.exception
    assert any("Run B vs run A" in markdown.value and "over 5 paired examples" in markdown.value for markdown in app.markdown)
    assert any("weak-model" in caption.value for caption in app.caption)
    examples = next(frame.value for frame in app.dataframe if "output A" in frame.value)
    assert len(examples) == 5
