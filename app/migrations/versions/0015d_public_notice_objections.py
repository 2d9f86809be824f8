"""The public notice on the portal (issue 19.3): the province's contact for objections on each
notice, and the objector's identity on an objection filed on the public form

Revision ID: 0015d
Revises: 0015a
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015d'
down_revision = '0015a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('public_notice') as batch:
        batch.add_column(sa.Column('contact_name', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('contact_phone', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('contact_email', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('contact_address', sa.String(length=256), nullable=True))
    with op.batch_alter_table('objection') as batch:
        batch.add_column(sa.Column('objector_name', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('objector_contact', sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table('objection') as batch:
        batch.drop_column('objector_contact')
        batch.drop_column('objector_name')
    with op.batch_alter_table('public_notice') as batch:
        batch.drop_column('contact_address')
        batch.drop_column('contact_email')
        batch.drop_column('contact_phone')
        batch.drop_column('contact_name')
