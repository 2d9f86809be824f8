"""Synthetic demo data in 山西省 (SPEC: no personal data from the seeds).

Idempotent: every object is looked up by its natural key (USCC, licence number, username,
mine and year) before it is created, so running it twice changes nothing.
"""
from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.services import applications, codes, predeclarations, reference, users, workflow

DEMO_PASSWORD = "GreenMine#2026"
PROVINCE = "140000"  # 山西省
# Two cities, two counties each (county codes of GB/T 2260, 2023).
COUNTIES = {
    "140100": ["140105", "140121"],  # 太原市: 小店区, 清徐县
    "140200": ["140213", "140226"],  # 大同市: 平城区, 左云县
}

# (mineral, mining method, production scale in 10,000 t/a)
_MINE_KINDS = [
    ("煤", "underground", 150.0),
    ("煤", "underground", 60.0),
    ("石灰岩", "open_pit", 80.0),
    ("铁", "underground", 40.0),
    ("铝土矿", "combined", 20.0),
    ("石膏", "underground", 12.0),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    region: str | None = None
    enterprise_index: int | None = None
    agency: str | None = None
    certification_body: str | None = None
    description: str = ""
    # What the account is called on screen (the logs, the bar, the messages): a person's role
    # in Chinese, not the login (which showed as 演示xiaodian（xiaodian）).
    name: str = ""


DEMO_AGENCY = "晋阳绿色矿山评估中心（演示）"
DEMO_CERTIFICATION_BODY = "绿色矿山认证中心（演示）"

DEMO_USERS = [
    DemoUser("admin", "admin", name="信息中心管理员",
             description="info-centre administrator: users, roles, reference data"),
    DemoUser("national", "national", name="自然资源部经办人", description="national authority: reads everything"),
    DemoUser("shanxi", "province", PROVINCE, name="山西省厅经办人",
             description="山西省: reviews pre-declarations in the province"),
    DemoUser("taiyuan", "city", "140100", name="太原市局经办人", description="太原市: its two counties"),
    DemoUser("datong", "city", "140200", name="大同市局经办人", description="大同市: its two counties"),
    DemoUser("xiaodian", "county", "140105", name="小店区局经办人", description="小店区 only"),
    DemoUser("qingxu", "county", "140121", name="清徐县局经办人", description="清徐县 only (the neighbour of 小店区)"),
    DemoUser("pingcheng", "county", "140213", name="平城区局经办人", description="平城区 only"),
    DemoUser("zuoyun", "county", "140226", name="左云县局经办人", description="左云县 only"),
    DemoUser("qiye1", "enterprise", enterprise_index=0, name="小店区示范矿业填报员",
             description="enterprise in 小店区: its own mines"),
    DemoUser("qiye2", "enterprise", enterprise_index=4, name="平城区示范矿业填报员",
             description="enterprise in 平城区: its own mines"),
    DemoUser("pinggu", "agency", agency=DEMO_AGENCY, name="评估中心评估员",
             description="assessment agency: its assignments"),
    DemoUser("hecha", "inspector", "140100", name="核查组长甲", description="inspector of 山西省's pool, may lead a team"),
    DemoUser("hecha2", "inspector", "140100", name="核查员乙", description="inspector of 山西省's pool"),
    DemoUser("hecha3", "inspector", "140200", name="核查员丙", description="inspector of 山西省's pool"),
    DemoUser("renzheng", "certifier", certification_body=DEMO_CERTIFICATION_BODY,
             name="认证中心审核员", description="certification body: its certification records"),
]


def demo_uscc(rng: random.Random, region_code: str) -> str:
    """A synthetic credit code with a correct check character (企业: 登记机关 9, 类别 1)."""
    body = "91" + region_code + "".join(rng.choice(codes.USCC_ALPHABET[:10]) for _ in range(9))
    return body + codes.uscc_check_character(body)


def demo_licence(region_code: str, serial: int) -> str:
    """A current-form mining licence number: C + authority region + year + month + serial."""
    return f"C{region_code[:2]}0000" + "2021" + "06" + "1" + f"{serial:09d}"


def _enterprises(rng: random.Random):
    from app.models import Enterprise, Region

    created = []
    index = 0
    for counties in COUNTIES.values():
        for county in counties:
            for n in (1, 2):
                index += 1
                # The generator is seeded: the same code comes out on every run.
                uscc = demo_uscc(rng, county)
                enterprise = db.session.scalars(select(Enterprise).where(Enterprise.uscc == uscc)).first()
                if enterprise is None:
                    region = db.session.get(Region, county)
                    enterprise = Enterprise(
                        name=f"{region.name}示范矿业{n}号有限公司",
                        uscc=uscc,
                        economic_type="limited_liability",
                        legal_representative=f"演示法人{index:02d}",
                        contact_person=f"演示联系人{index:02d}",
                        address=f"{region.full_name}演示路{index}号",
                        mobile=f"1380000{index:04d}",
                        postcode="030000",
                        region_code=county,
                        region=region,
                    )
                    db.session.add(enterprise)
                created.append(enterprise)
    db.session.flush()
    return created


# Counties of 山西省 for the registry and its statistics: the demo users' four, then 21 more.
REGISTRY_COUNTIES = [county for counties in COUNTIES.values() for county in counties] + [
    "140181", "140221", "140222", "140311", "140321", "140404", "140426", "140521", "140581",
    "140603", "140621", "140702", "140724", "140802", "140821", "140902", "140921", "141002", "141021",
    "141102", "141121",
]
# (mineral, mining method, lowest and highest production scale in 10,000 t/a)
_REGISTRY_KINDS = [
    ("煤", "underground", 9, 400), ("煤", "open_pit", 30, 1200), ("铁", "underground", 5, 250),
    ("铁", "open_pit", 20, 500), ("铝土矿", "combined", 5, 200), ("铜", "underground", 3, 150),
    ("金", "underground", 1, 30), ("石灰岩", "open_pit", 10, 300), ("石膏", "underground", 3, 60),
    ("萤石", "underground", 1, 20), ("石墨", "open_pit", 0.1, 3), ("白云岩", "open_pit", 5, 80),
]
REGISTRY_MINES = 300
# A demo mine lies within this many degrees (latitude, longitude) of its county's centre: about
# 2 km either way, inside the county (app/data/demo_county_centres.csv and its SOURCE.md).
POSITION_JITTER = (0.02, 0.025)
COUNTY_CENTRES_FILE = "demo_county_centres.csv"


def county_centres() -> dict[str, tuple[float, float]]:
    """county code -> (latitude, longitude) of the approximate centre of each demo county."""
    import csv
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", COUNTY_CENTRES_FILE)
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["code"]: (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(handle)}


def demo_position(region_code: str, rng: random.Random) -> tuple[float, float]:
    """A point within POSITION_JITTER of the county's centre (two draws of ``rng``)."""
    latitude, longitude = county_centres()[region_code]
    return (round(latitude + rng.uniform(-POSITION_JITTER[0], POSITION_JITTER[0]), 6),
            round(longitude + rng.uniform(-POSITION_JITTER[1], POSITION_JITTER[1]), 6))


def _new_mine(serial: int, enterprise, region_code: str, mineral, method: str, scale: float,
              rng: random.Random | None = None):
    """One synthetic mine, placed near its county's centre; with ``rng``, also the underground
    details and the production facts."""
    from app.models import Mine, Region

    region = db.session.get(Region, region_code)
    mine = Mine(
        name=f"{region.name}{mineral.name.removesuffix('矿')}矿{serial}号",
        address=f"{region.full_name}演示矿区{serial}号",
        licence_no=demo_licence(region_code, serial),
        enterprise=enterprise,
        employees=50 + serial * 7 % 900,
        mineral=mineral,
        mining_method=method,
        production_scale=scale,
        area_km2=round(0.5 + serial * 0.3 % 40, 2),
        issuing_authority="山西省自然资源厅",
        region_code=region_code,
        size=reference.classify_size(mineral, scale, method),
    )
    if rng is not None:
        if method in ("underground", "combined"):
            mine.design_capacity = round(scale * rng.uniform(1.0, 1.5), 1)
            mine.development_method = rng.choice(["shaft", "incline", "adit", "ramp", "combined"])
            mine.max_depth_m = float(rng.choice([rng.randint(80, 790), rng.randint(80, 790), rng.randint(801, 1300)]))
            mine.workers_per_shift = rng.choice([rng.randint(3, 30), rng.randint(3, 30), rng.randint(31, 80)])
        mine.production_status = rng.choice(["producing"] * 6 + ["construction", "suspended", "closed"])
        mine.supervision_level = rng.choice(["county", "county", "city", "province"])
        mine.latitude, mine.longitude = demo_position(region_code, rng)
        mine.principal_name = f"演示负责人{serial:03d}"
        mine.principal_phone = f"1390000{serial:04d}"
    else:
        mine.latitude, mine.longitude = demo_position(region_code, random.Random(serial))
    db.session.add(mine)
    return mine


def _existing_mine(serial: int, region_code: str):
    from app.models import Mine

    return db.session.scalars(select(Mine).where(Mine.licence_no == demo_licence(region_code, serial))).first()


def _mines(enterprises):
    from app.models import Mineral

    minerals = {m.name: m for m in db.session.scalars(select(Mineral))}
    mines = []
    serial = 0
    for e_index, enterprise in enumerate(enterprises):
        for m_index in range(3):
            serial += 1
            mine = _existing_mine(serial, enterprise.region_code)
            if mine is None:
                mineral_name, method, scale = _MINE_KINDS[(e_index + m_index) % len(_MINE_KINDS)]
                mine = _new_mine(serial, enterprise, enterprise.region_code, minerals[mineral_name], method, scale)
            mines.append(mine)
    db.session.flush()
    return mines


def _registry_mines(rng: random.Random, first_serial: int) -> int:
    """A few hundred more mines over 25 counties of 山西省 (all sizes, open-pit and underground,
    several minerals), held by synthetic enterprises, for the registry and its statistics."""
    from app.models import Enterprise, Mineral, Region

    minerals = {m.name: m for m in db.session.scalars(select(Mineral))}
    holders: list = []
    for index, county in enumerate(REGISTRY_COUNTIES):
        # Draw every value whether or not the enterprise exists, so the sequence stays the same.
        uscc = demo_uscc(rng, county)
        economic_type = rng.choice(["state_owned", "limited_liability", "private"])
        holder = db.session.scalars(select(Enterprise).where(Enterprise.uscc == uscc)).first()
        if holder is None:
            region = db.session.get(Region, county)
            holder = Enterprise(name=f"{region.name}演示矿业集团{index + 1}号有限公司", uscc=uscc,
                                economic_type=economic_type,
                                region_code=county, region=region, address=f"{region.full_name}演示大街{index + 1}号")
            db.session.add(holder)
        holders.append(holder)
    db.session.flush()
    created = 0
    for offset in range(REGISTRY_MINES):
        serial = first_serial + offset
        # Draw every value whether or not the mine exists, so the sequence stays the same.
        holder = holders[offset % len(holders)] if offset % 3 else rng.choice(holders)
        mineral_name, method, low, high = rng.choice(_REGISTRY_KINDS)
        scale = round(rng.uniform(low, high), 1)
        details_rng = random.Random(serial)
        if _existing_mine(serial, holder.region_code) is None:
            _new_mine(serial, holder, holder.region_code, minerals[mineral_name], method, scale, details_rng)
            created += 1
    db.session.flush()
    return created


def _agency():
    from app.models import Agency

    agency = db.session.scalars(select(Agency).where(Agency.name == DEMO_AGENCY)).first()
    if agency is None:
        agency = Agency(name=DEMO_AGENCY, uscc=demo_uscc(random.Random(7), "140100"))
        db.session.add(agency)
        db.session.flush()
    return agency


def _certification_body():
    from app.models import CertificationBody

    body = db.session.scalars(select(CertificationBody).where(CertificationBody.name == DEMO_CERTIFICATION_BODY)).first()
    if body is None:
        body = CertificationBody(name=DEMO_CERTIFICATION_BODY, uscc=demo_uscc(random.Random(11), "110105"),
                                 approval_no="CNCA-R-2099-001")
        db.session.add(body)
        db.session.flush()
    return body


def _users(enterprises) -> None:
    sm = current_app.appbuilder.sm
    for demo in DEMO_USERS:
        if sm.find_user(username=demo.username) is not None:
            continue
        users.create_or_update_user(
            demo.username,
            demo.role,
            DEMO_PASSWORD,
            region_code=demo.region,
            enterprise_uscc=enterprises[demo.enterprise_index].uscc if demo.enterprise_index is not None else None,
            agency_name=demo.agency,
            certification_body_name=demo.certification_body,
            first_name=demo.name or demo.username,
            last_name="",
            # The demo's logins are published with it (and seed-demo is refused in production).
            must_change_password=False,
        )


# Four more mines for each demo enterprise user (licence serials of their own), so that its
# pre-declarations and applications can stand in every state.
_WORKFLOW_MINE_SERIALS = {"qiye1": range(900, 906), "qiye2": range(910, 918)}
# Per demo enterprise user: the pre-declaration steps for each of its mines, then (for passed ones)
# the application steps. Together they show every state of both workflows.
_ACCEPTED = ["submit", "county_pass", "city_recommend", "province_accept"]
_ASSESSED = _ACCEPTED + ["self_evaluate", "assign_agency", "assess"]
_PLANS = {
    "qiye1": [
        ([], None),                                    # 预申报 未提交
        (["submit"], None),                            # 预申报 已提交
        (["submit", "reject"], None),                  # 预申报 不通过
        (["submit", "approve"], []),                   # 申请 未提交
        (["submit", "approve"], ["submit"]),           # 申请 已提交, awaiting the county
        (["submit", "approve"], ["submit", "county_pass"]),
        (["submit", "approve"], ["submit", "return"]),  # returned for revision by the county
        # Listed, with its directory certificate: every demo enterprise user holds one.
        (["submit", "approve"], _ASSESSED + ["review_pass", "notice", "list"]),
        # Falsified materials found by the province: the application ends, the mine is barred.
        (["submit", "approve"], ["submit", "county_pass", "fraud"]),
    ],
    "qiye2": [
        (["submit", "approve"], ["submit", "county_pass", "city_recommend"]),
        (["submit", "approve"], _ACCEPTED),
        (["submit", "approve"], None),                 # passed, no application yet
        # Evaluation and selection (issue 6): self-evaluated, under assessment, assessed, listed.
        (["submit", "approve"], _ACCEPTED + ["self_evaluate"]),
        (["submit", "approve"], _ACCEPTED + ["self_evaluate", "assign_agency"]),
        (["submit", "approve"], _ACCEPTED + ["self_evaluate", "assign_agency", "assess"]),
        (["submit", "approve"], _ACCEPTED + ["self_evaluate", "assign_agency", "assess", "review_pass",
                                             "notice", "list"]),
        (["submit", "approve"], _ASSESSED + ["review_pass"]),
        (["submit", "approve"], _ASSESSED + ["review_pass", "notice_open"]),
        (["submit", "approve"], _ASSESSED + ["review_fail"]),
        # A new mine (production started two years ago) that failed once: rectifying (E7).
        (["submit", "approve"], ["new_mine"] + _ASSESSED + ["review_fail"]),
    ],
}
DEMO_FRAUD_REASON = "演示数据：申报材料所附复绿面积与现场核实情况明显不符，认定为弄虚作假"
DEMO_FRAUD_DECISION = "晋自然资函〔2026〕99号（演示）"
_ACTOR_OF_STEP = {"approve": "shanxi", "reject": "shanxi", "province_accept": "shanxi"}
# What each reviewer writes with his step: the words agree with the step taken.
_STEP_COMMENTS = {
    "approve": "演示数据：符合申报条件，同意申报",
    "reject": "演示数据：近三年内受到自然资源行政处罚，不符合申报条件",
    "county_pass": "演示数据：经初审，申请材料齐全，符合遴选基本条件，同意上报市级复核",
    "city_recommend": "演示数据：经复核，矿山建设情况属实，同意推荐至省厅",
    "province_accept": "演示数据：县、市两级意见齐全，材料完整，予以受理",
    "return": "演示数据：请补充矿区复绿现场照片",
}
# The agency's score as a share of each item's points: well above the pass rules (2020: 800 of
# 1000 and 75 % of each area) for an application the collective review passes, below them for
# one it fails.
AGENCY_SHARE_PASSING = 0.9
AGENCY_SHARE_FAILING = 0.7


def _workflow_mines(enterprise, serials) -> list:
    """The enterprise's three registry mines and four more (idempotent by licence number)."""
    from app.models import Mine, Mineral

    coal = db.session.scalars(select(Mineral).where(Mineral.name == "煤")).one()
    for serial in serials:
        if _existing_mine(serial, enterprise.region_code) is None:
            _new_mine(serial, enterprise, enterprise.region_code, coal, "underground", 60.0, random.Random(serial))
    db.session.flush()
    return list(db.session.scalars(select(Mine).where(Mine.enterprise_id == enterprise.id).order_by(Mine.id)))


def _demo_photo() -> bytes:
    """A small synthetic JPEG standing in for a checklist photo."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (70, 140, 90)).save(out, "JPEG")
    return out.getvalue()


def _attach_checklist_photos(record, user) -> None:
    import io

    from werkzeug.datastructures import FileStorage

    from app.services import photo_checklist, uploads

    photo = _demo_photo()
    for item in photo_checklist.items_for(record):
        for n in range(item.min_count):
            uploads.attach("PreDeclaration", record.id, item.code,
                           FileStorage(stream=io.BytesIO(photo), filename=f"演示照片{item.code}-{n + 1}.jpg"), user)


def _complete_application(application, user) -> None:
    """The form filled in as an applicant would (synthetic text), with the materials a
    submission needs (APPLICATION_REQUIRED_MATERIALS: a synthetic PDF in each)."""
    from app.models.application import ELIGIBILITY_CONDITIONS, SITUATION_AREAS
    from app.services import uploads

    for slot in uploads.required_slots("Application"):
        label = uploads.slots_of("Application", application)[slot].label
        _attach_pdf("Application", application.id, slot, f"{label}（演示）.pdf", user)

    application.self_evaluation_unit = "演示绿色矿山评估咨询有限公司"
    application.contact_person = application.contact_person or "演示联系人"
    application.legal_representative = application.legal_representative or "演示法人"
    application.mobile = application.mobile or "13800009999"
    application.greening_coverage_pct = 92.5
    application.land_restoration_pct = 88.0
    application.mining_recovery_pct = 85.0
    application.processing_recovery_pct = 90.0
    application.utilisation_pct = 75.0
    application.water_treatment_pct = 100.0
    application.energy_per_unit = 3.2
    application.rnd_share_pct = 1.8
    for name in ELIGIBILITY_CONDITIONS:
        setattr(application, name, True)
    for name in SITUATION_AREAS:
        setattr(application, name, "（演示文本）按照绿色矿山建设规范开展相关工作。")
    db.session.commit()


def _ensure_window(year: int) -> None:
    """An open 山西省 window for the demo year, so that the demo submissions are on time."""
    import datetime

    from app.models import ApplicationWindow

    if applications.window_for(PROVINCE, year) is None:
        today = clock.today()
        deadline = max(datetime.date(year, 12, 31), today + datetime.timedelta(days=30))
        db.session.add(ApplicationWindow(province_code=PROVINCE, year=year, deadline=deadline))
        db.session.commit()


# A minimal PDF standing in for the reports (synthetic).
_DEMO_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _attach_pdf(owner_type: str, owner_id: int, slot: str, name: str, user) -> None:
    import io

    from werkzeug.datastructures import FileStorage

    from app.services import uploads

    uploads.attach(owner_type, owner_id, slot, FileStorage(stream=io.BytesIO(_DEMO_PDF), filename=name), user)


def _score_everything(application, user, source: str, share: float = AGENCY_SHARE_PASSING) -> None:
    """``share`` of every item's points (default nine tenths: above 800 of 1000 and 75 % of each
    area)."""
    from app.models import IndicatorItem
    from app.services import evaluation

    version = evaluation.version_for(application)
    items = db.session.scalars(select(IndicatorItem).where(IndicatorItem.version_id == version.id,
                                                           IndicatorItem.level == 3)).all()
    evaluation.save_scores(application, user, source,
                           {item.id: round((item.points or 0) * share, 1) for item in items})


def _review_reasons(application, passed: bool) -> str:
    """The collective review's reasons, from the agency's own score and the pass rules."""
    from app.services import evaluation

    summary = evaluation.summarize(application, evaluation.AGENCY)
    line = f"{summary.pass_points:g}分" if summary.pass_points is not None else "合格线"
    if passed:
        return (f"演示数据：第三方评估得分{summary.total:g}分，达到{line}，"
                "各一级指标得分均达到要求，会审通过")
    return f"演示数据：第三方评估得分{summary.total:g}分，低于{line}，会审不通过"


def _evaluation_step(record, step: str, enterprise_user, reviewers, fails: bool = False) -> None:
    """The issue-6 steps of the demo: scores and reports, the draw, the assessment, the
    collective review, the public notice (already over) and the listing."""
    import datetime

    from app.services import evaluation, selection

    province = reviewers["shanxi"]
    if step == "self_evaluate":
        _score_everything(record, enterprise_user, evaluation.SELF)
        _attach_pdf("SelfEvaluation", record.id, "report", "自评报告（演示）.pdf", enterprise_user)
        workflow.transition(record, "submit_self_evaluation", enterprise_user)
    elif step == "assign_agency":
        workflow.transition(record, "assign_agency", province, "演示数据：随机抽取")
    elif step == "assess":
        agency_user = current_app.appbuilder.sm.find_user(username="pinggu")
        _score_everything(record, agency_user, evaluation.AGENCY,
                          AGENCY_SHARE_FAILING if fails else AGENCY_SHARE_PASSING)
        assignment_id = record.assignment.id
        _attach_pdf("AgencyAssignment", assignment_id, "report", "第三方评估报告（演示）.pdf", agency_user)
        _attach_pdf("AgencyAssignment", assignment_id, "onsite_record", "现场核查记录（演示）.pdf", agency_user)
        workflow.transition(record, "submit_assessment", agency_user)
    elif step == "review_pass":
        selection.decide(_demo_meeting(), record, "pass", _review_reasons(record, passed=True), province)
    elif step == "review_fail":
        selection.decide(_demo_meeting(), record, "fail", _review_reasons(record, passed=False), province)
    elif step in ("notice", "notice_open"):
        # A notice already over (the mine is then listed), or one still running.
        today = clock.today()
        starts_on = today - datetime.timedelta(days=20 if step == "notice" else 1)
        title = f"{record.year}年度省级绿色矿山遴选结果公示：{record.mine_name}（演示）"
        selection.publish_notice(province, title, starts_on, starts_on + datetime.timedelta(days=10), [record.id],
                                 contact=DEMO_NOTICE_CONTACT)
    elif step == "new_mine":
        record.mine.is_new_or_expanded = True
        record.mine.production_started_on = clock.today() - datetime.timedelta(days=730)
        db.session.commit()
    elif step == "list":
        workflow.transition(record, "list", province)


_EVALUATION_STEPS = {"self_evaluate", "assign_agency", "assess", "review_pass", "review_fail", "notice",
                     "notice_open", "list", "new_mine"}


# The province's contact for objections on the demonstration notices (made-up numbers).
DEMO_NOTICE_CONTACT = {"contact_name": "山西省自然资源厅矿产资源保护监督处（演示）", "contact_phone": "0351-0000000",
                       "contact_email": "gongshi@example.invalid", "contact_address": "太原市（演示地址）"}


def _demo_meeting():
    """The demo's collective review meeting, a month ago (idempotent)."""
    import datetime

    from app.models import ReviewMeeting

    held_on = clock.today() - datetime.timedelta(days=30)
    meeting = db.session.scalars(select(ReviewMeeting).where(ReviewMeeting.province_code == PROVINCE,
                                                             ReviewMeeting.held_on == held_on)).first()
    if meeting is None:
        meeting = ReviewMeeting(province_code=PROVINCE, held_on=held_on,
                                members="演示委员甲（组长）\n演示委员乙\n演示委员丙")
        db.session.add(meeting)
        db.session.commit()
    return meeting


