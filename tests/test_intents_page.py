"""The Parser page through Streamlit's AppTest: parse, golden set, A/B and the router section."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest
from test_intents_support import GoldenFake

from conftest import ROOT, open_page
from optimizer.intents.calibration import load_calibration
from optimizer.intents.pipeline import DEFAULT_CALIBRATION




def metrics(at: AppTest) -> list[str]:
    return [metric.value for metric in at.metric]


def test_parse_a_command_and_see_json_path_confidence_latency() -> None:
    at = open_page("views/parser.py")
    assert "rules alone" in at.info[0].value  # no server in tests
    at.text_input(key="parser_text").set_value("Create user alice with password Wonder1and!").run()
    at.button(key="parser_parse").click().run()
    assert not at.exception
    assert json.loads(at.json[0].value) == {"action": "add_user", "username": "alice", "password": "Wonder1and!"}
    match = load_calibration(ROOT / DEFAULT_CALIBRATION).rules["match"]  # calibrated: a full match's share right on train
    assert match != 0.95 and metrics(at)[:2] == ["rules", f"{match:.2f}"] and metrics(at)[2].endswith(" ms")


def test_golden_set_accuracy_confusion_and_misses() -> None:
    at = open_page("views/parser.py")
    at.button(key="parser_evaluate").click().run()
    assert not at.exception
    assert "100.0%" in metrics(at)
    labels = [markdown.value for markdown in at.markdown]
    assert "**Accuracy by domain**" in labels and "**Misses: 0**" in labels
    assert any("Confusion matrix of actions" in label for label in labels)


def test_ab_of_rules_against_a_model_server(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = GoldenFake()
    with fake.serve() as url:
        monkeypatch.setenv("WORKBENCH_LLM_URL", url)
        at = open_page("views/parser.py")
        at.number_input(key="parser_ab_limit").set_value(8).run()
        at.text_input(key="parser_ab_a_url").set_value("").run()
        at.button(key="parser_ab_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.index) == ["A: auto @ rules", f"B: model_only @ {url}"]
    assert list(table["model_calls"]) == [0, 8] and list(table["accuracy"]) == [1.0, 1.0]
    assert len(fake.calls) == 8


def test_router_section_routes_and_evaluates() -> None:
    at = open_page("views/parser.py")
    at.text_input(key="router_query").set_value("Draft a polite email declining the meeting").run()
    at.button(key="router_route").click().run()
    assert not at.exception and "llm" in metrics(at)
    at.button(key="router_evaluate").click().run()
    assert not at.exception
    assert "**Accuracy by route**" in [markdown.value for markdown in at.markdown]
    at.button(key="router_ab_run").click().run()
    assert not at.exception and len(at.dataframe) >= 1
