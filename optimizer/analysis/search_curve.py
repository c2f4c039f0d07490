"""How a run got to its winner: the leaderboard's leader after each stored validation call.

Read in the order the evaluations were stored (the order the calls came back), the leader is the
candidate the leaderboard would rank first at that moment: the most examples scored, then the
highest mean overall (as ``optimizer.evaluate.leaderboard``). The curve is its mean against the calls
made so far, so grid, random, halving and the strategies that write prompts can be compared by how
many calls they needed. Only validation calls are counted: the training answers and proposals of
``gepa`` / ``dspy-*`` are not evaluations (see ``optimizer.evaluate.strategy_calls``); a task with a
macro-F1 field is drawn from the stored per-example scores, not the leaderboard's recomputation.

The curve reads every evaluation of the run in order (32,400 rows on a 324 x 100 run), so like the
board (``optimizer.analysis.board``) it is kept in the run store per version of the run's data: the
run's own process computes it when it ends, and a page open reads one row.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from optimizer.evaluate.store import RunStore


@dataclass(frozen=True)
class CurvePoint:
    calls: int
    """Validation evaluations stored when this candidate became (or stayed) the leader."""
    leader: str
    mean: float
    n: int


NAME = "score_vs_calls"
FORMAT = "1"  # bump when the points or their meaning change


def score_vs_calls(store: RunStore, run_id: str) -> list[CurvePoint]:
    """One point each time the leader or its mean changes, plus the last call (kept in the store)."""
    version = f"{FORMAT}:{store.data_version(run_id)}"
    stored = store.derived_get(run_id, NAME, version)
    if stored is not None:
        return [CurvePoint(**point) for point in json.loads(stored)]
    points = compute_score_vs_calls(store, run_id)
    if points:
        store.derived_put(run_id, NAME, version, json.dumps([asdict(point) for point in points]))
    return points


def compute_score_vs_calls(store: RunStore, run_id: str) -> list[CurvePoint]:
    """The curve from every stored evaluation of the run, in the order they were stored."""
    rows = store.db.execute(
        "SELECT candidate_id, overall FROM evaluations WHERE run_id = ? ORDER BY created_at, rowid", (run_id,)
    ).fetchall()
    totals: dict[str, tuple[float, int]] = {}
    points: list[CurvePoint] = []
    leader: tuple[int, float, str] | None = None  # (n, mean, candidate id)
    for calls, (candidate_id, overall) in enumerate(rows, start=1):
        total, n = totals.get(candidate_id, (0.0, 0))
        totals[candidate_id] = (total + overall, n + 1)
        mine = (n + 1, (total + overall) / (n + 1), candidate_id)
        if leader is None or mine[:2] > leader[:2]:
            leader = mine
        elif candidate_id == leader[2]:  # the leader's own mean moved: someone else may lead now
            leader = mine
            for other, (other_total, other_n) in totals.items():
                if (other_n, other_total / other_n) > leader[:2]:
                    leader = (other_n, other_total / other_n, other)
        if not points or (points[-1].leader, points[-1].mean) != (leader[2], leader[1]):
            points.append(CurvePoint(calls, leader[2], leader[1], leader[0]))
    if rows and leader is not None and points[-1].calls != len(rows):
        points.append(CurvePoint(len(rows), leader[2], leader[1], leader[0]))
    return points


def score_vs_calls_chart(points: list[CurvePoint], labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The curve as a Vega-Lite spec (a step line: the leader's mean holds until the next change)."""
    labels = labels or {}
    values = [{"calls": point.calls, "mean": point.mean, "leader": f"{labels.get(point.leader, point.leader)} (n={point.n})"}
              for point in points]
    return {
        "title": "Score vs calls",
        "data": {"values": values},
        "height": 300,
        "mark": {"type": "line", "interpolate": "step-after", "point": True},
        "encoding": {
            "x": {"field": "calls", "type": "quantitative", "title": "validation calls stored"},
            "y": {"field": "mean", "type": "quantitative", "title": "leader's mean overall", "scale": {"zero": False}},
            "tooltip": [{"field": "calls"}, {"field": "mean", "format": ".3f"}, {"field": "leader"}],
        },
    }
