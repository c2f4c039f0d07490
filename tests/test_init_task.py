"""Bring your own task: inference from a JSONL file, the written files, validation and errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from optimizer.errors import DatasetError, WorkbenchError
from optimizer.tasks.init import infer_task, propose_metric

from conftest import run_cli

REVIEWS = [
    ("I loved this phone, the battery lasts two days.", "positive"), ("Screen cracked after a week. Terrible.", "negative"),
    ("It is a phone. It makes calls.", "neutral"), ("Best purchase this year, fast and light.", "positive"),
    ("Support never answered my emails.", "negative"), ("Arrived on time; nothing special.", "neutral"),
    ("Camera is superb and the price fair.", "positive"), ("Battery died in a day, very disappointed.", "negative"),
    ("Does what it says.", "neutral"), ("Wonderful sound, great value.", "positive"), ("Broke on day two.", "negative"),
    ("Average phone for an average price.", "neutral"),
]


def write_reviews(path: Path) -> Path:
    path.write_text("".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in REVIEWS))
    return path


def test_metrics_are_proposed_from_the_values() -> None:
    labels = propose_metric("sentiment", ["pos", "neg", "pos", "neu", "neg", "pos"])
    assert labels.metric == "exact_match" and labels.choices == ["neg", "neu", "pos"]
    text = propose_metric("summary", [f"a different summary number {n}" for n in range(8)])
    assert text.metric == "token_f1" and text.choices is None
    objects = propose_metric("entities", [{"name": "x"}, [1, 2], {"k": 1}])
    assert objects.metric == "json_valid" and objects.kind == "json"


def test_golden_format_and_flat_records_are_both_understood() -> None:
    golden = '{"id": "a", "split": "train", "question": "2+2?", "expected": {"answer": "4", "work": {"steps": 1}}}\n' \
             '{"id": "b", "question": "3+3?", "expected": {"answer": "6", "work": {"steps": 2}}}\n'
    draft = infer_task("math", golden, "math.jsonl")
    assert draft.inputs == ["question"] and [p.name for p in draft.outputs] == ["answer", "work"]
    assert draft.parser_style == "json" and draft.records[0]["split"] == "train"
    flat = infer_task("flat", '{"q": "x", "target": "y"}\n{"q": "z", "target": "w"}\n', "flat.jsonl")
    assert flat.inputs == ["q"] and flat.outputs[0].name == "target" and flat.records[1]["id"] == "flat-0002"


@pytest.mark.parametrize(("text", "message"), [
    ('{"text": "a", "label": "x"}\n{"text": "b"}\n', "flat.jsonl:2: output field 'label' is missing"),
    ('{"text": "a", "label": "x"}\n{"label": "y"}\n', "flat.jsonl:2: input field 'text' is missing (line 1 has it)"),
    ('{"text": "a", "label": "x"}\nnot json\n', "flat.jsonl:2: not valid JSON"),
    ('{"text": "a"}\n', "flat.jsonl:1: no output field"),
    ('{"text": "a", "label": "x", "split": "bogus"}\n', "flat.jsonl:1: field 'split' must be one of train, validation"),
    ('{"id": "1", "text": "a", "label": "x"}\n{"id": "1", "text": "b", "label": "y"}\n', "flat.jsonl:2: field 'id': duplicate '1'"),
    ('{"my text": "a", "label": "x"}\n', "flat.jsonl:1: field 'my text' is not usable in a template"),
])
def test_errors_name_the_line_and_the_field(text: str, message: str) -> None:
    with pytest.raises(DatasetError) as caught:
        infer_task("flat", text, "flat.jsonl")
    assert str(caught.value).startswith(message), str(caught.value)


def test_cli_init_task_writes_validated_files_that_a_run_uses(workspace: Path, tmp_path: Path, fake_client) -> None:
    from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
    from optimizer.evaluate.store import RunStore

    dataset = write_reviews(tmp_path / "my.jsonl")
    result = run_cli("init-task", "reviews", "--dataset", str(dataset), "--prompt-text", "Classify the sentiment of this product review.")
    assert result.returncode == 0, result.stderr
    assert "output label: exact_match (3 distinct short values: a label set)" in result.stdout
    assert "12 examples from" in result.stdout and "(3 train, 7 validation, 2 test)" in result.stdout
    assert "validated: 6 candidates" in result.stdout or "validated: 12 candidates" in result.stdout
    baseline = (workspace / "prompt_templates/reviews_v1.yaml").read_text()
    assert "Classify the sentiment of this product review." in baseline and "Label: <one of negative, neutral, positive>" in baseline
    assert "max_tokens: 16" in baseline  # one short label field: a short answer budget
    # The new task runs like any other.
    plan = plan_run(RunRequest(task="reviews", strategy="grid", max_candidates=2))
    assert plan.baseline_id is not None and len(plan.examples) >= 1
    with RunStore(tmp_path / "s.sqlite") as store:
        run_id = asyncio.run(run_plan(store, plan, fake_client))
        assert store.count_evaluations(run_id) == len(plan.templates) * len(plan.examples)
    again = run_cli("init-task", "reviews", "--dataset", str(dataset))
    assert again.returncode == 2 and "already exists; choose another task name" in again.stderr


def test_a_failed_validation_leaves_nothing_behind(workspace: Path, tmp_path: Path) -> None:
    from optimizer.search.starter import create_task

    dataset = write_reviews(tmp_path / "my.jsonl")
    with pytest.raises(WorkbenchError, match="variable 'body' is not a field of the dataset"):
        create_task("reviews", dataset, prompt="Review: {{ body }}")
    assert not (workspace / "prompt_templates/tasks/reviews.yaml").exists()
    assert not (workspace / "golden/reviews.jsonl").exists()
    bad = run_cli("init-task", "reviews", "--dataset", str(tmp_path / "missing.jsonl"))
    assert bad.returncode == 2 and "missing.jsonl: dataset not found" in bad.stderr


def test_new_task_page_infers_then_creates(workspace: Path) -> None:
    from conftest import open_page

    app = open_page("views/new_task.py")
    assert not app.main.button  # nothing to create before a file is given
    text = "".join(json.dumps({"text": text, "label": label}) + "\n" for text, label in REVIEWS)
    # AppTest has no file-uploader driver: hand the page the uploaded bytes the way the widget would.
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    upload = UploadedFile(UploadedFileRec("f1", "reviews.jsonl", "application/jsonl", text.encode()), None)
    app.session_state["new_task_file"] = upload
    app.text_input(key="new_task_name").set_value("reviews").run()
    assert any("output label: exact_match" in markdown.value for markdown in app.markdown), [m.value for m in app.markdown]
    app.text_area(key="new_task_prompt").set_value("Classify the sentiment of this product review.").run()
    app.button(key="create_task").click().run()
    assert not app.main.error, [error.value for error in app.main.error]
    assert any(success.value.startswith("Created task reviews") for success in app.success)
    assert (workspace / "prompt_templates/tasks/reviews.yaml").exists()


def test_optimize_and_eval_score_a_one_off_dataset(tmp_path: Path) -> None:
    from fake_openai import FakeLLM

    from optimizer.evaluate.store import RunStore

    from conftest import GOLDEN_K8S

    lines = [json.loads(line) for line in GOLDEN_K8S.read_text().splitlines() if line.strip()][:40]
    picked = [dict(record, id=f"mine-{number}", split="validation") for number, record in enumerate(lines[:3], start=1)]
    one_off = tmp_path / "mine.jsonl"
    one_off.write_text("".join(json.dumps(record) + "\n" for record in picked))
    store_path = str(tmp_path / "s.sqlite")
    with FakeLLM(GOLDEN_K8S).serve() as url:
        optimized = run_cli("optimize", "--task", "k8s_log_analysis", "--strategy", "grid", "--candidates", "2",
                            "--dataset", str(one_off), "--url", url, "--store", store_path)
        assert optimized.returncode == 0, optimized.stderr
        evaluated = run_cli("eval", "--template", "prompt_templates/k8s_log_analysis_v1.yaml", "--dataset", str(one_off),
                            "--url", url, "--store", store_path)
        assert evaluated.returncode == 0, evaluated.stderr
        broken = tmp_path / "broken.jsonl"
        broken.write_text(json.dumps(picked[0]) + "\n" + json.dumps({"id": "x", "logs": "y"}) + "\n")
        refused = run_cli("eval", "--template", "prompt_templates/k8s_log_analysis_v1.yaml", "--dataset", str(broken),
                          "--url", url, "--store", store_path)
    assert refused.returncode == 2 and "broken.jsonl:2: field 'expected' is missing" in refused.stderr
    with RunStore(store_path) as store:
        runs = store.list_runs()
        assert len(runs) == 2
        for run in runs:
            assert run.dataset_path.endswith("mine.jsonl") and run.config["dataset"] == str(one_off)
            example_ids = {row["example_id"] for row in store.evaluation_rows(run.id)}
            assert example_ids == {"mine-1", "mine-2", "mine-3"}


@pytest.mark.real_llm
def test_own_task_with_the_real_model_then_review_and_run_vs_run(real_server, workspace: Path, tmp_path: Path) -> None:
    from optimizer.analysis.run_vs_run import run_vs_run
    from optimizer.evaluate.leaderboard import leaderboard
    from optimizer.evaluate.reviews import save_review
    from optimizer.evaluate.store import RunStore

    dataset = write_reviews(tmp_path / "my.jsonl")
    created = run_cli("init-task", "reviews", "--dataset", str(dataset), "--prompt-text", "Classify the sentiment of this product review.")
    assert created.returncode == 0, created.stderr
    store_path = str(tmp_path / "s.sqlite")
    for _ in range(2):  # the second run is answered from the response cache: the same outputs, paired
        scored = run_cli("eval", "--template", "prompt_templates/reviews_v1.yaml", "--examples", "3", "--url", real_server.url,
                         "--store", store_path, timeout=900)
        assert scored.returncode == 0, scored.stderr
    with RunStore(store_path) as store:
        second, first = [run.id for run in store.list_runs()]
        rows = store.evaluation_rows(first)
        assert len(rows) == 3 and all(row["raw_output"] for row in rows)
        save_review(store, first, rows[0]["candidate_id"], rows[0]["example_id"], thumb=1, comment="real output")
        assert leaderboard(store, second)["human_n"].tolist() == [1]  # carried: same output in the later run
        paired = run_vs_run(store, first, second, rows[0]["candidate_id"])
        assert paired.comparison.n == 3 and paired.comparison.delta == 0.0
