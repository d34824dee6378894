"""everyday work: risk on the challenge row, the partnership's MASH contact, drafts of task answers

Revision ID: c3a91e5f0b14
Revises: b39f9f081dcf
Create Date: 2026-12-01 21:00:00

"""
from alembic import op
import sqlalchemy as sa

import engine.models  # noqa: F401  (column types such as UTCDateTime)


# revision identifiers, used by Alembic.
revision = 'c3a91e5f0b14'
down_revision = 'b39f9f081dcf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('significant_risk', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('cp_or_lac', sa.String(length=30), nullable=False, server_default='neither'))
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mash_contact', sa.Text(), nullable=True))

    # Challenges raised before: their risk as the referrer stated it, from the event that raised each.
    bind = op.get_bind()
    events = sa.table('events', sa.column('challenge_id', sa.Integer), sa.column('kind', sa.String),
                      sa.column('data', sa.JSON))
    challenges = sa.table('challenges', sa.column('id', sa.Integer), sa.column('significant_risk', sa.Boolean),
                          sa.column('cp_or_lac', sa.String))
    for challenge_id, data in bind.execute(sa.select(events.c.challenge_id, events.c.data)
                                           .where(events.c.kind == 'challenge_raised')).all():
        data = data or {}
        bind.execute(challenges.update().where(challenges.c.id == challenge_id).values(
            significant_risk=bool(data.get('significant_risk')), cp_or_lac=data.get('cp_or_lac') or 'neither'))

    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.alter_column('significant_risk', server_default=None)
        batch_op.alter_column('cp_or_lac', server_default=None)

    op.create_table('task_drafts',
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=False),
    sa.Column('saved_at', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('task_id')
    )


def downgrade():
    op.drop_table('task_drafts')
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_column('mash_contact')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_column('cp_or_lac')
        batch_op.drop_column('significant_risk')
