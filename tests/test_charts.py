"""The Compare charts are Vega-Lite specs: valid JSON (no NaN), one mark per candidate and field,
the Pareto front marked, the search curve drawn as steps."""

from __future__ import annotations

import json
import math

import pandas as pd

from optimizer.analysis.charts import factor_effect_chart, metric_bars, pareto_chart
from optimizer.analysis.search_curve import CurvePoint, score_vs_calls_chart


def test_metric_bars_keep_candidate_order_and_write_a_missing_interval_as_null() -> None:
    intervals = pd.DataFrame([
        {"candidate": "B · n=3", "field": "overall", "mean": 0.5, "low": 0.2, "high": 0.8, "n": 3},
        {"candidate": "A · n=3", "field": "overall", "mean": 0.7, "low": math.nan, "high": math.nan, "n": 1},
    ])
    spec = metric_bars(intervals)
    text = json.dumps(spec, allow_nan=False)  # raises on NaN: JSON has none and the browser would reject the chart
    assert json.loads(text)["data"]["values"][1]["low"] is None
    bars = spec["layer"][0]["encoding"]
    assert bars["color"]["sort"] == ["B · n=3", "A · n=3"] and bars["xOffset"]["field"] == "candidate"
    assert spec["layer"][1]["encoding"]["y2"] == {"field": "high"}  # the CI whisker


def test_factor_effects_one_panel_per_dimension_in_order() -> None:
    effects = pd.DataFrame([
        {"dimension": "tone", "level": "a", "mean": 0.5, "low": 0.4, "high": 0.6},
        {"dimension": "few_shot", "level": "none", "mean": 0.6, "low": 0.5, "high": 0.7},
    ])
    spec = factor_effect_chart(effects)
    assert spec["facet"]["column"]["sort"] == ["tone", "few_shot"]
    assert spec["resolve"]["scale"]["x"] == "independent"
    json.dumps(spec, allow_nan=False)


def test_pareto_chart_marks_the_front() -> None:
    table = pd.DataFrame([
        {"candidate_id": "cheap", "overall": 0.6, "mean_latency_s": 1.0},
        {"candidate_id": "best", "overall": 0.9, "mean_latency_s": 2.0},
        {"candidate_id": "dominated", "overall": 0.5, "mean_latency_s": 3.0},
        {"candidate_id": "unmeasured", "overall": 0.7, "mean_latency_s": math.nan},
    ])
    spec = pareto_chart(table, "mean_latency_s", "mean latency s")
    front = {row["candidate_id"]: row["front"] for row in spec["data"]["values"]}
    assert front == {"cheap": True, "best": True, "dominated": False}  # a row without the cost is left out
    json.dumps(spec, allow_nan=False)


def test_score_vs_calls_chart_is_a_step_line_with_the_leaders_label() -> None:
    spec = score_vs_calls_chart([CurvePoint(1, "c1", 0.5, 1), CurvePoint(4, "c2", 0.75, 2)], {"c2": "#2 c2"})
    assert spec["mark"]["interpolate"] == "step-after"
    assert [row["leader"] for row in spec["data"]["values"]] == ["c1 (n=1)", "#2 c2 (n=2)"]


def test_score_vs_calls_is_kept_in_the_store_until_the_data_change(store, fake_client, monkeypatch) -> None:
    import asyncio

    from optimizer.analysis import search_curve
    from optimizer.evaluate.reviews import save_review
    from optimizer.evaluate.runner import RunRequest, plan_run, run_plan

    run_id = asyncio.run(run_plan(store, plan_run(RunRequest(task="k8s_log_analysis", max_candidates=3, n_examples=6)), fake_client))
    computed = search_curve.score_vs_calls(store, run_id)
    assert computed and computed[-1].calls == store.count_evaluations(run_id)
    calls = []
    monkeypatch.setattr(search_curve, "compute_score_vs_calls", lambda *args: calls.append(args) or computed)
    assert search_curve.score_vs_calls(store, run_id) == computed and calls == []  # read back, not recomputed
    row = store.evaluation_rows(run_id)[0]
    save_review(store, run_id, row["candidate_id"], row["example_id"], thumb=1)  # the data version moves
    search_curve.score_vs_calls(store, run_id)
    assert len(calls) == 1
