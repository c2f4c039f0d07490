"""A/B benchmark of the Kubernetes investigation agent: baseline vs optimized (and ablations).

Runs every configuration on the scenarios against a model server and prints the table: success
rate, average steps, format-violation rate, placeholder-error rate, loop rate and tokens per
investigation, with the wall time. Saves the report where the Agent page shows it.
Usage: python bench/agent_ab.py [--url URL] [--scenarios N] [--ablations] [--fake]
  --fake runs against an instant scripted server that never gives a usable reply (what the
  deterministic fallbacks do alone, in seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout's optimizer, whatever is installed

from fake_openai import FakeLLM  # noqa: E402

from optimizer.agent.config import CHANGES, named_config  # noqa: E402
from optimizer.agent.harness import default_concurrency, format_table, run_ab, save_report, select_scenarios  # noqa: E402
from optimizer.agent.scenarios import load_scenarios  # noqa: E402
from optimizer.serving.endpoint import open_endpoint  # noqa: E402
from optimizer.serving.client import LLMClient  # noqa: E402


async def bench(client: LLMClient, count: int | None, ablations: bool, concurrency: int | None) -> None:
    names = ["baseline", "optimized"] + ([f"optimized-without-{change}" for change in CHANGES] if ablations else [])
    configs = [named_config(name) for name in names]
    scenarios = select_scenarios(load_scenarios(), count)
    slots = concurrency or await default_concurrency(client)
    print(f"{len(configs)} configurations x {len(scenarios)} scenarios, {slots} at a time", flush=True)
    started = time.monotonic()
    report = await run_ab(client, scenarios, configs, concurrency=slots,
                          on_progress=lambda done, total: print(f"  [{done}/{total}] investigations", flush=True))
    print(format_table(report))
    print(f"stored as run {report.run_id} (Compare page: CIs and paired tests)")
    print(f"wall time {time.monotonic() - started:.0f}s; saved {save_report(report)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None)
    parser.add_argument("--scenarios", type=int, default=None)
    parser.add_argument("--ablations", action="store_true")
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--fake", action="store_true")
    args = parser.parse_args()

    async def go() -> None:
        if args.fake:
            fake = FakeLLM()
            fake.enqueue(*(["I am not sure which tool to use."] * 100_000))
            async with LLMClient("http://fake.invalid", transport=fake.transport()) as client:
                await bench(client, args.scenarios, args.ablations, args.concurrency or 8)
            return
        with open_endpoint(args.url) as endpoint:
            async with LLMClient(endpoint.url) as client:
                await bench(client, args.scenarios, args.ablations, args.concurrency)

    asyncio.run(go())


if __name__ == "__main__":
    main()
