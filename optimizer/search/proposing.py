"""What the strategies that write prompts (``gepa``, ``dspy-bootstrap``, ``dspy-mipro``) share.

* ``ProposerContext``: what the runner hands such a strategy in ``SearchProblem.options``: the task,
  the task model for training examples (``TaskModel.answer``), the proposer model
  (``ChatModel.chat``), both cached in the run store and counted (``optimizer.evaluate.strategy_calls``).
* ``Spend``: one hard cap over everything the search asks for: new (candidate, validation example)
  pairs scored into the run, task-model answers on training examples and proposer calls. A call that
  would pass the cap raises ``BudgetExhausted`` before it is made.
* ``Bridge``: GEPA and DSPy are synchronous libraries; they run in a worker thread and each of their
  calls is a coroutine sent to the run's event loop (``asyncio.run_coroutine_threadsafe``), so the
  engine, the store and the HTTP client stay on one loop. A cancelled search stops the thread at its
  next call.
* ``feedback`` / ``answer_row``: the textual feedback a proposer reads: per-field scores, expected vs
  got, parse errors.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from optimizer.errors import ConfigError, RunPaused, ServerUnavailableError, TemplateError
from optimizer.prompts.templates import FewShotExample, PromptTemplate, _variables, render_messages
from optimizer.search.space import Candidate
from optimizer.search.strategies import Evaluator, Scored, SearchProblem, check_proposing_problem, rank
from optimizer.tasks.dataset import Example
from optimizer.tasks.spec import TaskSpec

T = TypeVar("T")


class BudgetExhausted(BaseException):
    """The next call would pass the search's ``--max-calls``; the search stops with what it has stored.

    A ``BaseException``, like ``KeyboardInterrupt``: GEPA and DSPy catch ``Exception`` around a
    proposal or an example and carry on, and a spent budget must end their whole search instead."""


class SearchStopped(BaseException):
    """The search was cancelled or paused on the loop side; the worker thread unwinds through the library."""


@dataclass
class ProposerContext:
    task: TaskSpec
    task_model: Any
    """``optimizer.evaluate.strategy_calls.TaskModel``: ``await answer(template, example) -> str``."""
    proposer: Any
    """``optimizer.evaluate.strategy_calls.ChatModel``: ``await chat(messages, **params) -> str``."""
    concurrency: int = 4
    proposer_name: str = "proposer"


def context_of(problem: SearchProblem, strategy: str) -> ProposerContext:
    context = problem.options.get("proposer_context")
    if not isinstance(context, ProposerContext):
        raise ConfigError(f"strategy {strategy} needs the runner's task and proposer models (run it with workbench optimize)")
    check_proposing_problem(problem, strategy)
    return context


class Spend:
    """Calls asked for by one search, against one cap (thread-safe: DSPy evaluates in threads)."""

    def __init__(self, max_calls: int, prepaid: set[tuple[str, str]] = frozenset()) -> None:  # type: ignore[assignment]
        self.max_calls = max_calls
        self.prepaid = set(prepaid)
        self.pairs: set[tuple[str, str]] = set()
        self.answers = 0
        self.proposals = 0
        self.exhausted = False
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return len(self.pairs) + self.answers + self.proposals

    def left(self) -> int:
        return self.max_calls - self.used

    def _claim(self, count: int) -> None:
        if self.used + count > self.max_calls:
            self.exhausted = True
            raise BudgetExhausted(f"budget of {self.max_calls} calls spent")

    def claim_pairs(self, candidate_id: str, examples: Sequence[Example]) -> None:
        with self._lock:
            new = {(candidate_id, example.id) for example in examples} - self.pairs - self.prepaid
            self._claim(len(new))
            self.pairs |= new

    def claim_answers(self, count: int) -> None:
        with self._lock:
            self._claim(count)
            self.answers += count

    def claim_proposal(self) -> None:
        with self._lock:
            self._claim(1)
            self.proposals += 1


class Bridge:
    """Runs a blocking library in a thread; its calls come back to the run's loop as coroutines."""

    POLL_S = 0.2

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stopped = threading.Event()
        self.fatal: BaseException | None = None
        """What stopped the search on the loop side (a paused run, a failed call): re-raised by ``run``."""

    def call(self, coroutine: Any) -> Any:
        """From the worker thread: run ``coroutine`` on the loop and wait for it (or for a stop)."""
        if self.stopped.is_set():
            coroutine.close()
            raise SearchStopped("search stopped")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        while True:
            try:
                return future.result(timeout=self.POLL_S)
            except concurrent.futures.TimeoutError:
                if self.stopped.is_set():
                    future.cancel()
                    raise SearchStopped("search stopped") from None
            except concurrent.futures.CancelledError:
                raise SearchStopped("search cancelled") from None
            except (RunPaused, ServerUnavailableError) as exc:
                # The libraries would catch it as one failed example and go on calling a paused run.
                self.fatal = self.fatal or exc
                self.stopped.set()
                raise SearchStopped(str(exc)) from exc

    async def run(self, function: Callable[[], T]) -> T:
        """From the loop: run ``function`` in a daemon thread; cancelling this stops the thread's next call."""
        done: asyncio.Future[Any] = self.loop.create_future()

        def deliver(setter: Callable[[Any], None], value: Any) -> None:
            if not done.done():
                setter(value)

        def target() -> None:
            try:
                result = function()
            except BaseException as exc:  # handed to the awaiting coroutine
                self._post(deliver, done.set_exception, exc)
            else:
                self._post(deliver, done.set_result, result)

        thread = threading.Thread(target=target, name="proposer-search", daemon=True)
        thread.start()
        try:
            return await done
        except SearchStopped:
            if self.fatal is not None:
                raise self.fatal from None
            raise
        finally:
            self.stopped.set()

    def _post(self, *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(*args)
        except RuntimeError:  # the loop is closed: nobody waits for the result any more
            pass


def safe_system(text: str, baseline: PromptTemplate, example: Example) -> str | None:
    """A proposed system text as a template that renders: proposals are model output, so Jinja syntax
    in them is shown literally (wrapped in ``{% raw %}``); ``None`` when nothing usable is left."""
    text = text.strip()
    if not text:
        return None
    if text == baseline.system.strip():
        return baseline.system  # the same prompt (rendering strips), so the same candidate
    allowed = _variables(baseline.system) | set(example.inputs) | set(baseline.inputs.optional)
    try:
        if _variables(text) <= allowed:
            render_messages(baseline.model_copy(update={"system": text, "examples": []}), example.inputs)
            return text
    except TemplateError:
        pass
    if "endraw" in text:
        return None
    return "{% raw %}" + text + "{% endraw %}"


def derived_template(baseline: PromptTemplate, origin: str, *, system: str | None = None,
                     demos: Sequence[FewShotExample] | None = None) -> PromptTemplate:
    """The baseline with a new system text and/or new few-shot demonstrations (a plain template)."""
    update: dict[str, Any] = {"factors": {}, "evaluation": None}
    if system is not None:
        update["system"] = system
    if demos is not None:
        update["examples"] = list(demos)
    draft = baseline.model_copy(update=update)
    suffix = draft.content_hash()[:8]
    stem = re.sub(r"[^a-z0-9_\-]", "-", baseline.id.lower())[:40]
    return draft.model_copy(update={"id": f"{stem}-{origin}-{suffix}",
                                    "description": f"written by the {origin} strategy from {baseline.id}"})


def candidate(template: PromptTemplate, origin: str, parent_id: str | None, **factors: str) -> Candidate:
    return Candidate(template, {"strategy": origin, **factors}, origin, parent_id)


def class_weights(task: TaskSpec, examples: Sequence[Example]) -> Any:
    return task.class_weights([example.expected for example in examples])


def answer_row(task: TaskSpec, example: Example, text: str | None, error: str | None, weights: Any) -> dict[str, Any]:
    """A training answer scored like an evaluation row (same keys the evaluator returns)."""
    if text is None:
        return {"example_id": example.id, "overall": 0.0, "field_scores": dict.fromkeys(task.outputs, 0.0), "parsed": {},
                "raw_output": None, "parse_error": None, "error": error}
    parsed = task.parse(text)
    field_scores, overall = task.score(example.expected, parsed.fields, class_weights=weights)
    return {"example_id": example.id, "overall": overall, "field_scores": field_scores, "parsed": parsed.fields,
            "raw_output": text, "parse_error": parsed.error, "error": error}


def feedback(task: TaskSpec, example: Example, row: Mapping[str, Any]) -> str:
    """What went right and wrong on one example, field by field, for a proposer to read."""
    if row.get("error"):
        return f"The call failed ({row['error']}); score 0."
    lines = [f"Score {row.get('overall', 0.0):.2f} of 1."]
    if row.get("parse_error"):
        lines.append(f"The answer could not be parsed: {row['parse_error']}.")
    parsed = row.get("parsed") or {}
    for name, field in task.outputs.items():
        if field.whole:
            continue
        expected, got = example.expected.get(name), parsed.get(name)
        score = (row.get("field_scores") or {}).get(name, 0.0)
        verdict = "correct" if score >= 0.999 else ("partly right" if score > 0 else "wrong")
        lines.append(f"{field.label}: expected {expected!r}, got {got!r} ({verdict}).")
    return "\n".join(lines)


async def finish(problem: SearchProblem, evaluate: Evaluator, spend: Spend, made: Sequence[Candidate],
                 best: Candidate | None) -> list[Scored]:
    """Score the search's pick on every validation example if the budget allows, then rank the
    candidates scored on every validation example (the baseline among them), best first."""
    if best is not None:
        try:
            spend.claim_pairs(best.id, problem.examples)
        except BudgetExhausted:
            pass
        else:
            await evaluate([best], problem.examples)
    scored = {(candidate_id, example_id) for candidate_id, example_id in spend.pairs | spend.prepaid}
    unique: dict[str, Candidate] = {}
    for item in ([problem.baseline] if problem.baseline is not None else []) + list(made):
        if all((item.id, example.id) in scored for example in problem.examples):
            unique.setdefault(item.id, item)
    complete = list(unique.values())
    # Every pair asked here is stored already: this reads scores back, it calls nothing.
    return rank(complete, await evaluate(complete, problem.examples)) if complete else []
