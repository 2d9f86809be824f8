"""The audit trail (SPEC I4): every create, update and delete of a domain record is recorded with
who, when and the fields' old and new values, and shown to the admin only; nothing that was ever
submitted is hard-deleted."""
from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.extensions import db
from app.models import Application, Attachment, AuditEntry, Mine, PreDeclaration
from app.services import audit, predeclarations, uploads, workflow
from app.services.audit import DeletionRefused
from tests.conftest import TEST_PASSWORD
from tests.test_applications import _photo_checklist_not_in_the_way, draft, people, submitted  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def entries(record_type: str, record_id) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.record_type == record_type, AuditEntry.record_id == str(record_id)).order_by(AuditEntry.id)))


def test_create_update_delete_through_the_api_are_recorded_with_who_and_values(make_user, make_mine, api):
    county = make_user("county", "140105")
    existing = make_mine("140105")
    client = api(county)
    body = {"name": "审计测试矿", "licence_no": "C1400002021061000000901", "enterprise_id": existing.enterprise_id,
            "mineral_id": existing.mineral_id, "region_code": "140105", "mining_method": "underground",
            "production_scale": 10}
    mine_id = client.post("/api/v1/mine/", json=body).get_json()["id"]
    assert client.put(f"/api/v1/mine/{mine_id}", json={"name": "审计测试矿（改名）"}).status_code == 200
    assert client.delete(f"/api/v1/mine/{mine_id}").status_code == 200

    created, updated, deleted = entries("Mine", mine_id)
    for entry in (created, updated, deleted):
        assert (entry.user_id, entry.username, entry.source) == (county.id, county.username, "api")
        assert entry.address == "127.0.0.1" and entry.created_at is not None
    assert created.action == "create" and created.changes["name"] == [None, "审计测试矿"]
    assert created.changes["licence_no"] == [None, "C1400002021061000000901"]
    assert "created_at" not in created.changes  # bookkeeping is not a change
    assert updated.action == "update" and updated.changes == {"name": ["审计测试矿", "审计测试矿（改名）"]}
    assert deleted.action == "delete" and deleted.changes["name"] == ["审计测试矿（改名）", None]
    assert deleted.record_label and "审计测试矿" in deleted.record_label


def test_a_refused_change_leaves_no_entry(make_user, make_mine, api):
    existing = make_mine("140105")
    client = api(make_user("county", "140105"))
    before = db.session.query(AuditEntry).count()
    response = client.post("/api/v1/mine/", json={
        "name": "坏矿", "licence_no": "bad", "enterprise_id": existing.enterprise_id, "region_code": "140105"})
    assert response.status_code == 422
    assert db.session.query(AuditEntry).count() == before


def test_status_changes_and_their_stamps_are_recorded(people):
    application = submitted(people)
    workflow.transition(application, "return", people["county"], "请补充材料")
    steps = [entry for entry in entries("Application", application.id) if "status" in entry.changes]
    assert [entry.changes["status"] for entry in steps] == [[None, "draft"], ["draft", "submitted"],
                                                             ["submitted", "returned"]]
    steps = steps[1:]
    assert steps[0].username == people["enterprise"].username and steps[0].changes["submitted_at"][0] is None
    assert steps[1].username == people["county"].username


def test_passwords_are_recorded_as_changed_never_by_value(make_user, browser):
    user = make_user("county", "140105")
    response = browser(user).post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": "N3w-Passw0rd!", "confirm_password": "N3w-Passw0rd!"})
    assert response.status_code == 302
    changed = [entry for entry in entries("GreenMineUser", user.id) if "password" in entry.changes]
    assert changed and changed[-1].changes["password"] == [audit.MASK, audit.MASK]
    assert all("N3w-Passw0rd!" not in str(entry.changes) for entry in entries("GreenMineUser", user.id))


def test_role_changes_are_recorded_by_name(make_user):
    from app.models import GreenMineUser
    from flask import current_app

    user = make_user("county", "140105")
    user.roles.append(current_app.appbuilder.sm.find_role("city"))
    db.session.commit()
    entry = entries("GreenMineUser", user.id)[-1]
    assert entry.changes["roles"] == [["county"], ["city", "county"]]
    assert isinstance(db.session.get(GreenMineUser, user.id), GreenMineUser)


