"""The A/B harness: agent configurations over scenarios, and the table that compares them.

Each (configuration, scenario) pair is one investigation, scored with the optimizer's own agent
metrics (root cause and culprit must both match). The table has one column per configuration:
success rate, average steps, format-violation rate, placeholder-error rate, loop rate and tokens
per investigation, plus how often the deterministic fallbacks stepped in, so a gain that comes
from a fallback rather than the model is visible. The last report is saved as JSON for the page.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from optimizer.errors import ServerError
from optimizer.serving.client import LLMClient
from optimizer.agent.metrics import agent_culprit, agent_root_cause
from optimizer.config.paths import workbench_home
from optimizer.agent.config import AgentConfig
from optimizer.agent.loop import Investigation, investigate
from optimizer.agent.scenarios import Scenario


@dataclass(frozen=True)
class Outcome:
    """One investigation, reduced to what the table counts."""

    scenario_id: str
    config_name: str
    success: bool
    root_cause_ok: bool
    culprit_ok: bool
    steps: int
    model_replies: int
    format_violations: int
    tool_calls: int
    placeholder_errors: int
    loop: bool
    fallback_steps: int
    tokens: int
    answered_by: str | None
    root_cause: str
    culprit: str
    error: str | None


def score_investigation(scenario: Scenario, investigation: Investigation) -> Outcome:
    expected = scenario.expected.model_dump()
    answer = investigation.answer
    predicted = {"root_cause": answer.root_cause if answer else "", "culprit": answer.culprit if answer else ""}
    root_cause_ok = agent_root_cause(expected, predicted) == 1.0
    culprit_ok = agent_culprit(expected, predicted) == 1.0
    steps = investigation.steps
    return Outcome(
        scenario_id=scenario.id,
        config_name=investigation.config_name,
        success=root_cause_ok and culprit_ok,
        root_cause_ok=root_cause_ok,
        culprit_ok=culprit_ok,
        steps=len(steps),
        model_replies=sum(1 for step in steps if step.model_calls),
        format_violations=sum(step.format_violation for step in steps),
        tool_calls=sum(1 for step in steps if step.tool_call),
        placeholder_errors=sum(step.placeholder_error for step in steps),
        loop=any(step.loop for step in steps),
        fallback_steps=sum(1 for step in steps if step.fallback),
        tokens=investigation.prompt_tokens + investigation.completion_tokens,
        answered_by=investigation.answered_by,
        root_cause=predicted["root_cause"],
        culprit=predicted["culprit"],
        error=investigation.error,
    )


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
        server_error_rate=_ratio(sum(o.error is not None for o in outcomes), count),
    )


@dataclass
class ABReport:
    summaries: list[Summary]
    outcomes: list[Outcome]
    scenario_ids: list[str]
    model: str = ""
    wall_s: float = 0.0
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


OutcomeCallback = Callable[[Outcome, int, int], None]
DEFAULT_MAX_CONCURRENCY = 2
"""Investigations at once unless asked: the baseline's prompts grow to thousands of tokens, and on a
small CPU server more parallel requests only push each past its deadline."""


async def default_concurrency(client: LLMClient) -> int:
    return min((await client.server_info()).total_slots, DEFAULT_MAX_CONCURRENCY)


async def run_ab(client: LLMClient, scenarios: Sequence[Scenario], configs: Sequence[AgentConfig], *,
                 concurrency: int = 1, seed: int = 0, on_outcome: OutcomeCallback | None = None) -> ABReport:
    """Every configuration on every scenario (``concurrency`` investigations at a time)."""
    started = time.monotonic()
    gate = asyncio.Semaphore(max(1, concurrency))
    pairs = [(config, scenario) for config in configs for scenario in scenarios]
    outcomes: dict[tuple[str, str], Outcome] = {}
    models: set[str] = set()

    async def one(config: AgentConfig, scenario: Scenario) -> None:
        async with gate:
            try:
                investigation = await investigate(client, scenario, config, seed=seed)
            except ServerError as exc:  # one investigation lost, not the whole comparison
                investigation = Investigation(scenario.id, config.name, scenario.question, error=str(exc),
                                              stop_reason=f"server error: {exc}")
        models.add(investigation.model)
        outcome = score_investigation(scenario, investigation)
        outcomes[(config.name, scenario.id)] = outcome
        if on_outcome is not None:
            on_outcome(outcome, len(outcomes), len(pairs))

    await asyncio.gather(*(one(config, scenario) for config, scenario in pairs))
    ordered = [outcomes[(config.name, scenario.id)] for config, scenario in pairs]
    summaries = [summarize(config.name, [o for o in ordered if o.config_name == config.name]) for config in configs]
    return ABReport(summaries, ordered, [scenario.id for scenario in scenarios], model=", ".join(sorted(m for m in models if m)),
                    wall_s=time.monotonic() - started)


def run_ab_at(url: str, scenarios: Sequence[Scenario], configs: Sequence[AgentConfig], *, seed: int = 0) -> ABReport:
    """Synchronous entry for pages: the A/B run against the server at ``url``."""

    async def go() -> ABReport:
        async with LLMClient(url) as client:
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
