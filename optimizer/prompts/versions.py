"""Prompt versions on disk: ``prompt_templates/<task>_v<N>.yaml``, and ``load_prompt``, the runtime side.

Production imports only this and ``templates`` (through ``optimizer``), so it needs no pandas and no
server: ``load_prompt(task)`` then ``render(prompt, **inputs)``.
"""

from __future__ import annotations

import re
from pathlib import Path

from optimizer.config.paths import repo_root
from optimizer.errors import ExportError
from optimizer.prompts.templates import PromptTemplate, load_template

SLUG = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


def templates_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "prompt_templates"


def _versions(task: str, folder: Path) -> dict[int, Path]:
    pattern = re.compile(rf"^{re.escape(task)}_v(\d+)\.yaml$")
    found = {}
    for path in folder.glob(f"{task}_v*.yaml"):
        match = pattern.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def next_version(task: str, folder: Path) -> int:
    return max(_versions(task, folder), default=0) + 1


def latest_version_path(task: str, folder: Path) -> Path | None:
    versions = _versions(task, folder)
    return versions[max(versions)] if versions else None


def load_prompt(task: str, version: int | str = "latest", *, root: Path | None = None) -> PromptTemplate:
    """Load ``prompt_templates/<task>_v<N>.yaml``: the newest version, or the one asked for."""
    if not SLUG.match(task):
        raise ExportError(f"task name {task!r} is not a slug")
    folder = templates_dir(root)
    versions = _versions(task, folder)
    if not versions:
        raise ExportError(f"no prompt versions for task {task!r} in {folder}")
    number = max(versions) if version == "latest" else int(version)
    if number not in versions:
        raise ExportError(f"task {task!r} has no version {number} (have: {', '.join(map(str, sorted(versions)))})")
    return load_template(versions[number])


