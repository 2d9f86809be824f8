"""The transition engine on the pre-declaration workflow: the table is data, and every
(state, action, role) pair that is not in it is refused; nothing else writes a status."""
import itertools
import threading

import pytest
from sqlalchemy import select, text, update

from app.extensions import db
from app.models import PreDeclaration, TransitionLog
from app.services import predeclarations, workflow
from app.services.exceptions import AccessDenied, DomainError, StatusWriteForbidden, TransitionRefused
from app.services.roles import ROLES
from tests.conftest import is_postgres

WF = workflow.WORKFLOWS["predeclaration"]
# The expected table, written out independently of the engine's.
EXPECTED = {
    ("draft", "submit", "enterprise"): "submitted",
    ("submitted", "withdraw", "enterprise"): "draft",
    ("submitted", "approve", "province"): "passed",
    ("submitted", "reject", "province"): "rejected",
    ("rejected", "revise", "enterprise"): "draft",
}
# A path from draft to each state, with the role taking each step.
PATH_TO = {
    "draft": [],
    "submitted": [("submit", "enterprise")],
    "passed": [("submit", "enterprise"), ("approve", "province")],
    "rejected": [("submit", "enterprise"), ("reject", "province")],
}


@pytest.fixture
def actors(make_mine, make_user, make_agency, without_photo_checklist):
    """One user of every role, all with the pre-declaration's mine in scope where possible.
    (The table is tested here; the submit guard's photo checklist in test_photo_checklist.py.)"""
    mine = make_mine("140105")
    enterprise = mine.enterprise
    regions = {"province": "140000", "city": "140100", "county": "140105", "inspector": "140100"}
    users = {}
    for role in ROLES:
        if role == "enterprise":
            users[role] = make_user(role, enterprise=enterprise)
        elif role == "agency":
            users[role] = make_user(role, agency=make_agency())
        else:
            users[role] = make_user(role, regions.get(role))
    return mine, users


def _record_in(state, mine, users):
    record = predeclarations.create(users["enterprise"], mine, 2026)
    for action, role in PATH_TO[state]:
        workflow.transition(record, action, users[role], "路径")
    assert record.status == state
    return record


def _log_count(record) -> int:
    return db.session.scalar(
        select(db.func.count()).select_from(TransitionLog).where(TransitionLog.record_id == record.id)
    )


def test_the_table_is_what_we_expect():
    table = {(t.source, t.action, role): t.target for t in workflow.TRANSITIONS if t.workflow == WF.name
             for role in t.roles}
    assert table == EXPECTED


@pytest.mark.parametrize("state", sorted(WF.states))
def test_every_pair_outside_the_table_is_refused_and_every_pair_inside_works(state, actors):
    mine, users = actors
    for action, role in itertools.product(sorted(WF.actions), sorted(ROLES)):
        record = _record_in(state, mine, users)
        logs_before = _log_count(record)
        expected = EXPECTED.get((state, action, role))
        if expected is None:
            with pytest.raises((TransitionRefused, AccessDenied)) as info:
                workflow.transition(record, action, users[role], "理由")
            assert str(info.value)  # a message for the user
            db.session.expire_all()
            assert db.session.get(PreDeclaration, record.id).status == state
            assert _log_count(record) == logs_before
        else:
            log = workflow.transition(record, action, users[role], "理由")
            assert record.status == expected
            assert (log.from_state, log.to_state, log.role, log.username) == (state, expected, role, users[role].username)
            assert _log_count(record) == logs_before + 1
        db.session.execute(text("DELETE FROM transition_log"))
        db.session.execute(text("DELETE FROM predeclaration"))
        db.session.commit()


def test_available_actions_match_the_table(actors):
    mine, users = actors
    record = _record_in("submitted", mine, users)
    assert [t.action for t in workflow.available_actions(record, users["enterprise"])] == ["withdraw"]
    assert sorted(t.action for t in workflow.available_actions(record, users["province"])) == ["approve", "reject"]
    for role in ("county", "city", "national", "admin", "agency", "inspector", "certifier"):
        assert workflow.available_actions(record, users[role]) == []


def test_scope_is_checked_too(actors, make_user):
    mine, users = actors
    record = _record_in("submitted", mine, users)
    other_province = make_user("province", "610000")
    with pytest.raises(AccessDenied):
        workflow.transition(record, "approve", other_province)
    assert workflow.available_actions(record, other_province) == []


