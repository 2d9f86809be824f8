"""Self-checks (SPEC H1) and problem leads: screens, and the registration of their REST API
(app/api/selfchecks.py). Rules in app.services.selfchecks; these views load, call and report.

- SelfCheckView: the enterprise files the yearly self-check of each listed mine (the mine
  select offers only its listed mines), fills in the six areas, uploads evidence and submits;
  the authorities read them and may return one with a comment. ``/missing?year=`` lists the
  listed mines in scope that have not filed.
- ProblemLeadView: the authorities record problems reported about mines and close them.
"""
from __future__ import annotations

import math

from flask import g, request, url_for
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import IntegerField
from wtforms.validators import Optional as OptionalValidator

from app.extensions import db
from app.models.directory import DirectoryEntry
from app.models.enterprise import Mine
from app.models.spotcheck import AREA_COLUMNS, ProblemLead, SelfCheck
from app.services import choices, scoping, selfchecks, uploads
from app.services.exceptions import DomainError
from app.views.formatting import formatters
from app.views.widgets import SearchSelectField
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import PROBLEM_LEAD_LABELS, SELF_CHECK_LABELS

MENU_CATEGORY = "Spot checks"
MISSING_PAGE_SIZE = 50
MAX_PAGE = 100_000



def _late_flag(value) -> str:
    return _("Late") if value else ""


class ListedMineFilter(BaseFilter):
    """The mines with an entry in status "listed" in the green-mine directory (any level)."""

    name = "listed"

    def apply(self, query, value):
        return query.filter(Mine.id.in_(select(DirectoryEntry.mine_id).where(DirectoryEntry.status == "listed")))


class SelfCheckView(ScopedModelView):
    datamodel = ListInterface(SelfCheck)
    list_title = _l("Self-checks")
    show_title = _l("Self-check record")
    add_title = _l("File the self-check")
    edit_title = _l("Edit the self-check")
    list_columns = ["year", "mine", "enterprise", "status_label", "submitted_at", "is_late"]
    show_columns = ["year", "mine", "enterprise", "region", "entry.level_label", *AREA_COLUMNS, "achievements",
                    "problems", "measures", "status_label", "submitted_at", "is_late", "decision_comment"]
    add_columns = ["mine", "year", *selfchecks.TEXT_COLUMNS]
    edit_columns = list(selfchecks.TEXT_COLUMNS)
    search_columns = ["year", "status", "submitted_at"]
    order_columns = ["year", "submitted_at"]
    base_order = ("id", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete", "can_transition"]
    label_columns = dict(SELF_CHECK_LABELS)
    description_columns = dict(
        {column: _l("The problems and shortcomings found against the industry standard and the evaluation "
                    "indicators; write “none” if none were found.") for column in AREA_COLUMNS},
        mine=_l("Only your mines listed in the green-mine directory."),
        year=_l("Defaults to the current year."),
        achievements=_l("How the green-mine construction went this year and what it achieved."),
        problems=_l("The problems found, summed up."),
    )
    formatters_columns = dict(
        formatters(datetimes=("submitted_at",), optional=(*selfchecks.TEXT_COLUMNS, "decision_comment",
                                                          "submitted_at")),
        is_late=_late_flag,
    )
    add_form_query_rel_fields = {"mine": [["id", ListedMineFilter, None]]}
    add_form_extra_fields = {
        "year": IntegerField(_l("Year"), default=lambda: selfchecks._today().year,
                             validators=[OptionalValidator()]),
    }
    record_rule = selfchecks.self_check_rule
    show_template = "gm/selfcheck_show.html"
    method_permission_name = {"choices": "list", "missing": "list"}

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        # The home page links here with ?mine=<id>: preselect it if it is one of the choices.
        mine_id = request.args.get("mine", type=int)
        if request.method == "GET" and scoping.is_record_id(mine_id) and hasattr(form, "mine"):
            mine = db.session.get(Mine, mine_id)
            if mine is not None and scoping.can_access(g.user, mine, scoping.LINK) and selfchecks.is_listed(mine.id):
                form.mine.data = mine
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            record = self.get_scoped_or_404(kwargs["pk"])
            kwargs.update(
                self_check=record, deadline=selfchecks.deadline(record.year),
                attachments_editable=self.appbuilder.sm.has_access("can_upload", "AttachmentView")
                and uploads.may_upload("SelfCheck", record, g.user),
            )
        return super().render_template(template, **kwargs)

    @expose("/missing")
    @has_access
    def missing(self):
        """The listed mines in scope without a submitted self-check of the year (?year=YYYY)."""
        current_year = selfchecks._today().year
        page = min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)
        error, rows, total, year = None, [], 0, current_year
        try:
            year = selfchecks.parse_year(request.args.get("year") or current_year)
        except DomainError as exc:
            error = exc
        else:
            total = selfchecks.count_missing(g.user, year)
            rows = selfchecks.missing_self_checks(g.user, year, limit=MISSING_PAGE_SIZE,
                                                  offset=(page - 1) * MISSING_PAGE_SIZE)
        deadline = selfchecks.deadline(year)
        body = self.render_template(
            "gm/selfcheck_missing.html", title=_("Self-checks not filed"), year=year, deadline=deadline,
            deadline_passed=selfchecks._today() > deadline, rows=rows, total=total, page=page,
            pages=max(1, math.ceil(total / MISSING_PAGE_SIZE)), error=error,
            requested_year=request.args.get("year", ""),
            may_add=self.appbuilder.sm.has_access("can_add", "SelfCheckView"),
        )
        return (body, 400) if error is not None else body


