"""The CI regression gate: a paired test against the version replaced, floors, and JUnit XML."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from fake_openai import FakeLLM
from optimizer.analysis.gate import junit_xml, previous_version, run_gate
from optimizer.serving.client import LLMClient

from conftest import FAST_RETRY, GOLDEN_K8S, ROOT

BROKEN_MARKER = "Answer in haiku."


class HaikuFake(FakeLLM):
    """Answers in verse (which no parser reads) when the system prompt asks for it."""

    def reply_text(self, body):
        if BROKEN_MARKER in body["messages"][0]["content"]:
            return "Pods fall like leaves / the node is quiet tonight / logs drift in the wind"
        return super().reply_text(body)


def write_version(workspace: Path, number: int, *, broken: bool) -> Path:
    text = (workspace / "prompt_templates" / "k8s_log_analysis_v1.yaml").read_text()
    text = text.replace("id: k8s_log_analysis_v1", f"id: k8s_log_analysis_v{number}")
    if broken:
        text = text.replace("Analyze the logs and report the problem.", f"Analyze the logs and report the problem. {BROKEN_MARKER}")
    path = workspace / "prompt_templates" / f"k8s_log_analysis_v{number}.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def fake() -> HaikuFake:
    return HaikuFake(GOLDEN_K8S)


def client_for(fake: FakeLLM) -> LLMClient:
    return LLMClient("http://fake.invalid", transport=fake.transport(), retry=FAST_RETRY)


def test_unchanged_prompt_passes_on_validation_and_test(store, workspace, fake) -> None:
    write_version(workspace, 2, broken=False)
    result = asyncio.run(run_gate(store, client_for(fake), "prompt_templates/k8s_log_analysis_v2.yaml"))
    assert result.passed and result.against == "prompt_templates/k8s_log_analysis_v1.yaml"
    assert [check.split for check in result.checks] == ["validation", "test"]
    for check in result.checks:
        assert check.n == check.planned == 60 and check.comparison.n == 60
        assert check.comparison.delta == 0.0 and check.mean == check.against_mean
    reason = result.reason()
    assert reason.startswith("PASS: prompt_templates/k8s_log_analysis_v2.yaml against prompt_templates/k8s_log_analysis_v1.yaml")
    assert "validation (60/60 examples scored)" in reason and "test (60/60 examples scored)" in reason
    assert "\n" not in reason


def test_significantly_worse_version_fails_with_the_reason(store, workspace, fake) -> None:
    write_version(workspace, 2, broken=True)
    result = asyncio.run(run_gate(store, client_for(fake), "prompt_templates/k8s_log_analysis_v2.yaml"))
    assert not result.passed
    validation = result.checks[0]
    assert validation.mean == 0.0 and validation.comparison.separable and validation.comparison.delta < 0
    assert any("significantly worse than k8s_log_analysis_v1.yaml" in failure for failure in validation.failures)
    assert result.reason().startswith("FAIL:") and "p < 0.05" in result.reason()
    report = ElementTree.fromstring(junit_xml(result))
    assert report.get("name") == "workbench-gate" and report.get("tests") == "6" and report.get("failures") == "2"
    failed = [case.get("name") for case in report.iter("testcase") if case.find("failure") is not None]
    assert all(name.endswith("not worse than prompt_templates/k8s_log_analysis_v1.yaml") for name in failed)


def test_a_drop_within_max_drop_passes_and_a_floor_fails(store, workspace, fake) -> None:
    write_version(workspace, 2, broken=True)
    tolerant = asyncio.run(run_gate(store, client_for(fake), "prompt_templates/k8s_log_analysis_v2.yaml", max_drop=1.0,
                                    n_examples=12))
    assert tolerant.passed
    floored = asyncio.run(run_gate(store, client_for(fake), "prompt_templates/k8s_log_analysis_v1.yaml", min_overall=0.99,
                                   n_examples=12))
    assert floored.against is None and not floored.passed
    assert all(any("below the floor --min-overall 0.990" in f for f in check.failures) for check in floored.checks)
    assert "no earlier version to compare with" in floored.reason()


def test_previous_version_is_the_newest_lower_one(tmp_path: Path) -> None:
    for name in ("t_v1.yaml", "t_v3.yaml", "t_v10.yaml", "other_v2.yaml"):
        (tmp_path / name).write_text("x")
    assert previous_version(tmp_path / "t_v10.yaml") == tmp_path / "t_v3.yaml"
    assert previous_version(tmp_path / "t_v1.yaml") is None


def test_gate_command_exits_1_with_a_paragraph_and_writes_junit(workspace, fake, tmp_path) -> None:
    write_version(workspace, 2, broken=True)
    junit = tmp_path / "gate.xml"
    with fake.serve() as url:
        failing = subprocess.run(
            [sys.executable, "-m", "optimizer.app.cli", "gate", "--template", "prompt_templates/k8s_log_analysis_v2.yaml",
             "--examples", "15", "--url", url, "--junit", str(junit), "--store", str(tmp_path / "runs.sqlite")],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
        passing = subprocess.run(
            [sys.executable, "-m", "optimizer.app.cli", "gate", "--template", "prompt_templates/k8s_log_analysis_v2.yaml",
             "--against", "v2", "--examples", "15", "--url", url, "--store", str(tmp_path / "runs.sqlite")],
            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert failing.returncode == 1, failing.stderr
    assert failing.stdout.startswith("FAIL: prompt_templates/k8s_log_analysis_v2.yaml against")
    assert ElementTree.parse(junit).getroot().get("failures") == "2"
    assert passing.returncode == 2 and "that is the template itself" in passing.stderr
