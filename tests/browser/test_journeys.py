"""Browser journeys in the zh interface (issue 7, point 3). See conftest.py for the server.

The demo's enterprise ``qiye1`` (小店区) pre-declares its mine 小店区煤矿2号 for next year (the demo
already has pre-declarations for this year), and everything the issue names is done by clicking:
the pre-declaration with its photo checklist, the province's decision, the application form with
its attachment, submission, the county → city → province review with the buttons of the
application page, the process monitoring table, and the certificate download.
"""
from __future__ import annotations

import csv
import datetime
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request

from playwright.sync_api import Page, expect

from app import clock
from tests.browser import server as live

MINE = "小店区煤矿2号"  # qiye1's underground coal mine (demo data)
YEAR = clock.today().year + 1
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def jpeg(path, colour) -> str:
    from PIL import Image

    Image.new("RGB", (64, 48), colour).save(path, "JPEG")
    return str(path)


def checklist_minimums(mining_method: str) -> list[tuple[str, int]]:
    """(code, least number of photos) of the checklist items that apply (app/data)."""
    with open(os.path.join(live.ROOT, "app", "data", "photo_checklist.csv"), encoding="utf-8") as handle:
        return [(row["code"], int(row["min_count"])) for row in csv.DictReader(handle)
                if row["requirement"] in ("required", mining_method)]


def flash(page: Page, text: str):
    expect(page.locator(".alert-success").filter(has_text=text).first).to_be_visible()


def record_id(page: Page) -> int:
    return int(re.search(r"/(?:show|edit)/(\d+)", page.url).group(1))


def open_from_list(page: Page, list_url: str, *texts: str) -> int:
    """Open the record whose row in the list shows every text; returns its id."""
    page.goto(list_url)
    row = page.locator("table tr")
    for text in texts:
        row = row.filter(has_text=text)
    row.first.locator("a[href*='/show/']").first.click()
    expect(page).to_have_url(re.compile(r"/show/\d+"))
    return record_id(page)


def select2(page: Page, field: str, option: str):
    """Choose in a Select2 box as a user does: open it, click the option."""
    page.locator(f"#{field} + .select2-container").click()
    page.locator(".select2-results__option").filter(has_text=re.compile(f"^{re.escape(option)}")).first.click()


def step(page: Page, label: str, comment: str | None = None):
    """Click a workflow button of the show page (the confirmation dialog is accepted): the one in
    the action bar above the record (the bar below repeats it on a long page)."""
    form = page.locator("form[action*='/transition/']").filter(
        has=page.get_by_role("button", name=label, exact=True)).first
    if comment is not None:
        form.locator("input[name=comment]").fill(comment)
    form.get_by_role("button", name=label, exact=True).click()
    flash(page, f"操作完成：{label}。")


def refused(page: Page, label: str, text: str):
    """Click a workflow button (in the action bar above the record, as ``step``) and see the step
    refused with ``text``."""
    form = page.locator("form[action*='/transition/']").filter(
        has=page.get_by_role("button", name=label, exact=True)).first
    form.get_by_role("button", name=label, exact=True).click()
    expect(page.locator(".alert-danger").filter(has_text=text).first).to_be_visible()


def upload(page: Page, panel: str, path: str):
    box = page.locator(f"#{panel}")
    box.locator("input[type=file]").set_input_files(path)
    box.get_by_role("button", name="上传").click()
    flash(page, f"已上传：{os.path.basename(path)}。")


class Rest:
    """The REST API with a bearer token (for the steps the docstring names)."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.token = self.call("POST", "/api/v1/security/login",
                               {"username": username, "password": live.DEMO_PASSWORD, "provider": "db"},
                               auth=False)["access_token"]

    def call(self, method: str, path: str, body=None, auth=True):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path} -> {exc.code}: {exc.read().decode(errors='replace')[:500]}")


def score_everything(api: Rest, application_id: int, source: str):
    """Nine tenths of every item's points (passes 800/1000 and 75 % of each area)."""
    version = api.call("GET", f"/api/v1/evaluation/{application_id}")["version"]
    versions = api.call("GET", "/api/v1/indicatorversion/?q=" + urllib.parse.quote(
        f"(filters:!((col:code,opr:eq,value:'{version}')))"))["result"]
    items = api.call("GET", "/api/v1/indicatoritem/?q=" + urllib.parse.quote(
        f"(filters:!((col:version_id,opr:eq,value:{versions[0]['id']}),(col:level,opr:eq,value:3)),page_size:100)"
    ))["result"]
    assert len(items) > 20
    summary = api.call("POST", f"/api/v1/evaluation/{application_id}/scores/{source}",
                       {"scores": [{"item": i["code"], "score": round(i["points"] * 0.9, 1)} for i in items]})
    return summary


