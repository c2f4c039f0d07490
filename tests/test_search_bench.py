"""bench/search.py's replay part against a tiny synthetic matrix: no server, no call.

The matrix is built so the right answers are known: candidate k scores k/20 (+ a per-example
wobble that never changes the order), so the best candidate is the last one on every example.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sys
from pathlib import Path

import pytest

from optimizer.prompts.templates import PromptTemplate
from optimizer.search.space import Candidate
from optimizer.search.strategies import Budget, halving_schedule, planned_evaluations
from optimizer.tasks.dataset import Example

BENCH = Path(__file__).resolve().parent.parent / "bench" / "search.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_search", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_search"] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def synthetic(bench, n_candidates: int = 16, n_examples: int = 8):
    candidates = [
        Candidate(PromptTemplate(id=f"c{k}", system=f"variant {k}", user="{{ q }}"), {"variant": str(k)})
        for k in range(n_candidates)
    ]
    examples = [Example(f"e{j}", "validation", {"q": str(j)}, {"a": "x"}, j + 1) for j in range(n_examples)]
    scores = {
        candidate.id: {example.id: k / 20 + 0.01 * (j % 3) for j, example in enumerate(examples)}
        for k, candidate in enumerate(candidates)
    }
    return bench.Matrix(candidates, examples, scores), candidates, examples


def shuffled(examples):
    def order(seed: int):
        copy = list(examples)
        random.Random(seed).shuffle(copy)
        return copy

    return order


def test_matrix_evaluator_answers_from_the_matrix_and_counts_each_pair_once(bench):
    matrix, candidates, examples = synthetic(bench)
    evaluator = bench.MatrixEvaluator(matrix)
    rows = asyncio.run(evaluator(candidates[:2], examples[:3]))
    assert [row["overall"] for row in rows[candidates[1].id]] == [matrix.scores[candidates[1].id][e.id] for e in examples[:3]]
    asyncio.run(evaluator(candidates[:2], examples[:4]))  # three of these pairs were asked already
    assert evaluator.calls_used == 2 * 4


def test_replay_table_numbers(bench):
    matrix, candidates, examples = synthetic(bench)
    assert matrix.calls == 128 and matrix.best().id == candidates[-1].id
    seeds = list(range(12))
    replayed = bench.replay_all(matrix, seeds, shuffled(examples))
    rows = {(row.label, row.budget): row for row in bench.summarize(matrix, replayed)}

    grid = rows[("grid", "all")]
    assert grid.median_calls == 128 and grid.share == 1.0
    assert grid.median_regret == 0.0 and grid.within == 1.0

    # halving over the whole pool: exactly its schedule's calls on every seed, and it keeps the best
    # (the best candidate is best on every example, so no prefix can drop it)
    halving = rows[("halving", "all")]
    expected_calls = planned_evaluations(halving_schedule(16, 8))
    assert expected_calls == 16 * 2 + 8 * 2 + 4 * 4
    assert {replay.calls for replay in halving.replays} == {expected_calls}
    assert halving.median_regret == 0.0

    # a 15% budget (19 calls): the largest pool whose schedule fits is 4 candidates (16 calls)
    share = int(128 * 0.15)
    halving_small = rows[("halving", f"15% = {share}")]
    assert {replay.calls for replay in halving_small.replays} == {16}
    # its regret is the matrix best minus the full-matrix mean of its pick, per seed
    for replay, regret in zip(halving_small.replays, halving_small.regrets):
        assert regret == pytest.approx(matrix.mean(candidates[-1].id) - matrix.mean(replay.pick))
    # random at the same budget: as many whole candidates as fit, each on every example
    random_small = rows[("random", f"15% = {share}")]
    assert {replay.calls for replay in random_small.replays} == {(share // 8) * 8}
    # grid in order with a small budget only ever sees the first (worst) candidates
    first = rows[("grid (first in order)", f"15% = {share}")]
    assert {replay.pick for replay in first.replays} == {candidates[share // 8 - 1].id}
    assert first.median_regret == pytest.approx(matrix.mean(candidates[-1].id) - matrix.mean(candidates[1].id))

    met, text = bench.halving_target(list(rows.values()))
    assert met == (halving_small.median_regret <= 0.01)
    assert ("MET" in text) and (("NOT MET" in text) != met)

    table = "\n".join(bench.format_replay_table(list(rows.values()), len(seeds)))
    assert "grid                     all                       128    100.0%    0.0 pts       100%" in table
    assert f"{expected_calls / 128:.1%}" in table


def test_test_regret_uses_the_picks_test_scores_only_where_known(bench):
    matrix, candidates, _ = synthetic(bench)
    best, runner_up = candidates[-1].id, candidates[-2].id
    matrix.test = {best: 0.70, runner_up: 0.75}  # the validation winner is not the best on test
    replayed = [("halving", "x", [bench.Replay(0, best, 10), bench.Replay(1, runner_up, 10), bench.Replay(2, candidates[0].id, 10)])]
    (row,) = bench.summarize(matrix, replayed)
    assert row.test_regrets == pytest.approx((0.0, -0.05))  # the third pick has no test score
    assert row.median_test_regret == pytest.approx(-0.025)


def test_budgets_too_small_for_a_strategy_are_left_out(bench):
    matrix, _, _ = synthetic(bench, n_candidates=3, n_examples=40)
    plan = bench.replay_plan(matrix)  # 120 calls: 15% = 18, below one candidate's 40 examples
    labels = {(label, budget.max_calls) for label, _, _, budget in plan}
    assert ("random", 18) not in labels and ("grid", None) in labels
    assert bench.fits(matrix, "random", Budget(max_calls=40))
