"""The parser pipeline: command text -> one intent, the path that produced it, confidence, latency.

keyword router -> rules -> (when the rules are not certain) micro model (few-shot prompt with
demonstrations retrieved from the train split, decoding constrained to the intent schema with
values restricted to spans of the command) -> validation (each value against its field's schema)
-> normalisation -> calibrated confidence -> decision. Queries the keyword router cannot place go
to the general model (another server or model; by default the same one) or come back ``unknown``.

Confidence means the same on both sides: a probability of being right, calibrated on the train
split (``calibration.py``; the file in ``prompt_templates/calibration/``). The rules are certain
only when a pattern matched fully; no match is no opinion. The decision:

- ``rules`` path: the rules are certain and their calibrated confidence reaches the threshold
  chosen on validation (``Calibration.rules_threshold``); the model is not asked.
- ``micro`` / ``general`` path: the model's valid answer is used when it agrees with the rules,
  or when its calibrated confidence reaches ``model_threshold`` and either exceeds the rules' or
  the rules had no opinion (a partial match or none: their ``unknown`` is not weighed against it).
- ``fallback`` path: the model was asked but its answer is not used (no server, invalid, a value
  failing its schema, an abstention where the rules found a command, or less sure than the
  rules); the rules' answer is returned, which is ``unknown`` when they had no opinion.

Modes (``ParserConfig.mode``):

- ``auto`` (default): as above. On a 2-core CPU a constrained model call costs about half a
  second, so answering certain commands from the rules is what keeps p50 low.
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

from optimizer.errors import ServerError
from optimizer.serving.client import LLMClient
from optimizer.config.paths import repo_root
from optimizer.prompts.templates import PromptTemplate, load_template, render
from optimizer.intents.calibration import Calibration, load_calibration
from optimizer.intents.confidence import logprob_confidence
from optimizer.intents.grammar import compact_json, span_grammar
from optimizer.intents.keywords import route_domain
from optimizer.intents.models import ACTIONS_BY_DOMAIN, UNKNOWN, IntentError, InvalidIntentError, actions_for, intent_json_schema
from optimizer.intents.normalize import normalize_model_output
from optimizer.intents.retrieval import RETRIEVAL_KEY, ShotRetriever, retrieval_k, task_retriever, with_retrieved_shots
from optimizer.intents.rules import DEFINITE, NO_OPINION_KINDS, RuleParse, parse_with_rules
from optimizer.intents.text import MAX_INPUT_CHARS, clean_input
from optimizer.intents.workbench import template_decoding

MODES: tuple[str, ...] = ("auto", "model_first", "model_only", "rules_only")
DECODINGS: tuple[str, ...] = ("spans", "schema", "free")
DEFAULT_TEMPLATE = "prompt_templates/intent_parsing_v2.yaml"
"""The prompt the model path loads: the workbench's exported winner of the ``intent_parsing``
search (schema instruction, 4 demonstrations retrieved from train, span grammar, greedy), chosen on
validation. Model alone on the 48 validation commands, 2026-12-01, quiet machine: 35 right with v2
against 33 with v1's fixed shots (n cannot separate them; v2 was the choice made on validation)."""
DEFAULT_CALIBRATION = "prompt_templates/calibration/intent_parsing.json"
TOP_LOGPROBS = 10
DEFAULT_SHOTS: int | None = None
"""``None``: what the template asks for (v2: 4 retrieved from train; v1: its fixed examples);
``retrieved_shots=0`` (CLI ``--shots 0``) forces the template's fixed examples, N > 0 the N
nearest train commands."""
PATHS = ("rules", "micro", "general", "fallback")


