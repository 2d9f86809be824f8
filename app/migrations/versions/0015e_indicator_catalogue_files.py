"""indicator catalogues as files: an item's scoring note, and the province a provincial catalogue
belongs to (null: a national catalogue)

Revision ID: 0015e
Revises: 0015d
Create Date: 2026-12-08 01:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015e'
down_revision = '0015d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('indicator_item') as batch:
        batch.add_column(sa.Column('scoring_note', sa.Text(), nullable=True))
    with op.batch_alter_table('indicator_version') as batch:
        batch.add_column(sa.Column('province_code', sa.String(length=6), nullable=True))
        batch.create_foreign_key('fk_indicator_version_province', 'region', ['province_code'], ['code'])
        batch.create_index('ix_indicator_version_province_code', ['province_code'])


def downgrade():
    with op.batch_alter_table('indicator_version') as batch:
        batch.drop_index('ix_indicator_version_province_code')
        batch.drop_constraint('fk_indicator_version_province', type_='foreignkey')
        batch.drop_column('province_code')
    with op.batch_alter_table('indicator_item') as batch:
        batch.drop_column('scoring_note')
