"""Export from a stored run: the next free version, the template schema, and the evaluation block."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from optimizer.errors import ExportError
from optimizer.export.evidence import build_export
from optimizer.prompts.versions import load_prompt, next_version
from optimizer.evaluate.leaderboard import leaderboard
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.prompts.templates import load_template


def export_candidate(store, run_id: str, candidate_id: str, *, folder: Path, allow_partial: bool = False) -> Path:
    """What ``workbench export --no-commit`` does: the next free version, written once, never overwritten."""
    version = next_version("k8s_log_analysis", folder)
    exported = build_export(store, run_id, candidate_id, version=version, allow_partial=allow_partial)
    path = folder / f"k8s_log_analysis_v{version}.yaml"
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(exported.to_yaml())
    return path


def test_export_writes_versioned_template_with_evidence(store, fake_client, tmp_path: Path) -> None:
    plan = plan_run(RunRequest(task="k8s_log_analysis", max_candidates=3, n_examples=8, seed=4))
    run_id = asyncio.run(run_plan(store, plan, fake_client))
    best = leaderboard(store, run_id).iloc[0]
    folder = tmp_path / "prompt_templates"
    folder.mkdir()
    (folder / "k8s_log_analysis_v1.yaml").write_text("placeholder")
    # 8 examples cannot separate the candidates from the baseline: the export needs the confirmation.
    if best["candidate_id"] != plan.baseline_id:
        with pytest.raises(ExportError, match="the evidence is partial .*--allow-partial"):
            export_candidate(store, run_id, best["candidate_id"], folder=folder)
    path = export_candidate(store, run_id, best["candidate_id"], folder=folder, allow_partial=True)
    assert path.name == "k8s_log_analysis_v2.yaml"
    second = export_candidate(store, run_id, best["candidate_id"], folder=folder, allow_partial=True)
    assert second.name == "k8s_log_analysis_v3.yaml"

    exported = load_template(path)
    assert exported.id == "k8s_log_analysis_v2" and exported.task == "k8s_log_analysis"
    evaluation = exported.evaluation
    assert evaluation is not None
    assert abs(evaluation["scores"]["overall"]["mean"] - best["overall"]) < 1e-4
    low, high = evaluation["scores"]["overall"]["ci95"]
    assert low <= evaluation["scores"]["overall"]["mean"] <= high
    assert set(evaluation["scores"]) == {"overall", "root_cause", "severity", "action_required"}
    provenance = evaluation["provenance"]
    assert provenance["run_id"] == run_id and provenance["validation_examples"] == 8
    assert provenance["dataset"] == "golden/k8s_log_analysis.jsonl" and len(provenance["dataset_sha256"]) == 64
    if best["candidate_id"] != plan.baseline_id:
        assert "summary" in evaluation["baseline"] and "over 8 paired examples" in evaluation["baseline"]["summary"]
        assert evaluation["baseline"]["separable"] is False and evaluation["baseline"]["paired_examples"] == 8
        assert evaluation["partial_evidence"]["confirmed_by_user"] is True
        assert "cannot separate" in evaluation["partial_evidence"]["reasons"][0]
    text = path.read_text()
    assert "system: |" in text  # block style: a diff reads line by line
    assert yaml.safe_load(text)["id"] == "k8s_log_analysis_v2"
    assert load_prompt("k8s_log_analysis", root=tmp_path).id == "k8s_log_analysis_v3"
    assert load_prompt("k8s_log_analysis", 2, root=tmp_path).system == exported.system
