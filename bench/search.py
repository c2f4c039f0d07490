"""Search benchmark: what grid / random / halving and the prompt-writing strategies buy per call.

A reference matrix per task is the ground truth: every candidate of a (documented) space on every
example of a stratified validation sample, run through the engine as one stored run with the
response cache on, so a re-run is free and a killed run resumes from the cache. Then:
  (1) replay: grid, random and successive halving are run over many seeds against an evaluator
      that answers from the matrix (no new call). Each seed orders the examples differently
      (the task's stratified order with that seed), which is what halving's rounds depend on.
      Per strategy and budget: the calls it needed (median over seeds), its share of the
      matrix's calls, and the regret: the matrix best's mean minus the pick's mean over the whole
      matrix (validation), and on the test split: the test score of the matrix's validation winner
      minus the test score of the pick (positive = the pick is worse on unseen examples). Test
      scores come from one stored test run of every distinct pick (read after the choice; nothing
      is ranked by them);
  (2) live proposers (gepa, dspy-mipro, dspy-bootstrap) at budgets equal to halving's median calls
      and to 25% of the matrix's calls, on the matrix's validation examples: best validation score,
      its test score with a 95% bootstrap CI, calls, wall time. A proposer that cannot run in the
      --budget-minutes left is printed as "not run" with the reason;
  (3) targets: halving within 1 point of the matrix best at <= 15% of its calls (median over seeds);
      a proposer's winner beats the matrix winner on test at <= 25% of its calls; each met / not met;
  (4) the server's prefill and decode tokens/s during the bench (llama-server /metrics when it
      serves them, else from the stored prompt/completion tokens and latencies of fresh calls).

Usage:
  python bench/search.py --task query_routing [--max-candidates N] [--examples N] [--seeds 50]
      [--url URL] [--proposers gepa,dspy-mipro,dspy-bootstrap] [--budget-minutes 45]
Without --url a llama-server is started on a free port (and stopped at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.search.space import Candidate
from optimizer.search.strategies import Budget, SearchProblem, get_strategy
from optimizer.tasks.dataset import Example

WITHIN = 0.01  # "within 1 point" of the matrix best
HALVING_SHARE = 0.15
PROPOSER_SHARE = 0.25


@dataclass
class Matrix:
    """Mean-able scores of every candidate on every example: ``scores[candidate_id][example_id]``."""

    candidates: list[Candidate]
    examples: list[Example]
    scores: dict[str, dict[str, float]]
    test: dict[str, float] = field(default_factory=dict)
    """Mean test score of the candidates scored on the test split (read only after a choice)."""

    @property
    def calls(self) -> int:
        return len(self.candidates) * len(self.examples)

    def mean(self, candidate_id: str) -> float:
        row = self.scores[candidate_id]
        return sum(row[example.id] for example in self.examples) / len(self.examples)

    def best(self) -> Candidate:
        """The matrix winner; ties go to the earlier candidate (grid order), as ``rank`` does."""
        return max(self.candidates, key=lambda candidate: (self.mean(candidate.id), -self.candidates.index(candidate)))


class MatrixEvaluator:
    """An ``Evaluator`` that answers from the matrix: same contract as the run's, no call made."""

    def __init__(self, matrix: Matrix) -> None:
        self.matrix = matrix
        self.asked: set[tuple[str, str]] = set()

    @property
    def calls_used(self) -> int:
        return len(self.asked)

    async def __call__(self, candidates: Sequence[Candidate], examples: Sequence[Example]) -> dict[str, list[dict[str, Any]]]:
        rows: dict[str, list[dict[str, Any]]] = {}
        for candidate in candidates:
            scores = self.matrix.scores[candidate.id]
            rows[candidate.id] = [{"example_id": example.id, "overall": scores[example.id]} for example in examples]
            self.asked.update((candidate.id, example.id) for example in examples)
        return rows


@dataclass(frozen=True)
class Replay:
    seed: int
    pick: str
    calls: int


