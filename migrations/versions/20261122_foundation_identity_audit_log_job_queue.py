"""foundation: identity, audit log, job queue

Revision ID: ed2f2fc0e811
Revises: 
Created: 2026-11-22 15:31:10.372855+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision: str = 'ed2f2fc0e811'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_actor_id'), 'audit_log', ['actor_id'], unique=False)
    op.create_index(op.f('ix_audit_log_object_id'), 'audit_log', ['object_id'], unique=False)
    op.create_table('people',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=40), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('region', sa.String(length=20), nullable=True),
    sa.Column('interests', postgresql.ARRAY(sa.String(length=20)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('failed_login_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100', name=op.f('ck_people_birth_year')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
    sa.UniqueConstraint('phone', name=op.f('uq_people_phone'))
    )
    op.create_table('sms_codes',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_codes'))
    )
    op.create_index(op.f('ix_sms_codes_expires_at'), 'sms_codes', ['expires_at'], unique=False)
    op.create_index(op.f('ix_sms_codes_phone'), 'sms_codes', ['phone'], unique=False)
    op.create_table('api_tokens',
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_api_tokens_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_api_tokens_token_digest'))
    )
    op.create_index(op.f('ix_api_tokens_person_id'), 'api_tokens', ['person_id'], unique=False)
    op.create_table('consents',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('agreement_version', sa.String(length=20), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_consents_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('person_id', 'agreement_version', name=op.f('uq_consents_person_id_agreement_version'))
    )
    op.create_table('organisations',
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('brand', 'agency')", name=op.f('ck_organisations_kind')),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_organisations_created_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_table('platform_accounts',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('handle', sa.String(length=40), nullable=False),
    sa.Column('followers', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('followers >= 0', name=op.f('ck_platform_accounts_followers')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_platform_accounts_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_accounts')),
    sa.UniqueConstraint('person_id', 'platform', name=op.f('uq_platform_accounts_person_id_platform')),
    sa.UniqueConstraint('platform', 'handle', name=op.f('uq_platform_accounts_platform_handle'))
    )
    op.create_table('staff_grants',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('granted_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('reviewer', 'operator', 'admin')", name=op.f('ck_staff_grants_role')),
    sa.ForeignKeyConstraint(['granted_by'], ['people.id'], name=op.f('fk_staff_grants_granted_by_people')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_staff_grants_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'role', name=op.f('pk_staff_grants'))
    )
    op.create_table('web_sessions',
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_web_sessions_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_web_sessions_token_digest'))
    )
    op.create_index(op.f('ix_web_sessions_person_id'), 'web_sessions', ['person_id'], unique=False)
    op.create_table('invitations',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('invited_by', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('owner', 'member')", name=op.f('ck_invitations_role')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'revoked')", name=op.f('ck_invitations_status')),
    sa.ForeignKeyConstraint(['invited_by'], ['people.id'], name=op.f('fk_invitations_invited_by_people')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_invitations_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations'))
    )
    op.create_index(op.f('ix_invitations_phone'), 'invitations', ['phone'], unique=False)
    op.create_index('uq_invitations_pending', 'invitations', ['org_id', 'phone'], unique=True, postgresql_where=sa.text("status = 'pending'"))
    op.create_table('memberships',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('owner', 'member')", name=op.f('ck_memberships_role')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_memberships_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_memberships_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'person_id', name=op.f('pk_memberships'))
    )
    op.create_index(op.f('ix_memberships_person_id'), 'memberships', ['person_id'], unique=False)
    # The job queue's own schema, as the installed procrastinate version defines it.
    # The driver treats % as a placeholder even with no parameters, hence the doubling.
    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    # The audit log is append-only: the database itself refuses changes and deletions.
    op.execute(
        """
        CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_is_append_only()")
    for table in (
        "procrastinate_events",
        "procrastinate_periodic_defers",
        "procrastinate_jobs",
        "procrastinate_workers",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP TYPE IF EXISTS procrastinate_job_to_defer_v1 CASCADE")
    op.execute("DROP TYPE IF EXISTS procrastinate_job_event_type CASCADE")
    op.execute("DROP TYPE IF EXISTS procrastinate_job_status CASCADE")
    op.drop_index(op.f('ix_memberships_person_id'), table_name='memberships')
    op.drop_table('memberships')
    op.drop_index('uq_invitations_pending', table_name='invitations', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index(op.f('ix_invitations_phone'), table_name='invitations')
    op.drop_table('invitations')
    op.drop_index(op.f('ix_web_sessions_person_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_table('staff_grants')
    op.drop_table('platform_accounts')
    op.drop_table('organisations')
    op.drop_table('consents')
    op.drop_index(op.f('ix_api_tokens_person_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
    op.drop_index(op.f('ix_sms_codes_phone'), table_name='sms_codes')
    op.drop_index(op.f('ix_sms_codes_expires_at'), table_name='sms_codes')
    op.drop_table('sms_codes')
    op.drop_table('people')
    op.drop_index(op.f('ix_audit_log_object_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_actor_id'), table_name='audit_log')
    op.drop_table('audit_log')
