"""The query router: send a request to company documents (``rag``), the risk engine (``risk``) or
a general writing model (``llm``), with the same shape as the intent parser.

Rules first (golden/README_intents.md's precedence: a request for a *new* computation is ``risk``;
an answer that needs company-specific facts is ``rag``; the rest, including writing whose content
is given in the query, is ``llm``), then the model when the rules are unsure, its choice
constrained to the three routes and scored from token log-probabilities. As in the parser, when
the model and the rules disagree the surer side wins and ties go to the rules.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from ..errors import ServerError
from ..llm_client import LLMClient
from ..paths import repo_root
from ..templates import PromptTemplate, load_template, render
from .confidence import logprob_confidence
from .models import IntentError
from .text import MAX_INPUT_CHARS, clean_input

ROUTES = ("rag", "risk", "llm")
ROUTE_GRAMMAR = 'root ::= "{\\"route\\":\\"" ("rag" | "risk" | "llm") "\\"}"\n'
ROUTE_SCHEMA = {
    "type": "object",
    "properties": {"route": {"enum": list(ROUTES)}},
    "required": ["route"],
    "additionalProperties": False,
}
DEFAULT_ROUTER_TEMPLATE = "prompt_templates/query_routing_v1.yaml"
_I = re.IGNORECASE

_COMPUTE = re.compile(
    r"\b(?:run|simulate|compute|calculate|estimate|generate|perform|backtest|shock|quantify|use\s+monte\s+carlo)\b"
    r"|^(?:model|stress(?:[- ]test)?|project|forecast)\b",
    _I,
)
_RISK_TERM = re.compile(
    r"\b(?:monte\s+carlo|simulat\w*|scenarios?|stress(?:[- ]tests?)?|what-if|sensitivity|var|value\s+at\s+risk|"
    r"expected\s+shortfall|tail\s+loss|backtest|shock|probability|distribution|copula|paths|drawdown|worst-case)\b",
    _I,
)
_RISK_FIGURE = re.compile(r"\d+(?:\.\d+)?%.*\b(?:var|expected\s+shortfall|tail\s+loss)\b", _I)
_CONTENT_GIVEN = re.compile(
    r"\b(?:this|these|the\s+following)\s+(?:[\w-]+\s+){0,3}?(?:text|paragraph|sentence|tweet|bullet\s+points?|notes?|"
    r"email|message|results?|draft|points?|list|figures|numbers)\b[^:'\"]*[:'\"]",
    _I,
)
_DOC_NOUNS = (
    r"polic(?:y|ies)|handbook|reports?|dashboards?|kpis?|deck|audit|runbook|survey|statement|documentation|wiki|"
    r"guidelines|procedure|code\s+of\s+conduct|minutes|results|findings|assumptions|plan|contract|sla"
)
_DOC_REFERENCE = re.compile(
    rf"\b(?:our|the|latest|internal|company(?:'s)?|last\s+year's|this\s+year's|\d{{4}})\b(?:\s+[\w&/'-]+){{0,4}}?\s+(?:{_DOC_NOUNS})\b",
    _I,
)
_PERIOD = re.compile(
    r"\b(?:Q[1-4]|H[12]|FY\d{2,4}|(?:last|this|previous)\s+(?:quarter|month|year)|january|february|march|april|may|"
    r"june|july|august|september|october|november|december)\b",
    _I,
)
_LOOKUP = re.compile(
    r"^(?:what|who|which|when|where|how\s+many|how\s+much|how\s+does|list|give\s+me\s+the|pull|show|compare|summari[sz]e|"
    r"according\s+to|explain\s+the)\b",
    _I,
)
_OURS = re.compile(r"\b(?:our|we|us|company)\b", _I)
_WRITING = re.compile(
    r"^(?:write|draft|compose|translate|rewrite|proofread|summari[sz]e\s+this|suggest|create|give\s+me|turn|make\s+this|"
    r"explain|how\s+do\s+i|what's\s+the\s+difference|what\s+is\s+the\s+difference|brainstorm|edit|polish)\b",
    _I,
)


@dataclass(frozen=True)
class RouteRules:
    route: str
    confidence: float
    reason: str


def route_with_rules(query: str) -> RouteRules:
    """Route a cleaned query by the labelling rules' precedence: risk, then rag, then llm."""
    if not query:
        return RouteRules("llm", 0.5, "empty query")
    if (_COMPUTE.search(query) and _RISK_TERM.search(query)) or _RISK_FIGURE.search(query):
        return RouteRules("risk", 0.95, "asks for a new risk computation")
    if _CONTENT_GIVEN.search(query):
        return RouteRules("llm", 0.9, "the content to work on is in the query")
    if _DOC_REFERENCE.search(query):
        return RouteRules("rag", 0.9, "refers to a company document or result")
    if _LOOKUP.search(query) and (_PERIOD.search(query) or _OURS.search(query)):
        return RouteRules("rag", 0.85, "asks for a company fact")
    if _WRITING.search(query):
        return RouteRules("llm", 0.9, "general writing or explanation")
    return RouteRules("llm", 0.6, "no rule matched")


