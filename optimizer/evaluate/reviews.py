"""Human review of outputs: thumbs up/down, a 0-1 score and a comment per output, in the run store.

A review belongs to an output (task, example, output text), not only to the run where it was
given, so when a later run produces the same output for the same example it carries the review:
the "human" metric is then available to that run's leaderboard. The human value of one review is
its score when given, else 1 for a thumb up and 0 for a thumb down. Everything is read with SQL
joins and aggregates over the store, never by loading every evaluation.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from optimizer.errors import ConfigError, StoreError
from optimizer.evaluate.store import RunStore, utc_now

HUMAN_VALUE = "COALESCE(h.score, CASE h.thumb WHEN 1 THEN 1.0 WHEN -1 THEN 0.0 END)"
_JOIN = (
    " FROM evaluations e JOIN runs r ON r.id = e.run_id"
    " JOIN human_reviews h ON h.task = r.task AND h.example_id = e.example_id AND h.output = e.raw_output"
    " WHERE e.run_id = ?"
)
MAX_COMMENT_CHARS = 2000


def save_review(store: RunStore, run_id: str, candidate_id: str, example_id: str, *, thumb: int | None = None,
                score: float | None = None, comment: str = "") -> None:
    """Store (or replace) the review of one stored output; an empty review deletes it."""
    if thumb not in (None, -1, 1):
        raise ConfigError(f"review of {candidate_id}/{example_id}: field 'thumb' must be 1, -1 or empty, got {thumb!r}")
    if score is not None and not 0.0 <= float(score) <= 1.0:
        raise ConfigError(f"review of {candidate_id}/{example_id}: field 'score' must be between 0 and 1, got {score!r}")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ConfigError(f"review of {candidate_id}/{example_id}: field 'comment' is longer than {MAX_COMMENT_CHARS} characters")
    row = store.db.execute(
        "SELECT r.task, e.raw_output FROM evaluations e JOIN runs r ON r.id = e.run_id"
        " WHERE e.run_id = ? AND e.candidate_id = ? AND e.example_id = ?",
        (run_id, candidate_id, example_id),
    ).fetchone()
    if row is None or row[1] is None:
        raise StoreError(f"run {run_id} has no stored output of candidate {candidate_id!r} on example {example_id!r}")
    task, output = row
    if thumb is None and score is None and not comment:
        store.db.execute("DELETE FROM human_reviews WHERE task = ? AND example_id = ? AND output = ?", (task, example_id, output))
        return
    store.db.execute(
        "INSERT INTO human_reviews (task, example_id, output, run_id, candidate_id, thumb, score, comment, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (task, example_id, output) DO UPDATE SET run_id = excluded.run_id,"
        " candidate_id = excluded.candidate_id, thumb = excluded.thumb, score = excluded.score,"
        " comment = excluded.comment, updated_at = excluded.updated_at",
        (task, example_id, output, run_id, candidate_id, thumb, None if score is None else float(score), comment, utc_now()),
    )


def run_reviews(store: RunStore, run_id: str, candidate_ids: list[str] | None = None) -> pd.DataFrame:
    """One row per reviewed output of the run: candidate, example, thumb, score, comment, human value."""
    query = f"SELECT e.candidate_id, e.example_id, h.thumb, h.score, h.comment, {HUMAN_VALUE} AS human" + _JOIN
    params: list[Any] = [run_id]
    if candidate_ids:
        query += f" AND e.candidate_id IN ({', '.join('?' for _ in candidate_ids)})"
        params += list(candidate_ids)
    rows = store.db.execute(query, params).fetchall()
    return pd.DataFrame([dict(row) for row in rows], columns=["candidate_id", "example_id", "thumb", "score", "comment", "human"])


def human_by_candidate(store: RunStore, run_id: str) -> pd.DataFrame:
    """Per candidate with reviewed outputs: mean human value, how many reviewed, thumbs up / down."""
    rows = store.db.execute(
        f"SELECT e.candidate_id, AVG({HUMAN_VALUE}) AS human, COUNT(*) AS human_n,"
        " SUM(h.thumb = 1) AS thumbs_up, SUM(h.thumb = -1) AS thumbs_down" + _JOIN + " GROUP BY e.candidate_id",
        (run_id,),
    ).fetchall()
    return pd.DataFrame([dict(row) for row in rows], columns=["candidate_id", "human", "human_n", "thumbs_up", "thumbs_down"])


def review_evidence(store: RunStore, run_id: str, candidate_id: str) -> dict[str, Any] | None:
    """The human review of one candidate for its export evidence and review report (None: none)."""
    reviews = run_reviews(store, run_id, [candidate_id])
    if reviews.empty:
        return None
    values = reviews["human"].dropna()
    return {
        "reviewed_outputs": int(len(reviews)),
        "mean_human": round(float(values.mean()), 4) if not values.empty else None,
        "thumbs_up": int((reviews["thumb"] == 1).sum()),
        "thumbs_down": int((reviews["thumb"] == -1).sum()),
        "comments": [{"example_id": row.example_id, "comment": row.comment}
                     for row in reviews.sort_values("example_id").itertuples() if row.comment],
    }


def reviews_version(store: RunStore) -> tuple[int, str | None]:
    """Changes whenever a review is saved or removed (a cache key for pages)."""
    count, latest = store.db.execute("SELECT COUNT(*), MAX(updated_at) || MAX(rowid) FROM human_reviews").fetchone()
    return int(count), latest
