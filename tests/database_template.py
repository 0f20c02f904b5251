"""The test database is migrated once, then cloned: PostgreSQL's ``CREATE DATABASE ... TEMPLATE``.

Migrating costs each xdist worker about 13 s of CPU. The first worker that needs a test database
migrates its own, then copies it into a template named after a digest of the migrations, the
settings and the installed packages; the other workers (and later runs, while nothing of that
changes) clone the template in a fraction of a second. A PostgreSQL advisory lock orders the
workers (and concurrent runs of the same database name). Each worker still gets its own database (pytest-django's ``_gw0``, ``_gw1``...); only
how it is filled changes. Templates of older digests are dropped when a new one is made.
"""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connections

from tests.artefact_cache import packages_digest
from tests.support import ROOT

TEMPLATE_MARK = "_tpl_"
MAX_NAME = 63  # PostgreSQL's identifier length


def schema_digest() -> str:
    """What the migrated database depends on: migrations, models, settings, package versions."""
    digest = hashlib.sha256()
    sources = ("*/migrations/*.py", "*/models.py", "*/models/*.py", "config/settings/*.py")
    for path in sorted(path for pattern in sources for path in ROOT.glob(pattern)):
        digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    digest.update(packages_digest().encode())
    return digest.hexdigest()[:12]


def template_name(test_name: str, worker: str) -> str:
    """``test_carillon_gw1`` → ``test_carillon_tpl_<digest>`` (one template for all workers)."""
    base = test_name.removesuffix(f"_{worker}") if worker else test_name
    suffix = f"{TEMPLATE_MARK}{schema_digest()}"
    return base[: MAX_NAME - len(suffix)] + suffix


def install(alias: str = "default") -> None:
    """Make ``create_test_db`` of ``alias`` clone the template (made on first use)."""
    creation = connections[alias].creation
    original: Callable[..., str] = creation.create_test_db

    def create_test_db(
        verbosity: int = 1, autoclobber: bool = False, serialize: bool = True, keepdb: bool = False
    ) -> str:
        if keepdb or connections[alias].vendor != "postgresql":
            return original(verbosity, autoclobber, serialize, keepdb)
        name = _create_from_template(creation, original, verbosity=verbosity)
        if serialize:
            creation.connection._test_serialized_contents = creation.serialize_db_to_string()
        creation.connection.ensure_connection()
        return name

    creation.create_test_db = create_test_db  # type: ignore[method-assign]


def _create_from_template(creation: Any, original: Callable[..., str], *, verbosity: int) -> str:
    connection = creation.connection
    name = creation._get_test_db_name()
    template = template_name(name, settings.CARILLON_TEST_WORKER)
    prefix = template[: template.rindex(TEMPLATE_MARK) + len(TEMPLATE_MARK)]
    with _nodb_cursor(creation) as cursor, _advisory_lock(cursor, prefix):
        if _exists(cursor, template):
            cursor.execute(f"DROP DATABASE IF EXISTS {_quote(name)}")
            cursor.execute(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}")
            connection.close()
            settings.DATABASES[connection.alias]["NAME"] = name
            connection.settings_dict["NAME"] = name
        else:
            original(verbosity, True, False, False)  # migrate; serialized by the caller
            connection.close()  # a template's source must have no session
            cursor.execute(f"CREATE DATABASE {_quote(template)} TEMPLATE {_quote(name)}")
            _drop_older_templates(cursor, prefix=prefix, keep=template)
    return name


@contextmanager
def _nodb_cursor(creation: Any) -> Iterator[Any]:
    with creation._nodb_cursor() as cursor:
        yield cursor


@contextmanager
def _advisory_lock(cursor: Any, name: str) -> Iterator[None]:
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _exists(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
    return cursor.fetchone() is not None


def _drop_older_templates(cursor: Any, *, prefix: str, keep: str) -> None:
    cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix])
    for (old,) in cursor.fetchall():
        if old != keep:
            cursor.execute(f"DROP DATABASE IF EXISTS {_quote(old)}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
