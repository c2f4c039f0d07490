"""YAML in and out: safe loading into strict pydantic models with errors that name file, line, field.

PyYAML's ``safe_load`` gives the data; ``compose`` gives the node tree whose marks tell which line a
key sits on, and list items are named by their ``name``, so a pydantic error at
``dimensions.0.variants.1.text`` becomes ``search.yaml:14: tone / oncall / text: ...``.

User files are hostile input as far as time and memory go: a file larger than ``MAX_YAML_BYTES``
is refused before it is parsed, and aliases (``&a`` / ``*a``) may share nodes but not expand the
document past ``MAX_EXPANDED_CHARS`` or ``MAX_DEPTH`` levels (a "billion laughs" file would
otherwise be accepted and blow up later, when something walks the data).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from optimizer.errors import ConfigError, WorkbenchError

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_YAML_BYTES = 512 * 1024
"""A task, template, search space or scenario file larger than this is refused unread."""
MAX_EXPANDED_CHARS = 4 * 1024 * 1024
"""Characters a YAML document may hold once every alias is expanded (a shared node counts each time)."""
MAX_DEPTH = 64
"""Nesting levels of mappings and sequences a YAML document may have."""


# libyaml's loader when PyYAML has it: the pure-Python one takes ~20 s on a 2 MB file of small nodes.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_capped(path: Path, limit: int, error: type[WorkbenchError], what: str = "file") -> bytes:
    """The bytes of ``path``, refusing (with ``error``) a file over ``limit`` bytes before reading it all."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise error(f"{path}: {what} is larger than the limit of {limit:,} bytes; refused unread")
    return data


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse a composed document whose aliases expand too far or that nests too deep.

    Shared nodes are measured once (memoised by identity), so the check itself stays linear in the
    file's size even for a document that would expand to gigabytes.
    """
    expanded: dict[int, int] = {}
    open_nodes: set[int] = set()

    def refuse(node: yaml.Node, problem: str) -> ConfigError:
        return ConfigError(f"{source}:{node.start_mark.line + 1}: {problem}")

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in expanded:
            return expanded[key]
        if key in open_nodes:
            raise refuse(node, "recursive alias (a node that contains itself) is refused")
        if depth > MAX_DEPTH:
            raise refuse(node, f"nested more than {MAX_DEPTH} levels deep; refused")
        open_nodes.add(key)
        if isinstance(node, yaml.ScalarNode):
            total = len(node.value) + 1
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child, depth + 1) for child in node.value)
        else:
            total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        open_nodes.discard(key)
        if total > MAX_EXPANDED_CHARS:
            raise refuse(node, f"aliases expand this document past {MAX_EXPANDED_CHARS:,} characters; refused")
        expanded[key] = total
        return total

    size(root, 0)


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


def named_path(data: Any, loc: tuple[Any, ...]) -> str:
    """A field path a person reads: list items by their ``name`` (``tone / oncall / colour``).

    ``dimensions.0.variants.2.colour`` names the list (``dimensions``) and a position; when the item
    has a ``name`` the name alone says which it is. An item without one is ``dimensions #5``.
    """
    parts: list[str] = []
    value = data
    for position, part in enumerate(loc):
        if isinstance(part, int) and isinstance(value, list):
            item = value[part] if 0 <= part < len(value) else None
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, (str, int)) and str(name):
                if parts and isinstance(loc[position - 1], str):
                    parts.pop()  # the list's key: the item's name says enough
                parts.append(str(name))
            else:
                label = parts.pop() if parts and isinstance(loc[position - 1], str) else "item"
                parts.append(f"{label} #{part + 1}")
            value = item
            continue
        parts.append(str(part))
        value = value.get(part) if isinstance(value, dict) else None
    return " / ".join(parts)


def describe_validation_error(error: ValidationError, source: str, text: str | None = None, data: Any = None) -> str:
    """One line: ``source:line: field / path: message`` for the first error (plus a count of others)."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    field = named_path(data, loc) or "(top level)"
    line = None
    if text is not None:
        try:
            line = _line_of(yaml.compose(text), loc)
        except yaml.YAMLError:
            line = None
    where = f"{source}:{line}" if line else source
    message = first["msg"].removeprefix("Value error, ")  # pydantic's prefix for a validator's own message
    if first["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{where}: {field}: {message}{suffix}"


def parse_yaml_text(text: str, source: str) -> Any:
    """``yaml.safe_load`` with the size, alias-expansion and depth bounds checked before constructing."""
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{source}: YAML text is larger than the limit of {MAX_YAML_BYTES:,} bytes; refused")
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_expansion(root, source)
        return loader.construct_document(root)
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to read; refused") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: invalid YAML: {problem}") from None
    finally:
        loader.dispose()


def model_from_yaml_text(text: str, model: type[ModelT], source: str) -> ModelT:
    """Validate YAML ``text`` against ``model``; every failure is a one-line ``ConfigError``."""
    data = parse_yaml_text(text, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source, text, data)) from None
    except WorkbenchError:
        raise
    except ValueError as exc:  # validators that raise plain ValueError
        raise ConfigError(f"{source}: {exc}") from None


def load_yaml_model(path: Path, model: type[ModelT]) -> ModelT:
    raw = read_capped(path, MAX_YAML_BYTES, ConfigError)
    try:
        text = raw.decode("utf-8")
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
