"""procedure drafts: a process owner's unpublished work on a procedure

Revision ID: b7c1d2e3f4a5
Revises: 90fda7e5a775
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import engine.models  # noqa: F401  (column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = '90fda7e5a775'
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


def downgrade():
    op.drop_table('procedure_drafts')
