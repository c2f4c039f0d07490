"""Micro parser and router benchmark against the real embedded model (SmolLM2-135M on this CPU).

For every split (train, validation, test, and the held-out paraphrase set when present) prints:
  (a) the full parser pipeline (mode auto, one parse at a time so latencies are undisturbed):
      exact intent match with its 95% interval and the majority-label reference, schema-valid,
      the share of commands each path answered (rules / model / fallback) and that path's own
      accuracy, p50 / p95 latency, and the ECE of the pipeline's calibrated confidence;
  (b) the model on every command (mode model_first, N in flight): the model's own accuracy, so
      the pipeline's gain over the model alone is a ratio on the same items;
  (c) the same two for the router.
Targets (issue 12): on test and paraphrase, intents >= 95% exact, router >= 92%, schema-valid
100%, p50 <= 0.2 s, p95 <= 1.5 s. The machine's load average is printed before and after: other
processes on a 2-core box move every latency.
With --compare-shots K it instead compares, on the validation split only (where variants are
chosen), the model with fixed shots against K shots retrieved from train (for the parser both on
intent_parsing_v1's prompt, which has the fixed ones; the router on its own template): each
one's accuracy alone with its 95% interval, and the paired difference on the same items with its
95% interval, p and the smallest difference this n could detect.
Usage: python bench/parser.py [--url URL] [--examples N] [--concurrency N] [--skip-model] [--splits a,b]
       python bench/parser.py --url URL --compare-shots 4
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from optimizer.analysis.stats import paired_comparison  # noqa: E402
from optimizer.intents.calibration import expected_calibration_error  # noqa: E402
from optimizer.intents.evaluation import Evaluation, available_splits, golden_examples, split_report, wilson_interval  # noqa: E402
from optimizer.intents.pipeline import ParserConfig  # noqa: E402
from optimizer.intents.routing import RouterConfig  # noqa: E402
from optimizer.intents.session import Backend, evaluate_parser_at, evaluate_router_at  # noqa: E402
from optimizer.serving.llama_server import start_server  # noqa: E402

TARGETS = {"intent_parsing": 0.95, "query_routing": 0.92}
FIXED_SHOTS_TEMPLATE = "prompt_templates/intent_parsing_v1.yaml"
"""The parser prompt with fixed demonstrations (the default, intent_parsing_v2, retrieves them)."""
REPORTED = ("test", "paraphrase")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


def table(frame: pd.DataFrame) -> str:
    with pd.option_context("display.width", 220, "display.max_columns", 40):
        return frame.to_string(index=False, float_format=lambda value: f"{value:.3f}")


def with_model_only(report: pd.DataFrame, model_first: dict[str, Evaluation] | None) -> pd.DataFrame:
    """Add the model-alone accuracy and the pipeline/model ratio, split by split."""
    if not model_first:
        return report
    model_only = [model_first[split].summary()["model_accuracy"] for split in report["split"]]
    alone = pd.Series(model_only, index=report.index)
    return report.assign(model_alone=alone, ratio=report["exact"] / alone.where(alone > 0))


def ece_line(evaluations: dict[str, Evaluation]) -> str:
    parts = []
    for split, evaluation in evaluations.items():
        rows = evaluation.rows
        parts.append(f"{split} {expected_calibration_error(rows['confidence'], rows['correct']):.3f}")
    return "ECE of the pipeline's calibrated confidence: " + ", ".join(parts)


def verdicts(task: str, report: pd.DataFrame) -> list[str]:
    lines = []
    for row in report.itertuples():
        if row.split not in REPORTED:
            continue
        checks = [("exact", row.exact >= TARGETS[task], f"{row.exact:.1%} vs >= {TARGETS[task]:.0%}"),
                  ("p50", row.p50_s <= 0.2, f"{row.p50_s:.3f} s vs <= 0.2 s"), ("p95", row.p95_s <= 1.5, f"{row.p95_s:.3f} s vs <= 1.5 s")]
        if "schema_valid" in report:
            checks.insert(1, ("schema-valid", row.schema_valid == 1.0, f"{row.schema_valid:.1%} vs 100%"))
        lines.append(f"{task} {row.split} (n={row.n}): " + ", ".join(f"{name} {'PASS' if ok else 'FAIL'} ({what})"
                                                                    for name, ok, what in checks))
    return lines


def shots_comparison(task: str, fixed: Evaluation, retrieved: Evaluation, k: int) -> list[str]:
    """Model-alone accuracy with fixed vs ``k`` retrieved shots on the same items, and their paired difference."""
    lines = []
    for label, evaluation in (("fixed shots", fixed), (f"{k} retrieved shots", retrieved)):
        right = evaluation.rows["model_correct"].astype(bool)
        low, high = wilson_interval(int(right.sum()), len(right))
        lines.append(f"{task} validation, {label}: model alone {right.mean():.1%} ({int(right.sum())}/{len(right)}, "
                     f"95% CI {low:.0%}-{high:.0%})")
    candidate = retrieved.rows.set_index("id")["model_correct"].astype(float)
    reference = fixed.rows.set_index("id")["model_correct"].astype(float).reindex(candidate.index)
    paired = paired_comparison(list(candidate), list(reference))
    separated = paired.low > 0 or paired.high < 0
    lines.append(f"{task} validation, retrieved - fixed: {paired.delta:+.1%} (paired 95% CI {paired.low:+.1%} to "
                 f"{paired.high:+.1%}, p {paired.p_value:.3f}, n {paired.n}, smallest detectable difference "
                 f"{paired.mde:.1%}): {'n separates them' if separated else 'n cannot separate them'}")
    return lines


def compare_shots(url: str, k: int, examples: int | None, concurrency: int) -> None:
    lines = []
    for task in ("intent_parsing", "query_routing"):
        items = golden_examples(task, "validation", examples)
        runs = {}
        for shots in (0, k):
            if task == "intent_parsing":
                # Both arms on v1's prompt, the one with fixed shots (v2 has none), so only the shots differ.
                config = ParserConfig(mode="model_first", retrieved_shots=shots, template_path=FIXED_SHOTS_TEMPLATE)
                runs[shots] = evaluate_parser_at(Backend(url, deadline_s=600.0), items, config, concurrency=concurrency)
            else:
                runs[shots] = evaluate_router_at(url, items, RouterConfig(mode="model_first", retrieved_shots=shots),
                                                 concurrency=concurrency, deadline_s=600.0)
        lines += shots_comparison(task, runs[0], runs[k], k)
        print("\n".join(lines[-3:]) + f"\n({load()})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="A running server (default: start the embedded one with 4 slots).")
    parser.add_argument("--examples", type=int, default=None, help="At most N examples per split.")
    parser.add_argument("--concurrency", type=int, default=4, help="Requests in flight for the model-on-every-command passes.")
    parser.add_argument("--skip-model", action="store_true", help="Skip the model-on-every-command passes (b).")
    parser.add_argument("--splits", default=None, help="Comma-separated splits (default: every split present).")
    parser.add_argument("--tasks", default="intent_parsing,query_routing", help="Comma-separated: intent_parsing, query_routing.")
    parser.add_argument("--auto-concurrency", type=int, default=1,
                        help="Parses in flight for the pipeline pass (default 1: latencies undisturbed by our own load).")
    parser.add_argument("--compare-shots", type=int, default=None, metavar="K",
                        help="Only compare fixed shots with K retrieved ones, model alone, on the validation split.")
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        server = start_server(slots=4, on_line=lambda line: print(line, file=sys.stderr))
        url = server.url
    try:
        backend = Backend(url, deadline_s=600.0)
        evaluate_parser_at(backend, golden_examples("intent_parsing", "train", 1), ParserConfig(mode="model_only"))  # warm up
        print(f"model server {url}; machine {platform.machine()} {platform.system()}, {os.cpu_count()} cores; {load()}")
        if args.compare_shots:
            compare_shots(url, args.compare_shots, args.examples, args.concurrency)
            return
        verdict_lines: list[str] = []
        for task in args.tasks.split(","):
            splits = args.splits.split(",") if args.splits else available_splits(task)
            examples = {split: golden_examples(task, split, args.examples) for split in splits}
            started = time.perf_counter()
            if task == "intent_parsing":
                auto = {s: evaluate_parser_at(backend, e, ParserConfig(mode="auto"), name=s, concurrency=args.auto_concurrency)
                        for s, e in examples.items()}
            else:
                auto = {s: evaluate_router_at(url, e, RouterConfig(mode="auto"), name=s, deadline_s=600.0, concurrency=args.auto_concurrency)
                        for s, e in examples.items()}
            auto_s = time.perf_counter() - started
            model_first = None
            if not args.skip_model:
                started = time.perf_counter()
                if task == "intent_parsing":
                    model_first = {s: evaluate_parser_at(backend, e, ParserConfig(mode="model_first"), name=s, concurrency=args.concurrency)
                                   for s, e in examples.items()}
                else:
                    model_first = {s: evaluate_router_at(url, e, RouterConfig(mode="model_first"), name=s, concurrency=args.concurrency,
                                                         deadline_s=600.0) for s, e in examples.items()}
                model_s = time.perf_counter() - started
            report = split_report(auto)
            print(f"\n{task}: pipeline (mode auto, {args.auto_concurrency} in flight) in {auto_s:.0f} s; {load()}")
            print(table(with_model_only(report, model_first)))
            print(ece_line(auto))
            if model_first is not None:
                print(f"(model_alone: the model's own answer on every item, mode model_first with {args.concurrency} in flight, "
                      f"in {model_s:.0f} s; ratio: pipeline exact / model alone)")
            verdict_lines += verdicts(task, report)
        print("\n" + "\n".join(verdict_lines))
        print(f"end: {load()}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
