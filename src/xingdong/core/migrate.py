"""Running Alembic from code: ``xingdong db upgrade``, the demo, and the tests."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config

from xingdong.core.db import async_url


def migrations_dir() -> Path:
    """Migrations ship inside the wheel as ``xingdong/_migrations``; in a checkout they
    are the repository's ``migrations/``."""
    packaged = Path(__file__).resolve().parent.parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(slug)s")
    config.set_main_option("timezone", "UTC")
    config.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations. The Alembic environment runs its own event loop, so when one is
    already running in this thread the work moves to a fresh thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(database_url), revision)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, alembic_config(database_url), revision).result()


def revision(database_url: str, message: str, *, autogenerate: bool = True) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=autogenerate)


@dataclass(frozen=True)
class SchemaStanding:
    """Where a database's schema stands against this release's migrations."""

    current: tuple[str, ...]
    """The revisions the database records (none: never migrated)."""
    heads: tuple[str, ...]
    """The newest revisions this release has."""
    unknown: tuple[str, ...]
    """Recorded revisions this release does not have: a newer release migrated it."""

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def behind(self) -> bool:
        """Migrations of this release are still to run (or none ever ran)."""
        return not self.up_to_date and not self.unknown


def schema_standing(database_url: str) -> SchemaStanding:
    """Read the database's recorded revisions and compare them with this release's.

    Raises psycopg's ``OperationalError`` when the database cannot be reached."""
    import psycopg
    from alembic.script import ScriptDirectory

    from xingdong.core.db import libpq_url

    with psycopg.connect(libpq_url(database_url), connect_timeout=10) as conn:
        present = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()
        rows = (
            conn.execute("SELECT version_num FROM alembic_version").fetchall()
            if present and present[0]
            else []
        )
    current = tuple(sorted(str(row[0]) for row in rows))
    script = ScriptDirectory.from_config(alembic_config(database_url))
    known = {revision.revision for revision in script.walk_revisions()}
    return SchemaStanding(
        current=current,
        heads=tuple(sorted(script.get_heads())),
        unknown=tuple(revision for revision in current if revision not in known),
    )
