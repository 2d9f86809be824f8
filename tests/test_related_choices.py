"""Related-field choices are scoped (issue 16, point 1).

FAB lists the choices of every related field without the view's base filters: the REST
``GET /api/v1/<resource>/_info`` (any page of them, with their count), the HTML add and edit
forms' select boxes and the list's search widget. Every one of them must offer only the records
the user may read (``scoping.can_access``) and only the accounts he may know about; the tests walk
every registered resource and view for every role, over records of every kind built on three
sides: 小店区 (太原市, 山西省: the bound users' side), 平城区 (大同市, 山西省: another city of the same
province) and 长安区 (石家庄市, 河北省: another province), each with its own enterprise, agency,
inspector team and certification body.
"""
from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import select

from app.extensions import db
from app.models import (AgencyAssignment, Application, Certificate, DirectoryEntry, GreenMineUser, PreDeclaration,
                        PublicNotice)
from app.models.certification import (CertificationApplication, CertificationCertificate, CertificationPause,
                                      CertificationTeamMember, SurveillanceAudit)
from app.models.review import Objection
from app.models.spotcheck import (Inspector, SpotCheck, SpotCheckCampaign, SpotCheckConfirmation, SpotCheckTeam,
                                  SpotCheckTeamMember)
from app.services import scoping, workflow
from app.web.datamodel import ChoiceInterface, ListInterface

SIDES = {
    "own": ("140000", "140100", "140105"),        # 山西省 太原市 小店区
    "other_city": ("140000", "140200", "140213"),  # 山西省 大同市 平城区
    "other_province": ("130000", "130100", "130102"),  # 河北省 石家庄市 长安区
}
# The REST API's largest page (FAB_API_MAX_PAGE_SIZE, 100 by default).
PAGE_SIZE = 100
TODAY = datetime.date(2026, 6, 1)


def _side(tag: str, make_mine, make_user, make_agency, make_certification_body) -> dict:
    """One record of every kind that a form or ``_info`` offers as a choice, in one county."""
    province, _city, county = SIDES[tag]
    mine = make_mine(county, name=f"{tag}矿")
    enterprise = mine.enterprise
    fields = dict(enterprise_name=enterprise.name, mine_name=mine.name, licence_no=mine.licence_no,
                  uscc=enterprise.uscc)
    agency = make_agency(f"{tag}评估机构")
    body = make_certification_body(f"{tag}认证机构")
    inspector_account = make_user("inspector", county, username=f"{tag}-inspector")
    predeclaration = PreDeclaration(enterprise=enterprise, mine=mine, region_code=county, year=2026, status="passed")
    notice = PublicNotice(province_code=province, title=f"{tag}公示", starts_on=TODAY, ends_on=TODAY)
    application = Application(predeclaration=predeclaration, enterprise=enterprise, mine=mine, region_code=county,
                              year=2026, status="in_notice", public_notice=notice, **fields)
    assignment = AgencyAssignment(application=application, agency=agency, algorithm="test", seed="1",
                                  candidate_ids=[agency.id])
    objection = Objection(application=application, region_code=county, received_on=TODAY, content="异议")
    entry = DirectoryEntry(mine=mine, enterprise=enterprise, region_code=county, level="province", year=2026,
                           status="listed", mine_name=mine.name, enterprise_name=enterprise.name, listed_on=TODAY,
                           entry_reason="遴选")
    certificate = Certificate(number=f"GM-{tag}", entry=entry, enterprise_id=enterprise.id, region_code=county,
                              issued_on=TODAY)
    inspector = Inspector(user=inspector_account, pool_region_code=province, home_region_code=county, name=f"{tag}核查员")
    campaign = SpotCheckCampaign(year=2026, level="province", region_code=province, title=f"{tag}抽查", ratio=0.2)
    team = SpotCheckTeam(campaign=campaign, number=1, leader=inspector)
    member = SpotCheckTeamMember(team=team, inspector=inspector, position=1)
    check = SpotCheck(campaign=campaign, entry=entry, team=team, position=1, entry_level="province",
                      mine_name=mine.name, licence_no=mine.licence_no, mine=mine, enterprise=enterprise,
                      region_code=county)
    confirmation = SpotCheckConfirmation(check=check, inspector=inspector, user_id=inspector_account.id)
    certification = CertificationApplication(mine=mine, enterprise=enterprise, region_code=county, body=body,
                                             status="evaluating", **fields)
    team_member = CertificationTeamMember(certification=certification, name=f"{tag}组长", team_role="leader")
    pause = CertificationPause(certification=certification, started_on=TODAY)
    certified = CertificationCertificate(number=f"RZ-{tag}", certification=certification, mine=mine,
                                         enterprise_id=enterprise.id, region_code=county, body=body, grade="AAAAA",
                                         mine_name=mine.name, enterprise_name=enterprise.name, issued_on=TODAY,
                                         valid_from=TODAY, valid_until=TODAY.replace(year=2029))
    audit = SurveillanceAudit(certificate=certified)
    # Built in the states the records reach through their workflows (a test fixture may write them).
    with workflow._status_writes_allowed(db.session):
        db.session.add_all([predeclaration, notice, application, assignment, objection, entry, certificate,
                            inspector, campaign, team, member, check, confirmation, certification, team_member,
                            pause, certified, audit])
        db.session.commit()
    return {"mine": mine, "enterprise": enterprise, "agency": agency, "body": body, "application": application,
            "inspector_account": inspector_account}


