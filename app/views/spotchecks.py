"""Spot-check screens (SPEC H2-H5, seed 004): the inspector pools, the campaigns with their
recorded draw, and the verification records (附件1) with their confirmations and results.
Rules in app.services.spotchecks; these routes load, call and report. The REST twins are in
app/api/spotchecks.py and are registered here too."""
from __future__ import annotations


from flask import current_app, flash, g, redirect, request, url_for
from flask_appbuilder import ModelView
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.exceptions import DatabaseException
from flask_appbuilder.forms import GeneralModelConverter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.views import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FloatField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional as OptionalValidator

from app import clock
from app.models import GreenMineUser, Inspector, Region, SpotCheck, SpotCheckCampaign
from app.models.choices import MINING_METHODS
from app.models.choices import label as choice_label
from app.models.spotcheck import AREA_COLUMNS, AREAS, RECHECK_STAGE, RECORD_STAGE
from app.services import choices, scoping, spotcheck_reports, spotchecks, uploads, workflow
from app.services.exceptions import DomainError
from app.views.formatting import blank_if_none, local_datetime
from app.views.widgets import SearchSelectField
from app.web.base import _REFUSAL, ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import SPOT_CHECK_CAMPAIGN_LABELS, SPOT_CHECK_LABELS



def _region_name(region) -> str:
    return region.full_name if region is not None else str(_("National"))


def _yes_no(value) -> str:
    return "" if value is None else str(_("Yes") if value else _("No"))


def _percent(value) -> str:
    return "" if value is None else f"{float(value) * 100:g}%"


def _team(team) -> str:
    return "" if team is None else _("Team %(number)s", number=team.number)


class _TriState:
    """Yes / no / not answered, for a nullable boolean (是否符合绿色矿山标准)."""

    VALUES = {"yes": True, "no": False, "": None}

    def __call__(self, value):
        if value is None or isinstance(value, bool):
            return value
        if value in self.VALUES:
            return self.VALUES[value]
        raise ValueError(value)


class RatioField(FloatField):
    """The sampling ratio: a decimal (0.25) or a percentage (25%), checked by the campaign's
    rule (spotchecks.checked_ratio): its refusal is the field's error, in the user's language."""

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = spotchecks.checked_ratio(valuelist[0])
        except DomainError as exc:
            self.data = None
            raise ValueError(str(exc)) from None


class ConformsField(SelectField):
    def __init__(self, label=None, **kwargs):
        super().__init__(label, choices=[SelectChoice("", "—"), SelectChoice("yes", _l("Yes")),
                                         SelectChoice("no", _l("No"))], coerce=_TriState(),
                         validators=[OptionalValidator()], widget=Select2Widget(), **kwargs)


def _choice_field(label, options, default="none"):
    return SelectField(label, choices=[SelectChoice(value, text) for value, text in options.items()], default=default,
                       widget=Select2Widget())


