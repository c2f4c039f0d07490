"""``gepa``: reflective prompt evolution (the ``gepa`` library, arXiv 2507.19457) over the system text.

GEPA keeps a pool of prompts, picks one from the Pareto front of per-example validation scores,
runs it on a minibatch of training examples, shows a proposer model the answers with feedback
(per-field scores, expected vs got, parse errors) and asks for a better instruction; a proposal
that beats its parent on that minibatch is scored on every validation example.

Here the text GEPA evolves is the template's ``system`` (the output-format block is part of it, so a
proposal may rewrite both; few-shot turns, user template and sampling stay the baseline's). The
adapter's ``evaluate`` scores validation batches with the run's evaluator (stored, cached, on the
leaderboard as ``origin=gepa`` with the parent it came from) and training minibatches with the
task model through the response cache (not stored as evaluations, so train scores never mix into
the validation leaderboard). The proposer is ``--proposer-url/--proposer-model`` (default: the task
model), cached by its messages, so a resumed run replays the same proposals and the same choices
(GEPA is seeded; every score it sees comes back from the store). Every call counts against
``--max-calls``; a call that would pass it ends the search, and the candidates scored on every
validation example are ranked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from optimizer.errors import MalformedResponseError, RequestRejectedError
from optimizer.prompts.templates import PromptTemplate
from optimizer.search.proposing import (
    Bridge, BudgetExhausted, ProposerContext, Spend, answer_row, candidate, class_weights, context_of,
    derived_template, feedback, finish, safe_system,
)
from optimizer.search.space import Candidate
from optimizer.search.strategies import Evaluator, Scored, SearchProblem
from optimizer.tasks.dataset import Example

COMPONENT = "system"
MINIBATCH = 3
PROPOSER_PARAMS = {"temperature": 0.7, "max_tokens": 320}
"""A system prompt here is under 150 words; a small proposer that rambles stops at 320 tokens."""


class _Adapter:
    """GEPA's view of the workbench: evaluate a system text on examples, build feedback, propose."""

    def __init__(self, problem: SearchProblem, evaluate: Evaluator, context: ProposerContext, spend: Spend,
                 bridge: Bridge) -> None:
        assert problem.baseline is not None
        self.problem, self.score_into_run, self.context, self.spend, self.bridge = problem, evaluate, context, spend, bridge
        self.task = context.task
        self.baseline = problem.baseline
        self.validation_ids = {example.id for example in problem.examples}
        self.train_weights = class_weights(self.task, problem.train)
        self.made: dict[str, Candidate] = {}
        self.parents: dict[str, str] = {}
        """Proposed system text -> the id of the candidate it was written from."""

    def candidate_for(self, system: str) -> Candidate:
        if system.strip() == self.baseline.template.system.strip():
            return self.baseline
        template = derived_template(self.baseline.template, "gepa", system=system)
        found = self.made.get(template.content_hash())
        if found is None:
            found = candidate(template, "gepa", self.parents.get(system, self.baseline.id), proposal=str(len(self.made) + 1))
            self.made[found.id] = found
        return found

    # GEPAAdapter ---------------------------------------------------------------------------

    def evaluate(self, batch: list[Example], program: dict[str, str], capture_traces: bool = False) -> Any:
        from gepa import EvaluationBatch

        item = self.candidate_for(program[COMPONENT])
        validation = [example for example in batch if example.id in self.validation_ids]
        train = [example for example in batch if example.id not in self.validation_ids]
        rows: dict[str, dict[str, Any]] = {}
        if validation:
            self.spend.claim_pairs(item.id, validation)
            stored = self.bridge.call(self.evaluate_rows(item, validation))
            rows.update({row["example_id"]: row for row in stored})
        if train:
            self.spend.claim_answers(len(train))
            rows.update(self.bridge.call(self.answer_train(item.template, train)))
        ordered = [rows.get(example.id) or answer_row(self.task, example, None, "not scored", None) for example in batch]
        return EvaluationBatch(
            outputs=[row.get("raw_output") for row in ordered],
            scores=[float(row.get("overall") or 0.0) for row in ordered],
            trajectories=[{"example": example, "row": row} for example, row in zip(batch, ordered)] if capture_traces else None,
        )

    async def evaluate_rows(self, item: Candidate, examples: Sequence[Example]) -> list[dict[str, Any]]:
        return (await self.score_into_run([item], examples)).get(item.id, [])

    async def answer_train(self, template: PromptTemplate, examples: Sequence[Example]) -> dict[str, dict[str, Any]]:
        limit = asyncio.Semaphore(max(1, self.context.concurrency))

        async def one(example: Example) -> dict[str, Any]:
            async with limit:
                try:
                    text = await self.context.task_model.answer(template, example)
                except (RequestRejectedError, MalformedResponseError) as exc:
                    return answer_row(self.task, example, None, str(exc), None)
            return answer_row(self.task, example, text, None, self.train_weights)

        answered = await asyncio.gather(*(one(example) for example in examples))
        return {row["example_id"]: row for row in answered}

    def make_reflective_dataset(self, program: dict[str, str], eval_batch: Any,
                                components_to_update: list[str]) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        records = []
        for trace in eval_batch.trajectories or []:
            example, row = trace["example"], trace["row"]
            records.append({
                "Inputs": {name: str(example.inputs.get(name, "")) for name in self.task.inputs},
                "Generated Outputs": row.get("raw_output") or "(no answer)",
                "Feedback": feedback(self.task, example, row),
            })
        return {component: records for component in components_to_update}

    def propose_new_texts(self, program: dict[str, str], reflective_dataset: Mapping[str, Sequence[Mapping[str, Any]]],
                          components_to_update: list[str]) -> dict[str, str]:
        from gepa.strategies.instruction_proposal import InstructionProposalSignature

        parent = self.candidate_for(program[COMPONENT])
        proposed = dict(program)
        for component in components_to_update:
            prompt = InstructionProposalSignature.prompt_renderer({
                "current_instruction_doc": program[component],
                "dataset_with_feedback": list(reflective_dataset.get(component, [])),
            })
            messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
            self.spend.claim_proposal()
            try:
                reply = self.bridge.call(self.context.proposer.chat(messages, **PROPOSER_PARAMS))
            except (RequestRejectedError, MalformedResponseError):
                continue
            text = InstructionProposalSignature.output_extractor(reply)["new_instruction"]
            example = self.problem.train[0]
            system = safe_system(text, self.baseline.template, example)
            if system is not None and system != program[component]:
                self.parents.setdefault(system, parent.id)
                proposed[component] = system
        return proposed