def test_reject_needs_a_comment_and_the_log_keeps_it(actors):
    mine, users = actors
    record = _record_in("submitted", mine, users)
    with pytest.raises(TransitionRefused):
        workflow.transition(record, "reject", users["province"], "   ")
    log = workflow.transition(record, "reject", users["province"], "材料不全")
    assert record.decision_comment == "材料不全" and log.comment == "材料不全"
    steps = workflow.history(record)
    assert [(s.action, s.from_state, s.to_state) for s in steps] == [
        ("submit", "draft", "submitted"), ("reject", "submitted", "rejected")]
    assert steps[-1].region_code == "140000" and steps[-1].created_at is not None


def test_guard_refuses_with_a_reason(actors, make_mine):
    mine, users = actors
    record = _record_in("draft", mine, users)
    # The mine passes to another enterprise after the pre-declaration was made.
    mine.enterprise = make_mine("140105").enterprise
    db.session.commit()
    with pytest.raises(TransitionRefused) as info:
        workflow.transition(record, "submit", users["enterprise"])
    assert str(info.value)
    assert db.session.get(PreDeclaration, record.id).status == "draft"


def test_no_other_code_path_writes_a_status(actors):
    mine, users = actors
    record = _record_in("draft", mine, users)
    record.status = "passed"
    with pytest.raises(StatusWriteForbidden):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(StatusWriteForbidden):
        db.session.execute(update(PreDeclaration).where(PreDeclaration.id == record.id).values(status="passed"))
    db.session.rollback()
    with pytest.raises(StatusWriteForbidden):
        db.session.query(PreDeclaration).filter_by(id=record.id).update({"status": "passed"})
    db.session.rollback()
    # A new record cannot be born in a later state either.
    db.session.add(PreDeclaration(enterprise_id=mine.enterprise_id, mine_id=mine.id, region_code="140105",
                                  year=2030, status="passed"))
    with pytest.raises(StatusWriteForbidden):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(PreDeclaration, record.id).status == "draft"


def test_no_status_assignment_in_the_source_outside_the_engine():
    """The same rule, read from the code: only app/services/workflow.py assigns a status."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "app"
    pattern = re.compile(r"\.(status|state)\s*=[^=]")
    offenders = [
        f"{path}:{number}"
        for path in root.rglob("*.py")
        if path.name != "workflow.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_transition_through_html_and_rest(actors, browser, api):
    mine, users = actors
    record = _record_in("draft", mine, users)
    response = browser(users["enterprise"]).post(f"/predeclarationview/transition/{record.id}", data={"action": "submit"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(PreDeclaration, record.id).status == "submitted"
    # The province's show page offers exactly its buttons.
    page = browser(users["province"]).get(f"/predeclarationview/show/{record.id}").get_data(as_text=True)
    assert 'value="approve"' in page and 'value="reject"' in page and 'value="withdraw"' not in page
    refused = api(users["province"]).post(f"/api/v1/predeclaration/{record.id}/transition", json={"action": "submit"})
    assert refused.status_code == 409 and refused.get_json()["message"]
    done = api(users["province"]).post(f"/api/v1/predeclaration/{record.id}/transition",
                                       json={"action": "approve", "comment": "同意"})
    assert done.status_code == 200 and done.get_json()["status"] == "passed"


def test_twenty_concurrent_attempts_make_exactly_one_transition(app, actors):
    if not is_postgres(app):
        pytest.skip("row locking is tested on PostgreSQL (TEST_DATABASE_URL)")
    mine, users = actors
    record = _record_in("submitted", mine, users)
    record_id, province_id = record.id, users["province"].id
    barrier = threading.Barrier(20)
    outcomes = []

    def attempt():
        with app.app_context():
            user = app.appbuilder.sm.get_user_by_id(province_id)
            row = db.session.get(PreDeclaration, record_id)
            barrier.wait()
            try:
                workflow.transition(row, "approve", user, "并发")
                outcomes.append("ok")
            except DomainError:
                outcomes.append("refused")
            except Exception as exc:  # pragma: no cover - would be a 500
                outcomes.append(f"error: {exc!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 19
    db.session.expire_all()
    assert db.session.get(PreDeclaration, record_id).status == "passed"
    approvals = db.session.scalar(select(db.func.count()).select_from(TransitionLog).where(
        TransitionLog.record_id == record_id, TransitionLog.action == "approve"))
    assert approvals == 1


def test_times_are_shown_in_beijing_time(app):
    import datetime

    from app.views.formatting import local_datetime

    assert local_datetime(datetime.datetime(2026, 11, 21, 16, 30)) == "2026-11-22 00:30"
    assert local_datetime(None) == ""
