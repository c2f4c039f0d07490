"""Export a run's candidate as a versioned prompt template YAML with its evidence.

The file has the schema of the hand-written templates plus an ``evaluation`` block: scores with
95% CIs, the baseline's scores and the delta, costs, factor levels and provenance, so a reviewer
sees why this prompt replaced the last one. ``load_prompt`` is the runtime side production uses.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ExportError, StoreError
from .leaderboard import evaluations_frame
from .paths import repo_root
from .stats import bootstrap_ci, paired_comparison
from .store import RunStore
from .templates import PromptTemplate, load_template

SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def templates_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "prompt_templates"


def _versions(task: str, folder: Path) -> dict[int, Path]:
    pattern = re.compile(rf"^{re.escape(task)}_v(\d+)\.yaml$")
    found = {}
    for path in folder.glob(f"{task}_v*.yaml"):
        match = pattern.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def next_version(task: str, folder: Path) -> int:
    return max(_versions(task, folder), default=0) + 1


def latest_version_path(task: str, folder: Path) -> Path | None:
    versions = _versions(task, folder)
    return versions[max(versions)] if versions else None


def load_prompt(task: str, version: int | str = "latest", *, root: Path | None = None) -> PromptTemplate:
    """Load ``prompt_templates/<task>_v<N>.yaml``: the newest version, or the one asked for."""
    if not SLUG.match(task):
        raise ExportError(f"task name {task!r} is not a slug")
    folder = templates_dir(root)
    versions = _versions(task, folder)
    if not versions:
        raise ExportError(f"no prompt versions for task {task!r} in {folder}")
    number = max(versions) if version == "latest" else int(version)
    if number not in versions:
        raise ExportError(f"task {task!r} has no version {number} (have: {', '.join(map(str, sorted(versions)))})")
    return load_template(versions[number])


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


def evaluation_block(store: RunStore, run_id: str, candidate_id: str) -> dict[str, Any]:
    """Scores, baseline delta, costs, factors and provenance of one candidate in one run."""
    run = store.get_run(run_id)
    frame = evaluations_frame(store, run_id)
    mine = frame[frame["candidate_id"] == candidate_id].sort_values("example_id")
    if mine.empty:
        raise StoreError(f"run {run_id} has no evaluations for candidate {candidate_id!r}")
    candidates = {row["candidate_id"]: row for row in store.candidates(run_id)}
    block: dict[str, Any] = {
        "scores": _scores(mine),
        "parse_failure_rate": round(float(1.0 - mine["parse_ok"].mean()), 4),
        "mean_completion_tokens": round(float(mine["completion_tokens"].mean()), 2) if mine["completion_tokens"].notna().any() else None,
        "mean_latency_s": round(float(mine["latency_s"].mean()), 4) if mine["latency_s"].notna().any() else None,
        "factors": candidates[candidate_id]["factors"],
    }
    baseline_id = run.config.get("baseline_id")
    if baseline_id and baseline_id != candidate_id:
        base = frame[frame["candidate_id"] == baseline_id].sort_values("example_id")
        paired = mine.merge(base, on="example_id", suffixes=("", "_baseline"))
        if not paired.empty:
            comparison = paired_comparison(paired["overall"].tolist(), paired["overall_baseline"].tolist())
            block["baseline"] = {
                "candidate_id": baseline_id,
                "scores": _scores(base),
                "delta_overall": round(comparison.delta, 4),
                "delta_ci95": [round(comparison.low, 4), round(comparison.high, 4)],
                "p_value": round(comparison.p_value, 4),
                "summary": comparison.sentence(),
            }
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


def build_export(store: RunStore, run_id: str, candidate_id: str, *, version: int) -> PromptTemplate:
    """The template of ``candidate_id`` renamed ``<task>_v<version>`` with its evaluation block."""
    run = store.get_run(run_id)
    candidates = {row["candidate_id"]: row for row in store.candidates(run_id)}
    if candidate_id not in candidates:
        known = ", ".join(list(candidates)[:8])
        raise StoreError(f"run {run_id} has no candidate {candidate_id!r} (e.g. {known})")
    template = PromptTemplate.model_validate(candidates[candidate_id]["template"])
    # The run's sampling overrides and seed go into the file, so the YAML alone reproduces the score.
    from .engine import sampling_params

    model_defaults = {**template.model_defaults, **sampling_params(template, run.sampling, run.seed)}
    return template.model_copy(
        update={
            "id": f"{run.task}_v{version}",
            "model_defaults": model_defaults,
            "task": run.task,
            "description": template.description or f"Exported from run {run_id}",
            "evaluation": evaluation_block(store, run_id, candidate_id),
        }
    )


def export_candidate(store: RunStore, run_id: str, candidate_id: str, *, folder: Path | None = None) -> Path:
    """Write the next free ``<task>_v<N>.yaml`` and return its path (never overwrites)."""
    run = store.get_run(run_id)
    if not SLUG.match(run.task):
        raise ExportError(f"task name {run.task!r} is not a slug")
    folder = folder or templates_dir()
    folder.mkdir(parents=True, exist_ok=True)
    version = next_version(run.task, folder)
    exported = build_export(store, run_id, candidate_id, version=version)
    path = folder / f"{run.task}_v{version}.yaml"
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(exported.to_yaml())
    return path
