"""Views of the evaluation domain (SPEC E1-E3, G1-G3 scores): the indicator catalogue (versions
and items), the provinces' adoptions, the score sheets of the self-evaluation and of the agency,
the certification's self-scoring sheet and the certification body's scores, the agencies'
assignments and the draw record. Thin: the rules are app.services.evaluation and
app.services.agencies; status changes go through the workflow engine (the application's page).
"""
from __future__ import annotations


from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Application, IndicatorItem, IndicatorVersion, ProvinceIndicatorAdoption
from app.services import agencies, applications, evaluation, reference, scoping, uploads
from app.services.exceptions import DomainError
from app.views.catalogue_excel import IndicatorCatalogueExcelView
from app.views.formatting import formatters, share_percent
from app.views.reference import WorkingNotes, inferred_mark, provenance
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import INDICATOR_LABELS



def _catalogue_scope(province_name) -> str:
    """Whose catalogue a version is: a province's own by the province's name, else 全国."""
    return province_name or _("Nationwide")


class IndicatorVersionView(WorkingNotes, ScopedModelView):
    """Catalogue versions (E1): everyone signed in reads them; the admin edits them. The note on
    what of a version is inferred is for staff (WorkingNotes)."""

    datamodel = ListInterface(IndicatorVersion)
    list_title = _l("Indicator catalogues")
    show_title = _l("Indicator catalogue")
    add_title = _l("New indicator catalogue")
    edit_title = _l("Edit indicator catalogue")
    # The code (national-2020) is the catalogue's key in the data files: the admin types it, the
    # readers know the catalogue by its name.
    list_columns = ["name", "province_name", "total_points", "pass_points", "area_min_ratio", "is_active"]
    show_columns = ["name", "province_name", "total_points", "pass_points", "area_min_ratio", "is_active", "source",
                    "source_note"]
    # A province's own catalogue comes in through its import (app.views.catalogue_excel), never
    # by choosing a province here.
    add_columns = edit_columns = ["code"] + [column for column in show_columns if column != "province_name"]
    working_note_columns = ("source_note",)
    search_columns = ["code", "name", "is_active"]
    order_columns = ["code"]
    base_order = ("code", "asc")
    label_columns = dict(INDICATOR_LABELS, province_name=lazy_pgettext("indicator catalogue", "Applies to"))
    description_columns = {
        "pass_points": _l("Empty: no pass line (a province may set its own when adopting the version)."),
        "area_min_ratio": _l("E.g. 0.75: each first-level area must reach three quarters of its maximum. Empty: no such rule."),
    }
    formatters_columns = dict(formatters(optional=("pass_points", "source", "source_note")),
                              area_min_ratio=share_percent,
                              province_name=_catalogue_scope)
    record_rule = evaluation.version_rule


class IndicatorItemView(WorkingNotes, ScopedModelView):
    """The items of the catalogues: an item whose name or points are inferred carries the 推定值
    mark, and its page the source note, for staff (WorkingNotes)."""

    datamodel = ListInterface(IndicatorItem)
    list_title = _l("Indicator items")
    show_title = _l("Indicator item")
    add_title = _l("New indicator item")
    edit_title = _l("Edit indicator item")
    list_columns = ["version", "code", "level", "name", "points", "inferred"]
    show_columns = ["version", "code", "level", "name", "points", "parent", "sort_order", "provenance"]
    working_note_columns = ("inferred", "provenance")
    add_columns = edit_columns = ["version", "parent", "code", "level", "name", "points", "sort_order", "inferred",
                                  "source_note"]
    search_columns = ["version", "code", "level", "name"]
    order_columns = ["code", "sort_order"]
    base_order = ("sort_order", "asc")
    page_size = 50
    label_columns = dict(INDICATOR_LABELS)
    formatters_columns = dict(formatters(optional=("points", "parent")), inferred=inferred_mark,
                              provenance=provenance)
    record_rule = evaluation.item_rule

    def _init_forms(self):
        super()._init_forms()
        # The catalogues share their items' codes (1 矿区环境 is in 2020 and in 2024): a parent
        # item is offered with its catalogue's name. (Its catalogue is loaded once per catalogue:
        # a many-to-one already in the session is not queried again.)
        for form in (self.add_form, self.edit_form):
            form.parent.kwargs["get_label"] = _item_with_catalogue


