"""Micro parser and router: natural-language infrastructure commands to JSON intents, fast and exact.

The data flow, one module per step:

| step | module |
| --- | --- |
| intents (pydantic, one model per action) and their JSON schema | ``models.py`` |
| cleaning untrusted input, words, typo correction, entities | ``text.py`` |
| keyword router: dns / user / samba / mail / unknown | ``keywords.py`` |
| deterministic rule-based parse (fast path and fallback) | ``rules.py`` |
| constrained decoding: schema grammar with values as input spans | ``grammar.py`` |
| model reply -> validated, normalised intent | ``normalize.py`` |
| confidence from token log-probabilities or agreement with the rules | ``confidence.py`` |
| the pipeline: path taken, confidence, latency | ``pipeline.py`` |
| query router: rag / risk / llm | ``routing.py`` |
| golden-set evaluation: accuracy, confusion, misses, p50/p95, A/B | ``evaluation.py`` |
| ``workbench parse`` / ``eval-parser`` / ``eval-router`` | ``commands.py`` |
"""

from optimizer.intents.models import Action, IntentError, InvalidIntentError, validate_intent
from optimizer.intents.pipeline import IntentParser, ParserConfig, ParseResult
from optimizer.intents.routing import QueryRouter, RouteResult, RouterConfig

__all__ = [
    "Action", "IntentError", "InvalidIntentError", "IntentParser", "ParseResult", "ParserConfig", "QueryRouter",
    "RouteResult", "RouterConfig", "validate_intent",
]
