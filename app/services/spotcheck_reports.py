"""What a spot-check campaign produces for the authorities and for the public (SPEC H2, H6;
seed 004 附件2 and 附表, seed 001 §二).

- ``summary_xlsx(campaign)``: the province's summary table (绿色矿山抽查核查结果汇总表, seed 004
  附表): one row per drawn mine in draw order, with the form's own ten columns.
- ``report_context(campaign)`` and ``render_report_pdf(campaign)``: the report (绿色矿山核查报告,
  seed 004 附件2) prefilled with the campaign's figures, printed with xhtml2pdf in the embedded
  WenQuanYi font (app.services.pdf); the summary table is its 附表.
- ``report_deadline(campaign)`` / ``report_deadline_passed(campaign)``: when both are due
  (the campaign's own date, else SPOT_CHECK_REPORT_DEADLINE of its year, default 11-30).
- ``public_campaigns`` / ``public_campaign``: the published draw (双随机一公开): what anyone may
  know of a drawn campaign, enough to replay its draw, and nothing about people.

The form's wording (the summary table's title, columns and 填表说明, the report's outline headings,
the directory levels 国家级/省级/市级/县级, the six areas of 附件1, the conclusions 保留/整改/移出)
is kept as Chinese *data*, not msgids: it is the official form's text, the same in every
interface language (as app.services.mine_excel does for the registry form). The report's own
sentences are msgids, rendered in Chinese.

The sample's rows are the ``SpotCheck`` records, which copy at the draw the licence's facts
(level, licence number, mine name, mineral, mining method, production scale): the table prints
those copies, not the registry's current values; the production scale with its unit (60万吨/年,
the threshold table's unit for the mineral: app.services.reference.scale_unit).

A problem is counted, listed and summed only where a finding was recorded: an area left blank or
written 无, 没有, 无问题 … is not one (app.services.spotchecks.is_finding, the one rule for the
table, the report's figures and its list of problems).
"""
from __future__ import annotations

import datetime
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import clock
from app.extensions import db
from app.models.choices import MINE_SIZES, MINING_METHODS
from app.models.directory import CITY, COUNTY, NATIONAL, PROVINCIAL, DirectoryEntry
from app.models.enterprise import Mine
from app.models.region import GROUPING_NAMES, Region
from app.models.spotcheck import AREAS, SpotCheck, SpotCheckCampaign, SpotCheckTeam, SpotCheckTeamMember
from app.services import pdf, reference
from app.services.exceptions import TransitionRefused
from app.services.paging import Page, int_or_none

# ---------------------------------------------------------------------------
# The official form's wording (seed 004 附件1, 附件2, 附表)
# ---------------------------------------------------------------------------
SUMMARY_COLUMNS: tuple[str, ...] = (
    "序号", "入库级别", "采矿许可证号", "矿山名称", "开采矿种", "开采方式", "生产规模", "存在的主要问题", "处理结论", "备注",
)
SUMMARY_TITLE = "{region}绿色矿山抽查核查结果汇总表"
# A national campaign's table covers the whole country.
NATIONWIDE = "全国"
SUMMARY_NOTES_TITLE = "填表说明"
SUMMARY_NOTES: tuple[str, ...] = (
    "1.入库级别：填写国家级、省级、市级或县级。",
    "2.采矿许可证号/矿山名称/开采矿种/开采方式/生产规模：按照采矿许可证证载内容填写",
    "3.处理结论：填写保留、整改或移出。",
    "4.备注：填写其他需要说明的问题，如国家级绿色矿山名称、采矿权人等重要信息变更等情况。",
)
LEVEL_NAMES = {NATIONAL: "国家级", PROVINCIAL: "省级", CITY: "市级", COUNTY: "县级"}
# The six areas of the verification record, in app.models.spotcheck.AREAS order.
AREA_NAMES: dict[str, str] = dict(zip(AREAS, (
    "矿区环境", "资源开发方式", "资源综合利用", "节能减排", "科技创新与数字化矿山", "企业管理与企业形象",
)))
# 处理结论 of a decided check (SpotCheck.status); an undecided one is 待定 (why, in brackets).
CONCLUSIONS = {"retained": "保留", "rectifying": "整改", "removed": "移出"}
PENDING_CONCLUSIONS = {"assigned": "待定（尚未核查）", "recorded": "待定（已核查，待作出处理结论）"}
PENDING_CONCLUSION = "待定"
DECIDED = frozenset(CONCLUSIONS)
# A re-checked mine is still under rectification (整改) until the organiser decides the re-check.
RESULT_OF_STATUS = {"rechecked": "rectifying"}


