"""campaigns and the task lifecycle

Revision ID: f1a9c3b70e03
Revises: e7b2d4f60a02
Created: 2026-12-01 16:30:00+00:00
"""

from collections.abc import Sequence

revision: str = 'f1a9c3b70e03'
down_revision: str | None = 'e7b2d4f60a02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