def _walk(record, steps, enterprise_user, reviewers) -> None:
    # The agency scores an application below the pass rules when the review is going to fail it.
    fails = "review_fail" in steps
    for step in steps:
        if step in _EVALUATION_STEPS:
            _evaluation_step(record, step, enterprise_user, reviewers, fails)
            continue
        if step == "fraud":
            from app.services import fraud

            fraud.record(reviewers["shanxi"], reason=DEMO_FRAUD_REASON, decision_no=DEMO_FRAUD_DECISION,
                         decided_on=clock.today().isoformat(), application_id=record.id)
            continue
        actor = reviewers.get(_ACTOR_OF_STEP.get(step, ""), enterprise_user)
        if step in ("county_pass", "return") and record.status == "submitted":
            actor = reviewers["county"]
        elif step == "city_recommend":
            actor = reviewers["city"]
        workflow.transition(record, step, actor, _STEP_COMMENTS.get(step))


def _workflows(year: int) -> None:
    """Pre-declarations and applications in every state, walked through the transition engine."""
    from app.models import Application, PreDeclaration

    sm = current_app.appbuilder.sm
    _ensure_window(year)
    for username, plans in _PLANS.items():
        enterprise_user = sm.find_user(username=username)
        county, city = ("xiaodian", "taiyuan") if username == "qiye1" else ("pingcheng", "datong")
        reviewers = {"shanxi": sm.find_user(username="shanxi"), "county": sm.find_user(username=county),
                     "city": sm.find_user(username=city)}
        mines = _workflow_mines(enterprise_user.enterprise, _WORKFLOW_MINE_SERIALS[username])
        for mine, (pre_steps, application_steps) in zip(mines, plans):
            exists = db.session.scalars(
                select(PreDeclaration).where(PreDeclaration.mine_id == mine.id, PreDeclaration.year == year)
            ).first()
            if exists is not None:
                continue
            record = predeclarations.create(enterprise_user, mine, year)
            if pre_steps:
                _attach_checklist_photos(record, enterprise_user)
            _walk(record, pre_steps, enterprise_user, reviewers)
            if application_steps is None:
                continue
            application = applications.create_from_predeclaration(enterprise_user, record)
            _complete_application(application, enterprise_user)
            _walk(db.session.get(Application, application.id), application_steps, enterprise_user, reviewers)
    _demo_zone(sm.find_user(username="xiaodian"), year)