def result_status(status: str) -> str:
    """The check's status as a result: ``rechecked`` counts as ``rectifying``."""
    return RESULT_OF_STATUS.get(status, status)


# 是否符合绿色矿山标准 (附件1 核查结论).
CONFORMS_NAMES = {True: "是", False: "否", None: "未定"}
NO_PROBLEM = "无"
REPORT_TITLE = "绿色矿山核查报告"
REPORT_SECTIONS = ("一、工作概况", "二、绿色矿山建设情况", "三、发现的问题与不足", "四、意见建议")
APPENDIX = "附表"

# A campaign has its table, its report and its public page once it is drawn.
REPORTABLE_STATUSES = ("drawn", "closed")
PUBLIC_STATUSES = REPORTABLE_STATUSES

# Why a candidate was a priority of the draw (seed 004 一: 露天开采, 有问题线索反映, "回头看"提出整改
# 要求) and which inspectors may lead a team (seed 004 三: 高级技术职称 or 处级及以上行政职级): the
# codes and labels of app.services.spotchecks (PRIORITY_LABELS, LEADING_GRADES, LEADING_RANKS),
# which makes the draw.

ALGORITHM_FORMULAS = {
    "sha256-rank-v1": _l(
        "Each candidate's key is the SHA-256 digest, in lower-case hexadecimal, of the UTF-8 text "
        "\u201c<seed>:mines:<directory entry id>\u201d. The priority candidates are sorted by key in "
        "ascending order, followed by the other candidates sorted by key in ascending order; the "
        "first <sample size> of that list are the sample, in that order. The inspectors are ranked "
        "the same way, with \u201cinspectors\u201d in place of \u201cmines\u201d and the inspector id "
        "in place of the entry id."
    ),
}

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------
def check_reportable(campaign: SpotCheckCampaign) -> None:
    """The table and the report exist once the mines are drawn (drawn or closed)."""
    if campaign.status not in REPORTABLE_STATUSES:
        raise TransitionRefused(_("The summary table and the report are available once the mines have been drawn."))


def report_deadline(campaign: SpotCheckCampaign) -> datetime.date:
    """When the summary table and the report are due: the campaign's own date, else
    SPOT_CHECK_REPORT_DEADLINE (month, day; default 11-30) of the campaign's year."""
    if campaign.report_deadline is not None:
        return campaign.report_deadline
    month, day = current_app.config.get("SPOT_CHECK_REPORT_DEADLINE", (11, 30))
    return datetime.date(int(campaign.year), int(month), int(day))


def report_deadline_passed(campaign: SpotCheckCampaign, today: Optional[datetime.date] = None) -> bool:
    """True after the due day (the day itself is still in time)."""
    return (today or clock.today()) > report_deadline(campaign)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------
def region_name(campaign: SpotCheckCampaign) -> str:
    """The organiser's region as the form names it (山西省, 山西省太原市), 全国 for the national level."""
    return campaign.region.full_name if campaign.region is not None else NATIONWIDE


def organiser_name(campaign: SpotCheckCampaign) -> str:
    """The organising authority, in the current language."""
    if campaign.region is None:
        return _("Ministry of Natural Resources")
    return _("%(region)s natural resources authority", region=campaign.region.full_name)


def organiser_label(campaign: SpotCheckCampaign) -> str:
    """For the public pages: the region (or the ministry) and the level, e.g. 山西省（省级）."""
    from app.services.directory import LEVEL_LABELS

    level = str(LEVEL_LABELS.get(campaign.level, campaign.level))
    where = campaign.region.full_name if campaign.region is not None else _("Ministry of Natural Resources")
    return _("%(organiser)s (%(level)s)", organiser=where, level=level)


def summary_title(campaign: SpotCheckCampaign) -> str:
    return SUMMARY_TITLE.format(region=region_name(campaign))


