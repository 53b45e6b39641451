"""creators: agencies' (MCN) contracts with creators, and the share of rewards they take

Revision ID: 5b8d2e7f4a19
Revises: 3e6a9d1c4b57
Created: 2026-12-04 18:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b8d2e7f4a19"
down_revision: str | None = "3e6a9d1c4b57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_contracts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("share_percent", sa.Integer(), nullable=False),
        sa.Column(
            "status", sa.String(length=10), server_default=sa.text("'offered'"), nullable=False
        ),
        sa.Column("offered_by", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "share_percent BETWEEN 1 AND 50", name=op.f("ck_agency_contracts_share")
        ),
        sa.CheckConstraint(
            "status IN ('offered', 'active', 'declined', 'withdrawn', 'ended')",
            name=op.f("ck_agency_contracts_status"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('active', 'ended')"
            " OR (person_id IS NOT NULL AND started_at IS NOT NULL)",
            name=op.f("ck_agency_contracts_signed"),
        ),
        sa.ForeignKeyConstraint(
            ["ended_by"], ["people.id"], name=op.f("fk_agency_contracts_ended_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["offered_by"], ["people.id"], name=op.f("fk_agency_contracts_offered_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_agency_contracts_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_agency_contracts_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_contracts")),
    )
    op.create_index(op.f("ix_agency_contracts_org_id"), "agency_contracts", ["org_id"])
    op.create_index(op.f("ix_agency_contracts_person_id"), "agency_contracts", ["person_id"])
    op.create_index(op.f("ix_agency_contracts_phone"), "agency_contracts", ["phone"])
    op.create_index(
        "uq_agency_contracts_active_person",
        "agency_contracts",
        ["person_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "uq_agency_contracts_open",
        "agency_contracts",
        ["org_id", "phone"],
        unique=True,
        postgresql_where=sa.text("status IN ('offered', 'active')"),
    )


def downgrade() -> None:
    op.drop_table("agency_contracts")
