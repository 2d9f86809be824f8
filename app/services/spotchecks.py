"""Spot checks of listed green mines (抽查核查, 双随机一公开; SPEC H2-H5, seed 001 §二, seed 004).

**Campaign.** One authority's check of one year (``campaign_rule``). Its organiser is the
authority that creates it: a province user organises a province campaign of his province, a city
user a city campaign of his city, the national user a national campaign. Which directory levels
it covers follows from its level (``COVERED_LEVELS``; seed 001 §二(二)2, seed 004 一/二):

    national  the national level, anywhere
    province  the national and provincial levels, in the province
    city      the city and county levels, in the city

**The draw** (workflow step ``draw``: guard ``check_drawable``, effect ``draw_campaign``, in the
step's transaction; algorithm ``sha256-rank-v1`` of app.services.draws)::

    candidates  every mine with a listed entry of a covered level in the organiser's region; one
                per mine: its highest covered entry (lowest id among equals); directory entry
                ids, in id order (``candidate_entry_ids``)
    priority    {"<entry id>": [reasons]}: "open_pit" (the mine is mined open-pit),
                "problem_lead" (an open problem lead about the mine), "rectification" (a check
                of an earlier campaign ordered rectification and it is still under way)
    seed        secrets.token_hex(16)
    sample_size ceil(ratio × number of candidates)
    sample      rank(seed, priority entry ids, "mines") + rank(seed, other entry ids, "mines"),
                its first sample_size ids (position 1, 2, …)
    inspectors  the active inspectors of the organiser's pool (``pool_region_code`` equal to the
                campaign's region, NULL for the national pool), in id order
                (``inspector_candidate_ids``), ranked: rank(seed, inspector ids, "inspectors")
    leaders     the first team_count ranked inspectors who may lead (a deputy-senior or senior
                title, or a division or bureau rank; seed 004 三): team 1, 2, …
    members     the other ranked inspectors, in rank order, dealt to team 1, 2, …, 1, 2, … until
                each team has team_size people (the rest are not drawn)
    assignment  each sampled mine, in sample order, goes to the first team, starting with team
                ((position - 1) mod team_count) + 1 and going round, none of whose members lives
                or works in the mine's county (the entry's ``region_code``)

The step is refused, with what is missing, when there is no candidate, too few inspectors who
may lead, too few inspectors for team_count teams of team_size, or a mine that no team may check.
``replay(campaign)`` recomputes sample, teams and assignment from the recorded fields alone:
the seed, the candidates, the priority, the sample size and the inspector candidates, with each
inspector's qualification and home county as they were when the draw was made (the audit trail
keeps every later change, so a promotion after the draw does not change the replay).
``verify(campaign)`` compares the replay with the recorded teams and checks.

**The record** (seed 004 附件1): the members of the check's team fill in the six areas, the
opinions, the date and the conclusion (meets the standard: yes / no) and upload photos and video
while the check is ``assigned`` (``check_rule``); the team leader submits it
(``check_record_submittable``); every member then confirms it from his own account
(``confirm``: 签字).

**The result** (H5), by the organiser (``check_organiser``) once every member has confirmed
(``check_decidable``): retain; order rectification with a deadline after today
(``check_rectification_orderable``; the team is told); remove.

**The re-check** of a rectification (the follow-up): while the check is ``rectifying`` the
members of the same team fill in the re-check (``RECHECK_FIELDS``: its date, what it found,
whether the mine now meets the standard) and upload its photos and video (upload slots
``recheck_document`` and ``recheck_video``; the record's own files are closed by then); the
leader submits it (``check_recheck_submittable``: dated neither in the future nor before the
rectification was ordered, findings given, conclusion given) and the check is ``rechecked``;
every member confirms the re-check from his own account (``confirm`` confirms the current
stage: ``RECORD_STAGE`` while ``recorded``, ``RECHECK_STAGE`` while ``rechecked``); then the
organiser passes it (retained) or fails it (removed), once every member has confirmed
(``check_recheck_decidable``). Overdue: ``rectifying`` with its deadline passed
(``overdue_rectifications``); a re-checked mine awaits its result and is not overdue.

A removal (``remove_from_directory``) takes the mine off every
directory the organiser keeps (app.services.directory.KEEPERS), in the same transaction, with
the campaign as the reason. An entry of a level the organiser does not keep — a province
campaign's check of a national-level mine — is not touched: the national directory is kept by
the national level (seed 004 六: the province reports the national mines' records to the
ministry), so its keepers are told, in the same transaction, that the check concluded removal,
and they remove it from the directory's page.
"""
from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Optional

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import IntegrityError

from app import clock
from app.extensions import db
from app.models.directory import CITY, COUNTY, LEVELS, NATIONAL, PROVINCIAL
from app.models.mixins import provide_rule
from app.models.region import Region
from app.models.spotcheck import (
    AREA_COLUMNS,
    AREAS,
    RECHECK_STAGE,
    RECORD_STAGE,
    Inspector,
    SpotCheck,
    SpotCheckCampaign,
    SpotCheckConfirmation,
    SpotCheckTeam,
    SpotCheckTeamMember,
)
from app.services import codes, draws, records, scoping, search_text
from app.services.workflow import WORKFLOWS
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed

ALGORITHM = draws.RANK_ALGORITHM

# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------
# The six areas of seed 004 附件1, in its order.
AREA_LABELS = {
    "environment": _l("Mining area environment"),
    "development": _l("Resource development"),
    "utilization": _l("Comprehensive use of resources"),
    "energy": _l("Energy saving and emission reduction"),
    "innovation": _l("Technological innovation and digital mining"),
    "management": _l("Enterprise management and image"),
}
assert tuple(AREA_LABELS) == AREAS
# What inspectors write in an area where they found nothing: these words record no finding, and so
# no problem, in the report and the summary table (nor does a blank area).
NO_FINDING_WORDS = frozenset({
    "无", "没有", "无问题", "没有问题", "暂无", "暂无问题", "无明显问题", "未发现问题", "未发现明显问题", "未发现",
})
# Punctuation and brackets around those words that change nothing: 「无。」, 「（无）」, 「/」.
_NO_FINDING_PUNCTUATION = " \t\r\n\u3000。．.，,；;：:！!、（）()【】[]-—–/／"


def is_finding(text: Optional[str]) -> bool:
    """Whether an area's text of a verification record records a finding (a problem): not
    blank, and not one of the words saying there is none (无, 没有, 无问题 …), whatever the
    whitespace and punctuation around them. The one rule for every count of problems."""
    words = (text or "").strip(_NO_FINDING_PUNCTUATION)
    return bool(words) and words not in NO_FINDING_WORDS


def findings_of(check: SpotCheck) -> dict[str, str]:
    """area -> its text, for the areas of ``check`` where a finding was recorded (AREAS order)."""
    texts = {area: (getattr(check, f"area_{area}") or "").strip() for area in AREAS}
    return {area: text for area, text in texts.items() if is_finding(text)}


# The organiser's level.
CAMPAIGN_LEVELS = {NATIONAL: _l("National"), PROVINCIAL: _l("Provincial"), CITY: _l("City-level")}
COVERED_LEVELS: dict[str, tuple[str, ...]] = {
    NATIONAL: (NATIONAL,),
    PROVINCIAL: (NATIONAL, PROVINCIAL),
    CITY: (CITY, COUNTY),
}
OPEN_PIT, PROBLEM_LEAD, RECTIFICATION = "open_pit", "problem_lead", "rectification"
PRIORITY_LABELS = {
    OPEN_PIT: _l("Open-pit mine"),
    PROBLEM_LEAD: _l("Open problem lead"),
    RECTIFICATION: _l("Under look-back rectification"),
}
# 技术职称 and 行政职级 (Inspector.title_grade, Inspector.admin_rank): who may lead a team
# (seed 004 三: 高级技术职称或处级及以上行政职级).
TITLE_GRADES = {
    "none": _l("No professional title"),
    "junior": _l("Junior title"),
    "intermediate": _l("Intermediate title"),
    "deputy_senior": _l("Deputy senior title"),
    "senior": _l("Senior title"),
}
ADMIN_RANKS = {
    "none": _l("No administrative rank"),
    "section": _l("Section level"),
    "division": _l("Division level"),
    "bureau": _l("Bureau level"),
}
LEADING_GRADES = frozenset({"deputy_senior", "senior"})
LEADING_RANKS = frozenset({"division", "bureau"})
CONCLUSION_LABELS = {True: _l("Yes"), False: _l("No")}

