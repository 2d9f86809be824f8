"""Logs a person can read (issue 18, point 3): the process log and the audit trail show the kind of
record in Chinese, the record by its name linked to its page where the reader may open it (the
scope rule decides), the changed fields by their labels with their values as names, the acting
person's name, and commands as 系统命令：…. (Their statement count per page is in
tests/test_list_costs.py.)"""
from __future__ import annotations

import importlib.util
import json
import pathlib
import re

from click.testing import CliRunner
from flask import g
from flask_login import login_user
from flask_appbuilder import Model
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update

from app.extensions import db
from app.models import (Application, AuditEntry, GreenMineUser, IndicatorEvidence, IndicatorItem, Mine, PreDeclaration,
                        TransitionLog)
from app.models.kinds import RECORD_KINDS
from app.services import audit, workflow
from app.views import record_pages
from tests.conftest import TEST_PASSWORD
from tests.test_applications import _photo_checklist_not_in_the_way, people, submitted  # noqa: F401

MIGRATION = pathlib.Path(__file__).resolve().parents[1] / "app/migrations/versions/0014_transition_log_record_label.py"


def _text(html: str) -> str:
    """The visible text of a page (tags and scripts removed)."""
    html = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _named(user, family: str, given: str) -> GreenMineUser:
    user.last_name, user.first_name = family, given
    db.session.commit()
    return user


def test_every_logged_kind_and_field_has_a_chinese_name(app):
    """A new model or column without a label fails here, before its class or column name reaches
    a log page."""
    missing = []
    with app.test_request_context():
        for mapper in Model.registry.mappers:
            model = mapper.class_
            if not audit.is_audited(model):
                continue
            if model.__name__ not in RECORD_KINDS:
                missing.append(model.__name__)
            keys = {column.key for column in mapper.primary_key}
            fields = [attr.key for attr in mapper.column_attrs if attr.key not in keys | audit._IGNORED_COLUMNS]
            fields += [relation.key for relation in mapper.relationships if relation.secondary is not None]
            missing += [f"{model.__name__}.{field}" for field in fields
                        if not record_pages.field_label(model.__name__, field)]
    assert missing == []


def test_every_logged_record_has_a_display_name():
    """The logs keep what a record is called (str(record)): never "<… object at 0x…>"."""
    nameless = [mapper.class_.__name__ for mapper in Model.registry.mappers if audit.is_audited(mapper.class_)
                and not any("__repr__" in cls.__dict__ for cls in mapper.class_.__mro__
                            if cls.__module__.startswith("app.models"))]
    assert nameless == []


def test_a_record_created_by_its_keys_is_named_by_its_parents(people):  # noqa: F811
    """A record inserted with foreign keys only (no related objects) is named like any other,
    although SQLAlchemy loads no relation of a record while it is being inserted."""
    application = submitted(people)
    item = db.session.scalars(select(IndicatorItem).where(IndicatorItem.level == 3)).first()
    evidence = IndicatorEvidence(application_id=application.id, item_id=item.id, note="见附件")
    db.session.add(evidence)
    db.session.commit()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.record_type == "IndicatorEvidence")).one()
    assert entry.record_label == f"{application} {item.code} {item.name}"


def test_the_process_log_names_the_kind_the_record_and_the_person(people, make_user, browser):  # noqa: F811
    enterprise = _named(people["enterprise"], "王", "小企")
    application = submitted(people)
    mine = people["mine"]
    page = browser(make_user("national")).get("/transitionlogview/list/").get_data(as_text=True)
    text = _text(page)
    assert "绿色矿山申请" in text and "预申报" in text
    assert "Application" not in text and "PreDeclaration" not in text
    name = f"{application.year} {mine.name}（{mine.licence_no}）"
    assert f'<a href="/applicationview/show/{application.id}">{name}</a>' in page
    assert f"王小企（{enterprise.username}）" in text
    assert "已提交，待县级初审" in text
    # The step's page names the operator's region, not its code.
    step = db.session.scalars(select(TransitionLog).where(TransitionLog.record_type == "PreDeclaration",
                                                          TransitionLog.action == "approve")).one()
    show = _text(browser(make_user("national")).get(f"/transitionlogview/show/{step.id}").get_data(as_text=True))
    assert "山西省" in show and not re.search(r"(?<![0-9A-Z])140000(?!\d)", show)


