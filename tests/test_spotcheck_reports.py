"""A spot-check campaign's summary table (xlsx) and report (PDF), and the public draw and results
(SPEC H2 "一公开", H6; seed 004 附件2, 附表).

Campaigns and their records are built here directly with the ORM, in the state the draw leaves
them (app.services.spotchecks makes them in production); later states are written the way only
tests may (workflow._status_writes_allowed)."""
from __future__ import annotations

import datetime
import hashlib
import io
import json
import re
from urllib.parse import quote

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook
from pypdf import PdfReader

from app.extensions import db
from app.models import DirectoryEntry
from app.models.spotcheck import Inspector, SpotCheck, SpotCheckCampaign, SpotCheckTeam, SpotCheckTeamMember
from app.services import spotcheck_reports, workflow
from app.services.draws import rank

SEED = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TITLE = "2026年度山西省绿色矿山抽查核查"
ENTERPRISE_CONTACTS = {
    "legal_representative": "欧阳法人", "contact_person": "司马联系", "address": "迎泽大街999号",
    "mobile": "13912345678", "phone": "0351-7654321", "email": "secret@mine.invalid",
}
MINE_CONTACTS = {"principal_name": "诸葛矿长", "principal_phone": "13687654321", "address": "矿区路88号"}
INSPECTOR_NAMES = ("上官组长", "欧阳成员", "东方成员")
# What each drawn position becomes (the sample's order comes from the seed). The areas written
# 无, 没有, 无问题 or blank record no finding: they are not problems.
OUTCOMES = {
    1: dict(status="retained", conforms=True, checked_on=datetime.date(2026, 6, 1),
            area_environment="排土场未完全复绿", area_energy="粉尘治理不到位", area_development="无",
            area_innovation="没有", opinions="加强排土场复绿"),
    2: dict(status="rectifying", conforms=False, checked_on=datetime.date(2026, 6, 3),
            area_management="绿色矿山管理制度不健全", area_utilization=" 无。 ", rectify_deadline=datetime.date(2026, 12, 31),
            note="采矿权人名称已变更"),
    3: dict(status="removed", conforms=False, checked_on=datetime.date(2026, 6, 5),
            area_utilization="尾矿未综合利用", opinions="依法移出名录"),
    4: dict(status="recorded", conforms=True, checked_on=datetime.date(2026, 6, 10),
            area_environment="   ", area_development="无问题", area_energy="没有问题", area_management="（无）"),
}
SUMMARY_HEADERS = ("序号", "入库级别", "采矿许可证号", "矿山名称", "开采矿种", "开采方式", "生产规模", "存在的主要问题",
                "处理结论", "备注")


def zh(message: str, **values) -> str:
    with force_locale("zh"):
        return gettext(message, **values)


