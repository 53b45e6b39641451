"""dispatch feed facts notices

Revision ID: 7d3f0b6e9c15
Revises: 5e1c9d7a3b20
Created: 2026-12-03 18:20:00+00:00

Every change to what the feed API knows of a person (their token, profile, consent,
bound accounts, hidden tasks and brands, units held) sends the person's id on the
``feed_facts`` channel when it commits, so that serving processes drop what they kept
(``xingdong.dispatch.facts_cache``); emptying a table sends ``*``. Updates notify only
when a column the feed reads moved.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '7d3f0b6e9c15'
down_revision: str | None = '5e1c9d7a3b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION feed_facts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('feed_facts', '*');
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        PERFORM pg_notify('feed_facts', to_jsonb(OLD) ->> TG_ARGV[0]);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM pg_notify('feed_facts', to_jsonb(NEW) ->> TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$
"""

# Each table, the column naming the person, and when an update matters to the feed.
TABLES = {
    "api_tokens": (
        "person_id",
        "(OLD.person_id, OLD.token_digest, OLD.expires_at, OLD.revoked_at) IS DISTINCT FROM "
        "(NEW.person_id, NEW.token_digest, NEW.expires_at, NEW.revoked_at)",
    ),
    "people": (
        "id",
        "(OLD.is_active, OLD.locale, OLD.birth_year, OLD.region, OLD.interests) IS DISTINCT FROM "
        "(NEW.is_active, NEW.locale, NEW.birth_year, NEW.region, NEW.interests)",
    ),
    "consents": (
        "person_id",
        "(OLD.person_id, OLD.agreement_version) IS DISTINCT FROM "
        "(NEW.person_id, NEW.agreement_version)",
    ),
    "platform_accounts": (
        "person_id",
        "(OLD.person_id, OLD.platform, OLD.handle, OLD.followers) IS DISTINCT FROM "
        "(NEW.person_id, NEW.platform, NEW.handle, NEW.followers)",
    ),
    "dispatch_feed_hides": (
        "person_id",
        "(OLD.person_id, OLD.kind, OLD.ref) IS DISTINCT FROM (NEW.person_id, NEW.kind, NEW.ref)",
    ),
    # Units held count every assignment that has not expired.
    "assignments": (
        "person_id",
        "(OLD.person_id, OLD.campaign_id, OLD.status = 'expired') IS DISTINCT FROM "
        "(NEW.person_id, NEW.campaign_id, NEW.status = 'expired')",
    ),
}


def upgrade() -> None:
    op.execute(FUNCTION)
    for table, (key, moved) in TABLES.items():
        op.execute(
            f"CREATE TRIGGER {table}_feed_facts AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION feed_facts_changed('{key}')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_feed_facts_update AFTER UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION feed_facts_changed('{key}')"
        )
        op.execute(
            f"CREATE TRIGGER {table}_feed_facts_truncate AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION feed_facts_changed('{key}')"
        )


def downgrade() -> None:
    for table in TABLES:
        for suffix in ("", "_update", "_truncate"):
            op.execute(f"DROP TRIGGER {table}_feed_facts{suffix} ON {table}")
    op.execute("DROP FUNCTION feed_facts_changed()")
