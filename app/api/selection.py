"""Selection REST API (SPEC E4, E5, E8): collective review meetings and their decisions, public
notices and their objections, demonstration-zone applications. Rules in app.services.selection
and app.services.demozones; the screens are app/views/selection.py."""
from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose as api_expose, protect, safe

from app.extensions import db
from app.models import Application, DemoZoneApplication, Objection, PublicNotice, ReviewMeeting
from app.services import demozones, scoping, selection
from app.services.exceptions import DomainError, NotFound
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface
from app.web.forms import date_or_none


class ReviewMeetingApi(ScopedModelRestApi):
    """Meetings (E4). POST …/<id>/decide with {"application_id", "decision": pass|fail|defer,
    "reasons"} records a decision and takes the matching step."""

    resource_name = "review_meeting"
    datamodel = ListInterface(ReviewMeeting)
    list_columns = show_columns = ["id", "province_code", "held_on", "members", "note"]
    add_columns = edit_columns = ["held_on", "members", "note"]
    search_columns = ["province_code", "held_on"]
    add_required = ("held_on", "members")
    record_rule = selection.meeting_rule
    method_permission_name = dict(ScopedModelRestApi.method_permission_name or {}, decide="put")

    @api_expose("/<int:pk>/decide", methods=["POST"])
    @protect()
    @safe
    def decide(self, pk):
        """Record the meeting's decision on one application.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    application_id: {type: integer}
                    decision: {type: string, enum: [pass, fail, defer]}
                    reasons: {type: string}
          responses:
            200: {description: the decision and the application's status}
            404: {$ref: '#/components/responses/404'}
            422: {description: refused}
        """
        meeting = self._scoped_or_none(pk, scoping.EDIT)
        body = self.json_object()
        application_id = body.get("application_id")
        application = db.session.get(Application, application_id) if scoping.is_record_id(application_id) else None
        if meeting is None or application is None or not scoping.can_access(g.user, application, scoping.ACT):
            return self.response_404()
        try:
            decision = selection.decide(meeting, application, str(body.get("decision", "")),
                                        str(body.get("reasons", "")), g.user)
        except DomainError as exc:
            return self.refusal(exc)
        db.session.refresh(application)
        return self.response(200, id=decision.id, decision=decision.decision, status=application.status)


class PublicNoticeApi(ScopedModelRestApi):
    """Public notices (E5). POST / with {"title", "starts_on", "ends_on", "application_ids",
    "contact_name", "contact_phone", "contact_email", "contact_address"} publishes; POST
    …/<id>/list lists every application whose notice ended without objection."""

    resource_name = "public_notice"
    datamodel = ListInterface(PublicNotice)
    list_columns = show_columns = ["id", "province_code", "title", "starts_on", "ends_on", "contact_name",
                                   "contact_phone", "contact_email", "contact_address"]
    search_columns = ["province_code", "title", "starts_on", "ends_on"]
    include_route_methods = {"get", "get_list", "info", "publish", "list_eligible"}
    method_permission_name = {"get": "get", "get_list": "get", "info": "info", "publish": "post",
                              "list_eligible": "post"}

    @api_expose("/", methods=["POST"])
    @protect()
    @safe
    def publish(self):
        """Publish passed applications for a period.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    title: {type: string}
                    starts_on: {type: string, format: date}
                    ends_on: {type: string, format: date}
                    application_ids: {type: array, items: {type: integer}}
                    contact_name: {type: string}
                    contact_phone: {type: string}
                    contact_email: {type: string}
                    contact_address: {type: string}
          responses:
            201: {description: published}
            422: {description: refused}
        """
        body = self.json_object()
        ids = body.get("application_ids") if isinstance(body.get("application_ids"), list) else []
        try:
            notice, refusals = selection.publish_notice(g.user, str(body.get("title") or ""),
                                                        date_or_none(str(body.get("starts_on") or "")),
                                                        date_or_none(str(body.get("ends_on") or "")), ids,
                                                        contact={field: body.get(field) for field in
                                                                 selection.NOTICE_CONTACT_FIELDS})
        except NotFound:
            return self.response_404()
        except DomainError as exc:
            return self.refusal(exc)
        return self.response(201, id=notice.id, refused=refusals)

    @api_expose("/<int:pk>/list", methods=["POST"])
    @protect()
    @safe
    def list_eligible(self, pk):
        """List every application of the notice that may be listed now.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: how many were listed and why the others were not}
            404: {$ref: '#/components/responses/404'}
        """
        def list_all(notice, _body):
            listed, refusals = selection.list_after_notice(notice, g.user)
            return self.response(200, listed=listed, refused=refusals)

        return self.act_on(pk, scoping.ACT, list_all)


class ObjectionApi(ScopedModelRestApi):
    resource_name = "objection"
    datamodel = ListInterface(Objection)
    list_columns = show_columns = ["id", "application_id", "region_code", "received_on", "content", "status",
                                   "decided_at", "decision_comment"]
    add_columns = ["application_id", "received_on", "content"]
    search_columns = ["application_id", "status", "received_on"]
    include_route_methods = {"get", "get_list", "info", "post", "transition"}
    # Received today unless the body says otherwise.
    add_required = ("application_id", "content")
    record_rule = selection.objection_rule


class DemoZoneApplicationApi(ScopedModelRestApi):
    resource_name = "demo_zone"
    datamodel = ListInterface(DemoZoneApplication)
    list_columns = show_columns = ["id", "name", "applicant_kind", "region_code", "enterprise_id", "year",
                                   "plan_summary", "status", "submitted_at", "decision_comment"]
    add_columns = edit_columns = ["name", "year", "plan_summary"]
    search_columns = ["name", "year", "status", "region_code"]
    # The year defaults to this one.
    add_required = ("name", "plan_summary")
    record_rule = demozones.record_rule
