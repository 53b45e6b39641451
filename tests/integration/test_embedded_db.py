"""With no database configured, an embedded PostgreSQL starts in the data folder."""

from __future__ import annotations

from pathlib import Path

import psycopg

from xingdong.core.db import libpq_url
from xingdong.core.migrate import upgrade
from xingdong.core.runtime import resolve_database_url
from xingdong.core.settings import Settings


def test_embedded_postgres_starts_migrates_and_is_reused(tmp_path: Path) -> None:
    settings = Settings(database_url=None, data_dir=tmp_path)
    url = resolve_database_url(settings)
    assert (tmp_path / "postgres" / "PG_VERSION").exists()
    upgrade(url)
    with psycopg.connect(libpq_url(url)) as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables")}
    assert {"people", "audit_log", "procrastinate_jobs"} <= tables
    # Asking again in the same process finds the running server, not a second one.
    assert resolve_database_url(settings) == url