def _priority_labels() -> dict:
    from app.services.spotchecks import PRIORITY_LABELS

    return PRIORITY_LABELS


def priority_label(code: str) -> str:
    return str(_priority_labels().get(code, code))


def _zh_choice(choices: dict, code: Optional[str]) -> str:
    if not code:
        return ""
    with force_locale("zh"):
        return str(choices.get(code, code))


# ---------------------------------------------------------------------------
# The summary table's rows
# ---------------------------------------------------------------------------
def problems_text(check: SpotCheck) -> str:
    """存在的主要问题: the areas where a finding was recorded (spotchecks.is_finding: not blank,
    not 无 / 没有 …), each after its area's name, one a line; 无 once the record is in and
    records none; empty while the mine is still to be checked."""
    from app.services.spotchecks import findings_of

    lines = [f"{AREA_NAMES[area]}：{text}" for area, text in findings_of(check).items()]
    if lines:
        return "\n".join(lines)
    return "" if check.status == "assigned" else NO_PROBLEM


def conclusion_text(check: SpotCheck) -> str:
    """处理结论: 保留, 整改 or 移出; 待定 (with the reason) before the organiser decides."""
    status = result_status(check.status)
    return CONCLUSIONS.get(status) or PENDING_CONCLUSIONS.get(status, PENDING_CONCLUSION)


def note_text(check: SpotCheck) -> str:
    """备注: the check's note, and the rectification deadline of a mine under rectification."""
    parts = []
    if (check.note or "").strip():
        parts.append(check.note.strip())
    if result_status(check.status) == "rectifying" and check.rectify_deadline is not None:
        parts.append(f"整改期限：{check.rectify_deadline.isoformat()}")
    return "；".join(parts)


def scale_text(value: Optional[float], unit: str = reference.DEFAULT_SCALE_UNIT) -> str:
    """生产规模 as the licence states it: the number and its unit (60万吨/年, 2.5万立方米/年)."""
    if value is None:
        return ""
    number = int(value) if float(value).is_integer() else value
    return f"{number}{unit}"


def _scale_units(checks: list[SpotCheck]) -> dict[tuple[str, str], str]:
    """(mineral name, mining method) -> the unit of the production scale, for these checks:
    two queries (their minerals, the threshold rows), however many checks."""
    from app.models import Mineral

    names = {check.mineral_name for check in checks if check.mineral_name}
    minerals = {m.name: m for m in db.session.scalars(select(Mineral).where(Mineral.name.in_(names)))} if names else {}
    keys = {(check.mineral_name or "", check.mining_method or "") for check in checks}
    units = reference.scale_units((minerals.get(name), method or None) for name, method in keys)
    return {(name, method): units[(minerals.get(name), method or None)] for name, method in keys}


@dataclass(frozen=True)
class SummaryRow:
    position: int
    level: str
    licence_no: str
    mine_name: str
    mineral: str
    method: str
    scale: Any
    problems: str
    conclusion: str
    note: str

    def cells(self) -> tuple:
        return (self.position, self.level, self.licence_no, self.mine_name, self.mineral, self.method, self.scale,
                self.problems, self.conclusion, self.note)


def summary_row(check: SpotCheck, scale_unit: Optional[str] = None) -> SummaryRow:
    """One row of the summary table; ``scale_unit`` as ``_scale_units`` found it (looked up when
    not given)."""
    if scale_unit is None:
        scale_unit = _scale_units([check])[(check.mineral_name or "", check.mining_method or "")]
    return SummaryRow(
        position=check.position,
        level=LEVEL_NAMES.get(check.entry_level, check.entry_level),
        licence_no=check.licence_no,
        mine_name=check.mine_name,
        mineral=check.mineral_name or "",
        method=_zh_choice(MINING_METHODS, check.mining_method),
        scale=scale_text(check.production_scale, scale_unit),
        problems=problems_text(check),
        conclusion=conclusion_text(check),
        note=note_text(check),
    )


