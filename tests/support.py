"""What tests share besides fixtures: paths and running child processes."""

import os
import shutil
import subprocess
import sys
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


# The command prefix that runs ``manage.py`` with the suite's Python.
MANAGE = [sys.executable, str(ROOT / "manage.py")]

# The rung that tests whose subject is not the ladder keep (the ``small_ladder`` fixture).
SMALL_RUNG = "360p"


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for a child process of the suite (same Python, no stray .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update({"DJANGO_READ_DOT_ENV_FILE": "false", "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def run(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run a command from the project root and capture its output as text."""
    return subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, check=False, env=env, timeout=timeout
    )


def which(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed"
    return path


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
]


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium, headless, allowed to autoplay; no network beyond loopback."""
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


class QuietHTTPServer(ThreadingHTTPServer):
    """A local test server that prints no traceback when a client hangs up (a timeout test's
    client, a player moving on). Besides the noise: CPython 3.11 formats tracebacks with
    ``ast.parse``, whose AST conversion is not thread-safe, so a traceback printed from this
    thread while a test parses sources (``tests/test_layers.py``) can fail that test with
    "AST constructor recursion depth mismatch"."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):  # BrokenPipeError, ConnectionResetError...
            return
        super().handle_error(request, client_address)
