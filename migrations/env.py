"""Alembic environment: runs migrations on the async engine, with lock and statement
timeouts so a migration waits briefly for locks instead of queueing behind traffic."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from xingdong.core.db import Base, async_url
from xingdong.models import import_all_models

import_all_models()
config = context.config
target_metadata = Base.metadata

# Tables that belong to procrastinate (created by its own schema in a migration).
EXTERNAL_TABLE_PREFIXES = ("procrastinate_",)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if type_ == "table" and name and name.startswith(EXTERNAL_TABLE_PREFIXES):
        return False
    table = getattr(obj, "table", None)
    table_name = getattr(table, "name", "") or ""
    return not table_name.startswith(EXTERNAL_TABLE_PREFIXES)


def do_run_migrations(connection: Connection) -> None:
    connection.execute(text("SET lock_timeout = '5s'"))
    connection.execute(text("SET statement_timeout = '120s'"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: run migrations with `xingdong db upgrade`")
    engine = create_async_engine(async_url(url))
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
