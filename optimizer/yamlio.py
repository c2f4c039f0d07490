"""YAML in and out: safe loading into strict pydantic models with errors that name file, line, field.

PyYAML's ``safe_load`` gives the data; ``compose`` gives the node tree whose marks tell which line a
key sits on, so a pydantic error at ``dimensions.tone.1.text`` becomes
``search.yaml:14: dimensions.tone.1.text: Field required``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError, WorkbenchError

ModelT = TypeVar("ModelT", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for every file-backed schema: unknown keys are an error that names the key."""

    model_config = ConfigDict(extra="forbid")


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest node along ``loc`` that exists in the composed tree."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def describe_validation_error(error: ValidationError, source: str, text: str | None = None) -> str:
    """One line: ``source:line: field.path: message`` for the first error (plus a count of others)."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    field = ".".join(str(part) for part in loc) or "(top level)"
    line = None
    if text is not None:
        try:
            line = _line_of(yaml.compose(text), loc)
        except yaml.YAMLError:
            line = None
    where = f"{source}:{line}" if line else source
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {field}: {message}{suffix}"


def parse_yaml_text(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None


def model_from_yaml_text(text: str, model: type[ModelT], source: str) -> ModelT:
    """Validate YAML ``text`` against ``model``; every failure is a one-line ``ConfigError``."""
    data = parse_yaml_text(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source, text)) from None
    except WorkbenchError:
        raise
    except ValueError as exc:  # validators that raise plain ValueError
        raise ConfigError(f"{source}: {exc}") from None


def load_yaml_model(path: Path, model: type[ModelT]) -> ModelT:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return model_from_yaml_text(text, model, str(path))


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as ``|`` blocks so Git diffs read line by line."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        # Block style cannot carry trailing spaces on a line faithfully; strip them.
        cleaned = "\n".join(line.rstrip() for line in value.split("\n"))
        return dumper.represent_scalar("tag:yaml.org,2002:str", cleaned, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BlockDumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    """``safe_dump``-compatible output (plain types only) with block style for multi-line text."""
    return yaml.dump(data, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
