"""The optimizer task's golden dataset, generated from the scenario files.

``golden/k8s_agent.jsonl`` is committed so runs are reproducible and reviewable; regenerate it
after changing a scenario with ``workbench agent dataset`` (``--check`` fails if it is stale).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimizer.config.paths import repo_root
from optimizer.agent.scenarios import Scenario, load_scenarios, scenarios_dir

DATASET_PATH = "golden/k8s_agent.jsonl"


def fixture_sha(scenario: Scenario) -> str:
    """A short hash of the scenario file. The template renders it, so editing a scenario changes
    the rendered messages and with them the engine's cache key (no stale cached investigations)."""
    return hashlib.sha256((scenarios_dir() / f"{scenario.id}.yaml").read_bytes()).hexdigest()[:12]


def dataset_records(scenarios: Sequence[Scenario]) -> list[dict[str, Any]]:
    """One line per scenario: the inputs the template reads and the expected answer."""
    return [
        {
            "id": scenario.id,
            "split": scenario.split,
            "scenario": scenario.id,
            "fixture_sha": fixture_sha(scenario),
            "question": scenario.question,
            "category": scenario.category,
            "expected": scenario.expected.model_dump(),
        }
        for scenario in scenarios
    ]


def render_dataset(scenarios: Sequence[Scenario]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in dataset_records(scenarios))


def dataset_path() -> Path:
    return repo_root() / DATASET_PATH


def write_dataset(path: Path | None = None) -> Path:
    target = path or dataset_path()
    target.write_text(render_dataset(load_scenarios()), encoding="utf-8")
    return target


def dataset_is_current(path: Path | None = None) -> bool:
    target = path or dataset_path()
    return target.exists() and target.read_text(encoding="utf-8") == render_dataset(load_scenarios())
