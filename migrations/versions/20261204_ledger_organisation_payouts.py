"""ledger: organisations' payout accounts, and withdrawals of an organisation's money

Revision ID: 8e1c5a3f7d20
Revises: 5b8d2e7f4a19
Created: 2026-12-04 18:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e1c5a3f7d20"
down_revision: str | None = "5b8d2e7f4a19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_org_payout_accounts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("masked", sa.String(length=40), nullable=False),
        sa.Column("account_hash", sa.String(length=64), nullable=False),
        sa.Column("account_number", sa.String(length=40), nullable=False),
        sa.Column("bound_by", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('alipay', 'bank')", name=op.f("ck_ledger_org_payout_accounts_kind")
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_ledger_org_payout_accounts")),
    )
    op.create_index(
        op.f("ix_ledger_org_payout_accounts_account_hash"),
        "ledger_org_payout_accounts",
        ["account_hash"],
    )
    op.add_column("ledger_withdrawals", sa.Column("org_id", sa.Uuid(), nullable=True))
    op.create_index(op.f("ix_ledger_withdrawals_org_id"), "ledger_withdrawals", ["org_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_withdrawals_org_id"), table_name="ledger_withdrawals")
    op.drop_column("ledger_withdrawals", "org_id")
    op.drop_table("ledger_org_payout_accounts")
