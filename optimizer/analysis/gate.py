"""The regression gate for CI: is a new prompt version worse than the one it replaces?

``run_gate`` scores the new version and the version it replaces on the task's validation split
(and its test split, when the task has one) through the engine (cached, stored as ordinary runs),
pairs them example by example and applies the same sign-flip test the Compare page uses
(``optimizer.analysis.stats.paired_comparison``). The gate fails when

- the new version is significantly worse (p < 0.05) by more than ``max_drop`` on a split, or
- its mean overall score on a split is below ``min_overall``, or
- some of its calls failed, so not every example could be scored.

A difference the examples cannot separate is not a failure, and the reason says so, with the
smallest difference this n can detect. ``junit_xml`` writes the result for CI systems.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from optimizer.analysis.stats import PairedComparison, paired_comparison
from optimizer.config.paths import display_path, resolve_in_repo
from optimizer.errors import ConfigError
from optimizer.evaluate.leaderboard import evaluations_frame
from optimizer.evaluate.runner import RunRequest, load_task_dataset, plan_run, run_plan
from optimizer.evaluate.store import RunStore
from optimizer.prompts.templates import load_template
from optimizer.tasks.spec import load_task

VERSION_NAME = re.compile(r"^(?P<task>.+)_v(?P<number>\d+)\.yaml$")


@dataclass(frozen=True)
class SplitCheck:
    """One split: the new version's score, the old one's, their paired comparison and what failed."""

    split: str
    n: int
    planned: int
    mean: float
    against_mean: float | None
    comparison: PairedComparison | None
    failures: list[str] = field(default_factory=list)
    run_ids: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class GateResult:
    template: str
    against: str | None
    model: str
    checks: list[SplitCheck]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def reason(self) -> str:
        """One paragraph: the verdict, then each split's figures and what decided it."""
        verdict = "PASS" if self.passed else "FAIL"
        against = f" against {self.against}" if self.against else " (no earlier version to compare with)"
        parts = [f"{verdict}: {self.template}{against}, model {self.model}."]
        for check in self.checks:
            text = f"{check.split} ({check.n}/{check.planned} examples scored): overall {check.mean:.3f}"
            if check.comparison is not None and check.against_mean is not None:
                text += f" vs {check.against_mean:.3f}; {check.comparison.sentence()}"
            parts.append(text + ".")
            parts.extend(f"{check.split}: {failure}." for failure in check.failures)
        return " ".join(parts)


def previous_version(template_path: Path) -> Path | None:
    """``<task>_v(N-1).yaml`` beside ``<task>_vN.yaml`` (the newest lower version), if any."""
    match = VERSION_NAME.match(template_path.name)
    if not match:
        return None
    number = int(match.group("number"))
    lower = []
    for sibling in template_path.parent.glob(f"{match.group('task')}_v*.yaml"):
        found = VERSION_NAME.match(sibling.name)
        if found and found.group("task") == match.group("task") and int(found.group("number")) < number:
            lower.append((int(found.group("number")), sibling))
    return max(lower)[1] if lower else None


def resolve_against(template_path: Path, against: str | None) -> Path | None:
    """``--against``: a path, a version (``v3`` or ``3``) of the same task, or by default the one before."""
    if against is None:
        return previous_version(template_path)
    version = re.fullmatch(r"v?(\d+)", against)
    match = VERSION_NAME.match(template_path.name)
    if version and match:
        candidate = template_path.parent / f"{match.group('task')}_v{version.group(1)}.yaml"
        if not candidate.is_file():
            raise ConfigError(f"--against {against}: {display_path(candidate)} does not exist")
        return candidate
    return resolve_in_repo(against, what="--against template")


def _scores(store: RunStore, run_id: str) -> dict[str, float]:
    frame = evaluations_frame(store, run_id)
    scored = frame[~frame["failed"]] if "failed" in frame else frame
    return dict(zip(scored["example_id"], scored["overall"]))


async def run_gate(
    store: RunStore,
    client: Any,
    template: str,
    *,
    against: str | None = None,
    min_overall: float | None = None,
    max_drop: float = 0.0,
    n_examples: int | None = None,
    splits: Sequence[str] | None = None,
) -> GateResult:
    """Score ``template`` (and the version it replaces) per split and decide; see the module doc."""
    template_path = resolve_in_repo(template, what="template")
    new_template = load_template(template_path)
    if not new_template.task:
        raise ConfigError(f"{display_path(template_path)}: the template has no 'task' field")
    task = load_task(new_template.task)
    against_path = resolve_against(template_path, against)
    if against_path is not None and against_path.resolve() == template_path.resolve():
        raise ConfigError(f"--against {against}: that is the template itself")
    dataset = load_task_dataset(task)
    chosen = list(splits) if splits else [name for name in ("validation", "test") if dataset.split(name)]
    model = ""
    checks = []
    for split in chosen:
        def request(path: Path) -> RunRequest:
            return RunRequest(task=task.name, template=str(path), split=split, n_examples=n_examples,
                              include_baseline=False)

        new_plan = plan_run(request(template_path))
        new_run = await run_plan(store, new_plan, client)
        model = store.get_run(new_run).model_identity
        new_scores = _scores(store, new_run)
        planned = len(new_plan.examples)
        failures = []
        if len(new_scores) < planned:
            failures.append(f"{planned - len(new_scores)} of {planned} calls failed, so the version was not scored on every example")
        mean = sum(new_scores.values()) / len(new_scores) if new_scores else float("nan")
        if min_overall is not None and not mean >= min_overall:
            failures.append(f"overall {mean:.3f} is below the floor --min-overall {min_overall:.3f}")
        comparison, against_mean, run_ids = None, None, (new_run,)
        if against_path is not None:
            old_run = await run_plan(store, plan_run(request(against_path)), client)
            old_scores = _scores(store, old_run)
            shared = [example_id for example_id in new_scores if example_id in old_scores]
            comparison = paired_comparison([new_scores[e] for e in shared], [old_scores[e] for e in shared])
            against_mean = sum(old_scores.values()) / len(old_scores) if old_scores else float("nan")
            run_ids = (new_run, old_run)
            if comparison.separable and comparison.delta < -max_drop:
                allowed = f" (more than the allowed --max-drop {max_drop:.3f})" if max_drop else ""
                failures.append(f"significantly worse than {against_path.name}: {comparison.delta:+.3f} overall{allowed}")
        checks.append(SplitCheck(split, len(new_scores), planned, mean, against_mean, comparison, failures, run_ids))
    return GateResult(display_path(template_path), display_path(against_path) if against_path else None, model, checks)


def junit_xml(result: GateResult) -> str:
    """A JUnit XML report: one test case per split and check (floor, comparison, completeness)."""
    suite = ElementTree.Element("testsuite", name="workbench-gate")
    cases = 0
    failures = 0
    for check in result.checks:
        names = ["scored every example", "above the floor"]
        if check.comparison is not None:
            names.append(f"not worse than {result.against}")
        for name in names:
            case = ElementTree.SubElement(suite, "testcase", classname=f"gate.{check.split}", name=f"{result.template}: {name}")
            cases += 1
            matching = [f for f in check.failures if _belongs(f, name)]
            if matching:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", message=matching[0])
                failure.text = result.reason()
    ElementTree.SubElement(suite, "system-out").text = result.reason()
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


def _belongs(failure: str, case_name: str) -> bool:
    if case_name.startswith("scored"):
        return "calls failed" in failure
    if case_name.startswith("above"):
        return "below the floor" in failure
    return "significantly worse" in failure
