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

from optimizer.analysis.diffing import unified_diff
from optimizer.analysis.references import perfect_scores
from optimizer.errors import ExportError
from optimizer.export.evidence import build_export
from optimizer.prompts.versions import SLUG, latest_version_path, next_version
from optimizer.evaluate.leaderboard import evaluations_frame
from optimizer.evaluate.store import RunStore
from optimizer.prompts.templates import PromptTemplate

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_message(text: str) -> str:
    """Strip control characters (tabs and newlines stay) from a commit message."""
    return _CONTROL.sub("", text)


# The target repository is not trusted: its config could name programs git runs for us
# (``core.fsmonitor``, hooks, a signing program, an external diff, a pager, auto-gc). Every call
# overrides them; ``.gitattributes`` filter drivers are refused before staging (``_refuse_filters``).
SAFE_CONFIG = (
    "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false",
    "-c", "tag.gpgSign=false", "-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c", "core.pager=cat",
    "-c", "core.untrackedCache=false", "-c", "diff.external=", "-c", "protocol.allow=never",
)
_UNSAFE_ENVIRONMENT = ("GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_SSH_COMMAND", "GIT_ASKPASS", "GIT_EDITOR", "GIT_DIR",
                       "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")


def git_command(*arguments: str, repo: Path | None = None) -> list[str]:
    """``git`` with the safe config, optionally ``-C repo``, then ``arguments``."""
    return ["git", *SAFE_CONFIG, *(("-C", str(repo)) if repo is not None else ()), *arguments]


