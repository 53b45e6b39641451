"""The sandbox platform's migrations build exactly the tables its models describe, and its
first migration's downgrade removes them (on a database of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import sql
from sqlalchemy import Connection, create_engine

from xingdong.core.db import Base, libpq_url
from xingdong.core.migrate import alembic_config, upgrade
from xingdong.platforms.sandbox import models

REVISION = "c3d5a8e1f001"
PREVIOUS = "7faea5f638ea"
TABLES = {
    model.__tablename__
    for model in (
        models.SandboxAccount,
        models.SandboxVideo,
        models.SandboxLiveRoom,
        models.SandboxFollow,
        models.SandboxLike,
        models.SandboxComment,
        models.SandboxShare,
        models.SandboxLiveVisit,
    )
}


@pytest.fixture
def own_database(database_url: str) -> Iterator[str]:
    parts = urlsplit(libpq_url(database_url))
    name = parts.path.lstrip("/") + "_sandbox_mig"
    server = libpq_url(database_url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _differences(url: str) -> list[object]:
    def mine(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        return table in TABLES

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            assert isinstance(conn, Connection)
            context = MigrationContext.configure(
                conn, opts={"include_object": mine, "compare_server_default": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _sandbox_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows} & TABLES


def test_the_migration_matches_the_models_and_downgrades_cleanly(own_database: str) -> None:
    # The models as they are now against every migration since (later ones add columns).
    upgrade(own_database, "head")
    assert _differences(own_database) == []
    command.downgrade(alembic_config(own_database), REVISION)
    assert _sandbox_tables(own_database) == TABLES
    command.downgrade(alembic_config(own_database), PREVIOUS)
    assert _sandbox_tables(own_database) == set()
    upgrade(own_database, REVISION)
    assert _sandbox_tables(own_database) == TABLES
