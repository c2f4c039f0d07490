"""Where things live: the repository root, the per-user cache and the default run store.

Paths are resolved once here so a test can point every one of them at ``tmp_path`` through
environment variables (``WORKBENCH_HOME``, ``WORKBENCH_CACHE_DIR``, ``WORKBENCH_ROOT``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from optimizer.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def repo_root() -> Path:
    """The folder holding ``golden/`` and ``prompt_templates/`` (the working copy by default)."""
    configured = os.environ.get("WORKBENCH_ROOT")
    return Path(configured).resolve() if configured else PACKAGE_DIR.parent


def workbench_home() -> Path:
    """Per-project state: the SQLite run store lives here."""
    configured = os.environ.get("WORKBENCH_HOME")
    return Path(configured).resolve() if configured else repo_root() / ".workbench"


def cache_dir() -> Path:
    """Per-user cache for built binaries (shared by every checkout of the same user)."""
    configured = os.environ.get("WORKBENCH_CACHE_DIR")
    if configured:
        return Path(configured).resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "prompt-workbench"


def default_store_path() -> Path:
    return workbench_home() / "runs.sqlite"


def resolve_in_repo(path: str | Path, *, root: Path | None = None, what: str = "path") -> Path:
    """Resolve ``path`` (relative to the repo root) and refuse anything outside the repo.

    Symlinks are resolved first, so a link pointing outside is refused as well.
    """
    base = (root or repo_root()).resolve()
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = base / candidate
    resolved = candidate.resolve()
    if resolved != base and base not in resolved.parents:
        raise ConfigError(f"{what} {str(path)!r} resolves outside the repository {base}")
    return resolved


def display_path(path: Path) -> str:
    """A path relative to the repo root when it is inside it, for messages and stored provenance."""
    try:
        return str(path.resolve().relative_to(repo_root()))
    except ValueError:
        return str(path)


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB chunks (datasets, GGUF weights)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