class ProblemLeadView(ScopedModelView):
    datamodel = ListInterface(ProblemLead)
    list_title = _l("Problem leads")
    show_title = _l("Problem lead")
    add_title = _l("Record a problem lead")
    edit_title = _l("Edit the problem lead")
    list_columns = ["received_on", "mine", "enterprise", "region", "source", "status_label"]
    show_columns = ["received_on", "mine", "enterprise", "region", "source", "content", "status_label",
                    "decided_at", "decision_comment"]
    add_columns = edit_columns = ["mine", "received_on", "source", "content"]
    search_columns = ["received_on", "status", "source"]
    order_columns = ["received_on"]
    base_order = ("received_on", "desc")
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_transition"]
    label_columns = dict(PROBLEM_LEAD_LABELS)
    description_columns = {
        "source": _l("Where the lead came from: a complaint, an inspection, the media …"),
        "received_on": _l("Defaults to today."),
    }
    formatters_columns = formatters(datetimes=("decided_at",), optional=("source", "decided_at",
                                                                          "decision_comment"))
    add_form_extra_fields = edit_form_extra_fields = {
        "mine": SearchSelectField(
            _l("Mine"), model=Mine, endpoint=lambda: url_for("ProblemLeadView.choices", field="mine"),
            labeler=lambda mine: f"{mine.name}（{mine.licence_no}）",
        ),
    }
    search_choices = {"mine": choices.search_mines}
    record_rule = selfchecks.problem_lead_rule


def register(appbuilder) -> None:
    label = _l("Spot checks")
    view = appbuilder.add_view(SelfCheckView, "Self-checks", label=_l("Self-checks"), icon="fa-check-square-o",
                               category=MENU_CATEGORY, category_label=label, category_icon="fa-search")
    # Whoever lists self-checks sees the page (scoped: an enterprise sees its own unfiled mines).
    appbuilder.add_link("Self-checks not filed", href="SelfCheckView.missing", label=_l("Self-checks not filed"),
                        icon="fa-exclamation-triangle", category=MENU_CATEGORY, baseview=view)
    appbuilder.add_view(ProblemLeadView, "Problem leads", label=_l("Problem leads"), icon="fa-flag",
                        category=MENU_CATEGORY)