class RouteResult(BaseModel):
    """One routing decision, the path that made it, its confidence and latency."""

    input: str
    route: str
    path: Literal["rules", "model"]
    confidence: float
    latency_s: float
    reason: str
    rules_route: str
    model_route: str | None = None
    model_confidence: float | None = None
    model_error: str | None = None


@dataclass(frozen=True)
class RouterConfig:
    mode: str = "auto"
    constrained: bool = True
    model_threshold: float = 0.5
    rules_threshold: float = 0.85
    template_path: str = DEFAULT_ROUTER_TEMPLATE

    def __post_init__(self) -> None:
        if self.mode not in ("auto", "model_first", "model_only", "rules_only"):
            raise IntentError(f"router mode {self.mode!r} is not one of auto, model_first, model_only, rules_only")


class QueryRouter:
    """Routes queries; give it no client to use the rules alone."""

    def __init__(self, client: LLMClient | None = None, config: RouterConfig | None = None, *, model: str | None = None) -> None:
        self.client = client
        self.config = config or RouterConfig()
        self.model = model
        path = Path(self.config.template_path)
        self.template: PromptTemplate = load_template(path if path.is_absolute() else repo_root() / path)

    async def route(self, raw: str | bytes) -> RouteResult:
        started = time.perf_counter()
        query = clean_input(raw)[:MAX_INPUT_CHARS]
        rules = route_with_rules(query)
        mode = self.config.mode if self.client is not None else "rules_only"
        if not query or mode == "rules_only" or (mode == "auto" and rules.confidence >= self.config.rules_threshold):
            return _route_result(query, rules.route, "rules", rules.confidence, f"rules: {rules.reason}", started, rules)
        model_route, confidence, error = await self._ask_model(query)
        if mode == "model_only":
            return _route_result(query, model_route or "llm", "model", confidence or 0.0, error or "model answer", started, rules,
                                 model_route, confidence, error)
        sure_enough = confidence is not None and confidence >= self.config.model_threshold
        if model_route is not None and sure_enough and (model_route == rules.route or confidence > rules.confidence):
            return _route_result(query, model_route, "model", confidence, "model answer", started, rules, model_route, confidence)
        why = error or (f"model confidence {confidence:.2f} below {self.config.model_threshold:.2f}" if not sure_enough
                        else f"model confidence {confidence:.2f} not above the rules' {rules.confidence:.2f}")
        return _route_result(query, rules.route, "rules", rules.confidence, f"rules: {rules.reason} (model not used: {why})",
                             started, rules, model_route, confidence, error)

    async def _ask_model(self, query: str) -> tuple[str | None, float | None, str | None]:
        assert self.client is not None
        params: dict[str, Any] = {k: v for k, v in self.template.model_defaults.items() if k in ("temperature", "max_tokens", "seed")}
        params.update(logprobs=True, top_logprobs=5)
        if self.config.constrained:
            params["grammar"] = ROUTE_GRAMMAR
        if self.model:
            params["model"] = self.model
        try:
            completion = await self.client.chat(render(self.template, query=query), **params)
        except ServerError as exc:
            return None, None, str(exc)
        match = re.search(r'"route"\s*:\s*"(rag|risk|llm)"', completion.content) or re.search(r"\b(rag|risk|llm)\b", completion.content, _I)
        if match is None:
            return None, None, f"no route in the reply: {completion.content[:80]!r}"
        route = match.group(1).lower()
        confidence = logprob_confidence(completion.content, {"route": route}, {"route": list(ROUTES)}, completion.raw)
        return route, round(confidence if confidence is not None else 0.5, 4), None


def _route_result(
    query: str, route: str, path: Any, confidence: float, reason: str, started: float, rules: RouteRules,
    model_route: str | None = None, model_confidence: float | None = None, model_error: str | None = None,
) -> RouteResult:
    return RouteResult(
        input=query, route=route, path=path, confidence=round(confidence, 4), latency_s=round(time.perf_counter() - started, 6),
        reason=reason, rules_route=rules.route, model_route=model_route, model_confidence=model_confidence, model_error=model_error,
    )

