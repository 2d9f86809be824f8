"""list performance: stored region full names, (region_code, id) indexes, trigram name search

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 16:41:15.507380

"""
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

SCOPED_TABLES = ("application", "enterprise", "mine", "predeclaration")

# Name searches are "contains" (ILIKE '%…%'): only a trigram index serves them. PostgreSQL
# only; the names end in _trgm, which app.extensions.migration_include_object leaves alone.
TRIGRAM_INDEXES = {
    "ix_mine_name_trgm": ("mine", "name"),
    "ix_mine_licence_no_trgm": ("mine", "licence_no"),
    "ix_enterprise_name_trgm": ("enterprise", "name"),
    "ix_application_mine_name_trgm": ("application", "mine_name"),
    "ix_application_enterprise_name_trgm": ("application", "enterprise_name"),
    "ix_application_licence_no_trgm": ("application", "licence_no"),
    "ix_directory_entry_mine_name_trgm": ("directory_entry", "mine_name"),
}

# Frozen copy of app.models.region.GROUPING_NAMES at this revision.
GROUPING_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def _fill_region_full_names() -> None:
    connection = op.get_bind()
    rows = {code: (name, parent) for code, name, parent in
            connection.execute(sa.text("SELECT code, name, parent_code FROM region"))}
    region = sa.table("region", sa.column("code"), sa.column("full_name"))
    for code in rows:
        parts, node = [], code
        while node is not None:
            name, node_parent = rows[node]
            if name not in GROUPING_NAMES:
                parts.append(name)
            node = node_parent
        connection.execute(region.update().where(region.c.code == code)
                           .values(full_name="".join(reversed(parts))))


def _create_trigram_indexes() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    connection = op.get_bind()
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. Where
    # it cannot be created, searches still work, as sequential scans; say so and go on.
    savepoint = connection.begin_nested()
    try:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        savepoint.commit()
    except sa.exc.DBAPIError as exc:
        savepoint.rollback()
        log.warning("pg_trgm unavailable, name searches will scan: %s", exc.orig)
        return
    for index, (table, column) in TRIGRAM_INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin ({column} gin_trgm_ops)")


def upgrade():
    for table in SCOPED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_region_code")
            batch_op.create_index(f"ix_{table}_region_code_id", ["region_code", "id"], unique=False)

    # NOT NULL with a default, so that SQLite can add it without rebuilding the region table.
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.add_column(sa.Column("full_name", sa.String(length=128), nullable=False, server_default=""))
    _fill_region_full_names()
    _create_trigram_indexes()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for index in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {index}")
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.drop_column("full_name")

    for table in SCOPED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_region_code_id")
            batch_op.create_index(f"ix_{table}_region_code", ["region_code"], unique=False)
