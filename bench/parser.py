"""Micro parser and router benchmark against the real embedded model (SmolLM2-135M on this CPU).

Prints, for the golden validation split (or --split all):
  (a) the full parser pipeline (mode auto, one parse at a time so latencies are undisturbed):
      schema-valid outputs (target 100%), exact intent match (target >= 95%), p50 / p95 latency
      (targets <= 0.2 s / <= 0.5 s), accuracy per domain, and the share of answers per path;
  (b) the micro model on every command (mode model_first, the issue's literal order: model, then
      the rules only as fallback): the model-only accuracy and schema-valid rate, and that
      pipeline's own accuracy and latency, so the share of rules and model is visible;
  (c) the router: accuracy (target > 90%) and latency, and its model-only accuracy.
The machine's load average is printed with the numbers: other processes on a 2-core box move
every latency.
Usage: python bench/parser.py [--url URL] [--split validation|all] [--examples N] [--concurrency N] [--skip-model]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.intents.evaluation import Evaluation, golden_examples  # noqa: E402
from optimizer.intents.pipeline import ParserConfig  # noqa: E402
from optimizer.intents.routing import RouterConfig  # noqa: E402
from optimizer.intents.session import Backend, evaluate_parser_at, evaluate_router_at  # noqa: E402
from optimizer.serving.llama_server import start_server  # noqa: E402


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def paths(evaluation: Evaluation) -> str:
    summary = evaluation.summary()
    return ", ".join(f"{key.removeprefix('share_')} {value:.0%}" for key, value in summary.items() if key.startswith("share_"))


def report_pipeline(evaluation: Evaluation, started: float) -> dict[str, bool]:
    summary = evaluation.summary()
    print(f"(a) full pipeline (mode auto), {summary['n']} commands in {time.perf_counter() - started:.1f}s, {load()}")
    print(f"    schema-valid outputs  {summary['schema_valid']:.1%}   (target 100%: {verdict(summary['schema_valid'] == 1.0)})")
    print(f"    exact intent match    {summary['accuracy']:.1%}   (target >= 95%: {verdict(summary['accuracy'] >= 0.95)})")
    print(f"    p50 latency           {summary['p50_s']:.4f} s (target <= 0.2 s: {verdict(summary['p50_s'] <= 0.2)})")
    print(f"    p95 latency           {summary['p95_s']:.4f} s (target <= 0.5 s: {verdict(summary['p95_s'] <= 0.5)})")
    print(f"    answers by path       {paths(evaluation)}; model calls {summary['model_calls']}")
    called = evaluation.rows[evaluation.rows["model_called"]]
    if len(called):
        print(f"    latency with a model call: median {called['latency_s'].median():.3f} s, max {called['latency_s'].max():.3f} s "
              f"(the slowest parse overall: {evaluation.rows['latency_s'].max():.3f} s)")
    by_domain = evaluation.by_group()
    print("    accuracy by domain    " + ", ".join(f"{row.domain} {row.accuracy:.1%}" for row in by_domain.itertuples()))
    for miss in evaluation.misses().itertuples():
        print(f"    miss {miss.id}: {miss.input!r} -> {miss.predicted} (expected {miss.expected}; {miss.path})")
    return {
        "schema_valid": summary["schema_valid"] == 1.0,
        "accuracy": summary["accuracy"] >= 0.95,
        "p50": summary["p50_s"] <= 0.2,
        "p95": summary["p95_s"] <= 0.5,
    }


def report_model(evaluation: Evaluation, started: float, concurrency: int) -> None:
    summary = evaluation.summary()
    print(f"(b) micro model on every command (mode model_first, {concurrency} in flight), {summary['n']} commands in "
          f"{time.perf_counter() - started:.1f}s, {load()}")
    print(f"    model-only accuracy   {summary['model_accuracy']:.1%}   (replies that are schema-valid intents as written "
          f"{summary['model_schema_valid']:.1%}, that also pass normalisation {summary['model_valid']:.1%}; "
          f"server failures {summary['model_failures']})")
    print(f"    model-first pipeline  {summary['accuracy']:.1%} exact, p50 {summary['p50_s']:.3f} s, p95 {summary['p95_s']:.3f} s; "
          f"answers by path: {paths(evaluation)}")
    called = evaluation.rows
    by_domain = called.groupby("group")["model_correct"].mean()
    print("    model-only by domain  " + ", ".join(f"{domain} {accuracy:.1%}" for domain, accuracy in by_domain.items()))


def report_router(evaluation: Evaluation, model_evaluation: Evaluation | None, started: float) -> bool:
    summary = evaluation.summary()
    print(f"(c) router (mode auto), {summary['n']} queries in {time.perf_counter() - started:.1f}s, {load()}")
    print(f"    accuracy              {summary['accuracy']:.1%}   (target > 90%: {verdict(summary['accuracy'] > 0.9)})")
    print(f"    p50 / p95 latency     {summary['p50_s']:.4f} s / {summary['p95_s']:.4f} s; answers by path: {paths(evaluation)}")
    if model_evaluation is not None:
        model_summary = model_evaluation.summary()
        print(f"    model-only accuracy   {model_summary['model_accuracy']:.1%} (model_first pipeline {model_summary['accuracy']:.1%}, "
              f"p50 {model_summary['p50_s']:.3f} s)")
    return summary["accuracy"] > 0.9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="A running server (default: start the embedded one with 4 slots).")
    parser.add_argument("--split", default="validation", choices=["validation", "train", "all"])
    parser.add_argument("--examples", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=4, help="Requests in flight for the model-on-every-command passes.")
    parser.add_argument("--skip-model", action="store_true", help="Skip the model-on-every-command passes (b).")
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        server = start_server(slots=4, on_line=lambda line: print(line, file=sys.stderr))
        url = server.url
    try:
        intents = golden_examples("intent_parsing", args.split, args.examples)
        queries = golden_examples("query_routing", args.split, args.examples)
        backend = Backend(url, deadline_s=600.0)
        evaluate_parser_at(backend, intents[:2], ParserConfig(mode="model_only"))  # warm the prompt cache
        print(f"model server {url}; {len(intents)} {args.split} commands, {len(queries)} {args.split} queries")
        started = time.perf_counter()
        targets = report_pipeline(evaluate_parser_at(backend, intents, ParserConfig(mode="auto"), name="auto"), started)
        if not args.skip_model:
            started = time.perf_counter()
            model_first = evaluate_parser_at(backend, intents, ParserConfig(mode="model_first"), concurrency=args.concurrency)
            report_model(model_first, started, args.concurrency)
        started = time.perf_counter()
        router = evaluate_router_at(url, queries, RouterConfig(mode="auto"), deadline_s=600.0)
        router_model = None if args.skip_model else evaluate_router_at(url, queries, RouterConfig(mode="model_first"),
                                                                       concurrency=args.concurrency, deadline_s=600.0)
        targets["router"] = report_router(router, router_model, started)
        print("targets: " + ", ".join(f"{name} {verdict(ok)}" for name, ok in targets.items()))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
