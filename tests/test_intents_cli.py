"""``workbench parse``, ``eval-parser`` and ``eval-router``, and the evaluation tables they print."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from fake_openai import FakeLLM
from test_intents_support import GoldenFake, fake_client

from optimizer.errors import DatasetError
from optimizer.intents.evaluation import evaluate_parser, golden_examples, side_by_side
from optimizer.intents.calibration import load_calibration
from optimizer.intents.pipeline import DEFAULT_CALIBRATION, IntentParser, ParserConfig
from optimizer.prompts.templates import load_template

from conftest import ROOT, run_cli


def test_parse_prints_the_json_intent_without_starting_a_server() -> None:
    result = run_cli("parse", "Add DNS record api.local to 10.0.0.5")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"action": "dns_add", "zone": "api.local", "record_type": "A", "ip": "10.0.0.5"}
    # The committed calibration's confidence for a full match (its share right on train), not the raw 0.95.
    match = load_calibration(ROOT / DEFAULT_CALIBRATION).rules["match"]
    assert match != 0.95 and f"path: rules  confidence: {match:.2f}" in result.stderr
    assert "starting the embedded" not in result.stderr


def test_parse_details_show_path_confidence_and_latency() -> None:
    result = run_cli("parse", "--details", "--no-model", "why is my DNS slow?")
    details = json.loads(result.stdout)
    assert details["intent"] == {"action": "unknown"} and details["path"] == "rules"
    assert details["reason"] == "rules: a question, not a command" and details["latency_s"] >= 0


def test_parse_asks_the_fake_server_when_the_rules_are_unsure() -> None:
    # A phrasing no rule reads fully (a cue without its values: no opinion), so the model decides.
    fake = GoldenFake()
    fake.enqueue('{"action":"add_user","username":"bob2","password":"Qwerty!99"}')
    with fake.serve() as url:
        result = run_cli("parse", "--details", "--url", url, "bob2 needs a login, Qwerty!99 is the secret")
    details = json.loads(result.stdout)
    assert details["rules_kind"] in ("none", "partial") and not details["rules_certain"]
    assert details["path"] == "micro" and details["intent"] == {"action": "add_user", "username": "bob2", "password": "Qwerty!99"}
    assert len(fake.calls) == 1


def test_parse_uses_the_template_it_is_given_and_refuses_another_task_s() -> None:
    # The default model path loads the exported winner (v2: 4 demonstrations retrieved from train);
    # --template loads another version (v1: its fixed examples), so the prompts differ.
    command = "bob2 needs a login, Qwerty!99 is the secret"
    prompts = {}
    for template in (None, "prompt_templates/intent_parsing_v1.yaml"):
        fake = GoldenFake()
        fake.enqueue('{"action":"add_user","username":"bob2","password":"Qwerty!99"}')
        with fake.serve() as url:
            extra = ["--template", template] if template else []
            result = run_cli("parse", "--mode", "model_first", "--url", url, *extra, command)
        assert result.returncode == 0, result.stderr
        assert len(fake.calls) == 1
        prompts[template] = fake.calls[0]["messages"]
    v1 = load_template(ROOT / "prompt_templates/intent_parsing_v1.yaml")
    v2 = load_template(ROOT / "prompt_templates/intent_parsing_v2.yaml")
    assert prompts[None][0]["content"].startswith(v2.system[:60])
    assert "most similar to this one" in prompts[None][0]["content"]
    assert len(prompts["prompt_templates/intent_parsing_v1.yaml"]) == 2 + 2 * len(v1.examples)
    wrong = run_cli("parse", "--no-model", "--template", "prompt_templates/k8s_agent_v1.yaml", command)
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.strip() == ("error: --template prompt_templates/k8s_agent_v1.yaml: written for task 'k8s_agent', "
                                    "not 'intent_parsing'")


def test_parse_reads_non_utf8_bytes_from_stdin() -> None:
    result = subprocess.run([sys.executable, "-m", "optimizer.app.cli", "parse", "--no-model", "-"], input=b"\xff\xfe delete \x80 user",
                            capture_output=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"action": "unknown"}


def test_eval_parser_prints_accuracy_latency_confusion_and_misses() -> None:
    result = run_cli("eval-parser", "--no-model", "--split", "all")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "parser: 1350 all examples, mode auto, decoding spans, model none" in out  # 200 + 50 + 199 + 165 + 168 + 169 + 200 + 199 train items added for issue 12
    assert "overall: accuracy" in out and "schema-valid 1.000" in out and "p95" in out
    for heading in ("by domain:", "by path:", "confusion (action, expected rows x predicted columns):", "misses:"):
        assert heading in out
    assert "complex" in out and "dns_remove" in out


def test_eval_parser_model_only_against_a_fake_server_counts_model_calls() -> None:
    with GoldenFake().serve() as url:
        result = run_cli("eval-parser", "--mode", "model_only", "--examples", "6", "--url", url)
    assert result.returncode == 0, result.stderr
    assert "model calls 6 (model right on 1.000 of them)" in result.stdout
    assert "micro" in result.stdout


def test_eval_router_prints_its_tables() -> None:
    result = run_cli("eval-router", "--no-model")
    assert result.returncode == 0, result.stderr
    assert "router: 20 validation examples" in result.stdout  # 20 since the test split (issue 12)
    assert "by route:" in result.stdout and "confusion (route" in result.stdout


def test_eval_errors_are_one_line() -> None:
    result = run_cli("eval-parser", "--no-model", "--examples", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: the number of examples must be at least 1, got 0"
    bad_mode = run_cli("parse", "--mode", "fast", "x")
    assert bad_mode.returncode == 2 and "Invalid value for '--mode'" in bad_mode.stderr


def test_evaluation_tables_and_side_by_side() -> None:
    examples = golden_examples("intent_parsing", "validation", 12)
    fake = FakeLLM()
    fake.enqueue(*(['{"action":"unknown"}'] * 12))

    async def both():
        rules = await evaluate_parser(IntentParser(None), examples, name="rules")
        model = await evaluate_parser(IntentParser(fake_client(fake), config=ParserConfig(mode="model_only")), examples, name="model",
                                      concurrency=4)
        return rules, model

    rules, model = asyncio.run(both())
    assert rules.summary()["accuracy"] == 1.0 and rules.summary()["share_rules"] == 1.0
    assert model.summary()["model_calls"] == 12 and model.summary()["accuracy"] == 0.0
    assert list(model.rows["id"]) == [example.id for example in examples]  # order kept under concurrency
    assert model.confusion().loc["dns_add", "unknown"] == sum(example.expected["action"] == "dns_add" for example in examples)
    assert len(model.misses()) == 12 and set(model.by_path()["path"]) == {"micro"}
    table = side_by_side([rules, model])
    assert list(table.index) == ["rules", "model"] and {"accuracy", "p50_s", "p95_s", "schema_valid"} <= set(table.columns)


def test_golden_examples_reject_a_bad_split() -> None:
    with pytest.raises(DatasetError, match="split must be one of"):
        golden_examples("intent_parsing", "holdout")
