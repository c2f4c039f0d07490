"""Confidence that means something (issue 12, item 1): rules are certain only on a full match,
both sides are calibrated on train, and the threshold comes from the validation table."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest
from fake_openai import FakeLLM
from test_intents_support import GoldenFake, fake_client

from conftest import ROOT, run_cli
from optimizer.errors import ConfigError
from optimizer.intents.calibration import (
    UNCALIBRATED,
    Calibration,
    beta_prior,
    choose_model_map,
    choose_rules_threshold,
    expected_calibration_error,
    fit_model,
    fit_rules,
    isotonic_fit,
    load_calibration,
    platt_fit,
    reliability_table,
)
from optimizer.intents.evaluation import evaluate_parser, evaluate_router, golden_examples
from optimizer.intents.fitting import fit_parser, fit_router
from optimizer.intents.keywords import route_domain
from optimizer.intents.pipeline import DEFAULT_CALIBRATION, IntentParser, ParseResult, ParserConfig, decide
from optimizer.intents.routing import DEFAULT_ROUTER_CALIBRATION, DEFAULT_ROUTER_SHOTS, QueryRouter, RouterConfig
from optimizer.intents.rules import parse_with_rules


def rules(text: str):
    return parse_with_rules(text, route_domain(text).domain)


def test_rules_are_certain_only_on_a_full_match_and_otherwise_have_no_opinion() -> None:
    assert rules("Delete user bob").kind == "match" and rules("Delete user bob").certain
    assert rules("dleete user mallory").kind == "typo" and rules("dleete user mallory").certain
    assert rules("why is my DNS slow?").kind == "refusal" and rules("why is my DNS slow?").certain
    for unmatched in ("user bob, asap", "please handle bob's account", "something about share hr"):
        parsed = rules(unmatched)  # an unknown the rules did not derive from a pattern is no opinion, never 0.9
        assert parsed.is_unknown and not parsed.certain and parsed.kind in ("none", "partial") and parsed.confidence < 0.5, parsed
    assert rules("Add user peter").kind == "partial" and not rules("Add user peter").certain
    assert rules("hello").kind == "unplaced" and not rules("hello").certain


def test_no_opinion_means_the_model_decides() -> None:
    fake = FakeLLM()
    fake.enqueue('{"action":"remove_user","username":"bob"}')
    result = asyncio.run(IntentParser(fake_client(fake), calibration=UNCALIBRATED).parse("user bob, asap"))
    assert len(fake.calls) == 1 and result.path == "micro" and result.intent == {"action": "remove_user", "username": "bob"}
    assert result.rules_kind == "none" and not result.rules_certain


def test_a_partial_match_is_not_weighed_against_a_usable_model_answer() -> None:
    # The rules' unknown from a partial match is right 94% of the time on train (the split they were
    # written on), but it is no opinion: a model answer sure enough to be used (>= model_threshold)
    # stands even when less sure than that; a certain rules answer still has to be beaten.
    full = {"action": "add_user", "username": "peter", "password": "Pa55!"}
    unknown = {"action": "unknown"}
    assert decide(unknown, 0.94, full, 0.6, 0.5, rules_kind="partial") == ("model", None)
    assert decide(unknown, 0.94, full, 0.6, 0.5)[0] == "rules"  # a refusal (an opinion) is weighed
    assert decide(unknown, 0.94, full, 0.4, 0.5, rules_kind="partial") == ("rules", "model confidence 0.40 below 0.50")
    assert decide(unknown, 0.94, None, None, 0.5, "no JSON", rules_kind="partial") == ("rules", "no JSON")
    calibration = Calibration(rules={"partial": 0.94, "match": 0.99}, model_xs=[0.0, 1.0], model_ys=[0.6, 0.6], model_prior=0.6,
                              rules_threshold=0.99)
    fake = FakeLLM()
    fake.enqueue('{"action":"add_user","username":"peter","password":"Pa55!"}')
    parser = IntentParser(fake_client(fake), calibration=calibration)
    result = asyncio.run(parser.parse("Add user peter with the usual onboarding, Pa55!"))
    assert result.rules_kind in ("partial", "none") and result.rules_confidence >= 0.94 > result.model_confidence
    assert result.path == "micro" and result.intent == full


def test_a_request_with_two_actions_is_an_opinion_the_model_must_beat() -> None:
    # Two actions are out of scope (unknown), but the cue can misfire, so the rules are not certain:
    # the model is asked, and its single action stands only when surer than the kind's calibration.
    command = "add dns for vm-a.lab.lan 10.9.9.1 and remove vm-b.lab.lan"
    assert rules(command).kind == "several" and not rules(command).certain
    single = '{"action":"dns_add","zone":"vm-a.lab.lan","record_type":"A","ip":"10.9.9.1"}'

    def parse(several: float, model: float) -> ParseResult:
        calibration = Calibration(rules={"several": several, "match": 0.99}, model_xs=[0.0, 1.0], model_ys=[model, model],
                                  model_prior=model, rules_threshold=0.99)
        fake = FakeLLM()
        fake.enqueue(single)
        result = asyncio.run(IntentParser(fake_client(fake), calibration=calibration).parse(command))
        assert len(fake.calls) == 1
        return result

    assert parse(0.83, 0.6).path == "fallback" and parse(0.83, 0.6).intent == {"action": "unknown"}
    # A single action is right only when the rules misread the request (1 - 0.83): a model sure
    # at 0.95 on commands in general does not outweigh that.
    assert parse(0.83, 0.95).path == "fallback"
    assert decide({"action": "unknown"}, 0.83, json.loads(single), 0.95, 0.5, rules_kind="several")[0] == "rules"
    assert decide({"action": "unknown"}, 0.83, json.loads(single), 0.95, 0.5)[0] == "model"
    # Where the two-action cue is mostly wrong, the model's action can stand.
    assert parse(0.3, 0.95).path == "micro" and parse(0.3, 0.95).intent == json.loads(single)


def test_the_model_may_fill_a_partial_match_but_not_change_its_action() -> None:
    # "add user X" without a password names add_user: the model may find the password the rules
    # missed, not answer another action (the rules read the verb; what they missed is a value).
    parsed = rules("new account for mkeller please")
    assert parsed.kind == "partial" and parsed.cue == "add_user"
    unknown = {"action": "unknown"}
    grouped = {"action": "add_to_group", "username": "mkeller", "group": "please"}
    assert decide(unknown, 0.6, grouped, 0.9, 0.5, rules_kind="partial", rules_cue="add_user")[0] == "rules"
    assert decide(unknown, 0.6, grouped, 0.9, 0.5, rules_kind="partial")[0] == "model"  # no cue: no opinion
    full = {"action": "add_user", "username": "mkeller", "password": "Quartz&Mint5"}
    assert decide(unknown, 0.6, full, 0.9, 0.5, rules_kind="partial", rules_cue="add_user") == ("model", None)
    calibration = Calibration(rules={"partial": 0.6, "match": 0.99}, model_xs=[0.0, 1.0], model_ys=[0.9, 0.9], model_prior=0.9,
                              rules_threshold=0.99)
    fake = FakeLLM()
    fake.enqueue('{"action":"remove_user","username":"mkeller"}')
    result = asyncio.run(IntentParser(fake_client(fake), calibration=calibration).parse("new account for mkeller please"))
    assert result.rules_cue == "add_user" and result.path == "fallback" and result.intent == unknown
    assert "names add_user" in result.reason
    # The model is offered only the named action (and unknown): its grammar has no other branch
    # (here not even add_user: the command has no password span).
    grammar = fake.calls[0]["grammar"]
    assert "remove_user" not in grammar and "add_to_group" not in grammar and "unknown" in grammar


def test_a_reported_or_hypothetical_action_is_an_opinion_the_model_must_beat() -> None:
    # "I already removed user X": the rules read a report, not a command. The model, asked, names
    # the reported action; it is right only when the rules misread the report.
    report = "fyi I already deleted the account vkhan last night, nothing to do"
    assert rules(report).kind == "doubt" and not rules(report).certain and rules(report).is_unknown
    removal = {"action": "remove_user", "username": "vkhan"}
    assert decide({"action": "unknown"}, 0.9, removal, 0.95, 0.5, rules_kind="doubt")[0] == "rules"
    assert decide({"action": "unknown"}, 0.3, removal, 0.95, 0.5, rules_kind="doubt")[0] == "model"
    assert decide({"action": "unknown"}, 0.9, {"action": "unknown"}, 0.95, 0.5, rules_kind="doubt") == ("model", None)


def test_isotonic_fit_is_the_monotone_least_squares_step_function() -> None:
    xs, ys = isotonic_fit([0.1, 0.2, 0.3, 0.4, 0.9], [0, 1, 0, 1, 1])
    assert ys == sorted(ys) and ys[0] == 0.0 and ys[-1] == 1.0
    assert pytest.approx(ys[1]) == 0.5 and pytest.approx(xs[1]) == 0.25  # 0.2 and 0.3 pooled
    assert isotonic_fit([], []) == ([], [])


def test_fitted_confidences_are_train_frequencies() -> None:
    # Kinds with no opinion keep their own Jeffreys estimate, (right + 1/2) / (answers + 1).
    assert fit_rules(["partial"] * 2 + ["none"] * 3, [True, False, True, True, True], [False] * 5) == {"partial": 0.5, "none": 0.875}
    xs, ys, prior = fit_model([0.9, 0.95, 0.6, None], [True, True, False, False])
    calibration = Calibration(model_xs=xs, model_ys=ys, model_prior=prior)
    assert calibration.model_confidence(0.99) == 1.0 and calibration.model_confidence(0.5) == 0.0
    assert calibration.model_confidence(None) == prior == pytest.approx(2.5 / 5)


def test_certain_kinds_share_a_beta_prior_fitted_on_train() -> None:
    # Certain kinds that were all right on train do not differ beyond noise: each gets the pooled
    # share (Jeffreys-smoothed), not its own few answers smoothed towards one half.
    kinds = ["document"] * 8 + ["company_fact"] * 2 + ["writing"] * 7 + ["no_rule"] * 4
    correct = [True] * 17 + [True, False, False, True]
    certain = [True] * 17 + [False] * 4
    fitted = fit_rules(kinds, correct, certain)
    pooled = round(17.5 / 18, 4)
    assert fitted == {"document": pooled, "company_fact": pooled, "writing": pooled, "no_rule": 0.5}
    assert beta_prior([8, 2, 7], [8, 2, 7]) == (pytest.approx(17.5 / 18), math.inf)
    # Kinds that do differ (20 of 20 against 10 of 20) keep most of their own evidence, shrunk a little.
    mean, strength = beta_prior([20, 10], [20, 20])
    assert mean == pytest.approx(30.5 / 41) and 1.0 <= strength < 5
    fitted = fit_rules(["match"] * 20 + ["typo"] * 20, [True] * 30 + [False] * 10)
    assert 0.95 < fitted["match"] < 1.0 and 0.5 < fitted["typo"] < 0.56
    # A kind right on its 2 answers, among kinds that differ, is not taken for certain (strength >= 1).
    fitted = fit_rules(["match"] * 8 + ["typo"] * 2 + ["rare"] * 2, [True] * 8 + [True, False] + [True, True])
    assert fitted["rare"] < fitted["match"] < 1.0


def test_the_model_map_is_chosen_on_train_by_cross_validation() -> None:
    import numpy as np

    rng = np.random.default_rng(7)
    scores = rng.uniform(0.3, 0.95, 80)
    # A score that says nothing: isotonic steps would chase noise; the chosen map is nearly flat.
    noise = rng.random(80) < 0.55
    xs, ys, prior, method, losses = choose_model_map(list(scores), list(noise))
    assert set(losses) == {"isotonic", "platt", "constant"} and method == min(losses, key=losses.get)
    assert method != "isotonic" and max(ys) - min(ys) < 0.25 and ys == sorted(ys)
    assert prior == pytest.approx((noise.sum() + 0.5) / 81, abs=1e-4)
    # A score that tracks being right: the map rises with it.
    informative = rng.random(80) < scores ** 2
    xs, ys, _, method, _ = choose_model_map(list(scores), list(informative))
    assert method != "constant" and ys == sorted(ys)
    high, low = np.interp(0.9, xs, ys), np.interp(0.35, xs, ys)
    assert high - low > 0.3
    # Platt's slope is never negative (a higher score never means less likely right).
    assert platt_fit([0.2, 0.4, 0.6, 0.8] * 5, [1, 1, 0, 0] * 5)[0] == 0.0


def test_reliability_table_and_ece() -> None:
    confident = [0.95] * 10
    assert expected_calibration_error(confident, [True] * 10) == pytest.approx(0.05)
    table = reliability_table(confident + [0.15] * 10, [True] * 5 + [False] * 5 + [False] * 9 + [True])
    assert list(table["bin"]) == ["0.1-0.2", "0.9-1.0"] and list(table["n"]) == [10, 10]
    assert table["accuracy"].tolist() == [pytest.approx(0.1), pytest.approx(0.5)]
    assert expected_calibration_error(confident + [0.15] * 10, [True] * 5 + [False] * 5 + [False] * 9 + [True]) == pytest.approx(
        (0.45 * 10 + 0.05 * 10) / 20)


def test_the_threshold_is_read_off_the_validation_answers() -> None:
    # Rules of kind A (0.99) are always right; kind B (0.8) right half the time where the model is right.
    confidence = [0.99] * 4 + [0.8] * 4 + [0.0] * 2
    certain = [True] * 8 + [False] * 2
    rules_ok = [True] * 4 + [True, False, True, False] + [False] * 2
    model_ok = [True] * 10
    threshold, table = choose_rules_threshold(confidence, certain, rules_ok, model_ok)
    assert threshold == 0.99 and set(table["threshold"]) == {0.8, 0.99, 1.01}
    assert table.set_index("threshold").loc[0.99, "accuracy"] == 1.0
    # When the model is never right, the lowest threshold (rules answer whenever certain) wins.
    assert choose_rules_threshold(confidence, certain, rules_ok, [False] * 10)[0] == 0.8


def test_calibration_file_round_trip_and_bad_file(tmp_path) -> None:
    path = tmp_path / "c.json"
    calibration = Calibration(rules={"match": 0.98}, model_xs=[0.2, 0.9], model_ys=[0.1, 0.8], rules_threshold=0.97)
    calibration.save(path)
    assert load_calibration(path) == calibration
    assert load_calibration(tmp_path / "missing.json") is UNCALIBRATED
    path.write_text('{"rules": {}, "surprise": 1}')
    with pytest.raises(ConfigError, match=r"c\.json: not a calibration file"):
        load_calibration(path)


def test_the_parser_uses_the_calibrated_numbers_and_the_chosen_threshold() -> None:
    strict = Calibration(rules={"match": 0.97, "typo": 0.6}, model_prior=0.8, rules_threshold=0.98)
    fake = FakeLLM()
    fake.enqueue('{"action":"remove_user","username":"bob"}')
    result = asyncio.run(IntentParser(fake_client(fake), calibration=strict).parse("Delete user bob"))
    assert len(fake.calls) == 1  # a certain match at 0.97 is below the chosen 0.98: the model is asked
    assert (result.path, result.confidence, result.rules_confidence, result.model_confidence) == ("micro", 0.97, 0.97, 0.8)
    relaxed = Calibration(rules={"match": 0.97}, rules_threshold=0.95)
    assert asyncio.run(IntentParser(fake_client(fake), calibration=relaxed).parse("Delete user bob")).path == "rules"
    assert len(fake.calls) == 1


def test_the_committed_calibration_files_load_and_were_chosen_on_validation() -> None:
    for relative in (DEFAULT_CALIBRATION, "prompt_templates/calibration/query_routing.json"):
        calibration = load_calibration(ROOT / relative)
        assert calibration is not UNCALIBRATED, relative
        assert calibration.provenance["threshold_from"].startswith("validation")
        assert calibration.provenance["fitted_on"].startswith("train")
        assert calibration.model_ys == sorted(calibration.model_ys)


def test_the_committed_calibrations_were_fitted_with_the_default_prompt_and_shots() -> None:
    # The prompt and the shots (fixed or retrieved) were chosen on validation; the calibration must
    # describe the model as it runs by default, so a change of default without a refit fails here.
    parser = IntentParser(None, config=ParserConfig())
    router = QueryRouter(None, RouterConfig())
    assert router.retrieved_shots == DEFAULT_ROUTER_SHOTS == 4
    assert parser.retrieved_shots == 4  # intent_parsing_v2 retrieves 4 demonstrations from train
    parser_fit = load_calibration(ROOT / DEFAULT_CALIBRATION).provenance
    router_fit = load_calibration(ROOT / DEFAULT_ROUTER_CALIBRATION).provenance
    assert parser_fit["retrieved_shots"] == parser.retrieved_shots
    assert parser_fit["template"] == parser.config.template_path == "prompt_templates/intent_parsing_v2.yaml"
    assert router_fit["retrieved_shots"] == router.retrieved_shots
    assert router_fit["template"] == router.config.template_path
    assert QueryRouter(None, RouterConfig(retrieved_shots=0)).retrieved_shots == 0


def test_fitting_the_parser_on_a_fake_model() -> None:
    golden = GoldenFake()  # answers every golden command with its label, without logprobs
    parser = IntentParser(fake_client(golden), config=ParserConfig(mode="model_first"), calibration=UNCALIBRATED)
    train, validation = (asyncio.run(evaluate_parser(parser, golden_examples("intent_parsing", split, 12))) for split in ("train", "validation"))
    fit = fit_parser(train, validation, provenance={"model": "golden fake"})
    calibration = fit.calibration
    assert calibration.provenance["fitted_on"].startswith("train (rules: 12 items; model: 12 items")
    assert calibration.rules and all(0 < value < 1 for value in calibration.rules.values())
    assert calibration.rules_threshold in set(fit.threshold_table["threshold"])
    assert {"rules", "model", "pipeline"} == set(fit.ece) and fit.counts["rules"] == 12
    assert 0.0 <= fit.ece["pipeline"] <= 1.0
    assert calibration.model_prior == pytest.approx(12.5 / 13, abs=1e-4)  # right on all 12 train items, smoothed


def test_fitting_the_router_and_the_cli_prints_reliability_tables() -> None:
    fake = FakeLLM()
    fake.enqueue(*(['{"route":"llm"}'] * 10))
    router = QueryRouter(fake_client(fake), RouterConfig(mode="model_first"), calibration=UNCALIBRATED)
    train, validation = (asyncio.run(evaluate_router(router, golden_examples("query_routing", split, 5))) for split in ("train", "validation"))
    fit = fit_router(train, validation)
    assert fit.counts["model"] == 5 and set(fit.reliability) == {"rules", "model", "pipeline"}
    with GoldenFake().serve() as url:
        result = run_cli("eval-parser", "--calibrate", "--no-write", "--examples", "6", "--url", url)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "calibration (not written)" in out and "rules threshold chosen on validation" in out
    assert "reliability on validation, pipeline" in out and "ECE" in out


def test_a_second_pass_only_when_the_model_is_unsure_and_the_rules_have_no_certain_answer() -> None:
    from test_intents_support import p, with_logprobs

    content = '{"action":"remove_user","username":"bob"}'

    def reply(probability: float) -> object:
        return with_logprobs(content, [('{"action":"', p(0.1), {}), ("remove", p(probability), {"add": p(1 - probability)}),
                                       (content[17:], p(0.9), {})])

    fake = FakeLLM()
    fake.enqueue(reply(0.3), reply(0.8))
    parser = IntentParser(fake_client(fake), config=ParserConfig(second_pass=True, retrieved_shots=3), calibration=UNCALIBRATED)
    result = asyncio.run(parser.parse("user bob, asap"))
    assert len(fake.calls) == 2 and result.model_passes == 2 and result.path == "micro"
    assert len(fake.calls[1]["messages"]) == 1 + 2 * 8 + 1  # twice the retrieved demonstrations (at least 4): 8 turns
    assert result.model_confidence == pytest.approx(0.8, abs=1e-4)
    fake.enqueue(reply(0.9))
    sure = asyncio.run(parser.parse("user bob, asap"))
    assert len(fake.calls) == 3 and sure.model_passes == 1
    fake.enqueue(reply(0.3))
    off = IntentParser(fake_client(fake), config=ParserConfig(retrieved_shots=3), calibration=UNCALIBRATED)
    assert asyncio.run(off.parse("user bob, asap")).path == "fallback" and len(fake.calls) == 4


def test_pipeline_runs_never_share_cached_answers_across_settings_or_calibrations(tmp_path) -> None:
    from optimizer.evaluate.engine import cache_key
    from optimizer.intents.runs import pipeline_candidate
    from optimizer.prompts.templates import render_messages

    def key(config: ParserConfig) -> str:
        template = pipeline_candidate("parser", config).template
        return cache_key("model", render_messages(template, {"input": "Delete user bob"}), {"temperature": 0.0})

    calibration = tmp_path / "c.json"
    Calibration(rules={"match": 0.9}).save(calibration)
    first = key(ParserConfig(mode="auto", calibration_path=str(calibration)))
    assert first != key(ParserConfig(mode="model_only", calibration_path=str(calibration)))
    assert first == key(ParserConfig(mode="auto", calibration_path=str(calibration)))
    Calibration(rules={"match": 0.5}).save(calibration)
    assert first != key(ParserConfig(mode="auto", calibration_path=str(calibration)))


def test_pipeline_runs_never_reuse_answers_cached_before_the_rules_changed(tmp_path, monkeypatch) -> None:
    # A rules-only evaluation is cached like any run; when the key ignored the code, re-evaluating
    # in the same store after a rule change returned the old scores (a regression went unseen).
    from optimizer.intents import runs
    from optimizer.prompts.templates import render_messages

    package = tmp_path / "intents"
    package.mkdir()
    (package / "rules.py").write_text("PATTERN = 'add'\n")
    before = runs.source_digest(package)
    (package / "rules.py").write_text("PATTERN = 'add|create'\n")
    assert runs.source_digest(package) != before
    assert runs.source_digest() == runs.source_digest(Path(runs.__file__).parent)

    def carrier() -> str:
        return str(render_messages(runs.pipeline_candidate("parser", ParserConfig()).template, {"input": "Delete user bob"}))

    first = carrier()
    assert carrier() == first
    monkeypatch.setattr(runs, "PACKAGE", package)  # the same settings, other code
    assert carrier() != first
