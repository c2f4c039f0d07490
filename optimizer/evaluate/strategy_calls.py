"""The calls a proposing strategy makes besides scoring candidates into the run: cached and counted.

A strategy that writes prompts (``gepa``, ``dspy-*``) also asks the task model about training
examples (GEPA's reflection minibatches, DSPy's bootstrapping) and asks a proposer model for new
instructions. Those answers are not validation scores, so they do not belong in the run's
evaluations (the leaderboard would mix train and validation); they go through the store's
response cache instead, keyed exactly like the engine's (model identity, messages, sampling
parameters), so a resumed run replays the same answers and proposals without calling again, and a
training answer the engine already has costs nothing.

``TaskModel.answer`` renders a template for one example and calls the task model the way the engine
does (its executor when the task has one); ``ChatModel.chat`` sends messages as given (the
proposer). Both count every call asked for (cache hits included, so a replay spends its budget
exactly as the first attempt did), honour a cancel request on the run, and pause the run with a
resumable message when the server stays down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from optimizer.errors import RunPaused, ServerUnavailableError
from optimizer.evaluate.engine import cache_key, completion_to_cache, load_executor, sampling_params
from optimizer.evaluate.store import RunStore
from optimizer.prompts.templates import Message, PromptTemplate, render_messages
from optimizer.serving.endpoint import client_for
from optimizer.serving.client import LLMClient
from optimizer.tasks.dataset import Example
from optimizer.tasks.spec import TaskSpec


class ChatModel:
    """Messages in, answer text out, through the run store's response cache; ``asked`` counts calls."""

    def __init__(self, store: RunStore, run_id: str, client: LLMClient, identity: str, *, seed: int,
                 overrides: dict[str, Any] | None = None) -> None:
        self.store, self.run_id, self.client, self.identity = store, run_id, client, identity
        self.seed = seed
        self.overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
        """The run's settings (e.g. ``--proposer-max-tokens``): they win over what the strategy asks."""
        self.asked = 0
        self.fresh = 0

    def _check_cancel(self) -> None:
        if self.store.cancel_requested(self.run_id):
            message = f"run {self.run_id} cancelled. Resume with: workbench optimize --resume {self.run_id}"
            self.store.update_run(self.run_id, status="cancelled", message=message, pid=None)
            raise RunPaused(message, self.run_id)

    async def _cached(self, messages: Sequence[Message], params: dict[str, Any], call: Any) -> str:
        self.asked += 1
        key = cache_key(self.identity, messages, params)
        hit = self.store.cache_get(key)
        if hit is not None:
            return str(hit.get("content") or "")
        self._check_cancel()
        try:
            payload = await call()
        except ServerUnavailableError as exc:
            message = f"run {self.run_id} paused ({exc}). Resume with: workbench optimize --resume {self.run_id}"
            self.store.update_run(self.run_id, status="paused", message=message, pid=None)
            raise RunPaused(message, self.run_id) from None
        self.fresh += 1
        self.store.cache_put_many([(key, self.identity, payload)])
        return str(payload.get("content") or "")

    async def chat(self, messages: Sequence[Message], **params: Any) -> str:
        """One chat completion with ``params`` under the run's overrides; the seed is always set (replayable)."""
        merged = {**{key: value for key, value in params.items() if value is not None}, **self.overrides}
        merged.setdefault("seed", self.seed)

        async def call() -> dict[str, Any]:
            return completion_to_cache(await self.client.chat(list(messages), **merged))

        return await self._cached(messages, merged, call)


class TaskModel(ChatModel):
    """The task model answering one example with one template, exactly as the engine would ask it."""

    def __init__(self, store: RunStore, run_id: str, client: LLMClient, identity: str, task: TaskSpec, *, seed: int,
                 overrides: dict[str, Any]) -> None:
        super().__init__(store, run_id, client, identity, seed=seed)
        self.task, self.sampling_overrides = task, overrides
        self.executor = load_executor(task.executor) if task.executor else None

    async def answer(self, template: PromptTemplate, example: Example) -> str:
        messages = render_messages(template, example.inputs)
        params = sampling_params(template, self.sampling_overrides, self.seed)

        async def call() -> dict[str, Any]:
            if self.executor is not None:
                return await self.executor(self.client, template, example, params)
            return completion_to_cache(await self.client.chat(messages, **params))

        return await self._cached(messages, params, call)


async def proposer_context(store: RunStore, run_id: str, task: TaskSpec, client: LLMClient, identity: str, *,
                           seed: int, overrides: dict[str, Any], concurrency: int, proposer_url: str | None,
                           proposer_model: str | None, proposer_max_tokens: int | None = None) -> tuple[Any, LLMClient | None]:
    """What a proposing strategy gets (``optimizer.search.proposing.ProposerContext``) and the
    proposer's own client when it has one (the caller closes it). The proposer defaults to the task
    model's server; ``proposer_url``/``proposer_model`` pair a small task model with a bigger one."""
    from optimizer.search.proposing import ProposerContext
    from optimizer.serving.endpoint import model_identity

    own_client = None
    proposer_client, proposer_identity = client, identity
    if proposer_url or proposer_model:
        base_url = proposer_url or getattr(client, "base_url", None)
        if not base_url:
            raise ServerUnavailableError("--proposer-model needs --proposer-url when the run uses several endpoints")
        own_client = client_for(base_url, model=proposer_model)
        proposer_client = own_client
        proposer_identity = model_identity(await own_client.server_info())
    context = ProposerContext(
        task=task,
        task_model=TaskModel(store, run_id, client, identity, task, seed=seed, overrides=overrides),
        proposer=ChatModel(store, run_id, proposer_client, proposer_identity, seed=seed,
                           overrides={"max_tokens": proposer_max_tokens}),
        concurrency=concurrency,
        proposer_name=proposer_model or getattr(proposer_client, "model", None) or proposer_identity.split("@")[0] or "proposer",
    )
    return context, own_client
