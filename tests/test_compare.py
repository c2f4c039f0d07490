"""Comparison math: diffs, intervals, paired tests, factor effects and the Pareto front."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from optimizer.analysis.compare import (
    default_selection, example_table, factor_effects, field_intervals, filter_examples, load_run_data, paired_against,
    pareto_front,
)
from optimizer.analysis.diffing import prompt_diff_html, word_diff_html
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.analysis.stats import bootstrap_ci, paired_comparison


def test_word_diff_marks_removed_and_added_words_and_escapes_html() -> None:
    html = word_diff_html("Severity: <info> now", "Severity: <critical> now")
    assert '<del class="diff-del"' in html and "&lt;info&gt; </del>" in html
    assert "&lt;critical&gt; </ins>" in html and "<critical>" not in html


def test_prompt_diff_pairs_lines_then_marks_words_inside_changed_lines() -> None:
    reference = "You are an expert.\nAnswer in this format:\nSeverity: <info>\nLogs follow."
    text = "You are an expert.\nAnswer in exactly this format:\nCompletely unrelated instruction about tone\nLogs follow.\nExtra line"
    rendered = prompt_diff_html(reference, text)
    lines = rendered.split('<div class="diff-line ')[1:]
    kinds = [line.split('"', 1)[0] for line in lines]
    # unchanged, changed in place (word marks inside), a replaced line (removed + added), unchanged, added
    assert kinds == ["diff-same", "diff-changed", "diff-removed", "diff-added", "diff-same", "diff-added"], kinds
    assert '<ins class="diff-ins"' in lines[1] and "exactly" in lines[1] and "format:" in lines[1]
    assert "&lt;info&gt;" in lines[2] and "<info>" not in rendered  # escaped
    # The reference against itself: the same frame, only plain lines.
    same = prompt_diff_html(reference, reference)
    assert same.startswith('<div class="prompt-diff"') and "diff-ins" not in same and same.count("diff-same") == 4


def test_bootstrap_ci_brackets_the_mean_and_paired_test_detects_a_real_gain() -> None:
    interval = bootstrap_ci([0.0, 1.0] * 50)
    assert interval.low < interval.mean == 0.5 < interval.high
    better = paired_comparison([1.0] * 40 + [0.0] * 10, [0.0] * 10 + [1.0] * 20 + [0.0] * 20)
    assert better.delta == pytest.approx(0.4) and better.low > 0 and better.p_value < 0.01
    assert better.sentence().startswith("+40.0 points overall, 95% CI [+")
    same = paired_comparison([1.0, 0.0] * 20, [0.0, 1.0] * 20)
    assert same.p_value > 0.5


def test_pareto_front_keeps_only_undominated_points() -> None:
    table = pd.DataFrame({"cost": [10, 20, 30, 15, 40], "overall": [0.5, 0.7, 0.9, 0.4, 0.9]})
    assert pareto_front(table, "cost").tolist() == [True, True, True, False, False]


def test_run_analysis_on_a_stored_run(store, fake_client) -> None:
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="random", max_candidates=12, n_examples=10, seed=3))
    run_id = asyncio.run(run_plan(store, plan, fake_client))
    data = load_run_data(store, run_id)
    selection = default_selection(data, 3)
    assert selection[0] == plan.baseline_id and len(selection) == 3
    intervals = field_intervals(data, selection)
    assert set(intervals["field"]) == {"overall", "root_cause", "severity", "action_required"}
    assert (intervals["low"] <= intervals["mean"]).all() and (intervals["mean"] <= intervals["high"]).all()
    comparison = paired_against(data, selection[1], selection[0])
    assert comparison.n == 10
    table = example_table(data, selection, {})
    assert len(table) == 10
    disagree = filter_examples(table, "only where they disagree")
    assert disagree["disagree"].all() and len(disagree) <= 10
    effects = factor_effects(data)
    assert set(effects["dimension"]) == {"tone", "constraints", "output_structure", "few_shot", "reasoning"}
    counted = effects.groupby("dimension")["candidates"].sum()
    assert (counted == 12).all()  # every non-baseline candidate counted once per dimension


def test_board_filters_and_pareto_members_come_from_the_core() -> None:
    import pandas as pd

    from optimizer.analysis.compare import filter_by_levels, pareto_members

    board = pd.DataFrame({
        "candidate_id": ["a", "b", "c", "d"],
        "overall": [0.9, 0.8, 0.5, None],
        "mean_completion_tokens": [40.0, 20.0, 10.0, 5.0],
        "tone": ["neutral", "terse", "terse", "neutral"],
    })
    assert filter_by_levels(board, {"tone": ["terse"]})["candidate_id"].tolist() == ["b", "c"]
    assert filter_by_levels(board, {"tone": []})["candidate_id"].tolist() == ["a", "b", "c", "d"]
    # every candidate here trades tokens for quality; "d" has no score and is left out
    assert pareto_members(board, "mean_completion_tokens") == ["a", "b", "c"]
    worse = pd.concat([board, pd.DataFrame({"candidate_id": ["e"], "overall": [0.4], "mean_completion_tokens": [30.0], "tone": ["x"]})])
    assert "e" not in pareto_members(worse, "mean_completion_tokens")
