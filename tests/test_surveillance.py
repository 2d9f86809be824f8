"""Grades, certification certificates, surveillance audits and their public verification (SPEC G3,
G4, F3): grading at the thresholds, certify (the numbered certificate, its validity, the
refusals), each surveillance outcome and its refusals, the missing-audit flag, the renewal notice,
the public page and list, scope, and REST parity."""
from __future__ import annotations

import datetime
import io
import itertools
from types import SimpleNamespace

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app import clock
from app.extensions import db
from app.models import CertificationApplication, CertificationCertificate, CertificationTeamMember, SurveillanceAudit
from app.models.audit import AuditEntry
from app.services import certificates, surveillance, uploads, workflow
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed

TODAY = clock.today()
DAY = datetime.timedelta(days=1)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
CONTACT_DATA = {"legal_representative": "欧阳法人", "contact_person": "司马联系", "mobile": "13912345678",
                "phone": "0351-7654321", "email": "secret@mine.invalid"}
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _english_messages():
    """The refusals are matched by their English words here (the zh ones are checked where named)."""
    with force_locale("en"):
        yield


def zh(text: str) -> str:
    with force_locale("zh"):
        return gettext(text)


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------
def _force_status(record, status: str) -> None:
    """Test shortcut: certapp's steps to reach a state (materials, submission, acceptance) are
    tested in its own test file; here the status is written inside the workflow's own guard."""
    with workflow._status_writes_allowed(db.session):
        record.status = status
        db.session.commit()


def make_certification(mine, body, status: str = "under_evaluation", kind: str = "initial",
                       previous=None, team: bool = True) -> CertificationApplication:
    enterprise = mine.enterprise
    record = CertificationApplication(
        mine_id=mine.id, enterprise_id=enterprise.id, region_code=mine.region_code, body_id=body.id, kind=kind,
        previous_certificate_id=previous.id if previous is not None else None,
        enterprise_name=enterprise.name, mine_name=mine.name, licence_no=mine.licence_no, uscc=enterprise.uscc,
        mineral_name=mine.mineral.name if mine.mineral else None, accepted_on=TODAY,
        mobile="13900000000", email="contact@mine.invalid",
    )
    db.session.add(record)
    db.session.commit()
    if team:
        db.session.add_all([
            CertificationTeamMember(certification_id=record.id, name="组长", team_role="leader",
                                    registration_no="CCAA-2024-001"),
            CertificationTeamMember(certification_id=record.id, name="专家", team_role="expert"),
        ])
        db.session.commit()
    if status != "draft":
        _force_status(record, status)
    return record


def upload_report(record, certifier) -> None:
    uploads.attach("CertificationEvaluation", record.id, "evaluation_report",
                   FileStorage(stream=io.BytesIO(PDF), filename="evaluation.pdf", content_type="application/pdf"),
                   certifier)


def fake_scores(monkeypatch, total: float, maximum: float = 1000.0, failures=()) -> None:
    """The certifier's summary as the scoring helper would give it (its own tests cover it)."""
    from app.services import evaluation

    summary = SimpleNamespace(total=total, maximum=maximum, failures=list(failures), complete=True)
    monkeypatch.setattr(evaluation, "summarize", lambda record, source, tree=None: summary)
    monkeypatch.setattr(evaluation, "check_sheet_complete", lambda record, source: None)


def make_certificate(mine, body, grade: str = "AAAA", valid_from: datetime.date | None = None,
                     certifier=None) -> CertificationCertificate:
    """A certificate as ``certify`` issues it, dated from ``valid_from`` (default today)."""
    record = make_certification(mine, body, status="certified", team=False)
    certificate = surveillance.issue(record, grade)
    if valid_from is not None:
        certificate.valid_from = certificate.issued_on = valid_from
        certificate.valid_until = certificates.last_valid_day(valid_from, 3)
    db.session.commit()
    return certificate


@pytest.fixture
def setting(make_certification_body, make_user, make_mine, make_enterprise):
    body = make_certification_body("晋认证中心")
    other_body = make_certification_body("秦认证中心")
    enterprise = make_enterprise("140105", name="晋阳认证矿业有限公司", **CONTACT_DATA)
    mine = make_mine("140105", enterprise=enterprise, name="晋阳认证示范煤矿")
    return SimpleNamespace(
        body=body, other_body=other_body, enterprise=enterprise, mine=mine,
        certifier=make_user("certifier", certification_body_id=body.id),
        other_certifier=make_user("certifier", certification_body_id=other_body.id),
        owner=make_user("enterprise", enterprise=enterprise),
        stranger=make_user("enterprise", enterprise=make_enterprise("140105")),
        national=make_user("national"),
    )


def plan_audit(certificate, certifier, share=None, audit_on=TODAY, findings="现场核查，运行良好") -> SurveillanceAudit:
    audit = SurveillanceAudit(certificate=certificate, audit_on=audit_on, findings=findings, score_share=share)
    surveillance.audit_rule(audit, certifier, "edit")
    db.session.add(audit)
    db.session.commit()
    return audit


