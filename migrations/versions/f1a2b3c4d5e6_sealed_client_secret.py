"""the identity provider's client secret kept sealed: room for the sealed form (`serve` and `init-db` seal the
ones kept as given, with the service's key, after upgrading)

Revision ID: f1a2b3c4d5e6
Revises: e4f5a6b7c8d9
Create Date: 2026-12-02 01:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e4f5a6b7c8d9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('identity_providers', schema=None) as batch_op:
        batch_op.alter_column('client_secret', existing_type=sa.String(length=300), type_=sa.Text(),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('identity_providers', schema=None) as batch_op:
        batch_op.alter_column('client_secret', existing_type=sa.Text(), type_=sa.String(length=300),
                              existing_nullable=False)