# ---------------------------------------------------------------------------
# Journeys
# ---------------------------------------------------------------------------
def test_enterprise_predeclares_applies_and_downloads_certificate(users, live_server, tmp_path):
    """From a fresh pre-declaration to the certificate.

    In the browser: qiye1 creates the pre-declaration, uploads the photo checklist, submits;
    shanxi passes it; qiye1 creates the application, fills its form, uploads a PDF, is told the
    self-evaluation report is missing, uploads it and submits;
    xiaodian, taiyuan and shanxi review with the buttons of the application page; qiye1 follows
    the process monitoring table; qiye1 uploads the self-evaluation report and submits the
    self-evaluation; shanxi draws the agency; pinggu uploads its report and on-site record and
    submits the assessment; shanxi lists the mine; qiye1 downloads the certificate.

    Through REST (``/api/v1``): the 100 item scores of the self-evaluation and of the agency
    (``POST /evaluation/<id>/scores/self|agency``), the collective review meeting and its
    decision (``POST /review_meeting/``, ``…/<id>/decide``) and the public notice, dated in the
    past so that the notice period is over (``POST /public_notice/``).
    """
    enterprise = users.page("qiye1")

    # --- Pre-declaration with the photo checklist (C1-C3) ------------------------------------
    enterprise.goto("/predeclarationview/add")
    select2(enterprise, "mine", MINE)
    enterprise.fill("#year", str(YEAR))
    enterprise.get_by_role("button", name="保存").click()
    flash(enterprise, "记录已添加")
    predeclaration = open_from_list(enterprise, "/predeclarationview/list/", MINE, str(YEAR))
    expect(enterprise.locator("#photo-checklist")).to_contain_text("项未完成")

    for code, least in checklist_minimums("underground"):
        for n in range(least):
            photo = jpeg(tmp_path / f"照片{code}-{n + 1}.jpg", (40 * n % 256, 120, 60))
            upload(enterprise, f"attachments-PreDeclaration-{predeclaration}-{code.replace('.', '_')}", photo)
    expect(enterprise.locator("#photo-checklist .panel-heading")).to_contain_text("已完成")
    step(enterprise, "提交")
    expect(enterprise.locator("body")).to_contain_text("已提交")

    province = users.page("shanxi")
    open_from_list(province, "/predeclarationview/list/", MINE, str(YEAR))
    step(province, "通过")

    # --- Application with attachments (D1-D4) -------------------------------------------------
    enterprise.goto("/applicationview/new")
    enterprise.locator("tr", has_text=MINE).filter(has_text=str(YEAR)).locator("input[type=radio]").check()
    enterprise.get_by_role("button", name="确定").click()
    flash(enterprise, "已根据预申报创建申请")
    application = record_id(enterprise)
    enterprise.fill("#legal_representative", "王演示")
    enterprise.fill("#contact_person", "李联系")
    enterprise.fill("#mobile", "13800138000")
    enterprise.fill("#self_evaluation_unit", "晋阳绿色矿山评估中心（演示）")
    enterprise.fill("#situation_environment", "矿区绿化覆盖率达到要求，浏览器测试填写。")
    for condition in ("cond_valid_licence", "cond_no_penalty", "cond_not_anomalous", "cond_no_protected_area",
                      "cond_reserves_three_years", "cond_plan_reviewed"):
        select2(enterprise, condition, "是")
    enterprise.get_by_role("button", name="保存").click()
    flash(enterprise, "记录已更新")
    enterprise.goto(f"/applicationview/show/{application}")
    plan = tmp_path / "绿色矿山建设实施方案.pdf"
    plan.write_bytes(PDF)
    upload(enterprise, f"attachments-Application-{application}-document", str(plan))
    # Submission needs the self-evaluation report (APPLICATION_REQUIRED_MATERIALS).
    refused(enterprise, "提交", "缺少必需的材料：自评报告")
    report = tmp_path / "绿色矿山自评报告.pdf"
    report.write_bytes(PDF)
    upload(enterprise, f"attachments-Application-{application}-self_evaluation_report", str(report))
    step(enterprise, "提交")

    # --- County → city → province (D6), each through the application page ----------------------
    for username, label in (("xiaodian", "初审通过"), ("taiyuan", "推荐至省级"), ("shanxi", "受理")):
        reviewer = users.page(username)
        assert open_from_list(reviewer, "/applicationview/list/", MINE, str(YEAR)) == application
        step(reviewer, label, comment=f"{username} 浏览器测试意见")

    # --- Process monitoring (D7) -----------------------------------------------------------------
    enterprise.goto(f"/applicationview/show/{application}")
    enterprise.get_by_role("link", name="流程监控").click()
    rows = enterprise.locator("#process-steps tbody tr")
    expect(rows).to_have_count(4)
    for index, (operator, action) in enumerate(
            [("qiye1", "提交"), ("xiaodian", "初审通过"), ("taiyuan", "推荐至省级"), ("shanxi", "受理")]):
        expect(rows.nth(index)).to_contain_text(operator)
        expect(rows.nth(index)).to_contain_text(action)
    expect(rows.nth(3)).to_contain_text("shanxi 浏览器测试意见")

    # --- Evaluation (E2, E3): scores by REST, files and steps in the browser ----------------------
    base = live_server.url
    summary = score_everything(Rest(base, "qiye1"), application, "self")
    assert summary.get("passed") is not False, summary
    enterprise.goto(f"/applicationview/show/{application}")
    report = tmp_path / "自评报告.pdf"
    report.write_bytes(PDF)
    upload(enterprise, f"attachments-SelfEvaluation-{application}-report", str(report))
    step(enterprise, "提交自评")

    province.goto(f"/applicationview/show/{application}")
    step(province, "抽取第三方评估机构", comment="随机抽取")

    agency = users.page("pinggu")
    score_everything(Rest(base, "pinggu"), application, "agency")
    agency.goto(f"/applicationview/show/{application}")
    for slot, name in (("report", "第三方评估报告.pdf"), ("onsite_record", "现场核查记录.pdf")):
        path = tmp_path / name
        path.write_bytes(PDF)
        upload(agency, agency.locator(f"[id^='attachments-AgencyAssignment-'][id$='-{slot}']").get_attribute("id"),
               str(path))
    step(agency, "提交评估")

    # --- Collective review and public notice (E4, E5) by REST; listing by the button (E6) ----
    province_api = Rest(base, "shanxi")
    today = clock.today()
    meeting = province_api.call("POST", "/api/v1/review_meeting/",
                                {"held_on": today.isoformat(), "members": "张三、李四、王五"})["id"]
    decision = province_api.call("POST", f"/api/v1/review_meeting/{meeting}/decide",
                                 {"application_id": application, "decision": "pass", "reasons": "评分达标"})
    assert decision["status"] == "review_passed"
    province_api.call("POST", "/api/v1/public_notice/", {
        "title": f"{YEAR}年度绿色矿山遴选结果公示（浏览器测试）",
        "starts_on": (today - datetime.timedelta(days=10)).isoformat(),
        "ends_on": (today - datetime.timedelta(days=1)).isoformat(),
        "application_ids": [application],
        "contact_name": "山西省自然资源厅矿产资源保护监督处", "contact_phone": "0351-1234567",
    })
    province.goto(f"/applicationview/show/{application}")
    step(province, "纳入名录")

    # --- The certificate (F2) ---------------------------------------------------------------------
    open_from_list(enterprise, "/certificateview/list/", MINE)
    with enterprise.expect_download() as download_info:
        enterprise.get_by_role("link", name="下载证书（PDF）").click()
    download = download_info.value
    content = open(download.path(), "rb").read()
    assert content.startswith(b"%PDF"), content[:40]
    assert len(content) > 5_000
    assert download.suggested_filename.endswith(".pdf")


