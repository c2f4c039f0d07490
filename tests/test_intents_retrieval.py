"""Retrieved few-shot (issue 12, item 2): per query, the nearest train examples by BM25, in the
parser, the router, the tasks' executors and as a level of the search spaces' few_shot dimension."""

from __future__ import annotations

import asyncio
import json

import yaml
from fake_openai import FakeLLM
from test_intents_support import fake_client

from conftest import ROOT
from optimizer.evaluate.runner import RunRequest, load_task_dataset, plan_run
from optimizer.intents.calibration import UNCALIBRATED
from optimizer.intents.pipeline import IntentParser, ParserConfig
from optimizer.intents.retrieval import ShotRetriever, task_retriever, tokens
from optimizer.intents.routing import QueryRouter, RouterConfig
from optimizer.intents.workbench import retrieved_shots_chat, span_constrained_chat
from optimizer.tasks.spec import load_task


def test_tokens_keep_punctuation_as_its_own_token() -> None:
    assert tokens("zone=App.local ip: 10.0.0.7") == ["zone", "=", "app", ".", "local", "ip", ":", "10", ".", "0", ".", "0", ".", "7"]


def test_nearest_train_examples_come_first_and_never_the_query_itself() -> None:
    retriever = task_retriever("intent_parsing")
    train_ids = {example.id for example in load_task_dataset(load_task("intent_parsing")).train}
    nearest = retriever.nearest("Change the password for user carol to Spring!25", 4)
    assert len(nearest) == 4 and {example.id for example in nearest} <= train_ids
    assert nearest[0].expected["action"] == "change_password"
    own = retriever.examples[0]
    assert own.id not in {example.id for example in retriever.nearest(own.inputs["input"], 5, exclude_id=own.id)}
    assert retriever.nearest(own.inputs["input"], 1)[0].id == own.id


def test_the_retriever_follows_an_edited_dataset_file(workspace) -> None:
    # The pool is the train split as the file says now: a long-lived process (the UI) that added a
    # train example gets it in its next retrieval, as the response cache's key already expects.
    before = task_retriever("intent_parsing")
    assert task_retriever("intent_parsing") is before  # kept while the file stays as it is
    path = workspace / "golden" / "intents.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    added = {**next(row for row in rows if row.get("split") == "train"), "id": "intent-added-here"}
    path.write_text("".join(json.dumps(row) + "\n" for row in [*rows, added]))
    after = task_retriever("intent_parsing")
    assert "intent-added-here" in {example.id for example in after.examples}
    assert len(after.examples) == len(before.examples) + 1


def test_demos_show_the_nearest_last_in_the_answer_form_asked_for() -> None:
    dataset = load_task_dataset(load_task("query_routing"))
    retriever = ShotRetriever(dataset.train, "query", lambda example: f"Route: {example.expected['route']}")
    # Nearest: route-002 "Run a Monte Carlo on portfolio returns with 10k paths"; the three also hold an
    # llm query that explains Monte Carlo.
    demos = retriever.demos("Run a Monte Carlo simulation of portfolio returns with 20k paths", 3)
    assert len(demos) == 3 and demos[-1].output == "Route: risk" and demos[-1].id == "route-002"
    assert ShotRetriever([], "query", str).demos("anything", 3) == []


def test_the_parser_sends_retrieved_train_demos() -> None:
    fake = FakeLLM()
    fake.enqueue('{"action":"remove_user","username":"bob"}')
    parser = IntentParser(fake_client(fake), config=ParserConfig(retrieved_shots=4), calibration=UNCALIBRATED)
    asyncio.run(parser.parse("user bob, asap"))
    messages = fake.calls[0]["messages"]
    demo_inputs = [message["content"] for message in messages[1:-1:2]]
    train_inputs = {example.inputs["input"] for example in load_task_dataset(load_task("intent_parsing")).train}
    assert len(demo_inputs) == 4 and set(demo_inputs) <= train_inputs
    assert all(json.loads(message["content"]) for message in messages[2:-1:2])  # compact JSON answers
    fixed = IntentParser(fake_client(fake), config=ParserConfig(retrieved_shots=0), calibration=UNCALIBRATED)
    fake.enqueue('{"action":"unknown"}')
    asyncio.run(fixed.parse("user bob, asap"))
    assert [m["content"] for m in fake.calls[1]["messages"][1:-1:2]] == [demo.inputs["input"] for demo in fixed.template.examples]


def test_the_router_sends_retrieved_train_demos() -> None:
    fake = FakeLLM()
    fake.enqueue('{"route":"risk"}')
    router = QueryRouter(fake_client(fake), RouterConfig(mode="model_first", retrieved_shots=3), calibration=UNCALIBRATED)
    asyncio.run(router.route("What is the P90 of next year's credit losses?"))
    messages = fake.calls[0]["messages"]
    train_queries = {example.inputs["query"] for example in load_task_dataset(load_task("query_routing")).train}
    assert len(messages) == 1 + 2 * 3 + 1 and {m["content"] for m in messages[1:-1:2]} <= train_queries
    assert all(json.loads(m["content"])["route"] in ("rag", "risk", "llm") for m in messages[2:-1:2])


def test_retrieved_is_a_few_shot_level_of_both_search_spaces() -> None:
    for task_name in ("intent_parsing", "query_routing"):
        space = yaml.safe_load((ROOT / f"prompt_templates/search_spaces/{task_name}.yaml").read_text())
        few_shot = next(dimension for dimension in space["dimensions"] if dimension["name"] == "few_shot")
        retrieved = next(variant for variant in few_shot["variants"] if variant["name"] == "retrieved")
        assert retrieved["model_defaults"]["few_shot_retrieval"] > 0


def test_the_executors_retrieve_per_example_and_never_show_the_example_itself() -> None:
    plan = plan_run(RunRequest(task="intent_parsing", strategy="grid", n_examples=2))
    candidate = next(t for _, t in plan.templates if t.factors.get("few_shot") == "retrieved" and t.factors.get("decoding") == "spans")
    train_example = plan.dataset.train[0]
    fake = FakeLLM()
    fake.enqueue('{"action":"unknown"}', '{"action":"unknown"}')
    asyncio.run(span_constrained_chat(fake_client(fake), candidate, train_example, {"grammar": "@input_spans", "temperature": 0}))
    body = fake.calls[0]
    shown = [m["content"] for m in body["messages"][1:-1:2]]
    assert len(shown) == candidate.model_defaults["few_shot_retrieval"] and train_example.inputs["input"] not in shown
    assert "few_shot_retrieval" not in body and body["grammar"].startswith("root ::=")
    router_plan = plan_run(RunRequest(task="query_routing", strategy="grid", n_examples=2))
    labelled = next(t for _, t in router_plan.templates if t.factors.get("few_shot") == "retrieved" and t.factors.get("output") == "labelled")
    json_form = next(t for _, t in router_plan.templates if t.factors.get("few_shot") == "retrieved" and t.factors.get("output") == "json")
    example = router_plan.examples[0]
    asyncio.run(retrieved_shots_chat(fake_client(fake), labelled, example, {"temperature": 0}))
    asyncio.run(retrieved_shots_chat(fake_client(fake), json_form, example, {"temperature": 0}))
    labelled_answers = [m["content"] for m in fake.calls[1]["messages"][2:-1:2]]
    json_answers = [m["content"] for m in fake.calls[2]["messages"][2:-1:2]]
    assert all(answer.startswith("Route: ") for answer in labelled_answers)
    assert all(json.loads(answer)["route"] in ("rag", "risk", "llm") for answer in json_answers)
    assert "few_shot_answer" not in fake.calls[2]
