"""``workbench agent ...`` and ``workbench playground``, registered by ``optimizer.agent.plugin``.

Errors a user can fix print one line (``error: ...``) and exit 2, like the rest of the CLI.
"""

from __future__ import annotations

import asyncio
import runpy
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from optimizer.serving.endpoint import open_endpoint
from optimizer.errors import exit_on_error
from optimizer.config.paths import repo_root

T = TypeVar("T")


def _or_exit(work: Callable[[], T]) -> T:
    return exit_on_error(work)()


def _with_client(url: str | None, make_work: Callable[[Any], Any]) -> Any:
    from optimizer.serving.endpoint import client_for

    async def go() -> Any:
        with open_endpoint(url, on_line=lambda line: click.echo(line, err=True)) as endpoint:
            async with client_for(endpoint) as client:
                return await make_work(client)

    return asyncio.run(go())


url_option = click.option("--url", default=None, help="OpenAI-compatible base URL (default: WORKBENCH_LLM_URL, else the embedded server).")



@click.group()
def agent() -> None:
    """Kubernetes investigation agent on simulated clusters, and its A/B harness."""

@agent.command("scenarios")
def scenarios_command() -> None:
    """List the scenarios (id, category, question)."""
    from optimizer.agent.scenarios import load_scenarios

    for scenario in _or_exit(load_scenarios):
        click.echo(f"{scenario.id:36} {scenario.category:22} {scenario.question}")

@agent.command("run")
@click.option("--scenario", "scenario_id", required=True, help="Scenario id (see: workbench agent scenarios).")
@click.option("--config", "config_name", default="optimized", show_default=True,
              help="baseline, optimized, or optimized-without-<change>.")
@click.option("--question", default=None, help="Ask this instead of the scenario's question.")
@click.option("--seed", type=int, default=0, show_default=True)
@url_option
def run_command(scenario_id: str, config_name: str, question: str | None, seed: int, url: str | None) -> None:
    """Investigate one scenario and print the trace step by step."""
    from optimizer.agent.config import named_config
    from optimizer.agent.loop import investigate
    from optimizer.agent.scenarios import load_scenario
    from optimizer.agent.trace import format_answer, format_step

    scenario = _or_exit(lambda: load_scenario(scenario_id))
    config = _or_exit(lambda: named_config(config_name))
    click.echo(f"scenario {scenario.id}: {question or scenario.question} (config {config.name})")
    investigation = _or_exit(lambda: _with_client(url, lambda client: investigate(
        client, scenario, config, question=question, seed=seed, on_step=lambda step: click.echo(format_step(step)))))
    click.echo(format_answer(investigation))

@agent.command("ab")
@click.option("--scenarios", "count", type=int, default=None, help="Only N scenarios, spread over categories (default: all).")
@click.option("--configs", default="baseline,optimized", show_default=True,
              help="Comma-separated: baseline, optimized, optimized-without-<change>.")
@click.option("--ablations", is_flag=True, help="Add optimized-without-<change> for every change of the guide.")
@click.option("--concurrency", type=int, default=None, help="Investigations at once (default: the server's slots, at most 2).")
@click.option("--seed", type=int, default=0, show_default=True)
@url_option
def ab_command(count: int | None, configs: str, ablations: bool, concurrency: int | None, seed: int, url: str | None) -> None:
    """Run the configurations over the scenarios and print the A/B table."""
    from optimizer.agent.config import CHANGES, named_config
    from optimizer.agent.harness import default_concurrency, format_table, run_ab, save_report, select_scenarios
    from optimizer.agent.scenarios import load_scenarios

    names = [name.strip() for name in configs.split(",") if name.strip()]
    if ablations:
        names += [f"optimized-without-{change}" for change in CHANGES]
    agent_configs = _or_exit(lambda: [named_config(name) for name in names])
    chosen = select_scenarios(_or_exit(load_scenarios), count)
    click.echo(f"{len(agent_configs)} configurations x {len(chosen)} scenarios = {len(agent_configs) * len(chosen)} investigations")

    def progress(done: int, total: int) -> None:
        click.echo(f"[{done}/{total}] investigations", err=True)

    async def work(client: Any) -> Any:
        slots = concurrency or await default_concurrency(client)
        return await run_ab(client, chosen, agent_configs, concurrency=slots, seed=seed, on_progress=progress)

    report = _or_exit(lambda: _with_client(url, work))
    click.echo(format_table(report))
    click.echo(f"run {report.run_id}: CIs and paired tests on the Compare page, or: workbench leaderboard {report.run_id}")
    click.echo(f"saved {save_report(report)}")

@agent.command("dataset")
@click.option("--check", is_flag=True, help="Fail if golden/k8s_agent.jsonl is not what the scenarios generate.")
def dataset_command(check: bool) -> None:
    """Write golden/k8s_agent.jsonl (the optimizer task's dataset) from the scenario files."""
    from optimizer.agent.golden import dataset_is_current, dataset_path, write_dataset

    if check:
        if not _or_exit(dataset_is_current):
            click.echo(f"error: {dataset_path()} is stale; run: workbench agent dataset", err=True)
            sys.exit(1)
        click.echo(f"{dataset_path()} is current")
        return
    click.echo(f"wrote {_or_exit(write_dataset)}")

@click.command()
@click.option("--port", type=int, default=7860, show_default=True)
@url_option
def playground(port: int, url: str | None) -> None:
    """Serve the Gradio playground (agent chat, micro parser) on 127.0.0.1."""

    def serve() -> None:
        with open_endpoint(url, on_line=lambda line: click.echo(line, err=True)) as endpoint:
            script = repo_root() / "playground.py"
            sys.argv = [str(script), "--port", str(port), "--url", endpoint.url]
            runpy.run_path(str(script), run_name="__main__")

    _or_exit(serve)
