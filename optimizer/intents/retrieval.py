"""Retrieved few-shot: per query, the nearest train examples (BM25, rank_bm25) as demonstrations.

A fixed set of shots shows the model a dozen commands; the long tail of phrasings ("zone=... ip=...",
"new account: NAME / PASS") is served better by the train commands that share the query's words.
The pool is the task's train split only, so no validation, test or paraphrase item is ever shown.

A template asks for it with ``few_shot_retrieval: K`` in its ``model_defaults`` (the
``retrieved`` variant of the ``few_shot`` dimension in the intent_parsing and query_routing search
spaces); the parser pipeline, the router and the tasks' executors read it there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rank_bm25 import BM25Okapi

from optimizer.config.paths import repo_root
from optimizer.prompts.templates import FewShotExample, PromptTemplate, _compile
from optimizer.tasks.dataset import Example

RETRIEVAL_KEY = "few_shot_retrieval"
"""The ``model_defaults`` key that asks for K retrieved demonstrations (it is never sent to a server)."""
_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def tokens(text: str) -> list[str]:
    """Lower-cased words and digits; each punctuation mark (``=``, ``:``, ``/``, ``@``) is a token
    of its own, so ``zone=x`` and ``user add: x`` share their form with train commands."""
    return _TOKEN.findall(text.lower())


class ShotRetriever:
    """BM25 over the train examples' input text; ``demos`` returns the K nearest as few-shot turns."""

    def __init__(self, examples: Sequence[Example], input_key: str, answer: Callable[[Example], str]) -> None:
        self.examples = list(examples)
        self.input_key = input_key
        self.answer = answer
        self._index = BM25Okapi([tokens(str(example.inputs.get(input_key, ""))) for example in self.examples]) if self.examples else None

    def nearest(self, query: str, k: int, *, exclude_id: str | None = None) -> list[Example]:
        """The ``k`` train examples nearest to ``query``, nearest first (ties: file order)."""
        if self._index is None or k < 1:
            return []
        scores = self._index.get_scores(tokens(query))
        ranked = sorted(range(len(self.examples)), key=lambda index: (-scores[index], index))
        return [self.examples[index] for index in ranked if self.examples[index].id != exclude_id][:k]

    def demos(self, query: str, k: int, *, exclude_id: str | None = None) -> list[FewShotExample]:
        """Few-shot turns for ``query``: the nearest example is shown last, right before the query."""
        nearest = self.nearest(query, k, exclude_id=exclude_id)
        return [
            FewShotExample(id=example.id, inputs={self.input_key: example.inputs[self.input_key]}, output=self.answer(example))
            for example in reversed(nearest)
        ]


def retrieval_k(template: PromptTemplate) -> int:
    """How many retrieved demonstrations the template asks for (0: its fixed examples)."""
    value: Any = template.model_defaults.get(RETRIEVAL_KEY, 0)
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def with_retrieved_shots(template: PromptTemplate, retriever: ShotRetriever, query: str, *, exclude_id: str | None = None) -> PromptTemplate:
    """The template with its examples replaced by the query's retrieved ones (unchanged when it asks for none)."""
    k = retrieval_k(template)
    if k == 0:
        return template
    return template.model_copy(update={"examples": retriever.demos(query, k, exclude_id=exclude_id)})


ANSWER_KEY = "few_shot_answer"
"""Optional ``model_defaults`` key: a Jinja template of a demonstration's answer over its expected
fields (e.g. ``'{"route": "{{ route }}"}'``); without it the task's own answer form is shown."""


_RETRIEVERS: dict[tuple[str, str | None, str], tuple[tuple[int, int], Path, ShotRetriever]] = {}
MAX_RETRIEVERS = 16


def _file_stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def task_retriever(task_name: str, answer_template: str | None = None) -> ShotRetriever:
    """The retriever over a workbench task's train split, answers in the task's demo form (or
    ``answer_template`` rendered over the expected fields). Kept per task and repository while the
    dataset file stays as it is; an edited file (a new train example) gives a new retriever, as the
    response cache's key (``workbench.train_pool_version``) already expects."""
    key = (task_name, answer_template, str(repo_root()))
    held = _RETRIEVERS.get(key)
    if held is not None and held[1].exists() and _file_stamp(held[1]) == held[0]:
        return held[2]
    from optimizer.evaluate.runner import load_task_dataset
    from optimizer.tasks.spec import load_task

    task = load_task(task_name)
    dataset = load_task_dataset(task)
    stamp = _file_stamp(dataset.path)

    def answer(example: Example) -> str:
        if answer_template is None:
            return task.format_answer(example.expected)
        return _compile(answer_template).render(example.expected).strip()

    retriever = ShotRetriever(dataset.train, task.inputs[0], answer)
    if len(_RETRIEVERS) >= MAX_RETRIEVERS:
        _RETRIEVERS.clear()
    _RETRIEVERS[key] = (stamp, dataset.path, retriever)
    return retriever
