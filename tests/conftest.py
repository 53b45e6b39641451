"""Shared fixtures: a real, migrated PostgreSQL for the whole run, emptied between tests.

The database comes from ``XINGDONG_TEST_DATABASE_URL`` (a server the test may create
databases on), or else from an embedded PostgreSQL started for the run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from xingdong.core.db import libpq_url
from xingdong.core.migrate import upgrade

# Passwords hashed at argon2's lowest cost: at the standard cost each person a test signs
# up costs a quarter of a second of CPU. Servers the tests start inherit it.
os.environ.setdefault("XINGDONG_PASSWORD_HASHING", "cheapest")

TEST_DB_NAME = "xingdong_test"
# Emptied between tests, except Alembic's version and the registered job workers (a running
# server's worker must stay registered).
KEEP_TABLES = {"alembic_version", "procrastinate_workers"}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the feed's loops before any test, so that servers the tests start load
    them from the disk cache instead of compiling while a test waits for them."""
    from xingdong.dispatch import kernels

    kernels.warm_up()


def _server_url() -> str:
    configured = os.environ.get("XINGDONG_TEST_DATABASE_URL")
    if configured:
        return libpq_url(configured)
    from xingdong.core.embedded_db import start_embedded_postgres

    data_dir = Path(tempfile.mkdtemp(prefix="xingdong-test-pg-"))
    return libpq_url(start_embedded_postgres(data_dir))


def _with_database(url: str, name: str) -> str:
    """The same server URL pointing at database ``name``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _drop_database(url: str, name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _create_database(url: str, name: str) -> str:
    """A new, empty database ``name`` on the server of ``url`` (dropped first if left
    over); its URL."""
    _drop_database(url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_database(url, name)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server = _server_url()
    # A database per run, so runs sharing one server (two checkouts, parallel workers)
    # never drop each other's tables.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{TEST_DB_NAME}_{worker}_{os.getpid()}"
    url = _create_database(server, name)
    upgrade(url)
    yield url
    _drop_database(server, name)


@pytest.fixture
def scratch_db(database_url: str) -> Iterator[str]:
    """An empty database of its own on the test server, no migrations applied (for
    tests of the migrations themselves)."""
    name = f"{TEST_DB_NAME}_scratch_{os.getpid()}"
    url = _create_database(database_url, name)
    yield url
    _drop_database(database_url, name)


# What each test database holds: its tables (bar ``KEEP_TABLES``), and the sequences
# their columns own, read once a database.
_LAYOUTS: dict[str, dict[str, list[str]]] = {}

_OWNED_SEQUENCES = """
    SELECT t.relname AS table_name, s.relname AS sequence_name
    FROM pg_class s
    JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
        AND d.refclassid = 'pg_class'::regclass
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE s.relkind = 'S' AND n.nspname = 'public'
"""


def _layout(conn: psycopg.Connection[tuple[object, ...]], url: str) -> dict[str, list[str]]:
    layout = _LAYOUTS.get(url)
    if layout is None:
        layout = {
            str(row[0]): []
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
            if row[0] not in KEEP_TABLES
        }
        for table, sequence in conn.execute(_OWNED_SEQUENCES).fetchall():
            if str(table) in layout:
                layout[str(table)].append(str(sequence))
        _LAYOUTS[url] = layout
    return layout


def empty_tables(url: str) -> None:
    """Empty every table a test wrote to and start its sequences again, as a fresh
    database has them. Only the tables holding rows are emptied (a test writes to a few
    of the eighty): TRUNCATE of them all took a fifth of a second before every test."""
    with psycopg.connect(url, autocommit=True) as conn:
        layout = _layout(conn, url)
        holding = sql.SQL(" UNION ALL ").join(
            sql.SQL("(SELECT {} FROM {} LIMIT 1)").format(sql.Literal(t), sql.Identifier(t))
            for t in layout
        )
        tables = [str(row[0]) for row in conn.execute(holding).fetchall()]
        if not tables:
            return
        # Tests may empty the append-only audit log; production roles cannot. The same
        # setting turns foreign keys' checks off, so the tables empty in any order.
        conn.execute("SET session_replication_role = replica")
        # A running server (the browser tests') may be writing meanwhile; a deadlock
        # with it chooses one side, and if that is this one, it goes again.
        for attempt in range(5):
            try:
                with conn.transaction():
                    for table in tables:
                        conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
                        for sequence in layout[table]:
                            conn.execute(
                                sql.SQL("ALTER SEQUENCE {} RESTART").format(
                                    sql.Identifier(sequence)
                                )
                            )
                break
            except psycopg.errors.DeadlockDetected:
                if attempt == 4:
                    raise


@pytest.fixture
def clean_db(database_url: str) -> str:
    empty_tables(database_url)
    return database_url