@pytest.fixture
def world(make_mine, make_user, make_agency, make_certification_body):
    """Three sides, and one user of each role bound to the first one (小店区)."""
    sides = {tag: _side(tag, make_mine, make_user, make_agency, make_certification_body) for tag in SIDES}
    own = sides["own"]
    # A second mine of 小店区 (the county pages through two), and accounts nobody but the
    # administrator (and, for the inspector pools, the authorities) may list.
    make_mine(SIDES["own"][2], enterprise=own["enterprise"], name="own第二矿")
    make_user("inspector", username="unbound-inspector")
    for tag, (_province, _city, county) in SIDES.items():
        make_user("county", county, username=f"{tag}-county")
        make_user("enterprise", enterprise=sides[tag]["enterprise"], username=f"{tag}-enterprise")
    users = {
        "admin": make_user("admin"),
        "national": make_user("national"),
        "province": make_user("province", "140000"),
        "city": make_user("city", "140100"),
        "county": make_user("county", "140105"),
        "enterprise": make_user("enterprise", enterprise=own["enterprise"]),
        "agency": make_user("agency", agency=own["agency"]),
        "inspector": own["inspector_account"],
        "certifier": make_user("certifier", certification_body_id=own["body"].id),
    }
    return {"sides": sides, "users": users}


# ---------------------------------------------------------------------------
# What each role may be offered, written out independently of the rule under test
# ---------------------------------------------------------------------------
def _holds(account, role: str) -> bool:
    return role in {r.name for r in account.roles}


def _may_be_offered_account(user, account) -> bool:
    """The accounts a user may know about: the administrator all; everybody himself; the
    authorities (by region or national) the inspector accounts of their region or of none."""
    if _holds(user, "admin") or account.id == user.id:
        return True
    if not _holds(account, "inspector"):
        return False
    if _holds(user, "national"):
        return True
    prefix = {"province": 2, "city": 4, "county": 6}
    for role, length in prefix.items():
        if _holds(user, role):
            return account.region_code is None or account.region_code.startswith(user.region_code[:length])
    return False


def _is_account(model) -> bool:
    return issubclass(model, User)


def _is_reference(model) -> bool:
    return not scoping.is_scoped(model)


def _may_be_offered(user, row) -> bool:
    model = type(row)
    if _is_account(model):
        return _may_be_offered_account(user, row)
    if _is_reference(model):
        return True
    if scoping.scope_path(model) is not None:
        return scoping.can_access(user, row, scoping.READ)
    return _holds(user, "admin")


def _restricted(model) -> bool:
    """A model whose rows are not offered to everyone."""
    return not _is_reference(model)


def _out_of_reach(user, model) -> list:
    return [row for row in db.session.scalars(select(model)) if not _may_be_offered(user, row)]


def _assert_each_role_has_an_out_of_scope_candidate(world, models) -> None:
    """The walk can only fail where a row exists that the role may not be offered: there is one
    for every restricted model, for every role that does not reach every record."""
    missing = []
    for role, user in world["users"].items():
        for model in models:
            if role == "admin" or (role == "national" and not _is_account(model)) or not _restricted(model):
                continue
            if not _out_of_reach(user, model):
                missing.append((role, model.__name__))
    assert missing == []


