"""From stored evaluations to tables: the per-candidate leaderboard and the per-example frame.

Pages and the CLI both read these frames; nothing here draws.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pandas as pd


from optimizer.evaluate.reviews import human_by_candidate
from optimizer.evaluate.store import RunStore

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def evaluations_frame(store: RunStore, run_id: str, candidate_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per evaluation, with one ``score_<field>`` column per output field; only the rows of
    ``candidate_ids`` when given (a candidate's scores never depend on another candidate's rows)."""
    fields = score_fields(store, run_id, candidate_ids)
    if fields is None:
        return pd.DataFrame(
            columns=["candidate_id", "example_id", "overall", "parse_ok", "failed", "latency_s", "completion_tokens", "cached"]
        )
    # SQLite takes the field scores out of the JSON (json_extract, in C): decoding 32,400 score
    # objects in Python was most of the time a large run took to open.
    plain = [field for field in fields if _IDENTIFIER.match(field)]  # names that can go into the SQL text
    extracted = "".join(f", json_extract(field_scores_json, '$.{field}') AS \"score_{field}\"" for field in plain)
    cursor = store.db.cursor()
    cursor.row_factory = None  # plain tuples: sqlite3.Row objects cost more than the query
    only = f" AND candidate_id IN ({', '.join('?' for _ in candidate_ids)})" if candidate_ids is not None else ""
    cursor.execute(f"SELECT *{extracted} FROM evaluations WHERE run_id = ?{only} ORDER BY candidate_id, example_id",
                   (run_id, *(candidate_ids or ())))
    columns = [description[0] for description in cursor.description]
    frame = pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
    others = [field for field in fields if field not in plain]
    if others:
        decoded = [json.loads(text) for text in frame["field_scores_json"]]
        for field in others:
            frame[f"score_{field}"] = [scores.get(field) for scores in decoded]
    frame = frame.drop(columns=["field_scores_json"])
    for field in fields:
        frame[f"score_{field}"] = frame[f"score_{field}"].astype(float)
    frame["failed"] = frame["error"].notna()
    frame["parse_ok"] = frame["parse_error"].isna() & ~frame["failed"]
    frame["cached"] = frame["cached"].astype(bool)
    return _apply_prediction_dependent_metrics(store, run_id, frame)


def score_fields(store: RunStore, run_id: str, candidate_ids: Sequence[str] | None = None) -> list[str] | None:
    """The output fields the evaluations (of ``candidate_ids``, when given) score, in the order of the
    first evaluation (None: no evaluation yet)."""
    only = f" AND candidate_id IN ({', '.join('?' for _ in candidate_ids)})" if candidate_ids is not None else ""
    params = (run_id, *(candidate_ids or ()))
    first = store.db.execute(f"SELECT field_scores_json FROM evaluations WHERE run_id = ?{only} LIMIT 1", params).fetchone()
    if first is None:
        return None
    fields = list(json.loads(first[0]))
    others = store.db.execute(
        f"SELECT DISTINCT j.key FROM evaluations, json_each(evaluations.field_scores_json) j WHERE run_id = ?{only}", params
    ).fetchall()
    fields += sorted(row[0] for row in others if row[0] not in fields)
    return fields


