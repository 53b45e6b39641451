"""The migrations build exactly the tables the models describe; the audit log is
append-only in the database itself."""

from __future__ import annotations

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine

from xingdong.core.audit import AuditEntry, record_audit
from xingdong.core.db import Base, Database, libpq_url
from xingdong.models import import_all_models


def test_models_and_migrations_agree(clean_db: str) -> None:
    import_all_models()
    engine = create_engine(clean_db.replace("postgresql://", "postgresql+psycopg://", 1))

    def include(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        return not (name or "").startswith("procrastinate") and not getattr(
            getattr(obj, "table", None), "name", ""
        ).startswith("procrastinate")

    with engine.connect() as conn:
        assert isinstance(conn, Connection)
        context = MigrationContext.configure(
            conn, opts={"include_object": include, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


async def test_audit_entries_cannot_be_changed_or_deleted(db: Database) -> None:
    async with db.session_scope() as s:
        await record_audit(
            s, actor_id=None, action="test.written", object_type="test", object_id="1"
        )
    with psycopg.connect(libpq_url(db.url)) as conn:
        for statement in (
            "UPDATE audit_log SET action = 'test.forged'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
    async with db.sessionmaker() as s:
        from sqlalchemy import select

        actions = (await s.execute(select(AuditEntry.action))).scalars().all()
    assert actions == ["test.written"]
