"""Findings of falsified materials (弄虚作假认定, seed 001 三(三)): the province's and the national
level's list, page and form. A finding is recorded once and kept: no edit, no delete. The rules
and the effects are app.services.fraud's."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.models import Application, FraudFinding
from app.services import fraud, scoping
from app.services.exceptions import DomainError
from app.views.formatting import formatters
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import FRAUD_FINDING_LABELS


class FraudFindingView(ScopedModelView):
    datamodel = ListInterface(FraudFinding)
    list_title = show_title = _l("Findings of falsified materials")
    list_columns = ["decided_on", "mine_name", "enterprise_name", "region", "decision_no", "barred_until"]
    show_columns = ["mine_name", "enterprise_name", "region", "application", "reason", "decision_no", "decided_on",
                    "barred_until", "effects", "recorded_by_name", "created_at"]
    search_columns = ["decided_on", "mine_name", "enterprise_name", "decision_no", "barred_until"]
    order_columns = ["decided_on", "barred_until", "mine_name"]
    base_order = ("decided_on", "desc")
    # Recorded once, kept as recorded (no edit, no delete).
    base_permissions = ["can_list", "can_show", "can_add"]
    label_columns = dict(FRAUD_FINDING_LABELS)
    formatters_columns = formatters(datetimes=("created_at",), optional=("application", "effects",
                                                                          "recorded_by_name"))
    show_template = "gm/fraud_finding_show.html"

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        """Record a finding against a mine (its licence number) or an application (?application_id=)."""
        error = None
        form = request.form if request.method == "POST" else request.args
        application = None
        raw = str(form.get("application_id") or "").strip()
        if raw.isdigit() and scoping.is_record_id(int(raw)):
            from app.extensions import db

            candidate = db.session.get(Application, int(raw))
            if candidate is not None and scoping.can_access(g.user, candidate, scoping.ACT):
                application = candidate
        if request.method == "POST":
            try:
                finding = fraud.record(g.user, reason=form.get("reason"), decision_no=form.get("decision_no"),
                                       decided_on=form.get("decided_on"), licence_no=form.get("licence_no"),
                                       application_id=form.get("application_id"),
                                       document=request.files.get("document"))
            except DomainError as exc:
                error = exc
            else:
                flash(_("The finding against “%(name)s” is recorded. %(effects)s", name=finding.mine_name,
                        effects=finding.effects or ""), "success")
                return redirect(url_for("FraudFindingView.show", pk=finding.id))
        errors = {}
        for item in getattr(error, "errors", None) or ([error] if error is not None else []):
            errors.setdefault(item.field or "", []).append(str(item))
        return self.render_template("gm/fraud_finding_add.html", title=_("Record a finding of falsified materials"),
                                    errors=errors, form=form, application=application,
                                    today=clock.today().isoformat(), bar_years=fraud.bar_years())

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            kwargs["finding"] = self.get_scoped_or_404(kwargs["pk"])
        return super().render_template(template, **kwargs)


def register(appbuilder) -> None:
    appbuilder.add_view(FraudFindingView, "Findings of falsified materials",
                        label=_l("Findings of falsified materials"), icon="fa-gavel", category="Selection")