# ---------------------------------------------------------------------------
# Inspector pools
# ---------------------------------------------------------------------------
class InspectorView(ScopedModelView):
    """The organiser's pool of inspectors (核查人员库): the province, the city and the national
    level keep one each; whom it holds is the pool's region (set by the rule)."""
    empty_hint = _l("The inspector pools are kept by the authorities that organise spot checks (national, "
                    "province or city).")

    datamodel = ListInterface(Inspector)
    list_title = _l("Inspector pool")
    show_title = _l("Inspector")
    add_title = _l("Add an inspector to the pool")
    edit_title = _l("Edit inspector")
    list_columns = ["name", "user", "pool_region", "home_region", "unit", "title", "title_grade", "admin_rank",
                    "active"]
    show_columns = list_columns
    add_columns = ["user", "name", "home_region_code", "unit", "title", "title_grade", "admin_rank", "active"]
    edit_columns = ["name", "home_region_code", "unit", "title", "title_grade", "admin_rank", "active"]
    search_columns = ["name", "unit", "title", "title_grade", "admin_rank", "active"]
    order_columns = ["name"]
    base_order = ("id", "asc")
    label_columns = dict(SPOT_CHECK_LABELS)
    description_columns = {
        "title_grade": _l("A deputy senior or senior title may lead a team."),
        "admin_rank": _l("A division or bureau rank may lead a team."),
        "home_region_code": _l("He never checks a mine of this county."),
        "user": _l("An account with the inspector role: he confirms records from it."),
    }
    formatters_columns = {
        "user": lambda user: spotchecks.account_label(user) if user is not None else "",
        "pool_region": _region_name,
        "home_region": lambda region: region.full_name if region is not None else "",
        "title_grade": lambda value: spotchecks.label(spotchecks.TITLE_GRADES, value),
        "admin_rank": lambda value: spotchecks.label(spotchecks.ADMIN_RANKS, value),
        "active": _yes_no,
        "unit": blank_if_none,
        "title": blank_if_none,
    }
    add_form_extra_fields = {
        "user": SearchSelectField(
            _l("Account"), model=GreenMineUser,
            endpoint=lambda: url_for("InspectorView.choices", field="user"), labeler=spotchecks.account_label),
    }
    edit_form_extra_fields = {}
    for _fields in (add_form_extra_fields, edit_form_extra_fields):
        _fields.update({
            "home_region_code": SearchSelectField(
                _l("Home county"), model=Region, key_attr="code", as_key=True,
                endpoint=lambda: url_for("InspectorView.choices", field="region"),
                labeler=lambda region: f"{region.code} {region.full_name}"),
            "title_grade": _choice_field(_l("Title grade"), spotchecks.TITLE_GRADES),
            "admin_rank": _choice_field(_l("Administrative rank"), spotchecks.ADMIN_RANKS),
            # Not null in the table, but unticked is a valid answer (FAB would make it required).
            "active": BooleanField(_l("Active"), default=True),
        })
    del _fields
    search_choices = {"user": spotchecks.search_inspector_accounts, "region": choices.search_leaf_regions}
    record_rule = spotchecks.inspector_rule
    change_rule = spotchecks.inspector_change_rule
    # No workflow: no transition route.
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_delete"]


