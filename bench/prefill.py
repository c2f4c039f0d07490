"""Prompt-processing (prefill) benchmark: the engine's old and new ways of sending a run's calls,
side by side against one real llama.cpp server.

On ``k8s_log_analysis`` the embedded model spends its time evaluating prompts: a few-shot
candidate's prompt is 2,200-2,700 tokens, about 2,000 of them the shared prefix (system prompt and
three few-shot turns) and the rest the example's log. llama-server keeps a slot's last prompt
and, for a new request, picks the idle slot whose cached prompt shares the longest prefix with it
(``--slot-prompt-similarity``, 0.10 by default), then evaluates only what follows the common
prefix (``cache_prompt``, on by default).

- old: one shared queue in candidate order, ``slots`` workers pulling from it (the engine before
  ``CandidateQueues``). A candidate's first calls go to every slot at once and each slot
  evaluates the whole prefix; the client did not send ``cache_prompt`` (the server's default is on).
- new: the engine as it is: each worker takes whole candidates (``CandidateQueues``) and the client
  sends ``cache_prompt: true``.

Both run through the real engine (``execute``) with the response cache off, with ``max_tokens``
small so decoding stays out of the figure. The passes alternate old/new, new/old (ABBA), each on
its own fresh candidates: a pass on candidates another pass saw would find their prefixes in the
server's slots or its host-memory prompt cache (``--cache-ram``). Candidates differ in length,
so the comparison is per prompt token sent: the share of sent tokens the server evaluated
(``timings.prompt_n``) and seconds per 1,000 sent tokens.

Usage: python bench/prefill.py [--candidates 2] [--examples 3] [--rounds 2] [--slots 2] [--max-tokens 8]
It starts its own server (``--slots`` slots, ``LLAMA_ARG_THREADS=1`` unless set) on a free port and
stops it at the end. With the defaults it took 6 min 12 s on 2 cores at load average 4 (README, "Search benchmark").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.evaluate import engine
from optimizer.evaluate.runner import (
    RunRequest,
    create_run,
    load_task_dataset,
    plan_run,
)
from optimizer.evaluate.store import RunStore
from optimizer.search.space import (
    enumerate_candidates,
    load_search_space,
    search_space_path,
)
from optimizer.serving.client import Completion, LLMClient
from optimizer.serving.endpoint import model_identity
from optimizer.serving.llama_server import start_server
from optimizer.tasks.spec import load_task

TASK = "k8s_log_analysis"
NEW_QUEUES = engine.CandidateQueues


class SharedQueue:
    """The engine's old hand-out: one queue in candidate order, any worker takes the next call."""

    def __init__(self, items: Any) -> None:
        self.items = deque(items)

    def next(self, worker: int) -> Any:
        return self.items.popleft() if self.items else None

    def release(self, worker: int) -> None:
        pass


