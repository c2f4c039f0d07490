"""Side-by-side analysis of candidates in one run: intervals, paired tests, per-example tables,
factor effects and the cost/quality Pareto front. Pure functions over DataFrames; pages draw them.
"""

from __future__ import annotations

from collections.abc import Sequence
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.analysis.stats import PairedComparison, bootstrap_ci, paired_comparison
from optimizer.evaluate.store import RunStore
from optimizer.prompts.templates import Message, PromptTemplate, render_messages


@dataclass(frozen=True)
class RunData:
    """Everything the Compare page reads about one run, loaded once."""

    run_id: str
    evaluations: pd.DataFrame
    leaderboard: pd.DataFrame
    templates: dict[str, PromptTemplate]
    factors: dict[str, dict[str, str]]
    baseline_id: str | None
    fields: list[str]
    example_ids: tuple[str, ...] = ()
    """Every example the run scored (``evaluations`` may hold only the rows of the candidates shown)."""

    @functools.cached_property
    def ranks(self) -> dict[str, int]:
        """Candidate id -> leaderboard rank (a dict: labels are looked up hundreds of times per page)."""
        return {str(candidate_id): int(rank) for candidate_id, rank in zip(self.leaderboard["candidate_id"], self.leaderboard["rank"])}

    @functools.cached_property
    def sizes(self) -> dict[str, int]:
        """Candidate id -> examples it was scored on (partial candidates show it in every label)."""
        if "n" in self.leaderboard:  # the leaderboard's n counts every candidate's rows, loaded or not
            return {str(key): int(value) for key, value in zip(self.leaderboard["candidate_id"], self.leaderboard["n"])}
        return {str(key): int(value) for key, value in self.evaluations.groupby("candidate_id").size().items()}


def load_run_data(store: RunStore, run_id: str) -> RunData:
    """The run's evaluations (every row), leaderboard, templates and factors (``load_run_summary``
    and ``with_rows`` read less, for a page)."""
    from optimizer.evaluate.leaderboard import evaluations_frame, leaderboard

    run = store.get_run(run_id)
    frame = evaluations_frame(store, run_id)
    table = leaderboard(store, run_id, frame)
    candidates = store.candidates(run_id)
    templates = {row["candidate_id"]: PromptTemplate.model_validate(row["template"]) for row in candidates}
    factors = {row["candidate_id"]: row["factors"] for row in candidates}
    fields = [column.removeprefix("score_") for column in frame.columns if column.startswith("score_")]
    return RunData(run_id, frame, table, templates, factors, run.config.get("baseline_id"), fields,
                   tuple(sorted(set(frame["example_id"]))))


ANNOTATIONS = ["vs_trivial", "above_trivial", "collapsed", "is_reference"]


def load_run_summary(store: RunStore, run_id: str) -> RunData:
    """What a page needs before it knows which candidates to show: the leaderboard (from the board
    kept in the store, see ``optimizer.analysis.board``), templates, factors, fields and the
    example ids, and no evaluation rows (``with_rows`` reads those of the candidates shown)."""
    from optimizer.analysis.board import run_board

    run = store.get_run(run_id)
    board = run_board(store, run_id)
    if "is_reference" in board:
        board = board[~board["is_reference"].astype(bool)]
    table = board.drop(columns=[column for column in ANNOTATIONS if column in board]).reset_index(drop=True)
    if "rank" in table:
        table["rank"] = table["rank"].astype(int)
    candidates = store.candidates(run_id)
    templates = {row["candidate_id"]: PromptTemplate.model_validate(row["template"]) for row in candidates}
    factors = {row["candidate_id"]: row["factors"] for row in candidates}
    fields = [column.removeprefix("score_") for column in table.columns if column.startswith("score_")]
    example_ids = tuple(row[0] for row in store.db.execute(
        "SELECT DISTINCT example_id FROM evaluations WHERE run_id = ? ORDER BY example_id", (run_id,)))
    return RunData(run_id, pd.DataFrame(columns=["candidate_id", "example_id"]), table, templates, factors,
                   run.config.get("baseline_id"), fields, example_ids)


def with_rows(store: RunStore, data: RunData, candidate_ids: Sequence[str]) -> RunData:
    """``data`` with the evaluation rows (outputs included) of ``candidate_ids`` only."""
    from dataclasses import replace

    from optimizer.evaluate.leaderboard import evaluations_frame

    return replace(data, evaluations=evaluations_frame(store, data.run_id, list(candidate_ids)))


def short_label(data: RunData, candidate_id: str) -> str:
    if candidate_id == data.baseline_id:
        return f"{candidate_id} (baseline)"
    return f"#{data.ranks.get(candidate_id, '?')} {candidate_id}"


def candidate_label(data: RunData, candidate_id: str) -> str:
    """Rank (or baseline) and id; a candidate scored on fewer examples than the most any candidate
    has says so wherever it is named: ``#7 ab12cd · n=1 of 20``."""
    n, most = data.sizes.get(candidate_id, 0), max(data.sizes.values(), default=0)
    return short_label(data, candidate_id) + (f" · n={n} of {most}" if n < most else "")


