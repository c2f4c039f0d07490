"""Prompt templates: the YAML schema production loads, and rendering it into chat messages.

A template is ``system`` + ``user`` Jinja2 text, optional few-shot ``examples`` (shown as user /
assistant turns), ``model_defaults`` and declared ``inputs``. Rendering uses Jinja2's sandboxed
environment with ``StrictUndefined``: a variable nobody provides is an error, never an empty string.
``preflight`` checks every example of a dataset before any LLM call and names what is missing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment
from pydantic import Field

from .dataset import Example
from .errors import MissingVariablesError, TemplateError
from .yamlio import StrictModel, dump_yaml, load_yaml_model

Message = dict[str, str]

_ENVIRONMENT = SandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)


class TemplateInputs(StrictModel):
    required: list[str] = []
    optional: dict[str, Any] = {}


class FewShotExample(StrictModel):
    """A demonstration: the inputs rendered through ``user`` and the answer the assistant gives."""

    id: str | None = None
    inputs: dict[str, Any]
    output: str


class PromptTemplate(StrictModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    task: str | None = None
    description: str = ""
    system: str
    user: str
    examples: list[FewShotExample] = []
    model_defaults: dict[str, Any] = {}
    inputs: TemplateInputs = TemplateInputs()
    factors: dict[str, str] = {}
    evaluation: dict[str, Any] | None = None

    def content_hash(self) -> str:
        """Stable id of what is sent to the model (Python's salted ``hash()`` is not stable)."""
        content = {
            "system": self.system,
            "user": self.user,
            "examples": [example.model_dump(exclude={"id"}) for example in self.examples],
            "model_defaults": self.model_defaults,
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]

    def variables(self) -> set[str]:
        """Every variable the system and user templates read."""
        return _variables(self.system) | _variables(self.user)

    def to_yaml(self) -> str:
        return dump_yaml(self.model_dump(exclude_none=True, exclude_defaults=False))


@lru_cache(maxsize=4096)
def _compile(source: str) -> jinja2.Template:
    try:
        return _ENVIRONMENT.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None


@lru_cache(maxsize=4096)
def _variables(source: str) -> frozenset[str]:
    try:
        return frozenset(meta.find_undeclared_variables(_ENVIRONMENT.parse(source)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None


def load_template(path: Path) -> PromptTemplate:
    return load_yaml_model(Path(path), PromptTemplate)


def _render_text(source: str, context: Mapping[str, Any], where: str) -> str:
    try:
        return _compile(source).render(context).strip()
    except jinja2.UndefinedError as exc:
        raise MissingVariablesError(f"{where}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{where}: {exc}") from None


def _context(template: PromptTemplate, inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {**template.inputs.optional, **inputs}


def _check_required(template: PromptTemplate, inputs: Mapping[str, Any]) -> None:
    missing = sorted(name for name in template.inputs.required if name not in inputs)
    if missing:
        raise MissingVariablesError(f"template {template.id}: missing required input(s): {', '.join(missing)}")


def _prefix_messages(template: PromptTemplate, context: Mapping[str, Any]) -> list[Message]:
    """System prompt and few-shot turns: everything before the final user turn."""
    messages: list[Message] = []
    system = _render_text(template.system, context, f"template {template.id} (system)")
    if system:
        messages.append({"role": "system", "content": system})
    for number, example in enumerate(template.examples, start=1):
        example_context = _context(template, example.inputs)
        where = f"template {template.id} (few-shot example {example.id or number})"
        messages.append({"role": "user", "content": _render_text(template.user, example_context, where)})
        messages.append({"role": "assistant", "content": example.output.strip()})
    return messages


def _user_message(template: PromptTemplate, context: Mapping[str, Any]) -> Message:
    return {"role": "user", "content": _render_text(template.user, context, f"template {template.id} (user)")}


def render_messages(template: PromptTemplate, inputs: Mapping[str, Any]) -> list[Message]:
    """The chat messages for one call: system, few-shot turns, then the user turn."""
    _check_required(template, inputs)
    context = _context(template, inputs)
    return [*_prefix_messages(template, context), _user_message(template, context)]


class MessageRenderer:
    """Renders one template for many examples, rendering the input-independent prefix once.

    When the system prompt reads no variable, the system and few-shot turns are the same for
    every example, so they are rendered once per template instead of once per call (the engine's
    hot path).
    """

    def __init__(self, template: PromptTemplate) -> None:
        self.template = template
        self._prefix = None if _variables(template.system) else _prefix_messages(template, {})

    def render(self, inputs: Mapping[str, Any]) -> list[Message]:
        if self._prefix is None:
            return render_messages(self.template, inputs)
        _check_required(self.template, inputs)
        return [*self._prefix, _user_message(self.template, _context(self.template, inputs))]


def render(prompt: PromptTemplate, **inputs: Any) -> list[Message]:
    """Runtime entry point for production code: the messages to send for these inputs."""
    return render_messages(prompt, inputs)


def preflight(template: PromptTemplate, examples: Iterable[Example], *, source: str = "dataset") -> None:
    """Check, before any LLM call, that every example provides every variable the template reads.

    Raises ``MissingVariablesError`` naming the first example and the variables it lacks.
    """
    needed = (template.variables() | set(template.inputs.required)) - set(template.inputs.optional)
    for example in examples:
        missing = sorted(needed - set(example.inputs))
        if missing:
            raise MissingVariablesError(
                f"{source}:{example.line}: example {example.id!r} lacks variable(s) {', '.join(missing)} "
                f"used by template {template.id}"
            )
    for number, demo in enumerate(template.examples, start=1):
        missing = sorted(needed - set(demo.inputs))
        if missing:
            raise MissingVariablesError(
                f"template {template.id}: few-shot example {demo.id or number} lacks variable(s) {', '.join(missing)}"
            )