# ---------------------------------------------------------------------------
# Grades (G3)
# ---------------------------------------------------------------------------
def test_grades_at_the_thresholds():
    assert surveillance.thresholds() == [("AAAAA", 90.0), ("AAAA", 80.0)]
    assert surveillance.grade_for(100) == "AAAAA"
    assert surveillance.grade_for(90.0) == "AAAAA"
    assert surveillance.grade_for(89.99) == "AAAA"
    assert surveillance.grade_for(80) == "AAAA"
    assert surveillance.grade_for(79.99) is None
    assert surveillance.grade_for(None) is None
    # The share: total / maximum * 100, two decimals.
    assert surveillance.share_of(SimpleNamespace(total=899.95, maximum=1000)) == 90.0
    assert surveillance.share_of(SimpleNamespace(total=899.94, maximum=1000)) == 89.99
    assert surveillance.share_of(SimpleNamespace(total=85, maximum=100)) == 85.0
    assert surveillance.share_of(SimpleNamespace(total=0, maximum=0)) is None


def test_custom_thresholds_come_from_the_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "CERTIFICATION_GRADE_THRESHOLDS", (("AAAAA", 95), ("AAAA", 70.5)))
    assert surveillance.grade_for(95) == "AAAAA"
    assert surveillance.grade_for(94.99) == "AAAA"
    assert surveillance.grade_for(70.5) == "AAAA"
    assert surveillance.grade_for(70.49) is None
    monkeypatch.setitem(app.config, "CERTIFICATION_GRADE_THRESHOLDS", [["AAAAA", 85]])
    assert surveillance.grade_for(85) == "AAAAA" and surveillance.grade_for(84.99) is None


@pytest.mark.parametrize("bad", [
    (("AAAAAA", 90), ("AAAA", 80)),   # unknown grade
    (("AAAAA", 120), ("AAAA", 80)),   # above 100
    (("AAAAA", 90), ("AAAA", -1)),    # below 0
    (("AAAA", 80), ("AAAAA", 90)),    # increasing
    (("AAAAA", 80), ("AAAA", 80)),    # not strictly decreasing
    (("AAAAA", 90), ("AAAAA", 80)),   # twice
    (("AAAAA", True),),               # not a number
    (("AAAAA", "90"),),               # not a number
    (("AAAAA",),),                    # not a pair
    (),                               # no grade
    90,                               # not a list
])
def test_bad_thresholds_are_a_clear_error_at_use(app, monkeypatch, bad):
    monkeypatch.setitem(app.config, "CERTIFICATION_GRADE_THRESHOLDS", bad)
    with pytest.raises(surveillance.ThresholdSettingInvalid, match="CERTIFICATION_GRADE_THRESHOLDS"):
        surveillance.grade_for(85)


# ---------------------------------------------------------------------------
# Certify
# ---------------------------------------------------------------------------
def test_certify_issues_a_numbered_certificate_with_grade_and_three_years(setting, make_mine, monkeypatch):
    fake_scores(monkeypatch, 912.345)
    record = make_certification(setting.mine, setting.body)
    upload_report(record, setting.certifier)
    workflow.transition(record, "certify", setting.certifier, "认证通过")
    assert record.status == "certified"
    assert (record.score, record.score_share, record.grade) == (912.345, 91.23, "AAAAA")
    assert record.finished_on == TODAY and record.decided_at is not None and record.decision_comment == "认证通过"
    certificate = db.session.scalar(select(CertificationCertificate)
                                    .where(CertificationCertificate.certification_id == record.id))
    assert certificate.number == f"GMC-{TODAY.year}-00001"
    assert certificate.grade == "AAAAA" and certificate.status == "valid"
    assert certificate.issued_on == certificate.valid_from == TODAY
    assert certificate.valid_until == certificates.add_years(TODAY, 3) - DAY
    assert (certificate.mine_name, certificate.enterprise_name, certificate.mineral_name) == (
        "晋阳认证示范煤矿", "晋阳认证矿业有限公司", "煤")
    assert (certificate.mine_id, certificate.enterprise_id, certificate.body_id, certificate.region_code) == (
        record.mine_id, record.enterprise_id, record.body_id, "140105")
    assert surveillance.validity(certificate) == "valid"

    # The sequence goes on within the year, and starts again the next year.
    fake_scores(monkeypatch, 850)
    second = make_certification(make_mine("140105"), setting.body)
    upload_report(second, setting.certifier)
    workflow.transition(second, "certify", setting.certifier)
    assert second.grade == "AAAA"
    assert db.session.scalar(select(CertificationCertificate.number).where(
        CertificationCertificate.certification_id == second.id)) == f"GMC-{TODAY.year}-00002"
    next_year = datetime.date(TODAY.year + 1, 1, 2)
    monkeypatch.setattr(surveillance, "_today", lambda: next_year)
    third = make_certification(make_mine("140105"), setting.body)
    upload_report(third, setting.certifier)
    workflow.transition(third, "certify", setting.certifier)
    issued = db.session.scalar(select(CertificationCertificate).where(
        CertificationCertificate.certification_id == third.id))
    assert issued.number == f"GMC-{TODAY.year + 1}-00001" and issued.valid_from == next_year


