"""The demo data tells a true story (issue 18 point 9): the collective review's decisions follow
the agency's scores and say so, reviewers' comments agree with their steps, the spot check's
conclusion follows from its findings, the certification grade from the certifier's score; each
demo mine lies in its county; each demo enterprise user holds a certificate; the notices carry an
attachment; the README says how to serve the demo on another port."""
from __future__ import annotations

import csv
import math
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.services import demo

ROOT = Path(__file__).resolve().parent.parent
# Shanxi's extent (with a small margin), for the table of county centres.
SHANXI_LATITUDE, SHANXI_LONGITUDE = (34.5, 40.8), (110.1, 114.7)
# How far from its county's centre a demo mine may lie (the jitter is about 2 km either way).
MAX_KM_FROM_CENTRE = 4.0


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance on the ground between two (latitude, longitude) points, near enough for a few km."""
    north = (a[0] - b[0]) * 111.2
    east = (a[1] - b[1]) * 111.2 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(north, east)


def test_the_county_centres_cover_every_demo_county_and_lie_in_shanxi():
    centres = demo.county_centres()
    demo_counties = set(demo.REGISTRY_COUNTIES)
    assert set(centres) == demo_counties
    with open(ROOT / "app" / "data" / "regions.csv", encoding="utf-8") as handle:
        names = {row["code"]: row["name"] for row in csv.DictReader(handle)}
    with open(ROOT / "app" / "data" / "demo_county_centres.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            assert names[row["code"]] == row["name"], row
    for code, (latitude, longitude) in centres.items():
        assert SHANXI_LATITUDE[0] <= latitude <= SHANXI_LATITUDE[1], code
        assert SHANXI_LONGITUDE[0] <= longitude <= SHANXI_LONGITUDE[1], code
    assert (ROOT / "app" / "data" / "demo_county_centres.SOURCE.md").is_file()


def test_the_readme_says_how_to_serve_the_demo_on_another_port():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "gm demo --port" in readme


def test_the_demo_tells_a_true_story(app):
    from app.models import (
        Application,
        Attachment,
        Certificate,
        CertificationApplication,
        CertificationCertificate,
        Mine,
        Notice,
        ReviewDecision,
        SpotCheck,
        TransitionLog,
    )
    from app.services import evaluation, spotchecks, surveillance

    demo.seed_demo()
    db.session.commit()

    # The collective review passes exactly the applications the agency scored above the pass
    # rules, and its reasons say which way it went.
    decisions = list(db.session.scalars(select(ReviewDecision)))
    assert {d.decision for d in decisions} == {"pass", "fail"}
    for decision in decisions:
        summary = evaluation.summarize(db.session.get(Application, decision.application_id), evaluation.AGENCY)
        assert summary.passed is (decision.decision == "pass"), (decision.decision, summary.total)
        assert ("不通过" in decision.reasons) is (decision.decision == "fail"), decision.reasons
        assert f"{summary.total:g}分" in decision.reasons

    # A reviewer who refuses or returns does not write that the materials are complete.
    for log in db.session.scalars(select(TransitionLog).where(TransitionLog.action.in_(("reject", "return")))):
        assert log.comment and "齐全" not in log.comment and "通过" not in log.comment, log.comment

    # Every review decision of the county, the city and the province carries a Chinese opinion
    # that agrees with it (issue 19 point 2), and each application's page lists them.
    from app.services import workflow

    opinions = [log for log in db.session.scalars(select(TransitionLog).where(TransitionLog.workflow == "application"))
                if workflow.is_opinion(log)]
    assert {log.action for log in opinions} >= {"county_pass", "city_recommend", "province_accept", "return"}
    for log in opinions:
        assert log.comment and any("\u4e00" <= ch <= "\u9fff" for ch in log.comment), (log.action, log.comment)
        if log.action != "return":
            assert "同意" in log.comment or "受理" in log.comment, log.comment

    # The spot check ordered rectification because of findings, and the report counts only those.
    checks = list(db.session.scalars(select(SpotCheck)))
    assert checks
    for check in checks:
        found = spotchecks.findings_of(check)
        assert check.conforms is False and found
        assert all(text not in ("无", "") for text in found.values())

    # The certification grade is the one the certifier's score reaches.
    for record in db.session.scalars(select(CertificationApplication).where(
            CertificationApplication.status == "certified")):
        certificate = db.session.scalar(select(CertificationCertificate).where(
            CertificationCertificate.certification_id == record.id))
        share = evaluation.summarize(record, evaluation.CERTIFIER).share
        assert certificate.grade == surveillance.grade_for(share)

    # Every demo mine lies within a few km of its county's centre.
    centres = demo.county_centres()
    mines = list(db.session.scalars(select(Mine)))
    assert len(mines) > 300
    far = [(mine.name, mine.region_code) for mine in mines
           if mine.latitude is None or _km((mine.latitude, mine.longitude), centres[mine.region_code])
           > MAX_KM_FROM_CENTRE]
    assert far == []

    # Each demo enterprise user holds at least one directory certificate.
    sm = app.appbuilder.sm
    for user in (sm.find_user(username=d.username) for d in demo.DEMO_USERS if d.role == "enterprise"):
        held = db.session.scalar(select(db.func.count()).select_from(Certificate)
                                 .where(Certificate.enterprise_id == user.enterprise_id))
        assert held >= 1, user.username

    # 山西省 imported its own table, marked as demonstration content, through the import service.
    from app.models import IndicatorVersion
    from tests.test_catalogue_excel import remove_imported_versions

    own = db.session.scalars(select(IndicatorVersion).where(
        IndicatorVersion.code == demo.DEMO_PROVINCE_CATALOGUE["code"])).one()
    assert own.province_code == "140000" and "演示" in own.name and "并非" in own.source
    assert len(own.items) == 130
    remove_imported_versions()

    # Two or three notices, each with a (real, one-page) PDF attachment.
    notices = list(db.session.scalars(select(Notice)))
    assert 2 <= len(notices) <= 3
    for notice in notices:
        attachments = db.session.scalars(select(Attachment).where(Attachment.owner_type == "Notice",
                                                                  Attachment.owner_id == notice.id)).all()
        assert [a.kind for a in attachments] == ["pdf"], notice.title
        assert attachments[0].original_name.endswith(".pdf") and attachments[0].size_bytes > 1000
