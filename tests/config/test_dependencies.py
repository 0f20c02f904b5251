"""A production install (``pip install .``, no development extra, as the Dockerfile does) has
everything the application imports.

Creating a fresh virtual environment per run would be too slow, so the test reads the facts
instead: the main dependencies of ``pyproject.toml`` and what they pull in, as installed
(``importlib.metadata``), against every third-party module that the application's code imports
(read with ``ast``); then, in an isolated interpreter where modules that only development
dependencies provide cannot be imported, it imports every module of the application under the
production settings.
"""

import ast
import json
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support import ROOT, run, subprocess_env

PACKAGES = ("config", "cms", "broadcasting", "playlists", "city_feeds")
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-enough-and-random-0123456789",
    "DJANGO_ALLOWED_HOSTS": "tv.chartres.fr",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/carillon",
}

# Run with ``python -I``: argv[1] is the project root, argv[2] the modules that a production
# install lacks, argv[3] the modules to import.
IMPORT_ALL = """
import importlib, importlib.abc, json, sys
root, missing, modules = sys.argv[1], set(json.loads(sys.argv[2])), json.loads(sys.argv[3])

class NotInstalledInProduction(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in missing:
            raise ModuleNotFoundError(f"No module named {name!r} in production", name=name)
        return None

sys.meta_path.insert(0, NotInstalledInProduction())
sys.path.insert(0, root)
import django
django.setup()
failed = {}
for module in modules:
    try:
        importlib.import_module(module)
    except ImportError as err:
        failed[module] = str(err)
print(json.dumps(failed))
"""


def main_dependencies() -> set[str]:
    """Distributions installed by the main dependencies, transitively (extras and markers
    honoured), as canonical names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pending = [Requirement(line) for line in project["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    found: set[str] = set()
    while pending:
        requirement = pending.pop()
        name, extras = canonicalize_name(requirement.name), frozenset(requirement.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        found.add(name)
        for line in metadata.requires(name) or []:
            child = Requirement(line)
            if child.marker is None or any(
                child.marker.evaluate({"extra": extra}) for extra in {"", *extras}
            ):
                pending.append(child)
    return found


def provided_modules(distributions: set[str]) -> tuple[set[str], set[str]]:
    """Top-level modules of the installed distributions: those that ``distributions`` provide,
    and those that only other (development) distributions provide."""
    provided, others = set(), set()
    for module, owners in metadata.packages_distributions().items():
        if {canonicalize_name(owner) for owner in owners} & distributions:
            provided.add(module)
        else:
            others.add(module)
    return provided, others - set(PACKAGES)


def application_files() -> Iterator[Path]:
    yield ROOT / "manage.py"
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def third_party_imports() -> dict[str, set[str]]:
    """Each third-party top-level module imported by the application, with the files that do."""
    imports: dict[str, set[str]] = {}
    for path in application_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for top in {name.partition(".")[0] for name in names}:
                if top not in sys.stdlib_module_names and top not in PACKAGES:
                    imports.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return imports


def application_modules() -> list[str]:
    modules = []
    for path in application_files():
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts != ["manage"]:
            modules.append(".".join(parts))
    return modules


def test_every_third_party_module_of_the_application_comes_with_a_main_dependency() -> None:
    provided, _ = provided_modules(main_dependencies())
    imports = third_party_imports()
    assert {"django", "wagtail", "celery", "redis"} <= set(imports)
    missing = {module: sorted(files) for module, files in imports.items() if module not in provided}
    assert not missing, f"imported, but not installed in production: {missing}"


def test_the_application_imports_under_production_settings_without_development_packages() -> None:
    """Every URLconf, task and management command, the ASGI/WSGI entry points and the Celery
    app: every module of the application, with development-only packages unimportable."""
    _, development_only = provided_modules(main_dependencies())
    assert "pytest" in development_only
    modules = application_modules()
    assert {"config.urls", "broadcasting.tasks", "config.asgi"} <= set(modules)
    result = run(
        [
            sys.executable, "-I", "-c", IMPORT_ALL, str(ROOT),
            json.dumps(sorted(development_only)), json.dumps(modules),
        ],
        subprocess_env(DJANGO_READ_DOT_ENV_FILE="false", **PRODUCTION_ENV),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout) == {}
