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
from app.views.formatting import for_staff
from app.web.labels import CERTIFICATE_LABELS



def region_name(region) -> str:
    """A region on screen: its full name (山西省大同市平城区), never its code."""
    return region.full_name if region is not None else ""


class CertificateView(ScopedModelView):
    datamodel = ListInterface(Certificate)
    list_title = _l("Certificates")
    show_title = _l("Certificate")
    base_permissions = ["can_list", "can_show", "can_download"]
    # No expiry date: valid while the entry stands (issue 19 point 8); the staff see whether the
    # entry is due for review (DIRECTORY_REVIEW_YEARS).
    list_columns = ["number", "mine_name", "level_label", "year", "issued_on", "validity_period", "validity_label",
                    "review_note"]
    show_columns = ["number", "mine_name", "enterprise_name", "level_label", "year", "region", "issued_on",
                    "validity_period", "validity_label", "review_note"]
    search_columns = ["number", "issued_on"]
    order_columns = ["number", "issued_on"]
    base_order = ("id", "desc")
    label_columns = dict(CERTIFICATE_LABELS)
    formatters_columns = {"region": region_name, "review_note": for_staff}
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
                        category="Selection")