def test_a_renewal_starts_the_day_after_the_old_certificate_ends(setting, monkeypatch):
    fake_scores(monkeypatch, 880)
    old = make_certificate(setting.mine, setting.body, valid_from=TODAY - datetime.timedelta(days=1000))
    assert old.valid_until > TODAY
    renewal = make_certification(setting.mine, setting.body, kind="renewal", previous=old)
    upload_report(renewal, setting.certifier)
    workflow.transition(renewal, "certify", setting.certifier)
    new = db.session.scalar(select(CertificationCertificate).where(
        CertificationCertificate.certification_id == renewal.id))
    assert new.issued_on == TODAY
    assert new.valid_from == old.valid_until + DAY
    assert new.valid_until == certificates.add_years(new.valid_from, 3) - DAY
    assert surveillance.validity(new) == "not_yet_valid"

    # The previous one has ended: the renewal is valid from its day of issue.
    expired = make_certificate(setting.mine, setting.body, valid_from=TODAY - datetime.timedelta(days=1200))
    assert expired.valid_until < TODAY
    late = make_certification(setting.mine, setting.body, kind="renewal", previous=expired)
    upload_report(late, setting.certifier)
    workflow.transition(late, "certify", setting.certifier)
    issued = db.session.scalar(select(CertificationCertificate).where(
        CertificationCertificate.certification_id == late.id))
    assert issued.valid_from == TODAY


def _refused(record, certifier) -> str:
    with pytest.raises(TransitionRefused) as refusal:
        workflow.transition(record, "certify", certifier)
    db.session.refresh(record)
    assert record.status == "under_evaluation"
    assert db.session.scalar(select(CertificationCertificate.id).where(
        CertificationCertificate.certification_id == record.id)) is None
    return str(refusal.value)


def test_certify_is_refused_below_aaaa_without_team_or_report(setting, make_mine, monkeypatch):
    fake_scores(monkeypatch, 799.9)
    record = make_certification(setting.mine, setting.body)
    upload_report(record, setting.certifier)
    message = _refused(record, setting.certifier)
    assert "79.99" in message and "AAAA" in message
    assert workflow.action_label("certification", "refuse") in message
    with force_locale("zh"):
        message = _refused(record, setting.certifier)
        assert "不予认证" in message or zh("Do not certify") in message
    # Below the catalogue's own pass rules.
    fake_scores(monkeypatch, 950, failures=["矿区环境：低于75%"])
    assert "矿区环境" in _refused(record, setting.certifier)

    fake_scores(monkeypatch, 950)
    no_team = make_certification(make_mine("140105"), setting.body, team=False)
    upload_report(no_team, setting.certifier)
    assert "team" in _refused(no_team, setting.certifier)
    no_report = make_certification(make_mine("140105"), setting.body)
    assert "report" in _refused(no_report, setting.certifier)
    # The right body's certifier only (the scope rule): another body's is refused.
    with pytest.raises(AccessDenied):
        workflow.transition(no_team, "certify", setting.other_certifier)


def test_certify_with_the_real_team_sheet_and_scores(setting):
    """The scoring and team helpers themselves: an incomplete sheet is refused; a sheet at 92 %
    of the maximum passes the 2020 rules and gives AAAAA."""
    from app.services import evaluation

    record = make_certification(setting.mine, setting.body)
    upload_report(record, setting.certifier)
    version = evaluation.version_for(record)
    if version is None:
        pytest.skip("no indicator catalogue loaded")
    leaves = evaluation.catalogue(version).leaves
    evaluation.save_scores(record, setting.certifier, evaluation.CERTIFIER,
                           {leaf.id: round((leaf.points or 0) * 0.92, 2) for leaf in leaves[:-1]})
    _refused(record, setting.certifier)
    evaluation.save_scores(record, setting.certifier, evaluation.CERTIFIER,
                           {leaf.id: round((leaf.points or 0) * 0.92, 2) for leaf in leaves})
    workflow.transition(record, "certify", setting.certifier)
    assert record.status == "certified" and record.grade == "AAAAA"
    assert record.score_share == pytest.approx(92.0, abs=0.05)


# ---------------------------------------------------------------------------
# Surveillance outcomes (G4)
# ---------------------------------------------------------------------------
def test_maintain_upgrade_downgrade_change_the_grade(setting, make_mine):
    certificate = make_certificate(setting.mine, setting.body, grade="AAAA")
    maintained = plan_audit(certificate, setting.certifier, share=85)
    workflow.transition(maintained, "maintain", setting.certifier, "保持")
    assert maintained.status == "maintained"
    assert (maintained.grade_before, maintained.grade_after) == ("AAAA", "AAAA")
    assert maintained.decided_at is not None and maintained.decision_comment == "保持"

    upgraded = plan_audit(certificate, setting.certifier, share=90)
    workflow.transition(upgraded, "upgrade", setting.certifier)
    db.session.refresh(certificate)
    assert upgraded.status == "upgraded" and (upgraded.grade_before, upgraded.grade_after) == ("AAAA", "AAAAA")
    assert certificate.grade == "AAAAA"
    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.record_type == "CertificationCertificate",
                                                        AuditEntry.record_id == str(certificate.id))).all()
    assert any(entry.changes.get("grade") == ["AAAA", "AAAAA"] for entry in trail)

    downgraded = plan_audit(certificate, setting.certifier, share=89.99)
    workflow.transition(downgraded, "downgrade", setting.certifier, "降级")
    db.session.refresh(certificate)
    assert downgraded.status == "downgraded" and (downgraded.grade_before, downgraded.grade_after) == (
        "AAAAA", "AAAA")
    assert certificate.grade == "AAAA" and certificate.status == "valid"