# ---------------------------------------------------------------------------
# Campaigns
# ---------------------------------------------------------------------------
class SpotCheckCampaignView(ScopedModelView):
    empty_hint = _l("Spot-check campaigns are set up by the authorities that organise them (national, province "
                    "or city); the checks of the mines in your scope are listed under Verification records.")
    datamodel = ListInterface(SpotCheckCampaign)
    list_title = _l("Spot-check campaigns")
    show_title = _l("Spot-check campaign")
    add_title = _l("Plan a spot-check campaign")
    edit_title = _l("Edit the spot-check campaign")
    show_template = "gm/spotcheck_campaign_show.html"
    list_columns = ["year", "title", "level", "region", "is_supplementary", "status_label", "sample_size", "drawn_at"]
    show_columns = ["title", "year", "level", "region", "is_supplementary", "supplementary_reason", "ratio",
                    "team_size", "team_count", "report_deadline", "status_label", "sample_size", "drawn_at",
                    "decided_at", "decision_comment"]
    add_columns = edit_columns = ["title", "year", "is_supplementary", "supplementary_reason", "ratio", "team_size",
                                  "team_count", "report_deadline"]
    search_columns = ["year", "title", "level", "status"]
    order_columns = ["year", "drawn_at"]
    base_order = ("id", "desc")
    label_columns = dict(SPOT_CHECK_CAMPAIGN_LABELS)
    description_columns = {
        "ratio": _l("The share of the listed mines of the covered levels that is drawn: a decimal from 0.2 to 1, "
                    "or a percentage such as 25%. The national notice asks for at least 20%; a province may set "
                    "more."),
        "is_supplementary": _l("One campaign per organiser and year: tick this for another campaign of the same "
                               "year (补充抽查), and give its reason."),
        "team_size": _l("3 to 5 people per team; the leader holds a senior title or a division-level rank."),
        "year": _l("The organiser and the directory levels checked follow from your account: a province checks "
                   "its national and provincial mines, a city its city- and county-level mines."),
    }
    formatters_columns = {
        "level": lambda value: spotchecks.label(spotchecks.CAMPAIGN_LEVELS, value),
        "region": _region_name,
        "ratio": _percent,
        "sample_size": blank_if_none,
        "drawn_at": local_datetime,
        "decided_at": local_datetime,
        "decision_comment": blank_if_none,
        "report_deadline": blank_if_none,
        "is_supplementary": _yes_no,
        "supplementary_reason": blank_if_none,
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "year": IntegerField(_l("Year"), default=lambda: clock.today().year,
                             validators=[OptionalValidator()]),
        "ratio": RatioField(_l("Sampling ratio"), default=lambda: current_app.config.get("SPOT_CHECK_RATIO", 0.2),
                            validators=[OptionalValidator()]),
        # Not null in the table, but unticked is a valid answer (FAB would make it required).
        "is_supplementary": BooleanField(_l("Supplementary round"), default=False),
        "team_size": IntegerField(_l("Team size"), default=3, validators=[OptionalValidator()]),
        "team_count": IntegerField(_l("Number of teams"), default=1, validators=[OptionalValidator()]),
    }
    record_rule = spotchecks.campaign_rule
    change_rule = spotchecks.campaign_change_rule

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            campaign = self.get_scoped_or_404(kwargs["pk"])
            sm = self.appbuilder.sm
            organiser = spotchecks.is_organiser(campaign, g.user)
            preview = None
            if campaign.status == "planned" and organiser:
                ids, priority = spotchecks.candidates(campaign)
                pool = spotchecks.inspector_facts(spotchecks.inspector_pool(campaign))
                preview = dict(candidates=len(ids), priority=len(priority),
                               sample_size=spotchecks.sample_size_for(campaign.ratio, len(ids)),
                               inspectors=len(pool), leaders=sum(1 for f in pool.values() if f.may_lead),
                               needed=campaign.team_count * campaign.team_size)
            reports = "SpotCheckReportView.summary" in current_app.view_functions
            kwargs.update(
                campaign=campaign,
                record=spotchecks.draw_record(campaign) if campaign.algorithm else None,
                preview=preview,
                covered_levels=spotchecks.covered_levels_label(campaign),
                deadline_warning=campaign.deadline_passed_at_creation,
                report_deadline=spotcheck_reports.report_deadline(campaign),
                created_on=clock.day_of(campaign.created_at) if campaign.created_at else None,
                sample_summary=spotchecks.sample_summary(campaign) if campaign.algorithm else None,
                sample_summary_text=spotchecks.sample_summary_text(campaign) if campaign.algorithm else "",
                organiser_name=spotchecks.organiser_name(campaign),
                may_summary=reports and sm.has_access("can_summary", "SpotCheckReportView"),
                may_report=reports and "SpotCheckReportView.report" in current_app.view_functions
                and sm.has_access("can_report", "SpotCheckReportView"),
                may_see_checks=sm.has_access("can_show", "SpotCheckView"),
                # The draw and the closing are the organiser's: others who reach the campaign (the
                # province, for one of its cities) do not see the buttons.
                workflow_actions=[s for s in workflow.available_actions(campaign, g.user) if organiser],
                workflow_screens=[],
                workflow_history=workflow.history(campaign),
                workflow_name=campaign.workflow_name,
            )
            return ModelView.render_template(self, template, **kwargs)
        return super().render_template(template, **kwargs)