def _checks(campaign: SpotCheckCampaign) -> list[SpotCheck]:
    """The sample's records in draw order, with what the report reads (mines) loaded at once."""
    return list(db.session.scalars(
        select(SpotCheck).where(SpotCheck.campaign_id == campaign.id)
        .options(selectinload(SpotCheck.mine))
        .order_by(SpotCheck.position, SpotCheck.id)
    ))


def summary_rows(campaign: SpotCheckCampaign, checks: Optional[list[SpotCheck]] = None) -> list[SummaryRow]:
    checks = checks if checks is not None else _checks(campaign)
    units = _scale_units(checks)
    return [summary_row(check, units[(check.mineral_name or "", check.mining_method or "")]) for check in checks]


# ---------------------------------------------------------------------------
# The summary table as .xlsx
# ---------------------------------------------------------------------------
_WIDTHS = (6, 10, 27, 28, 10, 14, 10, 52, 14, 30)
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="E2EFDA")
_WRAP_TOP = Alignment(vertical="top", wrap_text=True)
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
_CENTRE_TOP = Alignment(horizontal="center", vertical="top", wrap_text=True)
# 序号, 入库级别, 开采方式, 生产规模, 处理结论 are centred.
_CENTRED_COLUMNS = frozenset({1, 2, 6, 7, 9})
_TEXT_COLUMNS = frozenset({3})  # the licence number stays text


def _set_text(cell, value: Any) -> None:
    """A value as it is: text that starts with '=' is never written as a formula."""
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def summary_xlsx(campaign: SpotCheckCampaign) -> bytes:
    """The summary table (seed 004 附表): a title row, the ten columns, one row per drawn mine
    in draw order, and the form's 填表说明 under the table."""
    rows = summary_rows(campaign)
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    last = get_column_letter(len(SUMMARY_COLUMNS))

    ws.merge_cells(f"A1:{last}1")
    title = ws.cell(row=1, column=1, value=summary_title(campaign))
    title.font = Font(bold=True, size=16)
    title.alignment = _CENTRE
    ws.row_dimensions[1].height = 32

    for index, header in enumerate(SUMMARY_COLUMNS, start=1):
        cell = ws.cell(row=2, column=index, value=header)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = _CENTRE
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(index)].width = _WIDTHS[index - 1]
    ws.row_dimensions[2].height = 30

    row_number = 2
    for row in rows:
        row_number += 1
        for index, value in enumerate(row.cells(), start=1):
            cell = ws.cell(row=row_number, column=index)
            _set_text(cell, value)
            cell.border = _BORDER
            cell.alignment = _CENTRE_TOP if index in _CENTRED_COLUMNS else _WRAP_TOP
            if index in _TEXT_COLUMNS:
                cell.number_format = "@"
        lines = max(1, *(str(value).count("\n") + 1 for value in row.cells()))
        if lines > 1:
            ws.row_dimensions[row_number].height = 15 * lines

    row_number += 2
    ws.cell(row=row_number, column=1, value=SUMMARY_NOTES_TITLE).font = Font(bold=True)
    for note in SUMMARY_NOTES:
        row_number += 1
        ws.merge_cells(start_row=row_number, start_column=1, end_row=row_number, end_column=len(SUMMARY_COLUMNS))
        ws.cell(row=row_number, column=1, value=note).alignment = Alignment(vertical="top", wrap_text=True)

    ws.freeze_panes = "A3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# The report's figures
# ---------------------------------------------------------------------------
def _counted(pairs: Iterable[tuple[str, str]], order: Optional[list[str]] = None) -> list[dict]:
    """[(code, label)] -> [{"code", "label", "count"}]: in ``order`` when given, else by count
    (most first) and label."""
    counts: Counter = Counter()
    labels: dict[str, str] = {}
    for code, label in pairs:
        counts[code] += 1
        labels[code] = label
    codes = [code for code in order if code in counts] if order else sorted(
        counts, key=lambda code: (-counts[code], labels[code]))
    return [{"code": code, "label": labels[code], "count": counts[code]} for code in codes]


def _region_group_codes(campaign: SpotCheckCampaign, code: str) -> str:
    """The region one level below the organiser that a mine's county lies in: the prefecture
    for a province's campaign, the county for a city's, the province for the national one.
    A municipality's grouping row (市辖区, 县) is skipped for its counties."""
    if campaign.level == "national":
        return code[:2] + "0000"
    if campaign.level == "province":
        return code[:4] + "00"
    return code