def test_revoke_revokes_the_certificate_and_the_public_page_says_so(setting, browser, api):
    certificate = make_certificate(setting.mine, setting.body, grade="AAAAA")
    audit = plan_audit(certificate, setting.certifier, share=40)
    with pytest.raises(TransitionRefused):
        workflow.transition(audit, "revoke", setting.certifier)  # a comment is required
    workflow.transition(audit, "revoke", setting.certifier, "重大环保事故")
    db.session.refresh(certificate)
    assert audit.status == "revoked" and audit.grade_before == "AAAAA" and audit.grade_after is None
    assert certificate.status == "revoked" and certificate.revoked_on == TODAY
    assert certificate.decision_comment == "重大环保事故"
    assert [log.action for log in workflow.history(certificate)] == ["revoke"]
    assert surveillance.validity(certificate) == "revoked"
    # A revoked certificate stays revoked, whatever the dates.
    assert surveillance.validity(certificate, today=certificate.valid_from - DAY) == "revoked"
    page = browser().get(f"/public/certificate/{certificate.number}").get_data(as_text=True)
    assert zh("Revoked") in page and TODAY.isoformat() in page
    body = api().get(f"/public/api/certificate/{certificate.number}").get_json()
    assert body["status"] == "revoked" and body["revoked_on"] == TODAY.isoformat()
    # No more outcome on a revoked certificate's audits.
    later = SurveillanceAudit(certificate_id=certificate.id, audit_on=TODAY, findings="x", score_share=95)
    with pytest.raises(ValidationFailed):
        surveillance.audit_rule(later, setting.certifier, "edit")


def test_outcome_refusals_name_what_is_wrong(setting, make_mine):
    top = make_certificate(setting.mine, setting.body, grade="AAAAA")
    audit = plan_audit(top, setting.certifier, share=95)
    with pytest.raises(TransitionRefused, match="highest grade"):
        workflow.transition(audit, "upgrade", setting.certifier)
    with pytest.raises(TransitionRefused, match="still reaches AAAAA"):
        workflow.transition(audit, "downgrade", setting.certifier, "x")
    low = plan_audit(top, setting.certifier, share=85)
    with pytest.raises(TransitionRefused, match=r"The share 85 does not reach AAAAA \(90\)"):
        workflow.transition(low, "maintain", setting.certifier)
    too_low = plan_audit(top, setting.certifier, share=79)
    with pytest.raises(TransitionRefused, match=r"79 does not reach AAAA \(80\)"):
        workflow.transition(too_low, "downgrade", setting.certifier, "x")

    four = make_certificate(make_mine("140105"), setting.body, grade="AAAA")
    audit = plan_audit(four, setting.certifier, share=70)
    with pytest.raises(TransitionRefused, match="lowest grade"):
        workflow.transition(audit, "downgrade", setting.certifier, "x")
    with pytest.raises(TransitionRefused, match=r"70 does not reach AAAAA \(90\)"):
        workflow.transition(audit, "upgrade", setting.certifier)
    with pytest.raises(TransitionRefused, match=r"70 does not reach AAAA \(80\)"):
        workflow.transition(audit, "maintain", setting.certifier)
    # Day, findings and share are needed for any outcome, a revocation too.
    bare = plan_audit(four, setting.certifier, share=None, audit_on=None, findings=None)
    for action in ("maintain", "revoke"):
        with pytest.raises(TransitionRefused, match="findings"):
            workflow.transition(bare, action, setting.certifier, "x")
    assert db.session.get(SurveillanceAudit, bare.id).status == "planned"
    # Only a certifier acts; of the right body.
    with pytest.raises(AccessDenied):
        workflow.transition(audit, "revoke", setting.other_certifier, "x")
    with pytest.raises(AccessDenied):
        workflow.transition(audit, "revoke", setting.owner, "x")


def test_the_audit_rule(setting, make_mine, monkeypatch):
    certificate = make_certificate(setting.mine, setting.body, grade="AAAA",
                                   valid_from=TODAY - datetime.timedelta(days=100))

    def rule(user=setting.certifier, **fields):
        audit = SurveillanceAudit(**dict(dict(certificate_id=certificate.id), **fields))
        try:
            surveillance.audit_rule(audit, user, "edit")
        finally:
            # The rule links the audit to its certificate; nothing of it is to be saved here.
            db.session.rollback()
        return audit

    assert rule(audit_on=TODAY, score_share=86.456).score_share == 86.46
    with pytest.raises(ValidationFailed, match="future"):
        rule(audit_on=TODAY + DAY)
    with pytest.raises(ValidationFailed, match="validity"):
        rule(audit_on=certificate.valid_from - DAY)
    for share in (-1, 100.01, True, float("nan")):
        with pytest.raises(ValidationFailed):
            rule(score_share=share)
    with pytest.raises(ValidationFailed):
        rule(grade_after="AAAAA")
    with pytest.raises(ValidationFailed, match="certificate"):
        surveillance.audit_rule(SurveillanceAudit(), setting.certifier, "edit")
    with pytest.raises(AccessDenied):
        rule(user=setting.other_certifier)
    with pytest.raises(AccessDenied):
        rule(user=setting.owner)
    # Only a valid certificate is audited (expired, not yet valid).
    monkeypatch.setattr(surveillance, "_today", lambda: certificate.valid_until + DAY)
    with pytest.raises(ValidationFailed, match="valid certificate"):
        rule()
    monkeypatch.undo()
    # Editable while planned only; the certificate never changes.
    audit = plan_audit(certificate, setting.certifier, share=85)
    other = make_certificate(make_mine("140105"), setting.body)
    audit.certificate = other
    with pytest.raises(ValidationFailed):
        surveillance.audit_rule(audit, setting.certifier, "edit")
    db.session.rollback()
    workflow.transition(audit, "maintain", setting.certifier)
    audit.findings = "改了"
    with pytest.raises(ValidationFailed, match="planned"):
        surveillance.audit_rule(audit, setting.certifier, "edit")
    db.session.rollback()


