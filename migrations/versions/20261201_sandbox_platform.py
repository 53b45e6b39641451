"""platforms: the sandbox short-video platform

Revision ID: c3d5a8e1f001
Revises: 7faea5f638ea
Created: 2026-12-01 16:30:00+00:00
"""

from collections.abc import Sequence

revision: str = 'c3d5a8e1f001'
down_revision: str | None = '7faea5f638ea'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