# ---------------------------------------------------------------------------
# REST: every resource's _info, every related field, every page
# ---------------------------------------------------------------------------
def _related_fields(api_view, key: str) -> dict[str, type]:
    """The related fields ``_info`` describes under ``key``: those of the POST or PUT body of FAB's
    own that the resource serves (``_info`` describes no other body, see tests/test_api_info.py)."""
    from marshmallow_sqlalchemy.fields import Related, RelatedList

    if not api_view.serves("post" if key == "add_columns" else "put"):
        return {}
    columns = api_view.add_columns if key == "add_columns" else api_view.edit_columns
    schema = api_view.add_model_schema if key == "add_columns" else api_view.edit_model_schema
    return {name: api_view.datamodel.get_related_model(name) for name in columns
            if isinstance(schema.fields[name], (Related, RelatedList))}


def _rest_apis(app):
    return [view for view in app.appbuilder.baseviews if isinstance(view, ModelRestApi)]


def _info_pages(client, api_view, key: str, fields: dict[str, type]):
    """(field, count, values) for every related field of ``key``, every page."""
    for name in fields:
        values, page, count = [], 0, None
        while True:
            url = (f"/api/v1/{api_view.resource_name}/_info?q=(keys:!({key}),"
                   f"{key}:({name}:(page:{page},page_size:{PAGE_SIZE})))")
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            info = {field["name"]: field for field in response.get_json()[key]}[name]
            count = info["count"]
            values += info["values"]
            if not info["values"] or len(values) >= count or not _restricted(fields[name]):
                break  # reference data: everything is offered, one page shows it
            page += 1
        yield name, count, values


def test_every_rest_info_offers_only_choices_in_the_users_scope(app, world, api):
    offending, related_models = [], set()
    for api_view in _rest_apis(app):
        for key in ("add_columns", "edit_columns"):
            fields = _related_fields(api_view, key)
            related_models.update(fields.values())
            if not fields:
                continue
            for role, user in world["users"].items():
                client = api(user)
                probe = client.get(f"/api/v1/{api_view.resource_name}/_info?q=(keys:!({key}))")
                if probe.status_code in (401, 403):
                    continue
                assert probe.status_code == 200, (api_view.resource_name, role, probe.status_code)
                for name, count, values in _info_pages(client, api_view, key, fields):
                    model = fields[name]
                    # The count is the number of choices offered, not of the table's rows.
                    if _restricted(model) and count != len(values):
                        offending.append((api_view.resource_name, key, name, role, "count", count, len(values)))
                    for value in values:
                        row = db.session.get(model, value["id"])
                        if row is None or not _may_be_offered(user, row):
                            offending.append((api_view.resource_name, key, name, role, value["id"], value["value"]))
    assert offending == []
    _assert_each_role_has_an_out_of_scope_candidate(world, related_models)
    # The fields the attack paged through belong to POST and PUT bodies that these resources do
    # not take (their POST is a route of their own, or they have none): _info no longer
    # describes those bodies, so it offers none of their choices, to any role.
    for resource, field in (("directory", "mine"), ("anomaly", "mine"), ("responsibleperson", "mine"),
                            ("responsibleperson", "entered_by"), ("spotcheck", "team"), ("certificate", "entry"),
                            ("objection", "application"), ("public_notice", "applications"),
                            ("national_recommendation", "entry"), ("certificationcertificate", "body")):
        for role in ("county", "city", "province"):
            response = api(world["users"][role]).get(f"/api/v1/{resource}/_info")
            assert response.status_code == 200, (resource, role)
            info = response.get_json()
            offered = {f["name"] for key in ("add_columns", "edit_columns") for f in info[key] if "values" in f}
            assert field not in offered, (resource, field, role)
    # Today no body a resource takes has a related field (they name records by id, which the
    # rules check): the walk above covers a new one, for every role.


def test_the_county_pages_through_no_choices_of_a_body_the_resource_does_not_take(world, api):
    """The rison page arguments of ``_info`` once paged through the directory's mines (a body of
    FAB's POST, which the directory does not take: its POST lists a mine by licence number).
    Now there is nothing to page through, for any page."""
    county = world["users"]["county"]
    for page in range(3):
        response = api(county).get(f"/api/v1/directory/_info?q=(keys:!(add_columns),"
                                   f"add_columns:(mine:(page:{page},page_size:1)))")
        assert response.status_code == 200
        assert response.get_json()["add_columns"] == []


