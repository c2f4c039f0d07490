"""Export a run's candidate as a versioned prompt template YAML with its evidence.

The file has the schema of the hand-written templates plus an ``evaluation`` block: scores with
95% CIs, the baseline's scores and the delta, costs, factor levels and provenance, so a reviewer
sees why this prompt replaced the last one. The runtime side production uses is
``optimizer.prompts.versions.load_prompt``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import pandas as pd

from optimizer.errors import ExportError, StoreError
from optimizer.evaluate.leaderboard import evaluations_frame
from optimizer.analysis.stats import bootstrap_ci, paired_comparison
from optimizer.analysis.references import candidate_collapse, describe_collapse, run_references, verdict
from optimizer.evaluate.reviews import review_evidence
from optimizer.evaluate.store import RunStore
from optimizer.prompts.templates import PromptTemplate

def _field_columns(frame: pd.DataFrame) -> list[str]:
    return [column for column in frame.columns if column.startswith("score_")]


def _scores(frame: pd.DataFrame) -> dict[str, Any]:
    overall = bootstrap_ci(frame["overall"].tolist())
    scores: dict[str, Any] = {"overall": {"mean": round(overall.mean, 4), "ci95": [round(overall.low, 4), round(overall.high, 4)]}}
    for column in _field_columns(frame):
        interval = bootstrap_ci(frame[column].tolist())
        scores[column.removeprefix("score_")] = {"mean": round(interval.mean, 4), "ci95": [round(interval.low, 4), round(interval.high, 4)]}
    return scores


def workbench_version() -> str:
    try:
        return metadata.version("prompt-workbench")
    except metadata.PackageNotFoundError:
        return "unknown"


def _trivial_block(store: RunStore, run_id: str, mine: pd.DataFrame) -> dict[str, Any] | None:
    """The candidate against the better trivial reference (majority label / best constant) on its examples."""
    references = run_references(store, run_id, sorted(mine["example_id"]))
    result = verdict(dict(zip(mine["example_id"], mine["overall"])), references)
    if result is None:
        return None
    answer = next(reference.answer for reference in references if reference.name == result.reference)
    return {
        "reference": result.reference,
        "answer": {name: value for name, value in answer.items() if isinstance(value, (str, int, float, bool))},
        "overall": round(result.reference_mean, 4),
        "delta_overall": round(result.delta, 4),
        "delta_ci95": [round(result.low, 4), round(result.high, 4)],
        "p_value": round(result.p_value, 4),
        "n": result.n,
        "above": result.above,
    }


def split_of(store: RunStore, run_id: str) -> str:
    """The split a stored run scored (runs from before splits were recorded scored validation)."""
    return str(store.get_run(run_id).config.get("split") or "validation")


def find_test_run(store: RunStore, task: str, candidate_ids: set[str], model_identity: str) -> tuple[str, str] | None:
    """The newest completed test-split run of the same task and model that scored one of
    ``candidate_ids``: ``(run_id, candidate_id)``. Read only when reporting, never when choosing."""
    for run in store.list_runs(limit=1000):
        if run.task != task or run.model_identity != model_identity or run.status != "completed":
            continue
        if run.config.get("split") != "test":
            continue
        scored = {row["candidate_id"] for row in store.candidates(run.id)} & candidate_ids
        if scored and store.count_evaluations(run.id):
            return run.id, sorted(scored)[0]
    return None


def test_block(store: RunStore, test_run_id: str, candidate_id: str, baseline_id: str | None = None) -> dict[str, Any]:
    """Scores on the test split (from a stored ``eval --split test`` run), reported apart from validation;
    with ``baseline_id``, the paired comparison with the baseline on the same test examples (from the
    same test run, else the newest test run of the same task and model that scored the baseline)."""
    frame = evaluations_frame(store, test_run_id)
    mine = frame[frame["candidate_id"] == candidate_id].sort_values("example_id")
    if mine.empty:
        raise StoreError(f"run {test_run_id} has no evaluations for candidate {candidate_id!r}")
    block: dict[str, Any] = {
        "run_id": test_run_id,
        "examples": int(len(mine)),
        "scores": _scores(mine),
        "parse_failure_rate": round(float(1.0 - mine["parse_ok"].mean()), 4),
    }
    if baseline_id and baseline_id != candidate_id:
        if not (frame["candidate_id"] == baseline_id).any():
            run = store.get_run(test_run_id)
            found = find_test_run(store, run.task, {baseline_id}, run.model_identity)
            frame = evaluations_frame(store, found[0], [baseline_id]) if found else frame
        base, comparison = _baseline_comparison(frame, mine, baseline_id, candidate_id)
        if comparison is not None:
            block["baseline"] = _baseline_entry(baseline_id, base, comparison)
    trivial = _trivial_block(store, test_run_id, mine)
    if trivial is not None:
        block["trivial_reference"] = trivial
    return block


def _baseline_entry(baseline_id: str, base: pd.DataFrame, comparison: Any) -> dict[str, Any]:
    """The evidence's paired comparison of a candidate with its baseline (validation or test)."""
    return {
        "candidate_id": baseline_id,
        "scores": _scores(base),
        "delta_overall": round(comparison.delta, 4),
        "delta_ci95": [round(comparison.low, 4), round(comparison.high, 4)],
        "p_value": round(comparison.p_value, 4),
        "paired_examples": comparison.n,
        "method": comparison.method,
        "separable": comparison.separable,
        "minimal_detectable_difference": round(comparison.mde, 4) if comparison.mde == comparison.mde else None,
        "summary": comparison.sentence(),
    }


