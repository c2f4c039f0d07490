"""From stored evaluations to tables: the per-candidate leaderboard and the per-example frame.

Pages and the CLI both read these frames; nothing here draws.
"""

from __future__ import annotations

import json

import pandas as pd

from .store import RunStore


def evaluations_frame(store: RunStore, run_id: str) -> pd.DataFrame:
    """One row per evaluation, with one ``score_<field>`` column per output field."""
    rows = store.evaluation_rows(run_id)
    if not rows:
        return pd.DataFrame(
            columns=["candidate_id", "example_id", "overall", "parse_ok", "failed", "latency_s", "completion_tokens", "cached"]
        )
    frame = pd.DataFrame(rows)
    scores = pd.DataFrame([json.loads(text) for text in frame.pop("field_scores_json")], index=frame.index)
    frame = frame.join(scores.add_prefix("score_"))
    frame["failed"] = frame["error"].notna()
    frame["parse_ok"] = frame["parse_error"].isna() & ~frame["failed"]
    frame["cached"] = frame["cached"].astype(bool)
    return frame


def leaderboard(store: RunStore, run_id: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per candidate: overall and per-field means, parse-failure rate, failures, latency, tokens.

    Sorted by overall score (best first); ties keep the run's candidate order.
    """
    frame = evaluations_frame(store, run_id) if frame is None else frame
    candidates = store.candidates(run_id)
    meta = pd.DataFrame(
        {
            "candidate_id": [row["candidate_id"] for row in candidates],
            "position": [row["position"] for row in candidates],
            "factors": [", ".join(f"{k}={v}" for k, v in row["factors"].items()) for row in candidates],
        }
    )
    if frame.empty:
        return meta.assign(n=0, overall=float("nan"))
    score_columns = [column for column in frame.columns if column.startswith("score_")]
    grouped = frame.groupby("candidate_id")
    table = grouped[["overall", *score_columns]].mean()
    table["parse_failure_rate"] = 1.0 - grouped["parse_ok"].mean()
    table["call_failures"] = grouped["failed"].sum().astype(int)
    table["mean_latency_s"] = grouped["latency_s"].mean()
    table["mean_completion_tokens"] = grouped["completion_tokens"].mean()
    table["n"] = grouped.size()
    table = table.reset_index().merge(meta, on="candidate_id", how="left")
    # In multi-round runs (successive halving) a candidate that went further ranks above one
    # eliminated early: its mean is over more, and harder-won, examples.
    order = ["n", "overall", "position"] if store.get_run(run_id).config.get("schedule") else ["overall", "position"]
    ascending = [False, False, True] if len(order) == 3 else [False, True]
    table = table.sort_values(order, ascending=ascending, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.drop(columns=["position"])