# ---------------------------------------------------------------------------
# HTML: the add and edit forms' select boxes and the list's search widget
# ---------------------------------------------------------------------------
_SELECT = re.compile(r'<select\b[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', re.S)
_OPTION = re.compile(r'<option\b[^>]*\bvalue="([^"]*)"')


def _options(html: str) -> dict[str, list[str]]:
    """name -> option values of every select box of a page, including the search widget's, which
    FAB writes as JSON strings for its script (``tojson`` escapes the markup)."""
    for escaped, plain in (("\\u003c", "<"), ("\\u003e", ">"), ("\\u0026", "&"), ("\\u0027", "'"),
                           ('\\"', '"')):
        html = html.replace(escaped, plain)
    found: dict[str, list[str]] = {}
    for name, body in _SELECT.findall(html):
        found.setdefault(name, []).extend(unescape(v) for v in _OPTION.findall(body) if v not in ("", "__None"))
    return found


def _model_views(app):
    return [view for view in app.appbuilder.baseviews if isinstance(view, ModelView)]


def _relations(view, columns) -> dict[str, type]:
    return {name: view.datamodel.get_related_model(name) for name in columns or ()
            if view.datamodel.is_relation(name)}


def _a_record_for(view, user):
    model = view.datamodel.obj
    return db.session.scalars(select(model).where(scoping.scope_filter(model, user)).limit(1)).first()


def _pk_of(model, raw: str):
    column = model.__mapper__.primary_key[0]
    return int(raw) if column.type.python_type is int else raw


def test_every_html_form_and_search_widget_offers_only_choices_in_the_users_scope(app, world, browser):
    offending, checked, related_models = [], set(), set()
    for view in _model_views(app):
        base = "/" + view.route_base.strip("/")
        for role, user in world["users"].items():
            page = browser(user)
            record = _a_record_for(view, user)
            pages = [("add", f"{base}/add", _relations(view, view.add_columns)),
                     ("search", f"{base}/list/", _relations(view, view.search_columns))]
            if record is not None:
                pk = view.datamodel.get_pk_value(record)
                pages.append(("edit", f"{base}/edit/{pk}", _relations(view, view.edit_columns)))
            for kind, url, relations in pages:
                if not relations:
                    continue
                related_models.update(relations.values())
                response = page.get(url)
                if response.status_code != 200:
                    continue  # not this role's page (refused, redirected to login, no such route)
                options = _options(response.get_data(as_text=True))
                for name, model in relations.items():
                    if name not in options:
                        continue  # not a select box (a search-as-you-type field, a text field)
                    checked.add((view.__class__.__name__, kind, name, role))
                    for raw in options[name]:
                        row = db.session.get(model, _pk_of(model, raw))
                        if row is None or not _may_be_offered(user, row):
                            offending.append((view.__class__.__name__, kind, name, role, raw, str(row)))
    assert offending == []
    # The forms that offered the country's records before are among those checked.
    for view_name, kind, field, role in (("AnomalyEntryView", "add", "mine", "province"),
                                         ("ObjectionView", "add", "application", "province"),
                                         ("CertificationApplicationView", "search", "body", "county"),
                                         ("SurveillanceAuditView", "add", "certificate", "certifier"),
                                         ("PreDeclarationView", "add", "mine", "enterprise")):
        assert (view_name, kind, field, role) in checked, (view_name, kind, field, role)
    _assert_each_role_has_an_out_of_scope_candidate(
        world, {model for model in related_models if model.__module__.startswith("app.")})


def test_every_choice_list_goes_through_the_choice_rule(app):
    """The guard for the next view: FAB queries a related field's choices through the view's
    data interface. Every view and API with a relation among its form, search or REST columns
    uses a ``ListInterface`` (whose related interface applies the choice rule), unless no role
    but the administrator may open it (FAB's own user, role and permission screens)."""
    from marshmallow_sqlalchemy.fields import Related, RelatedList

    sm = app.appbuilder.sm
    # The permissions that open a form, a list's search widget or a REST _info.
    opening = {"can_add", "can_edit", "can_list", "can_info"}
    granted = {permission.view_menu.name for role in sm.get_all_roles() if role.name != "admin"
               for permission in role.permissions if permission.permission.name in opening}
    outside, through_the_rule = [], 0
    for view in app.appbuilder.baseviews:
        if isinstance(view, ModelView):
            columns = [*(view.add_columns or ()), *(view.edit_columns or ()), *(view.search_columns or ())]
            relations = [name for name in columns if view.datamodel.is_relation(name)]
        elif isinstance(view, ModelRestApi):
            relations = [name for columns, schema in ((view.add_columns, view.add_model_schema),
                                                      (view.edit_columns, view.edit_model_schema))
                         for name in columns or () if isinstance(schema.fields[name], (Related, RelatedList))]
        else:
            continue
        if not relations:
            continue
        if isinstance(view.datamodel, ListInterface):
            for name in relations:
                assert isinstance(view.datamodel.get_related_interface(name), ChoiceInterface), (view, name)
                through_the_rule += 1
        elif view.class_permission_name in granted:
            outside.append(view.__class__.__name__)
    assert outside == []
    assert through_the_rule > 50


