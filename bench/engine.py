"""Engine benchmark: overhead against an instant fake server, scaling over endpoints, tracing
overhead, and efficiency against the real server.

Prints ratios measured side by side in one run (machines here are noisy and shared, so every
figure is a median of --repeats runs, and the fake-server figures also say evaluations per CPU
second of this process, which load from other processes does not change):
  (a) evaluations per second against an instant in-process fake server (target >= 1,000/s; the
      fake answers in this same process, so its own work is counted against the engine);
  (c) --endpoints N: N fake servers with a fixed per-call latency and 4 slots each, one run spread
      over them (EndpointPool): throughput at 1, 2, 4 ... N endpoints and its ratio to N x one
      endpoint (target >= 0.9), measured in one invocation;
  (d) --otel: (a) with OpenTelemetry off and on (OTLP/HTTP to a receiver in another process),
      interleaved; overhead = 1 - on/off per CPU second of the engine's process (target <= 10%),
      and the same counting the exporting child process's CPU too (spans are built and encoded
      there, see optimizer/evaluate/telemetry.py);
  (b) against the real embedded llama.cpp server, on the same calls:
      - the server's peak: the best plain request loop at 1, 4 and 8 concurrent requests,
      - the engine's throughput as a share of that peak (target >= 90%),
      - engine wall time / plain sequential loop wall time, with one slot (<= 1.05) and with the
        default slots (<= 0.4).
      Each loop gets the same calls, so llama-server's host-memory prompt cache (--cache-ram,
      8 GiB by default in this llama.cpp) would serve every pass after the first from cache; the
      bench turns it off (LLAMA_ARG_CACHE_RAM=0) and prints what each server really ran with.
  (e) --real-servers N: N real llama-servers (ports --real-ports, e.g. 8091 8092; threads from
      LLAMA_ARG_THREADS), each server's peak alone (a plain loop at its slots), all N loops at
      once, and one engine run over all of them (EndpointPool) as a share of the sum of the peaks
      alone. On one machine the servers share its cores, so "all at once" is the real ceiling.
Usage: python bench/engine.py [--fake-only] [--calls N] [--repeats R] [--endpoints N] [--otel]
       python bench/engine.py --real-servers 2 --real-ports 8091 8092 [--calls N] [--max-tokens T]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def engine_run(client: Any, request: RunRequest, concurrency: int | None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, evaluations stored) of one run of ``request``."""
    plan = plan_run(request)
    with tempfile.TemporaryDirectory() as tmp, RunStore(Path(tmp) / "bench.sqlite") as store:
        started, cpu_started = time.perf_counter(), time.process_time()
        run_id = asyncio.run(run_plan(store, plan, client, concurrency=concurrency))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        return elapsed, cpu, store.count_evaluations(run_id)


def fake_request(evaluations: int) -> RunRequest:
    examples = 50
    return RunRequest(task="k8s_log_analysis", strategy="random", max_candidates=evaluations // examples,
                      n_examples=examples, seed=1, include_baseline=False, use_cache=False)