def test_reviewer_drills_down_the_statistics(users):
    """A city reviewer drills its mine statistics down province → city → county; every level's
    rows add up to the number it came from, and the county's number opens exactly those mines."""
    page = users.page("taiyuan")
    page.goto("/statistics/")
    page.get_by_role("link", name="查看地区分布").first.click()
    table = page.locator("#stat-region")

    def counts() -> dict[str, int]:
        expect(table.locator("tbody tr").first).to_be_visible()
        rows = table.locator("tbody tr")
        return {rows.nth(i).locator("td").first.inner_text().strip():
                int(rows.nth(i).locator(".gm-stat-count").inner_text()) for i in range(rows.count())}

    expected = None
    for region in ("山西省", "太原市"):
        level = counts()
        if expected is not None:
            assert sum(level.values()) == expected, level
        assert region in level, level
        expected = level[region]
        table.locator("tr", has_text=region).locator("td").first.get_by_role("link").click()
        expect(page.locator(".breadcrumb")).to_contain_text(region)
    level = counts()
    assert sum(level.values()) == expected, level
    assert "小店区" in level, level
    number = level["小店区"]
    assert number > 0
    table.locator("tr", has_text="小店区").locator("a.gm-stat-count").click()
    expect(page).to_have_url(re.compile(r"/mineview/list"))
    # The list holds exactly the mines counted, every one in 小店区.
    expect(page.locator("body")).to_contain_text(str(number))
    rows = page.locator("table tbody tr").filter(has=page.locator("a[href*='/mineview/show/']"))
    assert 0 < rows.count() <= number
    for index in range(rows.count()):
        expect(rows.nth(index)).to_contain_text("小店区")


