"""reminders and digests: a task's next "as soon as possible" reminder, a person's choice of notice email

Revision ID: e4f5a6b7c8d9
Revises: b7c1d2e3f4a5
Create Date: 2026-12-02 01:20:00

"""
from alembic import op
import sqlalchemy as sa

import engine.models  # noqa: F401  (column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'e4f5a6b7c8d9'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remind_at', engine.models.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_tasks_remind_at', ['status', 'remind_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_email', sa.String(length=10), nullable=False, server_default='each'))
        batch_op.add_column(sa.Column('digest_time', sa.String(length=5), nullable=False, server_default='08:00'))
        batch_op.add_column(sa.Column('digest_due_at', engine.models.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_users_digest_due_at', ['digest_due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_digest_due_at')
        batch_op.drop_column('digest_due_at')
        batch_op.drop_column('digest_time')
        batch_op.drop_column('notice_email')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_remind_at')
        batch_op.drop_column('remind_at')