def fake_run(evaluations: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, evaluations) of one engine run against the instant fake."""
    client = LLMClient("http://fake.invalid", transport=FakeLLM(GOLDEN).transport())
    return engine_run(client, fake_request(evaluations), concurrency=8)


def fake_rates(evaluations: int) -> tuple[float, float]:
    """(evaluations per wall second, per CPU second) of one engine run against the instant fake."""
    elapsed, cpu, count = fake_run(evaluations)
    return count / elapsed, count / cpu


def bench_fake(evaluations: int, repeats: int) -> float:
    fake_rates(200)  # warm up imports and caches
    runs = [fake_rates(evaluations) for _ in range(repeats)]
    wall = statistics.median(rate for rate, _ in runs)
    cpu = statistics.median(rate for _, rate in runs)
    print(f"(a) engine vs instant fake server, {evaluations} evaluations x {repeats} runs: median {wall:,.0f} evaluations/s "
          f"(runs: {', '.join(f'{rate:,.0f}' for rate, _ in runs)}); {cpu:,.0f} per CPU second of this process "
          f"(target >= 1,000/s: {'PASS' if wall >= 1000 else 'FAIL'})")
    return wall


def bench_endpoints(max_endpoints: int, latency_s: float, repeats: int) -> None:
    """One run spread over n fake endpoints (4 slots, ``latency_s`` per call) for n = 1, 2, 4 ... max."""
    from optimizer.serving.pool import EndpointPool

    counts = [n for n in (1, 2, 4, 8, 16) if n < max_endpoints] + [max_endpoints]
    slots = 4
    rates: dict[int, float] = {}
    for n in counts:
        # Enough calls for ~25 rounds of every slot, so start and end effects stay small.
        evaluations = max(200, 50 * ((n * slots * 25) // 50))
        measured = []
        for _ in range(repeats):
            fakes = [FakeLLM(GOLDEN, slots=slots, delay_s=latency_s) for _ in range(n)]
            pool = EndpointPool([LLMClient(f"http://fake-{i}.invalid", transport=fake.transport()) for i, fake in enumerate(fakes)])
            elapsed, _, count = engine_run(pool, fake_request(evaluations), concurrency=None)
            measured.append(count / elapsed)
        rates[n] = statistics.median(measured)
    one = rates[1]
    print(f"(c) one run over N fake endpoints ({slots} slots each, {latency_s * 1000:.0f} ms per call; ideal one endpoint "
          f"{slots / latency_s:.0f} calls/s), median of {repeats}:")
    for n in counts:
        ratio = rates[n] / (n * one)
        print(f"    {n} endpoint(s): {rates[n]:7.1f} calls/s = {rates[n] / one:4.2f} x one endpoint; "
              f"/ (N x one) = {ratio:.2f} (target >= 0.9: {'PASS' if ratio >= 0.9 else 'FAIL'})")


RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Sink(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # child processes that were waited for
    return usage.ru_utime + usage.ru_stime


def bench_otel(evaluations: int, repeats: int) -> None:
    """(a) with tracing off and on (OTLP/HTTP to a receiver process), interleaved pairs. On is the
    users' path: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set, so the engine records plain span tuples and
    an exporting child process builds, encodes and sends them; its CPU is counted separately."""
    import subprocess

    from optimizer.evaluate import telemetry

    variable = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        endpoint = f"http://127.0.0.1:{receiver.stdout.readline().strip()}/v1/traces"
        fake_rates(200)
        off, on, exporter_cpu = [], [], []
        for _ in range(repeats):
            os.environ.pop(variable, None)
            telemetry.configure(None)
            off.append(fake_run(evaluations))
            os.environ[variable] = endpoint
            telemetry.configure(None)
            before = children_cpu()
            on.append(fake_run(evaluations))
            telemetry.configure(None)  # the exporting process exports the rest and exits: its cost lands in this pair
            exporter_cpu.append(children_cpu() - before)
            assert telemetry._sink is None
        os.environ.pop(variable, None)
    finally:
        receiver.terminate()
    wall = statistics.median((b[2] / b[0]) / (a[2] / a[0]) for a, b in zip(off, on))
    cpu = statistics.median((b[2] / b[1]) / (a[2] / a[1]) for a, b in zip(off, on))
    total = statistics.median((b[2] / (b[1] + child)) / (a[2] / a[1]) for a, b, child in zip(off, on, exporter_cpu))
    per_span = statistics.median(1e6 * child / b[2] for b, child in zip(on, exporter_cpu))
    engine_per_eval = statistics.median(1e6 * a[1] / a[2] for a in off)
    print(f"(d) OpenTelemetry on (OTLP/HTTP, exporting child process) vs off, {repeats} interleaved pairs of {evaluations} "
          f"evaluations: off median {statistics.median(a[2] / a[0] for a in off):,.0f}/s, "
          f"on {statistics.median(b[2] / b[0] for b in on):,.0f}/s; on/off = {wall:.2f} wall, {cpu:.2f} per CPU second "
          f"of the engine's process; overhead {1 - cpu:.0%} of the engine's CPU (target <= 10%: "
          f"{'PASS' if 1 - cpu <= 0.10 else 'FAIL'}); counting the exporting process too ({per_span:.0f} us CPU there per "
          f"evaluation, engine {engine_per_eval:.0f} us per evaluation off): on/off {total:.2f}, overhead {1 - total:.0%} of all CPU")
    pairs = ", ".join(f"{1 - (b[2] / b[1]) / (a[2] / a[1]):.0%}" for a, b in zip(off, on))
    print(f"    engine-CPU overhead of each pair, in order: {pairs}")


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


def server_settings(url: str) -> str:
    """What the server says it runs with: slots, context per slot, and the prompt-cache setting."""
    import httpx

    props = httpx.get(url + "/props", timeout=10).json()
    n_ctx = (props.get("default_generation_settings") or {}).get("n_ctx")
    cache_ram = os.environ.get("LLAMA_ARG_CACHE_RAM", "default (8192 MiB)")
    return f"/props total_slots={props.get('total_slots')}, n_ctx per slot={n_ctx}, --cache-ram {cache_ram}"


def bench_real(n_calls: int, prompt_cache: bool) -> None:
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
    if not prompt_cache:
        # Every loop below sends the same prompts; with llama-server's host-memory prompt cache on,
        # each pass after the first is served from it and looks several times faster.
        os.environ["LLAMA_ARG_CACHE_RAM"] = "0"
    for slots in (1, DEFAULT_SLOTS):
        server = start_server(slots=slots)
        try:
            print(f"  slots={slots}: server runs with {server_settings(server.url)}")
            asyncio.run(plain_loop(server.url, calls[:4], 1))  # warm up
            sequential = asyncio.run(plain_loop(server.url, calls, 1))
            loops = {1: sequential}
            for concurrency in (4, 8):
                if concurrency <= max(slots, 1) or slots == 1:
                    loops[concurrency] = asyncio.run(plain_loop(server.url, calls, concurrency))
            peak_concurrency, peak_wall = min(loops.items(), key=lambda item: item[1])
            engine_wall, _, _ = engine_run(LLMClient(server.url), request, None)
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


def bench_real_servers(n_servers: int, ports: list[int], n_calls: int, max_tokens: int) -> None:
    """(e): one run over n real llama-servers against the sum of their peaks."""
    from dataclasses import replace

    from optimizer.serving.pool import EndpointPool

    request = RunRequest(task="k8s_log_analysis", template="prompt_templates/k8s_log_analysis_v1.yaml",
                         n_examples=n_calls * n_servers, seed=2, include_baseline=False, max_tokens=max_tokens,
                         use_cache=False)
    plan = plan_run(request)  # the engine's examples
    ((_, template),) = plan.templates
    # Every pass gets examples of its own: a llama.cpp slot keeps the last prompt it ran, so a pass
    # that repeats an earlier pass's prompts is served from the slots (measured: 12x "faster").
    # The plain loops get unused validation examples matched by length to the engine's, in turn.
    unused = [e for e in plan_run(replace(request, n_examples=None)).examples if e.id not in {x.id for x in plan.examples}]

    def size(example: Any) -> int:
        return len(json.dumps(example.inputs))

    def matched() -> list[Any]:
        chosen = []
        for target in plan.examples:
            best = min(unused, key=lambda example: abs(size(example) - size(target)))
            unused.remove(best)
            chosen.append(best)
        return chosen

    def calls_for(examples: list[Any]) -> list[tuple[list, dict]]:
        params = sampling_params(template, request.sampling_overrides(), request.seed)
        return [(render_messages(template, example.inputs), params) for example in examples]

    calls = calls_for(plan.examples)
    alone_calls, together_calls = calls_for(matched()), calls_for(matched())
    os.environ.setdefault("LLAMA_ARG_CACHE_RAM", "0")  # no host-RAM prompt cache across passes (see (b))
    threads = os.environ.get("LLAMA_ARG_THREADS", "all cores")
    servers = []
    try:
        for port in (ports + [None] * n_servers)[:n_servers]:
            servers.append(start_server(port=port, slots=DEFAULT_SLOTS))
        # Alone and all at once, each server runs n_calls of its own; the engine runs 2 x n_calls
        # (matched by length to the loops' examples), so "all at once" and the engine do like work.
        alone_shares = [alone_calls[i::n_servers] for i in range(n_servers)]
        shares = [together_calls[i::n_servers] for i in range(n_servers)]
        print(f"(e) {n_servers} real llama-servers on this machine ({os.cpu_count()} cores, threads per server: {threads}), "
              f"{n_calls} calls of up to {max_tokens} tokens per server, {len(calls)} for the engine")
        for server in servers:
            print(f"  {server.url}: {server_settings(server.url)}")

        async def warm_up() -> None:  # one call each, at once: load the model pages, cache the system prompt
            await asyncio.gather(*(plain_loop(server.url, calls_for([unused.pop()]), 1) for server in servers))

        asyncio.run(warm_up())

        alone = []
        for server, share in zip(servers, alone_shares):
            wall = asyncio.run(plain_loop(server.url, share, server.slots))
            alone.append(len(share) / wall)
            print(f"  {server.url} alone: plain loop at {server.slots} in flight {wall:.1f}s = {len(share) / wall:.2f} req/s")

        async def together() -> float:
            started = time.perf_counter()
            await asyncio.gather(*(plain_loop(server.url, share, server.slots) for server, share in zip(servers, shares)))
            return time.perf_counter() - started

        both_wall = asyncio.run(together())
        both = len(calls) / both_wall
        print(f"  all {n_servers} loops at once: {len(calls)} calls in {both_wall:.1f}s = {both:.2f} req/s "
              f"= {both / sum(alone):.2f} of the sum of the peaks alone ({sum(alone):.2f} req/s)")
        pool = EndpointPool([LLMClient(server.url) for server in servers])
        engine_wall, _, count = engine_run(pool, request, None)
        engine = count / engine_wall
        print(f"  one engine run over all {n_servers} (EndpointPool): {count} calls in {engine_wall:.1f}s = {engine:.2f} req/s "
              f"= {engine / sum(alone):.2f} of the sum of the peaks alone, {engine / both:.2f} of all loops at once; "
              f"calls per server: {[member.client.stats.answered for member in pool.members]}")
    finally:
        for server in servers:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake-only", action="store_true")
    parser.add_argument("--fake-evaluations", type=int, default=5000)
    parser.add_argument("--calls", type=int, default=32, help="calls per measurement against the real server")
    parser.add_argument("--repeats", type=int, default=5, help="runs per fake-server figure (the median is printed)")
    parser.add_argument("--endpoints", type=int, default=0, help="also measure one run over 1..N fake endpoints")
    parser.add_argument("--latency", type=float, default=0.05, help="per-call latency of the --endpoints fakes (s)")
    parser.add_argument("--otel", action="store_true", help="also measure the OpenTelemetry overhead")
    parser.add_argument("--real-servers", type=int, default=0, help="only (e): one run over N real llama-servers")
    parser.add_argument("--real-ports", type=int, nargs="*", default=[], help="ports for --real-servers (default: free ones)")
    parser.add_argument("--max-tokens", type=int, default=32, help="max tokens per call for --real-servers")
    parser.add_argument("--prompt-cache", action="store_true",
                        help="leave llama-server's host-memory prompt cache on (shows why the 1-slot loops looked parallel)")
    args = parser.parse_args()
    if args.real_servers:
        bench_real_servers(args.real_servers, args.real_ports, args.calls, args.max_tokens)
        return
    bench_fake(args.fake_evaluations, args.repeats)
    if args.endpoints:
        bench_endpoints(args.endpoints, args.latency, args.repeats)
    if args.otel:
        bench_otel(args.fake_evaluations, args.repeats)
    if not args.fake_only:
        bench_real(args.calls, args.prompt_cache)


if __name__ == "__main__":
    main()