@dataclass(frozen=True)
class ReplayRow:
    """One strategy at one budget over all seeds."""

    label: str
    budget: str
    replays: tuple[Replay, ...]
    matrix_calls: int
    regrets: tuple[float, ...]
    test_regrets: tuple[float, ...]

    @property
    def median_calls(self) -> float:
        return statistics.median(replay.calls for replay in self.replays)

    @property
    def share(self) -> float:
        return self.median_calls / self.matrix_calls

    @property
    def median_regret(self) -> float:
        return statistics.median(self.regrets)

    @property
    def within(self) -> float:
        """Share of seeds whose pick is within 1 point of the matrix best (validation)."""
        return sum(regret <= WITHIN + 1e-12 for regret in self.regrets) / len(self.regrets)

    @property
    def median_test_regret(self) -> float | None:
        return statistics.median(self.test_regrets) if self.test_regrets else None


def replay(matrix: Matrix, strategy: str, budget: Budget, seeds: Sequence[int],
           order: Callable[[int], Sequence[Example]]) -> list[Replay]:
    """Run ``strategy`` once per seed against the matrix; ``order(seed)`` is that seed's example order."""
    results = []
    for seed in seeds:
        evaluator = MatrixEvaluator(matrix)
        problem = SearchProblem(pool=matrix.candidates, examples=list(order(seed)), budget=budget, seed=seed)
        ranked = asyncio.run(get_strategy(strategy).search(problem, evaluator))
        results.append(Replay(seed, ranked[0].candidate.id, evaluator.calls_used))
    return results


def replay_plan(matrix: Matrix) -> list[tuple[str, str, str, Budget]]:
    """(label, strategy, budget label, budget) of every replayed row; budgets are shares of the matrix."""
    calls = matrix.calls
    share = max(int(calls * HALVING_SHARE), 1)
    quarter = max(int(calls * PROPOSER_SHARE), 1)
    rows = [
        ("grid", "grid", "all", Budget()),
        ("halving", "halving", "all", Budget()),
        ("halving", "halving", f"15% = {share}", Budget(max_calls=share)),
        ("random", "random", f"15% = {share}", Budget(max_calls=share)),
        ("grid (first in order)", "grid", f"15% = {share}", Budget(max_calls=share)),
        ("random", "random", f"25% = {quarter}", Budget(max_calls=quarter)),
    ]
    return [row for row in rows if fits(matrix, row[1], row[3])]


def fits(matrix: Matrix, strategy: str, budget: Budget) -> bool:
    """Whether the strategy can pick anything within the budget (a budget below one candidate's
    examples leaves grid/random nothing; halving needs its smallest schedule): other rows are dropped."""
    from optimizer.errors import ConfigError

    try:
        asyncio.run(get_strategy(strategy).search(
            SearchProblem(pool=matrix.candidates, examples=matrix.examples, budget=budget), MatrixEvaluator(matrix)))
    except ConfigError:
        return False
    return True


def replay_all(matrix: Matrix, seeds: Sequence[int], order: Callable[[int], Sequence[Example]]) -> list[tuple[str, str, list[Replay]]]:
    return [(label, budget_label, replay(matrix, strategy, budget, seeds, order))
            for label, strategy, budget_label, budget in replay_plan(matrix)]


def summarize(matrix: Matrix, replayed: Sequence[tuple[str, str, list[Replay]]]) -> list[ReplayRow]:
    """Regret per seed: validation over the whole matrix; test where the pick's test score is known."""
    best = matrix.best()
    best_mean = matrix.mean(best.id)
    best_test = matrix.test.get(best.id)
    rows = []
    for label, budget_label, replays in replayed:
        regrets = tuple(best_mean - matrix.mean(item.pick) for item in replays)
        test_regrets = tuple(best_test - matrix.test[item.pick] for item in replays
                             if best_test is not None and item.pick in matrix.test)
        rows.append(ReplayRow(label, budget_label, tuple(replays), matrix.calls, regrets, test_regrets))
    return rows


def format_replay_table(rows: Sequence[ReplayRow], n_seeds: int) -> list[str]:
    lines = [(f"{'strategy':24} {'budget':14} {'calls (median)':>14} {'of matrix':>9} {'val regret':>10} "
              f"{'within 1pt':>10} {'test regret':>11}")]
    for row in rows:
        test = (f"{row.median_test_regret * 100:+.1f} ({len(row.test_regrets)}/{len(row.replays)})"
                if row.median_test_regret is not None else "-")
        lines.append(f"{row.label:24} {row.budget:14} {row.median_calls:>14.0f} {row.share:>9.1%} "
                     f"{row.median_regret * 100:>6.1f} pts {row.within:>10.0%} {test:>11}")
    lines.append(f"(median over {n_seeds} seeds; regret = matrix best minus the pick, in points of mean overall; "
                 "test regret = test score of the matrix's validation winner minus the pick's, median over the "
                 "(k/n) seeds whose pick was scored on test)")
    return lines


