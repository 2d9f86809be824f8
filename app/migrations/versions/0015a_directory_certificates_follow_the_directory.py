"""certificate.valid_until dropped: a directory certificate is valid while its entry stands and
revoked when the entry is removed (issue 19 point 8: the seeds give a directory listing no fixed
term; the three years are the certification certificate's, which keeps its own valid_until)

Revision ID: 0015a
Revises: 0014
Create Date: 2026-12-08 01:00:00

"""
import datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015a'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('valid_until')


def _last_valid_day(issued_on: datetime.date, years: int = 3) -> datetime.date:
    """The term the certificates had before this revision: through the day before the third
    anniversary of issue (29 February: the last day of February)."""
    try:
        anniversary = issued_on.replace(year=issued_on.year + years)
    except ValueError:
        anniversary = datetime.date(issued_on.year + years, 3, 1)
    return anniversary - datetime.timedelta(days=1)


def downgrade():
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('valid_until', sa.Date(), nullable=True))
    connection = op.get_bind()
    certificate = sa.table('certificate', sa.column('id', sa.Integer), sa.column('issued_on', sa.Date),
                           sa.column('valid_until', sa.Date))
    for row_id, issued_on in connection.execute(sa.select(certificate.c.id, certificate.c.issued_on)).all():
        if isinstance(issued_on, str):
            issued_on = datetime.date.fromisoformat(issued_on)
        connection.execute(certificate.update().where(certificate.c.id == row_id)
                           .values(valid_until=_last_valid_day(issued_on)))
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('valid_until', existing_type=sa.Date(), nullable=False)
