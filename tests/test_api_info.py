"""The REST API describes itself truthfully and in Chinese (issue 18, point 11).

Every model REST resource's ``GET …/_info``, and the labels and titles of its list answer, as a
Chinese user reads them: every label and title is Chinese, none is a column name title-cased
(``Uscc``, FAB's fallback) or a word translated out of context (``number`` as 数量), no
description is the catalogue's header (``gettext("")``, "Project-Id-Version: …").

And ``required``: for every resource whose POST is FAB's own (the body its add schema
describes), a body of exactly the fields ``_info`` marks required is accepted (so nothing
marked optional is needed), and leaving out any one of them is refused, naming that field.
The cases below give, per resource, the role that may add and a complete valid body; the
required subset is read from ``_info``, not from this file.
"""
from __future__ import annotations

import datetime
import re

import pytest
from flask_appbuilder import ModelRestApi
from flask_babel import force_locale
from sqlalchemy import delete

from app import clock
from app.extensions import db
from app.models import (
    DirectoryEntry,
    IndicatorItem,
    IndicatorVersion,
    PublicNotice,
)
from app.services import workflow
from app.services.demo import demo_uscc
from app.web import labels
from app.web.base import DescribedModelRestApi
from tests.test_applications import draft, passed_predeclaration, people  # noqa: F401
from tests.test_surveillance import make_certificate

TODAY = clock.today()
ZH = {"Accept-Language": "zh"}
CJK = re.compile(r"[\u4e00-\u9fff]")
# Labels that may stand without a Chinese character, each with its reason. None so far: even
# code columns have Chinese names (统一社会信用代码, 采矿许可证号, 记录编号).
LATIN_LABELS: frozenset[str] = frozenset()
# Translations of a bare English word that mean something else where a column is meant: the
# photo checklist's "Number" (数量) for a certificate's number.
WRONG_LABELS = frozenset({"数量"})


def _model_apis(app) -> list[ModelRestApi]:
    return [view for view in app.appbuilder.baseviews if isinstance(view, ModelRestApi)]


def _prettified(column: str) -> str:
    """FAB's fallback label: ``uscc`` -> ``Uscc``, ``licence_no`` -> ``Licence No``."""
    return ModelRestApi._prettify_column(column)


def _label_faults(where: str, column: str, label) -> list[str]:
    text = str(label)
    faults = []
    if not CJK.search(text) and text not in LATIN_LABELS:
        faults.append(f"{where} {column}: label {text!r} is not Chinese")
    if text == _prettified(column) or text == column:
        faults.append(f"{where} {column}: label {text!r} is the column's name")
    if "Project-Id-Version" in text:
        faults.append(f"{where} {column}: label is the catalogue's header")
    if text in WRONG_LABELS:
        faults.append(f"{where} {column}: label {text!r} is a word translated out of its context")
    return faults


# ---------------------------------------------------------------------------
# Labels, titles, descriptions
# ---------------------------------------------------------------------------
def test_every_model_api_takes_its_description_from_the_one_base_class(app):
    strays = [type(view).__name__ for view in _model_apis(app) if not isinstance(view, DescribedModelRestApi)]
    assert strays == []
    assert len(_model_apis(app)) >= 29


def test_every_column_of_every_api_has_a_chinese_label(app):
    """Server-side, every column an API lists, shows, adds, edits (the item answer's labels
    too, which need a record to ask for over HTTP)."""
    faults = []
    with force_locale("zh"):
        for view in _model_apis(app):
            columns = {*view.list_columns, *view.show_columns, *view.add_columns, *view.edit_columns}
            for column in sorted(columns):
                faults += _label_faults(view.resource_name, column, view.label_columns.get(column, column))
            for title in (view.list_title, view.show_title, view.add_title, view.edit_title):
                if not CJK.search(str(title)):
                    faults.append(f"{view.resource_name}: title {str(title)!r} is not Chinese")
    assert faults == []


