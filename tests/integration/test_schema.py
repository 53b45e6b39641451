"""The migrations build exactly the tables the models describe and keep the data they
reshape; the audit log is append-only in the database itself."""

from __future__ import annotations

import uuid
from datetime import UTC

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine

from xingdong.core.audit import AuditEntry, record_audit
from xingdong.core.db import Base, Database, libpq_url
from xingdong.core.migrate import upgrade
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


def test_the_exposure_log_keeps_its_rows_as_one_row_a_feed(scratch_db: str) -> None:
    # The revision before: one row a task shown.
    upgrade(scratch_db, "68272cc6d32d")
    person, first, second = (str(uuid.uuid4()) for _ in range(3))
    with psycopg.connect(libpq_url(scratch_db), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO people (id, phone, password_hash, display_name)"
            " VALUES (%s, '+8613900000000', '-', 'x')",
            [person],
        )
        # Campaigns are left out of the picture: their foreign key is not checked here.
        conn.execute("SET session_replication_role = replica")
        for shown_at, rows in (
            ("2026-12-01 10:00+00", [(first, 0, "new_this_hour"), (second, 1, "recommended")]),
            ("2026-12-01 11:00+00", [(second, 0, "good_reward")]),
        ):
            for campaign, position, reason in reversed(rows):
                conn.execute(
                    "INSERT INTO dispatch_exposures"
                    " (person_id, campaign_id, shown_at, position, reason)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [person, campaign, shown_at, position, reason],
                )
    upgrade(scratch_db)
    with psycopg.connect(libpq_url(scratch_db)) as conn:
        feeds = conn.execute(
            "SELECT person_id::text, campaign_ids::text[], reasons::text[]"
            " FROM dispatch_shown_feeds ORDER BY shown_at"
        ).fetchall()
    assert feeds == [
        (person, [first, second], ["new_this_hour", "recommended"]),
        (person, [second], ["good_reward"]),
    ]
    # And the campaigns' showings per hour are counted from them.
    with psycopg.connect(libpq_url(scratch_db)) as conn:
        counts = conn.execute(
            "SELECT campaign_id::text, hour, shown FROM dispatch_campaign_showings"
            " ORDER BY hour, shown"
        ).fetchall()
    hours = sorted((c, h.astimezone(UTC).hour, n) for c, h, n in counts)
    assert hours == sorted([(first, 10, 1), (second, 10, 1), (second, 11, 1)])
