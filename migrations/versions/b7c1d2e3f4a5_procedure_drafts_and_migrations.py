"""procedure drafts and case migrations: a process owner's unpublished work on a procedure, and running cases
moved onto another version

Revision ID: b7c1d2e3f4a5
Revises: c3a91e5f0b14
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import engine.models  # noqa: F401  (column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = 'c3a91e5f0b14'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('procedure_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('procedure', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('process_id', sa.String(length=100), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('lanes', sa.JSON(), nullable=False),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('saved_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('saved_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id', 'procedure')
    )
    op.create_table('case_migrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('from_version_id', sa.Integer(), nullable=False),
    sa.Column('to_version_id', sa.Integer(), nullable=False),
    sa.Column('at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('by', sa.String(length=120), nullable=True),
    sa.Column('rearmed', sa.Boolean(), nullable=False),
    sa.Column('previous_state', sa.LargeBinary(), nullable=False),
    sa.Column('previous_next_timer_due', engine.models.UTCDateTime(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('reverted_at', engine.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], ),
    sa.ForeignKeyConstraint(['from_version_id'], ['procedure_versions.id'], ),
    sa.ForeignKeyConstraint(['to_version_id'], ['procedure_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_migrations', schema=None) as batch_op:
        batch_op.create_index('ix_case_migrations_challenge', ['challenge_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_migrations', schema=None) as batch_op:
        batch_op.drop_index('ix_case_migrations_challenge')
    op.drop_table('case_migrations')
    op.drop_table('procedure_drafts')
