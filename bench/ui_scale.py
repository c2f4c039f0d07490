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
    plan = plan_run(RunRequest(task="k8s_log_analysis", strategy="grid", include_baseline=False))
    assert len(plan.templates) == CANDIDATES, len(plan.templates)
    # 100 examples: the validation split has fewer, so the synthetic rows also use labelled examples
    # of the other splits (only the count matters here; the rows are not scores of a real model).
    examples = (plan.examples + [example for example in plan.dataset.examples if example not in plan.examples])[:EXAMPLES]
    plan.examples, plan.search_calls = examples, len(plan.templates) * len(examples)
    run_id = create_run(store, plan, ServerInfo("http://127.0.0.1:1", "bench", 8, "llama.cpp"), "bench-model")
    rng = random.Random(0)
    for candidate_id, _ in plan.templates:
        quality = rng.uniform(0.3, 0.95)
        rows = []
        for example in examples:
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


IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def app_pages() -> list[tuple[str, str]]:
    """(title, URL path) of every page in app.py's navigation, the first one at "/"."""
    import ast

    tree = ast.parse((ROOT / "app.py").read_text())
    pages = next(ast.literal_eval(node.value) for node in ast.walk(tree)
                 if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES")
    return [(title, "" if number == 0 else Path(path).stem) for number, (path, title, _) in enumerate(pages)]


def browser_timings(home: str, rounds: int = 2) -> dict[str, list[float]]:
    """Seconds from navigation until each page's script has finished and its title is drawn, in
    Debian's chromium (Playwright) against ``streamlit run app.py``; ``rounds`` opens per page (the
    first is cold: nothing cached in the server process)."""
    import shutil
    import socket
    import subprocess

    import httpx
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "WORKBENCH_HOME": home, "WORKBENCH_LLM_URL": "http://127.0.0.1:9"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
                               "--server.port", str(port), "--server.address", "127.0.0.1"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    timings: dict[str, list[float]] = {}
    try:
        for _ in range(120):
            try:
                if httpx.get(url + "/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(url)  # warm the server's imports once, as a user's first visit would
            page.wait_for_selector(IDLE + " h1")
            for _ in range(rounds):
                for title, path in app_pages():
                    started = time.perf_counter()
                    page.goto(f"{url}/{path}")
                    try:
                        page.wait_for_selector(IDLE + " h1", timeout=30_000)
                    except Exception:  # noqa: BLE001  (report the page, keep measuring the others)
                        print(f"  {title}: did not settle within 30 s")
                        timings.setdefault(title, []).append(float("inf"))
                        continue
                    timings.setdefault(title, []).append(time.perf_counter() - started)
                    if title == "Compare":  # its whole-run part (board, factor effects, Pareto, curve) opens on demand
                        started = time.perf_counter()
                        page.get_by_text("Whole run: leaderboard by factor level").click()
                        page.wait_for_selector("[data-testid='stVegaLiteChart'] >> nth=3")
                        page.wait_for_selector(IDLE + " h1")
                        timings.setdefault("Compare: open Whole run", []).append(time.perf_counter() - started)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    return timings


def main() -> None:
    from streamlit.testing.v1 import AppTest

    from optimizer.app.background import run_state
    from optimizer.analysis.compare import (
        default_selection, example_table, factor_effects, field_intervals, leaderboard_with_factors, load_run_summary, with_rows,
    )
    from optimizer.evaluate.leaderboard import leaderboard

    with tempfile.TemporaryDirectory() as home:
        os.environ["WORKBENCH_HOME"] = home
        store_path = Path(home) / "runs.sqlite"
        with RunStore(store_path) as store:
            started = time.perf_counter()
            run_id = build_run(store)
            print(f"built run {run_id}: {store.count_evaluations(run_id):,} evaluations in {time.perf_counter() - started:.1f}s")
            from optimizer.analysis.board import run_board
            from optimizer.analysis.search_curve import score_vs_calls

            # What the run's own process does when it ends (it prints its final leaderboard): the
            # board with the trivial-reference verdicts and Compare's search curve are computed
            # once and kept in the store.
            timed("run's process at its end: run_board (kept in the store)", lambda: run_board(store, run_id))
            timed("run's process at its end: score_vs_calls (kept)", lambda: score_vs_calls(store, run_id))
            print("core functions:")
            data_holder = {}
            compare_core = timed("Compare: load_run_summary (board from the store)",
                                 lambda: data_holder.setdefault("summary", load_run_summary(store, run_id)))
            selected = default_selection(data_holder["summary"], 4)
            compare_core += timed("Compare: with_rows (4 candidates' evaluations)",
                                  lambda: data_holder.setdefault("data", with_rows(store, data_holder["summary"], selected)))
            data = data_holder["data"]
            compare_core += timed("Compare: field_intervals (4 candidates)", lambda: field_intervals(data, selected))
            compare_core += timed("Compare: example_table (4 candidates)", lambda: example_table(data, selected, {}))
            compare_core += timed("Compare: leaderboard_with_factors + factor_effects",
                                  lambda: (leaderboard_with_factors(data), factor_effects(data)))
            compare_core += timed("Compare: score_vs_calls (kept in the store)", lambda: score_vs_calls(store, run_id))
            run_core = timed("Run: run_state + leaderboard + run_totals",
                             lambda: (run_state(store, run_id), leaderboard(store, run_id), store.run_totals()))
        print("whole pages (AppTest, first open, no cache):")
        results = {}
        for page in ("views/compare.py", "views/run.py"):
            app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            app.run()
            started = time.perf_counter()
            app.switch_page(page).run()
            results[page] = time.perf_counter() - started
            assert not app.exception, app.exception
            print(f"  {page:55s} {results[page]:6.2f}s")
        print(f"Compare page: {results['views/compare.py']:.2f}s (core {compare_core:.2f}s); "
              f"Run page: {results['views/run.py']:.2f}s (core {run_core:.2f}s); target < 2s each: "
              f"{'PASS' if max(results.values()) < 2 else 'FAIL'}")
        print("every page in the real browser (chromium; cold = first open in a fresh server, warm = second):")
        timings = browser_timings(home)
        for title, seconds in timings.items():
            print(f"  {title:20s} cold {seconds[0]:5.2f}s  warm {seconds[-1]:5.2f}s  {'ok' if max(seconds) < 2 else 'OVER 2s'}")
        slowest = max(timings, key=lambda title: max(timings[title]))
        print(f"slowest page: {slowest} {max(timings[slowest]):.2f}s; target < 2s: {'PASS' if max(timings[slowest]) < 2 else 'FAIL'}")


if __name__ == "__main__":
    main()
