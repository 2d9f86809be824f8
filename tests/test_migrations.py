"""Alembic owns the schema: the migrations match the models, and upgrade → downgrade to base
→ upgrade works on an empty PostgreSQL database."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.extensions import db, migration_include_object
from tests.conftest import is_postgres


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": migration_include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], "models changed without a migration: flask db migrate -d app/migrations"


@pytest.fixture
def empty_postgres_database(app):
    if not is_postgres(app):
        pytest.skip("the round trip runs on PostgreSQL (TEST_DATABASE_URL)")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"gm_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_downgrade_upgrade_on_postgresql(empty_postgres_database):
    from flask_migrate import downgrade, upgrade

    from app import create_app

    url = empty_postgres_database.render_as_string(hide_password=False)
    # A second app bound to the empty database (the first one keeps serving the suite).
    other = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with other.app_context():
        engine = db.engine
        upgrade()
        tables = set(inspect(engine).get_table_names())
        assert {"ab_user", "ab_role", "region", "mine", "predeclaration", "transition_log"} <= tables
        downgrade(revision="base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(inspect(engine).get_table_names()) == tables
        db.session.remove()
        engine.dispose()
