"""The one exception tree of the workbench, and the one adapter from errors to exit codes.

Every error a user can cause or meet (bad YAML, a dataset line that is not JSON, a template
variable the dataset lacks, a server that does not answer) is a ``WorkbenchError`` whose message
is one line naming the file, line or field, so the CLI and the UI can show it as is::

    WorkbenchError
    ├── ConfigError            task spec, search space, settings, unknown plugin name
    ├── DatasetError           golden dataset file or line
    ├── TemplateError          prompt template load or render
    │   └── MissingVariablesError
    ├── ServerError            model server build, start, reach
    │   ├── ServerUnavailableError   down after every retry (pauses a run)
    │   ├── RequestRejectedError     4xx for this request
    │   └── MalformedResponseError   an answer that is not OpenAI-shaped
    ├── StoreError             run store
    ├── RunPaused              a run stopped with its state saved (exit 3)
    └── ExportError            export target, path or Git operation

``exit_on_error`` turns them into ``error: ...`` on stderr and exit 2 (``paused: ...`` and 3).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class ConfigError(WorkbenchError):
    """A task spec, search space or settings file is missing, malformed or has unknown keys."""


class DatasetError(WorkbenchError):
    """A golden dataset file or one of its lines is malformed."""


class TemplateError(WorkbenchError):
    """A prompt template cannot be loaded or rendered."""


class MissingVariablesError(TemplateError):
    """A template uses a variable that an example (or the caller) does not provide."""


class ServerError(WorkbenchError):
    """The model server could not be built, started or reached."""


class ServerUnavailableError(ServerError):
    """The server stayed unreachable (refused, timed out, 5xx) after every retry."""


class RequestRejectedError(ServerError):
    """The server answered a request with a client error (4xx other than 429); not retried."""


class MalformedResponseError(ServerError):
    """The server answered with something that is not an OpenAI-compatible completion."""


class StoreError(WorkbenchError):
    """The run store cannot be opened, migrated or does not hold what was asked for."""


class RunPaused(WorkbenchError):
    """A run stopped before finishing with its state saved; the message says how to resume."""

    def __init__(self, message: str, run_id: str) -> None:
        super().__init__(message)
        self.run_id = run_id


class ExportError(WorkbenchError):
    """An export target, path or Git operation was refused or failed."""


def exit_on_error(function: F) -> F:
    """Wrap a command: a ``WorkbenchError`` prints one line on stderr and exits 2 (3 when paused)."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except RunPaused as exc:
            print(f"paused: {exc}", file=sys.stderr, flush=True)
            sys.exit(3)
        except WorkbenchError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]
