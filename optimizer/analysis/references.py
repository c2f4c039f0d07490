"""Trivial references and degenerate candidates: what a prompt must beat before its score means anything.

Two references are computed from the labels alone, with no model call, and scored with the task's
own metrics on exactly the examples a run scored:

- ``majority label``: every field answered with its most common expected value;
- ``best constant``: every field answered with the one value that scores best on those examples
  (field by field; each non-whole field's score depends on its own answer only, so this maximizes
  the weighted overall). It is an oracle on purpose: nothing that answers the same thing for every
  input can do better.

A candidate is ``above trivial`` only when its paired difference against the better reference, over
the same examples, is positive with p < 0.05 (``optimizer.analysis.stats.paired_comparison``).

A candidate *collapses* on a label field (one with ``choices``) when at least 90% of its answers
are one value while the expected labels are not that skewed: it is parroting a class, not reading
the input (issue 11: a k8s winner answered ``info``/``no`` on every example).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from optimizer.analysis.stats import paired_comparison, paired_p_values
from optimizer.errors import WorkbenchError
from optimizer.evaluate.store import RunStore
from optimizer.config.paths import resolve_in_repo
from optimizer.tasks.balanced import CONTRIBUTIONS, LABEL_ONLY, ClassWeights, label_key
from optimizer.tasks.metrics import weighted_overall
from optimizer.tasks.dataset import Dataset, Example, load_dataset
from optimizer.tasks.spec import TaskSpec, load_task

COLLAPSE_SHARE = 0.9
"""A label field whose answers are this share or more one value is flagged as collapsed."""
COLLAPSE_MIN_EXAMPLES = 10
"""Below this many answers every candidate looks collapsed; no flag is raised."""
SIGNIFICANCE = 0.05
MAX_CONSTANTS = 200
"""At most this many distinct values are tried per field for the best constant (the most common)."""
REFERENCE_PREFIX = "ref: "


def task_dataset(task: TaskSpec) -> Dataset:
    return load_dataset(resolve_in_repo(task.dataset, what=f"task {task.name}: dataset"), expected_key=task.expected_key)


@dataclass(frozen=True)
class Reference:
    """A constant answer and its scores on each example (``example_id -> (field scores, overall)``)."""

    name: str
    answer: dict[str, Any]
    per_example: dict[str, tuple[dict[str, float], float]]

    @property
    def candidate_id(self) -> str:
        return REFERENCE_PREFIX + self.name

    def overall(self, example_ids: Sequence[str] | None = None) -> list[float]:
        ids = list(self.per_example) if example_ids is None else [i for i in example_ids if i in self.per_example]
        return [self.per_example[example_id][1] for example_id in ids]

    def mean(self, example_ids: Sequence[str] | None = None) -> float:
        values = self.overall(example_ids)
        return sum(values) / len(values) if values else float("nan")


def _scored_fields(task: TaskSpec) -> list[str]:
    return [name for name, field in task.outputs.items() if not field.whole]


def _score_answer(task: TaskSpec, examples: Sequence[Example], answer: Mapping[str, Any],
                  weights: ClassWeights) -> dict[str, tuple[dict[str, float], float]]:
    """Per-example scores of a constant answer, as a candidate's rows read: a macro-F1 field gets its
    contributions over all ``examples`` (``evaluations_frame`` does the same for candidates)."""
    scored = {example.id: task.score(example.expected, answer, class_weights=weights) for example in examples}
    for name, field in task.outputs.items():
        if field.metric in CONTRIBUTIONS and field.metric not in LABEL_ONLY and not field.whole and name in answer:
            contributions = CONTRIBUTIONS[field.metric]([example.expected.get(name) for example in examples], [answer[name]] * len(examples))
            for example, contribution in zip(examples, contributions):
                scored[example.id][0][name] = contribution
            scored = {example_id: (fields, weighted_overall(fields, task.weights)) for example_id, (fields, _) in scored.items()}
    return scored


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def majority_answer(task: TaskSpec, examples: Sequence[Example]) -> dict[str, Any]:
    """Each non-whole field's most common expected value (ties: the first seen)."""
    answer: dict[str, Any] = {}
    for name in _scored_fields(task):
        values = [example.expected[name] for example in examples if name in example.expected]
        if values:
            counts = Counter(_key(value) for value in values)
            best = max(counts.values())
            answer[name] = next(value for value in values if counts[_key(value)] == best)
    return answer


