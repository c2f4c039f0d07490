"""eval-parser and eval-router are runs of their tasks through the engine: stored, with CIs on Compare."""

from __future__ import annotations

import asyncio
from pathlib import Path

from optimizer.analysis.compare import field_intervals, load_run_data
from optimizer.evaluate.store import RunStore
from optimizer.intents.evaluation import evaluate_parser, evaluate_router, golden_examples
from optimizer.intents.pipeline import IntentParser, ParserConfig
from optimizer.intents.routing import QueryRouter, RouterConfig
from optimizer.intents.runs import RulesOnlyClient, evaluate_as_run

from conftest import run_cli


def test_eval_parser_stores_a_run_whose_tables_match_the_in_memory_evaluation(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    result = run_cli("eval-parser", "--no-model", "--examples", "8", "--store", str(store_path))
    assert result.returncode == 0, result.stderr
    with RunStore(store_path) as store:
        run = store.list_runs()[0]
        assert run.task == "intent_parsing" and run.status == "completed" and store.count_evaluations(run.id) == 8
        candidate = store.candidates(run.id)[0]
        assert candidate["origin"] == "pipeline" and candidate["template"]["model_defaults"]["pipeline"]["mode"] == "auto"
        # the Compare page reads it like any run: per-field means with 95% CIs over the 8 examples
        intervals = field_intervals(load_run_data(store, run.id), [candidate["candidate_id"]])
        assert set(intervals["field"]) >= {"overall", "intent_match", "schema_valid"}
    assert f"validation: run {run.id}" in result.stderr


def test_stored_tables_are_the_pipeline_rows(store: RunStore) -> None:
    examples = golden_examples("intent_parsing", "validation", 10)
    memory = asyncio.run(evaluate_parser(IntentParser(None, config=ParserConfig()), examples))
    run_id, stored = asyncio.run(evaluate_as_run(store, RulesOnlyClient(), "parser", ParserConfig(), "validation", limit=10))
    assert stored.rows["id"].tolist() == memory.rows["id"].tolist()
    assert stored.rows["correct"].tolist() == memory.rows["correct"].tolist()
    assert stored.rows["path"].tolist() == memory.rows["path"].tolist()
    assert store.get_run(run_id).n_examples == 10

    routes = golden_examples("query_routing", "paraphrase", 12)
    routed = asyncio.run(evaluate_router(QueryRouter(None, RouterConfig()), routes))
    route_run, stored_routes = asyncio.run(evaluate_as_run(store, RulesOnlyClient(), "router", RouterConfig(), "paraphrase", limit=12))
    assert stored_routes.rows["correct"].tolist() == routed.rows["correct"].tolist()
    # the paraphrase split is scored from its own file, recorded as the run's one-off dataset
    assert store.get_run(route_run).config["dataset"].endswith("router_paraphrase.jsonl")
