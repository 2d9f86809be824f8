"""REST for certification certificates and surveillance audits (SPEC G3, G4, I2), with the
screens' scope and rules.

  /api/v1/certificationcertificate/                   certificates in scope (read; each with its
                                                      ``validity``, ``missing_audit_years``,
                                                      ``renewal_due`` on GET /<id>)
  POST /api/v1/certificationcertificate/<id>/transition   {"action": "revoke", "comment"}
  GET  /api/v1/certificationcertificate/<id>/pdf      the certificate as a PDF
  /api/v1/surveillanceaudit/                          audits in scope (POST plans one, PUT records it
                                                      while planned)
  POST /api/v1/surveillanceaudit/<id>/transition      {"action": "maintain" | "upgrade" | "downgrade"
                                                      | "revoke", "comment"}
"""
from __future__ import annotations

from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name
from marshmallow import fields

from app.models import CertificationCertificate, SurveillanceAudit
from app.services import scoping, surveillance
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface
from app.web.downloads import certification_certificate_pdf_response


def _computed(name: str, field, schema) -> None:
    """Add a computed, dump-only field to a generated schema: dumped and documented (OpenAPI)."""
    field._bind_to_schema(name, schema)
    schema.fields[name] = field
    schema.dump_fields[name] = field


class CertificationCertificateApi(ScopedModelRestApi):
    resource_name = "certificationcertificate"
    datamodel = ListInterface(CertificationCertificate)
    list_columns = ["id", "number", "certification_id", "mine_id", "enterprise_id", "region_code", "body_id",
                    "grade", "status", "mine_name", "enterprise_name", "mineral_name", "issued_on", "valid_from",
                    "valid_until", "revoked_on"]
    show_columns = list_columns + ["decided_at", "decision_comment"]
    search_columns = ["number", "grade", "status", "mine_id", "enterprise_id", "region_code", "body_id",
                      "valid_until"]
    order_columns = ["number", "grade", "valid_until", "id"]
    base_order = ("id", "desc")
    include_route_methods = {"get", "get_list", "info", "transition", "pdf"}

    def _init_model_schemas(self) -> None:
        super()._init_model_schemas()
        # The validity is computed from the row's own columns (no query per row); the show adds
        # the surveillance flags and the renewal notice.
        for schema in (self.list_model_schema, self.show_model_schema):
            _computed("validity", fields.Function(lambda c: surveillance.validity(c), dump_only=True,
                                                  metadata={"type": "string"}), schema)
            _computed("validity_label", fields.Function(lambda c: surveillance.validity_label_of(c),
                                                        dump_only=True), schema)
        show = self.show_model_schema
        _computed("missing_audit_years", fields.Function(
            lambda c: [year.as_dict() for year in surveillance.audit_flags(c)], dump_only=True), show)
        _computed("audit_due", fields.Function(
            lambda c: due.as_dict() if (due := surveillance.audit_due(c)) is not None else None, dump_only=True,
            allow_none=True), show)
        _computed("renewal_due", fields.Function(lambda c: surveillance.renewal_due(c), dump_only=True), show)

    @expose("/<int:pk>/pdf", methods=["GET"])
    @protect()
    @safe
    @permission_name("download")
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
        return certification_certificate_pdf_response(certificate)


class SurveillanceAuditApi(ScopedModelRestApi):
    resource_name = "surveillanceaudit"
    datamodel = ListInterface(SurveillanceAudit)
    list_columns = show_columns = ["id", "certificate_id", "status", "planned_on", "audit_on", "team", "findings",
                                   "score_share", "grade_before", "grade_after", "decided_at", "decision_comment"]
    add_columns = ["certificate_id", "planned_on", "audit_on", "team", "findings", "score_share"]
    edit_columns = ["planned_on", "audit_on", "team", "findings", "score_share"]
    search_columns = ["certificate_id", "status", "planned_on", "audit_on", "grade_after"]
    order_columns = ["planned_on", "audit_on", "id"]
    base_order = ("id", "desc")
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete", "transition"}
    add_required = ("certificate_id",)
    record_rule = surveillance.audit_rule
