"""Certification certificates and surveillance audits (SPEC G3, G4): the scoped lists and detail
pages, the certificate's PDF, the audits' forms. Rules in app.services.surveillance; these routes
load, call and report. The REST twins are in app/api/surveillance.py and are registered here too.

Certificates are made only by the certification's ``certify`` step: no add, edit or delete here;
revoking is the certificate's workflow button (gm/show.html). The PDF route is a FAB route of our
own, which skips FAB's base filters: it loads its record through the scope rule (404 out of scope).
"""
from __future__ import annotations

from flask import g, url_for
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import lazy_gettext as _l
from wtforms import FloatField
from wtforms.validators import NumberRange
from wtforms.validators import Optional as OptionalValidator

from app.models import CertificationCertificate, SurveillanceAudit
from app.services import scoping, surveillance, uploads
from app.views.formatting import blank_if_none, local_datetime
from app.views.widgets import SearchSelectField
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.downloads import certification_certificate_pdf_response
from app.web.labels import SURVEILLANCE_LABELS



def _body_name(body) -> str:
    return body.name if body is not None else ""


def _region_name(region) -> str:
    return region.full_name if region is not None else ""


class CertificationCertificateView(ScopedModelView):
    datamodel = ListInterface(CertificationCertificate)
    list_title = _l("Green-mine certification certificates")
    show_title = _l("Green-mine certification certificate")
    base_permissions = ["can_list", "can_show", "can_download", "can_transition"]
    list_columns = ["number", "mine_name", "enterprise_name", "grade", "validity_label", "valid_until"]
    show_columns = ["number", "grade", "mine_name", "enterprise_name", "mineral_name", "region", "body", "issued_on",
                    "valid_from", "valid_until", "validity_label", "revoked_on", "decided_at", "decision_comment"]
    search_columns = ["number", "mine_name", "enterprise_name", "grade", "status", "valid_until"]
    order_columns = ["number", "grade", "valid_until"]
    base_order = ("id", "desc")
    label_columns = dict(SURVEILLANCE_LABELS)
    formatters_columns = {
        "body": _body_name,
        "region": _region_name,
        "revoked_on": blank_if_none,
        "mineral_name": blank_if_none,
        "decided_at": local_datetime,
        "decision_comment": blank_if_none,
    }
    show_template = "gm/certification_certificate_show.html"
    method_permission_name = {**ScopedModelView.method_permission_name, "download": "download"}

    @expose("/download_pdf/<int:pk>")
    @has_access
    def download(self, pk):
        """The certificate's PDF (replaces FAB's file download route, which reads no record)."""
        certificate = self.get_scoped_or_404(pk, scoping.DOWNLOAD)
        return certification_certificate_pdf_response(certificate)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            certificate = self.get_scoped_or_404(kwargs["pk"])
            sm = self.appbuilder.sm
            roles = {role.name for role in getattr(g.user, "roles", ())}
            renewal_due = surveillance.renewal_due(certificate)
            kwargs.update(
                certificate=certificate,
                validity=surveillance.validity(certificate),
                validity_label=surveillance.validity_label_of(certificate),
                audits=list(certificate.audits),
                audit_years=surveillance.audit_years(certificate),
                missing_years=surveillance.audit_flags(certificate),
                audit_due=surveillance.audit_due(certificate),
                renewal_due=renewal_due,
                may_renew=renewal_due and "enterprise" in roles,
                may_download=sm.has_access("can_download", "CertificationCertificateView"),
                may_see_audits=sm.has_access("can_show", "SurveillanceAuditView"),
                may_plan_audit=sm.has_access("can_add", "SurveillanceAuditView")
                and surveillance.is_certifier_of(g.user, certificate)
                and surveillance.validity(certificate) == surveillance.VALID,
                may_see_certification=sm.has_access("can_show", "CertificationApplicationView"),
            )
        return super().render_template(template, **kwargs)


class SurveillanceAuditView(ScopedModelView):
    """The certifier plans and records a surveillance audit; its outcome is a workflow step."""

    datamodel = ListInterface(SurveillanceAudit)
    list_title = _l("Surveillance audits")
    show_title = _l("Surveillance audit")
    add_title = _l("Plan a surveillance audit")
    edit_title = _l("Record the surveillance audit")
    show_template = "gm/surveillance_show.html"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_transition"]
    list_columns = ["certificate", "planned_on", "audit_on", "score_share", "status_label", "grade_before",
                    "grade_after"]
    show_columns = ["certificate", "status_label", "planned_on", "audit_on", "team", "findings", "score_share",
                    "grade_before", "grade_after", "decided_at", "decision_comment"]
    add_columns = ["certificate", "planned_on", "audit_on", "team", "findings", "score_share"]
    edit_columns = ["planned_on", "audit_on", "team", "findings", "score_share"]
    search_columns = ["status", "planned_on", "audit_on", "grade_after"]
    order_columns = ["planned_on", "audit_on"]
    base_order = ("id", "desc")
    label_columns = dict(SURVEILLANCE_LABELS)
    description_columns = {
        "certificate": _l("A valid certificate issued by your certification body."),
        "audit_on": _l("Within the certificate's validity, and not in the future."),
        "score_share": _l("The audit's score as a share of the catalogue's maximum, 0 to 100 (e.g. 86.5)."),
    }
    formatters_columns = {
        "planned_on": blank_if_none,
        "audit_on": blank_if_none,
        "score_share": lambda value: surveillance.number_text(value),
        "team": blank_if_none,
        "findings": blank_if_none,
        "grade_before": blank_if_none,
        "grade_after": blank_if_none,
        "decided_at": local_datetime,
        "decision_comment": blank_if_none,
    }
    add_form_extra_fields = {
        "certificate": SearchSelectField(
            _l("Certificate"), model=CertificationCertificate,
            endpoint=lambda: url_for("SurveillanceAuditView.choices", field="certificate"),
            labeler=surveillance.certificate_choice_label),
        "score_share": FloatField(_l("Score (share of the maximum, per hundred)"),
                                  validators=[OptionalValidator(), NumberRange(0, 100)]),
    }
    edit_form_extra_fields = {"score_share": add_form_extra_fields["score_share"]}
    search_choices = {"certificate": surveillance.search_certificates}
    record_rule = surveillance.audit_rule

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            audit = self.get_scoped_or_404(kwargs["pk"])
            certificate = audit.certificate
            sm = self.appbuilder.sm
            may_upload = sm.has_access("can_upload", "AttachmentView")
            kwargs.update(
                audit=audit,
                certificate=certificate,
                validity=surveillance.validity(certificate),
                thresholds=[(grade, surveillance.number_text(share)) for grade, share in surveillance.thresholds()],
                threshold=surveillance.number_text(surveillance.threshold_of(certificate.grade)) or None,
                may_edit=sm.has_access("can_edit", "SurveillanceAuditView") and audit.status == "planned"
                and surveillance.is_certifier_of(g.user, certificate),
                may_see_certificate=sm.has_access("can_show", "CertificationCertificateView"),
                attachments_editable=may_upload and uploads.may_upload("SurveillanceAudit", audit, g.user, "report"),
            )
        return super().render_template(template, **kwargs)


def register(appbuilder) -> None:
    appbuilder.add_view(CertificationCertificateView, "Certification certificates",
                        label=_l("Certification certificates"), icon="fa-certificate", category="Certification",
                        category_label=_l("Certification"), category_icon="fa-check-circle")
    appbuilder.add_view(SurveillanceAuditView, "Surveillance audits", label=_l("Surveillance audits"),
                        icon="fa-binoculars", category="Certification")
