"""Certificates (SPEC F2): the scoped list and detail pages, the PDF download, and the REST API.

Certificates are made only by the listing (app.services.directory -> certificates.issue): no add,
edit or delete here. The PDF routes are FAB routes of our own, which skip FAB's base filters:
each loads its record through the scope rule (404 out of scope) before rendering.
"""
from __future__ import annotations

from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import lazy_gettext as _l

from app.models import Certificate
from app.services import scoping
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.downloads import certificate_pdf_response

LABELS = {
    "number": _l("Certificate number"),
    "mine_name": _l("Mine"),
    "enterprise_name": _l("Mining enterprise"),
    "level_label": _l("Directory level"),
    "year": _l("Directory year"),
    "issued_on": _l("Issued on"),
    "valid_until": _l("Valid until"),
    "validity_label": _l("Certificate status"),
    "region": _l("Region"),
    "region_code": _l("Region"),
    "entry_id": _l("Directory entry"),
    "enterprise_id": _l("Mining enterprise"),
}


class CertificateView(ScopedModelView):
    datamodel = ListInterface(Certificate)
    list_title = _l("Certificates")
    show_title = _l("Certificate")
    base_permissions = ["can_list", "can_show", "can_download"]
    list_columns = ["number", "mine_name", "level_label", "year", "issued_on", "valid_until", "validity_label"]
    show_columns = ["number", "mine_name", "enterprise_name", "level_label", "year", "region", "issued_on",
                    "valid_until", "validity_label"]
    search_columns = ["number", "issued_on", "valid_until"]
    order_columns = ["number", "issued_on", "valid_until"]
    base_order = ("id", "desc")
    label_columns = LABELS
    show_template = "gm/certificate_show.html"
    method_permission_name = {**ScopedModelView.method_permission_name, "pdf": "download"}

    @expose("/pdf/<int:pk>")
    @has_access
    def pdf(self, pk):
        certificate = self.get_scoped_or_404(pk, scoping.DOWNLOAD)
        return certificate_pdf_response(certificate)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            kwargs["certificate"] = self.get_scoped_or_404(kwargs["pk"])
            kwargs["may_download"] = self.appbuilder.sm.has_access("can_download", "CertificateView")
        return super().render_template(template, **kwargs)


def register(appbuilder) -> None:
    appbuilder.add_view(CertificateView, "Certificates", label=_l("Certificates"), icon="fa-certificate",
                        category="Directory")