# Who may write which fields of a verification record, and while which state.
MEMBER_FIELDS = ("checked_on", "opinions", "conforms") + AREA_COLUMNS
RECHECK_FIELDS = ("recheck_on", "recheck_findings", "recheck_conforms")
ORGANISER_FIELDS = ("rectify_deadline", "note")
# The rectification is under way: ordered, re-checked or not yet, and no result.
RECHECK_STATES = ("rectifying", "rechecked")
RESULT_ACTIONS = ("retain", "order_rectification", "remove", "pass_recheck", "fail_recheck")
TEXT_MAX = 4000
NOTE_MAX = 2000
TEAM_COUNT_MAX = 100
# The lowest sampling ratio (seed 004 一: 核查比例不低于20%); a province may set more.
MIN_RATIO = 0.2
# The draw's own columns: written by the draw step only.
DRAW_FIELDS = ("algorithm", "seed", "candidate_entry_ids", "priority", "sample_size", "inspector_candidate_ids",
               "drawn_at", "drawn_by_id", "decided_at", "decision_comment")
# The inspector facts a draw reads (replayed as they were at the draw).
_FACT_FIELDS = ("name", "title_grade", "admin_rank", "home_region_code")


def label(choices: dict, value: Optional[str]) -> str:
    return "" if value is None else str(choices.get(value, value))


def area_label(area: str) -> str:
    return label(AREA_LABELS, area)


def priority_labels(reasons: Optional[Iterable[str]]) -> list[str]:
    return [label(PRIORITY_LABELS, reason) for reason in reasons or ()]


def conclusion_label(conforms: Optional[bool]) -> str:
    return "" if conforms is None else str(CONCLUSION_LABELS[bool(conforms)])


def may_lead(title_grade: Optional[str], admin_rank: Optional[str]) -> bool:
    """A senior (副高级 or 正高级) title, or a division (处级) or bureau (厅局级) rank."""
    return title_grade in LEADING_GRADES or admin_rank in LEADING_RANKS


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _today() -> datetime.date:
    return clock.today()


def _role_names(user) -> set[str]:
    return {role.name for role in getattr(user, "roles", ())}


def _config(key: str, default):
    try:
        return current_app.config.get(key, default)
    except RuntimeError:  # outside an application context
        return default


def team_size_bounds() -> tuple[int, int]:
    low, high = _config("SPOT_CHECK_TEAM_SIZE", (3, 5))
    return int(low), int(high)


# ---------------------------------------------------------------------------
# Organisers
# ---------------------------------------------------------------------------
def organiser_of(user) -> tuple[str, Optional[str]]:
    """(level, region code) of the campaigns and the inspector pool ``user`` keeps: the national
    user the national ones (no region), a province user his province's, a city user his city's."""
    roles = _role_names(user)
    region = getattr(user, "region", None)
    if "national" in roles:
        return NATIONAL, None
    if "province" in roles and region is not None and region.level == codes.PROVINCE:
        return PROVINCIAL, region.code
    if "city" in roles and region is not None and region.level == codes.PREFECTURE:
        return CITY, region.code
    raise AccessDenied(_("Spot checks are organised by the national, province and city authorities."))


def is_organiser(campaign, user) -> bool:
    try:
        level, region = organiser_of(user)
    except AccessDenied:
        return False
    return level == campaign.level and region == campaign.region_code


def organiser_name(campaign) -> str:
    if campaign.level == NATIONAL:
        return _("the national authority")
    region = campaign.region
    if region is None and campaign.region_code:
        region = db.session.get(Region, campaign.region_code)
    return region.full_name if region is not None else (campaign.region_code or "")


def check_organiser(record, user, comment=None) -> None:
    """Guard: only the campaign's organiser decides (the national user for a national campaign,
    the staff of that very province or city otherwise: a province user cannot act for one of
    its cities)."""
    campaign = record if isinstance(record, SpotCheckCampaign) else record.campaign
    if not is_organiser(campaign, user):
        raise AccessDenied(_("Only the organiser of the campaign (%(organiser)s) may do this.",
                             organiser=organiser_name(campaign)))


def pool_owner_of(inspector, user) -> bool:
    try:
        level, region = organiser_of(user)
    except AccessDenied:
        return False
    return inspector.pool_region_code == region


def inspector_change_rule(inspector, user, action: str) -> None:
    """Who may change or delete an inspector of a pool at all: the authority whose pool it is
    (the change rule of the pool's screens: app.services.records.change_refusal)."""
    if not pool_owner_of(inspector, user):
        raise AccessDenied(_("Only the authority whose pool it is may change it."))


def campaign_change_rule(campaign, user, action: str) -> None:
    """Who may change or delete a campaign at all: its organiser (the change rule of the
    campaign's screens; the states are the workflow's)."""
    check_organiser(campaign, user)


# ---------------------------------------------------------------------------
# Campaigns
# ---------------------------------------------------------------------------
def campaign_rule(campaign, user, action: str) -> None:
    """Record rule of the campaign's views and API (see the module)."""
    with db.session.no_autoflush:
        _campaign_rule(campaign, user, action)


def _campaign_rule(campaign, user, action: str) -> None:
    state = sa_inspect(campaign)
    if action == scoping.DELETE:
        check_organiser(campaign, user)
        if campaign.status not in WORKFLOWS["spot_check_campaign"].deletable:
            raise ValidationFailed(_("Only a planned campaign can be deleted; a drawn one is kept."))
        return
    if state.persistent:
        check_organiser(campaign, user)
        if records.committed(campaign, "status") not in WORKFLOWS["spot_check_campaign"].editable:
            raise ValidationFailed(_("A campaign can be changed only while it is planned."))
        if records.set_keys(campaign, ("level", "region_code")):
            raise ValidationFailed(_("The organiser of a campaign does not change."), field="level")
    else:
        campaign.level, campaign.region_code = organiser_of(user)
    if records.set_keys(campaign, DRAW_FIELDS):
        raise ValidationFailed(_("The draw is recorded by the draw step only."))
    title = (campaign.title or "").strip()
    if not title:
        raise ValidationFailed(_("This field is required."), field="title")
    if len(title) > 200:
        raise ValidationFailed(_("At most %(n)s characters.", n=200), field="title")
    campaign.title = title
    this_year = _today().year
    year = this_year if campaign.year is None else campaign.year
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= this_year + 1:
        raise ValidationFailed(_("Enter a year between %(first)s and %(last)s.", first=2000, last=this_year + 1),
                               field="year")
    campaign.year = year
    campaign.ratio = checked_ratio(campaign.ratio)
    low, high = team_size_bounds()
    size = low if campaign.team_size is None else campaign.team_size
    if isinstance(size, bool) or not isinstance(size, int) or not low <= size <= high:
        raise ValidationFailed(_("A team has %(low)s to %(high)s members.", low=low, high=high), field="team_size")
    campaign.team_size = size
    count = 1 if campaign.team_count is None else campaign.team_count
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= TEAM_COUNT_MAX:
        raise ValidationFailed(_("Enter a number of teams between 1 and %(max)s.", max=TEAM_COUNT_MAX),
                               field="team_count")
    campaign.team_count = count
    if campaign.report_deadline is None:
        month, day = _config("SPOT_CHECK_REPORT_DEADLINE", (11, 30))
        campaign.report_deadline = datetime.date(year, int(month), int(day))
    elif not isinstance(campaign.report_deadline, datetime.date) or campaign.report_deadline.year < year:
        raise ValidationFailed(_("The report deadline lies in the campaign's year or later."),
                               field="report_deadline")
    _check_supplementary(campaign)


def min_ratio() -> float:
    """The lowest sampling ratio: seed 004 一 (核查比例不低于20%); a province may go higher."""
    return MIN_RATIO


def _percent(value: float) -> str:
    return f"{float(Decimal(repr(float(value))) * 100):g}%"