def _demo_zone(county_user, year: int) -> None:
    """A demonstration-zone application of 小店区, submitted to 太原市 (E8)."""
    from app.models import DemoZoneApplication

    name = "小店区绿色矿业发展示范区（演示）"
    if db.session.scalars(select(DemoZoneApplication).where(DemoZoneApplication.name == name)).first() is not None:
        return
    zone = DemoZoneApplication(name=name, year=year, plan_summary="（演示文本）三年建设方案：矿区生态修复、资源综合利用与数字化矿山建设。")
    from app.services import demozones

    demozones.record_rule(zone, county_user, "edit")
    db.session.add(zone)
    db.session.commit()
    workflow.transition(zone, "submit", county_user)


# Spot checks (H1-H6): the province's inspector pool, a drawn campaign whose record was filled
# in, submitted, confirmed by each member and retained; a self-check and a problem lead.
_DEMO_INSPECTORS = (
    # username, name, home county, unit, title, title grade, admin rank
    ("hecha", "核查组长甲（演示）", "140181", "太原市自然资源局（演示）", "高级工程师", "deputy_senior", "section"),
    ("hecha2", "核查员乙（演示）", "140121", "山西省矿产资源调查监测中心（演示）", "工程师", "intermediate", "none"),
    ("hecha3", "核查员丙（演示）", "140226", "大同市自然资源局（演示）", "工程师", "intermediate", "none"),
)
# The record's findings: 无 where an area has none (not a problem in the report); the opinions
# and the rectification ordered follow from the findings.
_AREA_NOTES = {
    "area_environment": "排土场局部未复绿；矿区道路局部扬尘，洒水频次不足。",
    "area_development": "无",
    "area_utilization": "废石综合利用台账不完整。",
    "area_energy": "无",
    "area_innovation": "无",
    "area_management": "绿色矿山宣传栏信息未更新。",
}


