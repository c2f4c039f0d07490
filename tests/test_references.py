"""Issue 11 item 3: class-balanced metrics, trivial references and collapsed candidates.

Every expected number here is computed by hand from the definitions (or from the golden labels),
not read back from the code under test.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from optimizer.analysis.references import (
    Reference, annotate_leaderboard, best_constant_answer, collapsed_fields, leaderboard_with_references, majority_answer,
    run_references, task_dataset, trivial_references, verdict,
)
from optimizer.errors import ExportError
from optimizer.evaluate.store import EvaluationRow, RunStore
from optimizer.export.git import prepare_export
from optimizer.tasks.balanced import balanced_accuracy_contributions, macro_f1_contributions
from optimizer.tasks.spec import load_task

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ["a", "a", "a", "a", "a", "a", "b", "b", "c", "c"]
PREDICTED = ["a", "a", "a", "a", "a", "b", "b", "a", "a", "c"]


def test_balanced_accuracy_contributions_average_to_the_mean_recall() -> None:
    recalls = {"a": 5 / 6, "b": 1 / 2, "c": 1 / 2}
    contributions = balanced_accuracy_contributions(EXPECTED, PREDICTED)
    assert sum(contributions) / len(contributions) == pytest.approx(sum(recalls.values()) / 3)
    # a constant answer gets 1/K whatever the class mix; plain accuracy would give it 0.6
    constant = balanced_accuracy_contributions(EXPECTED, ["a"] * 10)
    assert sum(constant) / 10 == pytest.approx(1 / 3)


def test_macro_f1_contributions_average_to_the_mean_per_class_f1() -> None:
    def f1(label: str) -> float:
        tp = sum(e == p == label for e, p in zip(EXPECTED, PREDICTED))
        fp = sum(p == label != e for e, p in zip(EXPECTED, PREDICTED))
        fn = sum(e == label != p for e, p in zip(EXPECTED, PREDICTED))
        return 2 * tp / (2 * tp + fp + fn)

    contributions = macro_f1_contributions(EXPECTED, PREDICTED)
    assert sum(contributions) / len(contributions) == pytest.approx((f1("a") + f1("b") + f1("c")) / 3)
    # a predicted class nobody expected counts as a class with F1 0
    odd = macro_f1_contributions(["a", "b"], ["a", "z"])
    assert sum(odd) / 2 == pytest.approx((1.0 + 0.0 + 0.0) / 3)


def test_k8s_scores_severity_and_action_balanced_over_a_runs_examples() -> None:
    task = load_task("k8s_log_analysis")
    assert task.outputs["severity"].metric == task.outputs["action_required"].metric == "balanced_accuracy"
    validation = task_dataset(task).validation  # all four severities occur here
    weights = task.class_weights([e.expected for e in validation])
    always_info = [task.score(e.expected, {"severity": "info", "action_required": "no"}, class_weights=weights)[0] for e in validation]
    perfect = [task.score(e.expected, e.expected, class_weights=weights)[0] for e in validation]
    n = len(validation)
    assert sum(s["severity"] for s in always_info) / n == pytest.approx(1 / 4)
    assert sum(s["action_required"] for s in always_info) / n == pytest.approx(1 / 2)
    assert sum(s["severity"] for s in perfect) / n == pytest.approx(1.0)
    assert sum(s["action_required"] for s in perfect) / n == pytest.approx(1.0)
    # without a split (no class counts) a field is plain exact match
    assert task.score({"severity": "info"}, {"severity": "info"})[0]["severity"] == 1.0


def test_references_from_the_labels_alone() -> None:
    task = load_task("k8s_log_analysis")
    validation = task_dataset(task).validation
    severities = Counter(e.expected["severity"] for e in validation)
    assert majority_answer(task, validation)["severity"] == severities.most_common(1)[0][0] == "info"
    majority, best = trivial_references(task, validation)
    assert majority.name == "majority label" and best.name == "best constant"
    # the best constant is chosen to score best field by field, so it can't be below the majority
    assert best.mean() >= majority.mean() - 1e-12
    # balanced fields: any constant scores 1/K; the root cause constant is one of the expected texts
    fields = {name: sum(scores[name] for scores, _ in majority.per_example.values()) / len(validation) for name in task.outputs}
    assert fields["severity"] == pytest.approx(0.25) and fields["action_required"] == pytest.approx(0.5)
    assert best_constant_answer(task, validation)["root_cause"] in {e.expected["root_cause"] for e in validation}
    expected_overall = 0.2 * fields["root_cause"] + 0.4 * 0.25 + 0.4 * 0.5
    assert majority.mean() == pytest.approx(expected_overall)


def test_collapse_flag() -> None:
    task = load_task("k8s_log_analysis")
    expected = [{"severity": "info" if i % 2 else "error", "action_required": "no" if i % 2 else "yes"} for i in range(20)]
    parrot = [{"severity": "info", "action_required": "no"} for _ in range(19)] + [{"severity": "error", "action_required": "yes"}]
    assert collapsed_fields(task, parrot, expected) == {"severity": ("info", 0.95), "action_required": ("no", 0.95)}
    varied = [dict(record) for record in expected]
    assert collapsed_fields(task, varied, expected) == {}
    # answering the skewed truth is not a collapse; too few answers are never flagged
    skewed = [{"severity": "info", "action_required": "no"}] * 20
    assert collapsed_fields(task, skewed, skewed) == {}
    assert collapsed_fields(task, parrot[:9], expected[:9]) == {}
    # a field the model never answers collapses to "" (missing)
    assert collapsed_fields(task, [{}] * 12, expected[:12])["severity"] == ("", 1.0)


def test_verdict_needs_a_significant_paired_margin() -> None:
    reference = Reference("majority label", {}, {f"e{i}": ({}, 0.5) for i in range(40)})
    same = {f"e{i}": 0.5 for i in range(40)}
    slightly = {f"e{i}": 0.5 + (0.1 if i == 0 else 0.0) for i in range(40)}
    clearly = {f"e{i}": 0.9 for i in range(40)}
    assert not verdict(same, [reference]).above
    assert not verdict(slightly, [reference]).above
    clear = verdict(clearly, [reference])
    assert clear.above and clear.delta == pytest.approx(0.4) and clear.n == 40
    assert "NOT above trivial" in verdict(same, [reference]).label()


def _store_run(store: RunStore, task_name: str, answers: dict[str, list[dict]], *, run_id: str = "r1",
               split: str = "validation") -> tuple[str, list]:
    """A run stored the way the engine stores one, each candidate answering ``answers[candidate]``
    on the first examples of ``split``."""
    from optimizer.evaluate.engine import WorkItem, run_class_weights, score_row
    from optimizer.prompts.templates import load_template

    task = load_task(task_name)
    examples = task_dataset(task).split(split)[:20]
    config = {"example_ids": [e.id for e in examples], **({"split": split} if split != "validation" else {})}
    store.create_run(id=run_id, task=task_name, strategy="grid", status="completed", config=config,
                     config_hash="x", dataset_path="golden", dataset_sha256="0" * 64, model_identity="m", server_url="u",
                     sampling={}, seed=0, n_candidates=len(answers), n_examples=len(examples))
    template = load_template(ROOT / "prompt_templates" / "k8s_log_analysis_v1.yaml").model_dump()
    store.add_candidates(run_id, [(cid, {"c": cid}, template) for cid in answers])
    rows: list[EvaluationRow] = []
    for cid, records in answers.items():
        for example, record in zip(examples, records):
            content = "\n".join(f"{task.outputs[name].label}: {value}" for name, value in record.items())
            item = WorkItem(cid, None, example)  # type: ignore[arg-type]
            rows.append(score_row(task, item, {"content": content}, cached=False,
                                  class_weights=run_class_weights(store, run_id, task, examples)))
    store.insert_evaluations(run_id, rows)
    return run_id, examples


def test_leaderboard_shows_references_and_marks_parrots(store: RunStore) -> None:
    task = load_task("k8s_log_analysis")
    examples = task_dataset(task).validation[:20]
    parrot = [{"root_cause": "No issue", "severity": "info", "action_required": "no"} for _ in examples]
    oracle = [dict(e.expected) for e in examples]
    run_id, _ = _store_run(store, "k8s_log_analysis", {"parrot": parrot, "oracle": oracle})
    table = leaderboard_with_references(store, run_id)
    references = table[table["is_reference"]]
    assert list(references["candidate_id"]) == ["ref: majority label", "ref: best constant"]
    assert set(references["rank"]) == {"ref"} and (references["n"] == 20).all()
    rows = table.set_index("candidate_id")
    assert rows.loc["oracle", "above_trivial"] and rows.loc["oracle", "collapsed"] == ""
    assert not rows.loc["parrot", "above_trivial"]
    assert rows.loc["parrot", "vs_trivial"].startswith("NOT above trivial")
    assert "severity=info 100%" in rows.loc["parrot", "collapsed"] and "action_required=no 100%" in rows.loc["parrot", "collapsed"]
    # the stored score is already balanced over the run's 20 examples: 1/K for a constant, 1.0 for the truth
    rows = store.evaluation_rows(run_id)
    classes = len({e.expected["severity"] for e in examples})
    for candidate, mean in (("parrot", 1 / classes), ("oracle", 1.0)):
        scores = [json.loads(r["field_scores_json"])["severity"] for r in rows if r["candidate_id"] == candidate]
        assert sum(scores) / 20 == pytest.approx(mean)


def test_annotate_without_references_keeps_the_table() -> None:
    import pandas as pd

    table = pd.DataFrame({"rank": [1], "candidate_id": ["c"], "overall": [0.5], "n": [1]})
    frame = pd.DataFrame({"candidate_id": ["c"], "example_id": ["e"], "overall": [0.5]})
    annotated = annotate_leaderboard(None, table, frame, [], {})
    assert list(annotated["candidate_id"]) == ["c"] and annotated.loc[0, "vs_trivial"] == "-"


def _git_repo(path: Path) -> Path:
    (path / "prompt_templates").mkdir(parents=True)
    for arguments in (["init", "-q", "-b", "main"], ["config", "user.email", "ci@example.com"], ["config", "user.name", "CI"],
                      ["commit", "-q", "--allow-empty", "-m", "initial"]):
        subprocess.run(["git", "-C", str(path), *arguments], check=True, capture_output=True)
    return path


def test_export_refuses_a_collapsed_candidate_unless_confirmed(store: RunStore, tmp_path: Path) -> None:
    examples = task_dataset(load_task("k8s_log_analysis")).validation[:20]
    parrot = [{"root_cause": "No issue", "severity": "info", "action_required": "no"} for _ in examples]
    run_id, _ = _store_run(store, "k8s_log_analysis", {"parrot": parrot})
    repo = _git_repo(tmp_path / "repo")
    with pytest.raises(ExportError, match="collapse.*severity=info 100%.*--allow-degenerate"):
        prepare_export(store, run_id, "parrot", repo=repo)
    prepared = prepare_export(store, run_id, "parrot", repo=repo, allow_degenerate=True)
    evaluation = yaml.safe_load(prepared.text)["evaluation"]
    assert evaluation["degenerate"]["confirmed_by_user"] is True
    assert evaluation["degenerate"]["collapsed_fields"]["severity"] == {"value": "info", "share": 1.0}
    assert evaluation["trivial_reference"]["above"] is False and evaluation["trivial_reference"]["n"] == 20
    assert "DEGENERATE" in prepared.commit_body and "NOT above" in prepared.commit_body
    assert "test" not in evaluation  # nothing was evaluated on the test split


def test_export_reports_validation_and_test_apart(store: RunStore, tmp_path: Path) -> None:
    task = load_task("k8s_log_analysis")
    dataset = task_dataset(task)
    validation, test = dataset.validation[:20], dataset.test[:20]
    # right on validation, always "error"/"yes" on test: the two sections must not mix
    run_id, _ = _store_run(store, "k8s_log_analysis", {"oracle": [dict(e.expected) for e in validation]})
    wrong = [{"root_cause": "x", "severity": "error", "action_required": "yes"} for _ in test]
    _store_run(store, "k8s_log_analysis", {"oracle": wrong}, run_id="t1", split="test")
    repo = _git_repo(tmp_path / "repo")
    evaluation = yaml.safe_load(prepare_export(store, run_id, "oracle", repo=repo).text)["evaluation"]
    assert evaluation["split"] == "validation"
    assert evaluation["trivial_reference"]["above"] is True
    assert evaluation["test"]["run_id"] == "t1" and evaluation["test"]["examples"] == 20
    weights = task.class_weights([e.expected for e in test])
    scored = [task.score(e.expected, w, class_weights=weights)[1] for e, w in zip(test, wrong)]
    assert evaluation["test"]["scores"]["overall"]["mean"] == pytest.approx(sum(scored) / 20, abs=1e-4)
    assert evaluation["scores"]["overall"]["mean"] > evaluation["test"]["scores"]["overall"]["mean"]
    # a test-split run is never the source of an export (it would choose on test)
    with pytest.raises(ExportError, match="test split"):
        prepare_export(store, "t1", "oracle", repo=repo)


def test_run_and_compare_pages_draw_references_and_flags() -> None:
    from conftest import open_page
    from optimizer.config.paths import default_store_path

    examples = task_dataset(load_task("k8s_log_analysis")).validation[:20]
    with RunStore(default_store_path()) as store:
        _store_run(store, "k8s_log_analysis", {
            "oracle": [dict(e.expected) for e in examples],
            "parrot": [{"root_cause": "No issue", "severity": "info", "action_required": "no"} for _ in examples],
        })
    compare = open_page("views/compare.py")
    assert compare.multiselect(key="compare_candidates::r1").value == ["oracle", "parrot"]
    warnings = [element.value for element in compare.warning]
    assert any("parrot is degenerate" in text and "severity=info 100%" in text for text in warnings)
    captions = [element.value for element in compare.caption]
    assert any(text.startswith("#1 oracle vs the trivial references: above trivial") for text in captions)
    assert any(text.startswith("#2 parrot vs the trivial references: NOT above trivial") for text in captions)
    compare.session_state["whole_run"] = True  # open "Whole run"
    compare.run()
    board = next(frame.value for frame in compare.dataframe if "is_reference" in frame.value)  # the whole-run board
    assert {"ref: majority label", "ref: best constant"} <= set(board["candidate_id"])
    assert board.set_index("candidate_id").loc["parrot", "collapsed"].startswith("severity=info 100%")

    run_page = open_page("views/run.py")
    shown = next(frame.value for frame in run_page.dataframe if "candidate_id" in frame.value and "vs_trivial" in frame.value)
    assert list(shown["candidate_id"][-2:]) == ["ref: majority label", "ref: best constant"]
    assert not [element for element in run_page.warning if "trivial" in element.value]  # the oracle is above them


def test_a_right_answer_is_not_a_failure_on_a_balanced_field(store: RunStore) -> None:
    """Per-example scores on a balanced field are class weights, not 1.0: "failure" compares with
    what the expected answer itself scores."""
    from optimizer.analysis.compare import example_table, load_run_data
    from optimizer.analysis.references import perfect_scores

    examples = task_dataset(load_task("k8s_log_analysis")).validation[:20]
    answers = [dict(e.expected) for e in examples]
    answers[3] = {**answers[3], "severity": "critical" if answers[3]["severity"] != "critical" else "info"}
    run_id, _ = _store_run(store, "k8s_log_analysis", {"almost": answers, "oracle": [dict(e.expected) for e in examples]})
    data = load_run_data(store, run_id)
    ids = [e.id for e in examples]
    table = example_table(data, ["almost", "oracle"], {e.id: e.expected for e in examples}, perfect_scores(store, run_id, ids))
    assert table.loc[table["any_failure"], "example_id"].tolist() == [examples[3].id]


def test_macro_f1_field_is_scored_per_candidate_over_its_examples(store: RunStore, tmp_path: Path) -> None:
    """A task field declared ``macro_f1`` reads as macro-F1 in every frame (leaderboard, Compare, export)."""
    from optimizer.evaluate.leaderboard import evaluations_frame, leaderboard

    spec = yaml.safe_load((ROOT / "prompt_templates/tasks/k8s_log_analysis.yaml").read_text())
    spec["outputs"]["severity"]["metric"] = "macro_f1"
    spec["dataset"] = str(ROOT / "golden/k8s_log_analysis.jsonl")
    task_file = tmp_path / "k8s_macro.yaml"
    task_file.write_text(yaml.safe_dump(spec))
    examples = task_dataset(load_task("k8s_log_analysis")).validation[:20]
    guesses = ["info" if i % 3 else "error" for i in range(20)]
    answers = [{**e.expected, "severity": guess} for e, guess in zip(examples, guesses)]
    run_id, _ = _store_run(store, str(task_file), {"guess": answers})
    truth = [e.expected["severity"] for e in examples]
    classes = set(truth) | set(guesses)

    def f1(label: str) -> float:
        tp = sum(t == g == label for t, g in zip(truth, guesses))
        return 2 * tp / (truth.count(label) + guesses.count(label))

    macro = sum(f1(label) for label in classes) / len(classes)
    # the references read the same way: a constant "info" has F1 only on info, 2 n_info / (n_info + N), over K classes
    majority = next(r for r in run_references(store, run_id) if r.name == "majority label")
    n_info, n_classes = truth.count("info"), len(set(truth))
    majority_severity = sum(scores["severity"] for scores, _ in majority.per_example.values()) / 20
    assert majority_severity == pytest.approx(2 * n_info / (n_info + 20) / n_classes)
    frame = evaluations_frame(store, run_id)
    assert frame["score_severity"].mean() == pytest.approx(macro)
    row = leaderboard(store, run_id, frame).iloc[0]
    expected_overall = (0.2 * row["score_root_cause"] + 0.4 * macro + 0.4 * row["score_action_required"])
    assert row["overall"] == pytest.approx(expected_overall)


def test_cli_leaderboard_runs_and_export_show_references_and_guard_collapse(tmp_path: Path) -> None:
    from conftest import run_cli

    store_path = tmp_path / "cli.sqlite"
    examples = task_dataset(load_task("k8s_log_analysis")).validation[:20]
    with RunStore(store_path) as store:
        _store_run(store, "k8s_log_analysis", {
            "oracle": [dict(e.expected) for e in examples],
            "parrot": [{"root_cause": "No issue", "severity": "info", "action_required": "no"} for _ in examples],
        })
    board = run_cli("leaderboard", "r1", "--store", str(store_path))
    assert board.returncode == 0, board.stderr
    lines = board.stdout.splitlines()
    assert [line.split()[1] for line in lines[-2:]] == ["ref:", "ref:"] and "majority" in lines[-2] and "constant" in lines[-1]
    parrot_line = next(line for line in lines if " parrot " in line)
    assert "NOT above trivial" in parrot_line and "severity=info 100%" in parrot_line
    assert "above trivial (+" in next(line for line in lines if " oracle " in line)
    listing = run_cli("runs", "--store", str(store_path))
    assert listing.returncode == 0 and "trivial" in listing.stdout.splitlines()[0]
    majority = trivial_references(load_task("k8s_log_analysis"), examples)
    assert f"{max(r.mean() for r in majority):.3f}" in listing.stdout.splitlines()[1]
    repo = _git_repo(tmp_path / "repo")
    refused = run_cli("export", "r1", "--candidate", "parrot", "--repo", str(repo), "--no-commit", "--store", str(store_path))
    assert refused.returncode == 2 and "--allow-degenerate" in refused.stderr
    assert not list((repo / "prompt_templates").iterdir())  # nothing written
    allowed = run_cli("export", "r1", "--candidate", "parrot", "--repo", str(repo), "--no-commit", "--allow-degenerate",
                      "--store", str(store_path))
    assert allowed.returncode == 0, allowed.stderr
    written = yaml.safe_load((repo / "prompt_templates" / "k8s_log_analysis_v1.yaml").read_text())
    assert written["evaluation"]["degenerate"]["confirmed_by_user"] is True


def test_class_weights_are_fixed_per_run_and_old_runs_stay_unweighted(store: RunStore) -> None:
    from optimizer.evaluate.engine import run_class_weights

    task = load_task("k8s_log_analysis")
    examples = task_dataset(task).validation[:20]
    run_id, _ = _store_run(store, "k8s_log_analysis", {"oracle": [dict(e.expected) for e in examples]})
    stored = store.get_run(run_id).config["class_weights"]
    info = sum(e.expected["severity"] == "info" for e in examples)
    classes = len({e.expected["severity"] for e in examples})
    assert stored["severity"]["info"] == pytest.approx(20 / (classes * info))
    # a later round on fewer examples weighs the same way (the run's examples decide, not the round's)
    assert run_class_weights(store, run_id, task, examples[:4]) == stored

    # a run scored before balanced metrics existed: rows but no stored weights -> stays plain exact match
    store.create_run(id="old", task="k8s_log_analysis", strategy="grid", status="completed", config={"example_ids": [e.id for e in examples]},
                     config_hash="x", dataset_path="golden", dataset_sha256="0" * 64, model_identity="m", server_url="u",
                     sampling={}, seed=0, n_candidates=1, n_examples=20)
    store.insert_evaluations("old", [EvaluationRow("c", examples[0].id, "x", {}, None, {"severity": 1.0}, 1.0, None, None, None,
                                                   None, None, False, None)])
    assert run_class_weights(store, "old", task, examples) == {}
    majority = next(r for r in run_references(store, "old") if r.name == "majority label")
    assert sum(scores["severity"] for scores, _ in majority.per_example.values()) / 20 == pytest.approx(info / 20)


def test_overview_latest_runs_show_the_trivial_reference(store: RunStore) -> None:
    from optimizer.app.overview import latest_runs

    examples = task_dataset(load_task("k8s_log_analysis")).validation[:20]
    run_id, _ = _store_run(store, "k8s_log_analysis", {"oracle": [dict(e.expected) for e in examples]})
    row = latest_runs(store).set_index("run").loc[run_id]
    assert row["trivial reference"] == pytest.approx(max(r.mean() for r in run_references(store, run_id)))
    assert row["best overall"] > row["trivial reference"]


def test_the_live_leaderboard_gets_the_reference_rows_too(store: RunStore) -> None:
    from optimizer.analysis.references import with_reference_rows
    from optimizer.evaluate.leaderboard import live_leaderboard

    examples = task_dataset(load_task("k8s_log_analysis")).validation[:20]
    run_id, _ = _store_run(store, "k8s_log_analysis", {"oracle": [dict(e.expected) for e in examples]})
    references = run_references(store, run_id)
    table = with_reference_rows(live_leaderboard(store, run_id), references)
    assert list(table["candidate_id"]) == ["oracle", "ref: majority label", "ref: best constant"]
    assert table.loc[1, "overall"] == pytest.approx(references[0].mean()) and list(table["is_reference"]) == [False, True, True]


def test_run_page_warns_when_no_candidate_beats_the_references() -> None:
    from conftest import open_page
    from optimizer.config.paths import default_store_path

    examples = task_dataset(load_task("k8s_log_analysis")).validation[:20]
    with RunStore(default_store_path()) as store:
        _store_run(store, "k8s_log_analysis", {"parrot": [{"root_cause": "No issue", "severity": "info", "action_required": "no"}
                                                          for _ in examples]})
    run_page = open_page("views/run.py")
    assert any("No candidate is significantly above the trivial references" in element.value for element in run_page.warning)