# ---------------------------------------------------------------------------
# Verification records
# ---------------------------------------------------------------------------
class SpotCheckView(ScopedModelView):
    """The verification record of one drawn mine (附件1): its team fills it in and confirms it;
    the organiser decides the result."""

    datamodel = ListInterface(SpotCheck)
    list_title = _l("Verification records")
    show_title = _l("Green-mine verification record")
    edit_title = _l("Fill in the verification record")
    show_template = "gm/spotcheck_show.html"
    list_columns = ["campaign", "position", "mine_name", "licence_no", "entry_level", "team", "status_label",
                    "rectify_deadline"]
    show_columns = ["campaign", "position", "entry_level", "mine_name", "licence_no", "mineral_name",
                    "mining_method", "production_scale", "priority_reasons", "team", "status_label", "recorded_at",
                    "rectify_deadline", "decided_at", "decision_comment", "note"]
    edit_columns = ["checked_on"] + list(AREA_COLUMNS) + ["opinions", "conforms"]
    search_columns = ["mine_name", "licence_no", "status", "entry_level", "rectify_deadline"]
    order_columns = ["position", "mine_name", "rectify_deadline"]
    base_order = ("id", "desc")
    base_permissions = ["can_list", "can_show", "can_edit", "can_transition", "can_confirm"]
    label_columns = dict(SPOT_CHECK_LABELS)
    description_columns = {f"area_{area}": _l("The problems and shortcomings found on site, against the industry "
                                               "standards and evaluation indicators (empty: none found).")
                           for area in AREAS}
    description_columns["conforms"] = _l("Agreed by the team at the end of the check.")
    description_columns["recheck_findings"] = _l("What the team found when it returned to the mine: what was "
                                                 "rectified, and what was not.")
    description_columns["recheck_conforms"] = _l("Agreed by the team at the end of the re-check.")
    formatters_columns = {
        "entry_level": lambda value: _entry_level(value),
        "mining_method": lambda value: choice_label(MINING_METHODS, value),
        # Why the mine was a priority of the draw; a mine drawn at random says so (not a blank).
        "priority_reasons": lambda reasons: ("、".join(spotchecks.priority_labels(reasons))
                                             or _("No (drawn at random)")),
        "team": _team,
        "recorded_at": local_datetime,
        "decided_at": local_datetime,
        "rectify_deadline": blank_if_none,
        "decision_comment": blank_if_none,
        "note": blank_if_none,
        "mineral_name": blank_if_none,
        "production_scale": blank_if_none,
        "conforms": _yes_no,
    }
    edit_form_extra_fields = {"conforms": ConformsField(_l("Meets the green-mine standard"))}
    # While the mine rectifies, the edit page fills in the re-check instead (``edit``).
    recheck_columns = list(spotchecks.RECHECK_FIELDS)
    recheck_form_extra_fields = {"recheck_conforms": ConformsField(_l("Rectified: meets the green-mine standard"))}
    recheck_title = _l("Fill in the re-check")
    recheck_form = None
    record_rule = spotchecks.check_rule

    def _init_forms(self):
        super()._init_forms()
        self.recheck_form = GeneralModelConverter(self.datamodel).create_form(
            self.label_columns, self.recheck_columns, self.description_columns, self.validators_columns,
            self.recheck_form_extra_fields, None)

    def check_write(self, item, action: str) -> None:
        """The record's references (mine, entry, team, campaign) are the draw's and the rule
        refuses any change to them: a team member, who reaches the record but not the mine's
        registry, may save it."""
        try:
            scoping.check_reference_types(item)
            self.check_rules(item, action)
            scoping.check_access(g.user, item, action)
        except DomainError as exc:
            self._refuse(exc)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            check = self.get_scoped_or_404(kwargs["pk"])
            steps = workflow.available_actions(check, g.user)
            organiser = spotchecks.is_organiser(check.campaign, g.user)
            sm = self.appbuilder.sm
            may_confirm = sm.has_access("can_confirm", "SpotCheckView") and spotchecks.may_confirm(check, g.user)
            may_upload = sm.has_access("can_upload", "AttachmentView")
            stage = spotchecks.current_stage(check)
            recheck = spotchecks.recheck_visible(check)
            kwargs.update(
                check=check,
                areas=[(spotchecks.area_label(area), getattr(check, f"area_{area}")) for area in AREAS],
                members=_members(check, RECORD_STAGE),
                conclusion=spotchecks.conclusion_label(check.conforms),
                may_confirm=may_confirm and stage == RECORD_STAGE,
                may_edit=sm.has_access("can_edit", "SpotCheckView") and spotchecks.may_edit_record(check, g.user),
                attachments_editable=may_upload and uploads.may_upload("SpotCheck", check, g.user, "document"),
                # The re-check of a rectification, once it was ordered.
                recheck=recheck,
                recheck_members=_members(check, RECHECK_STAGE) if recheck else [],
                may_confirm_recheck=may_confirm and stage == RECHECK_STAGE,
                may_edit_recheck=sm.has_access("can_edit", "SpotCheckView")
                and spotchecks.may_edit_recheck(check, g.user),
                recheck_attachments_editable=may_upload
                and uploads.may_upload("SpotCheck", check, g.user, "recheck_document"),
                rectification_ordered_at=spotchecks.rectification_ordered_at(check) if recheck else None,
                rectification_step=next((s for s in steps if s.action == "order_rectification"), None)
                if organiser else None,
                entries=spotchecks.listed_entries(check.mine_id) if organiser else None,
                may_see_campaign=sm.has_access("can_show", "SpotCheckCampaignView"),
                # The results are the organiser's: others in scope (a city, for a province's
                # campaign) do not see their buttons.
                workflow_actions=[s for s in steps if s.action != "order_rectification" and s.screen is None
                                  and (s.action not in spotchecks.RESULT_ACTIONS or organiser)],
                workflow_screens=[s for s in steps if s.screen is not None],
                workflow_history=workflow.history(check),
                workflow_name=check.workflow_name,
            )
            # The steps are computed here (the rectification order has its own form, with the
            # deadline): not again by the scoped view.
            return ModelView.render_template(self, template, **kwargs)
        return super().render_template(template, **kwargs)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        """The record's form while the team fills in the record; the re-check's form while the
        mine rectifies (the rule decides who may save either)."""
        check = self.get_scoped_or_404(pk)
        if spotchecks.edit_stage(check) != RECHECK_STAGE:
            return super().edit(pk)
        if request.method == "POST":
            form = self.recheck_form.refresh(request.form)
            if form.validate():
                form.populate_obj(check)
                try:
                    self.pre_update(check)
                    self.datamodel.edit(check)
                except DatabaseException:
                    flash(str(self.database_error_message), "danger")
                    return redirect(url_for(f"{self.endpoint}.show", pk=pk))
                except DomainError as exc:
                    g.pop(_REFUSAL, None)  # answered here: the form again, with the message
                    flash(str(exc), "danger")
                    form = self.recheck_form.refresh(request.form)
                    self._attach_refusal(form, exc)
                else:
                    flash(_("The re-check was saved."), "success")
                    return redirect(url_for(f"{self.endpoint}.show", pk=check.id))
        else:
            form = self.recheck_form.refresh(obj=check)
        widgets = {"edit": self.edit_widget(form=form, include_cols=self.recheck_columns, exclude_cols=[],
                                            fieldsets=None)}
        return self.render_template(self.edit_template, title=self.recheck_title, widgets=widgets,
                                    related_views=[])

    @expose("/transition/<pk>", methods=["POST"])
    @has_access
    def transition(self, pk):
        """A step of the record's workflow; the results take the rectification deadline and the
        note (备注) with them."""
        check = self.get_scoped_or_404(pk, scoping.ACT)
        action = request.form.get("action", "")
        try:
            spotchecks.decide(check, action, g.user, request.form.get("comment"),
                              request.form.get("rectify_deadline"), request.form.get("note"))
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("Done: %(action)s.", action=workflow.action_label("spot_check", action)), "success")
        return redirect(url_for("SpotCheckView.show", pk=pk))

    @expose("/confirm/<int:pk>", methods=["POST"])
    @has_access
    def confirm(self, pk):
        """A team member confirms the submitted record from his own account (签字)."""
        check = self.get_scoped_or_404(pk, scoping.ACT)
        try:
            confirmation = spotchecks.confirm(check, g.user)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("You confirmed the re-check.") if confirmation.stage == RECHECK_STAGE
                  else _("You confirmed the verification record."), "success")
        return redirect(url_for("SpotCheckView.show", pk=pk))


def _members(check, stage: str) -> list[dict]:
    """The team, leader first, each with his confirmation of ``stage`` (or None)."""
    if check.team is None:
        return []
    confirmed = {row.inspector_id: row for row in spotchecks.confirmations_of(check, stage)}
    return [dict(inspector=member.inspector, leader=member.position == 0,
                 confirmation=confirmed.get(member.inspector_id))
            for member in sorted(check.team.members, key=lambda m: m.position)]


def _entry_level(value) -> str:
    from app.services.directory import LEVEL_LABELS

    return "" if value is None else str(LEVEL_LABELS.get(value, value))


def register(appbuilder) -> None:
    appbuilder.add_view(SpotCheckCampaignView, "Spot-check campaigns", label=_l("Spot-check campaigns"),
                        icon="fa-random", category="Spot checks", category_label=_l("Spot checks"),
                        category_icon="fa-search")
    appbuilder.add_view(SpotCheckView, "Verification records", label=_l("Verification records"),
                        icon="fa-clipboard", category="Spot checks")
    appbuilder.add_view(InspectorView, "Inspector pool", label=_l("Inspector pool"), icon="fa-users",
                        category="Spot checks")
