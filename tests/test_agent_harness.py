"""The A/B harness, the optimizer task (executor), and the agent CLI, against scripted fakes."""

from __future__ import annotations

import pytest

import asyncio
import subprocess
import sys
from pathlib import Path

from fake_openai import FakeLLM

from optimizer.agent.config import baseline_config, named_config, optimized_config
from optimizer.config.paths import default_store_path
from optimizer.errors import RunPaused
from optimizer.evaluate.leaderboard import leaderboard
from optimizer.agent.harness import format_table, load_report, run_ab, save_report, select_scenarios, table_rows
from optimizer.agent.scenarios import load_scenarios
from optimizer.evaluate.leaderboard import evaluations_frame, leaderboard
from optimizer.serving.client import LLMClient
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan
from optimizer.evaluate.store import RunStore

from conftest import FAST_RETRY, ROOT, run_cli

CONFUSED = "I am a helpful assistant. Could you tell me more about your cluster?"


def test_ab_table_measures_both_configurations(tmp_path: Path) -> None:
    fake = FakeLLM()
    fake.enqueue(*([CONFUSED] * 400))
    scenarios = select_scenarios(load_scenarios(), 5)
    assert len({scenario.category for scenario in scenarios}) == 5
    seen = []

    async def go():
        async with LLMClient("http://fake.invalid", transport=fake.transport(), retry=FAST_RETRY) as client:
            return await run_ab(client, scenarios, [baseline_config(), optimized_config()], on_progress=lambda d, t: seen.append((d, t)))

    report = asyncio.run(go())
    assert seen[-1] == (10, 10)
    # the comparison is a stored run of the k8s_agent task: one candidate per configuration, baseline first
    with RunStore(default_store_path()) as stored:
        run = stored.get_run(report.run_id)
        assert run.task == "k8s_agent" and run.status == "completed" and stored.count_evaluations(run.id) == 10
        assert [row["factors"]["config"] for row in stored.candidates(run.id)] == ["baseline", "optimized"]
        assert leaderboard(stored, run.id)["n"].tolist() == [5, 5]
    baseline, optimized = report.summaries
    assert (baseline.config_name, optimized.config_name) == ("baseline", "optimized")
    assert baseline.success_rate == 0 and baseline.format_violation_rate == 1 and baseline.average_steps == 10
    assert optimized.success_rate >= 0.8 and optimized.model_answer_rate == 0 and optimized.fallback_step_rate > 0.5
    # the scripted model never answers well: every optimized answer was the fallback's, and the table says so
    assert optimized.fallback_answer_rate == 1.0 and "answers written by the deterministic fallback" in format_table(report)
    assert optimized.tokens_per_investigation < baseline.tokens_per_investigation
    table = format_table(report)
    for label in ("success rate", "average steps", "format-violation rate", "placeholder-error rate", "loop rate", "tokens per investigation"):
        assert label in table
    assert [row["metric"] for row in table_rows(report)][0] == "success rate (root cause and culprit)"
    path = save_report(report, tmp_path / "ab.json")
    assert load_report(path) == report


def test_optimizer_runs_the_agent_task_through_the_executor(store: RunStore) -> None:
    fake = FakeLLM()
    plan = plan_run(RunRequest(task="k8s_agent", strategy="grid", max_candidates=2, n_examples=3))
    assert len(plan.templates) == 3 and plan.calls == 9

    async def go():
        async with LLMClient("http://fake.invalid", transport=fake.transport(), retry=FAST_RETRY) as client:
            return await run_plan(store, plan, client, concurrency=2)

    run_id = asyncio.run(go())
    frame = evaluations_frame(store, run_id)
    assert len(frame) == 9 and frame["error"].isna().all()
    # every investigation reports its labelled lines; an answer with no culprit is a parse failure
    # of that answer (the stratified sample includes scenarios the scripted model gets wrong)
    for label in ("Root cause: ", "Culprit: ", "Steps: ", "Answered by: ", "Outcome: "):
        assert frame["raw_output"].str.contains(label).all(), label
    assert (frame["parse_ok"] | frame["raw_output"].str.contains("Culprit: \n")).all()
    assert frame["prompt_tokens"].gt(100).all()  # totals over the whole investigation
    assert len(fake.calls) > 9  # several model calls per investigation
    table = leaderboard(store, run_id)
    assert {"score_root_cause", "score_culprit", "score_steps"} <= set(table.columns)
    # Each candidate's prompt and sampling reached the agent (the first two grid points differ in temperature).
    assert {call["messages"][0]["content"] for call in fake.calls} == {template.system.strip() for _, template in plan.templates}
    assert {call["temperature"] for call in fake.calls} == {0.0, 0.1}