def _baseline_comparison(frame: pd.DataFrame, mine: pd.DataFrame, baseline_id: str | None, candidate_id: str):
    """(baseline rows, paired comparison on shared examples) or (None, None) without a baseline to compare."""
    if not baseline_id or baseline_id == candidate_id:
        return None, None
    base = frame[frame["candidate_id"] == baseline_id].sort_values("example_id")
    paired = mine.merge(base, on="example_id", suffixes=("", "_baseline"))
    if paired.empty:
        return base, None
    return base, paired_comparison(paired["overall"].tolist(), paired["overall_baseline"].tolist())


def evidence_gaps(run: Any, candidate_examples: int, comparison: Any, has_baseline: bool) -> list[str]:
    """Why exporting a candidate needs an explicit confirmation: it was scored on fewer examples than
    the run, or its examples cannot separate it from the baseline. Empty when the evidence is whole."""
    gaps = []
    if candidate_examples < run.n_examples:
        gaps.append(f"scored on {candidate_examples} of the run's {run.n_examples} examples")
    if has_baseline and comparison is None:
        gaps.append("it shares no example with the baseline, so nothing shows it is better")
    elif comparison is not None and not comparison.separable:
        gaps.append(f"against the baseline: {comparison.verdict()}")
    return gaps


def export_gaps(store: RunStore, run_id: str, candidate_id: str) -> list[str]:
    """``evidence_gaps`` of ``candidate_id`` in ``run_id`` (for a page to ask before preparing an export)."""
    run = store.get_run(run_id)
    baseline_id = run.config.get("baseline_id")
    frame = evaluations_frame(store, run_id, [candidate_id, *([baseline_id] if baseline_id else [])])  # two candidates' rows
    mine = frame[frame["candidate_id"] == candidate_id].sort_values("example_id")
    _, comparison = _baseline_comparison(frame, mine, baseline_id, candidate_id)
    return evidence_gaps(run, len(mine), comparison, bool(baseline_id) and baseline_id != candidate_id)