def _by_region(campaign: SpotCheckCampaign, checks: list[SpotCheck]) -> list[dict]:
    groups = {check.id: _region_group_codes(campaign, check.region_code) for check in checks}
    codes = set(groups.values()) | {check.region_code for check in checks}
    regions = {region.code: region for region in db.session.scalars(select(Region).where(Region.code.in_(codes)))}
    prefix = campaign.region.full_name if campaign.region is not None else ""

    def name(check: SpotCheck) -> tuple[str, str]:
        code = groups[check.id]
        region = regions.get(code)
        if region is None or region.name in GROUPING_NAMES:
            code, region = check.region_code, regions.get(check.region_code)
        full = region.full_name if region is not None else code
        short = full[len(prefix):] if prefix and full.startswith(prefix) and full != prefix else full
        return code, short

    return _counted(name(check) for check in checks)


def _teams(campaign: SpotCheckCampaign) -> list[SpotCheckTeam]:
    return list(db.session.scalars(
        select(SpotCheckTeam).where(SpotCheckTeam.campaign_id == campaign.id)
        .options(selectinload(SpotCheckTeam.members).selectinload(SpotCheckTeamMember.inspector))
        .order_by(SpotCheckTeam.number)
    ))


def report_context(campaign: SpotCheckCampaign, today: Optional[datetime.date] = None) -> dict[str, Any]:
    """The figures of the report (seed 004 附件2), labels in Chinese.

    Counts are over the drawn sample (the ``SpotCheck`` records); each breakdown is a list of
    ``{"code", "label", "count"}``."""
    with force_locale("zh"):
        return _report_context(campaign, today)