def halving_target(rows: Sequence[ReplayRow]) -> tuple[bool, str]:
    """Halving within 1 point of the matrix best using <= 15% of its calls (median over seeds)."""
    candidates = [row for row in rows if row.label == "halving"]
    met = [row for row in candidates if row.share <= HALVING_SHARE + 1e-9 and row.median_regret <= WITHIN + 1e-12]
    shown = met[0] if met else min(candidates, key=lambda row: row.share)
    return bool(met), (f"halving within 1 point of the matrix best at <= 15% of its calls: "
                       f"{'MET' if met else 'NOT MET'} (budget {shown.budget}: median {shown.median_calls:.0f} calls = "
                       f"{shown.share:.1%}, median regret {shown.median_regret * 100:.1f} pts, within 1 pt in {shown.within:.0%} of seeds)")


# ---------------------------------------------------------------------------------------------
# Against the real server: the matrix, the test scores of the picks, the proposers, tokens/s.
# ---------------------------------------------------------------------------------------------


def stratified(task: Any, examples: Sequence[Example]) -> Callable[[int], list[Example]]:
    """The task's stratified order of the matrix's examples for a seed (every prefix follows the strata)."""
    from optimizer.tasks.sampling import sample_examples

    return lambda seed: sample_examples(task, examples, None, seed).examples


def find_run(store: Any, task: str, candidate_ids: Sequence[str], example_ids: Sequence[str], identity: str,
             split: str = "validation") -> str | None:
    """A completed stored run of exactly these candidates on exactly these examples with this model."""
    for run in store.list_runs(1000):
        if (run.task == task and run.status == "completed" and run.model_identity == identity
                and run.config.get("split", "validation") == split
                and list(run.config.get("example_ids") or []) == list(example_ids)
                and sorted(run.config.get("planned_candidate_ids") or []) == sorted(candidate_ids)
                and not store.count_call_failures(run.id)):
            return run.id
    return None


def with_client(url: str, work: Callable[[Any], Any], timeout: float | None = None) -> Any:
    """``await work(client)`` in a fresh event loop with a fresh client (a client belongs to one loop)."""
    from optimizer.serving.client import LLMClient

    async def go() -> Any:
        async with LLMClient(url) as client:
            return await asyncio.wait_for(work(client), timeout=timeout)

    return asyncio.run(go())


def run_candidates(store: Any, url: str, identity: str, task: str, candidates: Sequence[Candidate],
                   pick: Callable[[Any], list[Example]], split: str, deadline: float, label: str) -> tuple[str, float]:
    """(run id, wall seconds) of every candidate on the picked examples: a stored run, reused when complete."""
    from optimizer.evaluate.runner import plan_candidates, run_plan

    plan = plan_candidates(task, list(candidates), examples=pick, baseline_first=False)
    if split == "test":
        plan.request = replace(plan.request, split="test", template="bench/search.py: the replay's picks")
    existing = find_run(store, task, [c.id for c in candidates], [e.id for e in plan.examples], identity, split)
    if existing:
        print(f"  {label}: reusing stored run {existing} ({len(candidates)} x {len(plan.examples)})", flush=True)
        return existing, 0.0
    started = time.monotonic()
    left = deadline - started
    print(f"  {label}: {len(candidates)} candidates x {len(plan.examples)} {split} examples = {plan.calls} calls "
          f"(cache hits are free); {left / 60:.0f} min left of the budget", flush=True)
    run_id = with_client(url, lambda client: run_plan(store, plan, client, on_progress=_progress(label)), max(left, 1))
    print(flush=True)
    return run_id, time.monotonic() - started


