"""The engine against the fake server: completeness, cache, faults, pause and resume."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from optimizer.errors import RunPaused
from optimizer.evaluate.leaderboard import evaluations_frame, leaderboard
from optimizer.serving.client import LLMClient
from optimizer.evaluate.runner import RunRequest, plan_run, resume_run, run_plan

from conftest import FAST_RETRY


def small_request(**overrides) -> RunRequest:
    values = dict(task="k8s_log_analysis", strategy="random", max_candidates=3, n_examples=5, seed=3)
    values.update(overrides)
    return RunRequest(**values)


def test_run_evaluates_every_pair_and_records_costs(store, fake_client, fake_llm) -> None:
    plan = plan_run(small_request())
    assert len(plan.templates) == 4  # baseline + 3 candidates
    run_id = asyncio.run(run_plan(store, plan, fake_client))
    run = store.get_run(run_id)
    assert run.status == "completed"
    assert run.model_identity == "llama.cpp:fake-model.gguf"
    frame = evaluations_frame(store, run_id)
    assert len(frame) == 20 and not frame.duplicated(["candidate_id", "example_id"]).any()
    assert frame["latency_s"].notna().all() and frame["prompt_tokens"].gt(0).all()
    assert set(frame["model_id"]) == {"fake-model"} and set(frame["finish_reason"]) == {"stop"}
    assert not frame["cached"].any()
    assert len(fake_llm.calls) == 20
    table = leaderboard(store, run_id)
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert table["overall"].is_monotonic_decreasing
    assert {"score_severity", "score_action_required", "score_root_cause", "parse_failure_rate", "mean_latency_s"} <= set(table.columns)


def test_calls_are_grouped_by_candidate_for_prefix_reuse(store, fake_client, fake_llm) -> None:
    plan = plan_run(small_request())
    asyncio.run(run_plan(store, plan, fake_client, concurrency=1))
    systems = [call["messages"][0]["content"] for call in fake_llm.calls]
    changes = sum(1 for before, after in zip(systems, systems[1:]) if before != after)
    assert changes == len(plan.templates) - 1


def test_identical_rerun_costs_zero_calls(store, fake_client, fake_llm) -> None:
    plan = plan_run(small_request())
    first = asyncio.run(run_plan(store, plan, fake_client))
    calls_after_first = len(fake_llm.calls)
    second = asyncio.run(run_plan(store, plan_run(small_request()), fake_client))
    assert len(fake_llm.calls) == calls_after_first
    frame = evaluations_frame(store, second)
    assert frame["cached"].all()
    pd_first = leaderboard(store, first)[["candidate_id", "overall"]]
    pd_second = leaderboard(store, second)[["candidate_id", "overall"]]
    assert pd_first.equals(pd_second)


def test_transport_errors_are_recorded_as_failures_and_never_cached(store, fake_client, fake_llm) -> None:
    fake_llm.enqueue(400, 400)
    plan = plan_run(small_request(max_candidates=1, n_examples=2, include_baseline=False))
    run_id = asyncio.run(run_plan(store, plan, fake_client, concurrency=1))
    # Failed calls are kept apart from scores (issue 14): no 0-score rows, a count on the leaderboard.
    assert evaluations_frame(store, run_id).empty
    failures = store.call_failures(run_id)
    assert len(failures) == 2 and all("HTTP 400" in failure["error"] for failure in failures)
    assert leaderboard(store, run_id)["call_failures"].tolist() == [2]
    assert store.db.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0] == 0
    rerun = asyncio.run(run_plan(store, plan_run(small_request(max_candidates=1, n_examples=2, include_baseline=False)), fake_client))
    assert not evaluations_frame(store, rerun)["failed"].any()


def test_parse_failures_are_counted_apart_from_wrong_answers(store, fake_client, fake_llm) -> None:
    fake_llm.enqueue("", "I cannot tell.", "Root cause: x\nSeverity: critical\nAction required: yes")
    plan = plan_run(small_request(max_candidates=1, n_examples=3, include_baseline=False))
    run_id = asyncio.run(run_plan(store, plan, fake_client, concurrency=1))
    frame = evaluations_frame(store, run_id).set_index("example_id").loc[[e.id for e in plan.examples]]
    assert list(frame["parse_error"].fillna("")) == ["empty output", "missing fields: root_cause, severity, action_required", ""]
    assert list(frame["parse_ok"]) == [False, False, True]
    assert not frame["failed"].any()
    table = leaderboard(store, run_id)
    assert table.loc[0, "parse_failure_rate"] == pytest.approx(2 / 3)


def test_server_down_pauses_then_resume_completes_without_duplicates(store, fake_llm) -> None:
    state = {"calls": 0, "down": True}
    inner = fake_llm.transport()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/chat/completions":
            state["calls"] += 1
            if state["down"] and state["calls"] > 7:
                raise httpx.ConnectError("Connection refused")
        return await inner.handle_async_request(request)

    client = LLMClient("http://fake.invalid", transport=httpx.MockTransport(handler), retry=FAST_RETRY)
    plan = plan_run(small_request())
    created: dict[str, str] = {}
    with pytest.raises(RunPaused) as info:
        asyncio.run(run_plan(store, plan, client, concurrency=2, on_created=lambda run_id, _: created.setdefault("id", run_id)))
    run_id = created["id"]
    assert f"Resume with: workbench optimize --resume {run_id}" in str(info.value)
    run = store.get_run(run_id)
    assert run.status == "paused"
    saved = store.count_evaluations(run_id)
    assert 0 < saved < 20
    state["down"] = False
    asyncio.run(resume_run(store, run_id, client))
    frame = evaluations_frame(store, run_id)
    assert len(frame) == 20 and not frame.duplicated(["candidate_id", "example_id"]).any()
    assert store.get_run(run_id).status == "completed"


def test_cancel_request_stops_the_run(store, fake_llm) -> None:
    fake_llm.delay_s = 0.05
    client = LLMClient("http://fake.invalid", transport=fake_llm.transport(), retry=FAST_RETRY)
    plan = plan_run(small_request(max_candidates=5, n_examples=10))

    def cancel_soon(run_id: str, _info: object) -> None:
        store.request_cancel(run_id)

    with pytest.raises(RunPaused, match="cancelled"):
        asyncio.run(run_plan(store, plan, client, concurrency=1, on_created=cancel_soon))
    run = store.list_runs()[0]
    assert run.status == "cancelled"
    assert store.count_evaluations(run.id) < 60


def test_random_strategy_is_seeded_and_budget_caps_calls() -> None:
    first = plan_run(small_request(max_candidates=None, max_calls=50, n_examples=10, seed=11))
    again = plan_run(small_request(max_candidates=None, max_calls=50, n_examples=10, seed=11))
    other = plan_run(small_request(max_candidates=None, max_calls=50, n_examples=10, seed=12))
    ids = [candidate_id for candidate_id, _ in first.templates]
    assert ids == [candidate_id for candidate_id, _ in again.templates]
    assert ids != [candidate_id for candidate_id, _ in other.templates]
    # --max-calls caps the whole run: the baseline's 10 calls first, then (50 - 10) // 10 candidates
    assert len(first.templates) == 1 + 4 and first.calls == 50
    grid = plan_run(small_request(strategy="grid", max_candidates=4, include_baseline=False))
    assert [t.factors for _, t in grid.templates][:2] == [
        {"tone": "expert", "constraints": "none", "output_structure": "labelled", "few_shot": "none", "reasoning": "direct"},
        {"tone": "expert", "constraints": "none", "output_structure": "labelled", "few_shot": "none", "reasoning": "cot"},
    ]


def test_successive_halving_follows_its_schedule_and_resumes_identically(store, fake_llm) -> None:
    from optimizer.search.strategies import Round, halving_schedule, planned_evaluations

    assert halving_schedule(16, 20) == [Round(16, 2), Round(8, 5), Round(4, 10), Round(2, 20)]
    assert planned_evaluations(halving_schedule(16, 20)) == 16 * 2 + 8 * 3 + 4 * 5 + 2 * 10
    request = small_request(strategy="halving", max_candidates=16, n_examples=20, seed=1)
    plan = plan_run(request)
    assert plan.calls == 96 + 20  # the schedule plus the baseline on every example
    run_id = asyncio.run(run_plan(store, plan, LLMClient("http://f", transport=fake_llm.transport())))
    frame = evaluations_frame(store, run_id)
    assert len(frame) == 116 and len(fake_llm.calls) == 116
    per_candidate = frame.groupby("candidate_id").size().sort_values(ascending=False)
    assert sorted(per_candidate.tolist(), reverse=True)[:3] == [20, 20, 20]  # 2 finalists + baseline
    assert (per_candidate == 2).sum() == 8  # half the field stopped after the first round
    table = leaderboard(store, run_id)
    assert table["n"].is_monotonic_decreasing

    # A run interrupted by a dead server resumes to exactly the same evaluations.
    state = {"calls": 0}
    inner = fake_llm.transport()

    async def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/chat/completions":
            state["calls"] += 1
            if state["calls"] > 40 and state.get("down", True):
                raise httpx.ConnectError("down")
        return await inner.handle_async_request(request)

    from optimizer.evaluate.store import RunStore

    with RunStore(store.path.with_name("other.sqlite")) as other:
        client = LLMClient("http://f", transport=httpx.MockTransport(flaky), retry=FAST_RETRY)
        created = {}
        with pytest.raises(RunPaused):
            asyncio.run(run_plan(other, plan_run(request), client, on_created=lambda rid, _: created.setdefault("id", rid)))
        state["down"] = False
        asyncio.run(resume_run(other, created["id"], client))
        resumed = evaluations_frame(other, created["id"])[["candidate_id", "example_id", "overall"]]
    original = frame[["candidate_id", "example_id", "overall"]]
    key = ["candidate_id", "example_id"]
    assert resumed.sort_values(key).reset_index(drop=True).equals(original.sort_values(key).reset_index(drop=True))
