"""REST for the evaluation domain (SPEC E1-E3, G1-G3 scores, I2), with the screens' scope and rules.

  /api/v1/indicatorversion/, /api/v1/indicatoritem/       the catalogue (read; admin writes)
  /api/v1/provinceindicatoradoption/                      a province's adopted version
  /api/v1/agency/  (+ POST /api/v1/agency/<id>/disqualify {"reason"})
  /api/v1/agencyconflict/
  GET  /api/v1/evaluation/assignments                      the assignments in scope
  GET  /api/v1/evaluation/<application id>                 totals, areas and pass rules per source
  GET  /api/v1/evaluation/<application id>/scores/<source> item scores ("self" or "agency")
  POST /api/v1/evaluation/<application id>/scores/self     {"scores": [{"item": "1.1.1", "score": 10,
  POST /api/v1/evaluation/<application id>/scores/agency     "note": "..."}]}  (item: code or id)
  GET  /api/v1/evaluation/<application id>/draw            the draw record and its replay
  GET  /api/v1/evaluation/certification/<id>               a certification's summaries per source
  GET  /api/v1/evaluation/certification/<id>/scores/<source>   item scores ("self" or "certifier")
  POST /api/v1/evaluation/certification/<id>/scores/self       the self-scoring sheet (same body)
  POST /api/v1/evaluation/certification/<id>/scores/certifier  the certification body's scores
Status changes (submit_self_evaluation, assign_agency, submit_assessment) are
POST /api/v1/application/<id>/transition.
"""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import BaseApi, expose, protect, safe
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (Agency, AgencyAssignment, AgencyConflict, Application, CertificationApplication, IndicatorItem,
                        IndicatorVersion, ProvinceIndicatorAdoption)
from app.services import agencies, evaluation, scoping
from app.services.exceptions import DomainError
from app.web.base import ScopedModelRestApi
from app.web.datamodel import ListInterface


class IndicatorVersionApi(ScopedModelRestApi):
    resource_name = "indicatorversion"
    datamodel = ListInterface(IndicatorVersion)
    list_columns = show_columns = ["id", "code", "name", "total_points", "pass_points", "area_min_ratio",
                                   "is_active", "source"]
    add_columns = edit_columns = show_columns[1:]
    search_columns = ["code", "name", "is_active"]
    order_columns = ["code", "id"]
    add_required = ("code", "name", "total_points")
    record_rule = evaluation.version_rule


class IndicatorItemApi(ScopedModelRestApi):
    resource_name = "indicatoritem"
    datamodel = ListInterface(IndicatorItem)
    list_columns = show_columns = ["id", "version_id", "parent_id", "code", "level", "name", "points", "sort_order"]
    add_columns = edit_columns = show_columns[1:]
    search_columns = ["version_id", "parent_id", "code", "level", "name"]
    order_columns = ["sort_order", "code", "id"]
    page_size = 100
    max_page_size = 500
    # A parent only below the first level.
    add_required = ("version_id", "code", "level", "name")
    record_rule = evaluation.item_rule


class ProvinceIndicatorAdoptionApi(ScopedModelRestApi):
    resource_name = "provinceindicatoradoption"
    datamodel = ListInterface(ProvinceIndicatorAdoption)
    list_columns = show_columns = ["id", "province_code", "version_id", "pass_points", "area_min_ratio", "adopted_on"]
    add_columns = edit_columns = show_columns[1:]
    search_columns = ["province_code", "version_id"]
    order_columns = ["province_code", "adopted_on"]
    add_required = ("province_code", "version_id")
    record_rule = evaluation.adoption_rule


class AgencyApi(ScopedModelRestApi):
    resource_name = "agency"
    datamodel = ListInterface(Agency)
    list_columns = show_columns = ["id", "name", "uscc", "qualification", "status", "disqualified_at",
                                   "disqualification_reason"]
    add_columns = edit_columns = ["name", "uscc", "qualification"]
    search_columns = ["name", "uscc", "status"]
    order_columns = ["name", "id"]
    # POST …/disqualify needs can_disqualify (FAB names it after the method).
    add_required = ("name",)
    record_rule = agencies.agency_rule

    @expose("/<int:pk>/disqualify", methods=["POST"])
    @protect()
    @safe
    def disqualify(self, pk):
        """Disqualify the agency for fraud (final): body ``{"reason": "..."}``.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: disqualified}
            404: {$ref: '#/components/responses/404'}
            422: {description: refused (no reason, already disqualified)}
        """
        def run(agency, body):
            agencies.disqualify(agency, g.user, body.get("reason"))
            return self.response(200, id=agency.id, status=agency.status,
                                 disqualified_at=agency.disqualified_at.isoformat())

        return self.act_on(pk, scoping.EDIT, run)


