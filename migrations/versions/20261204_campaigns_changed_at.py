"""campaigns changed_at: when a campaign's row last changed, set by the database

Revision ID: 9c4a7e2f1b38
Revises: 5b8e1d4c7a20
Created: 2026-12-04 08:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9c4a7e2f1b38'
down_revision: str | None = '5b8e1d4c7a20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Not indexed: a claim writes its campaign's row, and an index on a column every write
# changes would make each such update write every index of the table (no heap-only
# update); the reader's scan of the table each second costs the database about what the
# full read did.
#
# The moment of the write itself (clock_timestamp), not of its transaction's start (now()),
# so that a reader looking back a few seconds before its last read catches every change
# that could have committed after that read's snapshot.
FUNCTION = """
CREATE FUNCTION campaigns_stamp_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_at := clock_timestamp();
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column(
        'campaigns',
        sa.Column(
            'changed_at',
            sa.DateTime(timezone=True),
            server_default=sa.text('clock_timestamp()'),
            nullable=False,
        ),
    )
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER campaigns_stamp_change BEFORE INSERT OR UPDATE ON campaigns "
        "FOR EACH ROW EXECUTE FUNCTION campaigns_stamp_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER campaigns_stamp_change ON campaigns")
    op.execute("DROP FUNCTION campaigns_stamp_change()")
    op.drop_column('campaigns', 'changed_at')
