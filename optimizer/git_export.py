"""Export to Git: write the next prompt version, show the diff and a review summary, commit it.

Only the exported file is ever staged and committed; other changes in the working tree stay as
they were. Branch mode builds the commit with a temporary index and never touches the working
tree or the user's index. Nothing is pushed, force-pushed or amended.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .diffing import unified_diff
from .errors import ExportError
from .export import SLUG, build_export, latest_version_path, next_version
from .leaderboard import evaluations_frame
from .store import RunStore
from .templates import PromptTemplate

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_message(text: str) -> str:
    """Strip control characters (tabs and newlines stay) from a commit message."""
    return _CONTROL.sub("", text)


def git(repo: Path, *arguments: str, env: dict[str, str] | None = None, input_text: str | None = None) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *arguments], capture_output=True, text=True, input=input_text,
        env={**os.environ, **(env or {})},
    )
    if result.returncode != 0:
        raise ExportError(f"git {arguments[0]} failed in {repo}: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}")
    return result.stdout


def repository_root(path: Path) -> Path:
    """The top of the Git working copy at ``path``; a clear error when it is not one."""
    if not path.exists():
        raise ExportError(f"export target {path} does not exist")
    result = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if result.returncode != 0:
        raise ExportError(f"export target {path} is not a Git repository")
    return Path(result.stdout.strip()).resolve()


def safe_destination(repo: Path, relative: str) -> Path:
    """``repo/relative``, refusing anything outside the repository or reached through a symlink."""
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise ExportError(f"refused path {relative!r}: it must be a plain path inside {repo}")
    current = repo
    for part in Path(relative).parts:
        current = current / part
        if current.is_symlink():
            raise ExportError(f"refused path {relative!r}: {current} is a symlink")
    resolved = current.resolve()
    if repo != resolved and repo not in resolved.parents:
        raise ExportError(f"refused path {relative!r}: it resolves outside {repo}")
    return current


@dataclass(frozen=True)
class PreparedExport:
    """An export ready for review: the file's text, where it goes, and the evidence."""

    repo: Path
    task: str
    version: int
    relative_path: str
    text: str
    template: PromptTemplate
    previous_relative_path: str | None
    git_diff: str
    review_markdown: str
    commit_subject: str
    commit_body: str

    @property
    def branch(self) -> str:
        return f"prompts/{self.task}-v{self.version}"


def _overall_line(template: PromptTemplate) -> tuple[float, float | None]:
    evaluation = template.evaluation or {}
    winner = evaluation["scores"]["overall"]["mean"]
    baseline = evaluation.get("baseline", {}).get("scores", {}).get("overall", {}).get("mean")
    return winner, baseline


def commit_text(template: PromptTemplate, task: str, version: int) -> tuple[str, str]:
    winner, baseline = _overall_line(template)
    if baseline:
        change = f"overall {baseline:.3f} -> {winner:.3f}, {(winner - baseline) / baseline * 100:+.1f}%"
    else:
        change = f"overall {winner:.3f}"
    subject = f"feat(prompts): {task} v{version} ({change})"
    evaluation = template.evaluation or {}
    lines = ["Scores (mean, 95% CI):"]
    for field, score in evaluation.get("scores", {}).items():
        lines.append(f"- {field}: {score['mean']:.3f} [{score['ci95'][0]:.3f}, {score['ci95'][1]:.3f}]")
    if "baseline" in evaluation:
        lines.append(f"Against baseline {evaluation['baseline']['candidate_id']}: {evaluation['baseline']['summary']}")
    lines.append(f"Parse failures: {evaluation.get('parse_failure_rate', 0):.1%}")
    lines.append("")
    lines.append("Provenance:")
    for key, value in evaluation.get("provenance", {}).items():
        lines.append(f"- {key}: {value}")
    return clean_message(subject), clean_message("\n".join(lines))


def _git_style_diff(repo: Path, previous: Path | None, relative_path: str, text: str) -> str:
    """``git diff --no-index`` of the latest version against the new file, with repo paths as names."""
    with tempfile.TemporaryDirectory() as tmp:
        new_file = Path(tmp) / "new.yaml"
        new_file.write_text(text, encoding="utf-8")
        old_file = previous if previous is not None else Path(os.devnull)
        result = subprocess.run(
            ["git", "diff", "--no-index", "--no-color", "--", str(old_file), str(new_file)],
            capture_output=True, text=True,
        )
        if result.returncode not in (0, 1):
            raise ExportError(f"git diff failed: {result.stderr.strip()}")
        diff = result.stdout
        old_name = previous.relative_to(repo).as_posix() if previous is not None else None
        if old_name:
            diff = diff.replace(f"a{old_file}", f"a/{old_name}").replace(f"b{old_file}", f"b/{old_name}")
        return diff.replace(f"b{new_file}", f"b/{relative_path}").replace(f"a{new_file}", f"a/{relative_path}")


