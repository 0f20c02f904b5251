"""The shape of the house: imports run downhill only (DESIGN.md, "Apps and what each owns").

media ← playlists ← live ← cms, city_feeds ← delivery. Every import of every module is read
from its syntax tree, function-level imports included, so a shortcut taken inside a function
body breaks this test as surely as one at the top of a file. The glue of ``broadcasting`` (its
models and signals, shared by every wing, and its tasks, admin hooks, URLs, template tags,
demo and management commands, which wire the wings together) sits outside the ranking.
Migrations import no project code but the models' own validators and fields (which Django's
autodetector writes by path): they keep meaning what they meant when they were written.
"""

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

RANKS = {"media": 0, "playlists": 1, "live": 2, "site": 3, "delivery": 4}
APPS = ("broadcasting", "playlists", "cms", "city_feeds")
SHARED = {"broadcasting.models", "broadcasting.signals"}  # the models every wing stands on


def wing(module: str) -> str | None:
    """The wing of a dotted module name, or ``None`` for glue and modules outside the apps."""
    parts = module.split(".")
    if parts[0] == "broadcasting" and len(parts) > 1 and parts[1] in ("media", "live", "delivery"):
        return parts[1]
    if any(module == shared or module.startswith(f"{shared}.") for shared in SHARED):
        return "media"
    if parts[0] == "playlists":
        return "playlists"
    if parts[0] in ("cms", "city_feeds"):
        return "site"
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, *, module: str, is_package: bool = False) -> set[str]:
    """Every module named by an import anywhere in ``source`` (relative ones resolved)."""
    found: set[str] = set()
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def violations(source: str, *, module: str, is_package: bool = False) -> list[str]:
    """The imports of ``module`` that run uphill."""
    own = wing(module)
    if own is None:
        return []
    bad = []
    for target in sorted(imported_modules(source, module=module, is_package=is_package)):
        other = wing(target)
        if other is not None and RANKS[other] > RANKS[own]:
            bad.append(f"{module} ({own}) imports {target} ({other})")
    return bad


def project_files() -> list[Path]:
    return sorted(
        path
        for app in APPS
        if (ROOT / app).is_dir()
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_every_import_runs_downhill() -> None:
    bad: list[str] = []
    for path in project_files():
        bad += violations(
            path.read_text(), module=module_name(path), is_package=path.name == "__init__.py"
        )
    assert not bad, "\n".join(bad)


def test_migrations_import_no_project_code() -> None:
    bad = []
    for app in APPS:
        for path in sorted((ROOT / app).glob("migrations/*.py")):
            for target in imported_modules(path.read_text(), module=module_name(path)):
                app_models = target.split(".")[:2]
                if target.split(".")[0] in APPS and app_models[1:] != ["models"]:
                    bad.append(f"{module_name(path)} imports {target}")
    assert not bad, "\n".join(bad)


def test_the_wings_exist() -> None:
    for package in ("media", "live", "delivery"):
        assert (ROOT / "broadcasting" / package / "__init__.py").is_file()
    assert project_files(), "no module found: the check would pass on nothing"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("broadcasting.media.ladder", "from playlists.models import Channel"),
        ("broadcasting.media.hls", "def f():\n    from broadcasting.live import playout\n"),
        ("playlists.selectors", "import broadcasting.delivery.tv"),
        ("playlists.api", "from broadcasting.live.store import master_url"),
        ("broadcasting.live.playout", "from broadcasting.delivery import stream"),
        ("broadcasting.live.playout", "from cms.models import ChannelPage"),
        ("cms.models", "from broadcasting.delivery.tv import player_data"),
        ("broadcasting.media.storage", "from ..live import store"),
        ("broadcasting.models", "from broadcasting.live.slate import MESSAGE"),
    ],
)
def test_an_uphill_import_is_caught(module: str, source: str) -> None:
    assert violations(source, module=module)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("broadcasting.live.playout", "from playlists.models import Channel"),
        ("broadcasting.delivery.tv", "from broadcasting.live.store import master_url"),
        ("cms.models", "from broadcasting.live import slate"),
        ("playlists.selectors", "from broadcasting.media.storage import public_storage"),
        ("broadcasting.media.services", "from . import intake"),
        ("broadcasting.urls", "from broadcasting.delivery import tv"),
    ],
)
def test_a_downhill_import_is_allowed(module: str, source: str) -> None:
    assert not violations(source, module=module)
