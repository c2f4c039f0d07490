"""The A/B harness: agent configurations over scenarios, and the table that compares them.

Each (configuration, scenario) pair is one investigation, scored with the optimizer's own agent
metrics (root cause and culprit must both match). The comparison is one run of the ``k8s_agent``
task through the engine (one candidate per configuration), so it is stored, resumable and opens
on the Compare page with confidence intervals like every other run. The table has one column per configuration:
success rate, average steps, format-violation rate, placeholder-error rate, loop rate and tokens
per investigation, plus how often the deterministic fallbacks stepped in, so a gain that comes
from a fallback rather than the model is visible. The last report is saved as JSON for the page.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from optimizer.agent.config import TEMPLATE_PATH, AgentConfig
from optimizer.agent.outcome import Outcome, outcome_from_output
from optimizer.agent.scenarios import Scenario
from optimizer.config.paths import default_store_path, repo_root, workbench_home
from optimizer.errors import ConfigError
from optimizer.evaluate.runner import plan_candidates, run_plan
from optimizer.evaluate.store import RunStore
from optimizer.prompts.templates import load_template
from optimizer.search.space import Candidate
from optimizer.serving.endpoint import client_for
from optimizer.serving.client import LLMClient


@dataclass(frozen=True)
class Summary:
    """One column of the table."""

    config_name: str
    investigations: int
    success_rate: float
    average_steps: float
    format_violation_rate: float
    placeholder_error_rate: float
    loop_rate: float
    tokens_per_investigation: float
    fallback_step_rate: float
    model_answer_rate: float
    server_error_rate: float = 0.0
    fallback_answer_rate: float = 0.0


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def summarize(config_name: str, outcomes: Sequence[Outcome]) -> Summary:
    count = len(outcomes)
    return Summary(
        config_name=config_name,
        investigations=count,
        success_rate=_ratio(sum(o.success for o in outcomes), count),
        average_steps=_ratio(sum(o.steps for o in outcomes), count),
        format_violation_rate=_ratio(sum(o.format_violations for o in outcomes), sum(o.model_replies for o in outcomes)),
        placeholder_error_rate=_ratio(sum(o.placeholder_errors for o in outcomes), sum(o.tool_calls for o in outcomes)),
        loop_rate=_ratio(sum(o.loop for o in outcomes), count),
        tokens_per_investigation=_ratio(sum(o.tokens for o in outcomes), count),
        fallback_step_rate=_ratio(sum(o.fallback_steps for o in outcomes), sum(o.steps for o in outcomes)),
        model_answer_rate=_ratio(sum(o.answered_by == "model" for o in outcomes), count),
        fallback_answer_rate=_ratio(sum(o.answered_by == "fallback" for o in outcomes), count),
        server_error_rate=_ratio(sum(o.error is not None for o in outcomes), count),
    )


@dataclass
class ABReport:
    summaries: list[Summary]
    outcomes: list[Outcome]
    scenario_ids: list[str]
    model: str = ""
    wall_s: float = 0.0
    run_id: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ABReport":
        return cls(
            summaries=[Summary(**item) for item in data["summaries"]],
            outcomes=[Outcome(**item) for item in data["outcomes"]],
            scenario_ids=list(data["scenario_ids"]),
            model=data.get("model", ""),
            wall_s=float(data.get("wall_s", 0.0)),
            run_id=data.get("run_id", ""),
            created_at=data.get("created_at", ""),
        )


TABLE_ROWS: list[tuple[str, str, Callable[[float], str]]] = [
    ("success rate (root cause and culprit)", "success_rate", lambda v: f"{v:.0%}"),
    ("average steps", "average_steps", lambda v: f"{v:.1f}"),
    ("format-violation rate (per reply)", "format_violation_rate", lambda v: f"{v:.0%}"),
    ("placeholder-error rate (per tool call)", "placeholder_error_rate", lambda v: f"{v:.0%}"),
    ("loop rate (per investigation)", "loop_rate", lambda v: f"{v:.0%}"),
    ("tokens per investigation", "tokens_per_investigation", lambda v: f"{v:,.0f}"),
    ("steps chosen by the keyword fallback", "fallback_step_rate", lambda v: f"{v:.0%}"),
    ("answers written by the model", "model_answer_rate", lambda v: f"{v:.0%}"),
    ("answers written by the deterministic fallback", "fallback_answer_rate", lambda v: f"{v:.0%}"),
    ("investigations lost to a server error", "server_error_rate", lambda v: f"{v:.0%}"),
]


def table_rows(report: ABReport) -> list[dict[str, str]]:
    """The table as rows of ``{"metric": ..., <config>: value}`` (for a data frame or a page)."""
    rows = []
    for label, attribute, show in TABLE_ROWS:
        row = {"metric": label}
        row.update({summary.config_name: show(getattr(summary, attribute)) for summary in report.summaries})
        rows.append(row)
    return rows


def format_table(report: ABReport) -> str:
    names = [summary.config_name for summary in report.summaries]
    rows = table_rows(report)
    label_width = max(len(row["metric"]) for row in rows)
    widths = [max(len(name), *(len(row[name]) for row in rows)) for name in names]
    lines = ["  ".join(["metric".ljust(label_width), *(name.rjust(width) for name, width in zip(names, widths))])]
    for row in rows:
        lines.append("  ".join([row["metric"].ljust(label_width), *(row[name].rjust(width) for name, width in zip(names, widths))]))
    count = report.summaries[0].investigations if report.summaries else 0
    lines.append(f"{count} scenarios per configuration, model {report.model or '?'}, {report.wall_s:.0f}s wall time")
    return "\n".join(lines)


ProgressCallback = Callable[[int, int], None]
DEFAULT_MAX_CONCURRENCY = 2
"""Investigations at once unless asked: the baseline's prompts grow to thousands of tokens, and on a
small CPU server more parallel requests only push each past its deadline."""


async def default_concurrency(client: LLMClient) -> int:
    return min((await client.server_info()).total_slots, DEFAULT_MAX_CONCURRENCY)


def config_candidates(configs: Sequence[AgentConfig]) -> list[Candidate]:
    """One candidate template per configuration: its system prompt, and its name in
    ``model_defaults.agent_config`` (the executor builds the configuration from it)."""
    base = load_template(repo_root() / TEMPLATE_PATH)
    candidates = []
    for config in configs:
        template = base.model_copy(update={
            "id": "k8s_agent_" + re.sub(r"[^a-z0-9]+", "_", config.name.lower()).strip("_"),
            "system": config.system_prompt + "\n",
            "model_defaults": {**base.model_defaults, "agent_config": config.name},
            "factors": {"config": config.name},
            "evaluation": None,
        })
        candidates.append(Candidate(template, {"config": config.name}))
    return candidates


async def run_ab(client: LLMClient, scenarios: Sequence[Scenario], configs: Sequence[AgentConfig], *,
                 concurrency: int = 1, seed: int = 0, on_progress: ProgressCallback | None = None,
                 store: RunStore | None = None) -> ABReport:
    """Every configuration on every scenario, as one run of the ``k8s_agent`` task in the run store.

    The investigations go through the engine like any optimizer run (cached, stored, resumable;
    the first configuration is the run's baseline), so the same run opens on the Compare page with
    CIs and paired tests; the table is then rebuilt from the stored rows.
    """
    owned = store is None
    store = store or RunStore(default_store_path())
    try:
        wanted = {scenario.id for scenario in scenarios}
        plan = plan_candidates(
            "k8s_agent", config_candidates(configs), examples=lambda dataset: [e for e in dataset.examples if e.id in wanted],
            seed=seed, baseline_first=True,
        )
        missing = wanted - {example.id for example in plan.examples}
        if missing:
            raise ConfigError(f"golden/k8s_agent.jsonl has no example for scenario(s) {', '.join(sorted(missing))}; "
                              "run: workbench agent dataset")
        report = None if on_progress is None else (lambda progress: on_progress(progress.done, progress.total))
        run_id = await run_plan(store, plan, client, concurrency=concurrency, on_progress=report)
        return report_from_run(store, run_id, [config.name for config in configs], [scenario.id for scenario in scenarios])
    finally:
        if owned:
            store.close()


def report_from_run(store: RunStore, run_id: str, config_names: Sequence[str], scenario_ids: Sequence[str]) -> ABReport:
    """The A/B table of a stored agent run: one column per configuration, rebuilt from its rows."""
    run = store.get_run(run_id)
    names = {row["candidate_id"]: row["factors"].get("config", row["candidate_id"]) for row in store.candidates(run_id)}
    outcomes: dict[tuple[str, str], Outcome] = {}
    models: set[str] = set()
    for row in store.evaluation_rows(run_id):
        config_name = names.get(row["candidate_id"], row["candidate_id"])
        outcome = outcome_from_output(row["raw_output"])
        if outcome is None:  # a call that failed before any investigation finished
            outcome = Outcome(row["example_id"], config_name, False, False, False, 0, 0, 0, 0, 0, False, 0, 0, None, "", "",
                              row["error"] or "no investigation stored")
        outcomes[(config_name, row["example_id"])] = replace(outcome, config_name=config_name)
        if row["model_id"]:
            models.add(row["model_id"])
    ordered = [outcomes[(name, scenario_id)] for name in config_names for scenario_id in scenario_ids if (name, scenario_id) in outcomes]
    summaries = [summarize(name, [o for o in ordered if o.config_name == name]) for name in config_names]
    return ABReport(summaries, ordered, list(scenario_ids), model=", ".join(sorted(models)), wall_s=run.wall_s, run_id=run_id)


def run_ab_at(url: str, scenarios: Sequence[Scenario], configs: Sequence[AgentConfig], *, seed: int = 0) -> ABReport:
    """Synchronous entry for pages: the A/B run against the server at ``url``."""

    async def go() -> ABReport:
        async with client_for(url) as client:
            return await run_ab(client, scenarios, configs, concurrency=await default_concurrency(client), seed=seed)

    return asyncio.run(go())


def select_scenarios(scenarios: Sequence[Scenario], count: int | None) -> list[Scenario]:
    """``count`` scenarios spread over categories (round robin in id order); all when count is None."""
    if count is None or count >= len(scenarios):
        return list(scenarios)
    by_category: dict[str, list[Scenario]] = {}
    for scenario in sorted(scenarios, key=lambda item: item.id):
        by_category.setdefault(scenario.category, []).append(scenario)
    chosen: list[Scenario] = []
    while len(chosen) < count:
        for members in by_category.values():
            if members and len(chosen) < count:
                chosen.append(members.pop(0))
    return chosen


def report_path() -> Path:
    return workbench_home() / "agent" / "ab-latest.json"


def save_report(report: ABReport, path: Path | None = None) -> Path:
    target = path or report_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
    return target


def load_report(path: Path | None = None) -> ABReport | None:
    """The last saved report, or None when there is none (or it cannot be read)."""
    try:
        return ABReport.from_dict(json.loads((path or report_path()).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
