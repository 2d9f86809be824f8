"""In-app notifications (SPEC I3): status changes reach the applicant and the next reviewers (not
the one who acted, nobody out of scope); `flask gm remind` sends each deadline reminder once; the
unread count is in the navigation; a user reads and marks only his own messages (HTML and REST)."""
from __future__ import annotations

import datetime

from click.testing import CliRunner
from sqlalchemy import select

from app.extensions import db
from app.models import CertificationApplication, Notification
from app.services import applications, notifications, predeclarations, workflow
from tests.test_applications import YEAR, _photo_checklist_not_in_the_way, draft, people, submitted  # noqa: F401


def inbox(user, record_type: str | None = "Application") -> list[Notification]:
    """The user's messages (about applications: the fixtures pass a pre-declaration first)."""
    db.session.expire_all()
    query = select(Notification).where(Notification.user_id == user.id)
    if record_type:
        query = query.where(Notification.record_type == record_type)
    return list(db.session.scalars(query.order_by(Notification.id)))


def test_each_step_tells_the_applicant_and_the_next_reviewers(people, make_user):
    colleague = make_user("enterprise", enterprise=people["mine"].enterprise)
    application = submitted(people)
    # Submitted: the county in scope is told, and the applicant's colleague; not the submitter,
    # not the city or province yet, not another county.
    assert len(inbox(people["county"])) == 1 and "待县级" in inbox(people["county"])[0].title
    assert inbox(people["enterprise"]) == [] and len(inbox(colleague)) == 1
    for bystander in ("city", "province", "other_county", "other_city"):
        assert inbox(people[bystander]) == [], bystander

    workflow.transition(application, "county_pass", people["county"], "材料齐全")
    city_message = inbox(people["city"])[-1]
    assert city_message.record_type == "Application" and city_message.record_id == application.id
    assert "材料齐全" in city_message.body and people["county"].username in city_message.body
    assert len(inbox(people["enterprise"])) == 1 and len(inbox(people["county"])) == 1
    assert inbox(people["other_city"]) == []

    workflow.transition(application, "return", people["city"], "请补充绿化照片")
    returned = inbox(people["enterprise"])[-1]
    assert "退回" in returned.title and "请补充绿化照片" in returned.body
    assert inbox(people["province"]) == []


def test_a_predeclaration_reaches_the_province(people):
    user = people["enterprise"]
    record = predeclarations.create(user, people["mine"], YEAR)
    workflow.transition(record, "submit", user)
    assert len(inbox(people["province"], "PreDeclaration")) == 1 and inbox(people["county"], None) == []
    workflow.transition(record, "approve", people["province"], "同意")
    assert "通过" in inbox(user, "PreDeclaration")[-1].title


def test_a_refused_step_sends_nothing(people):
    application = draft(people)
    before = db.session.query(Notification).count()
    try:
        workflow.transition(application, "county_pass", people["county"])
    except Exception:
        pass
    assert db.session.query(Notification).count() == before


def test_the_bell_counts_unread_messages_and_opening_one_reads_it(people, browser):
    application = submitted(people)
    county = browser(people["county"])
    home = county.get("/").get_data(as_text=True)
    assert f'id="gm-unread-count">{notifications.unread_count(people["county"])}<' in home
    message = inbox(people["county"])[0]
    page = county.get("/notifications/").get_data(as_text=True)
    assert message.title in page and "gm-unread" in page
    response = county.get(f"/notifications/{message.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/applicationview/show/{application.id}")
    assert inbox(people["county"])[0].read_at is not None
    assert notifications.unread_count(people["county"]) == 0
    assert "gm-unread-count" not in county.get("/").get_data(as_text=True)
    # Another user's message does not exist for him.
    assert browser(people["city"]).get(f"/notifications/{message.id}").status_code == 404


def test_mark_all_read(people, browser):
    application = submitted(people)
    workflow.transition(application, "withdraw", people["enterprise"])
    workflow.transition(application, "submit", people["enterprise"])
    assert notifications.unread_count(people["county"]) == 2
    assert browser(people["county"]).post("/notifications/read-all").status_code == 302
    assert notifications.unread_count(people["county"]) == 0


def test_the_api_lists_and_marks_only_ones_own(people, api):
    submitted(people)
    client = api(people["county"])
    body = client.get("/api/v1/notification/").get_json()
    assert body["count"] == 1 and body["unread"] == 1 and body["result"][0]["record_type"] == "Application"
    assert body["result"][0]["title"] == inbox(people["county"])[0].title
    message_id = body["result"][0]["id"]
    assert api(people["city"]).post(f"/api/v1/notification/{message_id}/read").status_code == 404
    assert client.post(f"/api/v1/notification/{message_id}/read").get_json()["result"]["read_at"]
    assert client.get("/api/v1/notification/?unread=1").get_json()["count"] == 0


def test_deadline_reminders_are_sent_once_per_reminder_day(people, app):
    draft(people)
    _opens, deadline = applications.deadline_for("140000", YEAR)
    too_early = deadline - datetime.timedelta(days=8)
    assert notifications.remind(too_early) == 0
    week_before = deadline - datetime.timedelta(days=7)
    assert notifications.remind(week_before) == 1
    assert notifications.remind(week_before) == 0  # idempotent
    assert notifications.remind(week_before + datetime.timedelta(days=1)) == 0  # same reminder day
    reminder = inbox(people["enterprise"])[-1]
    assert reminder.kind == "deadline" and deadline.isoformat() in reminder.body and "7" in reminder.title
    day_before = deadline - datetime.timedelta(days=1)
    assert notifications.remind(day_before) == 1 and notifications.remind(day_before) == 0
    assert notifications.remind(deadline + datetime.timedelta(days=1)) == 0  # past: nothing more
    assert len([m for m in inbox(people["enterprise"]) if m.kind == "deadline"]) == 2