# ---------------------------------------------------------------------------
# The rule itself, and the search-as-you-type fields
# ---------------------------------------------------------------------------
def test_the_choice_rule_and_its_record_check_agree(world):
    models = [GreenMineUser, Application, DirectoryEntry, SpotCheckTeam, CertificationApplication, Inspector]
    for role, user in world["users"].items():
        for model in models:
            offered = set(db.session.scalars(select(model.id).where(scoping.choice_filter(model, user))))
            for row in db.session.scalars(select(model)):
                assert (row.id in offered) == scoping.can_choose(user, row) == _may_be_offered(user, row), (
                    role, model.__name__, row)


def test_accounts_offered_per_role(world):
    users, sides = world["users"], world["sides"]

    def offered(role):
        return set(db.session.scalars(select(GreenMineUser.username).where(
            scoping.choice_filter(GreenMineUser, users[role]))))

    everyone = set(db.session.scalars(select(GreenMineUser.username)))
    assert offered("admin") == everyone
    inspectors = {"own-inspector", "other_city-inspector", "other_province-inspector", "unbound-inspector"}
    assert offered("national") == inspectors | {users["national"].username}
    assert offered("province") == {"own-inspector", "other_city-inspector", "unbound-inspector",
                                   users["province"].username}
    assert offered("county") == {"own-inspector", "unbound-inspector", users["county"].username}
    for role in ("enterprise", "agency", "inspector", "certifier"):
        assert offered(role) == {users[role].username}, role
    # FAB's own User class (roles' and groups' screens) follows the same rule.
    assert set(db.session.scalars(select(User.username).where(scoping.choice_filter(User, users["county"])))) == \
        offered("county")
    # Models that are neither records nor reference data nor accounts: the administrator only.
    from flask_appbuilder.security.sqla.models import Role

    assert db.session.scalars(select(Role).where(scoping.choice_filter(Role, users["national"]))).all() == []
    assert db.session.scalars(select(Role).where(scoping.choice_filter(Role, users["admin"]))).all()
    assert not scoping.can_choose(None, sides["own"]["mine"])


def test_a_search_select_refuses_and_does_not_echo_an_out_of_scope_choice(world, browser):
    """A search-as-you-type field posted with a row the search would not offer: refused on the
    field like an unknown one, and the row's name is not shown back."""
    county = world["users"]["county"]
    foreign = world["sides"]["other_province"]["enterprise"]
    page = browser(county)
    response = page.post("/mineview/add", data={"name": "越界矿", "enterprise": str(foreign.id),
                                                "region_code": "140105", "licence_no": "C1401052026017130000001"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert foreign.name not in html and foreign.uscc not in html
    assert "Not a valid choice" in html or "不是有效的选项" in html or "无效" in html
    # The account search of the inspector pool offers the rule's accounts only.
    found = {row["text"] for row in browser(world["users"]["province"]).get("/inspectorview/choices/user?q=inspector")
             .get_json()["results"]}
    assert any("unbound-inspector" in text for text in found)
    assert not any("other_province-inspector" in text for text in found)


def test_a_select_box_refuses_a_posted_choice_it_did_not_offer(world, browser):
    """The choices are evaluated again when the form comes back: a province posting another
    province's application in public notice records no objection."""
    foreign = world["sides"]["other_province"]["application"]
    response = browser(world["users"]["province"]).post("/objectionview/add", data={
        "application": str(foreign.id), "received_on": TODAY.isoformat(), "content": "越界异议"})
    html = response.get_data(as_text=True)
    # The form comes back with the field refused (FAB's select finds no such choice: required).
    assert response.status_code == 200 and "alert-danger" in html
    assert "other_province矿" not in html
    assert db.session.scalars(select(Objection).where(Objection.content == "越界异议")).all() == []
