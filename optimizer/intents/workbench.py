"""How the intent task runs in the workbench: one chat call, with the span grammar built per command.

The engine calls ``span_constrained_chat`` instead of its plain chat call (``executor:`` in
``prompt_templates/tasks/intent_parsing.yaml``). A template whose ``model_defaults`` say
``grammar: "@input_spans"`` gets, for each example, the grammar the parser pipeline sends in
production (``grammar.span_grammar``); any other template is called exactly as the engine would.
So the search space can compare free, JSON-object, JSON-schema and span-constrained decoding.

Both tasks' executors also understand ``few_shot_retrieval: K`` in a template's ``model_defaults``
(the ``retrieved`` level of the ``few_shot`` dimension): the template's fixed examples are replaced
by the K train examples nearest to the command or query (``retrieval.py``; the example itself is
never its own demonstration). The engine keeps its cache key off the rendered messages, so the
retrieved level also adds a sentence to the system prompt: its candidates never share cached
replies with a fixed-shot candidate.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from optimizer.tasks.dataset import Example
from optimizer.evaluate.engine import completion_to_cache
from optimizer.serving.client import LLMClient
from optimizer.prompts.templates import PromptTemplate, render_messages
from optimizer.intents.grammar import span_grammar
from optimizer.intents.keywords import route_domain
from optimizer.intents.retrieval import ANSWER_KEY, task_retriever, with_retrieved_shots
from optimizer.intents.text import clean_input

SPAN_GRAMMAR = "@input_spans"
"""The ``grammar`` value in a template's ``model_defaults`` that means: each command's span grammar."""


def template_decoding(template: PromptTemplate) -> str:
    """The decoding a template asks for: ``spans``, ``schema`` (a ``response_format``) or ``free``."""
    if template.model_defaults.get("grammar") == SPAN_GRAMMAR:
        return "spans"
    return "schema" if template.model_defaults.get("response_format") else "free"


def _retrieved(task_name: str, template: PromptTemplate, example: Example, query: str) -> PromptTemplate:
    retriever = task_retriever(task_name, template.model_defaults.get(ANSWER_KEY))
    return with_retrieved_shots(template, retriever, query, exclude_id=example.id)


async def span_constrained_chat(client: LLMClient, template: PromptTemplate, example: Example, params: dict[str, Any]) -> dict[str, Any]:
    """The intent_parsing executor: the span grammar per command, and retrieved shots when asked;
    a pipeline candidate (``optimizer.intents.runs``) runs the whole parser instead."""
    from optimizer.intents.runs import is_pipeline, pipeline_payload  # the pipeline imports this module

    if is_pipeline(template):
        return await pipeline_payload(client, template, example)
    command = clean_input(str(example.inputs.get("input", "")))
    if params.get("grammar") == SPAN_GRAMMAR:
        params = {**params, "grammar": span_grammar(command, route_domain(command).domain).gbnf}
    template = _retrieved("intent_parsing", template, example, command)
    completion = await client.chat(render_messages(template, example.inputs), **params)
    return completion_to_cache(completion)


async def retrieved_shots_chat(client: LLMClient, template: PromptTemplate, example: Example, params: dict[str, Any]) -> dict[str, Any]:
    """The query_routing executor: the engine's plain call, with retrieved shots when asked; a
    pipeline candidate (``optimizer.intents.runs``) runs the whole router instead."""
    from optimizer.intents.runs import is_pipeline, pipeline_payload  # the router imports this module

    if is_pipeline(template):
        return await pipeline_payload(client, template, example)
    template = _retrieved("query_routing", template, example, clean_input(str(example.inputs.get("query", ""))))
    completion = await client.chat(render_messages(template, example.inputs), **params)
    return completion_to_cache(completion)


def train_pool_version(task: Any) -> str:
    """Both executors may retrieve shots from the task's train split, which the rendered messages
    (the cache key) do not show: its digest joins the key, so adding a train example never serves
    a reply that was made with the old pool (``engine.executor_cache_tag``)."""
    from optimizer.evaluate.runner import load_task_dataset

    train = [[example.id, example.inputs, example.expected] for example in load_task_dataset(task).train]
    digest = hashlib.sha256(json.dumps(train, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"2:train-{digest}"


span_constrained_chat.cache_version = train_pool_version  # type: ignore[attr-defined]
retrieved_shots_chat.cache_version = train_pool_version  # type: ignore[attr-defined]
