"""The one exception tree of the workbench.

Every error a user can cause or meet (bad YAML, a dataset line that is not JSON, a template
variable the dataset lacks, a server that does not answer) is a ``WorkbenchError`` whose message
is one line naming the file, line or field, so the CLI and the UI can show it as is.
"""

from __future__ import annotations


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


class ParseError(WorkbenchError):
    """A model output could not be parsed into the task's output fields."""


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