def _spot_checks(year: int) -> None:
    from app.models import DirectoryEntry, Inspector, Mine, ProblemLead, SelfCheck, SpotCheckCampaign
    from app.services import selfchecks, spotchecks

    sm = current_app.appbuilder.sm
    province = sm.find_user(username="shanxi")
    title = f"{year}年度山西省绿色矿山实地抽查核查（演示）"
    if db.session.scalars(select(SpotCheckCampaign).where(SpotCheckCampaign.title == title)).first() is not None:
        return
    for username, name, county, unit, title_text, grade, rank in _DEMO_INSPECTORS:
        account = sm.find_user(username=username)
        inspector = Inspector(user_id=account.id, name=name, home_region_code=county, unit=unit, title=title_text,
                              title_grade=grade, admin_rank=rank, active=True)
        spotchecks.inspector_rule(inspector, province, "edit")
        db.session.add(inspector)
    campaign = SpotCheckCampaign(year=year, title=title, ratio=0.2, team_size=3, team_count=1)
    spotchecks.campaign_rule(campaign, province, "edit")
    db.session.add(campaign)
    db.session.commit()
    workflow.transition(campaign, "draw", province, "演示：按20%比例随机抽取")
    for check in campaign.checks:
        leader = check.team.leader.user
        for column, text in _AREA_NOTES.items():
            setattr(check, column, text)
        check.opinions = ("排土场局部未复绿，限期整改；加强矿区扬尘治理，完善废石综合利用台账，"
                          "及时更新绿色矿山宣传栏。")
        check.conforms = False
        check.checked_on = clock.today()
        spotchecks.check_rule(check, leader, "edit")
        db.session.commit()
        workflow.transition(check, "submit_record", leader)
        for member in check.team.members:
            spotchecks.confirm(check, member.inspector.user)
        # H5: rectification with a deadline, the team's re-check confirmed by every member, then
        # the organiser retains the mine.
        spotchecks.decide(check, "order_rectification", province, "演示：排土场复绿，限期整改",
                          rectify_deadline=(clock.today() + datetime.timedelta(days=60)).isoformat())
        check.recheck_on = clock.today()
        check.recheck_findings = "排土场已完成复绿（演示）。"
        check.recheck_conforms = True
        spotchecks.check_rule(check, leader, "edit")
        db.session.commit()
        workflow.transition(check, "submit_recheck", leader)
        for member in check.team.members:
            spotchecks.confirm(check, member.inspector.user)
        spotchecks.decide(check, "pass_recheck", province, "演示：复查合格，予以保留")
    # The listed mine's enterprise files its self-check of the year.
    entry = db.session.scalars(select(DirectoryEntry).where(DirectoryEntry.status == "listed")
                               .order_by(DirectoryEntry.id)).first()
    if entry is not None:
        owner = db.session.scalars(select(sm.user_model).where(sm.user_model.enterprise_id == entry.enterprise_id)
                                   .order_by(sm.user_model.id)).first()
        if owner is not None:
            record = SelfCheck(mine_id=entry.mine_id, year=year, achievements="完成矿区复绿2.3公顷（演示）。",
                               problems="部分台账不完整（演示）。", measures="年底前补齐台账（演示）。",
                               **_AREA_NOTES)
            selfchecks.self_check_rule(record, owner, "edit")
            db.session.add(record)
            db.session.commit()
            workflow.transition(record, "submit", owner)
    county = sm.find_user(username="xiaodian")
    mine = db.session.scalars(select(Mine).where(Mine.region_code == "140105").order_by(Mine.id)).first()
    if mine is not None:
        lead = ProblemLead(mine_id=mine.id, received_on=clock.today(), source="群众来信（演示）",
                           content="反映矿区夜间作业噪声扰民（演示）。")
        selfchecks.problem_lead_rule(lead, county, "edit")
        db.session.add(lead)
        db.session.commit()