def test_every_info_speaks_chinese(app, make_user, api):
    client = api(make_user("admin"))
    faults, fields_seen = [], 0
    for view in _model_apis(app):
        response = client.get(f"/api/v1/{view.resource_name}/_info", headers=ZH)
        assert response.status_code == 200, view.resource_name
        info = response.get_json()
        for key in ("add_title", "edit_title"):
            if not CJK.search(info[key]):
                faults.append(f"{view.resource_name}: {key} {info[key]!r} is not Chinese")
        for key in ("add_columns", "edit_columns"):
            for field in info[key]:
                fields_seen += 1
                faults += _label_faults(f"{view.resource_name} {key}", field["name"], field["label"])
                if "Project-Id-Version" in field["description"] or "Content-Type" in field["description"]:
                    faults.append(f"{view.resource_name} {key} {field['name']}: description is the catalogue header")
                if field["description"] and not CJK.search(field["description"]):
                    faults.append(f"{view.resource_name} {key} {field['name']}: description "
                                  f"{field['description']!r} is not Chinese")
    assert faults == []
    assert fields_seen > 200


def test_every_list_answer_speaks_chinese(app, make_user, api):
    client = api(make_user("admin"))
    faults = []
    for view in _model_apis(app):
        response = client.get(f"/api/v1/{view.resource_name}/?q=(page_size:1)", headers=ZH)
        assert response.status_code == 200, view.resource_name
        body = response.get_json()
        if not CJK.search(body["list_title"]):
            faults.append(f"{view.resource_name}: list_title {body['list_title']!r} is not Chinese")
        assert set(body["label_columns"]) == set(view.list_columns), view.resource_name
        for column, label in body["label_columns"].items():
            faults += _label_faults(f"{view.resource_name} list", column, label)
        for column, description in body["description_columns"].items():
            if not description or "Project-Id-Version" in description:
                faults.append(f"{view.resource_name} list {column}: description {description!r}")
    assert faults == []


def test_a_certificates_number_is_its_number_not_a_quantity(make_user, api):
    client = api(make_user("admin"))
    for resource in ("certificate", "certificationcertificate"):
        labels_ = client.get(f"/api/v1/{resource}/?q=(page_size:1)", headers=ZH).get_json()["label_columns"]
        assert "编号" in labels_["number"] and "数量" not in labels_["number"], resource
    info = client.get("/api/v1/enterprise/_info", headers=ZH).get_json()
    assert {field["name"]: field["label"] for field in info["add_columns"]}["uscc"] == "统一社会信用代码"


def test_the_screens_and_the_api_share_their_labels(app):
    """One source: the enterprise screen and the enterprise API call a column the same."""
    views = {type(view).__name__: view for view in app.appbuilder.baseviews}
    with force_locale("zh"):
        for view_name, api_name, columns in (
            ("EnterpriseView", "EnterpriseApi", ("name", "uscc", "legal_representative", "region_code")),
            ("MineView", "MineApi", ("licence_no", "production_scale", "max_depth_m")),
            ("CertificateView", "CertificateApi", ("number", "validity_period")),
            ("ApplicationView", "ApplicationApi", ("uscc", "greening_coverage_pct")),
        ):
            for column in columns:
                assert str(views[view_name].label_columns[column]) == str(views[api_name].label_columns[column])


def test_the_shared_labels_are_not_written_to(app):
    """FAB writes its fallback labels into a view's label_columns: the shared dicts are read-only
    (each view takes a copy), and stay free of FAB's title-cased names."""
    for model, model_labels in labels.MODEL_LABELS.items():
        with pytest.raises(TypeError):
            model_labels["id"] = "Id"  # type: ignore[index]
        for column, label in model_labels.items():
            assert not isinstance(label, str) or label != _prettified(column), (model.__name__, column)


