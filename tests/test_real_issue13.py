"""Issue 13 paths against the real embedded llama.cpp server and SmolLM2-135M (a handful of calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.analysis.compare import load_run_data, paired_against
from optimizer.app.background import run_state
from optimizer.evaluate.store import RunStore
from optimizer.tasks.sampling import strata_rule
from optimizer.tasks.spec import load_task

from conftest import run_cli

pytestmark = pytest.mark.real_llm


def test_stratified_small_run_cached_plan_no_eta_and_honest_comparison(real_server, tmp_path: Path) -> None:
    store_path = str(tmp_path / "runs.sqlite")
    # query_routing: one short query per call, so six calls stay cheap even on a loaded 2-core machine
    arguments = ["optimize", "--task", "query_routing", "--strategy", "grid", "--candidates", "1", "--examples", "3",
                 "--url", real_server.url, "--store", store_path]
    first = run_cli(*arguments, timeout=900)  # a handful of calls, but the 2-core machine may be loaded
    assert first.returncode == 0, first.stderr
    assert "3 of 20 validation examples, stratified by example groups (rag / risk / llm)" in first.stdout
    with RunStore(store_path) as store:
        run = store.list_runs()[0]
        assert run.status == "completed" and store.count_evaluations(run.id) == 6
        # A 3-example run sees one example of each route, whatever the file's order.
        task = load_task("query_routing")
        examples = [example for example in load_run_data(store, run.id).evaluations.drop_duplicates("example_id").itertuples()]
        from optimizer.evaluate.runner import load_task_dataset

        by_id = {example.id: example for example in load_task_dataset(task).validation}
        _, stratum_of = strata_rule(task, list(by_id.values()))
        assert {stratum_of(by_id[row.example_id]) for row in examples} == {"rag", "risk", "llm"}
        assert run_state(store, run.id).eta_s is None  # finished: no ETA
        data = load_run_data(store, run.id)
        other = next(candidate_id for candidate_id in data.templates if candidate_id != data.baseline_id)
        sentence = paired_against(data, other, data.baseline_id).sentence()
        assert "over 3 paired examples" in sentence and "too small to separate" in sentence
    # The same plan again: every call is in the response cache, so nothing is left to make.
    again = run_cli(*arguments, "--dry-run")
    assert again.returncode == 0, again.stderr
    assert "6 of 6 calls are in the response cache" in again.stdout and ", 0 to make;" in again.stdout