def _score_share(record, user, source: str, share: float) -> None:
    """Every item of the record's catalogue scored at ``share`` of its points."""
    from app.models import IndicatorItem
    from app.services import evaluation

    version = evaluation.version_for(record)
    items = db.session.scalars(select(IndicatorItem).where(IndicatorItem.version_id == version.id,
                                                           IndicatorItem.level == 3)).all()
    evaluation.save_scores(record, user, source, {item.id: round((item.points or 0) * share, 2) for item in items})


# The demo project team (synthetic names and registration numbers).
_DEMO_TEAM = (
    ("演示审查员甲", "leader", "2099-N1GM-0000001", "绿色矿山认证中心（演示）", "采矿工程"),
    ("演示审查员乙", "auditor", "2099-N1GM-0000002", "绿色矿山认证中心（演示）", "环境工程"),
    ("演示专家丙", "expert", None, "演示矿业大学", "矿山生态修复"),
)


def _certifications() -> None:
    """Certification (G1-G4) for 小店区's demo enterprise: one mine certified AAAAA with a planned
    surveillance audit, one under evaluation with its project team (the clock running), one
    submitted and awaiting acceptance."""
    from app.models import CertificationApplication, CertificationCertificate, Mine, SurveillanceAudit
    from app.models.application import SITUATION_AREAS
    from app.models.certification import CERTIFICATION_CONDITIONS
    from app.services import certification, evaluation, surveillance

    sm = current_app.appbuilder.sm
    body = _certification_body()
    if db.session.scalars(select(CertificationApplication).where(CertificationApplication.body_id == body.id)).first():
        return
    owner = sm.find_user(username="qiye1")
    certifier = sm.find_user(username="renzheng")
    mines = db.session.scalars(select(Mine).where(Mine.enterprise_id == owner.enterprise_id).order_by(Mine.id)).all()
    for mine, goal in zip(mines, ("certified", "under_evaluation", "submitted")):
        record = certification.create(owner, mine.id, body.id)
        record.legal_representative = record.legal_representative or "演示法人"
        record.contact_person = record.contact_person or "演示联系人"
        record.mobile = record.mobile or "13800009999"
        for name in CERTIFICATION_CONDITIONS:
            setattr(record, name, True)
        for name in SITUATION_AREAS:
            setattr(record, name, "（演示文本）对照绿色矿山建设规范，简要介绍本方面的成效与亮点。")
        db.session.commit()
        _score_share(record, owner, evaluation.SELF, 0.92)
        _attach_pdf("CertificationApplication", record.id, "self_evaluation_report", "认证自评估报告（演示）.pdf", owner)
        _attach_pdf("CertificationApplication", record.id, "atlas", "绿色矿山工作图册（演示）.pdf", owner)
        _attach_pdf("CertificationApplication", record.id, "supporting", "采矿许可证（演示）.pdf", owner)
        workflow.transition(record, "submit", owner)
        if goal == "submitted":
            continue
        workflow.transition(record, "accept", certifier, "演示：材料齐全，正式受理")
        for name, team_role, registration_no, unit, specialty in _DEMO_TEAM:
            certification.add_member(record, certifier, name, team_role, registration_no, unit, specialty)
        if goal == "under_evaluation":
            continue
        _score_share(record, certifier, evaluation.CERTIFIER, 0.95)
        _attach_pdf("CertificationEvaluation", record.id, "evaluation_report", "认证评估报告（演示）.pdf", certifier)
        share = evaluation.summarize(record, evaluation.CERTIFIER).share
        workflow.transition(record, "certify", certifier,
                            f"演示：现场评估通过，得分率{share:g}%，达到{surveillance.grade_for(share)}级")
        certificate = db.session.scalars(select(CertificationCertificate)
                                         .where(CertificationCertificate.certification_id == record.id)).first()
        if certificate is not None:
            audit = SurveillanceAudit(certificate_id=certificate.id,
                                      planned_on=certificate.valid_from + datetime.timedelta(days=330))
            surveillance.audit_rule(audit, certifier, "edit")
            db.session.add(audit)
            db.session.commit()