# ---------------------------------------------------------------------------
# Missing audits, renewal
# ---------------------------------------------------------------------------
def test_a_certificate_year_without_a_decided_audit_is_flagged(setting, make_mine, monkeypatch, browser):
    start = datetime.date(TODAY.year - 1, 1, 10)
    certificate = make_certificate(setting.mine, setting.body, valid_from=start)
    in_year_one = datetime.date(TODAY.year - 1, 6, 1)
    end_of_year_one = datetime.date(TODAY.year, 1, 9)

    monkeypatch.setattr(surveillance, "_today", lambda: end_of_year_one)
    assert surveillance.audit_flags(certificate) == []
    assert surveillance.audit_due(certificate).year == 1
    assert surveillance.missing_audit_count(setting.certifier) == 0
    monkeypatch.setattr(surveillance, "_today", lambda: end_of_year_one + DAY)
    flags = surveillance.audit_flags(certificate)
    assert [(f.year, f.start, f.end) for f in flags] == [(1, start, end_of_year_one)]
    assert surveillance.audit_due(certificate).year == 2
    assert surveillance.missing_audit_count(setting.certifier) == 1
    assert surveillance.missing_audit_count(setting.owner) == 1
    assert surveillance.missing_audit_count(setting.other_certifier) == 0
    if TODAY > end_of_year_one:
        page = browser(setting.certifier).get(f"/certificationcertificateview/show/{certificate.id}")
        assert page.status_code == 200 and "gm-audit-missing" in page.get_data(as_text=True)

    # A planned audit does not count; a decided one dated in the year does.
    audit = SurveillanceAudit(certificate_id=certificate.id, audit_on=in_year_one, findings="良好", score_share=85)
    db.session.add(audit)
    db.session.commit()
    assert len(surveillance.audit_flags(certificate)) == 1
    monkeypatch.setattr(surveillance, "_today", lambda: TODAY)
    workflow.transition(audit, "maintain", setting.certifier)
    monkeypatch.setattr(surveillance, "_today", lambda: end_of_year_one + DAY)
    db.session.refresh(certificate)
    assert surveillance.audit_flags(certificate) == []
    assert surveillance.missing_audit_count(setting.certifier) == 0

    # Revoked before a year ended: that year is not missing.
    other = make_certificate(make_mine("140105"), setting.body, valid_from=start)
    other_audit = plan_audit(other, setting.certifier, share=30, audit_on=start + DAY)
    monkeypatch.setattr(surveillance, "_today", lambda: start + DAY)
    workflow.transition(other_audit, "revoke", setting.certifier, "撤销")
    monkeypatch.setattr(surveillance, "_today", lambda: certificates.add_years(start, 3))
    db.session.refresh(other)
    assert surveillance.audit_flags(other) == []


def test_renewal_due_window(setting, app):
    notice = app.config["CERTIFICATION_RENEWAL_NOTICE_DAYS"]
    certificate = make_certificate(setting.mine, setting.body)
    days_left = (certificate.valid_until - TODAY).days
    assert not surveillance.renewal_due(certificate)
    assert not surveillance.renewal_due(certificate, certificate.valid_until - datetime.timedelta(days=notice + 1))
    assert surveillance.renewal_due(certificate, certificate.valid_until - datetime.timedelta(days=notice))
    assert surveillance.renewal_due(certificate, certificate.valid_until)
    assert not surveillance.renewal_due(certificate, certificate.valid_until + DAY)  # expired
    assert days_left > notice
    near = certificate.valid_until - DAY
    # A re-evaluation under way (or certified) ends the notice; one refused does not.
    renewal = make_certification(setting.mine, setting.body, status="draft", kind="renewal", previous=certificate,
                                 team=False)
    assert not surveillance.renewal_due(certificate, near)
    _force_status(renewal, "not_certified")
    assert surveillance.renewal_due(certificate, near)
    _force_status(renewal, "certified")
    assert not surveillance.renewal_due(certificate, near)