@dataclass(frozen=True)
class ParserConfig:
    """How the pipeline decides. Thresholds are confidences in [0, 1]."""

    mode: str = "auto"
    decoding: str | None = None
    """``spans``, ``schema`` or ``free``; ``None``: what the template's ``model_defaults`` ask for
    (``grammar: "@input_spans"`` is spans), so an exported winner of the workbench decides."""
    model_threshold: float = 0.5
    """The model's intent is used only when its calibrated confidence reaches this: below one half
    it is more likely wrong than right (and, when it disagrees with the rules, it must also exceed
    the rules' calibrated confidence)."""
    rules_threshold: float | None = None
    """In ``auto`` mode a certain rules parse at least this sure (calibrated) skips the model;
    ``None``: the threshold chosen on validation and stored in the calibration file."""
    calibration_path: str | None = DEFAULT_CALIBRATION
    """The calibration file (``None`` or a missing file: raw confidences at face value)."""
    retrieved_shots: int | None = DEFAULT_SHOTS
    """Few-shot demonstrations retrieved per command from the train split (BM25); 0: the
    template's fixed examples; ``None``: what the template's ``model_defaults`` ask for
    (``few_shot_retrieval``), else the fixed examples."""
    second_pass: bool = False
    """When the model's answer is not sure enough to be used (calibrated confidence below
    ``model_threshold``) and the rules have no certain answer, ask once more with twice the
    retrieved demonstrations; the surer of the two answers goes on to the decision."""
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
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 1.01:
                raise IntentError(f"parser {name} must be between 0 and 1, got {value}")
        if self.retrieved_shots is not None and not 0 <= self.retrieved_shots <= 16:
            raise IntentError(f"parser retrieved_shots must be between 0 and 16, got {self.retrieved_shots}")


