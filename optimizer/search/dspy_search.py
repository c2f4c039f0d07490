"""``dspy-bootstrap`` and ``dspy-mipro``: DSPy's optimizers writing the instructions and the demos.

The task becomes a DSPy Signature: its inputs (``TaskSpec.inputs``) in, one ``answer`` out, and the
baseline's system text as the instructions. The metric is the task's own per-field scoring
(``TaskSpec.score`` of the parsed answer, class-balanced over the split it scores; for
bootstrapping a demo, an unbalanced overall of at least ``DEMO_THRESHOLD``).

How DSPy talks to llama-server, and why this way:

* **The task program's adapter is the workbench template** (``_TemplateAdapter``), neither
  ChatAdapter nor JSONAdapter. ChatAdapter wraps every field in ``[[ ## name ## ]]`` markers and
  JSONAdapter asks for ``response_format`` (structured outputs): either way DSPy would optimize a
  prompt in a format the workbench never sends, and its exported instructions and demos would be
  scored in a different format than the one they were chosen in. ``_TemplateAdapter`` renders
  exactly what the exported template renders (instructions -> ``system``, demos -> few-shot turns,
  the baseline's ``user``), asks the task model exactly like the engine (same cache key: a pair DSPy
  scored costs nothing when the engine scores it again) and scores validation examples through the
  run's evaluator, so every program DSPy tries lands on the leaderboard (``origin=dspy-...``,
  parent: the baseline) with its rendered prompt, and the winner is a plain template that
  ``load_prompt`` reads with no DSPy installed.
* **The proposer side** (MIPROv2's instruction proposals and data summaries) uses DSPy's own
  signatures with ``ChatAdapter(use_json_adapter_fallback=False)``: plain chat text that
  llama-server answers like any other request. The JSON fallback is off because it sends
  ``response_format``. Measured on the embedded llama-server (b0.3.36, SmolLM2-135M): it accepts
  both ``json_object`` and ``json_schema`` and turns them into a grammar, but with ``json_object``
  alone the small model answered ``{}``, which JSONAdapter cannot parse either; some other
  OpenAI-compatible servers refuse ``response_format`` outright. So a small model's unparseable
  proposal fails that one proposal instead of switching protocols. Its LM is ``dspy.LM("openai/<proposer model>",
  engine=_WorkbenchEngine)``: the engine sends each request through the workbench's client and the
  run store's response cache (keyed by the messages), so nothing goes through LiteLLM's network
  path and a resumed run replays the same proposals.
* No network at run time and no cache outside the workbench: ``LITELLM_LOCAL_MODEL_COST_MAP`` and
  ``DSPY_CACHEDIR`` (under the workbench cache dir) are set before DSPy is first imported, and DSPy's
  own response cache is off (the run store is the cache).

Every call (validation pairs, training answers, proposals) counts against ``--max-calls``; the call
that would pass it stops the optimizer (``BudgetExhausted``), and what was scored on every
validation example so far is ranked. Honest limits: DSPy's bootstrapping order and MIPROv2's
trials are seeded, but its thread pool makes the *order* of calls vary, so when the budget runs out
mid-batch a resumed run may stop on a slightly different call; nothing stored is ever called twice.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, ClassVar

from optimizer.config.paths import cache_dir
from optimizer.errors import MalformedResponseError, RequestRejectedError
from optimizer.prompts.templates import FewShotExample
from optimizer.search.proposing import (
    Bridge, BudgetExhausted, ProposerContext, Spend, candidate, class_weights, context_of, derived_template, finish,
    safe_system,
)
from optimizer.search.space import Candidate
from optimizer.search.strategies import Evaluator, Scored, SearchProblem
from optimizer.tasks.dataset import Example

DEMO_THRESHOLD = 0.8
"""Unweighted overall a bootstrapped answer needs to become a demonstration."""
MAX_DEMOS = 4
PROPOSER_PARAMS = {"temperature": 0.7, "max_tokens": 320}
"""A system prompt here is under 150 words; a small proposer that rambles stops at 320 tokens."""


def import_dspy() -> Any:
    """DSPy, imported with LiteLLM's offline cost map and DSPy's cache under the workbench cache dir."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("DSPY_CACHEDIR", str(cache_dir() / "dspy"))
    import dspy

    dspy.configure_cache(enable_disk_cache=False, enable_memory_cache=False)
    for name in ("dspy", "LiteLLM", "litellm"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return dspy


def _inputs_key(names: Sequence[str], inputs: Any) -> str:
    return json.dumps({name: str(inputs.get(name, "")) for name in names}, sort_keys=True, ensure_ascii=False)


class _Search:
    """One DSPy search: the examples by their inputs, the candidates made, the calls spent."""

    def __init__(self, problem: SearchProblem, evaluate: Evaluator, context: ProposerContext, spend: Spend,
                 bridge: Bridge, origin: str) -> None:
        assert problem.baseline is not None
        self.problem, self.score_into_run, self.context, self.spend, self.bridge = problem, evaluate, context, spend, bridge
        self.task, self.origin, self.baseline = context.task, origin, problem.baseline
        self.validation_ids = {example.id for example in problem.examples}
        self.by_key = {_inputs_key(self.task.inputs, example.inputs): example for example in [*problem.train, *problem.examples]}
        self.by_id = {example.id: example for example in [*problem.train, *problem.examples]}
        self.weights = {"validation": class_weights(self.task, problem.examples), "train": class_weights(self.task, problem.train)}
        self.made: dict[str, Candidate] = {}
        self._made_lock = threading.Lock()  # DSPy evaluates programs in threads
        self._answers: dict[tuple[str, str, str], concurrent.futures.Future[str]] = {}

    def example_for(self, inputs: Any) -> Example:
        found = self.by_key.get(_inputs_key(self.task.inputs, inputs))
        if found is None:
            return Example("adhoc", "train", {name: inputs[name] for name in self.task.inputs if name in inputs}, {}, 0)
        return found

    def candidate_for(self, instructions: str, demos: Sequence[Any]) -> Candidate:
        system = safe_system(instructions, self.baseline.template, self.problem.train[0]) or self.baseline.template.system
        shots = []
        for demo in demos[:MAX_DEMOS * 2]:
            source = self.example_for(demo)
            inputs = source.inputs if source.id != "adhoc" else {name: demo.get(name) for name in self.task.inputs}
            shots.append(FewShotExample(id=source.id if source.id != "adhoc" else None, inputs=dict(inputs),
                                        output=str(demo.get("answer") or "")))
        template = derived_template(self.baseline.template, self.origin, system=system, demos=shots)
        if template.content_hash() == self.baseline.id:
            return self.baseline
        with self._made_lock:
            found = self.made.get(template.content_hash())
            if found is None:
                found = candidate(template, self.origin, self.baseline.id, demos=str(len(shots)), number=str(len(self.made) + 1))
                self.made[found.id] = found
        return found

    def answer(self, instructions: str, demos: Sequence[Any], inputs: Any) -> str:
        """From a DSPy thread: the task model's answer for these inputs with this program.

        Asked once per (program, example): DSPy's thread pool resubmits an example that has run
        for 120 s (a "straggler", common on a loaded CPU server), and the second ask waits for the
        first answer instead of calling, and spending, again."""
        item = self.candidate_for(instructions, demos)
        example = self.example_for(inputs)
        key = ("validation" if example.id in self.validation_ids else "train", item.id, example.id)
        with self._made_lock:
            pending = self._answers.get(key)
            if pending is None:
                self._answers[key] = mine = concurrent.futures.Future()
        if pending is not None:
            return pending.result()
        try:
            text = self._ask(item, example)
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        mine.set_result(text)
        return text

    def _ask(self, item: Candidate, example: Example) -> str:
        if example.id in self.validation_ids:
            self.spend.claim_pairs(item.id, [example])
            rows = self.bridge.call(self.score_into_run([item], [example])).get(item.id, [])
            return str(rows[0].get("raw_output") or "") if rows else ""
        self.spend.claim_answers(1)
        try:
            return self.bridge.call(self.context.task_model.answer(item.template, example))
        except (RequestRejectedError, MalformedResponseError):
            return ""

    def metric(self, gold: Any, prediction: Any, trace: Any = None) -> float | bool:
        example = self.by_id.get(gold.get("wb_id"))
        if example is None:
            return 0.0
        parsed = self.task.parse(str(prediction.get("answer") or ""))
        if trace is not None:  # bootstrapping: is this answer good enough to show as a demo?
            return self.task.score(example.expected, parsed.fields)[1] >= DEMO_THRESHOLD
        split = "validation" if example.id in self.validation_ids else "train"
        return self.task.score(example.expected, parsed.fields, class_weights=self.weights[split])[1]

    def propose(self, messages: list[dict[str, str]], params: dict[str, Any]) -> str:
        self.spend.claim_proposal()
        return self.bridge.call(self.context.proposer.chat(messages, **{**PROPOSER_PARAMS, **params}))

    def dspy_examples(self, dspy: Any, examples: Sequence[Example]) -> list[Any]:
        return [
            dspy.Example(wb_id=example.id, answer=self.task.format_answer(example.expected),
                         **{name: example.inputs.get(name, "") for name in self.task.inputs}).with_inputs(*self.task.inputs)
            for example in examples
        ]


def _engine_class(dspy: Any) -> Any:
    from dspy.lm15 import Message, Response, TextPart, Usage

    class _WorkbenchEngine:
        """A DSPy engine (``complete(Request) -> Response``) that asks the proposer through the workbench."""

        def __init__(self, search: _Search) -> None:
            self.search = search

        def complete(self, request: Any) -> Any:
            messages = []
            if request.system is not None:
                system = request.system if isinstance(request.system, str) else "".join(part.text for part in request.system)
                messages.append({"role": "system", "content": system})
            messages.extend({"role": message.role, "content": message.text or ""} for message in request.messages)
            config = request.config
            params = {"temperature": config.temperature, "max_tokens": config.max_tokens}
            text = self.search.propose(messages, {key: value for key, value in params.items() if value is not None})
            text = _as_chat_adapter_reply(text, messages[-1]["content"] if messages else "")
            return Response(id=None, model=str(request.model), message=Message.assistant([TextPart(text)]),
                            finish_reason="stop", usage=Usage(input_tokens=0, output_tokens=0, total_tokens=0))

        def close(self) -> None:
            pass

    return _WorkbenchEngine


_FIELD_MARKER = re.compile(r"\[\[ ## (\w+) ## \]\]")


def _as_chat_adapter_reply(reply: str, request: str) -> str:
    """A proposer reply without ChatAdapter's field markers, taken as the value of the field(s) asked.

    A small proposer rarely writes ``[[ ## proposed_instruction ## ]]`` back, and MIPROv2 does not
    catch the parse error (one unformatted reply would end the whole search), so plain text is
    wrapped as the requested output field; a reply that has the markers is left as it is."""
    asked = [name for name in dict.fromkeys(_FIELD_MARKER.findall(request.rpartition("Respond with")[2])) if name != "completed"]
    if not asked or _FIELD_MARKER.search(reply):
        return reply
    return "".join(f"[[ ## {name} ## ]]\n{reply.strip()}\n\n" for name in asked) + "[[ ## completed ## ]]"


def _program(dspy: Any, search: _Search) -> Any:
    task = search.task
    fields = {name: (str, dspy.InputField()) for name in task.inputs}
    fields["answer"] = (str, dspy.OutputField(desc="the answer, in the format the instructions ask for"))
    signature = dspy.make_signature(fields, search.baseline.template.system)

    class _TemplateAdapter(dspy.Adapter):
        """Formats with the workbench template and asks through the workbench (see the module docstring)."""

        def __call__(self, lm: Any, lm_kwargs: Any, signature: Any, demos: Any, inputs: Any) -> list[dict[str, Any]]:
            return [{"answer": search.answer(signature.instructions, list(demos), inputs)}]

        def format(self, signature: Any, demos: Any, inputs: Any) -> list[dict[str, Any]]:
            from optimizer.prompts.templates import render_messages

            item = search.candidate_for(signature.instructions, list(demos))
            return render_messages(item.template, search.example_for(inputs).inputs)

        def parse(self, signature: Any, completion: str) -> dict[str, Any]:
            return {"answer": completion}

    adapter = _TemplateAdapter()

    class TaskProgram(dspy.Module):
        def __init__(self) -> None:
            super().__init__()
            self.predict = dspy.Predict(signature)

        def forward(self, **inputs: Any) -> Any:
            with dspy.context(adapter=adapter):
                return self.predict(**inputs)

    return TaskProgram()


def _program_prompt(program: Any) -> tuple[str, list[Any]]:
    predictor = program.predict
    return predictor.signature.instructions, list(predictor.demos)


class DspyStrategy:
    """A DSPy optimizer compiled against the workbench (``dspy-bootstrap`` or ``dspy-mipro``)."""

    proposes: ClassVar[bool] = True

    def __init__(self, name: str) -> None:
        self.name = name

    def optimizer(self, dspy: Any, search: _Search, proposer_lm: Any, threads: int) -> Any:
        problem = search.problem
        if self.name == "dspy-mipro":
            return dspy.MIPROv2(metric=search.metric, prompt_model=proposer_lm, task_model=proposer_lm, auto="light",
                                max_bootstrapped_demos=MAX_DEMOS, max_labeled_demos=MAX_DEMOS, num_threads=threads,
                                seed=problem.seed, metric_threshold=None, verbose=False, track_stats=False)
        per_program = len(problem.examples) + 2 * MAX_DEMOS
        programs = max(1, min(16, (problem.budget.max_calls or 0) // max(per_program, 1) - 3))
        return dspy.BootstrapFewShotWithRandomSearch(
            metric=search.metric, max_bootstrapped_demos=MAX_DEMOS, max_labeled_demos=MAX_DEMOS,
            num_candidate_programs=programs, num_threads=threads,
        )

    async def search(self, problem: SearchProblem, evaluate: Evaluator) -> list[Scored]:
        context = context_of(problem, self.name)
        assert problem.baseline is not None and problem.budget.max_calls is not None
        dspy = import_dspy()
        spend = Spend(problem.budget.max_calls, {(problem.baseline.id, example.id) for example in problem.examples})
        bridge = Bridge()
        search = _Search(problem, evaluate, context, spend, bridge, self.name)
        proposer_lm = dspy.LM(f"openai/{context.proposer_name}", engine=_engine_class(dspy)(search), cache=False,
                              num_retries=0, **PROPOSER_PARAMS)
        threads = max(1, context.concurrency)
        chosen: list[Candidate] = []

        def compile_() -> None:
            student = _program(dspy, search)
            trainset, valset = search.dspy_examples(dspy, problem.train), search.dspy_examples(dspy, problem.examples)
            optimizer = self.optimizer(dspy, search, proposer_lm, threads)
            with dspy.context(lm=proposer_lm, adapter=dspy.ChatAdapter(use_json_adapter_fallback=False)):
                try:
                    if self.name == "dspy-mipro":
                        compiled = optimizer.compile(student, trainset=trainset, valset=valset, seed=problem.seed,
                                                     program_aware_proposer=False)
                    else:
                        compiled = optimizer.compile(student, trainset=trainset, valset=valset)
                except BudgetExhausted:
                    return
            chosen.append(search.candidate_for(*_program_prompt(compiled)))

        await bridge.run(compile_)
        return await finish(problem, evaluate, spend, list(search.made.values()), chosen[0] if chosen else None)