def _entry(mine, level: str) -> DirectoryEntry:
    entry = DirectoryEntry(
        mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code, level=level, year=2025,
        mine_name=mine.name, enterprise_name=mine.enterprise.name, mineral_name=mine.mineral.name,
        listed_on=datetime.date(2025, 12, 1), entry_reason="测试列入",
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _inspector(make_user, name: str, **fields) -> Inspector:
    user = make_user("inspector", first_name=name)
    inspector = Inspector(user_id=user.id, pool_region_code="140000", home_region_code="140700", name=name,
                          unit="山西省自然资源厅", **fields)
    db.session.add(inspector)
    db.session.flush()
    return inspector


def make_campaign(status: str = "drawn", region_code: str = "140000", level: str = "province",
                  title: str = TITLE, **fields) -> SpotCheckCampaign:
    campaign = SpotCheckCampaign(year=2026, level=level, region_code=region_code, title=title, ratio=0.6,
                                 team_size=3, team_count=1, **fields)
    db.session.add(campaign)
    db.session.flush()
    if status != "planned":
        with workflow._status_writes_allowed(db.session):
            campaign.status = status
            db.session.flush()
    db.session.commit()
    return campaign


@pytest.fixture
def scene(make_mine, make_enterprise, make_user):
    """山西省's drawn campaign: six candidates (two open-pit national mines are priorities), a
    sample of four, one team of three; positions 1-3 decided (retained, rectifying, removed),
    position 4 recorded and not decided yet."""
    enterprise = make_enterprise("140105", name="晋阳抽查矿业有限公司", **ENTERPRISE_CONTACTS)
    mines = {}
    for n, (code, level, method, mineral, size, scale) in enumerate((
        ("140105", "national", "open_pit", "煤", "large", 120.0),
        ("140121", "national", "open_pit", "煤", "large", 150.0),
        ("140105", "province", "underground", "铁", "small", 30.5),
        ("140213", "province", "underground", "铁", "small", 30.5),
        ("140121", "province", "underground", "铁", "small", 30.5),
        ("140213", "province", "underground", "铁", "small", 30.5),
    ), start=1):
        mine = make_mine(code, enterprise=enterprise if n == 1 else None, name=f"晋抽查{n}号矿",
                         mining_method=method, mineral_name=mineral, size=size, production_scale=scale,
                         **MINE_CONTACTS)
        mines[_entry(mine, level).id] = (mine, level)
    ids = sorted(mines)
    priority = {str(entry_id): ["open_pit"] for entry_id in ids if mines[entry_id][1] == "national"}
    ordered = (rank(SEED, [int(i) for i in priority], "mines")
               + rank(SEED, [i for i in ids if str(i) not in priority], "mines"))
    sample = ordered[:4]
    inspectors = [
        _inspector(make_user, INSPECTOR_NAMES[0], title_grade="senior", title="正高级工程师"),
        _inspector(make_user, INSPECTOR_NAMES[1], admin_rank="division"),
        _inspector(make_user, INSPECTOR_NAMES[2]),
    ]
    campaign = make_campaign(
        algorithm="sha256-rank-v1", seed=SEED, candidate_entry_ids=ids, priority=priority, sample_size=4,
        inspector_candidate_ids=[i.id for i in inspectors], drawn_at=datetime.datetime(2026, 5, 20, 9, 30),
    )
    team = SpotCheckTeam(campaign_id=campaign.id, number=1, leader_id=inspectors[0].id)
    db.session.add(team)
    db.session.flush()
    for position, inspector in enumerate(inspectors):
        db.session.add(SpotCheckTeamMember(team_id=team.id, inspector_id=inspector.id, position=position))
    checks = []
    for position, entry_id in enumerate(sample, start=1):
        mine, level = mines[entry_id]
        outcome = dict(OUTCOMES[position])
        status = outcome.pop("status")
        check = SpotCheck(
            campaign_id=campaign.id, entry_id=entry_id, team_id=team.id, position=position,
            priority_reasons=priority.get(str(entry_id), []), entry_level=level, mine_name=mine.name,
            licence_no=mine.licence_no, mineral_name=mine.mineral.name, mining_method=mine.mining_method,
            production_scale=mine.production_scale, mine_id=mine.id, enterprise_id=mine.enterprise_id,
            region_code=mine.region_code, **outcome,
        )
        db.session.add(check)
        db.session.flush()
        with workflow._status_writes_allowed(db.session):
            check.status = status
            db.session.flush()
        checks.append(check)
    db.session.commit()
    return {"campaign": campaign, "mines": mines, "sample": sample, "ids": ids, "checks": checks,
            "enterprise": enterprise, "inspectors": inspectors}


def _level(scene, position: int) -> str:
    return scene["mines"][scene["sample"][position - 1]][1]


def _mine(scene, position: int):
    return scene["mines"][scene["sample"][position - 1]][0]


# ---------------------------------------------------------------------------
# The summary table
# ---------------------------------------------------------------------------
def test_the_summary_table_has_the_form_s_ten_columns_and_one_row_per_drawn_mine(app, scene):
    workbook = load_workbook(io.BytesIO(spotcheck_reports.summary_xlsx(scene["campaign"])))
    assert len(workbook.worksheets) == 1
    sheet = workbook.active
    rows = [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
    assert rows[0][0] == "山西省绿色矿山抽查核查结果汇总表"
    assert rows[1] == SUMMARY_HEADERS
    body = rows[2:6]
    assert [row[0] for row in body] == [1, 2, 3, 4]
    names = {"national": "国家级", "province": "省级"}
    for position, row in enumerate(body, start=1):
        mine = _mine(scene, position)
        assert row[1] == names[_level(scene, position)]
        assert row[2] == mine.licence_no and row[3] == mine.name
        assert row[4] == mine.mineral.name
        assert row[5] == zh({"open_pit": "Open-pit", "underground": "Underground"}[mine.mining_method])
        number = int(mine.production_scale) if mine.production_scale.is_integer() else mine.production_scale
        assert row[6] == f"{number}万吨/年"  # 生产规模 with its unit, as the licence states it
    # The priority (open-pit, national) mines come first: positions 1 and 2.
    assert [_level(scene, p) for p in (1, 2)] == ["national", "national"]
    assert body[0][7] == "矿区环境：排土场未完全复绿\n节能减排：粉尘治理不到位"
    assert body[1][7] == "企业管理与企业形象：绿色矿山管理制度不健全"
    assert body[2][7] == "资源综合利用：尾矿未综合利用"
    assert body[3][7] == "无"  # the record is in and names no problem
    assert [row[8] for row in body[:3]] == ["保留", "整改", "移出"]
    assert body[3][8].startswith("待定")
    assert body[1][9] == "采矿权人名称已变更；整改期限：2026-12-31"
    assert body[0][9] in (None, "")
    # The form's notes under the table.
    texts = [row[0] for row in rows[6:] if row[0]]
    assert texts == ["填表说明", *spotcheck_reports.SUMMARY_NOTES]
    assert texts[1] == "1.入库级别：填写国家级、省级、市级或县级。"
    assert sheet.cell(row=3, column=3).number_format == "@"
    assert sheet.column_dimensions["H"].width >= 40


def test_a_typed_formula_stays_text_in_the_table(app, scene):
    check = scene["checks"][0]
    check.note = '=HYPERLINK("http://evil.invalid","点击")'
    db.session.commit()
    sheet = load_workbook(io.BytesIO(spotcheck_reports.summary_xlsx(scene["campaign"]))).active
    cell = sheet.cell(row=3, column=10)
    assert cell.value == check.note and cell.data_type == "s"


def test_an_undecided_check_is_pending_and_an_unchecked_one_names_no_problem_yet(app, scene):
    check = scene["checks"][3]
    with workflow._status_writes_allowed(db.session):
        check.status = "assigned"
        db.session.commit()
    row = spotcheck_reports.summary_row(check)
    assert (row.problems, row.conclusion) == ("", "待定（尚未核查）")
    with workflow._status_writes_allowed(db.session):
        check.status = "recorded"
        db.session.commit()
    row = spotcheck_reports.summary_row(check)
    assert (row.problems, row.conclusion) == ("无", "待定（已核查，待作出处理结论）")


@pytest.mark.parametrize("text, counted", [
    ("排土场未完全复绿", True), ("无组织排放粉尘", True), ("没有建立台账", True),
    ("无", False), ("没有", False), ("无问题", False), ("没有问题", False), ("未发现问题", False),
    ("无。", False), (" 无 ", False), ("（无）", False), ("\u3000无\n", False), ("/", False), ("", False),
    ("   ", False), (None, False),
])
def test_a_problem_is_counted_only_where_a_finding_was_recorded(text, counted):
    from app.services.spotchecks import is_finding

    assert is_finding(text) is counted


def test_the_production_scale_carries_the_unit_of_its_mineral(app):
    from app.models import Mineral
    from app.services import reference

    diamond = db.session.query(Mineral).filter_by(name="金刚石").one()
    coal = db.session.query(Mineral).filter_by(name="煤").one()
    assert reference.scale_unit(diamond) == "万克拉/年"
    assert reference.scale_unit(coal, "underground") == "万吨/年"  # the table says 万吨/年 原煤
    assert reference.scale_unit(None) == "万吨/年"
    assert spotcheck_reports.scale_text(2.5, "万克拉/年") == "2.5万克拉/年"
    assert spotcheck_reports.scale_text(60.0) == "60万吨/年"
    assert spotcheck_reports.scale_text(None) == ""


# ---------------------------------------------------------------------------
# The report's figures
# ---------------------------------------------------------------------------
def _counts(items):
    return {item["code"]: item["count"] for item in items}


def test_the_report_context_counts_the_sample(app, scene):
    report = spotcheck_reports.report_context(scene["campaign"], today=datetime.date(2026, 11, 30))
    assert report["region_name"] == "山西省"
    assert report["candidate_count"] == 6 and report["sample_size"] == 4 and report["checked_count"] == 4
    assert report["priority_candidate_count"] == 2 and report["priority_count"] == 2
    assert _counts(report["candidate_priority"]) == {"open_pit": 2}
    assert _counts(report["by_priority"]) == {"open_pit": 2}
    assert _counts(report["by_level"]) == {"national": 2, "province": 2}
    assert [item["label"] for item in report["by_level"]] == ["国家级", "省级"]
    assert _counts(report["by_mineral"]) == {"煤": 2, "铁": 2}
    assert _counts(report["by_method"]) == {"open_pit": 2, "underground": 2}
    assert _counts(report["by_size"]) == {"large": 2, "small": 2}
    expected_regions = {}
    for entry_id in scene["sample"]:
        city = scene["mines"][entry_id][0].region_code[:4] + "00"
        expected_regions[city] = expected_regions.get(city, 0) + 1
    assert _counts(report["by_region"]) == expected_regions
    assert {item["label"] for item in report["by_region"]} <= {"太原市", "大同市"}
    assert report["conclusions"] == {"retained": 1, "rectifying": 1, "removed": 1, "pending": 1}
    assert report["conforms"] == {"yes": 2, "no": 2, "unknown": 0}
    assert report["recorded_count"] == 4
    assert (report["first_check_on"], report["last_check_on"]) == (datetime.date(2026, 6, 1), datetime.date(2026, 6, 10))
    areas = {area["code"]: area for area in report["areas"]}
    assert [area["name"] for area in report["areas"]] == [
        "矿区环境", "资源开发方式", "资源综合利用", "节能减排", "科技创新与数字化矿山", "企业管理与企业形象"]
    assert {code: area["count"] for code, area in areas.items()} == {
        "environment": 1, "development": 0, "utilization": 1, "energy": 1, "innovation": 0, "management": 1}
    assert areas["environment"]["findings"] == [
        {"position": 1, "mine_name": _mine(scene, 1).name, "text": "排土场未完全复绿"}]
    assert report["problem_count"] == 3
    # Without problems: the mines whose record is in and records no finding in the area.
    assert {code: area["without_problems"] for code, area in areas.items()} == {
        "environment": 3, "development": 4, "utilization": 3, "energy": 3, "innovation": 4, "management": 3}
    # The national-level mines, each with its conclusion.
    assert [(m["position"], m["conforms"], m["conclusion"]) for m in report["national_mines"]] == [
        (1, "是", "保留"), (2, "否", "整改")]
    assert [(o["position"], o["text"]) for o in report["opinions"]] == [(1, "加强排土场复绿"), (3, "依法移出名录")]
    # The team: three inspectors, a senior title, a division-level rank.
    assert report["team_count"] == 1 and report["inspector_count"] == 3
    assert report["senior_title_count"] == 1 and report["division_rank_count"] == 1
    assert report["teams"] == [{"number": 1, "leader": INSPECTOR_NAMES[0], "members": list(INSPECTOR_NAMES[1:]),
                                "size": 3, "mines": 4}]
    assert report["deadline"] == datetime.date(2026, 11, 30) and report["deadline_passed"] is False
    assert [row.position for row in report["summary_rows"]] == [1, 2, 3, 4]


def test_the_report_deadline(app, scene):
    campaign = scene["campaign"]
    assert spotcheck_reports.report_deadline(campaign) == datetime.date(2026, 11, 30)
    assert not spotcheck_reports.report_deadline_passed(campaign, today=datetime.date(2026, 11, 30))
    assert spotcheck_reports.report_deadline_passed(campaign, today=datetime.date(2026, 12, 1))
    app.config["SPOT_CHECK_REPORT_DEADLINE"] = (10, 31)
    try:
        assert spotcheck_reports.report_deadline(campaign) == datetime.date(2026, 10, 31)
    finally:
        app.config["SPOT_CHECK_REPORT_DEADLINE"] = (11, 30)
    campaign.report_deadline = datetime.date(2026, 12, 15)
    db.session.commit()
    assert spotcheck_reports.report_deadline(campaign) == datetime.date(2026, 12, 15)
    assert not spotcheck_reports.report_deadline_passed(campaign, today=datetime.date(2026, 12, 1))


# ---------------------------------------------------------------------------
# The PDF and the downloads
# ---------------------------------------------------------------------------
def _pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_report_pdf_carries_the_province_the_figures_and_the_mines(app, scene, make_user, browser):
    response = browser(make_user("province", "140000")).get(f"/spotcheckreport/{scene['campaign'].id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    name = quote("山西省2026年度绿色矿山核查报告.pdf", safe="")
    assert f"filename*=UTF-8''{name}" in response.headers["Content-Disposition"]
    body = response.get_data()
    text = _pdf_text(body)
    assert "山西省绿色矿山核查报告" in text
    for heading in ("一、工作概况", "二、绿色矿山建设情况", "三、发现的问题与不足", "四、意见建议"):
        assert heading in text
    assert _mine(scene, 1).name in text and _mine(scene, 4).name in text
    assert _squeezed(zh("%(label)s: %(count)s mines", label="国家级", count=2)) in text
    assert _squeezed(zh("%(label)s: %(count)s mines", label="铁", count=2)) in text
    assert SEED in text
    assert "排土场未完全复绿" in text and "加强排土场复绿" in text
    # The aspects' table: mines with problems, then recorded mines without (无 is not a problem).
    assert "矿区环境13" in text and "资源开发方式04" in text
    assert "object" not in text and "method" not in text
    # The 附表 with its columns and notes.
    assert "山西省绿色矿山抽查核查结果汇总表" in text and "存在的主要问题" in text and "填表说明" in text
    # The printed page's language (the PDF is made from HTML): Chinese as written in mainland China.
    assert '<html lang="zh-CN">' in spotcheck_reports.render_report_html(scene["campaign"])
    fonts = [str(font.get_object().get("/BaseFont")) for page in PdfReader(io.BytesIO(body)).pages
             for font in (page["/Resources"].get("/Font") or {}).values()]
    assert any("WenQuanYi" in font for font in fonts), fonts


def test_the_summary_download_is_named_in_chinese(app, scene, make_user, browser):
    response = browser(make_user("province", "140000")).get(f"/spotcheckreport/{scene['campaign'].id}/summary.xlsx")
    assert response.status_code == 200
    assert response.mimetype == spotcheck_reports.XLSX_MIMETYPE
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('山西省2026年度绿色矿山抽查核查结果汇总表.xlsx', safe='')}" in disposition
    assert 'filename="spot-check-summary-2026-' in disposition
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert tuple(cell.value for cell in sheet[2]) == SUMMARY_HEADERS


@pytest.mark.parametrize("who, region, expected", [
    ("province", "140000", 200), ("national", None, 200),
    ("province", "610000", 404), ("city", "140100", 404), ("county", "140105", 404),
])
def test_the_downloads_follow_the_scope(app, scene, make_user, browser, who, region, expected):
    client = browser(make_user(who, region))
    campaign_id = scene["campaign"].id
    for url in (f"/spotcheckreport/{campaign_id}/summary.xlsx", f"/spotcheckreport/{campaign_id}/report.pdf"):
        assert client.get(url).status_code == expected, url


def test_enterprises_inspectors_and_strangers_get_nothing(app, scene, make_user, browser):
    campaign_id = scene["campaign"].id
    users = [make_user("enterprise", enterprise=scene["enterprise"]), scene["inspectors"][0].user, None]
    for user in users:
        client = browser(user)
        for url in (f"/spotcheckreport/{campaign_id}/summary.xlsx", f"/spotcheckreport/{campaign_id}/report.pdf"):
            response = client.get(url)
            assert response.status_code in (302, 403, 404), (user, url)
            assert response.mimetype not in ("application/pdf", spotcheck_reports.XLSX_MIMETYPE)


def test_a_planned_campaign_has_no_table_yet_and_an_unknown_one_is_404(app, make_user, browser):
    planned = make_campaign("planned")
    client = browser(make_user("province", "140000"))
    response = client.get(f"/spotcheckreport/{planned.id}/summary.xlsx")
    assert response.status_code == 409
    assert zh("The summary table and the report are available once the mines have been drawn.") in response.get_data(
        as_text=True)
    assert client.get(f"/spotcheckreport/{planned.id}/report.pdf").status_code == 409
    assert client.get("/spotcheckreport/999999/summary.xlsx").status_code == 404
    assert client.get("/spotcheckreport/99999999999/report.pdf").status_code == 404


def test_a_closed_campaign_still_has_its_table_and_report(app, scene, make_user, browser):
    campaign = scene["campaign"]
    with workflow._status_writes_allowed(db.session):
        campaign.status = "closed"
        campaign.decided_at = datetime.datetime(2026, 11, 20, 10, 0)
        db.session.commit()
    client = browser(make_user("province", "140000"))
    assert client.get(f"/spotcheckreport/{campaign.id}/summary.xlsx").status_code == 200
    response = client.get(f"/spotcheckreport/{campaign.id}/report.pdf")
    assert response.status_code == 200
    assert "2026-11-20" in _pdf_text(response.get_data())


def test_a_campaign_with_an_empty_sample_still_prints(app, make_user):
    campaign = make_campaign(algorithm="sha256-rank-v1", seed=SEED, candidate_entry_ids=[], priority={},
                             sample_size=0, inspector_candidate_ids=[])
    sheet = load_workbook(io.BytesIO(spotcheck_reports.summary_xlsx(campaign))).active
    assert tuple(cell.value for cell in sheet[2]) == SUMMARY_HEADERS
    assert sheet.cell(row=3, column=1).value is None
    text = _pdf_text(spotcheck_reports.render_report_pdf(campaign))
    assert "山西省绿色矿山核查报告" in text


def test_a_national_campaign_is_nationwide(app, scene):
    campaign = make_campaign(region_code=None, level="national", title="2026年度国家级绿色矿山抽查核查")
    assert spotcheck_reports.summary_title(campaign) == "全国绿色矿山抽查核查结果汇总表"
    assert spotcheck_reports.report_file_name(campaign)[0] == "全国2026年度绿色矿山核查报告.pdf"


# ---------------------------------------------------------------------------
# The public pages (双随机一公开)
# ---------------------------------------------------------------------------
def json_text(response) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


def _private_data(scene) -> list[str]:
    return [*ENTERPRISE_CONTACTS.values(), *MINE_CONTACTS.values(), *INSPECTOR_NAMES]


def test_the_public_index_lists_drawn_campaigns_only(app, scene, browser, api):
    planned = make_campaign("planned", title="尚未抽取的抽查核查")
    html = browser().get("/public/spot-checks").get_data(as_text=True)
    assert TITLE in html and planned.title not in html
    assert f"/public/spot-checks/{scene['campaign'].id}" in html
    body = api().get("/public/api/spot-checks").get_json()
    assert body["count"] == 1
    row = body["result"][0]
    assert (row["id"], row["year"], row["title"], row["sample_size"], row["candidate_count"], row["drawn_on"]) == (
        scene["campaign"].id, 2026, TITLE, 4, 6, "2026-05-20")
    assert "山西省" in row["organiser"] and row["level"] == "province"
    assert api().get("/public/api/spot-checks?year=2025").get_json()["count"] == 0
    assert api().get("/public/api/spot-checks?year=abc&page=-3&size=999999").status_code == 200


def test_the_public_page_shows_the_draw_and_the_results_without_people(app, scene, browser):
    response = browser().get(f"/public/spot-checks/{scene['campaign'].id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    html = response.get_data(as_text=True)
    assert SEED in html and "sha256-rank-v1" in html
    for position in range(1, 5):
        assert _mine(scene, position).name in html and _mine(scene, position).licence_no in html
    for entry_id in scene["ids"]:  # every candidate
        assert scene["mines"][entry_id][0].name in html
    assert zh("Retained") in html and zh("Rectification ordered") in html
    assert zh("Not decided yet") in html
    for private in _private_data(scene):
        assert private not in html, private
    # The public navigation links to the index.
    assert "/public/spot-checks" in browser().get("/public/directory").get_data(as_text=True)


def test_the_public_json_hides_people_and_publishes_results_once_decided(app, scene, api):
    response = api().get(f"/public/api/spot-checks/{scene['campaign'].id}")
    assert response.status_code == 200
    text = json_text(response)
    for private in _private_data(scene):
        assert private not in text, private
    body = response.get_json()
    assert body["found"] is True and body["algorithm"] == "sha256-rank-v1" and body["seed"] == SEED
    assert [mine["result"] for mine in body["sample"]] == ["retained", "rectifying", "removed", None]
    assert body["sample"][1]["rectify_deadline"] == "2026-12-31"
    assert body["inspector_candidate_ids"] == [i.id for i in scene["inspectors"]]
    assert [c["entry_id"] for c in body["candidates"]] == scene["ids"]
    assert body["formula"]
    # The verification record's text and the note are not published.
    assert "排土场未完全复绿" not in text and "采矿权人名称已变更" not in text


def test_a_planned_or_unknown_campaign_is_not_public(app, browser, api):
    planned = make_campaign("planned")
    for campaign_id in (planned.id, 999999):
        assert browser().get(f"/public/spot-checks/{campaign_id}").status_code == 404
        response = api().get(f"/public/api/spot-checks/{campaign_id}")
        assert response.status_code == 404 and response.get_json()["found"] is False
    assert browser().get("/public/spot-checks/99999999999").status_code == 404


def _replay(seed: str, salt: str, ids: list[int]) -> list[int]:
    """sha256-rank-v1, written from its published definition only."""
    return sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{salt}:{i}".encode("utf-8")).hexdigest())


def test_anyone_can_replay_the_draw_from_the_public_json_alone(app, scene, api):
    body = api().get(f"/public/api/spot-checks/{scene['campaign'].id}").get_json()
    candidates = body["candidate_entry_ids"]
    priority = [i for i in candidates if body["priority"].get(str(i))]
    others = [i for i in candidates if not body["priority"].get(str(i))]
    replayed = (_replay(body["seed"], "mines", priority) + _replay(body["seed"], "mines", others))[:body["sample_size"]]
    assert replayed == body["sample_entry_ids"]
    assert [mine["entry_id"] for mine in body["sample"]] == body["sample_entry_ids"]
    assert [mine["position"] for mine in body["sample"]] == [1, 2, 3, 4]
    # The candidates' list says which were drawn, at which place.
    drawn = {c["entry_id"]: c["position"] for c in body["candidates"] if c["position"] is not None}
    assert drawn == {entry_id: n for n, entry_id in enumerate(replayed, start=1)}


# ---------------------------------------------------------------------------
# Cost: the report and the public page read a constant number of statements
# ---------------------------------------------------------------------------
def _statements(call) -> int:
    from sqlalchemy import event

    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_more_mines_cost_no_more_statements(app, scene, make_mine):
    campaign = scene["campaign"]
    calls = {
        "context": lambda: spotcheck_reports.report_context(campaign),
        "xlsx": lambda: spotcheck_reports.summary_xlsx(campaign),
        "public": lambda: spotcheck_reports.public_campaign(campaign.id),
        "index": lambda: spotcheck_reports.public_campaigns(spotcheck_reports.PublicQuery()),
    }
    before = {name: _statements(call) for name, call in calls.items()}
    assert all(before.values()), before
    ids = list(campaign.candidate_entry_ids)
    for n in range(5, 25):
        mine = make_mine("140105" if n % 2 else "140213", name=f"晋加抽{n}号矿", mineral_name="铁" if n % 3 else "煤")
        entry = _entry(mine, "province")
        ids.append(entry.id)
        db.session.add(SpotCheck(
            campaign_id=campaign.id, entry_id=entry.id, position=n, priority_reasons=[], entry_level="province",
            mine_name=mine.name, licence_no=mine.licence_no, mineral_name=mine.mineral.name,
            mining_method=mine.mining_method, production_scale=mine.production_scale, mine_id=mine.id,
            enterprise_id=mine.enterprise_id, region_code=mine.region_code, area_environment=f"问题{n}",
        ))
    campaign.candidate_entry_ids = ids
    campaign.sample_size = 24
    db.session.commit()
    after = {name: _statements(call) for name, call in calls.items()}
    assert after == before
    assert len(spotcheck_reports.public_campaign(campaign.id)["sample"]) == 24


def test_the_rest_downloads_follow_the_same_scope_and_state(app, scene, make_user, api):
    """GET /api/v1/spotcheckcampaign/<id>/summary.xlsx and …/report.pdf: the screens' files,
    scope and refusals, as the REST twins (SPEC I2)."""
    campaign_id = scene["campaign"].id
    base = f"/api/v1/spotcheckcampaign/{campaign_id}"
    province = api(make_user("province", "140000"))
    summary = province.get(f"{base}/summary.xlsx")
    assert summary.status_code == 200 and summary.mimetype == spotcheck_reports.XLSX_MIMETYPE
    assert tuple(cell.value for cell in load_workbook(io.BytesIO(summary.get_data())).active[2]) == SUMMARY_HEADERS
    report = province.get(f"{base}/report.pdf")
    assert report.status_code == 200 and report.get_data().startswith(b"%PDF")
    assert report.headers["Content-Disposition"].startswith("attachment;")
    for user in (make_user("province", "610000"), make_user("county", "140105")):
        assert api(user).get(f"{base}/summary.xlsx").status_code == 404
    # The inspectors read the campaign but not its report files; an enterprise reads neither.
    for user in (scene["inspectors"][0].user, make_user("enterprise", enterprise=scene["enterprise"])):
        response = api(user).get(f"{base}/report.pdf")
        assert response.status_code in (403, 404) and response.mimetype == "application/json"
    planned = make_campaign("planned")
    refused = province.get(f"/api/v1/spotcheckcampaign/{planned.id}/summary.xlsx")
    assert refused.status_code == 409 and refused.get_json()["message"] == zh(
        "The summary table and the report are available once the mines have been drawn.")