def ratio_refusal(kind: str) -> ValidationFailed:
    """The refusal of a sampling ratio that is below the minimum ("low"), above 1 ("high") or
    not a number ("number"), on the field ``ratio``."""
    low = min_ratio()
    values = dict(low=f"{low:g}", min=_percent(low))
    if kind == "low":
        message = _("The sampling ratio may not be below %(min)s: the national spot-check notice asks that at least "
                    "%(min)s of the listed green mines be checked (a province may check more).", **values)
    elif kind == "high":
        message = _("The sampling ratio is written as a decimal between %(low)s and 1: %(low)s means %(min)s of the "
                    "listed mines, 1 means all of them.", **values)
    else:
        message = _("The sampling ratio is a number: a decimal between %(low)s and 1 (%(low)s means %(min)s).",
                    **values)
    return ValidationFailed(message, field="ratio")


def checked_ratio(ratio) -> float:
    """The campaign's sampling ratio, checked: at least ``min_ratio()``, at most 1; unset is
    SPOT_CHECK_RATIO. A text (the screen's field) may be a decimal or a percentage ("25%")."""
    if ratio is None or (isinstance(ratio, str) and not ratio.strip()):
        ratio = _config("SPOT_CHECK_RATIO", MIN_RATIO)
    if isinstance(ratio, str):
        text = ratio.strip().replace("％", "%")
        try:
            ratio = float(Decimal(text[:-1].strip()) / 100) if text.endswith("%") else float(text)
        except (ArithmeticError, ValueError):
            raise ratio_refusal("number") from None
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, Decimal)) or not math.isfinite(float(ratio)):
        raise ratio_refusal("number")
    ratio = float(ratio)
    if ratio > 1:
        raise ratio_refusal("high")
    # Compared in decimal, as the sample size is computed: 0.2 typed as 0.2 is the minimum.
    if Decimal(repr(ratio)) < Decimal(repr(float(min_ratio()))):
        raise ratio_refusal("low")
    return ratio


def same_year_campaigns(campaign):
    """A query of the other campaigns of ``campaign``'s organiser and year."""
    query = select(SpotCheckCampaign).where(
        SpotCheckCampaign.level == campaign.level, SpotCheckCampaign.year == campaign.year,
        SpotCheckCampaign.region_code.is_(None) if campaign.region_code is None
        else SpotCheckCampaign.region_code == campaign.region_code)
    if campaign.id is not None:
        query = query.where(SpotCheckCampaign.id != campaign.id)
    return query.order_by(SpotCheckCampaign.id)


def _check_supplementary(campaign) -> None:
    """One campaign per organiser and year (seed 004 一: the year's check); another one of the
    same year is a declared supplementary round (补充抽查) with its reason, after the year's
    campaign."""
    flag = campaign.is_supplementary
    if flag is None:
        flag = False
    if not isinstance(flag, bool):
        raise ValidationFailed(_("Not a valid choice"), field="is_supplementary")
    campaign.is_supplementary = flag
    reason = campaign.supplementary_reason
    if reason is not None and not isinstance(reason, str):
        raise ValidationFailed(_("Not a valid string."), field="supplementary_reason")
    reason = (reason or "").strip() or None
    organiser = organiser_name(campaign)
    others = db.session.scalars(same_year_campaigns(campaign)).all()
    if flag:
        if not others:
            raise ValidationFailed(_("A supplementary round follows the year's campaign: %(organiser)s has no "
                                     "spot-check campaign of %(year)s yet.", organiser=organiser,
                                     year=campaign.year), field="is_supplementary")
        if reason is None:
            raise ValidationFailed(_("Give the reason for the supplementary round."), field="supplementary_reason")
        if len(reason) > NOTE_MAX:
            raise ValidationFailed(_("At most %(n)s characters.", n=NOTE_MAX), field="supplementary_reason")
    else:
        if reason is not None:
            raise ValidationFailed(_("A reason is given for a supplementary round only: tick “Supplementary round” "
                                     "or leave the reason empty."), field="supplementary_reason")
        regular = next((other for other in others if not other.is_supplementary), None)
        if regular is not None:
            raise ValidationFailed(_("%(organiser)s already has a spot-check campaign of %(year)s (“%(title)s”). "
                                     "Another campaign of the same year is a supplementary round: tick "
                                     "“Supplementary round” and give its reason.", organiser=organiser,
                                     year=campaign.year, title=regular.title), field="is_supplementary")
    campaign.supplementary_reason = reason


def deadline_passed_at_creation(campaign) -> bool:
    """Whether the campaign's report deadline (app.services.spotcheck_reports.report_deadline)
    had already passed on the day it was created (the deployment's day; a campaign not saved
    yet: today). A warning on its page, not a refusal."""
    from app.services.spotcheck_reports import report_deadline

    if campaign.year is None:
        return False
    created = clock.day_of(campaign.created_at) if campaign.created_at is not None else _today()
    return created > report_deadline(campaign)


provide_rule("spotchecks.deadline_passed_at_creation", deadline_passed_at_creation)


# ---------------------------------------------------------------------------
# Inspector pools
# ---------------------------------------------------------------------------
def inspector_rule(inspector, user, action: str) -> None:
    """Record rule of the inspector pool's views and API: the pool is the organiser's own; the
    account holds the inspector role and is in one pool only; the home county is a county."""
    with db.session.no_autoflush:
        _inspector_rule(inspector, user, action)


def took_part_in_a_draw(inspector_id: int) -> bool:
    if db.session.scalar(select(SpotCheckTeamMember.id).where(SpotCheckTeamMember.inspector_id == inspector_id)
                         .limit(1)) is not None:
        return True
    for ids in db.session.scalars(select(SpotCheckCampaign.inspector_candidate_ids)
                                  .where(SpotCheckCampaign.inspector_candidate_ids.is_not(None))):
        if inspector_id in {int(i) for i in ids or ()}:
            return True
    return False


def _inspector_rule(inspector, user, action: str) -> None:
    from app.models import GreenMineUser, Region

    state = sa_inspect(inspector)
    level, region = organiser_of(user)
    if action == scoping.DELETE:
        if not pool_owner_of(inspector, user):
            raise AccessDenied(_("Only the authority whose pool it is may change it."))
        if took_part_in_a_draw(inspector.id):
            raise ValidationFailed(_("An inspector who took part in a draw is kept; deactivate him instead."))
        return
    if state.persistent:
        if records.committed(inspector, "pool_region_code") != region:
            raise AccessDenied(_("Only the authority whose pool it is may change it."))
        if records.set_keys(inspector, ("pool_region_code",)):
            raise ValidationFailed(_("An inspector stays in his pool."), field="pool_region_code")
        if records.set_keys(inspector, ("user_id",)) and took_part_in_a_draw(inspector.id):
            raise ValidationFailed(_("The account of an inspector who took part in a draw does not change."),
                                   field="user")
    else:
        inspector.pool_region_code = region
        inspector.pool_region = db.session.get(Region, region) if region else None
    # The account: chosen in the form (relationship) or named in the body (user_id).
    account = inspector.user if inspector.user is not None else (
        db.session.get(GreenMineUser, inspector.user_id) if inspector.user_id else None)
    if account is None:
        raise ValidationFailed(_("Choose the inspector's account."), field="user")
    if "inspector" not in {role.name for role in account.roles}:
        raise ValidationFailed(_("The account does not hold the inspector role."), field="user")
    # An inspector account bound to no region, or to one in the user's scope: the accounts the
    # pool form offers (the choice rule for accounts).
    if not scoping.can_choose(user, account):
        raise AccessDenied(_("You do not have access to this record."))
    other = select(Inspector.id).where(Inspector.user_id == account.id)
    if inspector.id is not None:
        other = other.where(Inspector.id != inspector.id)
    if db.session.scalar(other) is not None:
        raise ValidationFailed(_("This account is already in an inspector pool."), field="user")
    inspector.user, inspector.user_id = account, account.id
    name = (inspector.name or "").strip()
    if not name:
        raise ValidationFailed(_("This field is required."), field="name")
    if len(name) > 64:
        raise ValidationFailed(_("At most %(n)s characters.", n=64), field="name")
    inspector.name = name
    home = db.session.get(Region, inspector.home_region_code) if inspector.home_region_code else None
    if home is None or not home.is_leaf:
        raise ValidationFailed(_("Choose the county he lives or works in."), field="home_region_code")
    for key, limit in (("unit", 128), ("title", 64)):
        value = (getattr(inspector, key) or "").strip() or None
        if value is not None and len(value) > limit:
            raise ValidationFailed(_("At most %(n)s characters.", n=limit), field=key)
        setattr(inspector, key, value)
    inspector.title_grade = inspector.title_grade or "none"
    if inspector.title_grade not in TITLE_GRADES:
        raise ValidationFailed(_("Not a valid choice"), field="title_grade")
    inspector.admin_rank = inspector.admin_rank or "none"
    if inspector.admin_rank not in ADMIN_RANKS:
        raise ValidationFailed(_("Not a valid choice"), field="admin_rank")
    if inspector.active is None:
        inspector.active = True


