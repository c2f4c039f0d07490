"""One live owner per run: a lease in the store, renewed by a heartbeat, taken over when its owner died.

Two ``workbench optimize --resume ID`` at once would both execute the same pending calls (the
insert-or-ignore store keeps the rows unique, but every call is made twice). The first to take the
lease runs; the second gets a one-line error. An owner counts as dead when its process is gone
(kill -9) or its heartbeat is older than ``STALE_AFTER_S`` (a hung or unreachable owner, or a
recycled pid), and then the next resume takes the lease over.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path
from types import TracebackType

from optimizer.evaluate.store import RunStore

HEARTBEAT_EVERY_S = 5.0
STALE_AFTER_S = 30.0


def process_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a running process on this machine (a zombie awaiting reaping is not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def owner_alive(pid: int | None, heartbeat_at: float | None) -> bool:
    """A lease holder counts while its process lives and its heartbeat (if it has one) is fresh."""
    if not process_alive(pid):
        return False
    return heartbeat_at is None or time.time() - heartbeat_at < STALE_AFTER_S


class RunLease:
    """``with RunLease(store_path, run_id):`` holds the run's lease and renews it in a daemon thread.

    Raises ``StoreError`` on entry when another live process holds it. The heartbeat uses its own
    connection, so it never interleaves with the caller's transactions.
    """

    def __init__(self, store_path: Path | str, run_id: str) -> None:
        self.store_path = Path(store_path)
        self.run_id = run_id
        self.token = secrets.token_hex(8)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "RunLease":
        with RunStore(self.store_path) as store:
            store.acquire_lease(self.run_id, self.token, os.getpid(), owner_alive=owner_alive)
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        with RunStore(self.store_path) as store:
            while not self._stop.wait(HEARTBEAT_EVERY_S):
                if not store.renew_lease(self.run_id, self.token):
                    self.lost.set()
                    return

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(HEARTBEAT_EVERY_S + 1)
        with RunStore(self.store_path) as store:
            store.release_lease(self.run_id, self.token)