# ---------------------------------------------------------------------------
# Public pages
# ---------------------------------------------------------------------------
def test_the_public_page_shows_grade_and_validity_and_no_contact_data(setting, browser, api, monkeypatch):
    certificate = make_certificate(setting.mine, setting.body, grade="AAAAA")
    page = browser().get(f"/public/certificate/{certificate.number}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="verification-grade">AAAAA<' in text and zh("Valid") in text
    assert "晋阳认证示范煤矿" in text and "晋认证中心" in text and certificate.valid_until.isoformat() in text
    body = api().get(f"/public/api/certificate/{certificate.number.lower()}").get_json()
    assert body["found"] is True and body["kind"] == "certification"
    assert set(body) == {"found", "kind", "number", "grade", "status", "status_label", "mine_name",
                         "enterprise_name", "province", "body", "issued_on", "valid_from", "valid_until",
                         "revoked_on"}
    assert body["grade"] == "AAAAA" and body["status"] == "valid" and body["province"] == "山西省"
    for secret in list(CONTACT_DATA.values()) + ["13900000000", "contact@mine.invalid"]:
        assert secret not in text and secret not in str(body)
    monkeypatch.setattr(surveillance, "_today", lambda: certificate.valid_until + DAY)
    assert api().get(f"/public/api/certificate/{certificate.number}").get_json()["status"] == "expired"
    monkeypatch.setattr(surveillance, "_today", lambda: certificate.valid_from - DAY)
    assert api().get(f"/public/api/certificate/{certificate.number}").get_json()["status"] == "not_yet_valid"
    assert zh("Not yet valid") in browser().get(f"/public/certificate/{certificate.number}").get_data(as_text=True)
    monkeypatch.undo()
    assert api().get(f"/public/api/certificate/GMC-{TODAY.year}-99999").status_code == 404
    assert browser().get("/public/certificate?number=GMC-x").status_code == 200


def test_the_public_list_shows_only_valid_certificates(setting, make_mine, make_enterprise, browser, api):
    five = make_certificate(setting.mine, setting.body, grade="AAAAA")
    four = make_certificate(make_mine("610102", name="秦岭认证金矿", mineral_name="金"), setting.body, grade="AAAA")
    expired = make_certificate(make_mine("140105", name="过期认证矿"), setting.body,
                               valid_from=TODAY - datetime.timedelta(days=1200))
    future = make_certificate(make_mine("140105", name="未生效认证矿"), setting.body)
    future.valid_from = TODAY + DAY
    db.session.commit()
    revoked = make_certificate(make_mine("140105", name="撤销认证矿"), setting.body, grade="AAAAA")
    audit = plan_audit(revoked, setting.certifier, share=10)
    workflow.transition(audit, "revoke", setting.certifier, "撤销")

    def numbers(query=""):
        body = api().get("/public/api/certifications" + query).get_json()
        return sorted(row["number"] for row in body["result"])

    assert numbers() == sorted([five.number, four.number])
    assert numbers("?grade=AAAA") == [four.number]
    assert numbers("?grade=aaaaa") == [five.number]
    assert numbers("?province=61") == [four.number]
    assert numbers("?name=晋阳") == [five.number]
    assert numbers("?grade=bogus&page=abc&size=0") == sorted([five.number, four.number])
    row = next(r for r in api().get("/public/api/certifications").get_json()["result"] if r["number"] == four.number)
    assert row["grade"] == "AAAA" and row["body"] == "晋认证中心" and row["province"] == "陕西省"
    assert row["valid_until"] == four.valid_until.isoformat()
    assert not set(row) & {"score", "score_share", "mobile", "email"}
    page = browser().get("/public/certifications")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "public, max-age=60"
    assert "晋阳认证示范煤矿" in text and "AAAAA" in text and expired.number not in text
    assert future.number not in text and revoked.number not in text
    for secret in CONTACT_DATA.values():
        assert secret not in text
    # Linked from the public navigation.
    assert "/public/certifications" in browser().get("/public/directory").get_data(as_text=True)


# ---------------------------------------------------------------------------
# Screens, scope, REST
# ---------------------------------------------------------------------------
def test_scope_of_certificates_and_audits(setting, make_mine, make_enterprise, browser, api):
    own = make_certificate(setting.mine, setting.body)
    elsewhere = make_certificate(make_mine("140105"), setting.other_body)
    audit = plan_audit(own, setting.certifier, share=85)
    certifier, other, owner, stranger = (browser(setting.certifier), browser(setting.other_certifier),
                                         browser(setting.owner), browser(setting.stranger))
    for url in (f"/certificationcertificateview/show/{own.id}", f"/certificationcertificateview/download_pdf/{own.id}",
                f"/surveillanceauditview/show/{audit.id}"):
        assert certifier.get(url).status_code == 200, url
        assert other.get(url).status_code == 404, url
        assert stranger.get(url).status_code == 404, url
    assert owner.get(f"/certificationcertificateview/show/{own.id}").status_code == 200
    pdf = owner.get(f"/certificationcertificateview/download_pdf/{own.id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert owner.get(f"/certificationcertificateview/show/{elsewhere.id}").status_code == 404
    listed = owner.get("/certificationcertificateview/list/").get_data(as_text=True)
    assert own.number in listed and elsewhere.number not in listed
    listed = certifier.get("/certificationcertificateview/list/").get_data(as_text=True)
    assert own.number in listed and elsewhere.number not in listed and zh("Valid") in listed
    for user, expected in ((setting.certifier, [own.id]), (setting.other_certifier, [elsewhere.id]),
                           (setting.owner, [own.id]), (setting.stranger, []),
                           (setting.national, sorted([own.id, elsewhere.id]))):
        body = api(user).get("/api/v1/certificationcertificate/").get_json()
        assert sorted(row["id"] for row in body["result"]) == expected, user.username
    assert api(setting.other_certifier).get(f"/api/v1/certificationcertificate/{own.id}").status_code == 404
    assert api(setting.other_certifier).get(f"/api/v1/certificationcertificate/{own.id}/pdf").status_code == 404
    assert api(setting.other_certifier).get(f"/api/v1/surveillanceaudit/{audit.id}").status_code == 404
    # The enterprise reads, never acts: no audit, no revocation.
    assert api(setting.owner).post("/api/v1/surveillanceaudit/", json={"certificate_id": own.id}).status_code in (
        401, 403)
    assert api(setting.owner).post(f"/api/v1/certificationcertificate/{own.id}/transition",
                                   json={"action": "revoke", "comment": "x"}).status_code in (403, 409)
    # Another body's certifier cannot plan an audit of this certificate.
    response = api(setting.other_certifier).post("/api/v1/surveillanceaudit/", json={"certificate_id": own.id})
    assert response.status_code in (403, 404)
    # The certificate choices of the audit form: the certifier's own body's valid certificates.
    choices = certifier.get("/surveillanceauditview/choices/certificate?q=").get_json()["results"]
    assert [c["id"] for c in choices] == [own.id]
    assert other.get("/surveillanceauditview/choices/certificate").get_json()["results"] == [
        {"id": elsewhere.id, "text": surveillance.certificate_choice_label(elsewhere)}]


def test_screens_plan_record_and_decide(setting, browser):
    certificate = make_certificate(setting.mine, setting.body, grade="AAAA")
    client = browser(setting.certifier)
    assert client.get("/surveillanceauditview/add").status_code == 200
    response = client.post("/surveillanceauditview/add", data={
        "certificate": str(certificate.id), "planned_on": TODAY.isoformat(), "audit_on": TODAY.isoformat(),
        "team": "张三、李四", "findings": "现场运行良好", "score_share": "91.5"})
    assert response.status_code == 302, response.get_data(as_text=True)
    audit = db.session.scalar(select(SurveillanceAudit).where(SurveillanceAudit.certificate_id == certificate.id))
    assert audit.status == "planned" and audit.score_share == 91.5 and audit.team == "张三、李四"
    # A future day is refused on the form, with the message.
    refused = client.post(f"/surveillanceauditview/edit/{audit.id}", data={
        "audit_on": (TODAY + DAY).isoformat(), "findings": "x", "score_share": "91.5"})
    assert refused.status_code == 200
    db.session.expire_all()
    assert db.session.get(SurveillanceAudit, audit.id).audit_on == TODAY
    page = client.get(f"/surveillanceauditview/show/{audit.id}").get_data(as_text=True)
    assert workflow.action_label("surveillance", "upgrade") in page and "attachments-SurveillanceAudit" in page
    client.post(f"/surveillanceauditview/transition/{audit.id}", data={"action": "upgrade", "comment": "升级"})
    db.session.expire_all()
    assert db.session.get(SurveillanceAudit, audit.id).status == "upgraded"
    assert db.session.get(CertificationCertificate, certificate.id).grade == "AAAAA"
    show = client.get(f"/certificationcertificateview/show/{certificate.id}").get_data(as_text=True)
    assert "AAAAA" in show and workflow.action_label("certification_certificate", "revoke") in show
    assert "audit-years" in show and "surveillance-audits" in show
    assert client.get("/surveillanceauditview/list/").status_code == 200
    # The certificate's own revoke button.
    client.post(f"/certificationcertificateview/transition/{certificate.id}", data={"action": "revoke",
                                                                                    "comment": "撤销"})
    db.session.expire_all()
    assert db.session.get(CertificationCertificate, certificate.id).status == "revoked"


def test_rest_parity(setting, api, monkeypatch):
    certificate = make_certificate(setting.mine, setting.body, grade="AAAAA")
    client = api(setting.certifier)
    response = client.post("/api/v1/surveillanceaudit/", json={
        "certificate_id": certificate.id, "audit_on": TODAY.isoformat(), "findings": "良好", "score_share": 85})
    assert response.status_code == 201, response.get_json()
    audit_id = response.get_json()["id"]
    # The same rules as the screens.
    bad = client.post("/api/v1/surveillanceaudit/", json={"certificate_id": certificate.id, "score_share": 150})
    assert bad.status_code == 422 and bad.get_json()["field"] == "score_share"
    future = client.put(f"/api/v1/surveillanceaudit/{audit_id}", json={"audit_on": (TODAY + DAY).isoformat()})
    assert future.status_code == 422 and future.get_json()["field"] == "audit_on"
    refused = client.post(f"/api/v1/surveillanceaudit/{audit_id}/transition", json={"action": "maintain"})
    assert refused.status_code == 409 and "85" in refused.get_json()["message"]
    done = client.post(f"/api/v1/surveillanceaudit/{audit_id}/transition",
                       json={"action": "downgrade", "comment": "降级"})
    assert done.status_code == 200 and done.get_json()["status"] == "downgraded"
    body = client.get(f"/api/v1/certificationcertificate/{certificate.id}").get_json()["result"]
    assert body["grade"] == "AAAA" and body["validity"] == "valid" and body["renewal_due"] is False
    assert body["missing_audit_years"] == [] and body["audit_due"] is None
    rows = client.get("/api/v1/certificationcertificate/").get_json()["result"]
    assert rows[0]["validity"] == "valid" and "validity_label" in rows[0]
    audit = client.get(f"/api/v1/surveillanceaudit/{audit_id}").get_json()["result"]
    assert (audit["status"], audit["grade_before"], audit["grade_after"]) == ("downgraded", "AAAAA", "AAAA")
    assert client.put(f"/api/v1/surveillanceaudit/{audit_id}", json={"findings": "改"}).status_code == 422
    pdf = client.get(f"/api/v1/certificationcertificate/{certificate.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    revoked = client.post(f"/api/v1/certificationcertificate/{certificate.id}/transition",
                          json={"action": "revoke", "comment": "撤销"})
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert client.get(f"/api/v1/certificationcertificate/{certificate.id}").get_json()["result"][
        "validity"] == "revoked"


def test_the_pdf_prints_the_certificate(setting):
    from pypdf import PdfReader

    certificate = make_certificate(setting.mine, setting.body, grade="AAAAA")
    html = surveillance.render_html(certificate)
    assert "绿色矿山认证证书" in html and certificate.number in html and "晋认证中心" in html
    assert '<html lang="zh-CN">' in html
    assert certificates.verification_url(certificate.number) in html and "data:image/png;base64," in html
    text = PdfReader(io.BytesIO(surveillance.render_pdf(certificate))).pages[0].extract_text()
    assert certificate.number in text and "AAAAA" in text


def test_the_pdf_fills_an_a4_landscape_page_issued_by_the_certification_body(app, setting, monkeypatch):
    from tests.conftest import pdf_layout

    monkeypatch.setattr(surveillance, "_today", lambda: datetime.date(2026, 3, 5))
    certificate = make_certificate(setting.mine, setting.body, grade="AAAAA")
    with app.test_request_context():
        layout = pdf_layout(surveillance.render_pdf(certificate))
    width, height = layout.size
    assert layout.pages == 1 and (round(width), round(height)) == (842, 595)
    text = layout.text.replace(" ", "")
    # The body issues it: its name signs the certificate over the date of issue, under the seal.
    assert text.count("晋认证中心") >= 3  # the statement, the facts and the signature
    assert "（印章处）" in text and "2026年3月5日" in text
    assert "2026-03-05—2029-03-04" in text
    assert max(layout.heights) > 0.85 * height and min(layout.heights) < 0.16 * height


def test_both_kinds_of_certificate_follow_one_validity_convention(setting, make_mine, monkeypatch):
    """Issued 2026-03-05 for three years: valid through 2029-03-04, as a directory certificate."""
    monkeypatch.setattr(surveillance, "_today", lambda: datetime.date(2026, 3, 5))
    record = make_certification(setting.mine, setting.body, status="certified", team=False)
    assert surveillance.validity_period(record, datetime.date(2026, 3, 5)) == (
        datetime.date(2026, 3, 5), certificates.last_valid_day(datetime.date(2026, 3, 5), 3))
    certificate = surveillance.issue(record, "AAAA")
    assert (certificate.valid_from, certificate.valid_until) == (datetime.date(2026, 3, 5), datetime.date(2029, 3, 4))
    # The certificate years end where the certificate does.
    years = surveillance.audit_years(certificate, datetime.date(2026, 3, 5))
    assert [(year.start, year.end) for year in years] == [
        (datetime.date(2026, 3, 5), datetime.date(2027, 3, 4)),
        (datetime.date(2027, 3, 5), datetime.date(2028, 3, 4)),
        (datetime.date(2028, 3, 5), datetime.date(2029, 3, 4)),
    ]
    # 29 February: the last year ends on 28 February, with the certificate.
    leap = surveillance.issue(make_certification(make_mine("140105", enterprise=setting.enterprise), setting.body,
                                                 status="certified", team=False), "AAAA")
    leap.valid_from, leap.valid_until = datetime.date(2024, 2, 29), certificates.last_valid_day(
        datetime.date(2024, 2, 29), 3)
    assert leap.valid_until == datetime.date(2027, 2, 28)
    assert surveillance.audit_years(leap, datetime.date(2024, 3, 1))[-1].end == leap.valid_until


def test_concurrent_certifications_get_distinct_numbers(app, setting, make_mine):
    """Real concurrency on PostgreSQL (the advisory lock of the year's sequence and the unique
    number): six certificates issued at once, each in its own connection."""
    from tests.conftest import is_postgres

    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the savepoint retry is tested in test_certificates.py")
    import threading

    ids = [make_certification(make_mine("140105"), setting.body, status="certified", team=False).id
           for _ in range(6)]
    errors, barrier = [], threading.Barrier(len(ids))

    def worker(record_id):
        with app.app_context():
            try:
                record = db.session.get(CertificationApplication, record_id)
                barrier.wait()
                surveillance.issue(record, "AAAA")
                db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(record_id,)) for record_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(db.session.scalars(select(CertificationCertificate.number)))
    assert numbers == [f"GMC-{TODAY.year}-{n:05d}" for n in range(1, 7)]


def test_the_renewal_notice_on_the_certificate_page(setting, browser):
    certificate = make_certificate(setting.mine, setting.body,
                                   valid_from=certificates.add_years(TODAY, -3) + datetime.timedelta(days=30))
    assert surveillance.renewal_due(certificate)
    page = browser(setting.owner).get(f"/certificationcertificateview/show/{certificate.id}").get_data(as_text=True)
    assert 'id="renewal-notice"' in page and f"/renew/{certificate.id}" in page
    # The certifier sees the notice, not the enterprise's button.
    page = browser(setting.certifier).get(f"/certificationcertificateview/show/{certificate.id}").get_data(
        as_text=True)
    assert 'id="renewal-notice"' in page and f"/renew/{certificate.id}" not in page
