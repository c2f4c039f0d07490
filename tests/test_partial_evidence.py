"""Partial data: ranked apart, compared on shared examples, n shown, and exported only when confirmed."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
import yaml

from optimizer.analysis.compare import candidate_label, field_intervals, load_run_data, paired_against
from optimizer.errors import ExportError
from optimizer.evaluate.leaderboard import leaderboard
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.export.evidence import export_gaps
from optimizer.export.git import prepare_export

from conftest import run_cli


@pytest.fixture
def partial_run(store, fake_client) -> tuple[str, str, str]:
    return make_partial_run(store, fake_client)


def make_partial_run(store, fake_client) -> tuple[str, str, str]:
    """A 10-example run in which one candidate kept a single evaluation (as if it had just started)."""
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=3, n_examples=10, seed=5))
    run_id = asyncio.run(run_plan(store, plan, fake_client))
    partial = next(candidate_id for candidate_id, _ in plan.templates if candidate_id != plan.baseline_id)
    kept = store.db.execute("SELECT example_id FROM evaluations WHERE run_id = ? AND candidate_id = ? ORDER BY example_id LIMIT 1",
                            (run_id, partial)).fetchone()[0]
    store.db.execute("DELETE FROM evaluations WHERE run_id = ? AND candidate_id = ? AND example_id != ?", (run_id, partial, kept))
    store.db.execute("UPDATE evaluations SET overall = 1.0 WHERE run_id = ? AND candidate_id = ?", (run_id, partial))
    return run_id, partial, plan.baseline_id


def test_partial_candidate_is_ranked_apart_and_labelled_with_n(store, partial_run) -> None:
    run_id, partial, baseline_id = partial_run
    table = leaderboard(store, run_id)
    # A perfect score on 1 example does not outrank the baseline's mean over 10.
    assert table.set_index("candidate_id").loc[partial, "n"] == 1
    assert table["candidate_id"].tolist().index(partial) > table["candidate_id"].tolist().index(baseline_id)
    data = load_run_data(store, run_id)
    assert candidate_label(data, partial).endswith("· n=1 of 10") and candidate_label(data, baseline_id) == f"{baseline_id} (baseline)"
    intervals = field_intervals(data, [baseline_id, partial])
    assert set(intervals["n"]) == {1}  # both measured on the one example they share
    assert intervals["candidate"].str.contains("n=1").all()
    comparison = paired_against(data, partial, baseline_id)
    assert comparison.n == 1 and "too small to separate" in comparison.sentence()


def test_export_of_partial_evidence_needs_a_confirmation_written_into_the_evidence(store, partial_run, tmp_path: Path) -> None:
    run_id, partial, baseline_id = partial_run
    gaps = export_gaps(store, run_id, partial)
    assert gaps[0] == "scored on 1 of the run's 10 examples" and "too small to separate" in gaps[1]
    assert export_gaps(store, run_id, baseline_id) == []  # the baseline's own evidence is whole
    repo = tmp_path / "repo"
    repo.mkdir()
    for command in (["init", "-q", "-b", "main"], ["-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-q",
                                                   "--allow-empty", "-m", "init"]):
        subprocess.run(["git", *command], cwd=repo, check=True)
    with pytest.raises(ExportError, match="scored on 1 of the run's 10 examples.*--allow-partial"):
        prepare_export(store, run_id, partial, repo=repo)
    prepared = prepare_export(store, run_id, partial, repo=repo, allow_partial=True)
    evidence = yaml.safe_load(prepared.text)["evaluation"]
    assert evidence["partial_evidence"] == {"confirmed_by_user": True, "reasons": gaps, "candidate_examples": 1, "run_examples": 10}
    assert evidence["provenance"]["validation_examples"] == 1
    assert "**PARTIAL EVIDENCE (exported with --allow-partial):** scored on 1 of the run's 10 examples" in prepared.review_markdown

    refused = run_cli("export", run_id, "--candidate", partial, "--repo", str(repo), "--no-commit", "--store", str(store.path))
    assert refused.returncode == 2 and "--allow-partial" in refused.stderr
    assert not (repo / "prompt_templates").exists()  # nothing written
    allowed = run_cli("export", run_id, "--candidate", partial, "--repo", str(repo), "--no-commit", "--allow-partial",
                      "--store", str(store.path))
    assert allowed.returncode == 0, allowed.stderr
    written = yaml.safe_load((repo / "prompt_templates/k8s_log_analysis_v1.yaml").read_text())
    assert written["evaluation"]["partial_evidence"]["confirmed_by_user"] is True


def test_compare_page_names_n_and_asks_before_exporting_partial_evidence(fake_client) -> None:
    from optimizer.config.paths import default_store_path
    from optimizer.evaluate.store import RunStore

    from conftest import open_page

    with RunStore(default_store_path()) as store:
        run_id, partial, baseline_id = make_partial_run(store, fake_client)
    app = open_page("views/compare.py")
    picker = app.multiselect(key=f"compare_candidates::{run_id}")
    assert any(option.endswith(f"{partial} · n=1 of 10") for option in picker.options)
    picker.set_value([baseline_id, partial]).run()
    # The paired sentence is over the one shared example and says that cannot separate anything.
    assert any("over 1 paired examples" in m.value and "too small to separate" in m.value for m in app.markdown)
    app.selectbox(key="export_candidate").set_value(partial).run()
    assert any("Partial evidence: scored on 1 of the run's 10 examples" in w.value for w in app.warning)
    assert app.checkbox(key="export_partial").value is False