def test_submitted_applications_are_not_reminded(people, app):
    submitted(people)
    _opens, deadline = applications.deadline_for("140000", YEAR)
    assert notifications.remind(deadline - datetime.timedelta(days=1)) == 0


def test_remind_command(people, app):
    draft(people)
    _opens, deadline = applications.deadline_for("140000", YEAR)
    day = (deadline - datetime.timedelta(days=3)).isoformat()
    runner = CliRunner()
    first = runner.invoke(app.cli, ["gm", "remind", "--date", day])
    second = runner.invoke(app.cli, ["gm", "remind", "--date", day])
    assert first.exit_code == 0 and "1" in first.output, first.output
    assert second.exit_code == 0 and "reminders sent: 0" in second.output
    assert runner.invoke(app.cli, ["gm", "remind", "--date", "not-a-date"]).exit_code == 2


def test_certification_steps_reach_the_body_and_the_enterprise(make_certification_body, make_user, make_mine):
    """A certification submitted reaches its body's certifiers (no region of their own), not another
    body's; a surveillance outcome reaches the certificate's enterprise through the certificate."""
    from tests.test_surveillance import make_certificate, plan_audit

    body, other_body = make_certification_body(), make_certification_body()
    mine = make_mine("140105")
    owner = make_user("enterprise", enterprise=mine.enterprise)
    certifier = make_user("certifier", certification_body_id=body.id)
    bystander = make_user("certifier", certification_body_id=other_body.id)
    record = CertificationApplication(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                                      body_id=body.id, enterprise_name="x", mine_name=mine.name,
                                      licence_no=mine.licence_no, uscc=mine.enterprise.uscc)
    db.session.add(record)
    db.session.commit()
    with workflow._status_writes_allowed(db.session):  # the submission's guard is tested elsewhere
        record.status = "submitted"
        db.session.commit()
    workflow.transition(record, "return", certifier, "请补充支撑材料")
    assert "请补充支撑材料" in inbox(owner, "CertificationApplication")[-1].body
    certificate = make_certificate(make_mine("140105", enterprise=mine.enterprise), body, grade="AAAAA")
    audit = plan_audit(certificate, certifier, share=85)
    workflow.transition(audit, "downgrade", certifier, "监督评审得分下降")
    told = inbox(owner, "SurveillanceAudit")
    assert len(told) == 1 and "监督评审得分下降" in told[-1].body
    assert inbox(bystander, None) == [] and inbox(certifier, None) == []


def test_a_submitted_certification_reaches_the_certifiers_of_its_body(make_certification_body, make_user, make_mine,
                                                                       monkeypatch):
    from app.services import certification

    monkeypatch.setattr(certification, "check_submittable", lambda record, user, comment: None)
    body, other_body = make_certification_body(), make_certification_body()
    mine = make_mine("140105")
    owner = make_user("enterprise", enterprise=mine.enterprise)
    certifier = make_user("certifier", certification_body_id=body.id)
    bystander = make_user("certifier", certification_body_id=other_body.id)
    record = certification.create(owner, mine.id, body.id)
    workflow.transition(record, "submit", owner)
    assert len(inbox(certifier, "CertificationApplication")) == 1
    assert inbox(bystander, None) == [] and inbox(owner, None) == []


def test_certification_reminders(make_certification_body, make_user, make_mine):
    """`flask gm remind` tells the body's certifiers of an evaluation's last working days and of a
    certificate year ending without its surveillance audit, and the enterprise of a re-evaluation
    due; each once."""
    from app.services import certificates
    from tests.test_surveillance import make_certificate, make_certification

    body = make_certification_body()
    mine = make_mine("140105")
    owner = make_user("enterprise", enterprise=mine.enterprise)
    certifier = make_user("certifier", certification_body_id=body.id)
    # Accepted on Monday 2026-11-02: the 20th working day is Monday 2026-11-30 (no holiday).
    record = make_certification(mine, body, status="under_evaluation")
    record.accepted_on = datetime.date(2026, 11, 2)
    db.session.commit()
    assert notifications.remind(datetime.date(2026, 11, 18)) == 0  # 12 used, 8 left
    assert notifications.remind(datetime.date(2026, 11, 19)) == 1  # 13 used, 7 left
    told = inbox(certifier, "CertificationApplication")
    assert len(told) == 1 and "2026-11-30" in told[0].body and "7" in told[0].title
    assert notifications.remind(datetime.date(2026, 11, 20)) == 0  # the same reminder (7 days)
    assert notifications.remind(datetime.date(2026, 11, 27)) == 1  # 19 used, 1 left
    assert inbox(owner, "CertificationApplication") == []

    # A certificate whose first year ends on 2026-12-31 without an audit, and that is not yet in
    # its renewal window.
    certificate = make_certificate(make_mine("140105", enterprise=mine.enterprise), body,
                                   valid_from=datetime.date(2026, 1, 1))
    assert notifications.remind(datetime.date(2026, 12, 1)) == 1
    assert "2026-12-31" in inbox(certifier, "CertificationCertificate")[-1].title
    assert notifications.remind(datetime.date(2026, 12, 2)) == 0
    # 90 days before its end the enterprise is told to apply for the re-evaluation (and the
    # certifier of the third year's missing audit).
    ending = certificate.valid_until - datetime.timedelta(days=90)
    assert ending == certificates.add_years(datetime.date(2026, 1, 1), 3) - datetime.timedelta(days=91)
    notifications.remind(ending)
    renewal = inbox(owner, "CertificationCertificate")
    assert len(renewal) == 1 and certificate.number in renewal[0].title
    notifications.remind(ending + datetime.timedelta(days=1))
    assert len(inbox(owner, "CertificationCertificate")) == 1
