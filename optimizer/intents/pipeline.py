"""The parser pipeline: command text -> one intent, the path that produced it, confidence, latency.

keyword router -> micro model (few-shot prompt, decoding constrained to the intent schema with
values restricted to spans of the command) -> validation -> normalisation -> confidence (token
log-probabilities, else agreement with the rules) -> the rule-based parse as fallback when the
model's answer is invalid, unsure (below ``model_threshold``), an abstention (``unknown``) where
the rules found a command, or less sure than the rules where the two disagree. Queries the router cannot place go to the general model
(another server or model; by default the same one) or come back ``unknown``.

Modes (``ParserConfig.mode``):

- ``auto`` (default): when the rules are certain (a complete pattern, or a definite ``unknown``
  such as a question) their answer is returned at once; only the rest reaches a model. On a
  2-core CPU a constrained model call costs about half a second, so this is what keeps p50 low.
- ``model_first``: every placed query goes to the model; the rules are only the fallback.
- ``model_only``: the model's validated answer or ``unknown``, no rules (to measure the model).
- ``rules_only``: no model at all (also what happens when no server is given).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from ..errors import ServerError
from ..llm_client import LLMClient
from ..paths import repo_root
from ..templates import PromptTemplate, load_template, render
from .confidence import agreement_confidence, logprob_confidence
from .grammar import span_grammar
from .keywords import route_domain
from .models import ACTIONS_BY_DOMAIN, UNKNOWN, IntentError, InvalidIntentError, actions_for, intent_json_schema
from .normalize import normalize_model_output
from .rules import RuleParse, parse_with_rules
from .text import MAX_INPUT_CHARS, clean_input
from .workbench import template_decoding

Mode = Literal["auto", "model_first", "model_only", "rules_only"]
Decoding = Literal["spans", "schema", "free"]
MODES: tuple[str, ...] = ("auto", "model_first", "model_only", "rules_only")
DECODINGS: tuple[str, ...] = ("spans", "schema", "free")
DEFAULT_TEMPLATE = "prompt_templates/intent_parsing_v1.yaml"
TOP_LOGPROBS = 10


@dataclass(frozen=True)
class ParserConfig:
    """How the pipeline decides. Thresholds are confidences in [0, 1]."""

    mode: str = "auto"
    decoding: str | None = None
    """``spans``, ``schema`` or ``free``; ``None``: what the template's ``model_defaults`` ask for
    (``grammar: "@input_spans"`` is spans), so an exported winner of the workbench decides."""
    model_threshold: float = 0.5
    """The model's intent is used when its confidence reaches this (and, when it disagrees with the
    rules, exceeds the rules' own confidence); otherwise the rules answer."""
    rules_threshold: float = 0.9
    """In ``auto`` mode a rules parse at least this sure skips the model."""
    use_general: bool = True
    """Send queries the keyword router cannot place to the general model (else ``unknown``)."""
    template_path: str = DEFAULT_TEMPLATE
    sampling: dict[str, Any] = field(default_factory=dict)
    """Overrides of the template's ``model_defaults`` (temperature, max_tokens, seed)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise IntentError(f"parser mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.decoding is not None and self.decoding not in DECODINGS:
            raise IntentError(f"parser decoding {self.decoding!r} is not one of {', '.join(DECODINGS)}")
        for name in ("model_threshold", "rules_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise IntentError(f"parser {name} must be between 0 and 1, got {getattr(self, name)}")


class ParseResult(BaseModel):
    """One parse: the intent, which path produced it, how sure it is and how long it took."""

    input: str
    intent: dict[str, str]
    path: Literal["rules", "micro", "general"]
    confidence: float
    latency_s: float
    domain: str
    reason: str
    rules_intent: dict[str, str] | None = None
    model_reply: str | None = None
    """The model's raw text, before validation and normalisation."""
    model_intent: dict[str, str] | None = None
    model_confidence: float | None = None
    model_error: str | None = None
    model_failed: bool = False
    """The model server gave no answer (down, timed out); ``model_error`` says why."""
    model_latency_s: float | None = None

    @property
    def action(self) -> str:
        return self.intent["action"]


@dataclass(frozen=True)
class ModelAnswer:
    """What one model call gave: a valid intent (or why not), its confidence, its latency."""

    intent: dict[str, str] | None
    confidence: float | None
    error: str | None
    latency_s: float | None
    failed: bool = False
    reply: str | None = None