class AgencyConflictApi(ScopedModelRestApi):
    resource_name = "agencyconflict"
    datamodel = ListInterface(AgencyConflict)
    list_columns = show_columns = ["id", "agency_id", "enterprise_id", "reason", "declared_at", "declared_by_id"]
    add_columns = ["agency_id", "enterprise_id", "reason"]
    edit_columns = ["reason"]
    search_columns = ["agency_id", "enterprise_id"]
    order_columns = ["declared_at", "id"]
    add_required = ("agency_id", "enterprise_id")
    record_rule = agencies.conflict_rule


def _score_json(row) -> dict:
    return {"item_id": row.item_id, "code": row.item.code, "score": row.score, "note": row.note,
            "scored_at": row.scored_at.isoformat() if row.scored_at else None}


class EvaluationApi(BaseApi):
    """Scores, totals and pass rules of one application or certification; the draw record;
    assignments."""

    resource_name = "evaluation"
    openapi_spec_tag = "Evaluation"
    method_permission_name = {"assignments": "read", "summary": "read", "scores": "read", "draw": "read",
                              "save_self": "self_score", "save_agency": "agency_score",
                              "certification_summary": "read", "certification_scores": "read",
                              "save_certification_self": "self_score", "save_certifier": "certifier_score"}

    @staticmethod
    def _scoped(model, pk):
        record = db.session.get(model, pk)
        if record is None or not scoping.can_access(g.user, record, scoping.READ):
            return None
        return record

    def _application(self, pk):
        return self._scoped(Application, pk)

    def _certification(self, pk):
        return self._scoped(CertificationApplication, pk)

    def _refusal(self, exc: DomainError):
        if exc.status_code == 404:
            return self.response_404()
        body = {"message": str(exc)}
        if exc.field:
            body["field"] = exc.field
        if isinstance(exc, evaluation.ScoreErrors):
            body["errors"] = {str(key): message for key, message in exc.errors.items()}
        return self.response(exc.status_code, **body)

    @expose("/assignments", methods=["GET"])
    @protect()
    @safe
    def assignments(self):
        """The agency assignments in the caller's scope (an agency: exactly its own).
        ---
        get:
          responses:
            200: {description: the assignments}
        """
        rows = db.session.scalars(select(AgencyAssignment).where(scoping.scope_filter(AgencyAssignment, g.user))
                                  .options(selectinload(AgencyAssignment.application))
                                  .order_by(AgencyAssignment.id.desc()).limit(1000)).all()
        return self.response(200, result=[{
            "application_id": row.application_id, "agency_id": row.agency_id, "agency": row.agency.name,
            "status": row.application.status, "mine_name": row.application.mine_name,
            "drawn_at": row.drawn_at.isoformat() if row.drawn_at else None,
        } for row in rows])

    # --- shared by both kinds of record -------------------------------------------------------
    def _summaries(self, record, **identity):
        version = evaluation.version_for(record)
        result = {}
        if version is not None:
            tree = evaluation.catalogue(version)
            for source in evaluation.sources_of(record):
                if evaluation.may_read_scores(record, g.user, source):
                    result[source] = evaluation.summarize(record, source, tree).as_dict()
        return self.response(200, **identity, status=record.status,
                             version=version.code if version is not None else None,
                             version_fixed=record.indicator_version_id is not None, result=result)

    def _scores(self, record, source: str):
        if record is None or not evaluation.may_read_scores(record, g.user, source):
            return self.response_404()
        rows = sorted(evaluation.scores_of(record, source, with_items=True).values(),
                      key=lambda r: r.item.sort_order)
        return self.response(200, result=[_score_json(row) for row in rows])

    def _save(self, record, source: str):
        if record is None:
            return self.response_404()
        body = request.get_json(silent=True)
        entries = body.get("scores") if isinstance(body, dict) else None
        malformed = self.response(422, message=evaluation.malformed_scores_message(), field="scores")
        if not isinstance(entries, list):
            return malformed
        scores, notes = {}, {}
        for entry in entries:
            if not isinstance(entry, dict) or "item" not in entry:
                return malformed
            key = entry["item"]
            if not isinstance(key, (int, str)) or isinstance(key, bool):
                return malformed
            if "score" in entry:
                scores[key] = entry["score"]
            if "note" in entry:
                notes[key] = entry["note"]
        try:
            summary = evaluation.save_scores(record, g.user, source, scores, notes)
        except DomainError as exc:
            return self._refusal(exc)
        return self.response(200, **summary.as_dict())

    # --- green-mine applications ---------------------------------------------------------------
    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def summary(self, pk):
        """Totals per first-level area and overall, and the pass rules, per source.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: the summaries}
            404: {$ref: '#/components/responses/404'}
        """
        application = self._application(pk)
        if application is None:
            return self.response_404()
        return self._summaries(application, application_id=application.id)

    @expose("/<int:pk>/scores/<source>", methods=["GET"])
    @protect()
    @safe
    def scores(self, pk, source):
        """The item scores of one source (``self`` or ``agency``).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: source, schema: {type: string}}
          responses:
            200: {description: the scores}
            404: {$ref: '#/components/responses/404'}
        """
        return self._scores(self._application(pk), source)

    @expose("/<int:pk>/scores/self", methods=["POST"])
    @protect()
    @safe
    def save_self(self, pk):
        """The enterprise's self-evaluation scores, while the application is accepted:
        ``{"scores": [{"item": "1.1.1", "score": 10, "note": "..."}]}`` (item: code or id; a saved
        score can be changed, not removed). All or nothing.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: saved; the new summary}
            403: {description: not the applicant}
            404: {$ref: '#/components/responses/404'}
            422: {description: refused scores (errors per item) or wrong state}
        """
        return self._save(self._application(pk), evaluation.SELF)

    @expose("/<int:pk>/scores/agency", methods=["POST"])
    @protect()
    @safe
    def save_agency(self, pk):
        """The drawn agency's scores, while the application is under assessment (same body).
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: saved; the new summary}
            403: {description: not the drawn agency}
            404: {$ref: '#/components/responses/404'}
            422: {description: refused scores (errors per item) or wrong state}
        """
        return self._save(self._application(pk), evaluation.AGENCY)

    # --- certification applications ------------------------------------------------------------
    @expose("/certification/<int:pk>", methods=["GET"])
    @protect()
    @safe
    def certification_summary(self, pk):
        """A certification's totals per first-level area and overall, the share of the maximum
        (per 100) and the catalogue's pass rules, per source the caller may read (``self``: the
        self-scoring sheet; ``certifier``: the certification body's, which the enterprise reads
        once the body has decided).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: the summaries}
            404: {$ref: '#/components/responses/404'}
        """
        certification = self._certification(pk)
        if certification is None:
            return self.response_404()
        return self._summaries(certification, certification_id=certification.id)

    @expose("/certification/<int:pk>/scores/<source>", methods=["GET"])
    @protect()
    @safe
    def certification_scores(self, pk, source):
        """A certification's item scores of one source (``self`` or ``certifier``).
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          - {in: path, name: source, schema: {type: string}}
          responses:
            200: {description: the scores}
            404: {$ref: '#/components/responses/404'}
        """
        return self._scores(self._certification(pk), source)

    @expose("/certification/<int:pk>/scores/self", methods=["POST"])
    @protect()
    @safe
    def save_certification_self(self, pk):
        """The enterprise's self-scoring sheet (自评打分表), while the certification application is
        a draft or returned for completion: ``{"scores": [{"item": "1.1.1", "score": 10, "note":
        "..."}]}`` (item: code or id; a saved score can be changed, not removed). All or nothing.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: saved; the new summary}
            403: {description: not the applicant}
            404: {$ref: '#/components/responses/404'}
            422: {description: refused scores (errors per item) or wrong state}
        """
        return self._save(self._certification(pk), evaluation.SELF)

    @expose("/certification/<int:pk>/scores/certifier", methods=["POST"])
    @protect()
    @safe
    def save_certifier(self, pk):
        """The certification body's scores, while the application is under evaluation (same
        body); a certifier of the body applied to.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: saved; the new summary}
            403: {description: not a certifier of the body applied to}
            404: {$ref: '#/components/responses/404'}
            422: {description: refused scores (errors per item) or wrong state}
        """
        return self._save(self._certification(pk), evaluation.CERTIFIER)

    @expose("/<int:pk>/draw", methods=["GET"])
    @protect()
    @safe
    def draw(self, pk):
        """The draw record (seed, ordered candidates, exclusions) and its replay; for the
        authorities in scope.
        ---
        get:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: the draw record}
            404: {$ref: '#/components/responses/404'}
        """
        application = self._application(pk)
        if application is None or application.assignment is None or not agencies.may_see_draw(g.user):
            return self.response_404()
        return self.response(200, **agencies.draw_record(application.assignment))