def best_constant_answer(task: TaskSpec, examples: Sequence[Example], class_weights: ClassWeights | None = None) -> dict[str, Any]:
    """Each non-whole field's best single value on ``examples`` under the task's metric for it.

    Tried values: the field's choices and its expected values (the most common ``MAX_CONSTANTS``).
    """
    weights = task.class_weights([example.expected for example in examples]) if class_weights is None else class_weights
    answer: dict[str, Any] = {}
    for name, field in task.outputs.items():
        if field.whole:
            continue
        values = [example.expected[name] for example in examples if name in example.expected]
        counts = Counter(_key(value) for value in values)
        # most common first, so a tie goes to the majority label; then choices nobody expected
        tried: dict[str, Any] = {key: json.loads(key) for key, _ in counts.most_common(MAX_CONSTANTS)}
        for choice in field.choices or []:
            tried.setdefault(_key(choice), choice)
        best_value, best_score = None, float("-inf")
        for value in tried.values():
            total = sum(task.score(example.expected, {name: value}, class_weights=weights)[0][name] for example in examples)
            if total > best_score + 1e-12:
                best_value, best_score = value, total
        if best_value is not None:
            answer[name] = best_value
    return answer


def trivial_references(task: TaskSpec, examples: Sequence[Example], class_weights: ClassWeights | None = None) -> list[Reference]:
    """The majority-label and best-constant references, scored on ``examples`` (a run's examples)
    with the run's class weights (default: balanced fields weighted over ``examples``, as the engine
    weighs a new run's answers)."""
    if not examples:
        return []
    weights = task.class_weights([example.expected for example in examples]) if class_weights is None else class_weights
    references = []
    for name, answer in (("majority label", majority_answer(task, examples)), ("best constant", best_constant_answer(task, examples, weights))):
        references.append(Reference(name, answer, _score_answer(task, examples, answer, weights)))
    return references


@lru_cache(maxsize=32)
def _cached_references(task_name: str, dataset_sha: str, example_ids: tuple[str, ...], weights_json: str) -> tuple[Reference, ...]:
    task = load_task(task_name)
    dataset = task_dataset(task)
    by_id = {example.id: example for example in dataset.examples}
    return tuple(trivial_references(task, [by_id[i] for i in example_ids if i in by_id], json.loads(weights_json)))


def stored_class_weights(config: Mapping[str, Any]) -> ClassWeights:
    """The class weights a run's answers were scored with (none for runs from before balanced metrics)."""
    return config.get("class_weights") or {}


def run_references(store: RunStore, run_id: str, example_ids: Sequence[str] | None = None) -> list[Reference]:
    """References for a stored run, scored on every example the run plans (its ``example_ids``;
    ``example_ids`` only when the run stored none); take means over the examples actually scored.

    Labels come from today's dataset file by example id; an id no longer in it is skipped. An
    unloadable task or dataset gives no references rather than breaking the leaderboard.
    """
    run = store.get_run(run_id)
    ids = tuple(run.config.get("example_ids") or sorted(example_ids or []))
    try:
        sha = task_dataset(load_task(run.task)).sha256
        return list(_cached_references(run.task, sha, ids, json.dumps(stored_class_weights(run.config), sort_keys=True)))
    except WorkbenchError:
        return []


def collapsed_fields(task: TaskSpec, parsed: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, float]]:
    """``field -> (value, share)`` for each label field where >= 90% of the answers are one value
    (a missing answer counts as the value ``""``) while the expected labels are not that skewed."""
    flagged: dict[str, tuple[str, float]] = {}
    if len(parsed) < COLLAPSE_MIN_EXAMPLES:
        return flagged
    for name, field in task.outputs.items():
        if not field.choices or field.whole:
            continue
        answers = Counter(label_key(record.get(name)) for record in parsed)
        value, count = answers.most_common(1)[0]
        share = count / len(parsed)
        expected_share = sum(label_key(record.get(name)) == value for record in expected) / max(len(expected), 1)
        if share >= COLLAPSE_SHARE and expected_share < COLLAPSE_SHARE:
            flagged[name] = (value, share)
    return flagged


def describe_collapse(flagged: Mapping[str, tuple[str, float]]) -> str:
    return ", ".join(f"{name}={value or '(none)'} {share:.0%}" for name, (value, share) in flagged.items())


@dataclass(frozen=True)
class TrivialVerdict:
    """One candidate against the better trivial reference on the same examples."""

    reference: str
    reference_mean: float
    delta: float
    low: float
    high: float
    p_value: float
    n: int

    @property
    def above(self) -> bool:
        return self.n > 0 and self.delta > 0 and self.p_value < SIGNIFICANCE

    def label(self) -> str:
        if self.n == 0:
            return "-"
        if self.above:
            return f"above trivial ({self.delta * 100:+.1f} pts, p={self.p_value:.2g})"
        return f"NOT above trivial ({self.delta * 100:+.1f} pts vs {self.reference}, p={self.p_value:.2g}, n={self.n})"


