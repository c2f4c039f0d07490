"""A new task from a user's JSONL file and prompt: task spec, dataset copy, baseline template and a
starter search space, written together and validated together (or not at all).

``optimizer.tasks.init`` infers the task; this module adds the prompt side. The baseline is the
user's own prompt plus an answer-format block generated from the output fields; the starter space
varies the instruction (theirs, a direct one, a careful one), the format block (plain, strict) and,
when the train split allows it, few-shot demonstrations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from optimizer.config.paths import repo_root
from optimizer.config.yamlio import dump_yaml
from optimizer.errors import ConfigError, WorkbenchError
from optimizer.prompts.templates import PromptTemplate, load_template, preflight
from optimizer.tasks.dataset import load_dataset
from optimizer.tasks.init import TaskDraft, dataset_jsonl, infer_task, read_dataset_file, task_yaml
from optimizer.tasks.spec import load_task

DEFAULT_INSTRUCTION = "Read the input below and answer."
DIRECT = "Answer directly. Do not explain your answer."
CAREFUL = "Read the whole input before answering. When unsure, give the most likely answer."


@dataclass(frozen=True)
class CreatedTask:
    name: str
    files: list[Path]
    candidates: int
    summary: list[str]


def format_block(draft: TaskDraft) -> str:
    """The answer-format instruction generated from the output fields."""
    if draft.parser_style == "json":
        keys = ", ".join(f'"{proposal.name}"' for proposal in draft.outputs)
        return f"Answer with one JSON object with the keys {keys} and nothing else."
    lines = ["Answer in exactly this format:"]
    for proposal in draft.outputs:
        hint = f"one of {', '.join(proposal.choices)}" if proposal.choices else "a short answer"
        lines.append(f"{proposal.label}: <{hint}>")
    return "\n".join(lines)


def user_turn(draft: TaskDraft) -> str:
    if len(draft.inputs) == 1:
        return "{{ " + draft.inputs[0] + " }}"
    return "\n".join(f"{name.replace('_', ' ').capitalize()}: {{{{ {name} }}}}" for name in draft.inputs)


def answer_budget(draft: TaskDraft) -> int:
    """Tokens the answer may take: a few per label field ("Label: negative"), more for text or JSON."""
    if all(proposal.kind == "labels" for proposal in draft.outputs):
        return 8 + 8 * len(draft.outputs)
    return 128


def baseline_template(draft: TaskDraft, prompt: str | None) -> PromptTemplate:
    """The user's prompt as the baseline. A prompt with ``{{ input }}`` placeholders is the user turn
    (the format block becomes the system turn); plain text is the instruction in the system turn."""
    prompt = (prompt or "").strip()
    if "{{" in prompt:
        system, user = format_block(draft), prompt
    else:
        system, user = f"{prompt or DEFAULT_INSTRUCTION}\n\n{format_block(draft)}", user_turn(draft)
    template = PromptTemplate(id=f"{draft.name}_v1", task=draft.name, description="Baseline: the prompt given to init-task.",
                              system=system, user=user, model_defaults={"temperature": 0.0, "max_tokens": answer_budget(draft)},
                              inputs={"required": list(draft.inputs)})
    unknown = sorted(template.variables() - set(draft.inputs))
    if unknown:
        raise ConfigError(f"prompt: variable {unknown[0]!r} is not a field of the dataset (inputs: {', '.join(draft.inputs)})")
    return template


def starter_space(draft: TaskDraft, baseline: PromptTemplate, prompt: str | None) -> dict:
    instruction = (prompt or "").strip() if prompt and "{{" not in prompt else DEFAULT_INSTRUCTION
    block = format_block(draft)
    dimensions = [
        {"name": "instruction", "description": "How the task is put.",
         "variants": [{"name": "yours", "text": instruction}, {"name": "direct", "text": f"{instruction}\n{DIRECT}"},
                      {"name": "careful", "text": f"{instruction}\n{CAREFUL}"}]},
        {"name": "format", "description": "How strictly the answer format is stated.",
         "variants": [{"name": "plain", "text": block},
                      {"name": "strict", "text": f"{block}\nWrite nothing else: no explanation, no extra lines."}]},
    ]
    train = [record for record in draft.records if record["split"] == "train"]
    draw = {group: 1 for group, rule in draft.example_groups.items()
            if any(str(record["expected"].get(rule["field"].split(".", 1)[1])) == rule["equals"] for record in train)}
    if draft.example_groups and len(draw) == len(draft.example_groups) and len(draw) <= 4:
        dimensions.append({"name": "few_shot", "description": "Demonstrations from the train split, one per label.",
                           "variants": [{"name": "none", "text": ""}, {"name": "one_per_label", "text": "", "few_shot": draw}]})
    return {"task": draft.name, "description": "Starter search space written by workbench init-task.",
            "user": baseline.user, "model_defaults": dict(baseline.model_defaults),
            "inputs": baseline.inputs.model_dump(), "few_shot_seed": 0, "dimensions": dimensions}


def task_files(name: str, root: Path) -> dict[str, Path]:
    return {
        "dataset": root / "golden" / f"{name}.jsonl",
        "task": root / "prompt_templates" / "tasks" / f"{name}.yaml",
        "baseline": root / "prompt_templates" / f"{name}_v1.yaml",
        "space": root / "prompt_templates" / "search_spaces" / f"{name}.yaml",
    }


def validate_task(name: str) -> int:
    """Load the written task, its dataset, baseline and space; preflight every candidate on every
    example. Returns the number of candidates."""
    from optimizer.search.space import enumerate_candidates, load_search_space, search_space_path

    task = load_task(name)
    dataset = load_dataset(task.resolve(task.dataset), expected_key=task.expected_key)
    baseline = load_template(task.resolve(task.baseline_template))
    candidates = enumerate_candidates(load_search_space(search_space_path(task)), task, dataset)
    for template in [baseline, *(candidate.template for candidate in candidates)]:
        preflight(template, dataset.examples)
    return len(candidates)


def create_task(name: str, dataset_path: Path, *, prompt: str | None = None, output_keys: list[str] | None = None,
                overwrite: bool = False) -> CreatedTask:
    """Infer, write and validate a new task under the repository root (``WORKBENCH_ROOT``).
    Nothing is left behind when any step fails."""
    root = repo_root()
    draft = infer_task(name, read_dataset_file(dataset_path), str(dataset_path), output_keys=output_keys)
    files = task_files(name, root)
    existing = [path for path in files.values() if path.exists()]
    if existing and not overwrite:
        raise ConfigError(f"{existing[0]} already exists; choose another task name")
    baseline = baseline_template(draft, prompt)
    relative = {key: path.relative_to(root).as_posix() for key, path in files.items()}
    contents = {
        "dataset": dataset_jsonl(draft),
        "task": task_yaml(draft, dataset=relative["dataset"], baseline_template=relative["baseline"], search_space=relative["space"]),
        "baseline": baseline.to_yaml(),
        "space": dump_yaml(starter_space(draft, baseline, prompt)),
    }
    previous = {key: path.read_bytes() for key, path in files.items() if path.exists()}
    try:
        for key, path in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(contents[key], encoding="utf-8")
        candidates = validate_task(name)
    except (WorkbenchError, ValueError) as exc:
        for key, path in files.items():
            if key in previous:
                path.write_bytes(previous[key])
            else:
                path.unlink(missing_ok=True)
        raise ConfigError(f"new task {name}: the written files did not validate ({exc}); nothing was kept") from None
    return CreatedTask(name, list(files.values()), candidates, draft.summary())