def _item_with_catalogue(item: IndicatorItem) -> str:
    return f"{item.version.name}：{item}" if item.version is not None else str(item)


class ProvinceIndicatorAdoptionView(ScopedModelView):
    """Which version a province evaluates against, with its own pass line if it sets one."""

    datamodel = ListInterface(ProvinceIndicatorAdoption)
    list_title = _l("Adopted indicator catalogues")
    show_title = _l("Adopted indicator catalogue")
    add_title = _l("Adopt an indicator catalogue")
    edit_title = _l("Edit the adopted indicator catalogue")
    list_columns = ["province", "version", "pass_points", "area_min_ratio", "adopted_on"]
    show_columns = list_columns
    add_columns = edit_columns = ["province", "version", "pass_points", "area_min_ratio", "adopted_on"]
    search_columns = ["version"]
    order_columns = ["adopted_on"]
    label_columns = dict(INDICATOR_LABELS)
    description_columns = {
        "pass_points": _l("Empty: the version's own pass line (2020 national: 800)."),
        "area_min_ratio": _l("Empty: the version's own share (2020 national: 0.75)."),
    }
    formatters_columns = dict(formatters(optional=("pass_points",)), area_min_ratio=share_percent)
    record_rule = evaluation.adoption_rule
    # Only provinces and active versions are offered.
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "province": [["level", FilterEqual, 1]],
        "version": [["is_active", FilterEqual, True]],
    }


# ---------------------------------------------------------------------------
# Score sheets, assignments, the draw record
# ---------------------------------------------------------------------------
def _application_or_404(pk) -> Application:
    try:
        application = db.session.get(Application, int(pk))
    except (TypeError, ValueError):
        application = None
    if application is None or not scoping.can_access(g.user, application, scoping.READ):
        abort(404)
    return application


def overview(application) -> dict:
    """What the application's page shows of its evaluation (gm/evaluation_section.html)."""
    sm = current_app.appbuilder.sm
    if not sm.has_access("can_read", "EvaluationView") or not scoping.can_access(g.user, application):
        return {"visible": False}
    version = evaluation.version_for(application)
    tree = evaluation.catalogue(version) if version is not None else None
    summaries = []
    if tree is not None and application.indicator_version_id:
        summaries = [evaluation.summarize(application, source, tree) for source in evaluation.SOURCES
                     if evaluation.may_read_scores(application, g.user, source)]
    assignment = application.assignment
    return {
        "visible": True,
        "version": version,
        "summaries": [s for s in summaries if s is not None and (s.scored or s.source == evaluation.SELF)],
        "assignment": assignment,
        "may_see_draw": assignment is not None and agencies.may_see_draw(g.user),
        "may_self_score": sm.has_access("can_self_score", "EvaluationView")
        and evaluation.may_score(application, g.user, evaluation.SELF),
        "may_agency_score": sm.has_access("can_agency_score", "EvaluationView")
        and evaluation.may_score(application, g.user, evaluation.AGENCY),
        "self_report_editable": sm.has_access("can_upload", "AttachmentView")
        and uploads.may_upload("SelfEvaluation", application, g.user),
        "assessment_editable": assignment is not None and sm.has_access("can_upload", "AttachmentView")
        and uploads.may_upload("AgencyAssignment", assignment, g.user),
        "show_self_report": application.status not in ("draft", "submitted", "county_passed", "city_recommended",
                                                       "returned"),
    }


def _certification_or_404(pk):
    """A CertificationApplication the user reaches (scope rule), else 404."""
    from app.models import CertificationApplication

    try:
        certification = db.session.get(CertificationApplication, int(pk))
    except (TypeError, ValueError):
        certification = None
    if certification is None or not scoping.can_access(g.user, certification, scoping.READ):
        abort(404)
    return certification