def search_inspector_accounts(user, q: str = "", limit: int = 20) -> list[dict]:
    """Active accounts with the inspector role, not yet in a pool, among those ``user`` may be
    offered (bound to no region or to one in his scope: ``scoping.account_choice_condition``);
    by user name or name."""
    from flask_appbuilder.security.sqla.models import Role

    from app.models import GreenMineUser

    query = select(GreenMineUser).where(
        scoping.choice_filter(GreenMineUser, user),
        GreenMineUser.active.is_(True), GreenMineUser.roles.any(Role.name == "inspector"),
        ~exists().where(Inspector.user_id == GreenMineUser.id))
    q = (q or "").strip()
    if q:
        query = query.where(or_(search_text.contains(GreenMineUser.username, q),
                                search_text.contains(GreenMineUser.first_name, q),
                                search_text.contains(GreenMineUser.last_name, q)))
    accounts = db.session.scalars(query.order_by(GreenMineUser.username).limit(limit)).all()
    return [{"id": account.id, "text": account_label(account)} for account in accounts]


def account_label(account) -> str:
    name = f"{account.last_name or ''}{account.first_name or ''}".strip()
    return f"{name}（{account.username}）" if name else account.username


# ---------------------------------------------------------------------------
# The draw: candidates and priority
# ---------------------------------------------------------------------------
def _covered_condition(campaign):
    from app.models import DirectoryEntry, Region

    condition = and_(DirectoryEntry.status == "listed", DirectoryEntry.level.in_(COVERED_LEVELS[campaign.level]))
    if campaign.level != NATIONAL:
        region = campaign.region or db.session.get(Region, campaign.region_code)
        if region is None:
            return None
        condition = and_(condition, scoping.region_condition(
            DirectoryEntry.region_code, [codes.scope_prefix(region.code, region.level)]))
    return condition


def candidates(campaign) -> tuple[list[int], dict[str, list[str]]]:
    """(candidate entry ids in id order, {"<entry id>": [priority reasons]}) of ``campaign``."""
    from app.models import DirectoryEntry, Mine, ProblemLead

    condition = _covered_condition(campaign)
    if condition is None:
        return [], {}
    rows = db.session.execute(select(DirectoryEntry.id, DirectoryEntry.mine_id, DirectoryEntry.level)
                              .where(condition)).all()
    best: dict[int, tuple[int, int]] = {}
    for entry_id, mine_id, level in rows:
        key = (LEVELS.index(level), entry_id)
        if mine_id not in best or key < best[mine_id]:
            best[mine_id] = key
    entry_of_mine = {mine_id: key[1] for mine_id, key in best.items()}
    covered_mines = select(DirectoryEntry.mine_id).where(condition)
    open_pit = set(db.session.scalars(select(Mine.id).where(Mine.id.in_(covered_mines),
                                                            Mine.mining_method == "open_pit")))
    leads = set(db.session.scalars(select(ProblemLead.mine_id).where(ProblemLead.mine_id.in_(covered_mines),
                                                                     ProblemLead.status == "open")))
    query = select(SpotCheck.mine_id).where(SpotCheck.mine_id.in_(covered_mines),
                                            SpotCheck.status.in_(RECHECK_STATES))
    if campaign.id is not None:
        query = query.where(SpotCheck.campaign_id != campaign.id)
    rectifying = set(db.session.scalars(query))
    priority: dict[str, list[str]] = {}
    for mine_id, entry_id in entry_of_mine.items():
        reasons = [reason for reason, mines in ((OPEN_PIT, open_pit), (PROBLEM_LEAD, leads),
                                                (RECTIFICATION, rectifying)) if mine_id in mines]
        if reasons:
            priority[str(entry_id)] = reasons
    return sorted(entry_of_mine.values()), priority


def sample_size_for(ratio: float, count: int) -> int:
    """ceil(ratio × count), computed in decimal: 0.1 × 30 is 3, not 4."""
    if count <= 0:
        return 0
    return min(count, math.ceil(Decimal(repr(float(ratio))) * count))


def draw_sample(seed: str, candidate_ids: Iterable[int], priority: dict, size: int) -> list[int]:
    """The first ``size`` of rank(priority ids) followed by rank(other ids) (salt "mines")."""
    ids = [int(i) for i in candidate_ids]
    first = [i for i in ids if (priority or {}).get(str(i))]
    others = [i for i in ids if not (priority or {}).get(str(i))]
    ordered = draws.rank(seed, first, draws.MINES) + draws.rank(seed, others, draws.MINES)
    return ordered[:max(int(size), 0)]


# ---------------------------------------------------------------------------
# The draw: inspectors, teams, assignment
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class InspectorFacts:
    """What the draw reads of an inspector."""

    id: int
    name: str
    title_grade: Optional[str]
    admin_rank: Optional[str]
    home_region_code: Optional[str]

    @property
    def may_lead(self) -> bool:
        return may_lead(self.title_grade, self.admin_rank)


def inspector_pool(campaign) -> list[int]:
    """The active inspectors of the organiser's pool, in id order."""
    pool = (Inspector.pool_region_code.is_(None) if campaign.region_code is None
            else Inspector.pool_region_code == campaign.region_code)
    return list(db.session.scalars(select(Inspector.id).where(pool, Inspector.active.is_(True)).order_by(Inspector.id)))


def inspector_facts(ids: Iterable[int], at: Optional[datetime.datetime] = None) -> dict[int, InspectorFacts]:
    """The facts of these inspectors now, or as they were at ``at``: the audit trail's later
    changes (and deletions) are undone, newest first."""
    from app.models import AuditEntry

    ids = [int(i) for i in ids]
    values: dict[int, dict[str, Any]] = {}
    for row in db.session.scalars(select(Inspector).where(Inspector.id.in_(ids))):
        values[row.id] = {key: getattr(row, key) for key in _FACT_FIELDS}
    if at is not None and ids:
        later = db.session.scalars(select(AuditEntry).where(
            AuditEntry.record_type == "Inspector", AuditEntry.record_id.in_([str(i) for i in ids]),
            AuditEntry.created_at > at).order_by(AuditEntry.id.desc()))
        for entry in later:
            record = values.setdefault(int(entry.record_id), {})
            for key in _FACT_FIELDS:
                change = (entry.changes or {}).get(key)
                if isinstance(change, list) and len(change) == 2:
                    record[key] = change[0]
    return {i: InspectorFacts(i, str(values.get(i, {}).get("name") or i), values.get(i, {}).get("title_grade"),
                              values.get(i, {}).get("admin_rank"), values.get(i, {}).get("home_region_code"))
            for i in ids}


def form_teams(seed: str, inspector_ids: Iterable[int], facts: dict[int, InspectorFacts], team_count: int,
               team_size: int) -> list[list[int]]:
    """Teams of inspector ids, leader first (see the module). Refused when the pool is short."""
    ranked = draws.rank(seed, inspector_ids, draws.INSPECTORS)
    leaders = [i for i in ranked if facts[i].may_lead][:team_count]
    if len(leaders) < team_count:
        raise TransitionRefused(_(
            "The inspector pool has %(have)s active inspectors who may lead a team (a senior title or a "
            "division-level rank); %(teams)s teams need %(teams)s leaders.", have=len(leaders), teams=team_count))
    chosen = set(leaders)
    others = [i for i in ranked if i not in chosen]
    needed = team_count * (team_size - 1)
    if len(others) < needed:
        raise TransitionRefused(_(
            "The inspector pool has %(have)s active inspectors; %(teams)s teams of %(size)s need %(need)s.",
            have=len(ranked), teams=team_count, size=team_size, need=team_count * team_size))
    teams = [[leader] for leader in leaders]
    for index, inspector_id in enumerate(others[:needed]):
        teams[index % team_count].append(inspector_id)
    return teams