class IntentParser:
    """Parses commands; give it no client to run the rules alone.

    ``micro`` is the small model's client; ``general`` the general model's (default: ``micro``).
    ``micro_model`` / ``general_model`` name the model on servers that serve several.
    """

    def __init__(
        self,
        micro: LLMClient | None = None,
        general: LLMClient | None = None,
        config: ParserConfig | None = None,
        *,
        micro_model: str | None = None,
        general_model: str | None = None,
    ) -> None:
        self.config = config or ParserConfig()
        self.micro = micro
        self.general = general or micro
        self.micro_model = micro_model
        self.general_model = general_model
        self.template: PromptTemplate = load_template(_template_file(self.config.template_path))
        self.decoding = self.config.decoding or template_decoding(self.template)

    async def parse(self, raw: str | bytes) -> ParseResult:
        """Parse one command; never raises for any input (bad input comes back ``unknown``)."""
        started = time.perf_counter()
        text = clean_input(raw)
        if len(text) > MAX_INPUT_CHARS:
            rules = RuleParse(UNKNOWN, 0.99, f"input too long ({len(text)} > {MAX_INPUT_CHARS} characters)")
            return self._from_rules(text[:200], "unknown", rules, started, None)
        domain = route_domain(text).domain
        rules = parse_with_rules(text, domain)
        mode = self.config.mode if self.micro is not None else "rules_only"
        placed = domain in ACTIONS_BY_DOMAIN
        if not text or mode == "rules_only" or (mode == "auto" and rules.confidence >= self.config.rules_threshold):
            return self._from_rules(text, domain, rules, started, None)
        if not placed and not self.config.use_general:
            return self._from_rules(text, domain, rules, started, None)
        path: Literal["micro", "general"] = "micro" if placed else "general"
        answer = await self._ask_model(text, domain, rules, path)
        if mode == "model_only":
            intent = answer.intent or {"action": "unknown"}
            reason = "model answer" if answer.intent else f"model answer invalid: {answer.error}"
            return self._result(text, domain, intent, path, answer.confidence or 0.0, reason, started, rules, answer)
        if answer.intent is not None and answer.intent["action"] == "unknown" and not rules.is_unknown:
            # The model abstained where the rules found a complete command: abstaining is no
            # evidence against it (a tiny model says "unknown" whenever it is lost).
            return self._from_rules(text, domain, rules, started, answer, "the model abstained")
        if answer.intent is None or answer.confidence is None or answer.confidence < self.config.model_threshold:
            return self._from_rules(text, domain, rules, started, answer)
        if answer.intent != rules.intent.as_dict() and answer.confidence <= rules.confidence:
            # Disagreement: the surer side wins, ties go to the rules (calibrated on the train split,
            # where the 135M model is often sure and wrong).
            why = f"model confidence {answer.confidence:.2f} not above the rules' {rules.confidence:.2f}"
            return self._from_rules(text, domain, rules, started, answer, why)
        return self._result(text, domain, answer.intent, path, answer.confidence, f"{path} model", started, rules, answer)

    async def _ask_model(self, text: str, domain: str, rules: RuleParse, path: str) -> ModelAnswer:
        client = self.micro if path == "micro" else self.general
        assert client is not None
        allowed = actions_for(domain)
        grammar = span_grammar(text, domain)
        params = self._params(grammar.gbnf, allowed, path)
        started = time.perf_counter()
        try:
            completion = await client.chat(render(self.template, input=text), **params)
        except ServerError as exc:
            return ModelAnswer(None, None, str(exc), time.perf_counter() - started, failed=True)
        latency_s = time.perf_counter() - started
        try:
            intent = normalize_model_output(completion.content, text, allowed).as_dict()
        except InvalidIntentError as exc:
            return ModelAnswer(None, None, str(exc), latency_s, reply=completion.content)
        emitted = _as_emitted(completion.content, intent)
        confidence = logprob_confidence(completion.content, emitted, grammar.alternatives, completion.raw)
        if confidence is None:
            confidence = agreement_confidence(intent, rules)
        return ModelAnswer(intent, round(confidence, 4), None, latency_s, reply=completion.content)

    def _params(self, gbnf: str, allowed: tuple[Any, ...], path: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            key: value for key, value in self.template.model_defaults.items() if key in ("temperature", "max_tokens", "seed", "top_p", "top_k")
        }
        params.update(self.config.sampling)
        params.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        if self.decoding == "spans":
            params["grammar"] = gbnf
        elif self.decoding == "schema":
            schema = intent_json_schema(allowed)
            params["response_format"] = {"type": "json_schema", "json_schema": {"name": "intent", "schema": schema}}
        model = self.micro_model if path == "micro" else self.general_model
        if model:
            params["model"] = model
        return params

    def _from_rules(
        self, text: str, domain: str, rules: RuleParse, started: float, answer: ModelAnswer | None, why: str | None = None
    ) -> ParseResult:
        reason = f"rules: {rules.reason}"
        if answer is not None:
            why = why or answer.error or f"model confidence {answer.confidence:.2f} below {self.config.model_threshold:.2f}"
            reason += f" (model not used: {why})"
        return self._result(text, domain, rules.intent.as_dict(), "rules", rules.confidence, reason, started, rules, answer)

    @staticmethod
    def _result(
        text: str, domain: str, intent: dict[str, str], path: Any, confidence: float, reason: str, started: float,
        rules: RuleParse, answer: ModelAnswer | None,
    ) -> ParseResult:
        return ParseResult(
            input=text,
            intent=intent,
            path=path,
            confidence=round(confidence, 4),
            latency_s=round(time.perf_counter() - started, 6),
            domain=domain,
            reason=reason,
            rules_intent=rules.intent.as_dict(),
            model_reply=answer.reply if answer else None,
            model_intent=answer.intent if answer else None,
            model_confidence=answer.confidence if answer else None,
            model_error=answer.error if answer else None,
            model_failed=answer.failed if answer else False,
            model_latency_s=round(answer.latency_s, 6) if answer and answer.latency_s is not None else None,
        )


def _template_file(relative: str) -> Path:
    path = Path(relative)
    return path if path.is_absolute() else repo_root() / path


def _as_emitted(content: str, intent: dict[str, str]) -> dict[str, str]:
    """The intent's keys with the values as the model wrote them (before case normalisation).

    Confidence is read off the emitted tokens, so it must look for the emitted spelling.
    """
    try:
        emitted = json.loads(content)
    except ValueError:
        return intent
    if not isinstance(emitted, dict):
        return intent
    return {key: str(emitted.get(key, value)) for key, value in intent.items()}