def test_certification_from_acceptance_to_the_public_page(users, live_server, tmp_path):
    """Certification (G1-G4) in the browser: the demo's certification of 小店区石灰岩矿3号 waits for
    acceptance. renzheng accepts it (the 20-working-day clock starts), forms the project team,
    requests a rectification (the clock pauses); qiye1 uploads its evidence and resubmits;
    renzheng uploads the evaluation report and certifies with the grade its scores reach (the item
    scores by REST, ``POST /api/v1/evaluation/certification/<id>/scores/certifier``); qiye1 opens
    the certificate and downloads its PDF; the public verification page shows grade and validity."""
    certifier = users.page("renzheng")
    record = open_from_list(certifier, "/certificationapplicationview/list/", "小店区石灰岩矿3号")
    expect(certifier.locator("#clock")).to_contain_text("受理申请后开始计时")
    step(certifier, "正式受理", comment="材料齐全，正式受理（浏览器测试）")
    expect(certifier.locator("#clock-used")).to_have_text("0 / 20")
    expect(certifier.locator("#clock-remaining")).to_have_text("20")

    for name, role, number in (("测试组长", "leader", "2099-N1GM-0000011"), ("测试专家", "expert", "")):
        form = certifier.locator("#team-add")
        form.locator("input[name=name]").fill(name)
        form.locator("select[name=team_role]").select_option(role)
        form.locator("input[name=registration_no]").fill(number)
        form.get_by_role("button").click()
        expect(certifier.locator(".alert-success").filter(has_text=name).first).to_be_visible()
    expect(certifier.locator("#team tbody tr")).to_have_count(2)

    step(certifier, "要求整改", comment="补充矿区复绿证明（浏览器测试）")
    expect(certifier.locator("#clock-label")).to_contain_text("暂停")

    enterprise = users.page("qiye1")
    enterprise.goto(f"/certificationapplicationview/show/{record}")
    evidence = tmp_path / "复绿证明.pdf"
    evidence.write_bytes(PDF)
    upload(enterprise, f"attachments-CertificationApplication-{record}-rectification", str(evidence))
    step(enterprise, "提交整改")
    expect(enterprise.locator("#clock-pauses tbody tr")).to_have_count(1)

    api = Rest(live_server.url, "renzheng")
    version = api.call("GET", f"/api/v1/evaluation/certification/{record}")["version"]
    versions = api.call("GET", "/api/v1/indicatorversion/?q=" + urllib.parse.quote(
        f"(filters:!((col:code,opr:eq,value:'{version}')))"))["result"]
    items = api.call("GET", "/api/v1/indicatoritem/?q=" + urllib.parse.quote(
        f"(filters:!((col:version_id,opr:eq,value:{versions[0]['id']}),(col:level,opr:eq,value:3)),page_size:100)"
    ))["result"]
    summary = api.call("POST", f"/api/v1/evaluation/certification/{record}/scores/certifier",
                       {"scores": [{"item": i["code"], "score": round(i["points"] * 0.85, 2)} for i in items]})
    assert summary["complete"] and 80 <= summary["share"] < 90, summary

    certifier.goto(f"/certificationapplicationview/show/{record}")
    report = tmp_path / "认证评估报告.pdf"
    report.write_bytes(PDF)
    upload(certifier, f"attachments-CertificationEvaluation-{record}-evaluation_report", str(report))
    step(certifier, "按所达等级批准认证", comment="现场评估通过（浏览器测试）")
    expect(certifier.locator("body")).to_contain_text("已获认证")

    enterprise.goto(f"/certificationapplicationview/show/{record}")
    enterprise.locator("#certificate-link a").click()
    expect(enterprise).to_have_url(re.compile(r"/certificationcertificateview/show/\d+"))
    expect(enterprise.locator("body")).to_contain_text("AAAA")
    number = re.search(r"GMC-\d{4}-\d{5}", enterprise.locator("body").inner_text()).group(0)
    with enterprise.expect_download() as download_info:
        enterprise.get_by_role("link", name="下载证书（PDF）").click()
    content = open(download_info.value.path(), "rb").read()
    assert content.startswith(b"%PDF") and len(content) > 5_000

    context = users.chromium.new_context(base_url=live_server.url, locale="zh-CN")  # nobody signed in
    try:
        public = context.new_page()
        public.goto(f"/public/certificate/{number}")
        body = public.locator("body")
        expect(body).to_contain_text("AAAA")
        expect(body).to_contain_text("有效")
        expect(body).to_contain_text("小店区石灰岩矿3号")
    finally:
        context.close()