def shared_examples(data: RunData, candidate_ids: Sequence[str]) -> set[str]:
    """The examples every one of ``candidate_ids`` was scored on."""
    frame = data.evaluations[data.evaluations["candidate_id"].isin(candidate_ids)]
    counts = frame.groupby("example_id")["candidate_id"].nunique()
    return set(counts[counts == len(set(candidate_ids))].index)


def default_selection(data: RunData, count: int = 2) -> list[str]:
    """The baseline first (when the run has one), then the best other candidates."""
    chosen = [data.baseline_id] if data.baseline_id in data.templates else []
    for candidate_id in data.leaderboard["candidate_id"]:
        if len(chosen) >= count:
            break
        if candidate_id not in chosen:
            chosen.append(candidate_id)
    return chosen


def rendered_prompt(template: PromptTemplate, inputs: dict) -> tuple[str, str]:
    """(system text incl. few-shot turns, final user text) as the model sees them."""
    messages: list[Message] = render_messages(template, inputs)
    head = "\n\n".join(f"[{message['role']}]\n{message['content']}" for message in messages[:-1])
    return head, messages[-1]["content"]


def field_intervals(data: RunData, candidate_ids: Sequence[str], *, shared: bool = True) -> pd.DataFrame:
    """Mean and 95% bootstrap CI per candidate and field (``overall`` included), with its n.

    With ``shared`` (the default) every candidate is measured on the examples all of them share,
    so a candidate scored on 1 example is not set beside one scored on 10 as if alike."""
    common = shared_examples(data, candidate_ids) if shared else None
    rows = []
    for candidate_id in candidate_ids:
        mine = data.evaluations[data.evaluations["candidate_id"] == candidate_id]
        if common is not None:
            mine = mine[mine["example_id"].isin(common)]
        for field in ["overall", *data.fields]:
            column = "overall" if field == "overall" else f"score_{field}"
            interval = bootstrap_ci(mine[column].tolist())
            rows.append(
                {"candidate": f"{short_label(data, candidate_id)} · n={interval.n}", "candidate_id": candidate_id, "field": field,
                 "mean": interval.mean, "low": interval.low, "high": interval.high, "n": interval.n}
            )
    return pd.DataFrame(rows)


def paired_against(data: RunData, candidate_id: str, reference_id: str) -> PairedComparison:
    mine = data.evaluations[data.evaluations["candidate_id"] == candidate_id][["example_id", "overall"]]
    reference = data.evaluations[data.evaluations["candidate_id"] == reference_id][["example_id", "overall"]]
    paired = mine.merge(reference, on="example_id", suffixes=("", "_reference"))
    return paired_comparison(paired["overall"].tolist(), paired["overall_reference"].tolist())


