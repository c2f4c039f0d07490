"""The leaderboard's batch paths give the same answers as the one-at-a-time functions they replace
(what makes the pages fast on a 324 x 100 run must not change a single verdict)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.analysis.references import Reference, verdict, verdicts
from optimizer.analysis.stats import paired_comparison, paired_p_values


@pytest.mark.parametrize("n", [3, 8, 12, 13, 60, 100])
def test_batch_p_values_equal_the_single_paired_test(n: int) -> None:
    rng = np.random.default_rng(n)
    candidates = (rng.random((40, n)) < rng.uniform(0.2, 0.95, (40, 1))).astype(float)
    references = np.tile((rng.random(n) < 0.5).astype(float), (40, 1))
    means, p_values = paired_p_values(candidates, references)
    for row in range(40):
        single = paired_comparison(candidates[row], references[row])
        assert p_values[row] == single.p_value and means[row] == pytest.approx(single.delta, abs=1e-15)


def test_batch_verdicts_label_every_candidate_as_the_single_verdict_does() -> None:
    rng = np.random.default_rng(7)
    ids = [f"e{i:03d}" for i in range(50)]
    majority = Reference("majority label", {}, {i: ({}, float(rng.random() < 0.4)) for i in ids})
    constant = Reference("best constant", {}, {i: ({}, float(rng.random() < 0.5)) for i in ids})
    candidates = {f"c{k}": {i: float(rng.random() < quality) for i in ids}
                  for k, quality in enumerate(rng.uniform(0.3, 0.95, 30))}
    candidates["partial"] = {i: 1.0 for i in ids[:20]}  # scored on fewer examples: its own group
    batch = verdicts(candidates, [majority, constant])
    assert set(batch) == set(candidates)
    for candidate_id, scores in candidates.items():
        single = verdict(scores, [majority, constant])
        assert batch[candidate_id].label() == single.label() and batch[candidate_id].above == single.above
        assert batch[candidate_id].reference == single.reference and batch[candidate_id].n == single.n
    assert any(result.above for result in batch.values()) and not all(result.above for result in batch.values())


def test_run_board_is_kept_in_the_store_until_the_data_change(store, fake_client, monkeypatch) -> None:
    import asyncio

    import pandas as pd

    from optimizer.analysis import board
    from optimizer.evaluate.reviews import save_review
    from optimizer.evaluate.runner import RunRequest, plan_run, run_plan

    run_id = asyncio.run(run_plan(store, plan_run(RunRequest(task="k8s_log_analysis", max_candidates=3, n_examples=12)), fake_client))
    computed = board.run_board(store, run_id)
    assert computed["vs_trivial"].str.contains("trivial").any() and computed["is_reference"].any()
    calls = []
    monkeypatch.setattr(board, "leaderboard_with_references", lambda *args: calls.append(args) or computed)
    again = board.run_board(store, run_id)
    assert calls == []  # read back, not recomputed
    pd.testing.assert_frame_equal(again, computed, check_dtype=False)
    candidate = computed[~computed["is_reference"]]["candidate_id"].iloc[0]
    example = next(row["example_id"] for row in store.evaluation_rows(run_id) if row["candidate_id"] == candidate)
    save_review(store, run_id, candidate, example, thumb=1)
    board.run_board(store, run_id)
    assert len(calls) == 1  # a new review is new data: computed again


def test_run_summary_then_rows_of_the_shown_candidates_match_the_full_load(store, fake_client) -> None:
    import asyncio

    from optimizer.analysis.compare import (
        candidate_label, default_selection, example_table, field_intervals, load_run_data, load_run_summary, with_rows,
    )
    from optimizer.evaluate.runner import RunRequest, plan_run, run_plan

    run_id = asyncio.run(run_plan(store, plan_run(RunRequest(task="k8s_log_analysis", max_candidates=4, n_examples=8)), fake_client))
    full, summary = load_run_data(store, run_id), load_run_summary(store, run_id)
    assert summary.evaluations.empty and summary.example_ids == full.example_ids and summary.fields == full.fields
    assert summary.leaderboard["candidate_id"].tolist() == full.leaderboard["candidate_id"].tolist()
    assert summary.leaderboard["rank"].tolist() == full.leaderboard["rank"].tolist()
    shown = default_selection(summary, 3)
    assert shown == default_selection(full, 3)
    assert [candidate_label(summary, cid) for cid in full.leaderboard["candidate_id"]] == \
        [candidate_label(full, cid) for cid in full.leaderboard["candidate_id"]]
    loaded = with_rows(store, summary, shown)
    assert set(loaded.evaluations["candidate_id"]) == set(shown)
    assert example_table(loaded, shown, {}).equals(example_table(full, shown, {}))
    assert field_intervals(loaded, shown).equals(field_intervals(full, shown))
