"""Engine benchmark: overhead against an instant fake server, and efficiency against the real one.

Prints ratios measured side by side in one run (machines here are noisy):
  (a) evaluations per second against an instant in-process fake server (target >= 1,000/s);
  (b) against the real embedded llama.cpp server, on the same calls:
      - the server's peak: the best plain request loop at 1, 4 and 8 concurrent requests,
      - the engine's throughput as a share of that peak (target >= 90%),
      - engine wall time / plain sequential loop wall time, with one slot (<= 1.05) and with the
        default slots (<= 0.4).
Usage: python bench/engine.py [--fake-only] [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fake_openai import FakeLLM  # noqa: E402

from optimizer.evaluate.engine import sampling_params  # noqa: E402
from optimizer.serving.llama_server import DEFAULT_SLOTS, start_server  # noqa: E402
from optimizer.serving.client import LLMClient  # noqa: E402
from optimizer.evaluate.runner import RunRequest, plan_run, run_plan  # noqa: E402
from optimizer.evaluate.store import RunStore  # noqa: E402
from optimizer.prompts.templates import render_messages  # noqa: E402

GOLDEN = Path(__import__("os").environ.get("WORKBENCH_ROOT", ROOT)) / "golden" / "k8s_log_analysis.jsonl"


def engine_run(client: LLMClient, request: RunRequest, concurrency: int | None) -> tuple[float, int]:
    plan = plan_run(request)
    with tempfile.TemporaryDirectory() as tmp, RunStore(Path(tmp) / "bench.sqlite") as store:
        started = time.perf_counter()
        run_id = asyncio.run(run_plan(store, plan, client, concurrency=concurrency))
        elapsed = time.perf_counter() - started
        return elapsed, store.count_evaluations(run_id)


def bench_fake(evaluations: int) -> float:
    fake = FakeLLM(GOLDEN)
    examples = 50
    request = RunRequest(task="k8s_log_analysis", strategy="random", max_candidates=evaluations // examples,
                         n_examples=examples, seed=1, include_baseline=False, use_cache=False)
    client = LLMClient("http://fake.invalid", transport=fake.transport())
    elapsed, count = engine_run(client, request, concurrency=8)
    rate = count / elapsed
    print(f"(a) engine vs instant fake server: {count} evaluations in {elapsed:.2f}s = {rate:,.0f} evaluations/s "
          f"(target >= 1,000/s: {'PASS' if rate >= 1000 else 'FAIL'})")
    return rate


async def plain_loop(url: str, calls: list[tuple[list, dict]], concurrency: int) -> float:
    """The naive baseline: a bare loop of requests with a fixed number in flight, no engine."""
    async with LLMClient(url) as client:
        index = 0

        async def worker() -> None:
            nonlocal index
            while index < len(calls):
                messages, params = calls[index]
                index += 1
                await client.chat(messages, **params)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def bench_real(n_calls: int) -> None:
    # The baseline template over n_calls validation examples: short prompts, so the measurement is
    # about scheduling requests, not about one candidate's long few-shot prefix.
    request = RunRequest(task="k8s_log_analysis", template="prompt_templates/k8s_log_analysis_v1.yaml",
                         n_examples=n_calls, seed=2, include_baseline=False, max_tokens=48, use_cache=False)
    plan = plan_run(request)
    calls = [
        (render_messages(template, example.inputs), sampling_params(template, request.sampling_overrides(), request.seed))
        for _, template in plan.templates
        for example in plan.examples
    ]
    total = len(calls)
    print(f"(b) real embedded llama.cpp server, {total} calls of up to 48 tokens each")
    for slots in (1, DEFAULT_SLOTS):
        server = start_server(slots=slots)
        try:
            asyncio.run(plain_loop(server.url, calls[:4], 1))  # warm up
            sequential = asyncio.run(plain_loop(server.url, calls, 1))
            loops = {1: sequential}
            for concurrency in (4, 8):
                if concurrency <= max(slots, 1) or slots == 1:
                    loops[concurrency] = asyncio.run(plain_loop(server.url, calls, concurrency))
            peak_concurrency, peak_wall = min(loops.items(), key=lambda item: item[1])
            engine_wall, _ = engine_run(LLMClient(server.url), request, None)
            share = peak_wall / engine_wall
            ratio = engine_wall / sequential
            target = 1.05 if slots == 1 else 0.4
            print(f"  slots={slots}: sequential loop {sequential:.1f}s ({total / sequential:.2f} req/s); "
                  + ", ".join(f"loop@{c} {w:.1f}s" for c, w in loops.items())
                  + f"; server peak {total / peak_wall:.2f} req/s at {peak_concurrency}; engine {engine_wall:.1f}s ({total / engine_wall:.2f} req/s)")
            print(f"    engine throughput / server peak = {share:.0%} (target >= 90%: {'PASS' if share >= 0.9 else 'FAIL'})")
            print(f"    engine wall / sequential wall = {ratio:.2f} (target <= {target}: {'PASS' if ratio <= target else 'FAIL'})")
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake-only", action="store_true")
    parser.add_argument("--fake-evaluations", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=32, help="calls per measurement against the real server")
    args = parser.parse_args()
    bench_fake(args.fake_evaluations)
    if not args.fake_only:
        bench_real(args.calls)


if __name__ == "__main__":
    main()
