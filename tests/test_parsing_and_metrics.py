from __future__ import annotations

import pytest

from optimizer import plugins
from optimizer.errors import ConfigError
from optimizer.tasks.metrics import exact_match, get_metric, token_jaccard, weighted_overall
from optimizer.tasks.parsers import parse_output
from optimizer.tasks.spec import load_task

LABELS = {"root_cause": "Root cause", "severity": "Severity", "action_required": "Action required"}
CHOICES = {"severity": ["info", "warning", "error", "critical"], "action_required": ["yes", "no"]}


def parse(text: str, style: str = "auto"):
    return parse_output(text, style=style, labels=LABELS, choices=CHOICES, required=list(LABELS))


def test_labelled_lines_with_markdown_and_noise() -> None:
    parsed = parse("Sure! Here it is.\n**Root cause:** Pod was OOMKilled\n- Severity: ERROR.\n* Action required: Yes.")
    assert parsed.ok
    assert parsed.fields == {"root_cause": "Pod was OOMKilled", "severity": "error", "action_required": "yes"}


def test_last_occurrence_wins_for_chain_of_thought() -> None:
    text = "Severity: maybe info at first glance\nReasoning: the pod crashed\nRoot cause: crash\nSeverity: critical\nAction required: yes"
    assert parse(text).fields["severity"] == "critical"


def test_json_output_in_a_fence_and_boolean_action() -> None:
    parsed = parse('```json\n{"root_cause": "x509 certificate expired", "Severity": "Critical", "action_required": true}\n```')
    assert parsed.ok
    assert parsed.fields == {"root_cause": "x509 certificate expired", "severity": "critical", "action_required": "yes"}


def test_missing_field_is_a_parse_failure_not_a_crash() -> None:
    parsed = parse("Root cause: something\nSeverity: error")
    assert not parsed.ok
    assert parsed.error == "missing field: action_required"
    assert parsed.fields["severity"] == "error"


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_empty_output_is_a_parse_failure(text: str) -> None:
    assert parse(text).error == "empty output"


def test_value_outside_choices_is_kept_for_scoring_as_wrong() -> None:
    parsed = parse("Root cause: x\nSeverity: high\nAction required: no")
    assert parsed.ok and parsed.fields["severity"] == "high"


def test_metrics_registry_and_values() -> None:
    # core metrics and the features' metrics come through the one plugin registry
    assert {"exact_match", "token_jaccard", "token_f1", "agent_success", "intent_schema_valid"} <= set(plugins.metrics.names())
    assert exact_match("Error", " error. ") == 1.0
    assert exact_match("error", "critical") == 0.0
    assert exact_match("error", None) == 0.0
    assert token_jaccard("Container OOMKilled memory limit", "container was OOMKilled") == pytest.approx(2 / 5)
    assert token_jaccard("", "") == 1.0
    with pytest.raises(ConfigError, match="unknown metric 'nope'; known: .*exact_match"):
        get_metric("nope")


def test_weighted_overall_uses_task_weights() -> None:
    task = load_task("k8s_log_analysis")
    assert task.weights == {"root_cause": 0.2, "severity": 0.4, "action_required": 0.4}
    expected = {"root_cause": "pod oomkilled", "severity": "error", "action_required": "yes"}
    field_scores, overall = task.score(expected, {"root_cause": "pod oomkilled", "severity": "warning", "action_required": "yes"})
    assert field_scores == {"root_cause": 1.0, "severity": 0.0, "action_required": 1.0}
    assert overall == pytest.approx(0.6)
    assert weighted_overall({"a": 1.0}, {"a": 0.0}) == 0.0
    # A field the model did not produce scores zero.
    _, overall_missing = task.score(expected, {"severity": "error"})
    assert overall_missing == pytest.approx(0.4)


def test_choices_with_underscores_are_matched() -> None:
    parsed = parse_output('{"action": "DNS_ADD"}', style="json", labels={"action": "action"},
                          choices={"action": ["dns_add", "dns_remove"]}, required=["action"])
    assert parsed.fields == {"action": "dns_add"}
