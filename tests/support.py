"""What tests share besides fixtures: paths and running child processes."""

import os
import shutil
import subprocess
import sys
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