class RecordingClient(LLMClient):
    """The real client, keeping each answer's llama.cpp ``timings``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timings: list[dict[str, Any]] = []

    async def chat(self, messages: Any, **params: Any) -> Completion:
        completion = await super().chat(messages, **params)
        self.timings.append(completion.raw.get("timings") or {})
        return completion


@dataclass
class Pass:
    way: str
    calls: int
    evaluated: int
    cached: int
    prompt_ms: float
    wall_s: float

    @property
    def sent(self) -> int:
        return self.evaluated + self.cached


def few_shot_candidates(count: int, seed: int) -> list[Any]:
    """``count`` candidates of the space that show few-shot examples (the prefill-heavy ones), seeded."""
    task = load_task(TASK)
    dataset = load_task_dataset(task)
    pool = [c for c in enumerate_candidates(load_search_space(search_space_path(task)), task, dataset) if c.template.examples]
    random.Random(seed).shuffle(pool)
    return pool[:count]


async def one_pass(url: str, way: str, plan: Any, slots: int, max_tokens: int) -> Pass:
    client = RecordingClient(url)
    info = await client.server_info()
    if way == "old":
        engine.CandidateQueues = SharedQueue
        client.reuses_prompt_cache = False
    else:
        engine.CandidateQueues = NEW_QUEUES
    try:
        with tempfile.TemporaryDirectory() as tmp, RunStore(Path(tmp) / "bench.sqlite") as store:
            identity = model_identity(info)
            run_id = create_run(store, plan, info, identity)
            started = time.perf_counter()
            await engine.execute(store=store, run_id=run_id, task=plan.task, templates=plan.templates,
                                 examples=plan.examples, client=client, model_identity=identity, concurrency=slots,
                                 sampling_overrides={"max_tokens": max_tokens}, seed=0, use_cache=False)
            wall = time.perf_counter() - started
            stored = store.count_evaluations(run_id)
    finally:
        engine.CandidateQueues = NEW_QUEUES
        await client.aclose()
    if stored != len(plan.templates) * len(plan.examples) or len(client.timings) != stored:
        raise SystemExit(f"{way} pass stored {stored} evaluations from {len(client.timings)} answers")
    return Pass(way, stored, sum(int(t.get("prompt_n") or 0) for t in client.timings),
                sum(int(t.get("cache_n") or 0) for t in client.timings),
                sum(float(t.get("prompt_ms") or 0.0) for t in client.timings), wall)


def total(passes: list[Pass], way: str) -> Pass:
    mine = [p for p in passes if p.way == way]
    return Pass(way, sum(p.calls for p in mine), sum(p.evaluated for p in mine), sum(p.cached for p in mine),
                sum(p.prompt_ms for p in mine), sum(p.wall_s for p in mine))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2, help="candidates per pass (default 2)")
    parser.add_argument("--examples", type=int, default=3, help="validation examples per candidate (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="old/new pairs, in ABBA order (default 2)")
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    os.environ.setdefault("LLAMA_ARG_THREADS", "1")
    ways = [("old", "new") if number % 2 == 0 else ("new", "old") for number in range(args.rounds)]
    order = [way for pair in ways for way in pair]
    chosen = few_shot_candidates(len(order) * args.candidates, args.seed)
    base = plan_run(RunRequest(task=TASK, strategy="grid", max_candidates=1, n_examples=args.examples, seed=args.seed,
                               include_baseline=False, max_tokens=args.max_tokens, use_cache=False))
    load_before = os.getloadavg()
    server = start_server(slots=args.slots)
    print(f"prefill bench: task {TASK}, {len(order)} passes ({' '.join(order)}), each {args.candidates} few-shot "
          f"candidates x {args.examples} validation examples, max_tokens {args.max_tokens}; server {server.url}, "
          f"{args.slots} slots, LLAMA_ARG_THREADS={os.environ['LLAMA_ARG_THREADS']}; {os.cpu_count()} cores, "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
    passes: list[Pass] = []
    try:
        for number, way in enumerate(order):
            group = chosen[number * args.candidates:(number + 1) * args.candidates]
            base.templates = [(candidate.id, candidate.template) for candidate in group]
            base.factors = {candidate.id: candidate.factors for candidate in group}
            result = asyncio.run(one_pass(server.url, way, base, args.slots, args.max_tokens))
            passes.append(result)
            print(f"  pass {number + 1} {way}: {result.calls} calls, {result.sent} prompt tokens sent, "
                  f"{result.evaluated} evaluated ({result.evaluated / result.sent:.0%}), {result.cached} from a slot's "
                  f"cache, {result.wall_s:.1f} s", flush=True)
    finally:
        server.stop()
    load_after = os.getloadavg()
    old, new = total(passes, "old"), total(passes, "new")
    print(f"{'way':<5} {'calls':>5} {'sent':>7} {'evaluated':>9} {'share':>6} {'cached':>7} {'wall s':>7} "
          f"{'s/1k sent':>9} {'prefill tok/s':>13}")
    for row in (old, new):
        print(f"{row.way:<5} {row.calls:>5} {row.sent:>7} {row.evaluated:>9} {row.evaluated / row.sent:>6.0%} "
              f"{row.cached:>7} {row.wall_s:>7.1f} {1000 * row.wall_s / row.sent:>9.2f} "
              f"{1000 * row.evaluated / row.prompt_ms if row.prompt_ms else 0:>13.1f}")
    share_ratio = (new.evaluated / new.sent) / (old.evaluated / old.sent)
    wall_ratio = (new.wall_s / new.sent) / (old.wall_s / old.sent)
    print(f"new / old: prompt tokens evaluated per token sent {share_ratio:.2f}; wall time per token sent {wall_ratio:.2f}")
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")


if __name__ == "__main__":
    main()
