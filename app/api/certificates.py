"""Directory certificates as REST (SPEC F2): the scoped list and detail, and the PDF. Certificates
are made only by the listing (app.services.directory); the screens are app/views/certificates.py."""
from __future__ import annotations

from flask_appbuilder.api import expose as api_expose, protect, safe

from app.models import Certificate
from app.services import scoping
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface
from app.web.downloads import certificate_pdf_response


class CertificateApi(ScopedModelRestApi):
    resource_name = "certificate"
    datamodel = ListInterface(Certificate)
    base_permissions = ["can_get", "can_info", "can_download"]
    list_columns = show_columns = [
        "id", "number", "issued_on", "validity_period", "region_code", "enterprise_id", "entry_id",
        "entry.mine_name", "entry.enterprise_name", "entry.mineral_name", "entry.level", "entry.year",
        "entry.status", "validity", "validity_label",
    ]
    search_columns = ["number", "issued_on", "region_code"]
    order_columns = ["number", "issued_on"]
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
        return certificate_pdf_response(certificate)
