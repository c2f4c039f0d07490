"""Task specs, templates, search spaces and datasets: strict schemas and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.tasks.dataset import load_dataset
from optimizer.errors import ConfigError, DatasetError, MissingVariablesError, TemplateError
from optimizer.evaluate.runner import load_task_dataset
from optimizer.search.space import enumerate_candidates, load_search_space, parse_search_space, search_space_path
from optimizer.tasks.spec import load_task
from optimizer.prompts.templates import PromptTemplate, load_template, preflight, render, render_messages

ROOT = Path(__file__).resolve().parent.parent


def test_task_unknown_key_is_rejected_with_line(tmp_path: Path) -> None:
    text = (ROOT / "prompt_templates/tasks/k8s_log_analysis.yaml").read_text().replace("parser:\n", "parserr:\n  x: 1\nparser:\n")
    path = tmp_path / "bad_task.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_task(path)
    message = str(info.value)
    assert "unknown key 'parserr'" in message
    line = text.splitlines().index("parserr:") + 1
    assert message.startswith(f"{path}:{line}: parserr")
    assert "\n" not in message


def test_task_unknown_metric_names_the_field(tmp_path: Path) -> None:
    text = (ROOT / "prompt_templates/tasks/k8s_log_analysis.yaml").read_text().replace("metric: token_jaccard", "metric: cosine")
    path = tmp_path / "task.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"task\.yaml:\d+: outputs / root_cause / metric: unknown metric 'cosine'"):
        load_task(path)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nsystem: [unclosed\nuser: hi\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml:\d+: invalid YAML"):
        load_template(path)


def test_unknown_task_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown task 'nope' \\(known tasks: .*k8s_log_analysis"):
        load_task("nope")


def test_baseline_renders_with_strict_sandboxed_jinja() -> None:
    template = load_template(ROOT / "prompt_templates/k8s_log_analysis_v1.yaml")
    messages = render(template, logs="2026-01-01T00:00:00Z pod x OOMKilled", namespace="payments")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Namespace: payments" in messages[1]["content"]
    assert "Time range: unknown" in messages[1]["content"]  # optional default
    with pytest.raises(MissingVariablesError, match="missing required input\\(s\\): logs"):
        render(template, namespace="x")


def test_undefined_variable_is_an_error_not_an_empty_string() -> None:
    template = PromptTemplate(id="t", system="s", user="{{ logs }} {{ cluster }}")
    with pytest.raises(MissingVariablesError, match="'cluster' is undefined"):
        render_messages(template, {"logs": "x"})


@pytest.mark.parametrize("name", ["namespace", "dict", "cycler", "joiner", "lipsum"])
def test_a_jinja_global_does_not_stand_in_for_a_missing_input(name: str) -> None:
    # ``{{ namespace }}`` once rendered "<class 'jinja2.utils.Namespace'>" when no input gave it
    template = PromptTemplate(id="t", system="s", user="{{ logs }} in {{ " + name + " }}")
    with pytest.raises(MissingVariablesError, match=f"'{name}' is undefined"):
        render_messages(template, {"logs": "x"})
    assert render_messages(template, {"logs": "x", name: "prod"})[-1]["content"] == "x in prod"


def test_sandbox_blocks_unsafe_attribute_access() -> None:
    template = PromptTemplate(id="t", system="s", user="{{ logs.__class__.__mro__ }}")
    with pytest.raises(TemplateError):
        render_messages(template, {"logs": "x"})


def test_preflight_names_example_line_and_variable() -> None:
    task = load_task("k8s_log_analysis")
    dataset = load_task_dataset(task)
    template = PromptTemplate(id="needs-cluster", system="s", user="{{ logs }} in {{ cluster_name }}")
    with pytest.raises(MissingVariablesError) as info:
        preflight(template, dataset.validation[:3], source="golden/k8s_log_analysis.jsonl")
    first = dataset.validation[0]
    assert str(info.value) == (
        f"golden/k8s_log_analysis.jsonl:{first.line}: example {first.id!r} lacks variable(s) cluster_name used by template needs-cluster"
    )


def test_dataset_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "logs": "x", "expected": {}}\n{"id": "b", "logs": \n')
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: not valid JSON"):
        load_dataset(path)
    path.write_text('{"id": "a", "expected": {}}\n{"id": "a", "expected": {}}\n')
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: duplicate id 'a' \(first on line 1\)"):
        load_dataset(path)
    path.write_text('{"id": "a", "split": "holdout", "expected": {}}\n')  # test is a split since issue 12
    with pytest.raises(DatasetError, match=r"d\.jsonl:1: field 'split' must be one of train, validation, test, paraphrase"):
        load_dataset(path)
    path.write_bytes(b'{"id": "a", "expected": {}}\n{"id": "\xff"}\n')
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: not UTF-8"):
        load_dataset(path)


def test_search_space_has_324_candidates_with_factor_levels() -> None:
    task = load_task("k8s_log_analysis")
    space = load_search_space(search_space_path(task))
    assert [d.name for d in space.dimensions] == ["tone", "constraints", "output_structure", "few_shot", "reasoning"]
    assert [len(d.variants) for d in space.dimensions] == [3, 3, 3, 4, 3]
    assert [v.name for v in space.dimension("few_shot").variants] == ["none", "positive_only", "mixed", "hard_negatives"]
    dataset = load_task_dataset(task)
    candidates = enumerate_candidates(space, task, dataset)
    assert len(candidates) == space.size == 324
    assert len({c.id for c in candidates}) == 324
    assert all(set(c.factors) == {d.name for d in space.dimensions} for c in candidates)
    train_ids = {e.id for e in dataset.train}
    for candidate in candidates:
        assert all(demo.id in train_ids for demo in candidate.template.examples)
        expected_demos = {"none": 0, "positive_only": 3, "mixed": 3, "hard_negatives": 3}[candidate.factors["few_shot"]]
        assert len(candidate.template.examples) == expected_demos
    mixed = next(c for c in candidates if c.factors["few_shot"] == "mixed")
    by_id = {e.id: e for e in dataset.train}
    kinds = sorted(by_id[d.id].expected["action_required"] for d in mixed.template.examples)
    assert kinds == ["no", "yes", "yes"]
    json_candidate = next(c for c in candidates if c.factors["output_structure"] == "json" and c.template.examples)
    assert json_candidate.template.examples[0].output.startswith('{"root_cause": ')


def test_candidate_ids_are_stable_across_processes() -> None:
    code = (
        "from optimizer.tasks.spec import load_task; from optimizer.evaluate.runner import load_task_dataset;"
        "from optimizer.search.space import *;"
        "t=load_task('k8s_log_analysis'); s=load_search_space(search_space_path(t));"
        "print(','.join(c.id for c in enumerate_candidates(s, t, load_task_dataset(t))[:5]))"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_search_space_errors_name_line_and_field() -> None:
    text = (ROOT / "prompt_templates/search_spaces/k8s_log_analysis.yaml").read_text()
    broken = text.replace("      - name: neutral\n", "      - nam: neutral\n", 1)
    with pytest.raises(ConfigError) as info:
        parse_search_space(broken, "space.yaml")
    line = broken.splitlines().index("      - nam: neutral") + 1
    # the variant has no name (the key is misspelt), so it is named by its place in its dimension
    assert str(info.value).startswith(f"space.yaml:{line}: tone / variants #2 / "), str(info.value)