def example_table(data: RunData, candidate_ids: Sequence[str], expected: dict[str, dict],
                  perfect: dict[str, float] | None = None, human: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per example: each candidate's output first (columns named by the candidate's label),
    then the expected values, then each candidate's overall score, its human review value (from
    ``human``, the rows of ``optimizer.evaluate.reviews.run_reviews``; empty when not reviewed),
    parse state and field scores.

    Helper columns ``disagree``, ``any_failure`` and ``any_parse_failure`` drive the filters.
    """
    frame = data.evaluations[data.evaluations["candidate_id"].isin(candidate_ids)]
    example_ids = sorted(set(frame["example_id"]))
    table = pd.DataFrame({"example_id": example_ids})
    labels = [short_label(data, candidate_id) for candidate_id in candidate_ids]
    per_candidate = [
        frame[frame["candidate_id"] == candidate_id].set_index("example_id").reindex(example_ids) for candidate_id in candidate_ids
    ]
    for label, mine in zip(labels, per_candidate):
        table[f"{label} output"] = mine["raw_output"].fillna(mine["error"]).fillna("").to_numpy()
    for field in data.fields:
        table[f"expected {field}"] = [str(expected.get(example_id, {}).get(field, "")) for example_id in example_ids]
    for label, mine in zip(labels, per_candidate):
        table[f"{label} overall"] = mine["overall"].to_numpy()
        if human is not None:
            reviewed = human[human["candidate_id"] == candidate_ids[labels.index(label)]].set_index("example_id")["human"]
            table[f"{label} human"] = reviewed.reindex(example_ids).to_numpy()
        table[f"{label} parse ok"] = mine["parse_ok"].fillna(False).astype(bool).to_numpy()
        for field in data.fields:
            table[f"{label} {field}"] = mine[f"score_{field}"].to_numpy()
    answers = [mine["parsed_json"].fillna("").to_numpy() for mine in per_candidate]
    score_columns = [f"{label} overall" for label in labels]
    table["disagree"] = (
        pd.DataFrame(answers).T.nunique(axis=1).gt(1).to_numpy() if len(answers) > 1 else False
    )
    # "right" is the score the expected answer itself gets: 1.0, or its class weight on a balanced field
    right = table["example_id"].map(perfect or {}).fillna(1.0).to_numpy() - 1e-9
    table["any_failure"] = table[score_columns].lt(right, axis=0).any(axis=1)
    table["any_parse_failure"] = ~table[[f"{label} parse ok" for label in labels]].all(axis=1)
    return table


def outputs_for_review(data: RunData, candidate_ids: Sequence[str], example_id: str, reviews: pd.DataFrame) -> list[dict]:
    """Per candidate, its output on ``example_id`` and the review it has (thumb, score, comment)."""
    rows = []
    for candidate_id in candidate_ids:
        mine = data.evaluations[(data.evaluations["candidate_id"] == candidate_id) & (data.evaluations["example_id"] == example_id)]
        review = reviews[(reviews["candidate_id"] == candidate_id) & (reviews["example_id"] == example_id)]
        given = review.iloc[0] if not review.empty else None
        rows.append({
            "candidate_id": candidate_id, "label": candidate_label(data, candidate_id),
            "output": None if mine.empty else mine["raw_output"].iloc[0],
            "overall": None if mine.empty else float(mine["overall"].iloc[0]),
            "thumb": None if given is None or pd.isna(given["thumb"]) else int(given["thumb"]),
            "score": None if given is None or pd.isna(given["score"]) else float(given["score"]),
            "comment": "" if given is None else str(given["comment"] or ""),
        })
    return rows


def output_columns(table: pd.DataFrame) -> list[str]:
    """The per-candidate output columns of ``example_table`` (long text; the page wraps them)."""
    return [column for column in table.columns if column.endswith(" output")]


EXAMPLE_FILTERS = {
    "all examples": None,
    "only where they disagree": "disagree",
    "only failures": "any_failure",
    "only parse failures": "any_parse_failure",
}


def filter_examples(table: pd.DataFrame, choice: str) -> pd.DataFrame:
    column = EXAMPLE_FILTERS[choice]
    return table if column is None else table[table[column]]


def leaderboard_with_factors(data: RunData) -> pd.DataFrame:
    """The leaderboard with one column per search-space dimension, for sorting and filtering."""
    factor_frame = pd.DataFrame.from_dict(data.factors, orient="index")
    factor_frame.index.name = "candidate_id"
    return data.leaderboard.merge(factor_frame.reset_index(), on="candidate_id", how="left")


def factor_effects(data: RunData, *, seed: int = 0) -> pd.DataFrame:
    """Mean overall score per level of each dimension, with a 95% CI over the candidates at that level."""
    table = leaderboard_with_factors(data)
    dimensions = [column for column in pd.DataFrame.from_dict(data.factors, orient="index").columns if column != "baseline"]
    rows = []
    for dimension in dimensions:
        for level, group in table.dropna(subset=[dimension]).groupby(dimension, sort=False):
            interval = bootstrap_ci(group["overall"].dropna().tolist(), seed=seed)
            rows.append({"dimension": dimension, "level": level, "mean": interval.mean, "low": interval.low,
                         "high": interval.high, "candidates": interval.n})
    return pd.DataFrame(rows)


def pareto_front(table: pd.DataFrame, cost: str, quality: str = "overall") -> pd.Series:
    """True for candidates no other candidate beats on both lower ``cost`` and higher ``quality``."""
    points = table[[cost, quality]].to_numpy(dtype=float)
    on_front = np.ones(len(points), dtype=bool)
    order = np.lexsort((-points[:, 1], points[:, 0]))  # by cost, then best quality first
    best_quality = -np.inf
    for index in order:
        cost_value, quality_value = points[index]
        if np.isnan(cost_value) or np.isnan(quality_value) or quality_value <= best_quality:
            on_front[index] = False
        else:
            best_quality = quality_value
    return pd.Series(on_front, index=table.index)


def factor_dimensions(data: RunData, board: pd.DataFrame) -> list[str]:
    """The search-space dimensions the board has a column for (the baseline marker is none)."""
    names = {name for factors in data.factors.values() for name in factors}
    return [column for column in board.columns if column in names and column != "baseline"]


def filter_by_levels(board: pd.DataFrame, picked: dict[str, list[str]]) -> pd.DataFrame:
    """The board rows whose level is among those picked, per dimension (no pick keeps every row)."""
    for dimension, levels in picked.items():
        if levels:
            board = board[board[dimension].isin(levels)]
    return board


def dimension_levels(board: pd.DataFrame, dimension: str) -> list[str]:
    return sorted(board[dimension].dropna().unique())


def pareto_members(leaderboard: pd.DataFrame, cost: str, quality: str = "overall") -> list[str]:
    """Ids of the candidates on the Pareto front of ``cost`` against ``quality`` (rows with both known)."""
    known = leaderboard.dropna(subset=[cost, quality])
    return list(known.loc[pareto_front(known, cost, quality), "candidate_id"])
