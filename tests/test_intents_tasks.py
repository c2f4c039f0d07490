"""Intent parsing and query routing as workbench tasks: specs, search spaces, scoring, optimize."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from test_intents_support import GoldenFake

from optimizer.intents.grammar import compact_json
from optimizer.intents.models import intent_json_schema, validate_intent
from optimizer.evaluate.runner import RunRequest, load_task_dataset, plan_run
from optimizer.evaluate.store import RunStore
from optimizer.tasks.spec import load_task
from optimizer.prompts.templates import load_template

from conftest import ROOT, run_cli


def test_the_search_space_schema_is_the_models_schema() -> None:
    space = yaml.safe_load((ROOT / "prompt_templates/search_spaces/intent_parsing.yaml").read_text())
    decoding = next(dimension for dimension in space["dimensions"] if dimension["name"] == "decoding")
    schema_variant = next(variant for variant in decoding["variants"] if variant["name"] == "schema")
    assert schema_variant["model_defaults"]["response_format"]["json_schema"]["schema"] == intent_json_schema()


# 180 and 72 since issue 12 added the "retrieved" level to both few_shot dimensions (144 and 54 before).
@pytest.mark.parametrize(("task_name", "size"), [("intent_parsing", 180), ("query_routing", 72)])
def test_tasks_plan_every_candidate_with_few_shot_from_train_only(task_name: str, size: int) -> None:
    plan = plan_run(RunRequest(task=task_name, strategy="grid", n_examples=3))
    assert len(plan.templates) == size + 1  # the baseline too
    train_ids = {example.id for example in plan.dataset.train}
    for _, template in plan.templates:
        assert {demo.id for demo in template.examples} <= train_ids
    assert all(example.split == "validation" for example in plan.examples)


def test_baseline_templates_show_train_examples_in_the_grammar_form() -> None:
    intents = load_template(ROOT / "prompt_templates/intent_parsing_v1.yaml")
    dataset = load_task_dataset(load_task("intent_parsing"))
    for demo in intents.examples:
        example = dataset.by_id(demo.id or "")
        assert example.split == "train" and demo.inputs["input"] == example.inputs["input"]
        assert demo.output == compact_json(validate_intent(json.loads(demo.output)).as_dict()) == compact_json(example.expected)
    routes = load_template(ROOT / "prompt_templates/query_routing_v1.yaml")
    router_dataset = load_task_dataset(load_task("query_routing"))
    for demo in routes.examples:
        assert router_dataset.by_id(demo.id or "").split == "train"
        assert json.loads(demo.output) == router_dataset.by_id(demo.id or "").expected


def test_intent_scoring_exact_match_schema_validity_and_fields() -> None:
    task = load_task("intent_parsing")
    expected = {"action": "dns_add", "zone": "api.local", "record_type": "A", "ip": "10.0.0.5"}
    fields, overall = task.score(expected, task.parse(json.dumps(expected)).fields)
    assert overall == pytest.approx(1.0) and fields["intent_match"] == fields["schema_valid"] == 1.0
    wrong = task.parse('{"action": "dns_add", "zone": "API.local", "record_type": "A"}')
    fields, overall = task.score(expected, wrong.fields)
    assert fields["intent_match"] == 0.0 and fields["schema_valid"] == 0.0  # no ip: not a valid intent
    assert fields["action"] == fields["record_type"] == 1.0 and fields["zone"] == fields["ip"] == 0.0
    assert fields["username"] == 1.0  # absent from both
    assert 0.2 < overall < 0.5
    unknown = task.parse('{"action": "unknown"}')
    assert task.score({"action": "unknown"}, unknown.fields)[1] == pytest.approx(1.0)


def test_route_scoring_reads_labelled_lines_or_json() -> None:
    task = load_task("query_routing")
    assert task.score({"route": "risk"}, task.parse("Route: RISK").fields)[1] == 1.0
    assert task.score({"route": "risk"}, task.parse('{"route": "rag"}').fields)[1] == 0.0


@pytest.mark.parametrize("task_name", ["intent_parsing", "query_routing"])
def test_optimize_end_to_end_against_a_fake_server(task_name: str, tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    with GoldenFake().serve() as url:
        result = run_cli("optimize", "--task", task_name, "--strategy", "random", "--candidates", "2", "--examples", "5",
                         "--url", url, "--store", str(store_path))
    assert result.returncode == 0, result.stderr
    assert "plan: 3 candidates x 5 examples = 15 calls" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.strip().startswith("rank"))
    assert "mean_latency_s" in header
    if task_name == "intent_parsing":
        assert "intent_match" in header and "schema_valid" in header
    with RunStore(store_path) as store:
        run = store.list_runs()[0]
        assert run.status == "completed" and store.count_evaluations(run.id) == 15


def test_the_task_executor_sends_the_span_grammar_only_when_the_template_asks() -> None:
    from test_intents_support import fake_client

    from optimizer.intents.workbench import span_constrained_chat, template_decoding

    task = load_task("intent_parsing")
    example = load_task_dataset(task).by_id("intent-001")
    baseline = load_template(ROOT / "prompt_templates/intent_parsing_v1.yaml")
    assert template_decoding(baseline) == "spans"
    fake = GoldenFake()
    payload = asyncio.run(span_constrained_chat(fake_client(fake), baseline, example, {"grammar": "@input_spans", "temperature": 0}))
    assert json.loads(payload["content"]) == example.expected and payload["latency_s"] >= 0
    assert '"\\"api.local\\""' in fake.calls[0]["grammar"] and fake.calls[0]["temperature"] == 0
    free = baseline.model_copy(update={"model_defaults": {"temperature": 0.0}})
    assert template_decoding(free) == "free"
    asyncio.run(span_constrained_chat(fake_client(fake), free, example, {"temperature": 0}))
    assert "grammar" not in fake.calls[1]


@pytest.mark.parametrize("task_name, golden", [("intent_parsing", "intents.jsonl"), ("query_routing", "router.jsonl")])
def test_the_cache_key_follows_the_train_pool_the_executor_retrieves_from(task_name: str, golden: str, workspace: Path) -> None:
    # Retrieved shots are not in the rendered messages the cache key is made of, so the train pool
    # they come from joins the key: a new train example must not be answered from the old pool's cache.
    from optimizer.evaluate.engine import executor_cache_tag, load_executor

    task = load_task(task_name)
    executor = load_executor(task.executor)
    before = executor_cache_tag(task, executor)
    path = workspace / "golden" / golden
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert executor_cache_tag(task, executor) == before  # stable while nothing changes
    validation = next(row for row in rows if row.get("split") == "validation")
    moved = {**validation, "id": validation["id"] + "-copy", "split": "train"}
    path.write_text("".join(json.dumps(row) + "\n" for row in [*rows, moved]))
    after = executor_cache_tag(task, executor)
    assert after != before and after["executor"].startswith(task.executor + ":")