class ParseResult(BaseModel):
    """One parse: the intent, which path produced it, how sure it is and how long it took."""

    input: str
    intent: dict[str, str]
    path: Literal["rules", "micro", "general", "fallback"]
    confidence: float
    """Calibrated: the probability, measured on the train split, that an answer like this is right."""
    latency_s: float
    domain: str
    reason: str
    rules_intent: dict[str, str] | None = None
    rules_kind: str | None = None
    """What decided on the rules' side (``match``, ``typo``, ``refusal``, ``partial``, ``none``, ``several``, ``doubt``, ``unplaced``)."""
    rules_cue: str | None = None
    """A partial match's action: the one the command names, whose values the rules did not all find."""
    rules_certain: bool = False
    rules_confidence: float | None = None
    """The rules' calibrated confidence (whether or not their answer was used)."""
    model_reply: str | None = None
    """The model's raw text, before validation and normalisation."""
    model_intent: dict[str, str] | None = None
    model_confidence: float | None = None
    """The model's calibrated confidence; ``model_raw_confidence`` is the logprob score it came from."""
    model_raw_confidence: float | None = None
    model_error: str | None = None
    model_failed: bool = False
    """The model server gave no answer (down, timed out); ``model_error`` says why."""
    model_latency_s: float | None = None
    model_passes: int = 0
    """Model calls made: 2 when a low-confidence answer was followed by a second pass (``second_pass``)."""

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
    raw_confidence: float | None = None
    passes: int = 1


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
        calibration: Calibration | None = None,
    ) -> None:
        self.config = config or ParserConfig()
        self.micro = micro
        self.general = general or micro
        self.micro_model = micro_model
        self.general_model = general_model
        self.template: PromptTemplate = load_template(_template_file(self.config.template_path))
        self.decoding = self.config.decoding or template_decoding(self.template)
        if calibration is None:
            path = self.config.calibration_path
            calibration = load_calibration(_template_file(path) if path else None)
        self.calibration = calibration
        self.rules_threshold = self.config.rules_threshold if self.config.rules_threshold is not None else calibration.rules_threshold
        shots = self.config.retrieved_shots if self.config.retrieved_shots is not None else retrieval_k(self.template)
        self.retrieved_shots = shots
        self._retriever: ShotRetriever | None = None

    @property
    def retriever(self) -> ShotRetriever:
        """BM25 over the intent_parsing train split, answers in the grammar's compact JSON (built on first use)."""
        if self._retriever is None:
            base = task_retriever("intent_parsing")
            self._retriever = ShotRetriever(base.examples, "input", lambda example: compact_json(dict(example.expected)))
        return self._retriever

    async def parse(self, raw: str | bytes, *, exclude_id: str | None = None) -> ParseResult:
        """Parse one command; never raises for any input (bad input comes back ``unknown``).

        ``exclude_id``: a train example that must not be retrieved as its own demonstration
        (when the train split itself is parsed, e.g. to fit the calibration).
        """
        started = time.perf_counter()
        text = clean_input(raw)
        if len(text) > MAX_INPUT_CHARS:
            rules = RuleParse(UNKNOWN, DEFINITE, f"input too long ({len(text)} > {MAX_INPUT_CHARS} characters)", "refusal")
            return self._result(text[:200], "unknown", rules, None, "rules", started)
        domain = route_domain(text).domain
        rules = parse_with_rules(text, domain)
        mode = self.config.mode if self.micro is not None else "rules_only"
        placed = domain in ACTIONS_BY_DOMAIN
        rules_confidence = self.calibration.rules_confidence(rules.kind, rules.confidence)
        if not text or mode == "rules_only" or (mode == "auto" and rules.certain and rules_confidence >= self.rules_threshold):
            return self._result(text, domain, rules, None, "rules", started)
        if not placed and not self.config.use_general:
            return self._result(text, domain, rules, None, "rules", started, "no general model for an unplaced query")
        path: Literal["micro", "general"] = "micro" if placed else "general"
        cue = rules.cue if mode == "auto" else None  # model_first / model_only measure the model on its own
        answer = await self._ask_model(text, domain, path, exclude_id, cue=cue)
        unsure = answer.confidence is None or answer.confidence < self.config.model_threshold
        if self.config.second_pass and unsure and not answer.failed and not rules.certain and mode != "model_only":
            again = await self._ask_model(text, domain, path, exclude_id, shots=min(16, 2 * max(self.retrieved_shots, 4)), cue=cue)
            if again.confidence is not None and (answer.confidence is None or again.confidence > answer.confidence):
                answer = ModelAnswer(again.intent, again.confidence, again.error, (answer.latency_s or 0) + (again.latency_s or 0),
                                     again.failed, again.reply, again.raw_confidence, passes=2)
        if mode == "model_only":
            reason = "model answer" if answer.intent else f"model answer invalid: {answer.error}"
            return self._result(text, domain, rules, answer, path, started, reason, model_only=True)
        chosen, reason = decide(rules.intent.as_dict(), rules_confidence, answer.intent, answer.confidence, self.config.model_threshold,
                                answer.error, rules_kind=rules.kind, rules_cue=rules.cue)
        return self._result(text, domain, rules, answer, path if chosen == "model" else "fallback", started, reason)

    async def _ask_model(
        self, text: str, domain: str, path: str, exclude_id: str | None = None, shots: int | None = None, cue: str | None = None,
    ) -> ModelAnswer:
        client = self.micro if path == "micro" else self.general
        assert client is not None
        allowed = actions_for(domain)
        grammar = span_grammar(text, domain, only=cue if cue in {action.value for action in allowed} else None)
        params = self._params(grammar.gbnf, allowed, path)
        template = self.template
        shots = self.retrieved_shots if shots is None else shots
        if shots:
            template = template.model_copy(update={"model_defaults": {**template.model_defaults, RETRIEVAL_KEY: shots}})
            template = with_retrieved_shots(template, self.retriever, text, exclude_id=exclude_id)
        started = time.perf_counter()
        try:
            completion = await client.chat(render(template, input=text), **params)
        except ServerError as exc:
            return ModelAnswer(None, None, str(exc), time.perf_counter() - started, failed=True)
        latency_s = time.perf_counter() - started
        try:
            intent = normalize_model_output(completion.content, text, allowed).as_dict()
        except InvalidIntentError as exc:
            return ModelAnswer(None, None, str(exc), latency_s, reply=completion.content)
        emitted = _as_emitted(completion.content, intent)
        raw = logprob_confidence(completion.content, emitted, grammar.alternatives, completion.raw)
        confidence = self.calibration.model_confidence(raw)
        return ModelAnswer(intent, round(confidence, 4), None, latency_s, reply=completion.content,
                           raw_confidence=None if raw is None else round(raw, 4))

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

    def _result(
        self, text: str, domain: str, rules: RuleParse, answer: ModelAnswer | None, path: str, started: float,
        reason: str | None = None, *, model_only: bool = False,
    ) -> ParseResult:
        rules_confidence = self.calibration.rules_confidence(rules.kind, rules.confidence)
        if path in ("micro", "general"):
            intent = (answer.intent if answer else None) or {"action": "unknown"}
            confidence = (answer.confidence if answer else None) or 0.0
            if not model_only and answer is not None and answer.intent == rules.intent.as_dict():
                confidence = max(confidence, rules_confidence)
            reason = reason or f"{path} model"
        else:
            intent, confidence = rules.intent.as_dict(), rules_confidence
            reason = f"rules: {rules.reason}" + (f" (model not used: {reason})" if reason else "")
        return ParseResult(
            input=text,
            intent=intent,
            path=path,  # type: ignore[arg-type]
            confidence=round(confidence, 4),
            latency_s=round(time.perf_counter() - started, 6),
            domain=domain,
            reason=reason,
            rules_intent=rules.intent.as_dict(),
            rules_kind=rules.kind,
            rules_cue=rules.cue,
            rules_certain=rules.certain,
            rules_confidence=round(rules_confidence, 4),
            model_reply=answer.reply if answer else None,
            model_intent=answer.intent if answer else None,
            model_confidence=answer.confidence if answer else None,
            model_raw_confidence=answer.raw_confidence if answer else None,
            model_error=answer.error if answer else None,
            model_failed=answer.failed if answer else False,
            model_latency_s=round(answer.latency_s, 6) if answer and answer.latency_s is not None else None,
            model_passes=answer.passes if answer else 0,
        )