def _report_context(campaign: SpotCheckCampaign, today: Optional[datetime.date]) -> dict[str, Any]:
    from app.services.spotchecks import LEADING_GRADES, LEADING_RANKS, findings_of

    checks = _checks(campaign)
    teams = _teams(campaign)
    not_stated = _("Not stated")

    inspectors = {member.inspector.id: member.inspector for team in teams for member in team.members}
    team_rows = []
    for team in teams:
        members = sorted(team.members, key=lambda member: member.position)
        leader = next((m.inspector for m in members if m.inspector_id == team.leader_id), None)
        team_rows.append({
            "number": team.number,
            "leader": leader.name if leader is not None else "",
            "members": [m.inspector.name for m in members if m.inspector_id != team.leader_id],
            "size": len(members),
            "mines": sum(1 for check in checks if check.team_id == team.id),
        })

    priority_of = {check.id: list(check.priority_reasons or []) for check in checks}
    candidate_priority = {key: value for key, value in (campaign.priority or {}).items() if value}
    checked_days = sorted(check.checked_on for check in checks if check.checked_on is not None)

    # A problem counts only where a finding was recorded (spotchecks.is_finding); a mine is without
    # problems in an area once its record is in and records none there.
    found = {check.id: findings_of(check) for check in checks}
    recorded = [check for check in checks if check.status != "assigned"]
    areas = []
    for area in AREAS:
        findings = [{"position": check.position, "mine_name": check.mine_name, "text": found[check.id][area]}
                    for check in checks if area in found[check.id]]
        areas.append({"code": area, "name": AREA_NAMES[area], "count": len(findings), "findings": findings,
                      "without_problems": sum(1 for check in recorded if area not in found[check.id])})

    conclusions = Counter(result_status(check.status) if result_status(check.status) in DECIDED else "pending"
                          for check in checks)
    conforms = Counter({True: "yes", False: "no"}.get(check.conforms, "unknown") for check in checks)
    rows = summary_rows(campaign, checks)

    return {
        "campaign_id": campaign.id,
        "year": campaign.year,
        "title": campaign.title,
        "level": campaign.level,
        "status": campaign.status,
        "region_name": region_name(campaign),
        "organiser": organiser_name(campaign),
        "drawn_on": campaign.drawn_at.date() if campaign.drawn_at else None,
        "closed_on": campaign.decided_at.date() if campaign.status == "closed" and campaign.decided_at else None,
        "algorithm": campaign.algorithm or "",
        "seed": campaign.seed or "",
        "ratio": campaign.ratio,
        "ratio_text": f"{campaign.ratio * 100:g}%" if campaign.ratio is not None else "",
        "candidate_count": len(campaign.candidate_entry_ids or []),
        "priority_candidate_count": len(candidate_priority),
        "candidate_priority": _counted(
            ((reason, priority_label(reason)) for reasons in candidate_priority.values() for reason in reasons),
            order=list(_priority_labels())),
        "sample_size": campaign.sample_size if campaign.sample_size is not None else len(checks),
        "checked_count": len(checks),
        "recorded_count": sum(1 for check in checks if check.status != "assigned"),
        "first_check_on": checked_days[0] if checked_days else None,
        "last_check_on": checked_days[-1] if checked_days else None,
        "team_count": len(teams),
        "teams": team_rows,
        "inspector_count": len(inspectors),
        "senior_title_count": sum(1 for i in inspectors.values() if i.title_grade in LEADING_GRADES),
        "division_rank_count": sum(1 for i in inspectors.values() if i.admin_rank in LEADING_RANKS),
        "by_level": _counted(((c.entry_level, LEVEL_NAMES.get(c.entry_level, c.entry_level)) for c in checks),
                             order=list(LEVEL_NAMES)),
        "by_region": _by_region(campaign, checks),
        "by_mineral": _counted((c.mineral_name or "", c.mineral_name or not_stated) for c in checks),
        "by_method": _counted(((c.mining_method or "", _zh_choice(MINING_METHODS, c.mining_method) or not_stated)
                               for c in checks), order=[*MINING_METHODS, ""]),
        "by_size": _counted((((c.mine.size if c.mine else None) or "",
                              _zh_choice(MINE_SIZES, c.mine.size if c.mine else None) or not_stated) for c in checks),
                            order=[*MINE_SIZES, ""]),
        "by_priority": _counted(((reason, priority_label(reason)) for c in checks for reason in priority_of[c.id]),
                                order=list(_priority_labels())),
        "priority_count": sum(1 for c in checks if priority_of[c.id]),
        "conclusions": {key: conclusions.get(key, 0) for key in (*CONCLUSIONS, "pending")},
        "conforms": {key: conforms.get(key, 0) for key in ("yes", "no", "unknown")},
        "areas": areas,
        "problem_count": sum(1 for check in checks if found[check.id]),
        "national_mines": [
            {"position": c.position, "mine_name": c.mine_name, "licence_no": c.licence_no,
             "conforms": CONFORMS_NAMES.get(c.conforms, CONFORMS_NAMES[None]), "conclusion": conclusion_text(c)}
            for c in checks if c.entry_level == NATIONAL
        ],
        "opinions": [{"position": c.position, "mine_name": c.mine_name, "text": c.opinions.strip()}
                     for c in checks if (c.opinions or "").strip()],
        "summary_title": summary_title(campaign),
        "summary_columns": SUMMARY_COLUMNS,
        "summary_rows": rows,
        "summary_notes_title": SUMMARY_NOTES_TITLE,
        "summary_notes": SUMMARY_NOTES,
        "deadline": report_deadline(campaign),
        "deadline_passed": report_deadline_passed(campaign, today),
    }


def figures_text(items: list[dict]) -> str:
    """「国家级2座、省级3座」: a breakdown of mines in one line (the report is Chinese)."""
    return "、".join(_("%(label)s: %(count)s mines", label=item["label"], count=item["count"]) for item in items)


def render_report_html(campaign: SpotCheckCampaign, today: Optional[datetime.date] = None) -> str:
    context = report_context(campaign, today)
    with force_locale("zh"):
        return render_template(
            "gm/spotcheck_report_pdf.html", report=context, figures=figures_text, sections=REPORT_SECTIONS,
            report_title=REPORT_TITLE, appendix=APPENDIX, no_problem=NO_PROBLEM, **pdf.font_context(),
        )


def render_report_pdf(campaign: SpotCheckCampaign, today: Optional[datetime.date] = None) -> bytes:
    """The report (seed 004 附件2) with the summary table as 附表: A4, Chinese in the embedded font."""
    return pdf.render(render_report_html(campaign, today), "spot-check report PDF")


