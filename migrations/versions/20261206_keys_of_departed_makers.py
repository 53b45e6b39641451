"""revoke the API keys whose maker left their organisation

A key already stopped working when its maker left; it is now revoked then too, so that
lists show it as revoked and it leaves its place among the organisation's keys.

Revision ID: f4b8c0d3e5a9
Revises: e3a7b9d2f4c8
Created: 2026-12-06 09:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'f4b8c0d3e5a9'
down_revision: str | None = 'e3a7b9d2f4c8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A membership younger than the key means the maker left and came back: the key
    # ended when they left.
    op.execute(
        """
        UPDATE org_api_keys AS k SET revoked_at = now()
        WHERE k.revoked_at IS NULL
          AND NOT EXISTS (
            SELECT 1 FROM memberships AS m
            WHERE m.org_id = k.org_id AND m.person_id = k.created_by
              AND m.created_at <= k.created_at
          )
        """
    )


def downgrade() -> None:
    # Which keys this revoked is not recorded; they stay revoked (they did not work).
    pass
