"""How the intent task runs in the workbench: one chat call, with the span grammar built per command.

The engine calls ``span_constrained_chat`` instead of its plain chat call (``executor:`` in
``prompt_templates/tasks/intent_parsing.yaml``). A template whose ``model_defaults`` say
``grammar: "@input_spans"`` gets, for each example, the grammar the parser pipeline sends in
production (``grammar.span_grammar``); any other template is called exactly as the engine would.
So the search space can compare free, JSON-object, JSON-schema and span-constrained decoding.
"""

from __future__ import annotations

from typing import Any

from ..dataset import Example
from ..engine import completion_to_cache
from ..llm_client import LLMClient
from ..templates import PromptTemplate, render_messages
from .grammar import span_grammar
from .keywords import route_domain
from .text import clean_input

SPAN_GRAMMAR = "@input_spans"
"""The ``grammar`` value in a template's ``model_defaults`` that means: each command's span grammar."""


def template_decoding(template: PromptTemplate) -> str:
    """The decoding a template asks for: ``spans``, ``schema`` (a ``response_format``) or ``free``."""
    if template.model_defaults.get("grammar") == SPAN_GRAMMAR:
        return "spans"
    return "schema" if template.model_defaults.get("response_format") else "free"


async def span_constrained_chat(client: LLMClient, template: PromptTemplate, example: Example, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("grammar") == SPAN_GRAMMAR:
        command = clean_input(str(example.inputs.get("input", "")))
        params = {**params, "grammar": span_grammar(command, route_domain(command).domain).gbnf}
    completion = await client.chat(render_messages(template, example.inputs), **params)
    return completion_to_cache(completion)
