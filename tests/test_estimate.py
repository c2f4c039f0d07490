"""Plans subtract cache hits and say when seconds per call were measured loaded; ETAs are smoothed."""

from __future__ import annotations

import asyncio
import time

import pytest

from optimizer.evaluate.estimate import MachineLoad, estimate_plan, run_eta, smoothed_rate
from optimizer.evaluate.runner import RunRequest, describe_estimate, plan_run, run_plan


def test_steady_throughput_gives_its_rate_and_a_stall_lowers_it_gradually() -> None:
    now = 1_000.0
    steady = [now - 0.5 * i for i in range(240)]  # 2 per second for two minutes
    assert smoothed_rate(steady, now) == pytest.approx(2.0, rel=0.02)
    # Batched writes (20 at once every 10 s) read the same, whatever moment inside the batch cycle.
    batched = [now - 10.0 * (i // 20) for i in range(240)]
    rates = [smoothed_rate(batched, now + offset) for offset in (0.0, 3.0, 6.0, 9.9)]
    assert max(rates) / min(rates) < 1.25, rates  # a hard 60 s window jumped by the size of a batch
    # Nothing for 30 s, then 60 s: the rate falls smoothly, it does not drop to zero at once.
    assert 1.0 < smoothed_rate(steady, now + 30) < 2.0
    assert smoothed_rate(steady, now + 60) < smoothed_rate(steady, now + 30)
    assert smoothed_rate(steady[:4], now) is None  # too few calls to say anything


def test_no_eta_unless_running(store, fake_client) -> None:
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=2, n_examples=4, seed=0))
    run_id = asyncio.run(run_plan(store, plan, fake_client))
    later = time.time() + 1
    for status in ("completed", "cancelled", "paused", "interrupted"):
        eta, _ = run_eta(store, run_id, remaining=10, status=status, now=later)
        assert eta is None, status
    eta, rate = run_eta(store, run_id, remaining=10, status="running", now=later)
    assert rate and eta == pytest.approx(10 / rate)


def test_plan_subtracts_cached_calls_and_names_a_loaded_machine(store, fake_client) -> None:
    request = RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=2, n_examples=4, seed=0)
    plan = plan_run(request)
    before = estimate_plan(store, plan)
    assert before.cached == 0 and before.to_call == plan.calls
    run_id = asyncio.run(run_plan(store, plan, fake_client))
    store.add_wall_time(run_id, 6.0)
    after = estimate_plan(store, plan_run(request))
    assert after.cached == plan.calls and after.to_call == 0 and after.seconds == 0
    text = describe_estimate(plan, store.seconds_per_call(), after)
    assert f"{plan.calls} of {plan.calls} calls are in the response cache" in text and "0 to make" in text
    bigger = estimate_plan(store, plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", max_candidates=2,
                                                      n_examples=8, seed=0)))
    assert bigger.cached == plan.calls and bigger.to_call == bigger.calls - plan.calls  # the 4-example sample is nested
    # The run recorded the machine's load; one measured on a loaded machine is named as such.
    assert set(store.get_run(run_id).config["machine"]) == {"load1", "cores"}
    store.update_run(run_id, config_json=__import__("json").dumps({**store.get_run(run_id).config,
                                                                   "machine": {"load1": 9.5, "cores": 2}}))
    loaded = estimate_plan(store, plan)
    assert loaded.loaded_runs == 1 and "on a loaded machine" in loaded.describe()
    assert MachineLoad(9.5, 2).loaded and not MachineLoad(1.0, 2).loaded


def test_grid_estimate_for_the_search_space_page(store) -> None:
    from optimizer.evaluate.estimate import grid_estimate

    estimate = grid_estimate(store, 324, 20)
    assert estimate.calls == 6480 and estimate.seconds == pytest.approx(6480 * 0.6)
    assert "default guess, nothing measured yet" in estimate.describe()
