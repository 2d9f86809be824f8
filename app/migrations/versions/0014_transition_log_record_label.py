"""transition_log.record_label: what the record was called at the step (like audit_log's), filled
for the steps already logged; audit_log labels that were a Python object's address are forgotten

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


# The workflow records as their models name them (their __repr__ at this revision), from the
# columns of this revision: (record_type, SELECT id, parts…, formatter).
def _year_mine(year, name, licence_no=None):
    return f"{year} {name}（{licence_no}）" if licence_no is not None else f"{year} {name}"


def _mine_licence(name, licence_no):
    return f"{name}（{licence_no}）"


def _dated_text(day, content):
    return f"{day} {(content or '')[:20]}"


_SOURCES = [
    ("Application", "SELECT r.id, r.year, r.mine_name, r.licence_no FROM application r", _year_mine),
    ("PreDeclaration", "SELECT r.id, r.year, m.name, m.licence_no FROM predeclaration r "
                       "JOIN mine m ON m.id = r.mine_id", _year_mine),
    ("Objection", "SELECT r.id, r.received_on, r.content FROM objection r", _dated_text),
    ("DirectoryEntry", "SELECT r.id, r.year, r.mine_name FROM directory_entry r", _year_mine),
    ("NationalRecommendation", "SELECT r.id, r.year, e.mine_name FROM national_recommendation r "
                               "JOIN directory_entry e ON e.id = r.entry_id", _year_mine),
    ("AnomalyEntry", "SELECT r.id, r.year, m.name FROM anomaly_entry r JOIN mine m ON m.id = r.mine_id", _year_mine),
    ("Agency", "SELECT r.id, r.name FROM agency r", str),
    ("DemoZoneApplication", "SELECT r.id, r.name FROM demo_zone_application r", str),
    ("SelfCheck", "SELECT r.id, r.year, m.name FROM self_check r JOIN mine m ON m.id = r.mine_id", _year_mine),
    ("ProblemLead", "SELECT r.id, r.received_on, r.content FROM problem_lead r", _dated_text),
    ("SpotCheckCampaign", "SELECT r.id, r.title FROM spot_check_campaign r", str),
    ("SpotCheck", "SELECT r.id, r.mine_name, r.licence_no FROM spot_check r", _mine_licence),
    ("CertificationApplication", "SELECT r.id, r.mine_name, r.licence_no FROM certification_application r",
     _mine_licence),
    ("CertificationCertificate", "SELECT r.id, r.number FROM certification_certificate r", str),
    ("SurveillanceAudit", "SELECT r.id, c.number, r.audit_on FROM surveillance_audit r "
                          "JOIN certification_certificate c ON c.id = r.certificate_id",
     lambda number, day: f"{number} {day or ''}"),
]


def fill_record_labels(connection) -> None:
    """Name every logged step's record that still exists; a deleted record keeps no name."""
    log = sa.table("transition_log", sa.column("record_type"), sa.column("record_id"),
                   sa.column("record_label"))
    update = (log.update()
              .where(log.c.record_type == sa.bindparam("kind"), log.c.record_id == sa.bindparam("key"))
              .values(record_label=sa.bindparam("label")))
    for kind, query, name in _SOURCES:
        logged = f" WHERE r.id IN (SELECT record_id FROM transition_log WHERE record_type = '{kind}')"
        rows = connection.execute(sa.text(query + logged)).fetchall()
        if rows:
            connection.execute(update, [{"kind": kind, "key": row[0], "label": name(*row[1:])[:255]}
                                        for row in rows])


def forget_object_addresses(connection) -> None:
    """Records of the models that had no display name were labelled "<app.models… object at 0x…>"
    in the audit trail: no name is better than that."""
    log = sa.table("audit_log", sa.column("record_label"))
    connection.execute(log.update().where(log.c.record_label.like("<app.models.% object at 0x%>"))
                       .values(record_label=None))


def upgrade():
    with op.batch_alter_table('transition_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('record_label', sa.String(length=255), nullable=True))
    fill_record_labels(op.get_bind())
    forget_object_addresses(op.get_bind())


def downgrade():
    with op.batch_alter_table('transition_log', schema=None) as batch_op:
        batch_op.drop_column('record_label')
