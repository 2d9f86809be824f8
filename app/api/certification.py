"""REST for green-mine certification (SPEC G1, G2, I2), with the screens' scope and rules.

  /api/v1/certificationbody/                             the certification bodies (the admin writes)
  /api/v1/certificationapplication/                      applications (POST {"mine_id", "body_id"}: the
                                                         service fills the rest from the registry; PUT
                                                         changes the form while not submitted or returned)
  POST   /api/v1/certificationapplication/<id>/transition        {"action", "comment"}
  POST   /api/v1/certificationapplication/<id>/team              {"name", "team_role", "registration_no",
                                                                  "unit", "specialty"}
  DELETE /api/v1/certificationapplication/<id>/team/<member_id>
  GET    /api/v1/certificationapplication/<id>/clock             the evaluation clock (null before acceptance)
  POST   /api/v1/certificationapplication/renew/<certificate_id> the re-evaluation of a certificate
"""
from __future__ import annotations

from flask import g
from flask_appbuilder.api import expose, protect, safe
from flask_appbuilder.security.decorators import permission_name

from app.extensions import db
from app.models import CertificationApplication, CertificationBody
from app.services import certification, scoping
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface
from app.web.forms import CERTIFICATION_FORM


class CertificationBodyApi(ScopedModelRestApi):
    resource_name = "certificationbody"
    datamodel = ListInterface(CertificationBody)
    list_columns = show_columns = ["id", "name", "uscc", "approval_no", "active"]
    add_columns = edit_columns = ["name", "uscc", "approval_no", "active"]
    search_columns = ["name", "uscc", "approval_no", "active"]
    order_columns = ["name", "id"]
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete"}
    add_required = ("name",)
    record_rule = certification.body_rule


def _member(member) -> dict:
    return {"id": member.id, "name": member.name, "team_role": member.team_role,
            "registration_no": member.registration_no, "unit": member.unit, "specialty": member.specialty}


def clock_json(record) -> dict:
    state = certification.clock(record)
    if state is None:
        return {"clock": None}
    return {"clock": {
        "accepted_on": record.accepted_on.isoformat(), "limit": state.limit, "used": state.used,
        "remaining": state.remaining, "deadline": state.deadline.isoformat() if state.deadline else None,
        "paused": state.paused, "overdue": state.overdue,
        "finished_on": state.finished_on.isoformat() if state.finished_on else None,
        "calendar_complete": state.calendar_complete, "uncovered_years": list(state.uncovered_years),
        "label": state.label(),
        "pauses": [{"started_on": pause.started_on.isoformat(),
                    "ended_on": pause.ended_on.isoformat() if pause.ended_on else None,
                    "reason": pause.reason} for pause in record.pauses],
    }}


class CertificationApplicationApi(ScopedModelRestApi):
    """Certification applications (G1, G2). POST takes ``mine_id`` and ``body_id`` only."""

    resource_name = "certificationapplication"
    datamodel = ListInterface(CertificationApplication)
    _PROCESS = ["id", "mine_id", "enterprise_id", "region_code", "body_id", "kind", "previous_certificate_id",
                "status", "submitted_at", "accepted_on", "finished_on"]
    list_columns = _PROCESS + ["applicant_name", "enterprise_name", "mine_name", "licence_no"]
    show_columns = _PROCESS + ["mine_name", "score", "score_share", "grade", "decided_at",
                               "decision_comment"] + CERTIFICATION_FORM
    add_columns = ["mine_id", "body_id"]
    edit_columns = CERTIFICATION_FORM
    search_columns = ["enterprise_id", "mine_id", "region_code", "body_id", "kind", "status", "licence_no",
                      "accepted_on"]
    order_columns = ["id", "submitted_at", "accepted_on"]
    include_route_methods = {"get", "get_list", "info", "post", "put", "delete", "transition", "team_add",
                             "team_remove", "clock", "renew"}
    add_required = ("mine_id", "body_id")
    record_rule = certification.record_rule
    change_rule = certification.check_applicant

    @expose("/<int:pk>/team", methods=["POST"])
    @protect()
    @safe
    @permission_name("team")
    def team_add(self, pk):
        """Add a member to the project team (a certifier of the record's body).
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
                    name: {type: string}
                    team_role: {type: string, enum: [leader, auditor, expert]}
                    registration_no: {type: string}
                    unit: {type: string}
                    specialty: {type: string}
          responses:
            201: {description: the member added}
            403: {description: not a certifier of the body}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        def add(record, body):
            member = certification.add_member(record, g.user, body.get("name"), body.get("team_role"),
                                              body.get("registration_no"), body.get("unit"), body.get("specialty"))
            return self.response(201, **_member(member))

        return self.act_on(pk, scoping.ACT, add)

    @expose("/<int:pk>/team/<int:member_id>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("team")
    def team_remove(self, pk, member_id):
        """Take a member off the project team.
        ---
        delete:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: member_id, schema: {type: integer}}
          responses:
            200: {description: removed}
            403: {description: not a certifier of the body}
            404: {$ref: '#/components/responses/404'}
        """
        def remove(record, _body):
            certification.remove_member(record, g.user, member_id)
            return self.response(200, message="OK")

        return self.act_on(pk, scoping.ACT, remove)

    @expose("/<int:pk>/clock", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    def clock(self, pk):
        """The evaluation clock: working days used and left, the deadline, paused, overdue.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200:
              description: the clock (null before acceptance)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      clock: {type: object, nullable: true}
            404: {$ref: '#/components/responses/404'}
        """
        return self.act_on(pk, scoping.READ, lambda record, _body: self.response(200, **clock_json(record)))

    @expose("/renew/<int:certificate_pk>", methods=["POST"])
    @protect()
    @safe
    @permission_name("post")
    def renew(self, certificate_pk):
        """Create the re-evaluation (kind "renewal") of one of the enterprise's certificates.
        ---
        post:
          parameters:
          - {in: path, name: certificate_pk, schema: {type: integer}}
          responses:
            201: {description: the draft re-evaluation}
            403: {description: not the certificate's enterprise}
            404: {$ref: '#/components/responses/404'}
            422: {$ref: '#/components/responses/422'}
        """
        from app.models import CertificationCertificate

        certificate = db.session.get(CertificationCertificate, certificate_pk)
        if certificate is None or not scoping.can_access(g.user, certificate, scoping.READ):
            return self.response_404()

        def create():
            record = certification.create_renewal(g.user, certificate)
            return self.response(201, id=record.id, kind=record.kind, status=record.status,
                                 previous_certificate_id=record.previous_certificate_id)

        return self._domain_errors(create)