def evaluation_block(
    store: RunStore, run_id: str, candidate_id: str, *, allow_degenerate: bool = False, test_run: tuple[str, str] | None = None,
    allow_partial: bool = False,
) -> dict[str, Any]:
    """Scores, baseline delta, trivial reference, costs, factors and provenance of one candidate in one run.

    The scores are on the run's split (validation). A candidate whose answers collapse to one
    value on a label field is refused unless ``allow_degenerate``; the confirmation is written into
    the block. ``test_run`` (``(run_id, candidate_id)`` of a stored test-split evaluation) adds a
    separate ``test`` section; it is read after the candidate was chosen and changes nothing else.
    Partial evidence (fewer examples than the run, or too few to separate the candidate from the
    baseline) is refused unless ``allow_partial``; that confirmation is written into the block too.
    """
    run = store.get_run(run_id)
    if split_of(store, run_id) == "test":
        raise ExportError(f"run {run_id} scored the test split; export from the validation run that chose the candidate "
                          "(its test scores are added from this run)")
    frame = evaluations_frame(store, run_id)
    mine = frame[frame["candidate_id"] == candidate_id].sort_values("example_id")
    if mine.empty:
        raise StoreError(f"run {run_id} has no evaluations for candidate {candidate_id!r}")
    collapsed = candidate_collapse(store, run_id, candidate_id)
    if collapsed and not allow_degenerate:
        raise ExportError(
            f"candidate {candidate_id} answers collapse to one value ({describe_collapse(collapsed)} of {len(mine)} answers): "
            "its score is what a constant answer earns. To export it anyway, confirm with --allow-degenerate "
            "(the Compare page: the 'collapse' checkbox); the confirmation is written into the evidence"
        )
    candidates = {row["candidate_id"]: row for row in store.candidates(run_id)}
    block: dict[str, Any] = {
        "split": "validation",
        "scores": _scores(mine),
        "parse_failure_rate": round(float(1.0 - mine["parse_ok"].mean()), 4),
        "mean_completion_tokens": round(float(mine["completion_tokens"].mean()), 2) if mine["completion_tokens"].notna().any() else None,
        "mean_latency_s": round(float(mine["latency_s"].mean()), 4) if mine["latency_s"].notna().any() else None,
        "factors": candidates[candidate_id]["factors"],
    }
    baseline_id = run.config.get("baseline_id")
    base, comparison = _baseline_comparison(frame, mine, baseline_id, candidate_id)
    gaps = evidence_gaps(run, len(mine), comparison, base is not None)
    if gaps and not allow_partial:
        raise ExportError(
            f"candidate {candidate_id}: the evidence is partial ({'; '.join(gaps)}). To export it anyway, confirm with "
            "--allow-partial (the Compare page: the 'partial evidence' checkbox); the confirmation is written into the evidence"
        )
    if comparison is not None:
        block["baseline"] = _baseline_entry(baseline_id, base, comparison)
    if gaps:
        block["partial_evidence"] = {"confirmed_by_user": True, "reasons": gaps,
                                     "candidate_examples": int(len(mine)), "run_examples": run.n_examples}
    trivial = _trivial_block(store, run_id, mine)
    if trivial is not None:
        block["trivial_reference"] = trivial
    if collapsed:
        block["degenerate"] = {
            "confirmed_by_user": True,
            "collapsed_fields": {name: {"value": value, "share": round(share, 4)} for name, (value, share) in collapsed.items()},
        }
    if test_run is not None:
        block["test"] = test_block(store, *test_run, baseline_id=baseline_id)
    human = review_evidence(store, run_id, candidate_id)
    if human is not None:
        block["human_review"] = human
    block["provenance"] = {
        "run_id": run_id,
        "candidate_id": candidate_id,
        "dataset": run.dataset_path,
        "dataset_sha256": run.dataset_sha256,
        "validation_examples": int(len(mine)),
        "model": run.model_identity,
        "sampling": {key: value for key, value in run.sampling.items() if value is not None},
        "seed": run.seed,
        "workbench_version": workbench_version(),
        "date": datetime.now(timezone.utc).date().isoformat(),
    }
    return block


def build_export(store: RunStore, run_id: str, candidate_id: str, *, version: int, allow_degenerate: bool = False,
                 with_test: bool = True, allow_partial: bool = False) -> PromptTemplate:
    """The template of ``candidate_id`` renamed ``<task>_v<version>`` with its evaluation block."""
    run = store.get_run(run_id)
    candidates = {row["candidate_id"]: row for row in store.candidates(run_id)}
    if candidate_id not in candidates:
        known = ", ".join(list(candidates)[:8])
        raise StoreError(f"run {run_id} has no candidate {candidate_id!r} (e.g. {known})")
    template = PromptTemplate.model_validate(candidates[candidate_id]["template"])
    # The run's sampling overrides and seed go into the file, so the YAML alone reproduces the score.
    from optimizer.evaluate.engine import sampling_params

    model_defaults = {**template.model_defaults, **sampling_params(template, run.sampling, run.seed)}
    exported_id = template.model_copy(update={"model_defaults": model_defaults}).content_hash()
    # a stored test-split evaluation of this candidate, or of the exported file itself (same content hash)
    test_run = find_test_run(store, run.task, {candidate_id, exported_id}, run.model_identity) if with_test else None
    return template.model_copy(
        update={
            "id": f"{run.task}_v{version}",
            "model_defaults": model_defaults,
            "task": run.task,
            "description": template.description or f"Exported from run {run_id}",
            "evaluation": evaluation_block(store, run_id, candidate_id, allow_degenerate=allow_degenerate, test_run=test_run,
                                           allow_partial=allow_partial),
        }
    )