def certification_overview(certification) -> dict:
    """What the certification's page shows of its scores (gm/certification_scores.html)."""
    sm = current_app.appbuilder.sm
    if not sm.has_access("can_read", "EvaluationView") or not scoping.can_access(g.user, certification):
        return {"visible": False}
    version = evaluation.version_for(certification)
    may = {source: sm.has_access(evaluation.sheet_for(certification).rule(source).permission, "EvaluationView")
           and evaluation.may_score(certification, g.user, source)
           for source in evaluation.CERTIFICATION_SOURCES}
    summaries = []
    if version is not None:
        tree = evaluation.catalogue(version)
        for source in evaluation.CERTIFICATION_SOURCES:
            if not evaluation.may_read_scores(certification, g.user, source):
                continue
            summary = evaluation.summarize(certification, source, tree)
            # The body's sheet is shown once it has scores (or to the body that may fill it).
            if source == evaluation.SELF or summary.scored or may[source]:
                summaries.append(summary)
    return {
        "visible": True,
        "version": version,
        "summaries": summaries,
        "may_self_score": may[evaluation.SELF],
        "may_certifier_score": may[evaluation.CERTIFIER],
    }


class EvaluationView(BaseView):
    """评分: the score sheets of one application or certification, the agencies' assignments,
    the draw record."""

    route_base = "/evaluation"
    default_view = "assignments"
    method_permission_name = {
        "assignments": "read",
        "sheet": "read",
        "certification_sheet": "read",
        "draw": "read",
        "save_self": "self_score",
        "save_agency": "agency_score",
        "save_certification_self": "self_score",
        "save_certifier": "certifier_score",
    }

    # The endpoints of each record kind: its sheet page and the save route of each source.
    _ENDPOINTS = {
        "application": ("sheet", {evaluation.SELF: "save_self", evaluation.AGENCY: "save_agency"}),
        "certification": ("certification_sheet", {evaluation.SELF: "save_certification_self",
                                                  evaluation.CERTIFIER: "save_certifier"}),
    }

    @staticmethod
    def _heading(record) -> str:
        if evaluation.sheet_for(record).kind == "application":
            return f"{record.year} {record.mine_name}（{record.licence_no}）— {record.status_label}"
        return f"{record.mine_name}（{record.licence_no}）— {record.status_label}"

    @staticmethod
    def _back_url(record) -> str:
        """The scored record's own page."""
        if evaluation.sheet_for(record).kind == "application":
            return url_for("ApplicationView.show", pk=record.id)
        return url_for("CertificationApplicationView.show", pk=record.id)

    def _sheet_url(self, record, source: str) -> str:
        page, _saves = self._ENDPOINTS[evaluation.sheet_for(record).kind]
        return url_for(f"{self.endpoint}.{page}", pk=record.id, source=source)

    def _sheet_page(self, record, source: str, values=None, errors=None, status: int = 200):
        if not evaluation.may_read_scores(record, g.user, source):
            abort(404)
        sheet = evaluation.sheet_for(record)
        back_url = self._back_url(record)
        version = evaluation.version_for(record)
        if version is None:
            flash(_("No indicator catalogue is active."), "warning")
            return redirect(back_url)
        tree = evaluation.catalogue(version)
        editable = (self.appbuilder.sm.has_access(sheet.rule(source).permission, self.class_permission_name)
                    and evaluation.may_score(record, g.user, source))
        _page, saves = self._ENDPOINTS[sheet.kind]
        label = sheet.label(source)
        # The enterprise's evidence per item beside the item (seed 000 §3.3), for whoever scores
        # or reads the sheet of an application; its files are downloaded through the scope rule.
        with_evidence = sheet.kind == "application"
        page = self.render_template(
            "gm/evaluation_sheet.html", title=label, record=record, heading=self._heading(record),
            back_url=back_url, source=source, source_label=label, tree=tree,
            leaf_ids={leaf.id for leaf in tree.leaves}, scores=evaluation.scores_of(record, source),
            summary=evaluation.summarize(record, source, tree), editable=editable,
            values=values, errors=errors or {},
            save_url=url_for(f"{self.endpoint}.{saves[source]}", pk=record.id),
            evidence=applications.evidence_by_item(record) if with_evidence else {},
            evidence_files=applications.evidence_files(record) if with_evidence else {},
            # An item whose name or points are inferred says so to staff and agencies (not to
            # the enterprise, which sees no working notes).
            shows_working_notes=reference.shows_working_notes(g.user),
        )
        return (page, status) if status != 200 else page

    @expose("/<int:pk>/<source>")
    @has_access
    def sheet(self, pk, source):
        application = _application_or_404(pk)
        if source not in evaluation.SOURCES:
            abort(404)
        return self._sheet_page(application, source)

    @expose("/certification/<int:pk>/<source>")
    @has_access
    def certification_sheet(self, pk, source):
        """The self-scoring sheet (``self``) or the certification body's scores (``certifier``)."""
        certification = _certification_or_404(pk)
        if source not in evaluation.CERTIFICATION_SOURCES:
            abort(404)
        return self._sheet_page(certification, source)

    def _save(self, record, source: str):
        scores, notes = {}, {}
        for key, value in request.form.items():
            if key.startswith("score_") and key[6:].isdigit():
                scores[int(key[6:])] = value
            elif key.startswith("note_") and key[5:].isdigit():
                notes[int(key[5:])] = value
        try:
            summary = evaluation.save_scores(record, g.user, source, scores, notes)
        except evaluation.ScoreErrors as exc:
            flash(str(exc), "danger")
            return self._sheet_page(record, source, values=request.form, errors=exc.errors, status=422)
        except DomainError as exc:
            if exc.status_code == 404:
                abort(404)
            flash(str(exc), "danger")
            return redirect(self._back_url(record))
        flash(_("The scores were saved: %(total)s of %(maximum)s points, %(scored)s of %(count)s items scored.",
                total=summary.total, maximum=summary.maximum, scored=summary.scored, count=summary.count), "success")
        return redirect(self._sheet_url(record, source))

    @expose("/<int:pk>/self", methods=["POST"])
    @has_access
    def save_self(self, pk):
        return self._save(_application_or_404(pk), evaluation.SELF)

    @expose("/<int:pk>/agency", methods=["POST"])
    @has_access
    def save_agency(self, pk):
        return self._save(_application_or_404(pk), evaluation.AGENCY)

    @expose("/certification/<int:pk>/self", methods=["POST"])
    @has_access
    def save_certification_self(self, pk):
        return self._save(_certification_or_404(pk), evaluation.SELF)

    @expose("/certification/<int:pk>/certifier", methods=["POST"])
    @has_access
    def save_certifier(self, pk):
        return self._save(_certification_or_404(pk), evaluation.CERTIFIER)

    @expose("/<int:pk>/draw")
    @has_access
    def draw(self, pk):
        application = _application_or_404(pk)
        if application.assignment is None or not agencies.may_see_draw(g.user):
            abort(404)
        return self.render_template("gm/evaluation_draw.html", title=_("Agency draw record"),
                                    application=application, record=agencies.draw_record(application.assignment))

    @expose("/assignments/")
    @has_access
    def assignments(self):
        """The assignments in the user's scope: an agency sees exactly its own."""
        from app.models import AgencyAssignment

        rows = db.session.scalars(
            select(AgencyAssignment).where(scoping.scope_filter(AgencyAssignment, g.user))
            .options(selectinload(AgencyAssignment.application))
            .order_by(AgencyAssignment.id.desc()).limit(500)).all()
        return self.render_template("gm/evaluation_assignments.html", title=_("Third-party assessments"),
                                    assignments=rows)


def register(appbuilder) -> None:
    """Add this domain's views and APIs to ``appbuilder``."""
    from app.views import agencies as agency_views

    current_app.jinja_env.globals.update(evaluation_overview=overview, agency_status_label=agencies.status_label,
                                         certification_scores_overview=certification_overview)
    appbuilder.add_view(IndicatorVersionView, "Indicator catalogues", label=_l("Indicator catalogues"),
                        icon="fa-list-ol", category="Reference")
    appbuilder.add_view(IndicatorItemView, "Indicator items", label=_l("Indicator items"), icon="fa-list",
                        category="Reference")
    appbuilder.add_view(ProvinceIndicatorAdoptionView, "Adopted indicator catalogues",
                        label=_l("Adopted indicator catalogues"), icon="fa-check-square-o", category="Reference")
    # The import page lists the versions to export too: the menu shows it to those who import.
    appbuilder.add_view(IndicatorCatalogueExcelView, "Indicator catalogue files",
                        label=_l("Indicator catalogue files"), icon="fa-file-excel-o", category="Reference")
    appbuilder.add_view(EvaluationView, "Third-party assessments", label=_l("Third-party assessments"),
                        icon="fa-balance-scale", category="GreenMine")
    agency_views.register(appbuilder)