def assign(sample: list[int], counties: dict[int, str], teams: list[list[int]], facts: dict[int, InspectorFacts],
           names: Optional[dict[int, str]] = None) -> list[int]:
    """The team number (1-based) of each sampled entry, in sample order (see the module)."""
    numbers = []
    for position, entry_id in enumerate(sample, 1):
        county = counties.get(entry_id)
        start = (position - 1) % len(teams)
        for step in range(len(teams)):
            index = (start + step) % len(teams)
            if all(facts[member].home_region_code != county for member in teams[index]):
                numbers.append(index + 1)
                break
        else:
            raise TransitionRefused(_(
                "No team may check “%(mine)s”: every team has a member from its county. Add inspectors from "
                "elsewhere to the pool, or draw more teams.", mine=(names or {}).get(entry_id, entry_id)))
    return numbers


def _entries(ids: Iterable[int]) -> dict[int, Any]:
    from app.models import DirectoryEntry

    ids = [int(i) for i in ids]
    if not ids:
        return {}
    return {entry.id: entry for entry in db.session.scalars(select(DirectoryEntry).where(DirectoryEntry.id.in_(ids)))}


def check_drawable(campaign, user, comment) -> None:
    """Guard of ``draw``: the organiser; not drawn yet; candidates; enough inspectors."""
    check_organiser(campaign, user)
    if campaign.algorithm is not None or campaign.seed is not None:
        raise TransitionRefused(_("This campaign was already drawn."))
    ids, _priority = candidates(campaign)
    if not ids:
        raise TransitionRefused(_("No listed mine of the levels this campaign covers (%(levels)s) in %(region)s: "
                                  "there is nothing to draw.", levels=covered_levels_label(campaign),
                                  region=organiser_name(campaign)))
    pool = inspector_facts(inspector_pool(campaign))
    leaders = sum(1 for facts in pool.values() if facts.may_lead)
    if leaders < campaign.team_count:
        raise TransitionRefused(_(
            "The inspector pool has %(have)s active inspectors who may lead a team (a senior title or a "
            "division-level rank); %(teams)s teams need %(teams)s leaders.", have=leaders, teams=campaign.team_count))
    needed = campaign.team_count * campaign.team_size
    if len(pool) < needed:
        raise TransitionRefused(_(
            "The inspector pool has %(have)s active inspectors; %(teams)s teams of %(size)s need %(need)s.",
            have=len(pool), teams=campaign.team_count, size=campaign.team_size, need=needed))


def covered_levels_label(campaign) -> str:
    from app.services.directory import LEVEL_LABELS

    return ", ".join(str(LEVEL_LABELS[level]) for level in COVERED_LEVELS.get(campaign.level, ()))


def draw_campaign(campaign, user, comment) -> dict:
    """Effect of ``draw``: draw mines and inspectors and record everything, in the step's
    transaction (see the module)."""
    check_drawable(campaign, user, comment)
    candidate_ids, priority = candidates(campaign)
    size = sample_size_for(campaign.ratio, len(candidate_ids))
    inspector_ids = inspector_pool(campaign)
    facts = inspector_facts(inspector_ids)
    seed = draws.new_seed()
    sample = draw_sample(seed, candidate_ids, priority, size)
    teams = form_teams(seed, inspector_ids, facts, campaign.team_count, campaign.team_size)
    entries = _entries(sample)
    numbers = assign(sample, {i: entries[i].region_code for i in sample}, teams, facts,
                     {i: entries[i].mine.name for i in sample})
    team_rows = []
    for number, members in enumerate(teams, 1):
        team = SpotCheckTeam(campaign_id=campaign.id, number=number, leader_id=members[0])
        team.members = [SpotCheckTeamMember(inspector_id=inspector_id, position=position)
                        for position, inspector_id in enumerate(members)]
        db.session.add(team)
        team_rows.append(team)
    db.session.flush()
    for position, (entry_id, number) in enumerate(zip(sample, numbers), 1):
        entry = entries[entry_id]
        mine = entry.mine
        db.session.add(SpotCheck(
            campaign_id=campaign.id, entry_id=entry.id, team_id=team_rows[number - 1].id, position=position,
            priority_reasons=list(priority.get(str(entry_id), [])), entry_level=entry.level,
            mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
            mine_name=mine.name, licence_no=mine.licence_no,
            mineral_name=entry.mineral_name or (mine.mineral.name if mine.mineral else None),
            mining_method=mine.mining_method, production_scale=mine.production_scale,
        ))
    db.session.flush()
    _tell_the_teams(campaign, team_rows, numbers)
    return {"algorithm": ALGORITHM, "seed": seed, "candidate_entry_ids": candidate_ids, "priority": priority,
            "sample_size": size, "inspector_candidate_ids": inspector_ids, "drawn_at": _now(),
            "drawn_by_id": getattr(user, "id", None)}


def _tell(users, title: str, body: str, record) -> int:
    from app.services import notifications

    return notifications.send(db.session, [user for user in users if user is not None], notifications.Message(
        notifications.STATUS, title, body, type(record).__name__, record.id))


def _tell_the_teams(campaign, teams: list, numbers: list[int]) -> None:
    """Each drawn inspector learns his team and how many mines it checks (same transaction)."""
    for team in teams:
        count = sum(1 for number in numbers if number == team.number)
        with force_locale(_default_locale()):
            title = _("Drawn for “%(campaign)s”", campaign=campaign.title)
            body = _("You are in team %(number)s, which checks %(count)s mines.", number=team.number, count=count)
        users = [db.session.get(Inspector, member.inspector_id).user for member in team.members]
        _tell(users, title, body, campaign)


# ---------------------------------------------------------------------------
# Replay and verification
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DrawResult:
    sample: list[int]  # entry ids, in sample order
    teams: list[list[int]]  # inspector ids per team, leader first
    assignment: list[int]  # team number of each sampled entry


def replay(campaign) -> DrawResult:
    """Recompute the draw from the recorded fields (see the module). ValueError when the record
    is not a draw of this algorithm, or cannot give a result."""
    if campaign.algorithm != ALGORITHM or not campaign.seed:
        raise ValueError(f"unknown draw algorithm {campaign.algorithm!r}")
    candidate_ids = [int(i) for i in campaign.candidate_entry_ids or ()]
    sample = draw_sample(campaign.seed, candidate_ids, campaign.priority or {}, campaign.sample_size or 0)
    inspector_ids = [int(i) for i in campaign.inspector_candidate_ids or ()]
    facts = inspector_facts(inspector_ids, at=campaign.drawn_at)
    try:
        teams = form_teams(campaign.seed, inspector_ids, facts, campaign.team_count, campaign.team_size)
        entries = _entries(sample)
        numbers = assign(sample, {i: entries[i].region_code if i in entries else None for i in sample}, teams, facts)
    except TransitionRefused as exc:
        raise ValueError(str(exc)) from exc
    return DrawResult(sample, teams, numbers)


def recorded(campaign) -> DrawResult:
    """The draw's result as the campaign's teams and checks record it."""
    checks = sorted(campaign.checks, key=lambda check: check.position)
    teams = sorted(campaign.teams, key=lambda team: team.number)
    number_of = {team.id: team.number for team in teams}
    return DrawResult([check.entry_id for check in checks],
                      [[member.inspector_id for member in sorted(team.members, key=lambda m: m.position)]
                       for team in teams],
                      [number_of.get(check.team_id, 0) for check in checks])


def verify(campaign) -> bool:
    """The recorded sample, teams and assignment are what the recorded seed and candidates give,
    and the sample size is ceil(ratio × candidates)."""
    try:
        if campaign.sample_size != sample_size_for(campaign.ratio, len(campaign.candidate_entry_ids or ())):
            return False
        return replay(campaign) == recorded(campaign)
    except (ValueError, TypeError, KeyError):
        return False