def test_the_record_page_shows_who_acted_by_name(people, browser):  # noqa: F811
    _named(people["enterprise"], "王", "小企")
    application = submitted(people)
    page = _text(browser(people["county"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True))
    assert f"王小企（{people['enterprise'].username}）" in page


def test_a_record_is_linked_only_where_the_reader_may_open_it(app, make_user, make_mine, monkeypatch):
    inside, outside = make_mine("140105"), make_mine("140121")
    county = make_user("county", "140105")
    refs = [("Mine", inside.id), ("Mine", outside.id), ("Mine", 999999), ("Mine", "x"), ("NoSuchModel", 1)]
    with app.test_request_context():
        login_user(county)
        g.user = county
        # In his scope and existing: linked; outside his county, gone, or no record at all: not.
        assert record_pages.record_urls(refs) == {("Mine", str(inside.id)): f"/mineview/show/{inside.id}"}
        # Without the permission to open the kind's page, no link whatever the scope says.
        sm = app.appbuilder.sm
        allowed = sm.has_access
        monkeypatch.setattr(sm, "has_access", lambda permission, view: view != "MineView" and allowed(permission, view))
        assert record_pages.record_urls(refs) == {}


def test_a_deleted_record_keeps_its_name_without_a_link(make_user, make_mine, browser):
    mine = make_mine("140105", name="将被删除的矿")
    mine_id = mine.id
    db.session.delete(mine)
    db.session.commit()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.record_type == "Mine", AuditEntry.action == "delete",
                                                        AuditEntry.record_id == str(mine_id))).one()
    page = browser(make_user("admin")).get(f"/auditlogview/show/{entry.id}").get_data(as_text=True)
    assert "将被删除的矿" in page and f"/mineview/show/{mine_id}" not in page


def test_the_audit_trail_shows_fields_by_label_and_values_by_name(people, make_user, browser, api):  # noqa: F811
    county = _named(make_user("county", "140105"), "李", "县")
    existing = people["mine"]
    body = {"name": "审计展示矿", "licence_no": "C1400002021061000000901", "enterprise_id": existing.enterprise_id,
            "mineral_id": existing.mineral_id, "region_code": "140105", "mining_method": "underground",
            "production_scale": 10}
    response = api(county).post("/api/v1/mine/", json=body)
    assert response.status_code == 201, response.get_json()
    mine_id = response.get_json()["id"]
    admin = browser(make_user("admin"))

    created = db.session.scalars(select(AuditEntry).where(AuditEntry.record_type == "Mine",
                                                          AuditEntry.record_id == str(mine_id))).one()
    page = admin.get(f"/auditlogview/show/{created.id}").get_data(as_text=True)
    text = _text(page)
    assert "矿山名称" in text and "采矿许可证号" in text and "开采方式" in text
    assert "地下" in text and existing.enterprise.name in text and "太原市小店区" in text
    assert f"李县（{county.username}）" in text and "矿山" in text
    assert f'<a href="/mineview/show/{mine_id}">审计展示矿（C1400002021061000000901）</a>' in page
    for column in ("licence_no", "mining_method", "enterprise_id", "region_code", "underground"):
        assert column not in text, column

    # A status written by the transition engine: the states by their labels; conditions 是 / 否.
    application = submitted(people)
    changes = db.session.scalars(select(AuditEntry).where(
        AuditEntry.record_type == "Application", AuditEntry.record_id == str(application.id),
        AuditEntry.action == "update").order_by(AuditEntry.id)).all()
    texts = [_text(admin.get(f"/auditlogview/show/{entry.id}").get_data(as_text=True)) for entry in changes]
    assert any("未提交" in t and "已提交，待县级初审" in t for t in texts)
    assert any("是" in t for t in texts)
    assert not any(re.search(r"\b(True|False|None|draft|submitted)\b", t) for t in texts)


