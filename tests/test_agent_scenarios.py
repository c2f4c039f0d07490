"""The simulated cluster: scenario files, kubectl-looking output, FIND_ISSUES, the generated dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.agent.cluster import SimulatedCluster
from optimizer.agent.golden import dataset_is_current, dataset_path, fixture_sha
from optimizer.agent.policy import Evidence, choose_tool, diagnose, next_state
from optimizer.agent.scenarios import ScenarioError, load_scenario, load_scenario_file, load_scenarios
from optimizer.agent.tools import ToolCall, run_tool
from optimizer.tasks.dataset import load_dataset
from optimizer.agent.metrics import agent_success
from optimizer.prompts.templates import load_template, render_messages

from conftest import ROOT

REQUIRED_CATEGORIES = {
    "oomkilled", "crashloop_panic", "crashloop_missing_config", "imagepull_bad_tag", "failing_probe", "failed_scheduling",
    "pvc_pending", "node_not_ready", "expired_certificate", "dns_failure", "crossplane_unhealthy", "istio_unhealthy", "healthy",
}


def kubectl(scenario_id: str, *argv: str) -> str:
    return SimulatedCluster(load_scenario(scenario_id)).kubectl(list(argv))


def test_at_least_30_scenarios_cover_every_required_kind() -> None:
    scenarios = load_scenarios()
    assert len(scenarios) >= 30
    assert REQUIRED_CATEGORIES <= {scenario.category for scenario in scenarios}
    for scenario in scenarios:
        assert scenario.expected.root_cause and scenario.expected.culprit_terms, scenario.id
    assert {"Insufficient cpu", "Insufficient memory"} <= {
        word for s in scenarios for pod in s.pods for word in ("Insufficient cpu", "Insufficient memory") if word in (pod.scheduling_error or "")}


def test_find_issues_lists_every_problem_and_nothing_on_healthy_clusters() -> None:
    for scenario in load_scenarios():
        issues = SimulatedCluster(scenario).find_issues()
        if scenario.category == "healthy":
            assert issues == [], scenario.id
        elif scenario.id != "istio-mtls-strict":
            assert issues, scenario.id
    text = SimulatedCluster(load_scenario("node-notready-kubelet")).find_issues_text()
    assert text.splitlines()[0].split() == ["KIND", "NAMESPACE", "NAME", "PROBLEM"]
    assert text.splitlines()[1].split()[:4] == ["Node", "-", "node-3", "NotReady"]


def test_output_looks_like_kubectl() -> None:
    pods = kubectl("oom-checkout-api", "get", "pods", "-A")
    assert pods.splitlines()[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "checkout-api-6f7c9d8b5-x2x4q      0/1     CrashLoopBackOff   7 (2m ago)   31m" in pods
    describe = kubectl("oom-checkout-api", "describe", "pod", "checkout-api-6f7c9d8b5-x2x4q", "-n", "shop")
    for line in ("Last State:     Terminated", "Reason:       OOMKilled", "Exit Code:    137", "Events:", "Back-off restarting failed container"):
        assert line in describe
    assert "panic: runtime error" in kubectl("crashloop-panic-payments", "logs", "payments-api-7b64c8d5f-5n2rd", "-n", "payments")
    assert kubectl("oom-checkout-api", "get", "pods", "nope", "-n", "shop") == 'Error from server (NotFound): pods "nope" not found in namespace "shop"'
    assert kubectl("oom-checkout-api", "get", "widgets") == 'error: the server doesn\'t have a resource type "widgets"'
    assert "No resources found in empty namespace." == kubectl("oom-checkout-api", "get", "pods", "-n", "empty")
    pull = kubectl("imagepull-bad-tag-frontend", "logs", "frontend-6c8b9d7f5-q2wlx", "-n", "web")
    assert pull.startswith("Error from server (BadRequest): container \"frontend\"") and "waiting to start" in pull
    events = kubectl("pvc-pending-storageclass", "get", "events", "-n", "db")
    assert events.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert 'storageclass.storage.k8s.io "fast-ssd" not found' in events
    assert "<unknown>" in kubectl("node-notready-kubelet", "top", "nodes")
    assert "Kubelet stopped posting node status." in kubectl("node-notready-kubelet", "describe", "node", "node-3")
    assert "buckets.s3.aws.upbound.io/analytics-raw-data" in kubectl("crossplane-bucket-access-denied", "get", "crossplane")
    assert "certificates" in kubectl("cert-expired-ingress", "api-resources")


def test_deterministic_path_finds_the_root_cause_of_nearly_every_scenario() -> None:
    """The fallbacks alone (no model) solve the scenarios they are meant to; hard ones stay hard."""
    solved = []
    for scenario in load_scenarios():
        cluster, evidence, state = SimulatedCluster(scenario), Evidence(), "DISCOVERY"
        for _ in range(8):
            choice = choose_tool(state, scenario.question, evidence)
            if state == "RESOLVE" or choice is None:
                break
            result = run_tool(cluster, choice[0])
            evidence.record(cluster, result)
            state = next_state(state, result)
        answer = diagnose(evidence)
        if agent_success(scenario.expected.model_dump(), {"root_cause": answer.root_cause, "culprit": answer.culprit}):
            solved.append(scenario.id)
    assert len(solved) >= len(load_scenarios()) - 2
    assert "istio-mtls-strict" not in solved  # needs reasoning the rules do not have


def test_golden_dataset_is_generated_from_the_scenarios() -> None:
    assert dataset_is_current(), "golden/k8s_agent.jsonl is stale: run workbench agent dataset"
    dataset = load_dataset(dataset_path())
    assert len(dataset.examples) == len(load_scenarios())
    assert dataset.train and dataset.validation
    example = dataset.by_id("oom-checkout-api")
    assert example.inputs["scenario"] == "oom-checkout-api" and set(example.expected) >= {"root_cause", "culprit"}
    # The scenario file's hash is rendered, so editing a scenario cannot hit a stale cached investigation.
    rendered = render_messages(load_template(ROOT / "prompt_templates" / "k8s_agent_v1.yaml"), example.inputs)
    assert f"(fixture {fixture_sha(load_scenario('oom-checkout-api'))})" in rendered[-1]["content"]


def test_a_bad_scenario_file_is_named_with_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: broken\ntitle: t\ncategory: healthy\nquestion: q\nexpected:\n  root_cause: x\n"
                    "  root_cause_terms: [x]\n  culprit: none\n  culprit_terms: [none]\npods:\n  - name: a\n    namespace: b\n"
                    "    colour: red\n    containers: [{name: c, image: i}]\n")
    with pytest.raises(ScenarioError, match=r"broken\.yaml:13: a / colour: unknown key 'colour'"):
        load_scenario_file(path)
    path.write_text(path.read_text().replace("id: broken", "id: other").replace("    colour: red\n", ""))
    with pytest.raises(ScenarioError, match="does not match the file name"):
        load_scenario_file(path)


def test_legacy_and_category_listing() -> None:
    cluster = SimulatedCluster(load_scenario("istio-missing-subset"))
    result = run_tool(cluster, ToolCall("GET_ISTIO"))
    assert result.call == ToolCall("LIST_ALL", ("istio",)) and result.mapped_from == ToolCall("GET_ISTIO")
    assert "virtualservices.networking.istio.io/reviews" in result.output