def test_commands_are_named_as_the_operator(app):
    result = CliRunner().invoke(app.cli, ["gm", "create-user", "cli_made", "--role", "county", "--password",
                                          TEST_PASSWORD, "--region", "140105"], obj=None)
    assert result.exit_code == 0, result.output
    from app.models import GreenMineUser

    user = db.session.scalar(select(GreenMineUser).where(GreenMineUser.username == "cli_made"))
    created = entries("GreenMineUser", user.id)[0]
    assert (created.username, created.source, created.user_id) == ("flask gm create-user", "cli", None)


def test_only_the_admin_reads_the_trail(make_user, make_mine, browser):
    make_mine("140105")
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    admin = browser(make_user("admin"))
    assert admin.get("/auditlogview/list/").status_code == 200
    page = admin.get(f"/auditlogview/show/{entry.id}").get_data(as_text=True)
    assert "gm-changes" in page and "新增" in page
    for role, region in (("national", None), ("province", "140000"), ("county", "140105")):
        assert browser(make_user(role, region)).get("/auditlogview/list/").status_code in (302, 403), role


# ---------------------------------------------------------------------------
# Nothing that was ever submitted is hard-deleted
# ---------------------------------------------------------------------------
def test_a_withdrawn_predeclaration_is_kept_on_every_path(people, browser, api):
    user = people["enterprise"]
    record = predeclarations.create(user, people["mine"], 2031)
    workflow.transition(record, "submit", user)
    workflow.transition(record, "withdraw", user)
    assert api(user).delete(f"/api/v1/predeclaration/{record.id}").status_code == 422
    page = browser(user).post(f"/predeclarationview/delete/{record.id}", follow_redirects=True).get_data(as_text=True)
    assert "曾经提交" in page
    # Any other code path: the flush itself refuses, and nothing is written.
    with pytest.raises(DeletionRefused):
        db.session.delete(db.session.get(PreDeclaration, record.id))
        db.session.flush()
    db.session.rollback()
    assert db.session.get(PreDeclaration, record.id) is not None


def test_the_mine_and_enterprise_of_a_submitted_record_are_kept(people, api):
    application = submitted(people)
    mine = db.session.get(Mine, application.mine_id)
    province = api(people["province"])
    response = province.delete(f"/api/v1/mine/{mine.id}")
    assert response.status_code == 422 and "已提交" in response.get_json()["message"]
    assert province.delete(f"/api/v1/enterprise/{mine.enterprise_id}").status_code == 422
    db.session.expire_all()
    assert db.session.get(Mine, mine.id) is not None


def test_a_never_submitted_draft_is_still_deleted(people, api):
    application = draft(people)
    assert api(people["enterprise"]).delete(f"/api/v1/application/{application.id}").status_code == 200
    assert db.session.get(Application, application.id) is None
    assert entries("Application", application.id)[-1].action == "delete"


def test_a_file_removed_after_submission_is_kept_hidden(app, people, browser, make_user):
    application = draft(people)
    user = people["enterprise"]
    client = browser(user)
    client.post(f"/attachments/Application/{application.id}/document",
                data={"file": (io.BytesIO(PDF), "初稿.pdf")}, content_type="multipart/form-data")
    first = db.session.query(Attachment).filter_by(slot="document").one()
    workflow.transition(application, "submit", user)
    workflow.transition(application, "return", people["county"], "请更换材料")
    assert client.post(f"/attachments/{first.id}/delete").status_code == 302
    db.session.expire_all()
    kept = db.session.get(Attachment, first.id)
    assert kept is not None and kept.removed_at is not None and kept.removed_by_id == user.id
    assert uploads.attachments_of("Application", application.id, "document") == []
    with uploads.open_file(kept) as handle:  # the bytes are kept too
        assert handle.read() == PDF
    # Hidden from the enterprise and its reviewers; the national level can still read it.
    assert client.get(f"/attachments/{first.id}").status_code == 404
    assert browser(people["county"]).get(f"/attachments/{first.id}").status_code == 404
    assert browser(make_user("national")).get(f"/attachments/{first.id}").status_code == 200
