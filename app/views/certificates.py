"""Certificates (SPEC F2): the scoped list and detail pages, the PDF download, and the REST API.

Certificates are made only by the listing (app.services.directory -> certificates.issue): no add,
edit or delete here. The PDF routes are FAB routes of our own, which skip FAB's base filters:
each loads its record through the scope rule (404 out of scope) before rendering.
"""
from __future__ import annotations

from flask_appbuilder.api import expose as api_expose, protect, safe
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import lazy_gettext as _l

from app.models import Certificate
from app.services import certificates, scoping
from app.views.downloads import file_response
from app.views.base import ScopedModelRestApi, ScopedModelView
from app.views.datamodel import ListInterface

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
}


def pdf_response(certificate: Certificate):
    """The certificate as a PDF download (screens and REST alike)."""
    name = certificates.file_name(certificate)
    return file_response(certificates.render_pdf(certificate), "application/pdf", name, name)


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
        return pdf_response(certificate)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            kwargs["certificate"] = self.get_scoped_or_404(kwargs["pk"])
            kwargs["may_download"] = self.appbuilder.sm.has_access("can_download", "CertificateView")
        return super().render_template(template, **kwargs)


class CertificateApi(ScopedModelRestApi):
    resource_name = "certificate"
    datamodel = ListInterface(Certificate)
    base_permissions = ["can_get", "can_info", "can_download"]
    list_columns = show_columns = [
        "id", "number", "issued_on", "valid_until", "region_code", "enterprise_id", "entry_id",
        "entry.mine_name", "entry.enterprise_name", "entry.mineral_name", "entry.level", "entry.year",
        "entry.status", "validity", "validity_label",
    ]
    search_columns = ["number", "issued_on", "valid_until", "region_code"]
    order_columns = ["number", "issued_on", "valid_until"]
    base_order = ("id", "desc")
    method_permission_name = {"get_list": "get", "get": "get", "info": "info", "pdf": "download"}

    @api_expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    @safe
    def pdf(self, pk):
        """The certificate as a PDF.
        ---
        get:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: the PDF
              content:
                application/pdf: {}
            404:
              $ref: '#/components/responses/404'
        """
        certificate = self._scoped_or_none(pk, scoping.DOWNLOAD)
        if certificate is None:
            return self.response_404()
        return pdf_response(certificate)


def register(appbuilder) -> None:
    appbuilder.add_view(CertificateView, "Certificates", label=_l("Certificates"), icon="fa-certificate",
                        category="Directory")
    appbuilder.add_api(CertificateApi)
