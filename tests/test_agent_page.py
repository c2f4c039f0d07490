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
    at = open_page("pages/agent.py")
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
    assert "image ghcr.io/acme/frontend:v2.31 cannot be pulled" in at.success[0].value
    assert "answered by the fallback" in at.success[0].value


def test_baseline_trace_runs_to_the_step_limit(fake_url: str) -> None:
    at = open_page("pages/agent.py")
    at.radio(key="agent_config").set_value("baseline")
    at.run()
    at.button(key="agent_run").click()
    at.run()
    assert not at.exception and len(at.expander) == 10 and at.error[-1].value.startswith("No answer: step limit")


def test_ab_table(fake_url: str) -> None:
    at = open_page("pages/agent.py")
    assert any("No A/B run yet" in info.value for info in at.info)
    at.number_input(key="agent_ab_count").set_value(2)
    at.button(key="agent_ab_run").click()
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["baseline", "optimized"]
    assert "success rate (root cause and culprit)" in table.index and "tokens per investigation" in table.index
    assert len(at.dataframe[1].value) == 4
