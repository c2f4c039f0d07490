"""The Run page's live table comes from one SQL aggregate and agrees with the full leaderboard."""

from __future__ import annotations

import asyncio

import pandas as pd

from optimizer.evaluate.leaderboard import leaderboard, live_leaderboard
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan


def test_live_table_matches_the_full_leaderboard(store, fake_client, fake_llm) -> None:
    fake_llm.enqueue(400, "no labelled lines at all")  # one rejected call (stored apart), one parse failure
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="random", max_candidates=4, n_examples=12, seed=2))
    run_id = asyncio.run(run_plan(store, plan, fake_client))
    full = leaderboard(store, run_id)
    live = live_leaderboard(store, run_id)
    assert list(live["candidate_id"]) == list(full["candidate_id"])
    columns = ["rank", "overall", "score_severity", "score_action_required", "score_root_cause", "parse_failure_rate",
               "call_failures", "n", "mean_latency_s", "mean_completion_tokens", "factors"]
    pd.testing.assert_frame_equal(live[columns].reset_index(drop=True), full[columns].reset_index(drop=True),
                                  check_dtype=False, atol=1e-9)
    assert live["call_failures"].sum() == 1 and live["parse_failure_rate"].max() > 0


def test_live_table_of_a_run_with_nothing_scored_lists_its_candidates(store, fake_client) -> None:
    from optimizer.evaluate.runner import create_run
    from optimizer.serving.client import ServerInfo

    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="random", max_candidates=2, n_examples=3, seed=2))
    run_id = create_run(store, plan, ServerInfo("http://x", "m", 1, "llama.cpp"), "m")
    live = live_leaderboard(store, run_id)
    assert len(live) == 3 and live["n"].eq(0).all()
