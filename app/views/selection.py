"""Selection screens and REST (SPEC E4, E5, E8): collective review meetings with their decisions,
public notices with their objections, demonstration-zone applications. Rules in
app.services.selection and app.services.demozones; these routes load, call and report."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import Application, DemoZoneApplication, Objection, PublicNotice, ReviewMeeting
from app.services import demozones, public_notices, scoping, selection, uploads
from app.services.exceptions import DomainError, NotFound
from app.views.formatting import formatters
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.forms import date_or_none
from app.web.labels import DEMO_ZONE_LABELS, OBJECTION_LABELS, PUBLIC_NOTICE_LABELS, REVIEW_MEETING_LABELS



# ---------------------------------------------------------------------------
# E4: collective review meetings
# ---------------------------------------------------------------------------
class ReviewMeetingView(ScopedModelView):
    empty_hint = _l("Collective review meetings are held by the province authority.")
    datamodel = ListInterface(ReviewMeeting)
    list_title = _l("Collective review meetings")
    show_title = _l("Collective review meeting")
    add_title = _l("Record a collective review meeting")
    edit_title = _l("Edit meeting")
    list_columns = ["held_on", "province", "members"]
    show_columns = ["held_on", "province", "members", "note"]
    add_columns = edit_columns = ["held_on", "members", "note"]
    search_columns = ["held_on"]
    base_order = ("held_on", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    label_columns = dict(REVIEW_MEETING_LABELS)
    description_columns = {"members": _l("One member per line, with his or her function.")}
    formatters_columns = formatters(optional=("note",))
    record_rule = selection.meeting_rule
    show_template = "gm/review_meeting_show.html"
    method_permission_name = {"choices": "list", "decide": "edit"}

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            meeting = self.get_scoped_or_404(kwargs["pk"])
            may_decide = self.appbuilder.sm.has_access("can_edit", "ReviewMeetingView")
            kwargs.update(meeting=meeting, decisions=meeting.decisions,
                          candidates=selection.reviewable_applications(g.user, meeting) if may_decide else [],
                          may_decide=may_decide)
        return super().render_template(template, **kwargs)

    @expose("/decide/<int:pk>", methods=["POST"])
    @has_access
    def decide(self, pk):
        meeting = self.get_scoped_or_404(pk, scoping.EDIT)
        application_id = request.form.get("application_id", type=int)
        application = db.session.get(Application, application_id) if scoping.is_record_id(application_id) else None
        if application is None or not scoping.can_access(g.user, application, scoping.ACT):
            abort(404)
        try:
            selection.decide(meeting, application, request.form.get("decision", ""),
                             request.form.get("reasons", ""), g.user)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("The decision on “%(name)s” is recorded.", name=application.mine_name), "success")
        return redirect(url_for("ReviewMeetingView.show", pk=pk))


# ---------------------------------------------------------------------------
# E5: public notices and objections
# ---------------------------------------------------------------------------
class PublicNoticeView(ScopedModelView):
    empty_hint = _l("The public notices of selection results are published by the province authority.")
    datamodel = ListInterface(PublicNotice)
    list_title = _l("Public notices of selection results")
    show_title = _l("Public notice")
    list_columns = ["title", "province", "starts_on", "ends_on"]
    show_columns = ["title", "province", "starts_on", "ends_on", "contact_name", "contact_phone", "contact_email",
                    "contact_address"]
    search_columns = ["title", "starts_on", "ends_on"]
    base_order = ("starts_on", "desc")
    base_permissions = ["can_list", "can_show", "can_add"]
    label_columns = dict(PUBLIC_NOTICE_LABELS)
    show_template = "gm/public_notice_show.html"
    method_permission_name = {"choices": "list", "publish": "add", "list_eligible": "add"}

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            notice = self.get_scoped_or_404(kwargs["pk"])
            kwargs.update(notice=notice, may_list=self.appbuilder.sm.has_access("can_add", "PublicNoticeView"))
        return super().render_template(template, **kwargs)

    @expose("/add", methods=["GET", "POST"])
    @has_access
    def add(self):
        return redirect(url_for("PublicNoticeView.publish"))

    @expose("/publish", methods=["GET", "POST"])
    @has_access
    def publish(self):
        error = None
        if request.method == "POST":
            try:
                notice, refusals = selection.publish_notice(
                    g.user, request.form.get("title"), date_or_none(request.form.get("starts_on")),
                    date_or_none(request.form.get("ends_on")), request.form.getlist("application_ids"),
                    contact={field: request.form.get(field) for field in selection.NOTICE_CONTACT_FIELDS})
            except NotFound:
                abort(404)
            except DomainError as exc:
                error = exc
            else:
                for refusal in refusals:
                    flash(refusal, "warning")
                flash(_("The public notice is published."), "success")
                return redirect(url_for("PublicNoticeView.show", pk=notice.id))
        return self.render_template("gm/public_notice_publish.html", title=_("Publish a public notice"),
                                    applications=selection.publishable_applications(g.user), error=error,
                                    form=request.form, min_days=selection.notice_min_days())

    @expose("/list-eligible/<int:pk>", methods=["POST"])
    @has_access
    def list_eligible(self, pk):
        notice = self.get_scoped_or_404(pk, scoping.ACT)
        try:
            listed, refusals = selection.list_after_notice(notice, g.user)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            for refusal in refusals:
                flash(refusal, "warning")
            flash(_("%(n)s mine(s) listed in the directory.", n=listed), "success")
        return redirect(url_for("PublicNoticeView.show", pk=pk))


class ObjectionView(ScopedModelView):
    datamodel = ListInterface(Objection)
    list_title = _l("Objections")
    show_title = _l("Objection")
    add_title = _l("Record an objection")
    list_columns = ["received_on", "application", "status_label", "content"]
    show_columns = ["received_on", "application", "content", "status_label", "decision_comment"]
    add_columns = ["application", "received_on", "content"]
    search_columns = ["received_on", "status"]
    base_order = ("received_on", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_transition"]
    label_columns = dict(OBJECTION_LABELS)
    formatters_columns = formatters(optional=("decision_comment",))
    record_rule = selection.objection_rule
    show_template = "gm/objection_show.html"

    def render_template(self, template, **kwargs):
        # Who objected on the public form, and the evidence sent: the province and the national
        # level only (app.services.public_notices.may_see_objector).
        if template == self.show_template and "pk" in kwargs:
            objection = self.get_scoped_or_404(kwargs["pk"])
            if public_notices.may_see_objector(g.user, objection):
                kwargs.update(objector=objection, evidence=public_notices.evidence_of(objection))
        return super().render_template(template, **kwargs)
    # The applications in public notice (those the user reaches: every related choice is scoped).
    add_form_query_rel_fields = {"application": [["status", FilterEqual, "in_notice"]]}


# ---------------------------------------------------------------------------
# E8: demonstration zones
# ---------------------------------------------------------------------------
class DemoZoneApplicationView(ScopedModelView):
    datamodel = ListInterface(DemoZoneApplication)
    list_title = _l("Demonstration zone applications")
    show_title = _l("Demonstration zone application")
    add_title = _l("Apply for a demonstration zone")
    edit_title = _l("Edit the demonstration zone application")
    list_columns = ["year", "name", "applicant_kind_label", "region", "status_label"]
    show_columns = ["year", "name", "applicant_kind_label", "region", "enterprise", "plan_summary", "status_label",
                    "submitted_at", "decision_comment"]
    add_columns = edit_columns = ["name", "year", "plan_summary"]
    search_columns = ["name", "year", "status"]
    base_order = ("id", "desc")
    label_columns = dict(DEMO_ZONE_LABELS)
    formatters_columns = formatters(datetimes=("submitted_at",), optional=("enterprise", "decision_comment",
                                                                           "submitted_at"))
    record_rule = demozones.record_rule
    show_template = "gm/demo_zone_show.html"

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            zone = self.get_scoped_or_404(kwargs["pk"])
            kwargs.update(zone=zone, attachments_editable=self.appbuilder.sm.has_access("can_upload", "AttachmentView")
                          and uploads.may_upload("DemoZoneApplication", zone, g.user))
        return super().render_template(template, **kwargs)


def register(appbuilder) -> None:
    current_app.jinja_env.globals["decision_label"] = lambda code: str(selection.DECISION_LABELS.get(code, code))
    selection_label = _l("Selection and directory")
    appbuilder.add_view(ReviewMeetingView, "Collective review", label=_l("Collective review meetings"),
                        icon="fa-users", category="Selection", category_label=selection_label,
                        category_icon="fa-gavel")
    appbuilder.add_view(PublicNoticeView, "Public notices of results", label=_l("Public notices of results"),
                        icon="fa-bullhorn", category="Selection")
    appbuilder.add_view(ObjectionView, "Objections", label=_l("Objections"), icon="fa-exclamation-circle",
                        category="Selection")
    appbuilder.add_view(DemoZoneApplicationView, "Demonstration zones", label=_l("Demonstration zones"),
                        icon="fa-map-o", category="Selection")
