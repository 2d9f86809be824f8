"""`flask gm …` commands: deployment (migrations, reference data, roles), users, demo data, the one-command demo."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.services.exceptions import DomainError

@click.group("gm", cls=AppGroup, help="Green-mine system administration.")
@click.pass_context
def gm(ctx: click.Context) -> None:
    # The audit trail names the command as the one who made the changes (SPEC I4).
    from app.services import audit

    ctx.with_resource(audit.acting_as(f"flask gm {ctx.invoked_subcommand}"))


@gm.command("load-reference")
@with_appcontext
def load_reference() -> None:
    """Load regions, minerals and mine-size thresholds from app/data (idempotent)."""
    from app.services import reference

    for name, result in reference.load_all().items():
        click.echo(f"{name}: {result}")


@gm.command("sync-roles")
@with_appcontext
def sync_roles_command() -> None:
    """Register every view's permissions and make the roles exactly what app/services/roles.py declares."""
    from app.services.roles import sync_roles

    for role, count in sync_roles(current_app.appbuilder).items():
        click.echo(f"{role}: {count} permissions")


@gm.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="admin, national, province, city, county, enterprise, agency, inspector, certifier")
@click.option("--password", required=True)
@click.option("--region", "region_code", default=None, help="GB/T 2260 code (staff: of the role's level)")
@click.option("--enterprise", "enterprise_uscc", default=None, help="the enterprise's credit code (enterprise users)")
@click.option("--agency", "agency_name", default=None, help="the assessment agency's name (agency users)")
@click.option("--certification-body", "certification_body_name", default=None,
              help="the certification body's name (certifier users)")
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--keep-password", is_flag=True, default=False,
              help="do not require a new password at the next sign-in (for an account the operator keeps "
                   "for himself, or automation); by default the holder must choose one")
@with_appcontext
def create_user_command(username, role, password, region_code, enterprise_uscc, agency_name, certification_body_name,
                        email, phone, keep_password) -> None:
    """Create USERNAME, or update it if it exists. The password (checked against the policy) ends
    the account's older sessions and tokens and, unless --keep-password, must be changed at the
    next sign-in: it was typed by the operator, not chosen by the holder."""
    from app.services.users import create_or_update_user

    try:
        user = create_or_update_user(username, role, password, region_code=region_code,
                                     enterprise_uscc=enterprise_uscc, agency_name=agency_name,
                                     certification_body_name=certification_body_name,
                                     email=email, phone=phone, must_change_password=not keep_password)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{user.username}: {role}" + (f" @ {user.region_code}" if user.region_code else ""))


@gm.command("remind")
@click.option("--date", "on_date", default=None, help="act as if today were this date (YYYY-MM-DD)")
@with_appcontext
def remind_command(on_date) -> None:
    """Send the deadline reminders due today (SPEC I3). Meant for a daily cron; running it twice
    sends nothing twice."""
    import datetime

    from app.services import notifications

    try:
        today = datetime.date.fromisoformat(on_date) if on_date else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--date") from exc
    click.echo(f"reminders sent: {notifications.remind(today)}")