def verdict(candidate_scores: Mapping[str, float], references: Sequence[Reference]) -> TrivialVerdict | None:
    """Paired comparison of a candidate's per-example overall against the better reference on its examples."""
    ids = [example_id for example_id in candidate_scores if all(example_id in r.per_example for r in references)]
    if not references or not ids:
        return None
    best = max(references, key=lambda reference: reference.mean(ids))
    comparison = paired_comparison([candidate_scores[i] for i in ids], best.overall(ids))
    return TrivialVerdict(best.name, best.mean(ids), comparison.delta, comparison.low, comparison.high,
                          comparison.p_value, comparison.n)


def verdicts(candidate_scores: Mapping[str, Mapping[str, float]], references: Sequence[Reference]) -> dict[str, TrivialVerdict]:
    """``verdict`` for many candidates at once, for a leaderboard: candidates scored on the same
    examples share the better reference and one matrix of sign-flip tests (same test, same p-values
    as ``verdict``). The verdicts carry no interval (``low``/``high`` are NaN): a board labels
    "above / not above"; the export's evidence uses ``verdict`` with its interval."""
    if not references:
        return {}
    groups: dict[tuple[str, ...], list[str]] = {}
    for candidate_id, scores in candidate_scores.items():
        ids = tuple(sorted(i for i in scores if all(i in r.per_example for r in references)))
        if ids:
            groups.setdefault(ids, []).append(candidate_id)
    results: dict[str, TrivialVerdict] = {}
    for ids, members in groups.items():
        best = max(references, key=lambda reference: reference.mean(list(ids)))
        reference_row = np.asarray(best.overall(list(ids)), dtype=float)
        matrix = np.asarray([[candidate_scores[member][i] for i in ids] for member in members], dtype=float)
        means, p_values = paired_p_values(matrix, np.broadcast_to(reference_row, matrix.shape))
        for member, delta, p_value in zip(members, means, p_values):
            results[member] = TrivialVerdict(best.name, best.mean(list(ids)), float(delta), float("nan"), float("nan"),
                                             float(p_value), len(ids))
    return results


