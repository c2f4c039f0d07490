"""`--examples N` scores a seeded sample stratified by the task's example groups, shown in the plan."""

from __future__ import annotations

from collections import Counter

from optimizer.evaluate.runner import RunRequest, describe_estimate, load_task_dataset, plan_run
from optimizer.tasks.sampling import describe_selection, sample_examples, strata_rule
from optimizer.tasks.spec import load_task

from conftest import run_cli


def _strata(task, examples) -> Counter:
    _, stratum_of = strata_rule(task, examples)
    return Counter(stratum_of(example) for example in examples)


def test_small_runs_see_every_group_in_proportion() -> None:
    task = load_task("k8s_log_analysis")
    validation = load_task_dataset(task).validation
    population = _strata(task, validation)
    assert set(population) == {"issue", "benign", "hard_negative"}
    for n in (3, 6, 13, 20):
        plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=1, n_examples=n, seed=0))
        counts = _strata(task, plan.examples)
        assert sum(counts.values()) == n and set(counts) == set(population), (n, counts)
        for name, available in population.items():  # within one example of the proportional share
            assert abs(counts[name] - n * available / len(validation)) < 1.0 + 1e-9, (n, counts)


def test_sample_is_seeded_nested_and_covers_everything_when_unbounded() -> None:
    task = load_task("k8s_log_analysis")
    validation = load_task_dataset(task).validation
    first = sample_examples(task, validation, 20, seed=1)
    assert [e.id for e in first.examples] == [e.id for e in sample_examples(task, validation, 20, seed=1).examples]
    assert [e.id for e in first.examples] != [e.id for e in sample_examples(task, validation, 20, seed=2).examples]
    smaller = sample_examples(task, validation, 10, seed=1)
    assert [e.id for e in smaller.examples] == [e.id for e in first.examples[:10]]  # cache hits carry over
    everything = sample_examples(task, validation, None, seed=1)
    assert sorted(e.id for e in everything.examples) == sorted(e.id for e in validation)


def test_tasks_without_groups_stratify_by_a_labelled_field_or_category() -> None:
    routing = load_task("query_routing")
    no_groups = routing.model_copy(update={"example_groups": {}})
    validation = load_task_dataset(routing).validation
    sample = sample_examples(no_groups, validation, 6, seed=0)
    assert sample.stratified_by == "expected.route"
    assert set(sample.counts) == {"rag", "risk", "llm"} and all(count == 2 for count in sample.counts.values())
    agent = load_task("k8s_agent")  # no groups, no labelled field: its scenarios' category
    agent_validation = load_task_dataset(agent).validation
    sample = sample_examples(agent, agent_validation, 5, seed=0)
    assert sample.stratified_by == "category" and len(sample.counts) > 1 and sum(sample.counts.values()) == 5


def test_plan_and_cli_show_the_sample() -> None:
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=1, n_examples=13, seed=0))
    text = describe_estimate(plan, None)
    assert "13 of 60 validation examples, stratified by example groups (issue / benign / hard_negative) (seed 0)" in text
    assert "issue 5/24" in text
    result = run_cli("optimize", "--task", "k8s_log_analysis", "--examples", "13", "--candidates", "1", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "stratified by example groups" in result.stdout


def test_a_stored_run_says_how_its_examples_were_drawn(store, fake_client) -> None:
    import asyncio

    from optimizer.evaluate.runner import run_plan

    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=1, n_examples=6, seed=3))
    run = store.get_run(asyncio.run(run_plan(store, plan, fake_client)))
    assert run.config["example_selection"]["counts"] == {"issue": 2, "benign": 2, "hard_negative": 2}
    assert describe_selection(run.config["example_selection"], run.n_examples) == plan.selection.describe()
    assert describe_selection(None, 6) is None  # runs stored before the sample was recorded
