"""An indicator catalogue version as an Excel file (issue 19.7): the export of any version the
user reads, and the import page (the admin: national catalogues; a province: its own). The work
is done by app.services.catalogue_excel."""
from __future__ import annotations

from flask import abort, flash, g, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from app.extensions import db
from app.models import IndicatorVersion
from app.services import catalogue_excel
from app.services.exceptions import DomainError
from app.services.workbooks import XLSX_MIMETYPE, max_bytes, size_text
from app.web.downloads import file_response
from app.web.labels import INDICATOR_LABELS


class CatalogueImportForm(FlaskForm):
    file = FileField(_l("Excel file (.xlsx)"), validators=[FileRequired(_l("Choose a file to import."))])


class IndicatorCatalogueExcelView(BaseView):
    """Export (permission can_export) and import (can_import) of catalogue versions."""

    route_base = "/indicator-catalogue"
    default_view = "upload"
    method_permission_name = {"export": "export", "upload": "import"}

    @expose("/export/<int:version_id>")
    @has_access
    def export(self, version_id):
        version = db.session.get(IndicatorVersion, version_id)
        if version is None:
            abort(404)
        return file_response(catalogue_excel.export_version(version), XLSX_MIMETYPE,
                             f"{version.name}.xlsx", catalogue_excel.export_name(version))

    @expose("/import", methods=["GET", "POST"])
    @has_access
    def upload(self):
        form = CatalogueImportForm()
        report = None
        try:
            province = catalogue_excel.importing_province(g.user)
        except DomainError as exc:
            flash(str(exc), "danger")
            abort(403)
        if request.method == "POST":
            if form.validate_on_submit():
                try:
                    report = catalogue_excel.import_version(form.file.data, g.user)
                except DomainError as exc:
                    flash(str(exc), "danger")
            else:
                for errors in form.errors.values():
                    for message in errors:
                        flash(str(message), "danger")
        return self.render_template(
            "gm/catalogue_import.html", title=_("Import an indicator catalogue"), form=form, report=report,
            province=province, max_size=size_text(max_bytes()),
            version_sheet=catalogue_excel.VERSION_SHEET, item_sheet=catalogue_excel.ITEM_SHEET,
            version_fields=[catalogue_excel.as_in_file(heading) for _attr, heading in catalogue_excel.VERSION_FIELDS],
            item_columns=[catalogue_excel.as_in_file(heading) for _attr, heading in catalogue_excel.ITEM_COLUMNS],
            versions=catalogue_excel.versions_of(province), labels=INDICATOR_LABELS,
        )