def drawn_as_label(reasons: Optional[Iterable[str]]) -> str:
    """How a sampled mine was drawn: a priority mine (why: 露天开采、有问题线索反映 …) or at random."""
    labels = priority_labels(reasons)
    if labels:
        return _("Priority mine: %(reasons)s", reasons="、".join(labels))
    return _("Drawn at random")


def sample_summary(campaign) -> dict:
    """How many of the drawn mines were priority mines and how many were drawn at random, and
    how many priority mines had each reason (a mine may have several): the campaign's page,
    its draw record and its REST API."""
    checks = list(campaign.checks)
    by_reason = {reason: 0 for reason in PRIORITY_LABELS}
    priority = 0
    for check in checks:
        reasons = [reason for reason in check.priority_reasons or () if reason]
        if reasons:
            priority += 1
            for reason in reasons:
                by_reason[reason] = by_reason.get(reason, 0) + 1
    return {"drawn": len(checks), "priority": priority, "random": len(checks) - priority,
            "by_reason": by_reason,
            "by_reason_labels": [{"reason": reason, "label": label(PRIORITY_LABELS, reason), "count": count}
                                 for reason, count in by_reason.items() if count]}


def sample_summary_text(campaign) -> str:
    """「抽中 5 座：重点核查 2 座（露天开采 1 座、有问题线索反映 1 座），随机抽取 3 座」."""
    summary = sample_summary(campaign)
    text = _("%(drawn)s mines drawn: %(priority)s priority mines, %(random)s drawn at random.",
             drawn=summary["drawn"], priority=summary["priority"], random=summary["random"])
    if summary["by_reason_labels"]:
        text += " " + _("Priority reasons: %(reasons)s.", reasons="、".join(
            _("%(label)s: %(count)s mines", label=item["label"], count=item["count"])
            for item in summary["by_reason_labels"]))
    return text


def draw_record(campaign) -> dict:
    """The draw as it can be published and replayed (the campaign's page and its REST API)."""
    from app.services.directory import LEVEL_LABELS

    candidate_ids = [int(i) for i in campaign.candidate_entry_ids or ()]
    priority = campaign.priority or {}
    entries = _entries(candidate_ids)
    inspector_ids = [int(i) for i in campaign.inspector_candidate_ids or ()]
    facts = inspector_facts(inspector_ids, at=campaign.drawn_at) if campaign.drawn_at else {}
    checks = sorted(campaign.checks, key=lambda check: check.position)
    team_number = {team.id: team.number for team in campaign.teams}
    ranked_mines = {i: n for n, i in enumerate(
        draws.rank(campaign.seed, [i for i in candidate_ids if priority.get(str(i))], draws.MINES)
        + draws.rank(campaign.seed, [i for i in candidate_ids if not priority.get(str(i))], draws.MINES), 1)} \
        if campaign.seed else {}
    ranked_inspectors = {i: n for n, i in enumerate(draws.rank(campaign.seed, inspector_ids, draws.INSPECTORS), 1)} \
        if campaign.seed else {}
    # Regions by their full names (one statement): the record is read by people as well as replayed.
    codes = {entry.region_code for entry in entries.values()} | {
        fact.home_region_code for fact in facts.values() if fact.home_region_code}
    region_names = dict(db.session.execute(select(Region.code, Region.full_name).where(Region.code.in_(codes))).all()) \
        if codes else {}

    def entry_json(entry_id: int) -> dict:
        entry = entries.get(entry_id)
        reasons = list(priority.get(str(entry_id), []))
        return {"entry_id": entry_id, "mine_id": entry.mine_id if entry else None,
                "mine_name": entry.mine_name if entry else None, "level": entry.level if entry else None,
                "level_label": str(LEVEL_LABELS.get(entry.level, entry.level)) if entry else None,
                "region_code": entry.region_code if entry else None,
                "region_name": region_names.get(entry.region_code, "") if entry else None, "priority": reasons,
                "priority_labels": priority_labels(reasons), "rank": ranked_mines.get(entry_id),
                "rank_key": draws.rank_key(campaign.seed, draws.MINES, entry_id) if campaign.seed else None}

    def inspector_json(inspector_id: int) -> dict:
        fact = facts.get(inspector_id)
        return {"id": inspector_id, "name": fact.name if fact else None, "may_lead": fact.may_lead if fact else None,
                "home_region_code": fact.home_region_code if fact else None,
                "home_region_name": region_names.get(fact.home_region_code, "") if fact else None,
                "rank": ranked_inspectors.get(inspector_id),
                "rank_key": draws.rank_key(campaign.seed, draws.INSPECTORS, inspector_id) if campaign.seed else None}

    return {
        "campaign_id": campaign.id, "title": campaign.title, "year": campaign.year, "level": campaign.level,
        "region_code": campaign.region_code, "status": campaign.status, "ratio": campaign.ratio,
        "team_size": campaign.team_size, "team_count": campaign.team_count,
        "algorithm": campaign.algorithm, "formula": draws.RANK_FORMULA, "salts": [draws.MINES, draws.INSPECTORS],
        "seed": campaign.seed, "sample_size": campaign.sample_size,
        "candidate_entry_ids": candidate_ids, "priority": priority,
        "candidates": [entry_json(i) for i in candidate_ids],
        "sample": [dict(entry_json(check.entry_id), position=check.position, check_id=check.id,
                        team=team_number.get(check.team_id),
                        drawn_as="priority" if check.priority_reasons else "random",
                        drawn_as_label=drawn_as_label(check.priority_reasons)) for check in checks],
        "sample_summary": sample_summary(campaign),
        "is_supplementary": bool(campaign.is_supplementary),
        "supplementary_reason": campaign.supplementary_reason,
        "inspector_candidate_ids": inspector_ids,
        "inspectors": [inspector_json(i) for i in inspector_ids],
        "teams": [{"number": team.number, "leader_id": team.leader_id,
                   "members": [dict(inspector_json(member.inspector_id), position=member.position)
                               for member in sorted(team.members, key=lambda m: m.position)]}
                  for team in sorted(campaign.teams, key=lambda team: team.number)],
        "drawn_at": campaign.drawn_at.isoformat() if campaign.drawn_at else None,
        "verified": verify(campaign) if campaign.algorithm else None,
    }


# ---------------------------------------------------------------------------
# The verification record
# ---------------------------------------------------------------------------
def member_of(team, user) -> Optional[Inspector]:
    """``user``'s inspector row when he is on ``team``."""
    if team is None or user is None:
        return None
    for member in team.members:
        if member.inspector is not None and member.inspector.user_id == getattr(user, "id", None):
            return member.inspector
    return None


def is_leader(check, user) -> bool:
    team = check.team
    return team is not None and team.leader is not None and team.leader.user_id == getattr(user, "id", None)


def check_rule(check, user, action: str) -> None:
    """Record rule of the verification record's views and API (see the module)."""
    with db.session.no_autoflush:
        _check_rule(check, user, action)


