"""The one place where ffmpeg and ffprobe are run.

Commands are built elsewhere by pure functions (``list[str]``); this module runs them with
``shell=False``, a wall-clock timeout, CPU-time and memory limits, and a parent-death signal so
that ffmpeg dies with the worker that started it. Failures raise ``FFmpegError`` carrying the
tail of stderr. ``-progress pipe:1`` blocks are parsed and handed to a callback.
"""

import ctypes
import enum
import logging
import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
STDERR_TAIL_CHARS = 4000
ProgressCallback = Callable[[dict[str, str]], None]


class FailureKind(enum.StrEnum):
    """Why a run failed: bad content is final, infrastructure and timeouts may be retried."""

    CONTENT = "content"
    TIMEOUT = "timeout"
    INFRASTRUCTURE = "infrastructure"


class FFmpegError(Exception):
    """An ffmpeg/ffprobe run failed; ``stderr_tail`` holds the end of its diagnostics."""

    def __init__(
        self,
        message: str,
        *,
        kind: FailureKind,
        returncode: int | None = None,
        stderr_tail: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.returncode = returncode
        self.stderr_tail = stderr_tail

    def __str__(self) -> str:
        tail = self.stderr_tail.strip().splitlines()[-3:]
        return f"{self.args[0]} (exit {self.returncode}): {' | '.join(tail)}"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run."""

    wall_seconds: float = 3600.0
    cpu_seconds: int | None = None
    memory_bytes: int | None = 4 * 1024**3


@dataclass(frozen=True)
class RunResult:
    stdout: str
    stderr: str
    seconds: float


def _child_setup(limits: Limits) -> Callable[[], None]:
    def setup() -> None:
        os.setsid()
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if limits.cpu_seconds:
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        if limits.memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))

    return setup


def _classify(returncode: int) -> FailureKind:
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return FailureKind.TIMEOUT
    if returncode < 0:
        return FailureKind.INFRASTRUCTURE
    return FailureKind.CONTENT


class _ProgressParser:
    """Accumulate ``key=value`` lines of ``-progress`` and emit a block at each ``progress=``."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.callback = callback
        self.block: dict[str, str] = {}
        self.buffer = ""

    def feed(self, text: str) -> None:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            key, sep, value = line.strip().partition("=")
            if not sep:
                continue
            self.block[key] = value
            if key == "progress":
                if self.callback is not None:
                    self.callback(self.block)
                self.block = {}


def run(
    args: Sequence[str],
    *,
    limits: Limits | None = None,
    on_progress: ProgressCallback | None = None,
    cwd: Path | None = None,
) -> RunResult:
    """Run ffmpeg or ffprobe; return its output, or raise ``FFmpegError``.

    With ``on_progress``, the command must write ``-progress pipe:1`` to stdout.
    """
    limits = limits or Limits()
    started = time.monotonic()
    process = subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        preexec_fn=_child_setup(limits),  # noqa: PLW1509 - limits must be set in the child
    )
    parser = _ProgressParser(on_progress)
    stdout_parts: list[str] = []
    stderr_parts: list[str] = []
    try:
        _pump(process, limits, started, parser, stdout_parts, stderr_parts)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stderr = "".join(stderr_parts)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise FFmpegError(
            f"{Path(args[0]).name} failed",
            kind=_classify(process.returncode),
            returncode=process.returncode,
            stderr_tail=stderr[-STDERR_TAIL_CHARS:],
        )
    return RunResult(stdout="".join(stdout_parts), stderr=stderr, seconds=seconds)


def _pump(
    process: subprocess.Popen[bytes],
    limits: Limits,
    started: float,
    parser: _ProgressParser,
    stdout_parts: list[str],
    stderr_parts: list[str],
) -> None:
    """Read both pipes until the process ends, enforcing the wall-clock limit."""
    assert process.stdout is not None and process.stderr is not None  # noqa: S101
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, "out")
        selector.register(process.stderr, selectors.EVENT_READ, "err")
        open_pipes = 2
        while open_pipes:
            remaining = limits.wall_seconds - (time.monotonic() - started)
            if remaining <= 0:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise FFmpegError(
                    f"run exceeded {limits.wall_seconds:.0f} s",
                    kind=FailureKind.TIMEOUT,
                    returncode=process.returncode,
                    stderr_tail="".join(stderr_parts)[-STDERR_TAIL_CHARS:],
                )
            for key, _ in selector.select(timeout=min(remaining, 1.0)):
                chunk = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_pipes -= 1
                    continue
                text = chunk.decode("utf-8", errors="replace")
                if key.data == "out":
                    stdout_parts.append(text)
                    parser.feed(text)
                else:
                    stderr_parts.append(text)
                    if sum(map(len, stderr_parts)) > 4 * STDERR_TAIL_CHARS:
                        joined = "".join(stderr_parts)[-2 * STDERR_TAIL_CHARS :]
                        stderr_parts[:] = [joined]
    process.wait(timeout=max(1.0, limits.wall_seconds - (time.monotonic() - started)))