def test_a_missing_label_is_derived_never_title_cased():
    from app.models import Certificate, Mine

    with force_locale("zh"):
        assert str(labels.label_of(Mine, "enterprise_id")) == str(labels.MINE_LABELS["enterprise"])
        assert str(labels.label_of(Certificate, "entry.mine_name")) == str(labels.DIRECTORY_LABELS["mine_name"])
        assert str(labels.label_of(Mine, "id")) == "记录编号"
    assert labels.label_of(Mine, "no_such_column") == "no_such_column"


def test_info_describes_only_the_bodies_of_routes_that_exist(make_user, api):
    """FAB's POST / is not served by these (a route of their own, or none): _info must not
    document every column of the table as its body."""
    client = api(make_user("admin"))
    for resource in ("directory", "public_notice", "certificate", "national_recommendation", "region",
                     "responsibleperson"):
        info = client.get(f"/api/v1/{resource}/_info", headers=ZH).get_json()
        assert info["add_columns"] == [], resource
    info = client.get("/api/v1/spotcheck/_info", headers=ZH).get_json()
    assert info["add_columns"] == [] and info["edit_columns"]


# ---------------------------------------------------------------------------
# required: what a POST really needs
# ---------------------------------------------------------------------------
def _level_one_version() -> tuple[IndicatorVersion, IndicatorItem]:
    version = IndicatorVersion(code="t-info", name="测试指标体系", total_points=100, is_active=False)
    db.session.add(version)
    db.session.flush()
    area = IndicatorItem(version_id=version.id, code="1", level=1, name="测试领域", points=100)
    db.session.add(area)
    db.session.commit()
    return version, area


def _listed(mine, level="province") -> DirectoryEntry:
    entry = DirectoryEntry(mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code,
                           level=level, year=TODAY.year - 1, mine_name=mine.name,
                           enterprise_name=mine.enterprise.name, listed_on=TODAY.replace(month=1, day=1),
                           entry_reason="遴选入库")
    db.session.add(entry)
    db.session.commit()
    return entry


def _in_notice(people):
    application = draft(people)
    notice = PublicNotice(province_code="140000", title="测试公示", starts_on=TODAY - datetime.timedelta(days=2),
                          ends_on=TODAY + datetime.timedelta(days=5))
    db.session.add(notice)
    db.session.flush()
    application.public_notice_id = notice.id
    with workflow._status_writes_allowed(db.session):
        application.status = "in_notice"
        db.session.commit()
    return application


@pytest.fixture
def world(people, make_user, make_mine, make_enterprise, make_agency, make_certification_body,  # noqa: F811
          without_photo_checklist):
    import random

    rng = random.Random(18)
    mine = people["mine"]
    body = make_certification_body("测试认证中心")
    certified_mine = make_mine("140105", enterprise=mine.enterprise)
    certificate = make_certificate(certified_mine, body)
    version, area = _level_one_version()
    active_version = db.session.query(IndicatorVersion).filter_by(is_active=True).first()
    listed_mine = make_mine("140105", enterprise=mine.enterprise)
    _listed(listed_mine)
    inspector_account = make_user("inspector", "140000")
    yield dict(
        people,
        rng=rng,
        admin=make_user("admin"),
        certifier=make_user("certifier", certification_body_id=body.id),
        body=body,
        certificate=certificate,
        version=version,
        area=area,
        active_version=active_version,
        listed_mine=listed_mine,
        agency=make_agency("测试评估机构"),
        inspector_account=inspector_account,
        other_enterprise=make_enterprise("140105"),
    )
    # The catalogue is reference data, kept between tests: take the test's version out again.
    db.session.rollback()
    db.session.execute(delete(IndicatorItem).where(IndicatorItem.version_id == version.id))
    db.session.execute(delete(IndicatorVersion).where(IndicatorVersion.id == version.id))
    db.session.commit()


def _predeclaration_id(w):
    return passed_predeclaration(w).id


def _application_id(w):
    return _in_notice(w).id


