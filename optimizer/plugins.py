"""The one extension mechanism: registries of metrics, executors, strategies and CLI commands.

Like simonw/llm's ``hookspecs`` + ``load_plugins``: the core defines the registries and looks names
up in them; whatever adds something (the core's own modules, the ``intents`` and ``agent``
features, a third-party package) registers it from a module named by an entry point of the
``prompt_workbench.plugins`` group in its ``pyproject.toml``::

    [project.entry-points."prompt_workbench.plugins"]
    agent = "optimizer.agent.plugin"

    # optimizer/agent/plugin.py
    from optimizer import plugins
    plugins.metrics.register("agent_success", agent_success)

The registries load every plugin module on first lookup, so the core never imports a feature and a
feature never needs to be imported before its names resolve.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Any, Generic, TypeVar

from optimizer.errors import ConfigError

ENTRY_POINT_GROUP = "prompt_workbench.plugins"

T = TypeVar("T")

_loaded = False
_loading = threading.RLock()


class Registry(Generic[T]):
    """Named things of one kind. ``register`` adds one (also as a decorator); ``get`` finds one."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T | None = None) -> Any:
        if item is None:

            def decorator(function: T) -> T:
                self._items[name] = function
                return function

            return decorator
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        if name not in self._items:
            load_plugins()
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names()) or 'none'}") from None

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        load_plugins()
        return iter(sorted(self._items.items()))

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return name in self._items


#: ``metric(expected, predicted) -> float`` by the name task specs use.
metrics: Registry[Callable[[Any, Any], float]] = Registry("metric")
#: async ``executor(client, template, example, params) -> payload`` that replaces the single chat call.
executors: Registry[Callable[..., Any]] = Registry("executor")
#: Strategy objects (``optimizer.search.strategies.Strategy``) by the name ``--strategy`` takes.
strategies: Registry[Any] = Registry("strategy")
#: click commands and groups added to the ``workbench`` CLI.
commands: Registry[Any] = Registry("command")


def plugin_modules() -> list[str]:
    """The modules named by this installation's ``prompt_workbench.plugins`` entry points."""
    return [entry.value for entry in metadata.entry_points(group=ENTRY_POINT_GROUP)]


def load_plugins() -> None:
    """Import every plugin module once (each registers what it adds when imported)."""
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        _loaded = True
        entries = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        if not entries:
            raise ConfigError(
                "no prompt_workbench.plugins entry points: the package is not installed (run: pip install -e .)"
            )
        for entry in sorted(entries, key=lambda entry: entry.name):
            entry.load()
