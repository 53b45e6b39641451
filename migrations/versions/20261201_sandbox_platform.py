"""platforms: the sandbox short-video platform

Revision ID: c3d5a8e1f001
Revises: 7faea5f638ea
Created: 2026-12-01 16:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c3d5a8e1f001'
down_revision: str | None = '7faea5f638ea'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column:
    return sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False)


def _account_fk(table: str, column: str = 'account_id') -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ['sandbox_accounts.id'],
        name=op.f(f'fk_{table}_{column}_sandbox_accounts'), ondelete='CASCADE',
    )


def upgrade() -> None:
    op.create_table('sandbox_accounts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('handle', sa.String(length=40), nullable=False),
    sa.Column('display_name', sa.String(length=40), nullable=False),
    sa.Column('bio', sa.String(length=200), server_default=sa.text("''"), nullable=False),
    sa.Column('followers', sa.Integer(), server_default=sa.text('0'), nullable=False),
    _created_at(),
    sa.CheckConstraint('followers >= 0', name=op.f('ck_sandbox_accounts_followers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_accounts')),
    sa.UniqueConstraint('handle', name=op.f('uq_sandbox_accounts_handle'))
    )
    op.create_table('sandbox_videos',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=1000), server_default=sa.text("''"), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), server_default=sa.text('30'), nullable=False),
    sa.Column('views', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('likes', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('comments', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('shares', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    _created_at(),
    sa.CheckConstraint('duration_seconds > 0', name=op.f('ck_sandbox_videos_duration_positive')),
    sa.CheckConstraint('views >= 0 AND likes >= 0 AND comments >= 0 AND shares >= 0', name=op.f('ck_sandbox_videos_counts_not_negative')),
    _account_fk('sandbox_videos'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_videos'))
    )
    op.create_index(op.f('ix_sandbox_videos_account_id'), 'sandbox_videos', ['account_id'], unique=False)
    op.create_index('ix_sandbox_videos_created_at_id', 'sandbox_videos', ['created_at', 'id'], unique=False)
    op.create_table('sandbox_live_rooms',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('is_live', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('visitors', sa.Integer(), server_default=sa.text('0'), nullable=False),
    _created_at(),
    sa.CheckConstraint('visitors >= 0', name=op.f('ck_sandbox_live_rooms_visitors')),
    _account_fk('sandbox_live_rooms'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_live_rooms'))
    )
    op.create_index(op.f('ix_sandbox_live_rooms_account_id'), 'sandbox_live_rooms', ['account_id'], unique=False)
    op.create_table('sandbox_follows',
    sa.Column('follower_id', sa.Uuid(), nullable=False),
    sa.Column('followee_id', sa.Uuid(), nullable=False),
    _created_at(),
    sa.CheckConstraint('follower_id <> followee_id', name=op.f('ck_sandbox_follows_not_self')),
    _account_fk('sandbox_follows', 'follower_id'),
    _account_fk('sandbox_follows', 'followee_id'),
    sa.PrimaryKeyConstraint('follower_id', 'followee_id', name=op.f('pk_sandbox_follows'))
    )
    op.create_index(op.f('ix_sandbox_follows_followee_id'), 'sandbox_follows', ['followee_id'], unique=False)
    op.create_table('sandbox_likes',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('video_id', sa.Uuid(), nullable=False),
    sa.Column('watched_seconds', sa.Integer(), server_default=sa.text('0'), nullable=False),
    _created_at(),
    sa.CheckConstraint('watched_seconds >= 0', name=op.f('ck_sandbox_likes_watched_seconds')),
    _account_fk('sandbox_likes'),
    sa.ForeignKeyConstraint(['video_id'], ['sandbox_videos.id'], name=op.f('fk_sandbox_likes_video_id_sandbox_videos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'video_id', name=op.f('pk_sandbox_likes'))
    )
    op.create_index(op.f('ix_sandbox_likes_video_id'), 'sandbox_likes', ['video_id'], unique=False)
    op.create_table('sandbox_comments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('video_id', sa.Uuid(), nullable=False),
    sa.Column('body', sa.String(length=300), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    _created_at(),
    _account_fk('sandbox_comments'),
    sa.ForeignKeyConstraint(['video_id'], ['sandbox_videos.id'], name=op.f('fk_sandbox_comments_video_id_sandbox_videos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_comments'))
    )
    op.create_index(op.f('ix_sandbox_comments_account_id'), 'sandbox_comments', ['account_id'], unique=False)
    op.create_index('ix_sandbox_comments_video_created', 'sandbox_comments', ['video_id', 'created_at'], unique=False)
    op.create_table('sandbox_shares',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('video_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    _created_at(),
    sa.CheckConstraint("channel IN ('wechat', 'moments', 'link')", name=op.f('ck_sandbox_shares_channel')),
    _account_fk('sandbox_shares'),
    sa.ForeignKeyConstraint(['video_id'], ['sandbox_videos.id'], name=op.f('fk_sandbox_shares_video_id_sandbox_videos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_shares'))
    )
    op.create_index(op.f('ix_sandbox_shares_account_id'), 'sandbox_shares', ['account_id'], unique=False)
    op.create_index(op.f('ix_sandbox_shares_video_id'), 'sandbox_shares', ['video_id'], unique=False)
    op.create_table('sandbox_live_visits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('room_id', sa.Uuid(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stayed_seconds', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    _created_at(),
    sa.CheckConstraint('stayed_seconds >= 0', name=op.f('ck_sandbox_live_visits_stayed_seconds')),
    _account_fk('sandbox_live_visits'),
    sa.ForeignKeyConstraint(['room_id'], ['sandbox_live_rooms.id'], name=op.f('fk_sandbox_live_visits_room_id_sandbox_live_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_live_visits'))
    )
    op.create_index(op.f('ix_sandbox_live_visits_account_id'), 'sandbox_live_visits', ['account_id'], unique=False)
    op.create_index(op.f('ix_sandbox_live_visits_room_id'), 'sandbox_live_visits', ['room_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sandbox_live_visits_room_id'), table_name='sandbox_live_visits')
    op.drop_index(op.f('ix_sandbox_live_visits_account_id'), table_name='sandbox_live_visits')
    op.drop_table('sandbox_live_visits')
    op.drop_index(op.f('ix_sandbox_shares_video_id'), table_name='sandbox_shares')
    op.drop_index(op.f('ix_sandbox_shares_account_id'), table_name='sandbox_shares')
    op.drop_table('sandbox_shares')
    op.drop_index('ix_sandbox_comments_video_created', table_name='sandbox_comments')
    op.drop_index(op.f('ix_sandbox_comments_account_id'), table_name='sandbox_comments')
    op.drop_table('sandbox_comments')
    op.drop_index(op.f('ix_sandbox_likes_video_id'), table_name='sandbox_likes')
    op.drop_table('sandbox_likes')
    op.drop_index(op.f('ix_sandbox_follows_followee_id'), table_name='sandbox_follows')
    op.drop_table('sandbox_follows')
    op.drop_index(op.f('ix_sandbox_live_rooms_account_id'), table_name='sandbox_live_rooms')
    op.drop_table('sandbox_live_rooms')
    op.drop_index('ix_sandbox_videos_created_at_id', table_name='sandbox_videos')
    op.drop_index(op.f('ix_sandbox_videos_account_id'), table_name='sandbox_videos')
    op.drop_table('sandbox_videos')
    op.drop_table('sandbox_accounts')