def test_cli_optimize_agent_task_against_a_fake_server(tmp_path: Path) -> None:
    with FakeLLM().serve() as url:
        result = run_cli("optimize", "--task", "k8s_agent", "--strategy", "grid", "--candidates", "2", "--examples", "3",
                         "--url", url, "--store", str(tmp_path / "s.sqlite"))
    assert result.returncode == 0, result.stderr
    assert "plan: 3 candidates x 3 examples = 9 calls" in result.stdout and "completed" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.strip().startswith("rank"))
    assert "root_cause" in header and "steps" in header


def test_cli_agent_run_and_ab(tmp_path: Path) -> None:
    fake = FakeLLM()
    with fake.serve() as url:
        ran = run_cli("agent", "run", "--scenario", "imagepull-bad-tag-frontend", "--url", url)
        ab = run_cli("agent", "ab", "--scenarios", "2", "--url", url, env={"WORKBENCH_HOME": str(tmp_path)})
        unknown = run_cli("agent", "run", "--scenario", "no-such-scenario", "--url", url)
    assert ran.returncode == 0, ran.stderr
    assert "step 1 [DISCOVERY]" in ran.stdout and "tool call: FIND_ISSUES" in ran.stdout and "ANSWER (fallback)" in ran.stdout
    assert ab.returncode == 0, ab.stderr
    assert "2 configurations x 2 scenarios = 4 investigations" in ab.stdout and "success rate" in ab.stdout
    assert (tmp_path / "agent" / "ab-latest.json").exists()
    assert unknown.returncode == 2 and unknown.stderr.startswith("error: unknown scenario 'no-such-scenario'")
    listed = run_cli("agent", "scenarios")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == len(load_scenarios())
    assert run_cli("agent", "dataset", "--check").returncode == 0


def test_the_agent_core_imports_no_ui() -> None:
    code = ("import sys, optimizer.app.cli, optimizer.agent.commands, optimizer.agent.harness, optimizer.agent.executor; "
            "assert 'streamlit' not in sys.modules and 'gradio' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
    assert named_config("baseline").name == "baseline"


def test_a_server_that_goes_down_pauses_the_comparison_for_a_resume() -> None:
    fake = FakeLLM()
    fake.enqueue(CONFUSED, CONFUSED, *([503] * 200))

    async def go():
        async with LLMClient("http://fake.invalid", transport=fake.transport(), retry=FAST_RETRY) as client:
            return await run_ab(client, select_scenarios(load_scenarios(), 2), [optimized_config()])

    with pytest.raises(RunPaused, match="Resume with: workbench optimize --resume") as paused:
        asyncio.run(go())
    with RunStore(default_store_path()) as stored:
        assert stored.get_run(paused.value.run_id).status == "paused"


def test_the_objective_scores_fallback_written_answers_apart() -> None:
    """The k8s_agent task's main objective field counts only successes the model itself wrote."""
    from optimizer.tasks.spec import load_task

    task = load_task("k8s_agent")
    expected = {"root_cause": "oomkilled", "root_cause_terms": ["oomkilled"], "culprit": "pod shop/api", "culprit_terms": ["shop/api"]}
    right = "Root cause: container OOMKilled\nCulprit: Pod shop/api\nSteps: 3\nAnswered by: {}"
    by_model = task.score(expected, task.parse(right.format("model")).fields)
    by_fallback = task.score(expected, task.parse(right.format("fallback")).fields)
    assert by_model[0]["answered_by"] == 1.0 and by_fallback[0]["answered_by"] == 0.0
    assert by_model[0]["root_cause"] == by_fallback[0]["root_cause"] == 1.0  # success is still shown either way
    assert by_model[1] - by_fallback[1] == pytest.approx(task.outputs["answered_by"].weight / sum(f.weight for f in task.outputs.values()))
