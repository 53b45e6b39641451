"""identity: when an account was erased (PIPL art. 47); ledger: closed accounts

Revision ID: 5d2b8e7c4a91
Revises: 2c7e4a9b1f35
Created: 2026-12-05 00:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2b8e7c4a91"
down_revision: str | None = "2c7e4a9b1f35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("people", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "ledger_accounts", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("ledger_accounts", "closed_at")
    op.drop_column("people", "erased_at")
