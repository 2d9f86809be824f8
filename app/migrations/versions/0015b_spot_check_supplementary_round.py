"""spot_check_campaign: a supplementary round (补充抽查) and its reason

One campaign per organiser and year (seed 004; SPEC H2); another campaign of the same organiser
and year is a declared supplementary round with its reason. The campaigns already stored that
would break the rule (a second, third … campaign of one organiser and year, in id order) are
marked as supplementary rounds with a reason saying so.

Revision ID: 0015b
Revises: 0015e
Create Date: 2026-12-08 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015b'
down_revision = '0015e'
branch_labels = None
depends_on = None

# Stored text, in the product's language (as the removal reasons are).
EARLIER_REASON = "数据迁移时标记：本年度已有同一组织单位的抽查核查，本次为其后创建的抽查核查。"


def upgrade():
    with op.batch_alter_table('spot_check_campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_supplementary', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('supplementary_reason', sa.Text(), nullable=True))

    connection = op.get_bind()
    campaign = sa.table('spot_check_campaign', sa.column('id', sa.Integer), sa.column('level', sa.String),
                        sa.column('region_code', sa.String), sa.column('year', sa.Integer),
                        sa.column('is_supplementary', sa.Boolean), sa.column('supplementary_reason', sa.Text))
    seen = set()
    later = []
    for row in connection.execute(sa.select(campaign.c.id, campaign.c.level, campaign.c.region_code,
                                            campaign.c.year).order_by(campaign.c.id)):
        key = (row.level, row.region_code, row.year)
        if key in seen:
            later.append(row.id)
        seen.add(key)
    if later:
        connection.execute(campaign.update().where(campaign.c.id.in_(later))
                           .values(is_supplementary=True, supplementary_reason=EARLIER_REASON))


def downgrade():
    with op.batch_alter_table('spot_check_campaign', schema=None) as batch_op:
        batch_op.drop_column('supplementary_reason')
        batch_op.drop_column('is_supplementary')
