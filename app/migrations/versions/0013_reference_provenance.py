"""reference data for users: a mine-size threshold's remark (was note), and whether a threshold or
an indicator item is inferred rather than read in the official text, with the source note staff see

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-09 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mine_size_threshold', schema=None) as batch_op:
        batch_op.alter_column('note', new_column_name='remark', existing_type=sa.String(length=256),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('inferred', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('source_note', sa.String(length=512), nullable=True))
    with op.batch_alter_table('indicator_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inferred', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('source_note', sa.String(length=512), nullable=True))
    with op.batch_alter_table('indicator_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_note', sa.Text(), nullable=True))
    # The working notes loaded so far were developers' English; `flask gm load-reference` (run by
    # `gm deploy`) fills the new columns from app/data/.
    op.execute("UPDATE mine_size_threshold SET remark = NULL")


def downgrade():
    with op.batch_alter_table('indicator_version', schema=None) as batch_op:
        batch_op.drop_column('source_note')
    with op.batch_alter_table('indicator_item', schema=None) as batch_op:
        batch_op.drop_column('source_note')
        batch_op.drop_column('inferred')
    with op.batch_alter_table('mine_size_threshold', schema=None) as batch_op:
        batch_op.drop_column('source_note')
        batch_op.drop_column('inferred')
        batch_op.alter_column('remark', new_column_name='note', existing_type=sa.String(length=256),
                              existing_nullable=True)
