"""Scale benchmark: a stored run of 324 candidates x 100 examples (32,400 evaluations) must open on
the Compare and Run pages in under 2 seconds. Builds such a run in a temporary store, then times
the core functions each page calls and the full page scripts (Streamlit AppTest), and prints them.
Usage: python bench/ui_scale.py
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.evaluate.runner import RunRequest, create_run, plan_run  # noqa: E402
from optimizer.serving.client import ServerInfo  # noqa: E402
from optimizer.evaluate.store import EvaluationRow, RunStore  # noqa: E402

CANDIDATES, EXAMPLES = 324, 100
SEVERITIES = ["info", "warning", "error", "critical"]


def build_run(store: RunStore) -> str:
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", include_baseline=False, n_examples=EXAMPLES))
    assert len(plan.templates) == CANDIDATES, len(plan.templates)
    run_id = create_run(store, plan, ServerInfo("http://127.0.0.1:1", "bench", 8, "llama.cpp"), "bench-model")
    rng = random.Random(0)
    for candidate_id, _ in plan.templates:
        quality = rng.uniform(0.3, 0.95)
        rows = []
        for example in plan.examples:
            right = rng.random() < quality
            severity = example.expected["severity"] if right else rng.choice(SEVERITIES)
            output = f"Root cause: {example.expected['root_cause']}\nSeverity: {severity}\nAction required: {example.expected['action_required']}"
            scores = {"root_cause": rng.random(), "severity": float(right), "action_required": 1.0}
            overall = 0.2 * scores["root_cause"] + 0.4 * scores["severity"] + 0.4
            rows.append(EvaluationRow(candidate_id, example.id, output, {"severity": severity}, None, scores, overall,
                                      rng.uniform(0.2, 2.0), rng.randint(200, 1500), rng.randint(20, 120), "bench",
                                      "stop", False, None))
        store.insert_evaluations(run_id, rows)
    store.update_run(run_id, status="completed")
    return run_id


def timed(label: str, function) -> float:
    started = time.perf_counter()
    function()
    elapsed = time.perf_counter() - started
    print(f"  {label:55s} {elapsed:6.2f}s")
    return elapsed


def main() -> None:
    from streamlit.testing.v1 import AppTest

    from optimizer.app.background import run_state
    from optimizer.analysis.compare import default_selection, example_table, factor_effects, field_intervals, leaderboard_with_factors, load_run_data
    from optimizer.evaluate.leaderboard import leaderboard

    with tempfile.TemporaryDirectory() as home:
        os.environ["WORKBENCH_HOME"] = home
        store_path = Path(home) / "runs.sqlite"
        with RunStore(store_path) as store:
            started = time.perf_counter()
            run_id = build_run(store)
            print(f"built run {run_id}: {store.count_evaluations(run_id):,} evaluations in {time.perf_counter() - started:.1f}s")
            print("core functions:")
            data_holder = {}
            compare_core = timed("Compare: load_run_data", lambda: data_holder.setdefault("data", load_run_data(store, run_id)))
            data = data_holder["data"]
            selected = default_selection(data, 4)
            compare_core += timed("Compare: field_intervals (4 candidates)", lambda: field_intervals(data, selected))
            compare_core += timed("Compare: example_table (4 candidates)", lambda: example_table(data, selected, {}))
            compare_core += timed("Compare: leaderboard_with_factors + factor_effects",
                                  lambda: (leaderboard_with_factors(data), factor_effects(data)))
            run_core = timed("Run: run_state + leaderboard + run_totals",
                             lambda: (run_state(store, run_id), leaderboard(store, run_id), store.run_totals()))
        print("whole pages (AppTest, first open, no cache):")
        results = {}
        for page in ("pages/compare.py", "pages/run.py"):
            app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            app.run()
            started = time.perf_counter()
            app.switch_page(page).run()
            results[page] = time.perf_counter() - started
            assert not app.exception, app.exception
            print(f"  {page:55s} {results[page]:6.2f}s")
        print(f"Compare page: {results['pages/compare.py']:.2f}s (core {compare_core:.2f}s); "
              f"Run page: {results['pages/run.py']:.2f}s (core {run_core:.2f}s); target < 2s each: "
              f"{'PASS' if max(results.values()) < 2 else 'FAIL'}")


if __name__ == "__main__":
    main()
