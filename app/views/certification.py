"""Green-mine certification screens (SPEC G1, G2; seed 002): the certification bodies' registry and
the applications with their form (seed 002 附件), materials, clock and project team.

Thin views: the rules are in app.services.certification; status changes go through the workflow
engine (the base class's transition route). The REST twins are in app/api/certification.py and
are registered here too (``register``)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import Optional as OptionalValidator

from app.extensions import db
from app.models import CertificationApplication, CertificationBody
from app.models.certification import CERTIFICATION_CONDITIONS
from app.models.choices import ECONOMIC_TYPES, MINING_METHODS, label
from app.services import certification, choices, scoping, uploads
from app.services.exceptions import DomainError
from app.views.applications import closed_list_fields, condition_field
from app.views.formatting import formatters, yes_no, yes_no_answer
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.forms import (
    CERTIFICATION_BASIC,
    CERTIFICATION_CONDITION_FIELDS,
    CERTIFICATION_CONTACTS,
    CERTIFICATION_FORM,
    CERTIFICATION_SITUATION,
)
from app.web.labels import CERTIFICATION_BODY_LABELS, CERTIFICATION_LABELS

PROCESS = ["body", "kind", "mine_name", "status_label", "submitted_at", "accepted_on", "finished_on", "grade",
           "decided_at", "decision_comment"]

LABELS = CERTIFICATION_LABELS


class CertificationBodyView(ScopedModelView):
    """The certification bodies (认证机构): the administrator keeps the registry; every user who
    may read it lists it."""

    datamodel = ListInterface(CertificationBody)
    list_title = _l("Certification bodies")
    show_title = _l("Certification body")
    add_title = _l("Add a certification body")
    edit_title = _l("Edit the certification body")
    list_columns = ["name", "uscc", "approval_no", "active"]
    show_columns = add_columns = edit_columns = ["name", "uscc", "approval_no", "active"]
    search_columns = ["name", "uscc", "approval_no", "active"]
    order_columns = ["name"]
    base_order = ("name", "asc")
    label_columns = dict(CERTIFICATION_BODY_LABELS)
    description_columns = {
        "approval_no": _l("The number of the certification body's approval (e.g. CNCA-R-…)."),
        "active": _l("A body that no longer certifies takes no new applications; its records stay."),
    }
    formatters_columns = {
        "active": yes_no,
        "uscc": lambda value: value or "",
        "approval_no": lambda value: value or "",
    }
    add_form_extra_fields = edit_form_extra_fields = {
        # Not null in the table, but unticked is a valid answer (FAB would make it required).
        "active": BooleanField(_l("Takes applications"), default=True),
    }
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]
    record_rule = certification.body_rule


class CertificationApplicationView(ScopedModelView):
    """绿色矿山认证申请表 (seed 002 附件) and its evaluation."""

    datamodel = ListInterface(CertificationApplication)
    list_title = _l("Green-mine certification applications")
    show_title = _l("Green-mine certification application")
    add_title = _l("New green-mine certification application")
    edit_title = _l("Edit the green-mine certification application")
    show_template = "gm/certification_show.html"
    # The clock is not a list column: it needs the pauses of each row (see the show page).
    list_columns = ["mine_name", "licence_no", "enterprise_name", "body", "kind", "status_label", "accepted_on"]
    edit_columns = CERTIFICATION_FORM
    show_columns = PROCESS + CERTIFICATION_FORM
    search_columns = ["status", "kind", "enterprise_name", "mine_name", "licence_no", "body", "accepted_on"]
    order_columns = ["mine_name", "accepted_on"]
    base_order = ("id", "desc")
    label_columns = dict(LABELS)
    description_columns = dict(
        certification.SITUATION_HINTS,
        conditions_note=_l("Each condition must be met to apply; a mine on the anomaly list cannot apply."))
    edit_fieldsets = [
        (_l("Basic information"), {"fields": CERTIFICATION_BASIC}),
        (_l("Contacts"), {"fields": CERTIFICATION_CONTACTS}),
        (_l("Brief on the green-mine construction"), {"fields": CERTIFICATION_SITUATION}),
        (_l("Conditions of application"), {"fields": CERTIFICATION_CONDITION_FIELDS}),
    ]
    show_fieldsets = [(_l("Certification"), {"fields": PROCESS})] + edit_fieldsets
    edit_form_extra_fields = {name: condition_field(name, LABELS[name]) for name in CERTIFICATION_CONDITIONS}
    edit_form_extra_fields["email"] = StringField(LABELS["email"], validators=[OptionalValidator()],
                                                  widget=BS3TextFieldWidget())
    edit_form_extra_fields.update(closed_list_fields(("economic_type", "mining_method")))
    formatters_columns = dict(
        formatters(datetimes=("submitted_at", "decided_at"),
                   optional=tuple(c for c in CERTIFICATION_FORM + PROCESS if c not in CERTIFICATION_CONDITIONS)),
        **{name: yes_no_answer for name in CERTIFICATION_CONDITIONS},
        economic_type=lambda value: label(ECONOMIC_TYPES, value),
        mining_method=lambda value: label(MINING_METHODS, value),
        kind=certification.kind_label,
    )
    search_choices = {"mine": choices.search_mines}
    method_permission_name = {
        **ScopedModelView.method_permission_name,
        "renew": "add",
        "team": "team",
        "team_remove": "team",
    }
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete", "can_transition", "can_team"]
    record_rule = certification.record_rule
    change_rule = certification.check_applicant

    # --- G1: a new application: the mine and the body, then the form ----------------------
    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        if request.method == "POST":
            try:
                record = certification.create(g.user, request.form.get("mine_id"), request.form.get("body_id"))
            except DomainError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("The certification application was created with the registry's values; complete its "
                        "form."), "success")
                return redirect(url_for(f"{self.endpoint}.edit", pk=record.id))
        return self.render_template("gm/certification_new.html", title=self.add_title,
                                    bodies=certification.active_bodies(),
                                    mine_endpoint=url_for(f"{self.endpoint}.choices", field="mine"),
                                    chosen_body=request.form.get("body_id", ""))

    @expose("/renew/<int:certificate_pk>", methods=["GET", "POST"])
    @has_access
    def renew(self, certificate_pk):
        """The re-evaluation (复评) of one of the enterprise's certificates: a confirmation page,
        then the draft application with the certificate's mine and body."""
        from app.models import CertificationCertificate

        certificate = db.session.get(CertificationCertificate, certificate_pk)
        if certificate is None or not scoping.can_access(g.user, certificate, scoping.READ):
            abort(404)
        if request.method == "POST":
            try:
                record = certification.create_renewal(g.user, certificate)
            except DomainError as exc:
                flash(str(exc), "danger")
            else:
                flash(_("The re-evaluation application was created; complete its form."), "success")
                return redirect(url_for(f"{self.endpoint}.edit", pk=record.id))
        try:
            certification.check_renewable(g.user, certificate)
            refusal = None
        except DomainError as exc:
            refusal = str(exc)
        return self.render_template("gm/certification_renew.html", title=_("Apply for the re-evaluation"),
                                    certificate=certificate, refusal=refusal)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        record = self.get_scoped_or_404(pk, scoping.READ)
        try:
            certification.check_editable(record, g.user)
        except DomainError as exc:
            flash(str(exc), "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=record.id))
        return super().edit(pk)

    # --- G2: the project team -----------------------------------------------------------
    @expose("/team/<int:pk>", methods=["POST"])
    @has_access
    def team(self, pk):
        record = self.get_scoped_or_404(pk, scoping.ACT)
        form = request.form
        try:
            member = certification.add_member(record, g.user, form.get("name"), form.get("team_role"),
                                              form.get("registration_no"), form.get("unit"), form.get("specialty"))
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("%(name)s joined the project team.", name=member.name), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=pk) + "#team")

    @expose("/team/<int:pk>/remove/<int:member_id>", methods=["POST"])
    @has_access
    def team_remove(self, pk, member_id):
        record = self.get_scoped_or_404(pk, scoping.ACT)
        try:
            certification.remove_member(record, g.user, member_id)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("The member was taken off the project team."), "success")
        return redirect(url_for(f"{self.endpoint}.show", pk=pk) + "#team")

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            record = self.get_scoped_or_404(kwargs["pk"])
            sm = self.appbuilder.sm
            may_upload = sm.has_access("can_upload", "AttachmentView")
            kwargs.update(
                certification=record,
                kind_label=certification.kind_label(record.kind),
                materials=[(slot, uploads.slots_of("CertificationApplication", record)[slot].label,
                            may_upload and uploads.may_upload("CertificationApplication", record, g.user, slot),
                            slot in uploads.required_slots("CertificationApplication"))
                           for slot in (*certification.MATERIAL_SLOTS, certification.RECTIFICATION_SLOT)],
                evaluation_files=[(slot, rule.label, may_upload and uploads.may_upload(
                    certification.EVALUATION_OWNER, record, g.user, slot))
                    for slot, rule in uploads.slots_of(certification.EVALUATION_OWNER, record).items()],
                clock=certification.clock(record),
                pauses=list(record.pauses),
                team=certification.team_of(record),
                team_roles=certification.team_role_labels(),
                may_change_team=sm.has_access("can_team", "CertificationApplicationView")
                and certification.may_change_team(record, g.user),
                certificate_id=certification.certificate_id_of(record),
                previous_certificate=record.previous_certificate,
            )
        return super().render_template(template, **kwargs)


def register(appbuilder) -> None:
    """Add the certification application screens to ``appbuilder`` (menu "Certification")."""
    appbuilder.add_view(CertificationApplicationView, "Certification applications",
                        label=_l("Certification applications"), icon="fa-certificate", category="Certification",
                        category_label=_l("Green-mine certification"), category_icon="fa-certificate")
    appbuilder.add_view(CertificationBodyView, "Certification bodies", label=_l("Certification bodies"),
                        icon="fa-university", category="Certification")
