"""The headless CLI end to end against the fake HTTP server."""

from __future__ import annotations

from pathlib import Path

import yaml
from fake_openai import FakeLLM

from optimizer.prompts.versions import load_prompt
from optimizer.evaluate.store import RunStore

from conftest import GOLDEN_K8S, ROOT, run_cli


def test_optimize_prints_plan_progress_and_leaderboard(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    with FakeLLM(GOLDEN_K8S).serve() as url:
        result = run_cli("optimize", "--task", "k8s_log_analysis", "--strategy", "random", "--candidates", "3",
                         "--examples", "4", "--url", url, "--store", str(store_path))
    assert result.returncode == 0, result.stderr
    assert "plan: 4 candidates x 4 examples = 16 calls; 0 of 16 calls are in the response cache" in result.stdout
    assert "4 of 60 validation examples, stratified by example groups" in result.stdout
    assert "16/16 100%" in result.stderr  # the final progress line
    header = next(line for line in result.stdout.splitlines() if line.strip().startswith("rank"))
    for column in ("overall", "root_cause", "severity", "action_required", "parse_failure_rate", "mean_latency_s", "mean_completion_tokens"):
        assert column in header
    with RunStore(store_path) as store:
        run = store.list_runs()[0]
        assert run.status == "completed" and store.count_evaluations(run.id) == 16
    listed = run_cli("runs", "--store", str(store_path))
    assert run.id in listed.stdout and "completed" in listed.stdout


def test_dry_run_estimates_from_measured_seconds(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    result = run_cli("optimize", "--task", "k8s_log_analysis", "--strategy", "grid", "--examples", "10", "--dry-run",
                     "--store", str(store_path))
    assert result.returncode == 0, result.stderr
    assert "plan: 325 candidates x 10 examples = 3250 calls" in result.stdout
    assert "default guess" in result.stdout


def test_eval_scores_the_baseline_and_export_writes_next_version(tmp_path: Path, workspace: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    with FakeLLM(GOLDEN_K8S).serve() as url:
        result = run_cli("eval", "--template", "prompt_templates/k8s_log_analysis_v1.yaml", "--examples", "5",
                         "--url", url, "--store", str(store_path))
    assert result.returncode == 0, result.stderr
    assert "plan: 1 candidates x 5 examples = 5 calls" in result.stdout
    with RunStore(store_path) as store:
        run = store.list_runs()[0]
        assert run.strategy == "template" and store.count_evaluations(run.id) == 5
        candidate_id = store.candidates(run.id)[0]["candidate_id"]
    # export into a scratch git repository: the next version is v2, committed with its evidence
    import subprocess

    repo = tmp_path / "repo"
    (repo / "prompt_templates").mkdir(parents=True)
    (repo / "prompt_templates" / "k8s_log_analysis_v1.yaml").write_text((ROOT / "prompt_templates" / "k8s_log_analysis_v1.yaml").read_text())
    for command in (["init", "-q", "-b", "main"], ["-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-q", "--allow-empty", "-m", "init"]):
        subprocess.run(["git", *command], cwd=repo, check=True)
    exported = run_cli("export", run.id, "--candidate", candidate_id, "--repo", str(repo), "--store", str(store_path),
                       "--current-branch", "--allow-partial", env={"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
                                     "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"})
    assert exported.returncode == 0, exported.stderr
    version = load_prompt("k8s_log_analysis", root=repo)
    assert version.id == "k8s_log_analysis_v2"
    assert version.evaluation["provenance"]["run_id"] == run.id
    assert version.evaluation["provenance"]["validation_examples"] == 5


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    result = run_cli("optimize", "--task", "nope", "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: unknown task 'nope'")
    outside = run_cli("eval", "--template", "/etc/passwd", "--store", str(tmp_path / "s.sqlite"))
    assert outside.returncode == 2
    assert "resolves outside the repository" in outside.stderr


def test_unreachable_server_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("optimize", "--task", "k8s_log_analysis", "--candidates", "1", "--examples", "2",
                     "--url", "http://127.0.0.1:9", "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 2
    assert "error: no OpenAI-compatible server answers at http://127.0.0.1:9" in result.stderr