class _BudgetStopper:
    """GEPA asks between iterations whether to stop: when too little budget is left for one iteration."""

    def __init__(self, spend: Spend, needed: int) -> None:
        self.spend, self.needed = spend, needed

    def __call__(self, state: Any) -> bool:
        return self.spend.exhausted or self.spend.left() < self.needed


class Gepa:
    """``gepa``: the system text evolved by reflection on training minibatches, chosen on validation."""

    name: ClassVar[str] = "gepa"
    proposes: ClassVar[bool] = True

    async def search(self, problem: SearchProblem, evaluate: Evaluator) -> list[Scored]:
        context = context_of(problem, self.name)
        assert problem.baseline is not None and problem.budget.max_calls is not None
        prepaid = {(problem.baseline.id, example.id) for example in problem.examples}
        spend = Spend(problem.budget.max_calls, prepaid)
        bridge = Bridge()
        adapter = _Adapter(problem, evaluate, context, spend, bridge)
        # One iteration: the parent and the child on a minibatch, one proposal (the child's full
        # validation run only if it is accepted); stop when even that no longer fits.
        stopper = _BudgetStopper(spend, 2 * MINIBATCH + 1)

        def optimize() -> None:
            import gepa

            try:
                gepa.optimize(
                    seed_candidate={COMPONENT: problem.baseline.template.system},
                    trainset=list(problem.train), valset=list(problem.examples), adapter=adapter,
                    candidate_selection_strategy="pareto", reflection_minibatch_size=MINIBATCH,
                    stop_callbacks=[stopper], seed=problem.seed, raise_on_exception=True,
                    logger=_QuietLogger(), display_progress_bar=False, track_best_outputs=False,
                )
            except BudgetExhausted:
                pass

        await bridge.run(optimize)
        return await finish(problem, evaluate, spend, list(adapter.made.values()), None)


class _QuietLogger:
    """GEPA logs every iteration to stdout; the run's progress is the workbench's own."""

    def log(self, *args: Any, **kwargs: Any) -> None:
        pass
