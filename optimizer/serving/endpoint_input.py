"""Several endpoints as a person types them (the Run page): extra URLs one per line, and an
endpoints YAML path, checked here and turned into the ``--url`` / ``--endpoints`` arguments of the
``workbench optimize`` process the page starts. Errors are one line naming the line or the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from optimizer.config.paths import repo_root
from optimizer.errors import ConfigError
from optimizer.serving.pool import load_endpoints_file

MAX_URLS = 64
MAX_URL_CHARS = 2048
MAX_TEXT_CHARS = MAX_URLS * (MAX_URL_CHARS + 1)


@dataclass(frozen=True)
class ExtraEndpoints:
    """Endpoints used beside the main server: ``urls`` in the order given, and an endpoints file."""

    urls: tuple[str, ...] = ()
    endpoints_file: Path | None = None

    def cli_arguments(self) -> list[str]:
        arguments: list[str] = []
        for url in self.urls:
            arguments += ["--url", url]
        if self.endpoints_file is not None:
            arguments += ["--endpoints", str(self.endpoints_file)]
        return arguments

    def __bool__(self) -> bool:
        return bool(self.urls) or self.endpoints_file is not None


NO_EXTRA = ExtraEndpoints()

def _check_url(url: str, where: str) -> str:
    shown = url if len(url) <= 80 else url[:77] + "..."
    if len(url) > MAX_URL_CHARS or any(character.isspace() for character in url):
        raise ConfigError(f"{where}: {shown!r} is not one URL (no spaces, at most {MAX_URL_CHARS} characters)")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError as exc:
        raise ConfigError(f"{where}: {shown!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {shown!r} is not an http(s) URL like http://10.0.0.5:8080")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: {shown!r}: give the server's base URL, without ?query or #fragment")
    return url.rstrip("/")


def parse_extra_endpoints(urls_text: str = "", endpoints_path: str = "", *, main_url: str | None = None,
                          base: Path | None = None) -> ExtraEndpoints:
    """Check the extra URLs (one per line; blank lines ignored) and the endpoints YAML path (relative
    to ``base``, default the repository root, where the run's process starts). ``main_url`` is the
    server the run uses anyway: repeating it would count its slots twice, so it is refused."""
    if len(urls_text) > MAX_TEXT_CHARS:
        raise ConfigError(f"extra endpoint URLs: more than {MAX_TEXT_CHARS} characters; give at most {MAX_URLS} URLs")
    seen: dict[str, int] = {}
    if main_url:
        seen[main_url.rstrip("/")] = 0
    urls = []
    for number, line in enumerate(urls_text.splitlines(), start=1):
        text = line.strip()
        if not text:
            continue
        url = _check_url(text, f"extra endpoint URLs, line {number}")
        if url in seen:
            first = "the main server's URL" if seen[url] == 0 else f"line {seen[url]}"
            raise ConfigError(f"extra endpoint URLs, line {number}: {url} repeats {first} (its slots would count twice)")
        seen[url] = number
        urls.append(url)
        if len(urls) > MAX_URLS:
            raise ConfigError(f"extra endpoint URLs, line {number}: more than {MAX_URLS} URLs")
    endpoints_file = None
    path_text = endpoints_path.strip()
    if path_text:
        path = Path(path_text).expanduser()
        if not path.is_absolute():
            path = (base or repo_root()) / path
        if not path.is_file():
            raise ConfigError(f"endpoints file {path}: no such file")
        load_endpoints_file(path)  # the same check the run's process makes, before it is started
        endpoints_file = path.resolve()
    return ExtraEndpoints(tuple(urls), endpoints_file)