def test_coded_values_are_shown_by_their_labels(app, make_user):
    admin = make_user("admin")
    with app.test_request_context():
        login_user(admin)
        g.user = admin
        shown = record_pages.shown_value
        assert shown("CertificationApplication", "kind", "initial") == "首次认证"
        assert shown("Application", "economic_type", "limited_liability") == "有限责任公司"
        assert shown("CertificationApplication", "mining_method", "open_pit") == "露天"
        assert shown("SpotCheckConfirmation", "stage", "recheck") == "整改复查"
        assert shown("Mine", "production_status", "closed") == "闭坑"
        assert shown("ProblemLead", "status", "closed") == "已办结"
        assert shown("Mine", "region_code", "140105") == "140105 山西省太原市小店区"
        assert shown("GreenMineUser", "roles", ["county", "city"]) == "县级自然资源主管部门、市级自然资源主管部门"
        assert shown("Mine", "is_new_or_expanded", False) == "否"
        assert shown("Mine", "updated_at", "2026-05-20T02:30:00") == "2026-05-20 10:30"


def test_commands_show_as_system_commands(app, make_user, browser):
    result = CliRunner().invoke(app.cli, ["gm", "create-user", "cli_named", "--role", "county", "--password",
                                          TEST_PASSWORD, "--region", "140105"], obj=None)
    assert result.exit_code == 0, result.output
    text = _text(browser(make_user("admin")).get("/auditlogview/list/").get_data(as_text=True))
    assert "系统命令：flask gm create-user" in text and "用户账号" in text


def test_the_logs_are_searched_by_kind(people, make_user, browser):  # noqa: F811
    application = submitted(people)
    client = browser(make_user("national"))
    page = client.get("/transitionlogview/list/?_flt_0_record_type=PreDeclaration").get_data(as_text=True)
    assert "/predeclarationview/show/" in page and f"/applicationview/show/{application.id}" not in page
    # The search form offers the kinds by their names.
    # (in the page's script, JSON-escaped)
    assert 'value=\\"PreDeclaration\\"\\u003e' + json.dumps("预申报")[1:-1] in page


def test_the_migration_names_the_steps_logged_before_it(people):  # noqa: F811
    application = submitted(people)
    db.session.execute(update(TransitionLog).values(record_label=None))
    addressed = AuditEntry(username="x", source="web", action="create", record_type="EvaluationScore",
                           record_id="1", record_label="<app.models.evaluation.EvaluationScore object at 0x7f1>",
                           changes={})
    db.session.add(addressed)
    db.session.commit()
    spec = importlib.util.spec_from_file_location("migration_0014", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.fill_record_labels(db.session.connection())
    migration.forget_object_addresses(db.session.connection())
    db.session.commit()
    assert db.session.get(AuditEntry, addressed.id).record_label is None
    db.session.expire_all()
    steps = db.session.scalars(select(TransitionLog)).all()
    assert steps and all(step.record_label for step in steps)
    records = {("Application", application.id): db.session.get(Application, application.id)}
    for step in steps:
        record = records.get((step.record_type, step.record_id)) or db.session.get(
            {"PreDeclaration": PreDeclaration, "Mine": Mine}[step.record_type], step.record_id)
        # What the step is called is what the record is called (its model's display name).
        assert step.record_label == str(record), step.record_type


def test_each_step_keeps_what_its_record_was_called(people):  # noqa: F811
    application = submitted(people)
    step = workflow.history(application)[-1]
    assert step.record_label == f"{application.year} {application.mine_name}（{application.licence_no}）"
    assert sa_inspect(TransitionLog).columns["record_label"].type.length == 255