def review_summary(store: RunStore, run_id: str, candidate_id: str, template: PromptTemplate,
                   previous: PromptTemplate | None, expected: dict[str, dict], prompt_diff: str) -> str:
    """Markdown for a pull request: scores per field, flipped examples, and the prompt diff."""
    evaluation = template.evaluation or {}
    baseline = evaluation.get("baseline")
    lines = [f"## {template.id}: prompt update", ""]
    lines.append("| field | baseline | winner | delta |")
    lines.append("| --- | --- | --- | --- |")
    for field, score in evaluation.get("scores", {}).items():
        base = baseline["scores"].get(field, {}).get("mean") if baseline else None
        base_text = f"{base:.3f}" if base is not None else "-"
        delta = f"{score['mean'] - base:+.3f}" if base is not None else "-"
        lines.append(f"| {field} | {base_text} | {score['mean']:.3f} [{score['ci95'][0]:.3f}, {score['ci95'][1]:.3f}] | {delta} |")
    lines.append("")
    if baseline:
        lines.append(f"**Against the baseline:** {baseline['summary']}.")
        lines.append("")
        frame = evaluations_frame(store, run_id)
        mine = frame[frame["candidate_id"] == candidate_id].set_index("example_id")["overall"]
        base_scores = frame[frame["candidate_id"] == baseline["candidate_id"]].set_index("example_id")["overall"]
        both = pd.concat({"winner": mine, "baseline": base_scores}, axis=1).dropna()
        fixed = both[(both["winner"] == 1.0) & (both["baseline"] < 1.0)].index.tolist()
        broken = both[(both["winner"] < 1.0) & (both["baseline"] == 1.0)].index.tolist()
        for title, example_ids in (("Fixed", fixed), ("Broken", broken)):
            lines.append(f"### {title} ({len(example_ids)})")
            for example_id in example_ids:
                values = ", ".join(f"{k}={v}" for k, v in expected.get(example_id, {}).items())
                lines.append(f"- `{example_id}`: expected {values}")
            lines.append("")
    provenance = evaluation.get("provenance", {})
    lines.append(f"Run `{provenance.get('run_id')}` · model `{provenance.get('model')}` · "
                 f"{provenance.get('validation_examples')} validation examples of `{provenance.get('dataset')}`.")
    lines.append("")
    lines.append("### Prompt diff" + (f" against {previous.id}" if previous else ""))
    lines.append("")
    lines.append("```diff")
    lines.append(prompt_diff.rstrip() or "(no previous version)")
    lines.append("```")
    return "\n".join(lines) + "\n"


def _prompt_text(template: PromptTemplate) -> str:
    demos = "\n".join(f"[example {demo.id}]\n{demo.output}" for demo in template.examples)
    return f"[system]\n{template.system}\n\n[user]\n{template.user}\n" + (f"\n{demos}\n" if demos else "")


def prepare_export(store: RunStore, run_id: str, candidate_id: str, *, repo: Path,
                   expected: dict[str, dict] | None = None) -> PreparedExport:
    """Build the next version's file and its evidence without writing anything."""
    from .templates import load_template

    repo = repository_root(repo)
    run = store.get_run(run_id)
    if not SLUG.match(run.task):
        raise ExportError(f"task name {run.task!r} is not a slug")
    folder_relative = "prompt_templates"
    folder = safe_destination(repo, folder_relative)
    version = next_version(run.task, folder) if folder.exists() else 1
    relative_path = f"{folder_relative}/{run.task}_v{version}.yaml"
    safe_destination(repo, relative_path)
    template = build_export(store, run_id, candidate_id, version=version)
    text = template.to_yaml()
    previous_path = latest_version_path(run.task, folder) if folder.exists() else None
    previous = load_template(previous_path) if previous_path else None
    diff = _git_style_diff(repo, previous_path, relative_path, text)
    prompt_diff = unified_diff(_prompt_text(previous), _prompt_text(template), previous.id, template.id) if previous else ""
    review = review_summary(store, run_id, candidate_id, template, previous, expected or {}, prompt_diff)
    subject, body = commit_text(template, run.task, version)
    return PreparedExport(
        repo, run.task, version, relative_path, text, template,
        previous_path.relative_to(repo).as_posix() if previous_path else None, diff, review, subject, body,
    )


@dataclass(frozen=True)
class CommitResult:
    path: Path
    commit: str
    branch: str
    push_command: str | None


def commit_export(prepared: PreparedExport, *, new_branch: bool = False) -> CommitResult:
    """Commit the prepared file: on the current branch (only that file), or on a new review branch."""
    repo = repository_root(prepared.repo)
    destination = safe_destination(repo, prepared.relative_path)
    if destination.exists():
        raise ExportError(f"{prepared.relative_path} already exists; prepare the export again for the next version")
    message = f"{prepared.commit_subject}\n\n{prepared.commit_body}\n"
    if new_branch:
        return _commit_on_new_branch(repo, prepared, message)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "x", encoding="utf-8") as handle:
        handle.write(prepared.text)
    git(repo, "add", "--", prepared.relative_path)
    git(repo, "commit", "--quiet", "--file", "-", "--only", "--", prepared.relative_path, input_text=message)
    commit = git(repo, "rev-parse", "HEAD").strip()
    branch = git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    return CommitResult(destination, commit, branch, None)


def _commit_on_new_branch(repo: Path, prepared: PreparedExport, message: str) -> CommitResult:
    """Build the commit with a throwaway index: the working tree and the real index are untouched."""
    branch = prepared.branch
    exists = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
                            capture_output=True)
    if exists.returncode == 0:
        raise ExportError(f"branch {branch} already exists")
    head = git(repo, "rev-parse", "HEAD").strip()
    blob = git(repo, "hash-object", "-w", "--stdin", input_text=prepared.text).strip()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(repo, "read-tree", head, env=env)
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{prepared.relative_path}", env=env)
        tree = git(repo, "write-tree", env=env).strip()
    commit = git(repo, "commit-tree", tree, "-p", head, "-F", "-", input_text=message).strip()
    git(repo, "update-ref", f"refs/heads/{branch}", commit, "")
    return CommitResult(repo / prepared.relative_path, commit, branch, f"git push -u origin {branch}")