# Notices (SPEC A6): one for the whole country, one for 山西省, one for 太原市, each with a
# synthetic PDF attachment. (publisher, title, days ago, text, attachment name)
_DEMO_NOTICES = (
    ("national", "关于做好{year}年度绿色矿山遴选工作的通知（演示）", 40,
     "各省级自然资源主管部门：请按照绿色矿山评价指标组织本地区{year}年度绿色矿山遴选工作，"
     "遴选结果于年底前报送。具体要求见附件。（演示文本）",
     "绿色矿山遴选工作要求（演示）.pdf"),
    ("shanxi", "山西省{year}年度省级绿色矿山申报工作安排（演示）", 30,
     "各市规划和自然资源局：{year}年度省级绿色矿山申报工作已启动，请组织辖区内矿山企业按时提交"
     "预申报和申报材料。申报材料清单见附件。（演示文本）",
     "省级绿色矿山申报材料清单（演示）.pdf"),
    ("taiyuan", "太原市绿色矿山实地核查工作提醒（演示）", 5,
     "各县（市、区）自然资源局：请督促已入选名录的矿山做好实地核查准备，核查日程见附件。（演示文本）",
     "实地核查工作日程（演示）.pdf"),
)


def _notice_pdf(title: str, body: str) -> bytes:
    """A one-page synthetic PDF carrying the notice's title and text (Chinese, embedded font)."""
    from html import escape

    from app.services import pdf

    font = pdf.font_context()
    html = (f'<html><head><meta charset="utf-8"><style>@font-face {{ font-family: {font["font_family"]}; '
            f'src: url("{font["font_file"]}"); }} body {{ font-family: {font["font_family"]}; font-size: 12pt; '
            f'-pdf-word-wrap: CJK; }} h1 {{ font-size: 18pt; text-align: center; }}</style></head><body>'
            f"<h1>{escape(title)}</h1><p>{escape(body)}</p><p>（演示附件，内容为虚构）</p></body></html>")
    return pdf.render(html, "demo notice attachment")