def annotate_leaderboard(task: TaskSpec | None, table: pd.DataFrame, frame: pd.DataFrame, references: Sequence[Reference],
                         expected: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The leaderboard with ``vs_trivial`` and ``collapsed`` columns and one row per reference.

    Reference rows have ``rank`` ``ref`` and ``is_reference`` True; their field columns are means
    over the union of the examples the run scored.
    """
    table = table.copy()
    vs_trivial, collapsed, above = [], [], []
    by_candidate = dict(tuple(frame.groupby("candidate_id", sort=False))) if not frame.empty else {}
    empty = frame.iloc[0:0]
    batch = verdicts({candidate_id: dict(zip(mine["example_id"], mine["overall"])) for candidate_id, mine in by_candidate.items()},
                     references)
    for candidate_id in table["candidate_id"]:
        mine = by_candidate.get(candidate_id, empty)  # one pass over the frame, not one filter per candidate
        result = batch.get(candidate_id)
        vs_trivial.append(result.label() if result else "-")
        above.append(bool(result.above) if result else False)
        if task is not None and "parsed_json" in mine:
            parsed = [json.loads(text) if isinstance(text, str) and text else {} for text in mine["parsed_json"]]
            flags = collapsed_fields(task, parsed, [expected.get(i, {}) for i in mine["example_id"]])
            collapsed.append(describe_collapse(flags))
        else:
            collapsed.append("")
    table["vs_trivial"] = vs_trivial
    table["above_trivial"] = above
    table["collapsed"] = collapsed
    table["is_reference"] = False
    if "rank" in table:
        table["rank"] = table["rank"].astype(str)  # reference rows rank "ref"
    scored_ids = sorted(set(frame["example_id"])) if not frame.empty else None
    return with_reference_rows(table, references, scored_ids)


def with_reference_rows(table: pd.DataFrame, references: Sequence[Reference], example_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """``table`` with one ``rank`` ``ref`` row per reference: means over ``example_ids`` (default:
    every example the reference was scored on). Cheap: the Run page adds them while a run goes."""
    rows = []
    for reference in references:
        ids = [i for i in (example_ids or reference.per_example) if i in reference.per_example]
        if not ids:
            continue
        row: dict[str, Any] = {"rank": "ref", "candidate_id": reference.candidate_id, "overall": reference.mean(ids), "n": len(ids),
                               "factors": ", ".join(f"{k}={v}" for k, v in reference.answer.items() if not isinstance(v, (dict, list)) and len(str(v)) < 40),
                               "vs_trivial": "reference (no calls)", "above_trivial": False, "collapsed": "", "is_reference": True}
        for name in reference.per_example[ids[0]][0]:
            row[f"score_{name}"] = sum(reference.per_example[i][0][name] for i in ids) / len(ids)
        rows.append(row)
    if not rows:
        return table
    table = table.copy()
    if "rank" in table:
        table["rank"] = table["rank"].astype(str)
    if "is_reference" not in table:
        table["is_reference"] = False
    return pd.concat([table, pd.DataFrame(rows)], ignore_index=True)


_BOARDS: dict[tuple[str, str, int, str], pd.DataFrame] = {}
"""Annotated boards by (store, run, evaluations, last update): the Run page redraws every 2 s and a
paired test per candidate is not free (about 0.3 s for 100 candidates x 20 examples here)."""


def leaderboard_with_references(store: RunStore, run_id: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``optimizer.evaluate.leaderboard.leaderboard`` plus the trivial references and the flags."""
    from optimizer.evaluate.leaderboard import evaluations_frame

    if frame is not None:
        return _annotated(store, run_id, frame)
    # data_version covers the evaluations and the human reviews (the board's human column)
    key = (str(store.path), run_id, store.data_version(run_id), store.get_run(run_id).updated_at)
    if key not in _BOARDS:
        if len(_BOARDS) >= 8:
            _BOARDS.pop(next(iter(_BOARDS)))
        _BOARDS[key] = _annotated(store, run_id, evaluations_frame(store, run_id))
    return _BOARDS[key].copy()


def _annotated(store: RunStore, run_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    from optimizer.evaluate.leaderboard import leaderboard

    table = leaderboard(store, run_id, frame)
    if frame.empty:
        return table
    run = store.get_run(run_id)
    references = run_references(store, run_id, sorted(set(frame["example_id"])))
    task, expected = None, {}
    try:
        task = load_task(run.task)
        expected = {example.id: example.expected for example in task_dataset(task).examples}
    except WorkbenchError:
        pass
    return annotate_leaderboard(task, table, frame, references, expected)


def candidate_collapse(store: RunStore, run_id: str, candidate_id: str) -> dict[str, tuple[str, float]]:
    """The collapsed label fields of one stored candidate (empty when it answers with variety)."""
    from optimizer.evaluate.leaderboard import evaluations_frame

    run = store.get_run(run_id)
    task = load_task(run.task)
    expected = {example.id: example.expected for example in task_dataset(task).examples}
    frame = evaluations_frame(store, run_id)
    mine = frame[frame["candidate_id"] == candidate_id]
    parsed = [json.loads(text) if isinstance(text, str) and text else {} for text in mine["parsed_json"]]
    return collapsed_fields(task, parsed, [expected.get(i, {}) for i in mine["example_id"]])


def perfect_scores(store: RunStore, run_id: str, example_ids: Sequence[str]) -> dict[str, float]:
    """Per example, the overall the expected answer itself scores (1.0, or a class weight on a
    balanced field), so "this example is right" stays checkable per row."""
    run = store.get_run(run_id)
    try:
        task = load_task(run.task)
        by_id = {example.id: example for example in task_dataset(task).examples}
    except WorkbenchError:
        return {}
    weights = stored_class_weights(run.config)
    return {
        example_id: task.score(by_id[example_id].expected, by_id[example_id].expected, class_weights=weights)[1]
        for example_id in example_ids if example_id in by_id
    }


FLAG_COLUMNS = ["vs_trivial", "above_trivial", "collapsed", "is_reference"]


def merge_flags(board: pd.DataFrame, annotated: pd.DataFrame) -> pd.DataFrame:
    """``board`` (any per-candidate table) with the flag columns of ``annotated`` and its reference rows."""
    flags = annotated[["candidate_id", *FLAG_COLUMNS]]
    merged = board.drop(columns=[c for c in FLAG_COLUMNS if c in board]).merge(flags, on="candidate_id", how="left")
    if "rank" in merged:
        merged["rank"] = merged["rank"].astype(str)
    references = annotated[annotated["is_reference"]]
    return pd.concat([merged, references[[c for c in references.columns if c in merged.columns]]], ignore_index=True)
