"""fraud_finding: findings of falsified materials (弄虚作假认定) against a mine or an application

Revision ID: 0015c
Revises: 0015b
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015c'
down_revision = '0015b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fraud_finding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mine_id', sa.Integer(), nullable=False),
        sa.Column('enterprise_id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=6), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('mine_name', sa.String(length=128), nullable=False),
        sa.Column('enterprise_name', sa.String(length=128), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('decision_no', sa.String(length=128), nullable=False),
        sa.Column('decided_on', sa.Date(), nullable=False),
        sa.Column('barred_until', sa.Date(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_name', sa.String(length=64), nullable=True),
        sa.Column('effects', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
        sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ),
        sa.ForeignKeyConstraint(['mine_id'], ['mine.id'], ),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['ab_user.id'], ),
        sa.ForeignKeyConstraint(['region_code'], ['region.code'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('fraud_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fraud_finding_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fraud_finding_barred_until'), ['barred_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_fraud_finding_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fraud_finding_mine_id'), ['mine_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fraud_finding_region_code'), ['region_code'], unique=False)


def downgrade():
    with op.batch_alter_table('fraud_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fraud_finding_region_code'))
        batch_op.drop_index(batch_op.f('ix_fraud_finding_mine_id'))
        batch_op.drop_index(batch_op.f('ix_fraud_finding_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_fraud_finding_barred_until'))
        batch_op.drop_index(batch_op.f('ix_fraud_finding_application_id'))
    op.drop_table('fraud_finding')
