"""The Agent page in the Streamlit app, against the fake server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_openai import FakeLLM

from conftest import open_page


CONFUSED = "I am a helpful assistant. Could you tell me more about your cluster?"


@pytest.fixture
def fake_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    fake = FakeLLM()
    fake.enqueue(*([CONFUSED] * 200))
    with fake.serve() as url:
        monkeypatch.setenv("WORKBENCH_LLM_URL", url)
        yield url




def test_investigation_trace_step_by_step(fake_url: str) -> None:
    at = open_page("views/agent.py")
    at.selectbox(key="agent_scenario").set_value("imagepull-bad-tag-frontend")
    at.run()
    assert at.text_input(key="agent_question_imagepull-bad-tag-frontend").value.startswith("The new frontend version")
    at.button(key="agent_run").click()
    at.run()
    assert not at.exception
    labels = [expander.label for expander in at.expander]
    assert labels[0] == "Step 1 · DISCOVERY · FIND_ISSUES"
    assert any(label.startswith("Step 2 · INSPECT · DESCRIBE pod web frontend-6c8b9d7f5-q2wlx") for label in labels)
    assert any("Fallback: keyword fallback" in warning.value for warning in at.warning)
    assert any("Raw model output" in markdown.value for markdown in at.markdown)
    # The answer came from the deterministic fallback: shown as such, not as a green success.
    assert not at.main.success
    written = [warning.value for warning in at.warning if warning.value.startswith("Written by the deterministic fallback")]
    assert written and "image ghcr.io/acme/frontend:v2.31 cannot be pulled" in written[0]


def test_scenario_picker_does_not_give_the_answer_away(fake_url: str) -> None:
    from optimizer.agent.scenarios import load_scenarios

    at = open_page("views/agent.py")
    picker = at.selectbox(key="agent_scenario")
    shown = list(picker.options)  # the labels the browser shows
    scenarios = {scenario.id: scenario for scenario in load_scenarios()}
    assert len(shown) == len(scenarios)
    for label in shown:
        assert label.startswith("Case ")
        assert not any(scenario.title in label or scenario_id in label for scenario_id, scenario in scenarios.items())
    for word in ("OOMKilled", "oom", "expired", "typo", "panic", "NotReady"):
        assert not any(word in label for label in shown), word


def test_baseline_trace_runs_to_the_step_limit(fake_url: str) -> None:
    at = open_page("views/agent.py")
    at.radio(key="agent_config").set_value("baseline")
    at.run()
    at.button(key="agent_run").click()
    at.run()
    assert not at.exception and len(at.expander) == 10 and at.error[-1].value.startswith("No answer: step limit")


def test_ab_table(fake_url: str) -> None:
    at = open_page("views/agent.py")
    assert any("No A/B run yet" in info.value for info in at.info)
    at.number_input(key="agent_ab_count").set_value(2)
    at.button(key="agent_ab_run").click()
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["baseline", "optimized"]
    assert "success rate (root cause and culprit)" in table.index and "tokens per investigation" in table.index
    assert len(at.dataframe[1].value) == 4