# resource -> (role key in ``world``, complete body: every add column with a valid value, built
# from the world once per resource).
CASES = {
    "indicatorversion": ("admin", lambda w: {
        "code": "t-new", "name": "新测试体系", "total_points": 100, "pass_points": 80, "area_min_ratio": 0.6,
        "is_active": False, "source": "测试"}),
    # A first-level item (an area) has no parent; the parent is tested in test_evaluation.py.
    "indicatoritem": ("admin", lambda w: {
        "version_id": w["version"].id, "code": "2", "level": 1, "name": "第二领域", "points": 50, "sort_order": 2}),
    "provinceindicatoradoption": ("province", lambda w: {
        "province_code": "140000", "version_id": w["active_version"].id, "pass_points": 800,
        "area_min_ratio": 0.75, "adopted_on": TODAY.isoformat()}),
    "agency": ("province", lambda w: {
        "name": "新评估机构", "uscc": demo_uscc(w["rng"], "140105"), "qualification": "甲级"}),
    "agencyconflict": ("province", lambda w: {
        "agency_id": w["agency"].id, "enterprise_id": w["mine"].enterprise_id, "reason": "同一集团"}),
    "review_meeting": ("province", lambda w: {
        "held_on": TODAY.isoformat(), "members": "张委员（组长）\n李委员", "note": "第一次会审"}),
    "objection": ("province", lambda w: {
        "application_id": _application_id(w), "received_on": TODAY.isoformat(), "content": "群众来信反映问题"}),
    "demo_zone": ("county", lambda w: {
        "name": "小店区绿色矿业发展示范区", "year": TODAY.year, "plan_summary": "三年建设方案"}),
    "anomaly": ("province", lambda w: {
        "mine_id": w["mine"].id, "reason": "未按期报送年度信息", "decision": "晋自然资〔2026〕1号"}),
    "selfcheck": ("enterprise", lambda w: {
        "mine_id": w["listed_mine"].id, "year": TODAY.year, "area_environment": "无", "area_development": "无",
        "area_utilization": "无", "area_energy": "无", "area_innovation": "无", "area_management": "无",
        "achievements": "完成矿区绿化", "problems": "无", "measures": "无"}),
    "problemlead": ("county", lambda w: {
        "mine_id": w["mine"].id, "received_on": TODAY.isoformat(), "source": "群众举报", "content": "夜间超范围堆放废石"}),
    "inspector": ("province", lambda w: {
        "user_id": w["inspector_account"].id, "home_region_code": "140105", "name": "王核查", "unit": "省地质院",
        "title": "高级工程师", "title_grade": "senior", "admin_rank": "division", "active": True}),
    "spotcheckcampaign": ("province", lambda w: {
        "title": "2026年绿色矿山抽查", "year": TODAY.year, "is_supplementary": False, "ratio": 0.2, "team_size": 3,
        "team_count": 2,
        "report_deadline": (TODAY + datetime.timedelta(days=60)).isoformat()}),
    "certificationbody": ("admin", lambda w: {
        "name": "新认证机构", "uscc": demo_uscc(w["rng"], "110105"), "approval_no": "CNCA-R-2099-001",
        "active": True}),
    "certificationapplication": ("enterprise", lambda w: {"mine_id": w["mine"].id, "body_id": w["body"].id}),
    "surveillanceaudit": ("certifier", lambda w: {
        "certificate_id": w["certificate"].id, "planned_on": TODAY.isoformat(), "audit_on": TODAY.isoformat(),
        "team": "组长：张三", "findings": "现场核查，运行良好", "score_share": 92.5}),
    "enterprise": ("county", lambda w: {
        "name": "新某矿业有限公司", "uscc": demo_uscc(w["rng"], "140105"), "economic_type": "limited_liability",
        "legal_representative": "张三", "contact_person": "李四", "address": "小店区某路1号",
        "mobile": "13800138000", "phone": "0351-1234567", "fax": "0351-1234568", "email": "a@mine.invalid",
        "postcode": "030000", "region_code": "140105"}),
    "mine": ("county", lambda w: {
        "name": "新测试矿", "address": "小店区某路2号", "licence_no": "C1400002021061000000999",
        "enterprise_id": w["other_enterprise"].id, "employees": 120, "mineral_id": w["mine"].mineral_id,
        "mining_method": "underground", "production_scale": 60, "area_km2": 2.5, "issuing_authority": "山西省自然资源厅",
        "size": "medium", "region_code": "140105", "licence_valid_from": "2021-06-10",
        "licence_valid_to": "2031-06-10", "is_new_or_expanded": False, "production_started_on": "2015-01-01",
        "design_capacity": 60, "development_method": "shaft", "max_depth_m": 420, "workers_per_shift": 40,
        "production_status": "producing", "supervision_level": "county", "latitude": 37.7, "longitude": 112.6,
        "principal_name": "赵矿长", "principal_phone": "13900000000"}),
    "predeclaration": ("enterprise", lambda w: {
        "mine_id": w["mine"].id, "region_code": "140105", "year": TODAY.year + 1}),
    "application": ("enterprise", lambda w: {"predeclaration_id": _predeclaration_id(w)}),
}