def _check_rule(check, user, action: str) -> None:
    state = sa_inspect(check)
    if action == scoping.DELETE:
        raise ValidationFailed(_("A verification record is never deleted."))
    if not state.persistent:
        raise ValidationFailed(_("Verification records are made by the campaign's draw."))
    mapper = sa_inspect(SpotCheck)
    changed = [attr.key for attr in mapper.column_attrs if state.attrs[attr.key].history.has_changes()
               and attr.key not in ("updated_at", "created_at")]
    status = records.committed(check, "status")
    outside = [key for key in changed if key not in MEMBER_FIELDS + RECHECK_FIELDS + ORGANISER_FIELDS]
    if outside:
        raise ValidationFailed(_("This field cannot be changed here."), field=outside[0])
    if any(key in MEMBER_FIELDS for key in changed):
        if member_of(check.team, user) is None:
            raise AccessDenied(_("Only the members of the check's team fill in its record."))
        if status != "assigned":
            raise ValidationFailed(_("The record is submitted and can no longer be changed."))
        for key in ("opinions",) + AREA_COLUMNS:
            value = (getattr(check, key) or "").strip() or None
            if value is not None and len(value) > TEXT_MAX:
                raise ValidationFailed(_("At most %(n)s characters.", n=TEXT_MAX), field=key)
            setattr(check, key, value)
        if check.checked_on is not None:
            if not isinstance(check.checked_on, datetime.date) or isinstance(check.checked_on, datetime.datetime):
                raise ValidationFailed(_("Not a valid date."), field="checked_on")
            if check.checked_on > _today():
                raise ValidationFailed(_("The date of the check cannot be in the future."), field="checked_on")
            drawn_at = check.campaign.drawn_at if check.campaign is not None else None
            if drawn_at is not None and check.checked_on < drawn_at.date():
                raise ValidationFailed(_("The check takes place after the draw (%(date)s).",
                                         date=drawn_at.date().isoformat()), field="checked_on")
        if check.conforms is not None and not isinstance(check.conforms, bool):
            raise ValidationFailed(_("Not a valid choice"), field="conforms")
    if any(key in RECHECK_FIELDS for key in changed):
        if member_of(check.team, user) is None:
            raise AccessDenied(_("Only the members of the check's team fill in its re-check."))
        if status != "rectifying":
            raise ValidationFailed(_("The re-check is filled in while the rectification is under way, until the "
                                     "team leader submits it."))
        _check_recheck_fields(check)
    if any(key in ORGANISER_FIELDS for key in changed):
        if not is_organiser(check.campaign, user):
            raise AccessDenied(_("Only the organiser of the campaign (%(organiser)s) may do this.",
                                 organiser=organiser_name(check.campaign)))
        if status != "recorded":
            raise ValidationFailed(_("The deadline and the note are set while the result is being decided."))
        _check_organiser_fields(check)


