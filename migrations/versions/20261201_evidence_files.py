"""evidence: uploaded files and their hashes

Revision ID: e7b2d4f60a02
Revises: c3d5a8e1f001
Created: 2026-12-01 16:30:00+00:00
"""

from collections.abc import Sequence

revision: str = 'e7b2d4f60a02'
down_revision: str | None = 'c3d5a8e1f001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