# Add columns a case's complete body leaves out, each with its reason.
NOT_IN_THE_COMPLETE_BODY = {
    # Only an item below the first level has a parent, and the first level's item is the one
    # whose minimal body (no parent) is valid.
    "indicatoritem": {"parent_id"},
    # The year's first campaign is no supplementary round: it gives no reason for one.
    "spotcheckcampaign": {"supplementary_reason"},
}


def _names(response_json: dict, key: str) -> bool:
    """Whether a refusal names the body key ``key``: marshmallow's per-key messages, or our
    rules' ``field``, which may name the relationship the key stands for (``mine`` for
    ``mine_id``, as the screen's field is called)."""
    message = response_json.get("message")
    if isinstance(message, dict):
        return key in message
    related = re.sub(r"_(id|code)$", "", key)
    return response_json.get("field") in (key, related)


def _post(client, resource: str, body: dict):
    response = client.post(f"/api/v1/{resource}/", json=body, headers=ZH)
    created = response.get_json().get("id") if response.status_code == 201 else None
    return response, created


def _forget(view, record_id) -> None:
    """Delete what a successful POST created, so that the next body may create it again."""
    db.session.rollback()
    model = view.datamodel.obj
    db.session.execute(delete(model).where(model.id == record_id))
    db.session.commit()


def test_every_post_resource_has_a_case(app):
    posting = {view.resource_name for view in _model_apis(app) if view.serves("post")}
    assert posting == set(CASES)


@pytest.mark.parametrize("resource", sorted(CASES))
def test_required_in_info_is_what_a_post_requires(app, world, api, resource):
    role, make_body = CASES[resource]
    client = api(world[role])
    view = next(view for view in _model_apis(app) if view.resource_name == resource)
    info = client.get(f"/api/v1/{resource}/_info?q=(keys:!(add_columns))", headers=ZH).get_json()
    fields = {field["name"]: field for field in info["add_columns"]}
    body = make_body(world)
    assert set(body) | NOT_IN_THE_COMPLETE_BODY.get(resource, set()) == set(fields), \
        "the case must give every add column"
    required = [name for name, field in fields.items() if field["required"]]

    # The complete body is valid: the case is a real one.
    response, created = _post(client, resource, body)
    assert response.status_code == 201, response.get_json()
    _forget(view, created)

    # Only the fields marked required: accepted, so no field marked optional is needed.
    response, created = _post(client, resource, {name: body[name] for name in required})
    assert response.status_code == 201, (required, response.get_json())
    _forget(view, created)

    # Each field marked required, left out: refused, naming it.
    for name in required:
        response, created = _post(client, resource, {key: value for key, value in body.items() if key != name})
        if created:
            _forget(view, created)
        assert response.status_code in (400, 422) and _names(response.get_json(), name), (name, response.get_json())
