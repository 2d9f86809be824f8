"""Excel import and export of mines (SPEC B8): the screens. The work is done by
app.services.mine_excel; these routes check permissions, apply the scope and the mine list's
search criteria, and turn refusals into flashed, translated messages."""
from __future__ import annotations


from flask import Response, flash, g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField

from app import clock
from app.models import Mine
from app.services import mine_excel, mine_search, scoping
from app.services.exceptions import DomainError
from app.web.downloads import file_response

# The report shows at most this many refusals on the page (the counts cover all of them).
SHOWN_ERRORS = 500


class MineImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired(_l("Choose a file to import."))])
    dry_run = BooleanField(_l("Check only: save nothing"))
    skip_invalid = BooleanField(_l("Skip invalid rows and save the others"))


def _xlsx_download(data: bytes, name: str, ascii_name: str) -> Response:
    """An attachment named in the user's language (e.g. 矿山_20260131.xlsx), never shown inline."""
    today = f"{clock.today():%Y%m%d}"
    return file_response(data, mine_excel.XLSX_MIMETYPE, f"{name}_{today}.xlsx", f"{ascii_name}_{today}.xlsx")


class MineExcelView(BaseView):
    """Template download and export (permission can_export), upload and import (can_import)."""

    route_base = "/mineexcel"
    default_view = "upload"
    method_permission_name = {
        "download_template": "export",
        "export": "export",
        "upload": "import",
    }

    @expose("/template")
    @has_access
    def download_template(self):
        return _xlsx_download(mine_excel.template_workbook(), _("Mine import template"), "mine-import-template")

    @expose("/export")
    @has_access
    def export(self):
        """The mines of the user's scope that the mine list's URL arguments select."""
        criteria = mine_search.parse(request.args)
        for message in criteria.errors:
            flash(message, "warning")
        query = (
            select(Mine)
            .where(scoping.scope_filter(Mine, g.user), *criteria.conditions)
            .order_by(Mine.region_code, Mine.name, Mine.id)
        )
        return _xlsx_download(mine_excel.export_mines(query), _("Mines"), "mines")

    @expose("/import", methods=["GET", "POST"])
    @has_access
    def upload(self):
        form = MineImportForm()
        report = None
        if request.method == "POST":
            report = self._import(form)
        return self.render_template(
            "gm/mine_excel/import.html",
            form=form,
            report=report,
            shown_errors=SHOWN_ERRORS,
            headers=mine_excel.HEADERS,
            max_size=mine_excel.size_text(mine_excel.max_bytes()),
            max_rows=mine_excel.max_rows(),
            can_export=self.appbuilder.sm.has_access("can_export", self.class_permission_name),
        )

    def _import(self, form: MineImportForm):
        # A request far over the limit never gets here (app/__init__.py: _UPLOAD_LIMITS gives a
        # 413 before the body is read); the service refuses a file over the limit itself.
        if not form.validate_on_submit():
            for errors in form.errors.values():
                for message in errors:
                    flash(str(message), "danger")
            return None
        try:
            report = mine_excel.import_mines(
                form.file.data, g.user, dry_run=form.dry_run.data, skip_invalid=form.skip_invalid.data
            )
        except DomainError as exc:
            flash(str(exc), "danger")
            return None
        # The report panel shows the summary and the refused rows.
        return report


def register(appbuilder) -> None:
    """Add the Excel import/export views to ``appbuilder``."""
    appbuilder.add_view(MineExcelView, "Import mines", label=_l("Import mines"), icon="fa-upload",
                        category="Registry")
