"""Run vs run: the same candidate (same prompt, same id) in two runs, e.g. two models or two server
settings, paired on the examples both runs scored. Reads only that candidate's rows (SQL), so it
stays fast on a large store."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from optimizer.analysis.stats import PairedComparison, paired_comparison
from optimizer.evaluate.store import RunRecord, RunStore


@dataclass(frozen=True)
class RunVsRun:
    """Run B against run A for one candidate: the paired test, per-field means and the examples."""

    candidate_id: str
    run_a: RunRecord
    run_b: RunRecord
    comparison: PairedComparison
    fields: pd.DataFrame  # field, mean in A, mean in B, difference
    examples: pd.DataFrame  # example_id, overall A / B, output A / B
    only_a: int  # examples scored in A only (left out of the pairing)
    only_b: int

    def sentence(self) -> str:
        left_out = f" ({self.only_a} examples only in A and {self.only_b} only in B left out)" if self.only_a or self.only_b else ""
        return f"Run B vs run A: {self.comparison.sentence()}{left_out}"


def shared_candidates(store: RunStore, run_a: str, run_b: str) -> list[str]:
    """Candidate ids evaluated in both runs, in run A's order."""
    rows = store.db.execute(
        "SELECT a.candidate_id FROM candidates a JOIN candidates b ON b.candidate_id = a.candidate_id AND b.run_id = ?"
        " WHERE a.run_id = ? AND EXISTS (SELECT 1 FROM evaluations e WHERE e.run_id = a.run_id AND e.candidate_id = a.candidate_id)"
        " AND EXISTS (SELECT 1 FROM evaluations e WHERE e.run_id = b.run_id AND e.candidate_id = b.candidate_id)"
        " ORDER BY a.position",
        (run_b, run_a),
    ).fetchall()
    return [row[0] for row in rows]


def _candidate_rows(store: RunStore, run_id: str, candidate_id: str) -> pd.DataFrame:
    rows = store.db.execute(
        "SELECT example_id, overall, field_scores_json, raw_output FROM evaluations WHERE run_id = ? AND candidate_id = ?",
        (run_id, candidate_id),
    ).fetchall()
    frame = pd.DataFrame([dict(row) for row in rows], columns=["example_id", "overall", "field_scores_json", "raw_output"])
    scores = pd.DataFrame([json.loads(text) for text in frame.pop("field_scores_json")], index=frame.index)
    return frame.join(scores.add_prefix("score_")).set_index("example_id")


def run_vs_run(store: RunStore, run_a: str, run_b: str, candidate_id: str) -> RunVsRun:
    """Pair ``candidate_id``'s scores in the two runs on their shared examples (B minus A)."""
    rows_a, rows_b = _candidate_rows(store, run_a, candidate_id), _candidate_rows(store, run_b, candidate_id)
    shared = sorted(set(rows_a.index) & set(rows_b.index))
    a, b = rows_a.loc[shared], rows_b.loc[shared]
    comparison = paired_comparison(b["overall"].tolist(), a["overall"].tolist())
    field_names = [column for column in a.columns if column.startswith("score_") and column in b.columns]
    fields = pd.DataFrame({
        "field": ["overall", *[name.removeprefix("score_") for name in field_names]],
        "run A": [a["overall"].mean(), *[a[name].mean() for name in field_names]],
        "run B": [b["overall"].mean(), *[b[name].mean() for name in field_names]],
    })
    fields["B - A"] = fields["run B"] - fields["run A"]
    examples = pd.DataFrame({
        "example_id": shared, "output A": a["raw_output"].tolist(), "output B": b["raw_output"].tolist(),
        "overall A": a["overall"].tolist(), "overall B": b["overall"].tolist(),
    })
    examples["changed"] = examples["overall A"] != examples["overall B"]
    return RunVsRun(candidate_id, store.get_run(run_a), store.get_run(run_b), comparison, fields, examples,
                    len(set(rows_a.index) - set(shared)), len(set(rows_b.index) - set(shared)))


def run_setting(run: RunRecord) -> str:
    """What distinguishes a run: model, server and sampling, in one line."""
    sampling = ", ".join(f"{key}={value}" for key, value in sorted(run.sampling.items()) if value is not None)
    return f"{run.id} · model {run.model_identity} · {run.server_url}" + (f" · {sampling}" if sampling else "")