def decide(
    rules_intent: dict[str, str], rules_confidence: float, model_intent: dict[str, str] | None, model_confidence: float | None,
    model_threshold: float, model_error: str | None = None, *, rules_kind: str = "match", rules_cue: str | None = None,
) -> tuple[str, str | None]:
    """Whose answer stands once the model was asked: ``("model", None)`` or ``("rules", why not the model)``.

    ``rules_kind`` is the rule kind that decided on the rules' side. A kind of ``NO_OPINION_KINDS``
    (a cue without its values, or no pattern at all) is no opinion, so a model answer sure enough to be used is not weighed against the rules'
    calibrated confidence. That confidence was measured on the train split the rules were written
    on, where a partial match is nearly always a true ``unknown``; on commands written apart from
    the rules it is not (blind batch B, 2026-12-01: of 7 partial matches the rules were right on 2,
    the model on 4).

    ``rules_cue``: a partial match's action (the command names ``add_user`` but gives no password).
    The model may fill the values the rules did not find, not answer another action: the rules read
    the verb; what they missed is a value (train, 2026-12-02, leave-one-out: of the 35 partial
    matches, the model answered another action than the cue on 8, wrongly on all 8).

    Kind ``several``: the rules' ``unknown`` says the request holds two actions. The model can
    only emit one, so its action is right only when the rules misread the request, which happens
    with probability 1 - ``rules_confidence``: its own confidence, measured on every kind of
    command, is capped there (train, 2026-12-02: on the 4 two-action commands the rules were right
    on 4, the model on none, and the pipeline used the model's single action on 3). Kind ``doubt``
    likewise: the rules read a report of what was done, a hypothetical or a plan, and the model's
    action is right only when they misread it (train, 2026-12-02: of 6 such commands, all 6 were
    ``unknown``; the model answered an action on all 6 and the pipeline used it).

    A pure function of calibrated confidences, so the calibration can replay it offline.
    """
    if model_intent is None or model_confidence is None:
        return "rules", model_error or "no model answer"
    if model_intent == rules_intent:
        return "model", None
    if rules_cue is not None and model_intent.get("action") not in (rules_cue, "unknown"):
        return "rules", f"the model answered {model_intent.get('action')}, the command names {rules_cue}"
    if rules_kind in NO_OPINION_KINDS:
        if model_confidence < model_threshold:
            return "rules", f"model confidence {model_confidence:.2f} below {model_threshold:.2f}"
        return "model", None
    if rules_kind in ("several", "doubt"):
        model_confidence = min(model_confidence, 1.0 - rules_confidence)
    if model_intent.get("action") == "unknown" and rules_intent.get("action") != "unknown":
        # Abstaining is no evidence against a complete command (a tiny model says "unknown" when lost).
        return "rules", "the model abstained"
    if model_confidence < model_threshold:
        return "rules", f"model confidence {model_confidence:.2f} below {model_threshold:.2f}"
    if model_confidence <= rules_confidence:
        return "rules", f"model confidence {model_confidence:.2f} not above the rules' {rules_confidence:.2f}"
    return "model", None


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