def git_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if name not in _UNSAFE_ENVIRONMENT}
    return {**environment, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", **(extra or {})}


def git(repo: Path, *arguments: str, env: dict[str, str] | None = None, input_text: str | None = None) -> str:
    result = subprocess.run(
        git_command(*arguments, repo=repo), capture_output=True, text=True, input=input_text, env=git_environment(env),
    )
    if result.returncode != 0:
        raise ExportError(f"git {arguments[0]} failed in {repo}: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}")
    return result.stdout


def repository_root(path: Path) -> Path:
    """The top of the Git working copy at ``path``; a clear error when it is not one."""
    if not path.exists():
        raise ExportError(f"export target {path} does not exist")
    result = subprocess.run(git_command("rev-parse", "--show-toplevel", repo=path), capture_output=True, text=True,
                            env=git_environment())
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
    lines.extend(_evidence_lines(evaluation))
    lines.append("")
    lines.append("Provenance:")
    for key, value in evaluation.get("provenance", {}).items():
        lines.append(f"- {key}: {value}")
    return clean_message(subject), clean_message("\n".join(lines))


def _evidence_lines(evaluation: dict) -> list[str]:
    """The trivial reference, a confirmed collapse and the test scores, one line each."""
    lines = []
    trivial = evaluation.get("trivial_reference")
    if trivial:
        verdict = "above" if trivial["above"] else "NOT above"
        lines.append(f"Against the trivial reference ({trivial['reference']}, overall {trivial['overall']:.3f}): {verdict}, "
                     f"{trivial['delta_overall'] * 100:+.1f} points, 95% CI [{trivial['delta_ci95'][0] * 100:+.1f}, "
                     f"{trivial['delta_ci95'][1] * 100:+.1f}], p = {trivial['p_value']:.2g} over {trivial['n']} examples")
    partial = evaluation.get("partial_evidence")
    if partial:
        lines.append(f"PARTIAL EVIDENCE (exported with --allow-partial): {'; '.join(partial['reasons'])}")
    degenerate = evaluation.get("degenerate")
    if degenerate:
        fields = ", ".join(f"{name}={info['value'] or '(none)'} {info['share']:.0%}" for name, info in degenerate["collapsed_fields"].items())
        lines.append(f"DEGENERATE (exported with --allow-degenerate): answers collapse to {fields}")
    test = evaluation.get("test")
    if test:
        overall = test["scores"]["overall"]
        lines.append(f"Test split ({test['examples']} examples, run {test['run_id']}): overall {overall['mean']:.3f} "
                     f"[{overall['ci95'][0]:.3f}, {overall['ci95'][1]:.3f}]")
        base = test.get("baseline")
        if base:
            lines.append(f"Test split against the baseline: {base['summary']}")
    return lines


def _git_style_diff(repo: Path, previous: Path | None, relative_path: str, text: str) -> str:
    """``git diff --no-index`` of the latest version against the new file, with repo paths as names."""
    with tempfile.TemporaryDirectory() as tmp:
        new_file = Path(tmp) / "new.yaml"
        new_file.write_text(text, encoding="utf-8")
        old_file = previous if previous is not None else Path(os.devnull)
        result = subprocess.run(
            git_command("diff", "--no-index", "--no-color", "--no-ext-diff", "--no-textconv", "--", str(old_file), str(new_file)),
            capture_output=True, text=True, env=git_environment(),
        )
        if result.returncode not in (0, 1):
            raise ExportError(f"git diff failed: {result.stderr.strip()}")
        diff = result.stdout
        old_name = previous.relative_to(repo).as_posix() if previous is not None else None
        if old_name:
            diff = diff.replace(f"a{old_file}", f"a/{old_name}").replace(f"b{old_file}", f"b/{old_name}")
        return diff.replace(f"b{new_file}", f"b/{relative_path}").replace(f"a{new_file}", f"a/{relative_path}")


def _one_line(text: str, limit: int = 300) -> str:
    """A reviewer's comment as one Markdown-safe line (it is data, not markup)."""
    flat = " ".join(clean_message(text).split())
    flat = flat if len(flat) <= limit else flat[:limit] + "..."
    return flat.replace("`", "'").replace("<", "&lt;")


def review_summary(store: RunStore, run_id: str, candidate_id: str, template: PromptTemplate,
                   previous: PromptTemplate | None, expected: dict[str, dict], prompt_diff: str) -> str:
    """Markdown for a pull request: scores per field, flipped examples, and the prompt diff."""
    evaluation = template.evaluation or {}
    baseline = evaluation.get("baseline")
    lines = [f"## {template.id}: prompt update", ""]
    # Points (score x 100), the unit of the sentence against the baseline below.
    lines.append("| field (points) | baseline | winner [95% CI] | delta |")
    lines.append("| --- | --- | --- | --- |")
    for field, score in evaluation.get("scores", {}).items():
        base = baseline["scores"].get(field, {}).get("mean") if baseline else None
        base_text = f"{base * 100:.1f}" if base is not None else "-"
        delta = f"{(score['mean'] - base) * 100:+.1f}" if base is not None else "-"
        lines.append(f"| {field} | {base_text} | {score['mean'] * 100:.1f} [{score['ci95'][0] * 100:.1f}, "
                     f"{score['ci95'][1] * 100:.1f}] | {delta} |")
    lines.append("")
    if baseline:
        lines.append(f"**Against the baseline:** {baseline['summary']}.")
        lines.append("")
        frame = evaluations_frame(store, run_id)
        mine = frame[frame["candidate_id"] == candidate_id].set_index("example_id")["overall"]
        base_scores = frame[frame["candidate_id"] == baseline["candidate_id"]].set_index("example_id")["overall"]
        both = pd.concat({"winner": mine, "baseline": base_scores}, axis=1).dropna()
        # "right" = the score the expected answer itself gets (1.0, or its class weight on a balanced field)
        perfect = pd.Series(perfect_scores(store, run_id, list(both.index))).reindex(both.index).fillna(1.0) - 1e-9
        fixed = both[(both["winner"] >= perfect) & (both["baseline"] < perfect)].index.tolist()
        broken = both[(both["winner"] < perfect) & (both["baseline"] >= perfect)].index.tolist()
        for title, example_ids in (("Fixed", fixed), ("Broken", broken)):
            lines.append(f"### {title} ({len(example_ids)})")
            for example_id in example_ids:
                values = ", ".join(f"{k}={v}" for k, v in expected.get(example_id, {}).items())
                lines.append(f"- `{example_id}`: expected {values}")
            lines.append("")
    human = evaluation.get("human_review")
    if human:
        mean = f"mean human score {human['mean_human']:.2f}, " if human.get("mean_human") is not None else ""
        lines.append(f"### Human review ({human['reviewed_outputs']} outputs reviewed)")
        lines.append(f"{mean}{human['thumbs_up']} thumbs up, {human['thumbs_down']} thumbs down.")
        lines.extend(f"- `{item['example_id']}`: {_one_line(item['comment'])}" for item in human.get("comments", []))
        lines.append("")
    provenance = evaluation.get("provenance", {})
    evidence = _evidence_lines(evaluation)
    if evidence:
        lines.extend(f"**{line.split(':', 1)[0]}:**{line.split(':', 1)[1]}" if ":" in line else line for line in evidence)
        lines.append("")
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
                   expected: dict[str, dict] | None = None, allow_degenerate: bool = False,
                   allow_partial: bool = False) -> PreparedExport:
    """Build the next version's file and its evidence without writing anything.

    A candidate whose answers collapse to one label is refused unless ``allow_degenerate``; one with
    partial evidence (fewer examples than the run, or not separable from the baseline) unless ``allow_partial``."""
    from optimizer.prompts.templates import load_template

    repo = repository_root(repo)
    run = store.get_run(run_id)
    if not SLUG.match(run.task):
        raise ExportError(f"task name {run.task!r} is not a slug")
    folder_relative = "prompt_templates"
    folder = safe_destination(repo, folder_relative)
    version = next_version(run.task, folder) if folder.exists() else 1
    relative_path = f"{folder_relative}/{run.task}_v{version}.yaml"
    safe_destination(repo, relative_path)
    template = build_export(store, run_id, candidate_id, version=version, allow_degenerate=allow_degenerate,
                            allow_partial=allow_partial)
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
    _refuse_filters(repo, prepared.relative_path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open(destination, "x", encoding="utf-8") as handle:
        handle.write(prepared.text)
    git(repo, "add", "--", prepared.relative_path)
    git(repo, "commit", "--quiet", "--file", "-", "--only", "--", prepared.relative_path, input_text=message)
    commit = git(repo, "rev-parse", "HEAD").strip()
    branch = git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    return CommitResult(destination, commit, branch, None)


def _refuse_filters(repo: Path, relative_path: str) -> None:
    """Staging runs a ``.gitattributes`` filter driver (a program from the repository's config): refuse."""
    attributes = git(repo, "check-attr", "filter", "--", relative_path)
    value = attributes.rsplit(":", 1)[-1].strip()
    if value not in ("unspecified", "unset", ""):
        raise ExportError(f"refused: .gitattributes gives {relative_path} the filter {value!r}, and staging it would run "
                          "that filter's program; export with --no-commit or --branch instead")


def _commit_on_new_branch(repo: Path, prepared: PreparedExport, message: str) -> CommitResult:
    """Build the commit with a throwaway index: the working tree and the real index are untouched."""
    branch = prepared.branch
    exists = subprocess.run(git_command("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", repo=repo),
                            capture_output=True, env=git_environment())
    if exists.returncode == 0:
        raise ExportError(f"branch {branch} already exists")
    has_commit = subprocess.run(git_command("rev-parse", "--verify", "--quiet", "HEAD^{commit}", repo=repo),
                                capture_output=True, env=git_environment())
    if has_commit.returncode != 0:
        raise ExportError(f"repository {repo} has no commits yet, so there is nothing to branch from; "
                          "make a first commit, or export without --branch")
    head = git(repo, "rev-parse", "HEAD").strip()
    blob = git(repo, "hash-object", "-w", "--no-filters", "--stdin", input_text=prepared.text).strip()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(repo, "read-tree", head, env=env)
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{prepared.relative_path}", env=env)
        tree = git(repo, "write-tree", env=env).strip()
    commit = git(repo, "commit-tree", tree, "-p", head, "-F", "-", input_text=message).strip()
    git(repo, "update-ref", f"refs/heads/{branch}", commit, "")
    return CommitResult(repo / prepared.relative_path, commit, branch, f"git push -u origin {branch}")