def _apply_prediction_dependent_metrics(store: RunStore, run_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Fields scored with a metric that needs every prediction of a candidate (macro-F1) get their
    per-example contributions here, per candidate over its examples, and ``overall`` is recomputed
    (``optimizer.tasks.balanced``). Runs of tasks without such a field are returned unchanged."""
    from optimizer.errors import WorkbenchError
    from optimizer.tasks.balanced import CONTRIBUTIONS, LABEL_ONLY
    from optimizer.tasks.dataset import load_dataset
    from optimizer.tasks.metrics import weighted_overall
    from optimizer.tasks.spec import load_task

    try:
        task = load_task(store.get_run(run_id).task)
    except WorkbenchError:
        return frame
    fields = [name for name, field in task.outputs.items()
              if field.metric in CONTRIBUTIONS and field.metric not in LABEL_ONLY and not field.whole and f"score_{name}" in frame]
    if not fields:
        return frame
    try:
        dataset = load_dataset(task.resolve(task.dataset), expected_key=task.expected_key)
    except WorkbenchError:
        return frame
    expected = {example.id: example.expected for example in dataset.examples}
    parsed = frame["parsed_json"].map(lambda text: json.loads(text) if isinstance(text, str) and text else {})
    known = frame["example_id"].isin(expected.keys())
    for _, group in frame[known].groupby("candidate_id"):
        for name in fields:
            contributions = CONTRIBUTIONS[task.outputs[name].metric](
                [expected[example_id].get(name) for example_id in group["example_id"]],
                [parsed[index].get(name) for index in group.index],
            )
            frame.loc[group.index, f"score_{name}"] = contributions
    score_columns = {name: f"score_{name}" for name in task.outputs if f"score_{name}" in frame}
    frame.loc[known, "overall"] = [
        weighted_overall({name: row[column] for name, column in score_columns.items()}, task.weights)
        for _, row in frame[known].iterrows()
    ]
    return frame


def leaderboard(store: RunStore, run_id: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per candidate: overall and per-field means over scored calls, parse-failure rate, the count of
    failed calls (apart: a call that failed has no score), latency, tokens.

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
    failures = pd.Series([row["candidate_id"] for row in store.call_failures(run_id)], dtype=object).value_counts()
    if frame.empty:
        return meta.assign(n=0, overall=float("nan"),
                           call_failures=meta["candidate_id"].map(failures).fillna(0).astype(int))
    score_columns = [column for column in frame.columns if column.startswith("score_")]
    grouped = frame.groupby("candidate_id")
    table = grouped[["overall", *score_columns]].mean()
    table["parse_failure_rate"] = 1.0 - grouped["parse_ok"].mean()
    # Failed calls are stored apart from scores (never averaged in as 0): count them from there, and
    # list a candidate whose every call failed with no score at all.
    table = table.reindex(table.index.union(failures.index)).rename_axis("candidate_id")
    table["call_failures"] = (grouped["failed"].sum().reindex(table.index, fill_value=0)
                              + failures.reindex(table.index, fill_value=0)).astype(int)
    table["mean_latency_s"] = grouped["latency_s"].mean()
    table["mean_completion_tokens"] = grouped["completion_tokens"].mean()
    table["n"] = grouped.size().reindex(table.index, fill_value=0)
    table = table.reset_index().merge(meta, on="candidate_id", how="left")
    # The human metric: mean reviewed value over the candidate's reviewed outputs (reviews given in
    # earlier runs count when the output is the same), with how many outputs were reviewed.
    human = human_by_candidate(store, run_id)[["candidate_id", "human", "human_n"]]
    table = table.merge(human, on="candidate_id", how="left")
    table["human_n"] = table["human_n"].fillna(0).astype(int)
    # beside the automatic metrics: right after the last per-field score
    order = [column for column in table.columns if column not in ("human", "human_n")]
    after = max((order.index(column) for column in order if column.startswith("score_")), default=order.index("overall"))
    table = table[order[:after + 1] + ["human", "human_n"] + order[after + 1:]]
    # A candidate scored on more examples ranks above one scored on fewer: in multi-round
    # searches (successive halving) it went further, and in a run still going a mean over one
    # example must not outrank a mean over ten.
    table = table.sort_values(["n", "overall", "position"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.drop(columns=["position"])


def live_leaderboard(store: RunStore, run_id: str) -> pd.DataFrame:
    """The leaderboard of a run still going, from one SQL aggregate per candidate instead of every
    stored evaluation (the Run page redraws it every 2 s).

    Exact for every task whose per-example scores average to the metric (exact match, token
    overlap, balanced accuracy, whose stored contributions are balanced already). A task with a
    macro-F1 field needs every prediction of a candidate, so it gets the full ``leaderboard``.
    """
    from optimizer.errors import WorkbenchError
    from optimizer.tasks.balanced import CONTRIBUTIONS, LABEL_ONLY
    from optimizer.tasks.spec import load_task

    try:
        task = load_task(store.get_run(run_id).task)
    except WorkbenchError:
        return leaderboard(store, run_id)
    if any(field.metric in CONTRIBUTIONS and field.metric not in LABEL_ONLY for field in task.outputs.values()):
        return leaderboard(store, run_id)
    aggregates = pd.DataFrame(store.candidate_aggregates(run_id, list(task.outputs)))
    candidates = store.candidates(run_id)
    meta = pd.DataFrame({
        "candidate_id": [row["candidate_id"] for row in candidates],
        "position": [row["position"] for row in candidates],
        "factors": [", ".join(f"{k}={v}" for k, v in row["factors"].items()) for row in candidates],
    })
    if aggregates.empty:
        return meta.drop(columns=["position"]).assign(n=0, overall=float("nan"), call_failures=0)
    table = aggregates.merge(meta, on="candidate_id", how="left")
    table["parse_failure_rate"] = 1.0 - table["parse_ok_rate"]
    table["call_failures"] = table["failed"].fillna(0).astype(int)
    table["n"] = table["n"].fillna(0).astype(int)
    table = table.sort_values(["n", "overall", "position"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    score_columns = [f"score_{name}" for name in task.outputs]
    columns = ["rank", "candidate_id", "overall", *score_columns, "parse_failure_rate", "call_failures",
               "mean_latency_s", "mean_completion_tokens", "n", "factors"]
    return table[[column for column in columns if column in table]]