def _notices(year: int) -> None:
    import io

    from werkzeug.datastructures import FileStorage

    from app.models import Notice
    from app.services import notices, uploads

    sm = current_app.appbuilder.sm
    for username, title, days_ago, body, attachment in _DEMO_NOTICES:
        title, body = title.format(year=year), body.format(year=year)
        if db.session.scalars(select(Notice).where(Notice.title == title)).first() is not None:
            continue
        author = sm.find_user(username=username)
        notice = Notice(title=title, body=body, publish_date=clock.today() - datetime.timedelta(days=days_ago))
        notices.record_rule(notice, author, "edit")
        db.session.add(notice)
        db.session.commit()
        uploads.attach("Notice", notice.id, "document",
                       FileStorage(stream=io.BytesIO(_notice_pdf(title, body)), filename=attachment), author)


# The province's own indicator table of the demo (issue 19.7): demonstration content, made from the
# national 2020 catalogue's file, never an official text.
DEMO_PROVINCE_CATALOGUE = {
    "code": "shanxi-2026-demo",
    "name": "山西省绿色矿山评价指标（演示内容）",
    "source": "演示内容：由国家2020年版指标体系导出后改名生成，并非山西省正式发布的指标表。",
}


def _province_catalogue() -> None:
    """山西省 imports its own table through the import screens' service (not adopted: the demo's
    applications are scored against the national catalogue)."""
    import io

    from openpyxl import load_workbook

    from app.models import IndicatorVersion
    from app.services import catalogue_excel

    if db.session.scalar(select(IndicatorVersion.id).where(
            IndicatorVersion.code == DEMO_PROVINCE_CATALOGUE["code"])) is not None:
        return
    national = db.session.scalars(select(IndicatorVersion).where(
        IndicatorVersion.code == reference.INDICATOR_VERSION["code"])).one()
    book = load_workbook(io.BytesIO(catalogue_excel.export_version(national)))
    head = book[catalogue_excel.VERSION_SHEET]
    head["B1"], head["B2"], head["B6"] = (DEMO_PROVINCE_CATALOGUE["code"], DEMO_PROVINCE_CATALOGUE["name"],
                                          DEMO_PROVINCE_CATALOGUE["source"])
    buffer = io.BytesIO()
    book.save(buffer)
    province = current_app.appbuilder.sm.find_user(username="shanxi")
    report = catalogue_excel.import_version(buffer.getvalue(), province)
    if not report.ok:
        raise RuntimeError(f"the demo's provincial catalogue was refused: {report.errors[:3]}")


def seed_demo(year: int | None = None) -> dict[str, int]:
    """Build the demo set. Requires the reference data and the roles."""
    year = year or clock.today().year
    rng = random.Random(20261121)
    try:
        enterprises = _enterprises(rng)
        mines = _mines(enterprises)
        _registry_mines(random.Random(3), first_serial=1000)
        _agency()
        _certification_body()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    _users(enterprises)
    _workflows(year)
    _spot_checks(year)
    _certifications()
    _notices(year)
    _province_catalogue()
    from app.models import Enterprise, Mine

    return {
        "enterprises": db.session.scalar(select(db.func.count()).select_from(Enterprise)),
        "mines": db.session.scalar(select(db.func.count()).select_from(Mine)),
        "users": len(DEMO_USERS),
    }