def summary_file_name(campaign: SpotCheckCampaign) -> tuple[str, str]:
    """(the Chinese file name, an ASCII fallback) of the summary table."""
    return (f"{region_name(campaign)}{campaign.year}年度绿色矿山抽查核查结果汇总表.xlsx",
            f"spot-check-summary-{campaign.year}-{campaign.id}.xlsx")


def report_file_name(campaign: SpotCheckCampaign) -> tuple[str, str]:
    return (f"{region_name(campaign)}{campaign.year}年度绿色矿山核查报告.pdf",
            f"spot-check-report-{campaign.year}-{campaign.id}.pdf")


# ---------------------------------------------------------------------------
# The public pages (双随机一公开)
# ---------------------------------------------------------------------------
# Only what replays the draw and states its results: the campaign, the draw's inputs, every
# candidate (mine name, licence number, directory level, priority reasons), the sample in order
# and each sampled mine's decided result. Never a person: no inspector, no principal, no
# contact data of a mine or an enterprise, no verification record's text.
PUBLIC_YEAR_RANGE = (1990, 2100)
PUBLIC_MAX_PAGE = 10_000
_ID_CHUNK = 500


@dataclass(frozen=True)
class PublicQuery:
    year: Optional[int] = None
    page: int = 1
    size: int = 20


def parse_public_query(args: Any) -> PublicQuery:
    """year, page, size from a request's arguments; anything malformed is dropped, never an error."""
    year = int_or_none(args.get("year"))
    year = year if year is not None and PUBLIC_YEAR_RANGE[0] <= year <= PUBLIC_YEAR_RANGE[1] else None
    default_size = int(current_app.config.get("PUBLIC_PAGE_SIZE", 20))
    max_size = int(current_app.config.get("PUBLIC_MAX_PAGE_SIZE", 100))
    size = min(max(int_or_none(args.get("size")) or default_size, 1), max_size)
    page = min(max(int_or_none(args.get("page")) or 1, 1), PUBLIC_MAX_PAGE)
    return PublicQuery(year=year, page=page, size=size)


def _public_conditions(query: PublicQuery) -> list:
    conditions = [SpotCheckCampaign.status.in_(PUBLIC_STATUSES)]
    if query.year is not None:
        conditions.append(SpotCheckCampaign.year == query.year)
    return conditions


def _campaign_summary(campaign: SpotCheckCampaign) -> dict[str, Any]:
    from app.services.directory import LEVEL_LABELS

    return {
        "id": campaign.id,
        "year": campaign.year,
        "level": campaign.level,
        "level_label": str(LEVEL_LABELS.get(campaign.level, campaign.level)),
        "region_code": campaign.region_code,
        "organiser": organiser_label(campaign),
        "title": campaign.title,
        "status": campaign.status,
        "status_label": campaign.status_label,
        "sample_size": campaign.sample_size,
        "candidate_count": len(campaign.candidate_entry_ids or []),
        "drawn_on": campaign.drawn_at.date().isoformat() if campaign.drawn_at else None,
    }


def public_campaigns(query: PublicQuery) -> Page:
    """One page of the drawn campaigns, newest first (two statements and the regions)."""
    conditions = _public_conditions(query)
    total = db.session.scalar(select(func.count(SpotCheckCampaign.id)).where(*conditions)) or 0
    campaigns = db.session.scalars(
        select(SpotCheckCampaign).where(*conditions).options(selectinload(SpotCheckCampaign.region))
        .order_by(SpotCheckCampaign.year.desc(), SpotCheckCampaign.drawn_at.desc(), SpotCheckCampaign.id.desc())
        .limit(query.size).offset((query.page - 1) * query.size)
    ).all()
    return Page(query=query, rows=[_campaign_summary(campaign) for campaign in campaigns], total=total)


def _entry_ids(values: Iterable[Any]) -> list[int]:
    ids = []
    for value in values or ():
        number = int_or_none(value)
        if number is not None:
            ids.append(number)
    return ids