def _progress(label: str) -> Callable[[Any], None]:
    last = [0.0]

    def report(progress: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= 15 or progress.done == progress.total:
            last[0] = now
            print(f"    {label}: {progress.done}/{progress.total} ({progress.cached} cached, {progress.failed} failed)", flush=True)

    return report


def load_matrix(store: Any, run_id: str, examples: Sequence[Example]) -> Matrix:
    """The run's space candidates (not its baseline) and their scores."""
    from optimizer.prompts.templates import PromptTemplate

    baseline_id = store.get_run(run_id).config.get("baseline_id")
    candidates = [Candidate(PromptTemplate.model_validate(row["template"]), row["factors"]) for row in store.candidates(run_id)
                  if row["candidate_id"] != baseline_id]
    scores: dict[str, dict[str, float]] = {candidate.id: {} for candidate in candidates}
    for row in store.evaluation_rows(run_id):
        if row["candidate_id"] in scores:
            scores[row["candidate_id"]][row["example_id"]] = float(row["overall"])
    missing = [(c.id, e.id) for c in candidates for e in examples if e.id not in scores[c.id]]
    if missing:
        raise SystemExit(f"run {run_id} lacks {len(missing)} evaluations (first: {missing[0]}); re-run to fill them from the cache")
    return Matrix(candidates, list(examples), scores)


def test_means(store: Any, run_id: str) -> dict[str, list[float]]:
    per: dict[str, list[float]] = {}
    for row in store.evaluation_rows(run_id):
        per.setdefault(row["candidate_id"], []).append(float(row["overall"]))
    return per


class ServerRates:
    """Prefill and decode tokens/s of the server over the bench, from /metrics when it serves them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.start = self._read()

    def _read(self) -> dict[str, float] | None:
        import httpx

        try:
            response = httpx.get(self.url + "/metrics", timeout=5)
            if response.status_code != 200:
                return None
        except httpx.HTTPError:
            return None
        values = {}
        for line in response.text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name.split(":")[-1]] = float(value)
        return values

    def describe(self, store: Any, run_ids: Sequence[str]) -> str:
        end = self._read()
        if self.start is not None and end is not None:
            def delta(name: str) -> float:
                return end.get(name, 0.0) - self.start.get(name, 0.0)

            prompt, prompt_s = delta("prompt_tokens_total"), delta("prompt_seconds_total")
            decoded, decode_s = delta("tokens_predicted_total"), delta("tokens_predicted_seconds_total")
            if prompt_s > 0 or decode_s > 0:
                return (f"server /metrics over the bench: prefill {prompt / prompt_s if prompt_s else 0:.0f} tokens/s "
                        f"({prompt:.0f} tokens), decode {decoded / decode_s if decode_s else 0:.1f} tokens/s per busy "
                        f"slot-second ({decoded:.0f} tokens); every call of this bench was a cache hit" if not prompt else
                        f"server /metrics over the bench: prefill {prompt / prompt_s:.0f} tokens/s ({prompt:.0f} tokens in "
                        f"{prompt_s:.0f} s), decode {decoded / decode_s:.1f} tokens/s ({decoded:.0f} tokens in {decode_s:.0f} s)")
        rows = [row for run_id in run_ids for row in store.evaluation_rows(run_id) if not row["cached"] and row["latency_s"]]
        if not rows:
            return "server tokens/s: no fresh call in this bench (all from the response cache) and no /metrics"
        prompt = sum(row["prompt_tokens"] or 0 for row in rows)
        completion = sum(row["completion_tokens"] or 0 for row in rows)
        latency = sum(row["latency_s"] for row in rows)
        return (f"from the stored fresh calls (no /metrics): {len(rows)} calls, {prompt / len(rows):.0f} prompt and "
                f"{completion / len(rows):.0f} completion tokens per call, {latency / len(rows):.2f} s per call under "
                f"concurrency; (prompt + completion) / latency = {(prompt + completion) / latency:.0f} tokens/s per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="query_routing")
    parser.add_argument("--max-candidates", type=int, default=None, help="a seeded random sample of the space (default: all)")
    parser.add_argument("--examples", type=int, default=None, help="stratified validation examples (default: all)")
    parser.add_argument("--test-examples", type=int, default=None, help="stratified test examples for the picks (default: all)")
    parser.add_argument("--test-picks", type=int, default=None,
                        help="score on test the matrix winner, the baseline and only the N most frequent other picks "
                             "(default: every distinct pick); test regret is reported over the seeds whose pick was scored")
    parser.add_argument("--baseline", action="store_true",
                        help="also run the task's baseline (v1) in the matrix run, so an export compares with it; "
                             "it is not part of the replayed space")
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--url", default=None, help="a running server (default: start one on a free port)")
    parser.add_argument("--slots", type=int, default=None)
    parser.add_argument("--store", default=None, help="run store (default: .workbench/bench-search.sqlite; its "
                        "response cache makes re-runs free; `workbench leaderboard/export --store` read it)")
    parser.add_argument("--proposers", default="gepa,dspy-mipro,dspy-bootstrap")
    parser.add_argument("--budget-minutes", type=float, default=45.0, help="stop starting new work after this")
    parser.add_argument("--proposer-minutes", type=float, default=12.0, help="wall-time cap of one proposer run")
    parser.add_argument("--stored-only", action="store_true",
                        help="report only proposer runs the store completed earlier; start none")
    parser.add_argument("--no-live", action="store_true", help="matrix and replay only: no test run, no proposers")
    args = parser.parse_args()

    from optimizer.config.paths import default_store_path
    from optimizer.evaluate.runner import (
        RunRequest,
        load_task_dataset,
        plan_run,
        run_plan,
    )
    from optimizer.evaluate.store import RunStore
    from optimizer.serving.endpoint import model_identity
    from optimizer.tasks.sampling import sample_examples
    from optimizer.tasks.spec import load_task

    started = time.monotonic()
    deadline = started + args.budget_minutes * 60
    server = None
    if args.url is None:
        from optimizer.serving.llama_server import DEFAULT_SLOTS, start_server

        os.environ.setdefault("LLAMA_ARG_ENDPOINT_METRICS", "1")
        server = start_server(slots=args.slots or DEFAULT_SLOTS)
    url = args.url or server.url
    try:
        store = RunStore(args.store or default_store_path().parent / "bench-search.sqlite")
        info = with_client(url, lambda client: client.server_info())
        identity = model_identity(info)
        rates = ServerRates(url)
        task = load_task(args.task)
        dataset = load_task_dataset(task)
        run_ids: list[str] = []
        print(f"search benchmark: task {args.task}, model {identity}, server {url} ({info.total_slots} slots), "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)

        # (0) the reference matrix: a stored run of a seeded sample of the space (random picks the
        # sample; all of it when --max-candidates is not given) on a stratified validation sample.
        request = RunRequest(task=args.task, strategy="random", max_candidates=args.max_candidates,
                             n_examples=args.examples, seed=0, include_baseline=args.baseline)
        plan = plan_run(request)
        ids = [candidate_id for candidate_id, _ in plan.templates]
        matrix_run = find_run(store, args.task, ids, [e.id for e in plan.examples], identity)
        if matrix_run is None:
            print(f"  matrix: {plan.shape} = {plan.calls} calls (cache hits are free)", flush=True)
            t0 = time.monotonic()
            matrix_run = with_client(url, lambda client: run_plan(store, plan, client, on_progress=_progress("matrix")),
                                     max(deadline - t0, 1))
            matrix_wall = time.monotonic() - t0
        else:
            print(f"  matrix: reusing stored run {matrix_run}", flush=True)
            matrix_wall = 0.0
        run_ids.append(matrix_run)
        matrix = load_matrix(store, matrix_run, plan.examples)
        best = matrix.best()
        print(f"matrix: run {matrix_run}, {len(matrix.candidates)} candidates x {len(matrix.examples)} validation examples "
              f"= {matrix.calls} calls ({matrix_wall:.0f} s this time); best {best.id} {matrix.mean(best.id):.3f} "
              f"({', '.join(f'{k}={v}' for k, v in best.factors.items())})", flush=True)

        # (1) replay over seeds: no calls.
        seeds = list(range(args.seeds))
        order = stratified(task, matrix.examples)
        replayed = replay_all(matrix, seeds, order)

        # Test scores of every distinct pick (and the matrix winner), one stored test run.
        frequency: dict[str, int] = {}
        for _, _, replays in replayed:
            for item in replays:
                frequency[item.pick] = frequency.get(item.pick, 0) + 1
        others = sorted((cid for cid in frequency if cid != best.id), key=lambda cid: -frequency[cid])
        picks = {best.id} | set(others if args.test_picks is None else others[: args.test_picks])
        test_examples = sample_examples(task, dataset.split("test"), args.test_examples, 0).examples
        if not args.no_live:
            by_id = {candidate.id: candidate for candidate in matrix.candidates}
            ordered = [by_id[candidate_id] for candidate_id in by_id if candidate_id in picks]
            if plan.baseline_id:  # the baseline on test too: v1 vs the winner, paired, on unseen examples
                from optimizer.evaluate.runner import baseline_template

                ordered = [Candidate(baseline_template(task), {"baseline": plan.baseline_id})] + ordered
            picks_run, _ = run_candidates(store, url, identity, args.task, ordered, lambda _: list(test_examples), "test",
                                          deadline, "test split of the picks")
            run_ids.append(picks_run)
            matrix.test = {cid: sum(v) / len(v) for cid, v in test_means(store, picks_run).items()}
        rows = summarize(matrix, replayed)
        print()
        print(f"== {args.task}: replay of the matrix (validation n={len(matrix.examples)}, test n={len(test_examples)}; "
              f"{len(picks)} distinct picks scored on test) ==")
        for line in format_replay_table(rows, len(seeds)):
            print(line)
        best_test = matrix.test.get(best.id)
        print(f"matrix winner: validation {matrix.mean(best.id):.3f}, test "
              f"{f'{best_test:.3f}' if best_test is not None else 'not scored'}")
        from optimizer.analysis.references import trivial_references
        from optimizer.analysis.stats import bootstrap_ci, paired_comparison

        def test_rows(candidate_id: str) -> dict[str, float]:
            return {row["example_id"]: float(row["overall"]) for row in store.evaluation_rows(run_ids[1])
                    if row["candidate_id"] == candidate_id} if len(run_ids) > 1 else {}

        if best_test is not None:
            winner_test = test_rows(best.id)
            ci = bootstrap_ci(list(winner_test.values()))
            print(f"matrix winner on test: {ci.mean:.3f} [{ci.low:.3f}, {ci.high:.3f}] (95% bootstrap CI, n={ci.n})")
            for reference in trivial_references(task, test_examples):
                shared = [e for e in winner_test if e in reference.per_example]
                comparison = paired_comparison([winner_test[e] for e in shared], reference.overall(shared))
                print(f"  trivial reference on test, {reference.name}: {reference.mean():.3f}; winner - reference: "
                      f"{comparison.sentence()}")
            if plan.baseline_id:
                base = test_rows(plan.baseline_id)
                shared = [e for e in winner_test if e in base]
                comparison = paired_comparison([winner_test[e] for e in shared], [base[e] for e in shared])
                print(f"  baseline (v1) on test: {sum(base.values()) / max(len(base), 1):.3f}; winner - v1: {comparison.sentence()}")

        # (2) live proposers at halving's median calls and at 25% of the matrix's calls.
        halving_calls = int(next(row.median_calls for row in rows if row.label == "halving" and row.budget == "all"))
        budgets = [("= halving", halving_calls), ("25% of matrix", int(matrix.calls * PROPOSER_SHARE))]
        proposer_lines = []
        proposer_met: list[bool] = []
        proposer_significant: list[bool] = []
        from optimizer import plugins
        from optimizer.evaluate.leaderboard import leaderboard
        from optimizer.evaluate.runner import config_hash, plan_stored_candidate
        from optimizer.export.evidence import find_test_run

        available = set(plugins.strategies.names())
        # Budget-major: every proposer at the smaller budget first, so a short --budget-minutes still
        # compares them all at the budget of the target.
        for budget_label, calls in sorted(budgets, key=lambda item: item[1]):
            for name in [n for n in args.proposers.split(",") if n]:
                label = f"{name:15} {budget_label:14} {calls:>6}"
                if args.no_live:
                    proposer_lines.append(f"{label}  not run (--no-live)")
                    continue
                if name not in available:
                    proposer_lines.append(f"{label}  not run: strategy not registered")
                    continue
                left = deadline - time.monotonic()
                if left < 60:
                    proposer_lines.append(f"{label}  not run: --budget-minutes spent ({args.budget_minutes:.0f} min)")
                    continue
                try:
                    t0 = time.monotonic()
                    # A proposer starts from the baseline, whose calls come out of --max-calls first (and are
                    # cache hits after a --baseline matrix): the search itself gets ``calls``.
                    live_request = RunRequest(task=args.task, strategy=name, max_calls=calls + len(matrix.examples),
                                              n_examples=args.examples, seed=0, include_baseline=True)
                    stored = [run for run in store.list_runs(1000) if run.config_hash == config_hash(live_request)
                              and run.status == "completed" and run.model_identity == identity]
                    if stored:  # a completed run of the same request: reuse it (and its wall time)
                        live_run, wall = stored[0].id, None
                    elif args.stored_only:
                        proposer_lines.append(f"{label}  not run: no completed stored run of it (--stored-only)")
                        continue
                    else:
                        live = plan_run(live_request)
                        live_run = with_client(url, lambda client, live=live, name=name: run_plan(store, live, client, on_progress=_progress(name)),
                                               min(left, args.proposer_minutes * 60))
                        wall = time.monotonic() - t0
                    run_ids.append(live_run)
                    board = leaderboard(store, live_run)
                    winner = str(board.iloc[0]["candidate_id"])
                    val = float(board.iloc[0]["overall"])
                    used = store.count_evaluations(live_run) - len(matrix.examples)  # validation calls of the search
                    found = find_test_run(store, args.task, {winner}, identity)
                    if found is not None:
                        test_run = found[0]
                    else:
                        test_plan = plan_stored_candidate(store, live_run, winner, split="test")
                        test_run = with_client(url, lambda client, test_plan=test_plan: run_plan(store, test_plan, client))
                    run_ids.append(test_run)
                    mine = {row["example_id"]: float(row["overall"]) for row in store.evaluation_rows(test_run)
                            if row["candidate_id"] == winner}
                    ci = bootstrap_ci(list(mine.values()))
                    origin = next(row["origin"] for row in store.candidates(live_run) if row["candidate_id"] == winner)
                    line = (f"{label}  val {val:.3f}  test {ci.mean:.3f} [{ci.low:.3f}, {ci.high:.3f}] n={ci.n}  "
                            f"{used} validation calls stored  "
                            f"{f'{wall:.0f} s' if wall is not None else 'stored run'}  run {live_run}, winner {winner} ({origin})")
                    if best_test is not None and test_run:
                        winner_rows = test_rows(best.id)
                        shared = [eid for eid in mine if eid in winner_rows]
                        comparison = paired_comparison([mine[e] for e in shared], [winner_rows[e] for e in shared])
                        line += f"; vs matrix winner on test: {comparison.sentence()}"
                        # Only a prompt the proposer wrote counts: a run whose best is still the baseline proposed nothing better.
                        beats = origin != "baseline" and ci.mean > best_test and used <= matrix.calls * PROPOSER_SHARE
                        proposer_met.append(beats)
                        proposer_significant.append(beats and comparison.separable)
                    proposer_lines.append(line)
                    print("  " + line, flush=True)
                except TimeoutError:
                    proposer_lines.append(f"{label}  stopped after {(time.monotonic() - t0) / 60:.0f} min (--proposer-minutes / "
                                          "--budget-minutes); its run is stored, resumable")
                except Exception as exc:  # noqa: BLE001 - a proposer that fails is a row, not the end of the bench
                    proposer_lines.append(f"{label}  not run: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
        print()
        print(f"== live proposers (validation n={len(matrix.examples)}, test n={len(test_examples)}; budget in calls) ==")
        for line in proposer_lines:
            print(line)

        # (3) targets, (4) server rates.
        print()
        _, text = halving_target(rows)
        print(text)
        if proposer_met:
            print(f"a proposer's winner beats the matrix winner on test at <= 25% of its calls: "
                  f"{'MET' if any(proposer_met) else 'NOT MET'} by the mean in {sum(proposer_met)} of {len(proposer_met)} live runs "
                  f"(a winner the proposer wrote, not the baseline); by a significant paired margin in "
                  f"{sum(proposer_significant)} of them")
        else:
            print("a proposer's winner beats the matrix winner on test at <= 25% of its calls: NOT MET (no proposer ran)")
        print(rates.describe(store, run_ids))
        print(f"machine: {os.cpu_count()} cores shared with other jobs, load average now {os.getloadavg()[0]:.1f}; "
              f"bench wall {time.monotonic() - started:.0f} s")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
