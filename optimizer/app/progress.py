"""A progress line for the terminal: a redrawn bar on a TTY, periodic plain lines elsewhere (CI logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from optimizer.evaluate.engine import Progress
from optimizer.evaluate.runner import format_duration


def format_progress(progress: Progress, width: int = 24) -> str:
    filled = int(width * progress.fraction)
    bar = "#" * filled + "-" * (width - filled)
    eta = format_duration(progress.eta_s) if progress.eta_s is not None else "?"
    return (
        f"[{bar}] {progress.done}/{progress.total} {progress.fraction:4.0%} "
        f"cached {progress.cached} failed {progress.failed} "
        f"elapsed {format_duration(progress.elapsed_s)} eta {eta}"
    )


class ProgressLine:
    """Callable progress reporter; on a non-TTY it prints at most every ``interval_s`` seconds."""

    def __init__(self, stream: TextIO | None = None, interval_s: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval_s = interval_s
        self.last_print = 0.0
        self.last: Progress | None = None
        self.printed_done: int | None = None

    def __call__(self, progress: Progress) -> None:
        self.last = progress
        now = time.monotonic()
        finished = progress.done >= progress.total
        if finished and self.printed_done == progress.done:
            return
        if self.tty:
            if finished or now - self.last_print >= 0.1:
                self.stream.write("\r" + format_progress(progress))
                self.stream.flush()
                self.last_print, self.printed_done = now, progress.done
        elif finished or now - self.last_print >= self.interval_s:
            self.stream.write(format_progress(progress) + "\n")
            self.stream.flush()
            self.last_print, self.printed_done = now, progress.done

    def close(self) -> None:
        if self.tty and self.last is not None:
            self.stream.write("\n")
            self.stream.flush()