def _entries(ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """entry id -> (mine name, licence number, level): the names copied into the entry, the
    licence number of its mine."""
    found: dict[int, tuple[str, str, str]] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start:start + _ID_CHUNK]
        for entry_id, mine_name, licence_no, level in db.session.execute(
            select(DirectoryEntry.id, DirectoryEntry.mine_name, Mine.licence_no, DirectoryEntry.level)
            .join(Mine, Mine.id == DirectoryEntry.mine_id).where(DirectoryEntry.id.in_(chunk))
        ):
            found[entry_id] = (mine_name, licence_no, level)
    return found


def result_label(status: str) -> str:
    """The public result of a sampled mine: 保留 / 整改 / 移出 once decided (the workflow's
    labels, in the current language), else "not decided yet"."""
    from app.services.workflow import workflow_state_label

    status = result_status(status)
    if status in DECIDED:
        return workflow_state_label("spot_check", status)
    return _("Not decided yet")


def find_public_campaign(campaign_id: Any) -> Optional[SpotCheckCampaign]:
    """The campaign if it is public (drawn or closed), else None: a planned one is not."""
    number = int_or_none(campaign_id)
    if number is None or not 0 < number <= 2**31 - 1:
        return None
    campaign = db.session.get(SpotCheckCampaign, number)
    if campaign is None or campaign.status not in PUBLIC_STATUSES:
        return None
    return campaign


def public_campaign(campaign_id: Any) -> Optional[dict[str, Any]]:
    """The published draw of a drawn campaign, enough to replay it by hand (see ``formula``),
    and the sampled mines' results; None when absent or not drawn yet."""
    from app.services.directory import LEVEL_LABELS

    campaign = find_public_campaign(campaign_id)
    if campaign is None:
        return None
    checks = list(db.session.scalars(
        select(SpotCheck).where(SpotCheck.campaign_id == campaign.id).order_by(SpotCheck.position, SpotCheck.id)))
    candidate_ids = _entry_ids(campaign.candidate_entry_ids)
    priority = {str(key): [str(reason) for reason in (reasons or [])]
                for key, reasons in (campaign.priority or {}).items()}
    entries = _entries(candidate_ids)
    position_of = {check.entry_id: check.position for check in checks}

    def reasons_of(entry_id: int) -> list[str]:
        return priority.get(str(entry_id), [])

    def level_label(level: str) -> str:
        return str(LEVEL_LABELS.get(level, level)) if level else ""

    candidates = []
    for entry_id in candidate_ids:
        mine_name, licence_no, level = entries.get(entry_id, ("", "", ""))
        reasons = reasons_of(entry_id)
        candidates.append({
            "entry_id": entry_id, "mine_name": mine_name, "licence_no": licence_no, "level": level,
            "level_label": level_label(level), "priority_reasons": reasons,
            "priority_labels": [priority_label(reason) for reason in reasons],
            "position": position_of.get(entry_id),
        })
    sample = []
    for check in checks:
        reasons = [str(reason) for reason in (check.priority_reasons or [])]
        result = result_status(check.status)
        decided = result in DECIDED
        sample.append({
            "position": check.position, "entry_id": check.entry_id, "mine_name": check.mine_name,
            "licence_no": check.licence_no, "level": check.entry_level, "level_label": level_label(check.entry_level),
            "priority_reasons": reasons, "priority_labels": [priority_label(reason) for reason in reasons],
            "result": result if decided else None,
            "result_label": result_label(result),
            "rectify_deadline": check.rectify_deadline.isoformat()
            if decided and result == "rectifying" and check.rectify_deadline else None,
        })
    formula = ALGORITHM_FORMULAS.get(campaign.algorithm or "")
    return {
        **_campaign_summary(campaign),
        "ratio": campaign.ratio,
        "team_count": campaign.team_count,
        "team_size": campaign.team_size,
        "algorithm": campaign.algorithm,
        "formula": str(formula) if formula is not None else "",
        "seed": campaign.seed,
        "candidate_entry_ids": candidate_ids,
        "priority": priority,
        "sample_entry_ids": [check.entry_id for check in checks],
        "inspector_candidate_ids": _entry_ids(campaign.inspector_candidate_ids),
        "candidates": candidates,
        "sample": sample,
        "decided_count": sum(1 for check in checks if result_status(check.status) in DECIDED),
    }
