"""Issue 11 item 4: the test split is scored only for a chosen template and reported apart."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import GOLDEN_K8S, ROOT, run_cli
from fake_openai import FakeLLM
from optimizer.errors import ConfigError
from optimizer.evaluate.leaderboard import leaderboard
from optimizer.evaluate.runner import RunRequest, plan_run, plan_stored_candidate
from optimizer.evaluate.store import RunStore


def test_a_search_never_runs_on_the_test_split() -> None:
    for strategy in ("grid", "random", "halving"):
        with pytest.raises(ConfigError, match="chooses on validation only"):
            plan_run(RunRequest(task="k8s_log_analysis", strategy=strategy, max_candidates=2, split="test"))
    with pytest.raises(ConfigError, match="split must be one of"):
        plan_run(RunRequest(task="k8s_log_analysis", template="prompt_templates/k8s_log_analysis_v1.yaml", split="train"))
    test_plan = plan_run(RunRequest(task="k8s_log_analysis", template="prompt_templates/k8s_log_analysis_v1.yaml", split="test"))
    validation_plan = plan_run(RunRequest(task="k8s_log_analysis", template="prompt_templates/k8s_log_analysis_v1.yaml"))
    assert {e.split for e in test_plan.examples} == {"test"} and len(test_plan.examples) == 60
    assert {e.split for e in validation_plan.examples} == {"validation"} and len(validation_plan.examples) == 60


def test_export_with_test_scores_the_chosen_candidate_on_test_and_reports_it_apart(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    repo = tmp_path / "repo"
    (repo / "prompt_templates").mkdir(parents=True)
    for arguments in (["init", "-q", "-b", "main"], ["config", "user.email", "ci@example.com"], ["config", "user.name", "CI"],
                      ["commit", "-q", "--allow-empty", "-m", "initial"]):
        subprocess.run(["git", "-C", str(repo), *arguments], check=True, capture_output=True)
    fake = FakeLLM(GOLDEN_K8S)
    with fake.serve() as url:
        optimized = run_cli("optimize", "--task", "k8s_log_analysis", "--strategy", "grid", "--candidates", "2", "--examples", "10",
                            "--url", url, "--store", str(store_path))
        assert optimized.returncode == 0, optimized.stderr
        run_id = optimized.stdout.split("run ", 2)[1].split(":")[0]
        with RunStore(store_path) as store:
            board_before = leaderboard(store, run_id)
            baseline_id = store.get_run(run_id).config["baseline_id"]
        chosen = str(board_before[board_before["candidate_id"] != baseline_id].iloc[0]["candidate_id"])
        calls_before = len(fake.calls)
        # --allow-partial: 10 validation examples cannot separate the winner from the baseline (issue 13's guard)
        exported = run_cli("export", run_id, "--candidate", chosen, "--with-test", "--no-commit", "--allow-degenerate", "--allow-partial",
                           "--repo", str(repo), "--url", url, "--store", str(store_path))
        assert exported.returncode == 0, exported.stderr
        assert "scoring" in exported.stdout and "60 test examples" in exported.stdout
        # one call per test example for the candidate and one for the baseline beside it, none for validation
        assert len(fake.calls) - calls_before == 120
        again = run_cli("export", run_id, "--candidate", chosen, "--with-test", "--no-commit", "--allow-degenerate", "--allow-partial",
                        "--repo", str(tmp_path / "none"), "--url", url, "--store", str(store_path))
        assert "using the stored test evaluation" in again.stdout and len(fake.calls) - calls_before == 120
    evaluation = yaml.safe_load((repo / "prompt_templates" / "k8s_log_analysis_v1.yaml").read_text())["evaluation"]
    assert evaluation["split"] == "validation" and evaluation["provenance"]["validation_examples"] == 10
    assert evaluation["test"]["examples"] == 60
    with RunStore(store_path) as store:
        test_run = store.get_run(evaluation["test"]["run_id"])
        assert test_run.config["split"] == "test" and test_run.strategy == "template"
        assert {store.get_run(run_id).config.get("split", "validation")} == {"validation"}
        test_board = leaderboard(store, test_run.id)
        mine = test_board[test_board["candidate_id"] == chosen].iloc[0]
        assert evaluation["test"]["scores"]["overall"]["mean"] == pytest.approx(mine["overall"], abs=1e-4)
        # the paired comparison with the baseline on the same 60 test examples
        base = test_board[test_board["candidate_id"] == baseline_id].iloc[0]
        paired = evaluation["test"]["baseline"]
        assert paired["candidate_id"] == baseline_id and paired["paired_examples"] == 60
        assert paired["delta_overall"] == pytest.approx(mine["overall"] - base["overall"], abs=1e-3)
        # the test numbers changed nothing about the validation run the candidate was chosen from
        assert leaderboard(store, run_id).equals(board_before)


def test_testing_a_candidate_of_a_run_on_a_one_off_dataset_uses_that_file(tmp_path: Path) -> None:
    # A run scored on `--dataset FILE` is tested on FILE's test split, not on the task's own file.
    import json

    lines = [json.loads(line) for line in GOLDEN_K8S.read_text().splitlines() if line.strip()]
    mine = [line for line in lines if line["split"] == "validation"][:6] + [line for line in lines if line["split"] == "test"][-4:]
    one_off = tmp_path / "mine.jsonl"
    one_off.write_text("".join(json.dumps(line) + "\n" for line in mine))
    store_path = tmp_path / "s.sqlite"
    with FakeLLM(GOLDEN_K8S).serve() as url:
        optimized = run_cli("optimize", "--task", "k8s_log_analysis", "--strategy", "grid", "--candidates", "2", "--dataset",
                            str(one_off), "--url", url, "--store", str(store_path))
    assert optimized.returncode == 0, optimized.stderr
    run_id = optimized.stdout.split("run ", 2)[1].split(":")[0]
    with RunStore(store_path) as store:
        candidate = store.candidates(run_id)[-1]["candidate_id"]
        plan = plan_stored_candidate(store, run_id, candidate)
    assert [example.id for example in plan.examples] == [line["id"] for line in mine[6:]]
    assert plan.dataset.path == one_off.resolve() and plan.request.dataset == str(one_off.resolve())


def test_eval_split_test_from_the_cli(tmp_path: Path) -> None:
    with FakeLLM(GOLDEN_K8S).serve() as url:
        result = run_cli("eval", "--template", "prompt_templates/k8s_log_analysis_v1.yaml", "--split", "test", "--examples", "6",
                         "--url", url, "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 0, result.stderr
    with RunStore(tmp_path / "s.sqlite") as store:
        run = store.list_runs()[0]
    assert run.config["split"] == "test" and all(example_id in _test_ids() for example_id in run.config["example_ids"])
    assert len(run.config["example_ids"]) == 6


def _test_ids() -> set[str]:
    import json

    return {json.loads(line)["id"] for line in (ROOT / "golden" / "k8s_log_analysis.jsonl").read_text().splitlines()
            if line.strip() and json.loads(line)["split"] == "test"}


@pytest.mark.real_llm
def test_real_model_validation_and_test_runs_show_trivial_references(real_server, tmp_path: Path) -> None:
    """Six calls to the real SmolLM2 server: 3 validation and 3 test examples of the v1 template."""
    from optimizer.analysis.references import leaderboard_with_references

    store_path = tmp_path / "s.sqlite"
    outputs = {}
    for split in ("validation", "test"):
        result = run_cli("eval", "--template", "prompt_templates/k8s_log_analysis_v1.yaml", "--examples", "3", "--split", split,
                         "--url", real_server.url, "--store", str(store_path))
        assert result.returncode == 0, result.stderr
        outputs[split] = result.stdout
        assert "ref: majority label" in result.stdout and "ref: best constant" in result.stdout
    with RunStore(store_path) as store:
        runs = {run.config.get("split", "validation"): run for run in store.list_runs()}
        assert set(runs) == {"validation", "test"}
        assert {example_id[:4] for example_id in runs["test"].config["example_ids"]} == {"k8s-"}
        assert set(runs["test"].config["example_ids"]) <= _test_ids()
        for run in runs.values():
            table = leaderboard_with_references(store, run.id)
            candidate = table[~table["is_reference"]].iloc[0]
            # 3 examples cannot show a significant margin over a constant answer, whatever the model says
            assert candidate["vs_trivial"].startswith("NOT above trivial") and not candidate["above_trivial"]