@gm.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the synthetic demo data set in 山西省 (idempotent; refused in production)."""
    _seed_demo()


def _seed_demo() -> None:
    from app.services import demo

    if current_app.config.get("GM_ENV") == "production":
        raise click.ClickException("seed-demo is refused when GM_ENV=production.")
    counts = demo.seed_demo()
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))
    click.echo("")
    click.echo("Demo logins (password for all: %s):" % demo.DEMO_PASSWORD)
    for user in demo.DEMO_USERS:
        click.echo(f"  {user.username:<10} {user.role:<10} {user.description}")


# pg_advisory_lock key of `flask gm deploy` (any constant; the lock is per database).
DEPLOY_LOCK_KEY = 0x676D_6465_706C  # "gmdepl"


@dataclass
class DeployReport:
    """What `_prepare_database()` did: the schema revision before and after, each reference
    file's load result, the permissions per role, the grants added and withdrawn, and whether
    it had to wait for another deployment."""
    revision_before: str
    revision_after: str
    reference: dict[str, dict[str, int]]
    roles: dict[str, int]
    granted: int
    withdrawn: int
    waited: bool

    @property
    def changed(self) -> bool:
        return (self.revision_before != self.revision_after or self.granted > 0 or self.withdrawn > 0
                or any(r["inserted"] or r["updated"] for r in self.reference.values()))

    def lines(self) -> list[str]:
        from flask_babel import gettext as _

        lines = []
        if self.waited:
            lines.append(_("Waited for another deployment to finish."))
        if self.revision_before == self.revision_after:
            lines.append(_("Schema: at revision %(revision)s, nothing to migrate.", revision=self.revision_after))
        else:
            lines.append(_("Schema: migrated from revision %(old)s to %(new)s.", old=self.revision_before,
                           new=self.revision_after))
        for name, result in self.reference.items():
            lines.append(_("Reference data %(name)s: %(inserted)s inserted, %(updated)s updated, %(unchanged)s "
                           "unchanged.", name=name, **result))
        lines.append(_("Roles: %(roles)s; %(added)s permissions granted, %(removed)s withdrawn.",
                       roles=", ".join(f"{role} {count}" for role, count in self.roles.items()),
                       added=self.granted, removed=self.withdrawn))
        return lines


@contextmanager
def _deployment_lock() -> Iterator[bool]:
    """Serialise deployments on PostgreSQL: servers started together run the steps one after
    the other, and the later ones find nothing left to do. A session-level advisory lock on a
    connection of its own (autocommit, so it holds no transaction open while Alembic works on
    others); released when the steps end or fail, and by PostgreSQL if the process dies.
    SQLite is a single local file behind one server: no lock. Yields whether it waited."""
    from flask_babel import gettext as _
    from sqlalchemy import text

    from app.extensions import db

    if db.engine.dialect.name != "postgresql":
        yield False
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        waited = not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": DEPLOY_LOCK_KEY}).scalar()
        if waited:
            click.echo(_("Another deployment is running; waiting for it to finish."), err=True)
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": DEPLOY_LOCK_KEY})
        try:
            yield waited
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": DEPLOY_LOCK_KEY})


def _schema_revision() -> str:
    from alembic.migration import MigrationContext

    from app.extensions import db

    with db.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ", ".join(heads) if heads else "-"


def _role_grants() -> set[tuple[str, str, str]]:
    sm = current_app.appbuilder.sm
    return {(role.name, pv.permission.name, pv.view_menu.name)
            for role in sm.session.query(sm.role_model).all() for pv in role.permissions}


def _prepare_database() -> DeployReport:
    """Migrate the schema, load the reference data and sync the roles: what a new release needs
    before it serves (`gm deploy`, and `gm demo` before its demo data). Each step is idempotent
    and the whole runs under the deployment lock."""
    from dataclasses import asdict

    from flask_migrate import upgrade

    from app.extensions import db
    from app.services import reference
    from app.services.roles import sync_roles

    with _deployment_lock() as waited:
        before = _schema_revision()
        upgrade()
        after = _schema_revision()
        loaded = {name: asdict(result) for name, result in reference.load_all().items()}
        grants_before = _role_grants()
        counts = sync_roles(current_app.appbuilder)
        grants_after = _role_grants()
        db.session.remove()
    return DeployReport(revision_before=before, revision_after=after, reference=loaded, roles=counts,
                        granted=len(grants_after - grants_before), withdrawn=len(grants_before - grants_after),
                        waited=waited)


@gm.command("deploy")
@click.option("--json", "as_json", is_flag=True, help="print what was done as JSON (for scripts)")
@with_appcontext
def deploy_command(as_json: bool) -> None:
    """Prepare the database for this release: migrations, reference data, roles. Run it once per
    deployment, before starting the servers; running it again, or on several servers at the
    same time, is safe (the later runs wait and then find nothing to do)."""
    report = _prepare_database()
    if as_json:
        import json
        from dataclasses import asdict

        click.echo(json.dumps({**asdict(report), "changed": report.changed}))
        return
    for line in report.lines():
        click.echo(line)


@gm.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8080, type=int)
@click.option("--no-serve", is_flag=True, help="prepare the database only")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Migrate, load reference data, sync roles, seed the demo, print the logins, serve."""
    from app.services import demo

    for line in _prepare_database().lines():
        click.echo(line)
    _seed_demo()
    click.echo("")
    click.echo(f"Admin login: admin / {demo.DEMO_PASSWORD}")
    if no_serve:
        return
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    # Flask refuses app.run() inside its CLI; serve with Werkzeug directly (development server;
    # production runs under gunicorn: see the README).
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), use_reloader=False, threaded=True)


@gm.command("import-mines")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", required=True,
              help="the account whose region (scope) the import is checked against; it needs the import permission")
@click.option("--dry-run", is_flag=True, help="check every row and report, save nothing")
@click.option("--skip-invalid", is_flag=True, help="save the valid rows even when other rows are refused")
@with_appcontext
def import_mines_command(file, username, dry_run, skip_invalid) -> None:
    """Import mines from FILE (.xlsx in the template's layout; SPEC B8).

    Exits with status 1 when rows were refused and nothing was saved.
    """
    from contextlib import ExitStack

    from flask_babel import gettext as _

    from app.services import audit, mine_excel

    sm = current_app.appbuilder.sm
    user = sm.find_user(username=username)
    if user is None or not user.is_active:
        raise click.ClickException(_("There is no active user %(name)s.", name=username))
    if ("can_import", "MineExcelView") not in sm.get_user_permissions(user):
        raise click.ClickException(_("The user %(name)s may not import mines.", name=username))

    with ExitStack() as stack:
        stack.enter_context(audit.acting_as("flask gm import-mines", user))
        bars: list = []

        def progress(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(
                    click.progressbar(length=total, label=_("Checking rows"), file=sys.stderr)
                ))
            bars[0].update(done - bars[0].pos)

        try:
            report = mine_excel.import_mines(file, user, dry_run=dry_run, skip_invalid=skip_invalid,
                                             progress=progress)
        except DomainError as exc:
            raise click.ClickException(str(exc)) from exc
    for error in report.errors:
        click.echo(_("Row %(row)s, %(column)s: %(reason)s", row=error.row, column=error.column or "—",
                     reason=error.message))
    click.echo(report.summary())
    if report.refused and not report.written:
        click.get_current_context().exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(gm)