def _check_organiser_fields(check) -> None:
    if check.rectify_deadline is not None:
        if not isinstance(check.rectify_deadline, datetime.date) or check.rectify_deadline <= _today():
            raise ValidationFailed(_("The rectification deadline is a date after today."), field="rectify_deadline")
    note = (check.note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationFailed(_("At most %(n)s characters.", n=NOTE_MAX), field="note")
    check.note = note


def _check_recheck_fields(check) -> None:
    """Normalise and check the re-check's fields as a member writes them."""
    findings = (check.recheck_findings or "").strip() or None
    if findings is not None and len(findings) > TEXT_MAX:
        raise ValidationFailed(_("At most %(n)s characters.", n=TEXT_MAX), field="recheck_findings")
    check.recheck_findings = findings
    if check.recheck_on is not None:
        if not isinstance(check.recheck_on, datetime.date) or isinstance(check.recheck_on, datetime.datetime):
            raise ValidationFailed(_("Not a valid date."), field="recheck_on")
        _check_recheck_date(check, ValidationFailed)
    if check.recheck_conforms is not None and not isinstance(check.recheck_conforms, bool):
        raise ValidationFailed(_("Not a valid choice"), field="recheck_conforms")


def rectification_ordered_at(check) -> Optional[datetime.datetime]:
    """When the rectification was ordered: the log's last ``order_rectification`` step (UTC)."""
    from app.models.log import TransitionLog

    at = db.session.scalar(select(func.max(TransitionLog.created_at)).where(
        TransitionLog.record_type == "SpotCheck", TransitionLog.record_id == check.id,
        TransitionLog.action == "order_rectification"))
    return at if at is not None else (check.decided_at if check.status in RECHECK_STATES else None)


def _check_recheck_date(check, error: type) -> None:
    """The re-check is dated neither in the future nor before the rectification was ordered."""
    if check.recheck_on > _today():
        raise error(_("The date of the re-check cannot be in the future."), field="recheck_on")
    ordered = rectification_ordered_at(check)
    if ordered is not None and check.recheck_on < ordered.date():
        raise error(_("The re-check takes place after the rectification was ordered (%(date)s).",
                      date=ordered.date().isoformat()), field="recheck_on")


def may_edit_record(check, user) -> bool:
    return check.status == "assigned" and member_of(check.team, user) is not None


def may_edit_recheck(check, user) -> bool:
    return check.status == "rectifying" and member_of(check.team, user) is not None


def edit_stage(check) -> str:
    """What the edit form of ``check`` fills in now: the re-check while the rectification is
    under way, the record otherwise."""
    return RECHECK_STAGE if check.status == "rectifying" else RECORD_STAGE


def recheck_visible(check) -> bool:
    """The re-check's part of the record page: once rectification was ordered."""
    return check.status in RECHECK_STATES or check.rechecked_at is not None


def check_record_submittable(check, user, comment) -> None:
    """Guard of ``submit_record``: the team leader submits a complete record."""
    if not is_leader(check, user):
        raise AccessDenied(_("Only the team leader submits the record."))
    if check.checked_on is None:
        raise TransitionRefused(_("Enter the date of the check before submitting the record."))
    if check.conforms is None:
        raise TransitionRefused(_("Give the conclusion (meets the green-mine standard: yes or no) before "
                                  "submitting the record."))


def stamp_recorded(check, user, comment) -> dict:
    """Effect of ``submit_record``: when; the other members are asked to confirm it."""
    with force_locale(_default_locale()):
        title = _("Verification record of “%(mine)s”: please confirm it", mine=check.mine_name)
        body = _("%(leader)s submitted the record; every member of the team confirms it from his own account.",
                 leader=check.team.leader.name)
    _ask_the_others_to_confirm(check, user, title, body)
    return {"recorded_at": _now()}


def _ask_the_others_to_confirm(check, user, title: str, body: str) -> None:
    """The team members other than the one who submitted are asked to confirm."""
    _tell([member.inspector.user for member in check.team.members if member.inspector.user_id != user.id],
          title, body, check)


def confirmation_of(check, inspector_id: int, stage: str = RECORD_STAGE) -> Optional[SpotCheckConfirmation]:
    return db.session.scalar(select(SpotCheckConfirmation).where(
        SpotCheckConfirmation.check_id == check.id, SpotCheckConfirmation.inspector_id == inspector_id,
        SpotCheckConfirmation.stage == stage))


def current_stage(check) -> str:
    """What a confirmation of ``check`` signs now: the re-check once rectification was ordered
    (and after a re-check's result), the record otherwise."""
    return RECHECK_STAGE if recheck_visible(check) else RECORD_STAGE


def confirmations_of(check, stage: str) -> list[SpotCheckConfirmation]:
    return [row for row in check.confirmations if row.stage == stage]


def confirm(check, user) -> SpotCheckConfirmation:
    """A team member confirms the submitted record, or the submitted re-check, from his own
    account (签字); again is a no-op."""
    scoping.check_access(user, check, scoping.ACT)
    inspector = member_of(check.team, user)
    if inspector is None:
        raise AccessDenied(_("Only the members of the check's team confirm its record."))
    stage = current_stage(check)
    existing = confirmation_of(check, inspector.id, stage)
    if existing is not None:
        return existing
    if check.status == "assigned":
        raise TransitionRefused(_("The record can be confirmed once the team leader has submitted it."))
    if check.status == "rectifying":
        raise TransitionRefused(_("The re-check can be confirmed once the team leader has submitted it."))
    if check.status not in ("recorded", "rechecked"):
        raise TransitionRefused(_("The result is decided: the record can no longer be confirmed."))
    try:
        db.session.add(SpotCheckConfirmation(check_id=check.id, inspector_id=inspector.id, user_id=user.id,
                                             stage=stage))
        db.session.commit()
    except IntegrityError:  # confirmed at the same moment from another window
        db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    db.session.expire(check, ["confirmations"])
    return confirmation_of(check, inspector.id, stage)


def unconfirmed_members(check, stage: Optional[str] = None) -> list[Inspector]:
    """The members of the team who have not confirmed ``stage`` (default: the current one)."""
    if check.team is None:
        return []
    confirmed = {row.inspector_id for row in confirmations_of(check, stage or current_stage(check))}
    return [member.inspector for member in sorted(check.team.members, key=lambda m: m.position)
            if member.inspector_id not in confirmed]


def may_confirm(check, user) -> bool:
    inspector = member_of(check.team, user)
    return (check.status in ("recorded", "rechecked") and inspector is not None
            and inspector.id not in {row.inspector_id for row in confirmations_of(check, current_stage(check))})


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------
def check_decidable(check, user, comment) -> None:
    """Guard of the results: the organiser, once every member of the team has confirmed."""
    check_organiser(check, user)
    missing = unconfirmed_members(check, RECORD_STAGE)
    if missing:
        raise TransitionRefused(_("Every member of the team confirms the record first; waiting for: %(names)s.",
                                  names=", ".join(inspector.name for inspector in missing)))


def check_rectification_orderable(check, user, comment) -> None:
    check_decidable(check, user, comment)
    if check.rectify_deadline is None or check.rectify_deadline <= _today():
        raise TransitionRefused(_("Set the rectification deadline (a date after today) to order rectification."))


def stamp_rectification_ordered(check, user, comment) -> dict:
    """Effect of ``order_rectification``: the decision, and the team is told to re-check the mine
    (same transaction)."""
    if check.team is not None:
        with force_locale(_default_locale()):
            title = _("Rectification ordered for “%(mine)s”: re-check it", mine=check.mine_name)
            body = _("The rectification is due by %(date)s. Your team re-checks the mine; the team leader submits "
                     "the re-check and every member confirms it.",
                     date=check.rectify_deadline.isoformat() if check.rectify_deadline else "")
        _tell([member.inspector.user for member in check.team.members], title, body, check)
    return {"decided_at": _now(), "decision_comment": comment or None}


def check_recheck_submittable(check, user, comment) -> None:
    """Guard of ``submit_recheck``: the team leader submits a complete re-check."""
    if not is_leader(check, user):
        raise AccessDenied(_("Only the team leader submits the re-check."))
    if check.recheck_on is None:
        raise TransitionRefused(_("Enter the date of the re-check before submitting it."))
    _check_recheck_date(check, TransitionRefused)
    if not (check.recheck_findings or "").strip():
        raise TransitionRefused(_("Describe what the re-check found before submitting it."))
    if check.recheck_conforms is None:
        raise TransitionRefused(_("Give the conclusion of the re-check (the mine now meets the green-mine standard: "
                                  "yes or no) before submitting it."))


def stamp_rechecked(check, user, comment) -> dict:
    """Effect of ``submit_recheck``: when; the other members are asked to confirm it."""
    with force_locale(_default_locale()):
        title = _("Re-check of “%(mine)s”: please confirm it", mine=check.mine_name)
        body = _("%(leader)s submitted the re-check; every member of the team confirms it from his own account.",
                 leader=check.team.leader.name)
    _ask_the_others_to_confirm(check, user, title, body)
    return {"rechecked_at": _now()}


def check_recheck_decidable(check, user, comment) -> None:
    """Guard of ``pass_recheck`` and ``fail_recheck``: the organiser, once every member of the
    team has confirmed the re-check."""
    check_organiser(check, user)
    missing = unconfirmed_members(check, RECHECK_STAGE)
    if missing:
        raise TransitionRefused(_("Every member of the team confirms the re-check first; waiting for: %(names)s.",
                                  names=", ".join(inspector.name for inspector in missing)))


def parse_date(value, field: str) -> Optional[datetime.date]:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValidationFailed(_("Not a valid date."), field=field)


def decide(check, action: str, user, comment: Optional[str] = None, rectify_deadline=None, note=None):
    """Take one step of the check's workflow; for the results, with the rectification deadline
    and the note (备注) the organiser gives with it, written in the step's transaction."""
    from app.services import workflow

    if action in RESULT_ACTIONS and (rectify_deadline not in (None, "") or note is not None):
        if action == "order_rectification":
            deadline = parse_date(rectify_deadline, "rectify_deadline")
            if deadline is None or deadline <= _today():
                raise ValidationFailed(_("The rectification deadline is a date after today."),
                                       field="rectify_deadline")
        if note is not None:
            if not isinstance(note, str):
                raise ValidationFailed(_("Not a valid string."), field="note")
            if len(note.strip()) > NOTE_MAX:
                raise ValidationFailed(_("At most %(n)s characters.", n=NOTE_MAX), field="note")
        if check.status in ("recorded", "rechecked"):
            try:
                if action == "order_rectification":
                    check.rectify_deadline = deadline
                if note is not None:
                    check.note = note.strip() or None
                db.session.flush()
            except Exception:
                db.session.rollback()
                raise
    try:
        return workflow.transition(check, action, user, comment)
    except Exception:
        db.session.rollback()  # nothing of the deadline or the note stays behind a refusal
        raise


def _default_locale() -> str:
    return _config("BABEL_DEFAULT_LOCALE", "zh")


def removal_reason(check, comment: Optional[str]) -> str:
    """The reason an entry leaves the directory, in the product's language (stored text)."""
    with force_locale(_default_locale()):
        reason = _("%(campaign)s: the check concluded that the mine does not meet the green-mine standard.",
                   campaign=check.campaign.title)
        if comment:
            reason += " " + _("Comment: %(comment)s", comment=comment)
    return reason


def listed_entries(mine_id: int) -> list:
    from app.models import DirectoryEntry

    entries = db.session.scalars(select(DirectoryEntry).where(
        DirectoryEntry.mine_id == mine_id, DirectoryEntry.status == "listed").order_by(DirectoryEntry.id)).all()
    return sorted(entries, key=lambda entry: (LEVELS.index(entry.level), entry.id))


def keeps(user, entry) -> bool:
    from app.services.directory import KEEPERS

    return bool(_role_names(user) & set(KEEPERS[entry.level])) and scoping.can_access(user, entry, scoping.ACT)


def remove_from_directory(check, user, comment) -> dict:
    """Effect of ``remove`` and ``fail_recheck``: the mine leaves every directory the organiser
    keeps, in this transaction, with the campaign as the reason; the keepers of its other
    entries are told (see the module)."""
    from app.services import workflow

    reason = removal_reason(check, comment)
    referred = []
    for entry in listed_entries(check.mine_id):
        if keeps(user, entry):
            workflow.transition(entry, "remove", user, reason, within=True)
        else:
            referred.append(entry)
    for entry in referred:
        _refer_to_keepers(check, entry, reason)
    return {"decided_at": _now(), "decision_comment": comment or None}


def keepers_of(entry) -> list:
    from flask_appbuilder.security.sqla.models import Role

    from app.models import GreenMineUser
    from app.services.directory import KEEPERS

    users = db.session.scalars(select(GreenMineUser).where(
        GreenMineUser.active.is_(True), GreenMineUser.roles.any(Role.name.in_(KEEPERS[entry.level])),
        or_(GreenMineUser.region_code.is_(None), GreenMineUser.region_code.in_(codes.ancestor_codes(entry.region_code)))))
    return [user for user in users if keeps(user, entry)]


def _refer_to_keepers(check, entry, reason: str) -> int:
    from app.services import notifications
    from app.services.directory import LEVEL_LABELS

    with force_locale(_default_locale()):
        title = _("Removal from the %(level)s directory proposed: “%(name)s”", level=LEVEL_LABELS[entry.level],
                  name=entry.mine_name)
        body = reason + " " + _("The %(level)s directory is kept by its own authority: please decide on the "
                                "removal of this entry.", level=LEVEL_LABELS[entry.level])
    return notifications.send(db.session, keepers_of(entry), notifications.Message(
        notifications.STATUS, title, body, "DirectoryEntry", entry.id))


def check_closable(campaign, user, comment) -> None:
    """Guard of ``close``: the organiser, once every check has its result."""
    check_organiser(campaign, user)
    open_checks = db.session.scalar(select(func.count(SpotCheck.id)).where(
        SpotCheck.campaign_id == campaign.id, SpotCheck.status.in_(("assigned", "recorded")))) or 0
    if open_checks:
        raise TransitionRefused(_("%(count)s checks have no result yet: the campaign cannot be closed.",
                                  count=open_checks))


def overdue_rectifications(user, today: Optional[datetime.date] = None):
    """The checks in ``user``'s scope whose rectification deadline has passed before ``today``
    and that are not re-checked yet (the home page); a query."""
    return (select(SpotCheck)
            .where(SpotCheck.status == "rectifying", SpotCheck.rectify_deadline < (today or _today()),
                   scoping.scope_filter(SpotCheck, user))
            .order_by(SpotCheck.rectify_deadline, SpotCheck.id))
