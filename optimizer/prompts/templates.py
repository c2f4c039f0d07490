"""Prompt templates: the YAML schema production loads, and rendering it into chat messages.

A template is ``system`` + ``user`` Jinja2 text, optional few-shot ``examples`` (shown as user /
assistant turns), ``model_defaults`` and declared ``inputs``. Rendering uses Jinja2's sandboxed
environment with ``StrictUndefined``: a variable nobody provides is an error, never an empty string.
``preflight`` checks every example of a dataset before any LLM call and names what is missing.

A template is user input, so rendering is bounded (``BoundedEnvironment``): ``**``, ``*``, ``+``,
``%`` and ``~`` refuse results past a size, ``range`` shares one budget per render, numbers given to
filters and methods are capped, the output is capped, and a watchdog stops a render that runs past
``RENDER_DEADLINE_S``. Every failure, whatever Python raised, becomes a one-line ``TemplateError``.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import itertools
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import Field

from optimizer.tasks.dataset import Example
from optimizer.errors import MissingVariablesError, TemplateError
from optimizer.config.yamlio import StrictModel, dump_yaml, load_yaml_model

Message = dict[str, str]

MAX_RENDER_CHARS = 1_000_000
"""Characters one rendered message (and any string or list built while rendering) may have."""
MAX_NUMBER = 1_000_000
"""Largest number a filter or method may be given (widths, counts): ``center(10**9)`` is refused."""
MAX_INT_BITS = 4_096
"""Largest integer (in bits) that ``**`` and ``*`` may produce; ``{{ 7**999999999 }}`` is refused at once."""
MAX_RANGE_ITEMS = 100_000
"""Items all ``range()`` calls of one render may produce together (nested loops share the budget)."""
RENDER_DEADLINE_S = 2.0
"""Wall time one render may take before the watchdog stops it."""
_WIDE_FORMAT = re.compile(r"\d{7,}")


class _RenderDeadline(BaseException):
    """Raised asynchronously in a render that ran past its deadline (BaseException: no template code catches it)."""


class _Watchdog:
    """One daemon thread that stops renders running past their deadline.

    A render registers its thread and deadline; the watchdog raises ``_RenderDeadline`` in that
    thread (``PyThreadState_SetAsyncExc``) when the deadline passes, which interrupts Python-level
    loops such as nested ``for`` over ranges. Single C-level operations cannot be interrupted, which
    is why the environment bounds their sizes before they start.
    """

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.active: dict[int, tuple[int, float]] = {}
        self.tokens = itertools.count()
        self.thread: threading.Thread | None = None

    def start(self, seconds: float) -> int:
        with self.condition:
            token = next(self.tokens)
            self.active[token] = (threading.get_ident(), time.monotonic() + seconds)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="template-watchdog", daemon=True)
                self.thread.start()
            self.condition.notify()
            return token

    def stop(self, token: int) -> None:
        with self.condition:
            self.active.pop(token, None)

    def _loop(self) -> None:
        while True:
            with self.condition:
                while not self.active:
                    self.condition.wait()
                now = time.monotonic()
                for token, (ident, deadline) in list(self.active.items()):
                    if now >= deadline:
                        del self.active[token]
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(_RenderDeadline))
            time.sleep(0.05)


_WATCHDOG = _Watchdog()
_RANGE_BUDGET = threading.local()


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _refuse(message: str) -> SecurityError:
    return SecurityError(message)


def _check_arguments(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise _refuse(f"{name}: number {value:.3g} is larger than the limit of {MAX_NUMBER:,}")


def _check_result(name: str, value: Any) -> Any:
    size = _sized(value)
    if size is not None and size > MAX_RENDER_CHARS:
        raise _refuse(f"{name}: result of {size:,} items is larger than the limit of {MAX_RENDER_CHARS:,}")
    return value


def _bounded_filter(name: str, function: Any) -> Any:
    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(f"filter {name}", args, kwargs)
        if name == "format" and args and isinstance(args[0], str) and _WIDE_FORMAT.search(args[0]):
            raise _refuse("filter format: a field width of 7 or more digits is refused")
        return _check_result(f"filter {name}", function(*args, **kwargs))

    return bounded


def _bounded_range(*args: Any) -> range:
    numbers = range(*args)
    remaining = getattr(_RANGE_BUDGET, "remaining", MAX_RANGE_ITEMS)
    if len(numbers) > remaining:
        raise _refuse(f"range of {len(numbers):,} items exceeds the render's budget of {MAX_RANGE_ITEMS:,} items")
    _RANGE_BUDGET.remaining = remaining - len(numbers)
    return numbers


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` to a size-checked join (Jinja's own ``str_join`` cannot be intercepted)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedEnvironment(SandboxedEnvironment):
    """Jinja's sandbox plus bounds on everything that can take unbounded time or memory."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def __init__(self, **options: Any) -> None:
        # No compile-time constant folding: ``{{ 7**999999999 }}`` must reach ``call_binop``.
        super().__init__(optimized=False, **options)
        # Jinja's other globals would answer a name no input supplies (``{{ namespace }}`` rendering
        # ``<class 'jinja2.utils.Namespace'>``) instead of the missing-variable error; only a bounded
        # ``range`` stays.
        for name in ("lipsum", "dict", "cycler", "joiner", "namespace"):
            self.globals.pop(name, None)
        self.globals["range"] = _bounded_range
        self.filters = {name: _bounded_filter(name, function) for name, function in self.filters.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            bits = right * math.log2(abs(left)) if abs(left) > 1 else 0
            if bits > MAX_INT_BITS:
                raise _refuse(f"{left} ** {right} would have about {int(bits * math.log10(2)):,} digits; the limit is "
                              f"{int(MAX_INT_BITS * math.log10(2)):,}")
        if operator == "*":
            sized, count = (left, right) if _sized(left) is not None else (right, left)
            if _sized(sized) is not None and isinstance(count, int) and _sized(sized) * max(count, 0) > MAX_RENDER_CHARS:
                raise _refuse(f"repeating {_sized(sized):,} items {count:,} times exceeds the limit of {MAX_RENDER_CHARS:,}")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise _refuse(f"product of integers past {MAX_INT_BITS:,} bits is refused")
        if operator == "+" and _sized(left) is not None and _sized(right) is not None:
            if _sized(left) + _sized(right) > MAX_RENDER_CHARS:
                raise _refuse(f"concatenation longer than the limit of {MAX_RENDER_CHARS:,} is refused")
        if operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise _refuse("% formatting with a field width of 7 or more digits is refused")
        return _check_result(f"operator {operator}", super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        name = getattr(__obj, "__name__", type(__obj).__name__)
        _check_arguments(name, args, kwargs)
        return _check_result(name, SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        owner = getattr(value, "__self__", None)
        if getattr(value, "__name__", "") in ("format", "format_map") and isinstance(owner, str) and _WIDE_FORMAT.search(owner):
            raise _refuse("str.format with a field width of 7 or more digits is refused")
        return super().wrap_str_format(value)

    def bounded_concat(self, values: tuple[Any, ...]) -> str:
        texts = [str(value) for value in values]
        if sum(map(len, texts)) > MAX_RENDER_CHARS:
            raise _refuse(f"~ concatenation longer than the limit of {MAX_RENDER_CHARS:,} is refused")
        return "".join(texts)


def bounded_render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render with the output capped at ``MAX_RENDER_CHARS`` and the wall time at ``RENDER_DEADLINE_S``.

    Raises ``jinja2`` errors as they come, ``SecurityError`` for a bound, or ``TimeoutError``.
    """
    _RANGE_BUDGET.remaining = MAX_RANGE_ITEMS
    parts: list[str] = []
    size = 0
    token = _WATCHDOG.start(RENDER_DEADLINE_S)
    try:
        try:
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_RENDER_CHARS:
                    raise _refuse(f"rendered text is longer than the limit of {MAX_RENDER_CHARS:,} characters")
                parts.append(chunk)
        finally:
            _WATCHDOG.stop(token)
    except _RenderDeadline:
        raise TimeoutError(f"rendering took longer than {RENDER_DEADLINE_S:g} s and was stopped") from None
    return "".join(parts)


_ENVIRONMENT = BoundedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
_UNEXPECTED = (ArithmeticError, ValueError, TypeError, LookupError, AttributeError, MemoryError, RecursionError, TimeoutError)


def _unexpected(where: str, exc: BaseException) -> TemplateError:
    detail = " ".join(str(exc).split())[:200]
    return TemplateError(f"{where}: {type(exc).__name__}: {detail}" if detail else f"{where}: {type(exc).__name__}")


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
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template cannot be compiled: {exc}") from None
    except _UNEXPECTED as exc:
        raise _unexpected("template cannot be compiled", exc) from None


@lru_cache(maxsize=4096)
def _variables(source: str) -> frozenset[str]:
    try:
        return frozenset(meta.find_undeclared_variables(_ENVIRONMENT.parse(source)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template cannot be read: {exc}") from None
    except _UNEXPECTED as exc:
        raise _unexpected("template cannot be read", exc) from None


def load_template(path: Path) -> PromptTemplate:
    return load_yaml_model(Path(path), PromptTemplate)


def _render_text(source: str, context: Mapping[str, Any], where: str) -> str:
    try:
        return bounded_render(_compile(source), context).strip()
    except jinja2.UndefinedError as exc:
        raise MissingVariablesError(f"{where}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{where}: {exc}") from None
    except _UNEXPECTED as exc:
        raise _unexpected(where, exc) from None


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
