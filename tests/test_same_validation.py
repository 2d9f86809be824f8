"""Issue 18, points 4 and 5.

4. The same data is validated the same way on every path: the licence number and the credit code
   of the green-mine application and of the certification application go through the registry's
   validators (app.services.codes) with the registry's zh messages, on the screens and the REST
   API; every error of one save is reported at once, each on its field; regions are chosen by
   name from a scoped search and shown by their full names; yes/no values read 是 / 否.
5. Submitting needs the materials: APPLICATION_REQUIRED_MATERIALS (default: the self-evaluation
   report) and CERTIFICATION_REQUIRED_MATERIALS (default: seed 002 §四's self-evaluation report,
   work atlas and supporting documents); the refusal names what is missing.
"""
from __future__ import annotations

import datetime
import html
import re

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from app.extensions import db
from app.models import Application, ApplicationWindow, CertificationApplication, PreDeclaration
from app.models.application import SITUATION_AREAS
from app.models.certification import CERTIFICATION_CONDITIONS
from app.services import applications, certification, codes, evaluation, predeclarations, uploads, workflow
from app.services.exceptions import ErrorCollector, FieldErrors, TransitionRefused, ValidationFailed
from tests.conftest import upload_required_materials
from tests.test_applications import (YEAR, _form, _photo_checklist_not_in_the_way, complete, draft,  # noqa: F401
                                     passed_predeclaration, people, status_of)

BAD_LICENCE = "C123"
# A well-formed code whose check character is wrong (the right one is named in the message).
BAD_USCC = "91350100M000100Y44"
# A letter that no credit code has (O).
BAD_USCC_LETTER = "91350100M000100YO3"


def zh(message) -> str:
    with force_locale("zh"):
        return str(message)


def registry_message(validator, value) -> str:
    """The refusal the registry gives for ``value`` (the enterprise and mine forms call the same
    validator), as a zh user reads it."""
    with force_locale("zh"):
        with pytest.raises(ValidationFailed) as refused:
            validator(value)
        return str(refused.value)


def shows_bare_code(text: str, code: str) -> bool:
    """Whether ``code`` stands on its own in ``text`` (not inside a credit code or licence number)."""
    return re.search(rf"(?<![0-9A-Z]){code}(?![0-9A-Z])", text) is not None


def field_errors(page: str) -> dict[str, list[str]]:
    """The messages FAB's form shows under each field (``<div class="alert alert-danger">``
    between the field's input and the end of its cell), by field name."""
    found: dict[str, list[str]] = {}
    for cell in re.findall(r"<td>(.*?)</td>", page, flags=re.S):
        field = re.search(r'<(?:input|select|textarea)[^>]*\bname="([a-z_0-9]+)"', cell)
        if field is None:
            continue
        messages = [html.unescape(text.strip()) for text in
                    re.findall(r'<div class="alert alert-danger">\s*(.*?)\s*</div>', cell, flags=re.S)]
        if messages:
            found[field.group(1)] = messages
    return found


# ---------------------------------------------------------------------------
# 4. One validator, one message, every path
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("field, value, validator", [
    ("licence_no", BAD_LICENCE, codes.validate_licence_no),
    ("licence_no", "X1400002021061000000777", codes.validate_licence_no),
    ("uscc", BAD_USCC, codes.validate_uscc),
    ("uscc", BAD_USCC_LETTER, codes.validate_uscc),
    ("uscc", "9135010", codes.validate_uscc),
])
def test_the_application_checks_codes_with_the_registry_validators_and_messages(people, api, browser, make_user,
                                                                                 field, value, validator):
    expected = registry_message(validator, value)
    application = draft(people)
    before = getattr(application, field)
    # REST
    response = api(people["enterprise"]).put(f"/api/v1/application/{application.id}", json={field: value})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field and response.get_json()["message"] == expected
    # The screen: the same message under the field, the input kept, nothing saved.
    page = browser(people["enterprise"]).post(f"/applicationview/edit/{application.id}",
                                              data=_form(application, **{field: value}))
    assert page.status_code == 200
    assert field_errors(page.get_data(as_text=True)).get(field) == [expected]
    db.session.expire_all()
    assert getattr(db.session.get(Application, application.id), field) == before
    # The registry says the same of the same value (the mine and enterprise REST paths).
    county = api(make_user("county", "140105"))
    if field == "licence_no":
        registry = county.put(f"/api/v1/mine/{people['mine'].id}", json={"licence_no": value})
    else:
        registry = county.put(f"/api/v1/enterprise/{people['mine'].enterprise_id}", json={"uscc": value})
    assert registry.status_code == 422 and registry.get_json()["message"] == expected


def test_a_good_code_is_normalised_as_the_registry_does(people, api):
    application = draft(people)
    number = people["mine"].licence_no
    spaced = f" {number[:5]} {number[5:].lower()} "
    response = api(people["enterprise"]).put(f"/api/v1/application/{application.id}",
                                             json={"licence_no": spaced, "uscc": application.uscc.lower()})
    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    saved = db.session.get(Application, application.id)
    assert saved.licence_no == codes.validate_licence_no(spaced) == number
    assert saved.uscc == people["mine"].enterprise.uscc


MANY_BAD = {"licence_no": BAD_LICENCE, "uscc": BAD_USCC, "email": "not-an-address", "postcode": "123",
            "mobile": "abc", "greening_coverage_pct": 150}


def _expected_many() -> dict[str, str]:
    with force_locale("zh"):
        return {
            "licence_no": registry_message(codes.validate_licence_no, BAD_LICENCE),
            "uscc": registry_message(codes.validate_uscc, BAD_USCC),
            "email": gettext("“%(value)s” is not an e-mail address.", value="not-an-address"),
            "postcode": gettext("A postcode has 6 digits."),
            "mobile": gettext("“%(value)s” is not a telephone number.", value="abc"),
            "greening_coverage_pct": gettext("A percentage lies between 0 and 100."),
        }


def test_every_error_of_one_save_is_shown_at_once_on_its_field(people, browser):
    application = draft(people)
    client = browser(people["enterprise"])
    data = _form(application, **{name: str(value) for name, value in MANY_BAD.items()}, contact_person="王五")
    response = client.post(f"/applicationview/edit/{application.id}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    errors = field_errors(page)
    assert {name: messages for name, messages in errors.items()} == {
        name: [message] for name, message in _expected_many().items()}
    # The summary at the top says how many; the input is kept; nothing is saved.
    assert zh(gettext("%(count)s entries need correcting; each is marked at its field.", count=6)) in page
    assert 'value="王五"' in page and 'value="not-an-address"' in page
    db.session.expire_all()
    saved = db.session.get(Application, application.id)
    assert (saved.contact_person, saved.email, saved.greening_coverage_pct) == ("李四", None, None)


def test_every_error_of_one_save_is_listed_by_the_api(people, api):
    application = draft(people)
    client = api(people["enterprise"])
    response = client.put(f"/api/v1/application/{application.id}", json=dict(MANY_BAD, contact_person="王五"))
    assert response.status_code == 422
    body = response.get_json()
    assert {error["field"]: error["message"] for error in body["errors"]} == _expected_many()
    assert len(body["errors"]) == len(MANY_BAD)
    assert body["message"] == zh(gettext("%(count)s entries need correcting; each is marked at its field.", count=6))
    assert body["field"] == body["errors"][0]["field"]
    db.session.expire_all()
    assert db.session.get(Application, application.id).contact_person == "李四"
    # One error alone keeps the plain shape.
    single = client.put(f"/api/v1/application/{application.id}", json={"postcode": "123"}).get_json()
    assert single["field"] == "postcode" and "errors" not in single


def test_a_protected_field_is_reported_with_the_form_errors(people, api):
    application = draft(people)
    response = api(people["enterprise"]).put(f"/api/v1/application/{application.id}",
                                             json={"region_code": "140121", "uscc": BAD_USCC})
    assert response.status_code in (400, 422)
    db.session.expire_all()
    assert db.session.get(Application, application.id).region_code == "140105"
    # In the service (the API's schema has no region_code to write): both at once.
    application = db.session.get(Application, application.id)
    application.region_code, application.uscc = "140121", BAD_USCC
    with pytest.raises(FieldErrors) as refused:
        applications.record_rule(application, people["enterprise"], "edit")
    assert {error.field for error in refused.value.errors} == {"region_code", "uscc"}
    db.session.rollback()


def test_the_collector_keeps_input_errors_and_lets_other_refusals_through():
    errors = ErrorCollector()
    with errors.on_field("a"):
        raise ValidationFailed("first")
    with errors.on_field("b"):
        raise FieldErrors([ValidationFailed("second", field="b"), ValidationFailed("third", field="c")])
    assert [(error.field, error.message) for error in errors.errors] == [("a", "first"), ("b", "second"),
                                                                       ("c", "third")]
    assert errors.has("c") and not errors.has("d")
    with pytest.raises(TransitionRefused):
        with errors.on_field("e"):
            raise TransitionRefused("not an input error")
    with pytest.raises(FieldErrors) as many:
        errors.raise_if_any()
    assert len(many.value.errors) == 3 and many.value.field == "a"
    single = ErrorCollector()
    with single.on_field("x"):
        raise ValidationFailed("only")
    with pytest.raises(ValidationFailed) as one:
        single.raise_if_any()
    assert type(one.value) is ValidationFailed and one.value.field == "x"
    ErrorCollector().raise_if_any()  # nothing collected, nothing raised


# --- The certification application: the same rules, the same messages ----------------------
def _certification_form(record, **changes) -> dict:
    data = {name: getattr(record, name) for name in (
        "applicant_name", "licence_no", "enterprise_name", "uscc", "legal_representative", "contact_person",
        "mobile")}
    data.update({name: "1" for name in CERTIFICATION_CONDITIONS})
    data.update(changes)
    return {key: "" if value is None else value for key, value in data.items()}


def test_the_certification_application_validates_the_same_way(people, api, browser, make_certification_body):
    body = make_certification_body()
    record = certification.create(people["enterprise"], people["mine"].id, body.id)
    expected = _expected_many()
    bad = {name: MANY_BAD[name] for name in ("licence_no", "uscc", "email", "postcode", "mobile")}
    response = api(people["enterprise"]).put(f"/api/v1/certificationapplication/{record.id}",
                                             json=dict(bad, applicant_name=" "))
    assert response.status_code == 422
    errors = {error["field"]: error["message"] for error in response.get_json()["errors"]}
    assert errors == dict({name: expected[name] for name in bad},
                          applicant_name=zh(gettext("This field is required.")))
    page = browser(people["enterprise"]).post(
        f"/certificationapplicationview/edit/{record.id}",
        data=_certification_form(record, **{name: str(value) for name, value in bad.items()}))
    assert page.status_code == 200
    assert field_errors(page.get_data(as_text=True)) == {name: [expected[name]] for name in bad}
    db.session.expire_all()
    assert db.session.get(CertificationApplication, record.id).licence_no == people["mine"].licence_no


# --- Regions: chosen by name from a scoped search, shown by their full names -----------------
def test_the_predeclaration_region_is_a_search_of_names_in_the_mines_province(people, browser):
    client = browser(people["enterprise"])
    form = client.get("/predeclarationview/add").get_data(as_text=True)
    select_box = re.search(r'<select id="region_code"[^>]*>', form)
    assert select_box is not None and "gm-search-select" in select_box.group(0)
    assert not re.search(r'<input[^>]*name="region_code"', form)
    results = client.get("/predeclarationview/choices/region?q=小店").get_json()["results"]
    assert {"id": "140105", "text": "山西省太原市小店区"} in results
    # Names only, all in the mine's province; a county of another province is not offered.
    assert all(result["text"] and not result["text"][0].isdigit() for result in results)
    assert client.get("/predeclarationview/choices/region?q=碑林").get_json()["results"] == []
    assert all(result["id"].startswith("14")
               for result in client.get("/predeclarationview/choices/region?q=").get_json()["results"])
    # Staff never place a pre-declaration: nothing is offered them here.
    assert browser(people["county"]).get("/predeclarationview/choices/region?q=").get_json()["results"] == []


def test_the_predeclaration_region_is_shown_by_its_full_name(people, browser):
    record = predeclarations.create(people["enterprise"], people["mine"], YEAR, "140105")
    client = browser(people["enterprise"])
    show = client.get(f"/predeclarationview/show/{record.id}").get_data(as_text=True)
    assert "山西省太原市小店区" in show and not shows_bare_code(show, "140105")
    edit = client.get(f"/predeclarationview/edit/{record.id}").get_data(as_text=True)
    assert '<option value="140105" selected>山西省太原市小店区</option>' in edit
    listed = client.get("/predeclarationview/list/").get_data(as_text=True)
    assert "山西省太原市小店区" in listed and not shows_bare_code(listed, "140105")


def test_a_predeclaration_region_of_another_province_is_refused_on_its_field(people, browser):
    client = browser(people["enterprise"])
    response = client.post("/predeclarationview/add", data={"mine": people["mine"].id, "region_code": "610102",
                                                           "year": "1999"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    errors = field_errors(page)
    assert errors["region_code"] == [zh(gettext("The region must be in the province where the mine is."))]
    # The year's error is shown with it (one save, every error).
    assert errors["year"] == [zh(gettext("The application year is not valid."))]
    assert db.session.scalar(select(func.count()).select_from(PreDeclaration)) == 0
    assert client.post("/predeclarationview/add", data={"mine": people["mine"].id, "region_code": "140121",
                                                       "year": str(YEAR)}).status_code == 302
    assert db.session.scalars(select(PreDeclaration)).one().region_code == "140121"


def test_the_window_province_is_a_scoped_search_of_names(people, browser, make_user):
    client = browser(people["province"])
    form = client.get("/applicationwindowview/add").get_data(as_text=True)
    assert re.search(r'<select id="province_code"[^>]*gm-search-select', form)
    assert client.get("/applicationwindowview/choices/province?q=").get_json()["results"] == [
        {"id": "140000", "text": "山西省"}]
    national = browser(make_user("national")).get("/applicationwindowview/choices/province?q=陕西").get_json()
    assert national["results"] == [{"id": "610000", "text": "陕西省"}]
    assert browser(people["city"]).get("/applicationwindowview/choices/province?q=").get_json()["results"] == []
    # Saved by its choice, shown by its name.
    assert client.post("/applicationwindowview/add", data={"province_code": "140000", "year": YEAR,
                                                           "deadline": f"{YEAR}-10-15"}).status_code == 302
    window = db.session.scalars(select(ApplicationWindow)).one()
    listed = client.get("/applicationwindowview/list/").get_data(as_text=True)
    shown = client.get(f"/applicationwindowview/show/{window.id}").get_data(as_text=True)
    assert "山西省" in listed and "山西省" in shown and not shows_bare_code(shown, "140000")


def test_the_window_form_reports_every_error_at_once(people, browser):
    response = browser(people["province"]).post("/applicationwindowview/add", data={
        "province_code": "140000", "year": "1800", "opens_on": f"{YEAR}-10-01", "deadline": f"{YEAR}-09-15"})
    assert response.status_code == 200
    errors = field_errors(response.get_data(as_text=True))
    assert errors == {"year": [zh(gettext("The application year is not valid."))],
                      "deadline": [zh(gettext("The deadline cannot be before the opening date."))]}


def test_the_application_page_shows_regions_by_name_and_answers_as_yes_or_no(people, browser):
    application = draft(people)
    application.cond_no_penalty = False
    application.conditions_note = "已整改。"
    db.session.commit()
    page = browser(people["county"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    assert "山西省太原市小店区" in text and not shows_bare_code(text, "140105")
    assert "是" in text and "否" in text
    for word in ("True", "False", "None"):
        assert not re.search(rf"\b{word}\b", text), word
    listed = browser(people["county"]).get("/applicationview/list/").get_data(as_text=True)
    assert "山西省太原市小店区" in listed and not shows_bare_code(re.sub(r"<[^>]+>", " ", listed), "140105")


def test_certification_bodies_take_applications_yes_or_no(make_user, make_certification_body, browser):
    make_certification_body(name="甲认证中心", active=True)
    make_certification_body(name="乙认证中心", active=False)
    page = browser(make_user("admin")).get("/certificationbodyview/list/").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    assert re.search(r"甲认证中心.*?是", text, flags=re.S) and re.search(r"乙认证中心.*?否", text, flags=re.S)
    assert not re.search(r"\b(True|False)\b", text)


# ---------------------------------------------------------------------------
# 5. Submitting needs the materials
# ---------------------------------------------------------------------------
def _applicant_draft(people) -> Application:
    return complete(applications.create_from_predeclaration(people["enterprise"], passed_predeclaration(people)),
                    materials=False)


def test_an_application_is_not_submitted_without_its_self_evaluation_report(people, api, browser):
    application = _applicant_draft(people)
    label = zh(uploads.slots_of("Application", application)["self_evaluation_report"].label)
    expected = zh(gettext("The required materials are missing: %(materials)s. Upload them on the record's page "
                          "first.", materials=label))
    assert label == "自评报告"
    with force_locale("zh"):
        with pytest.raises(TransitionRefused) as refused:
            workflow.transition(application, "submit", people["enterprise"])
    assert str(refused.value) == expected
    response = api(people["enterprise"]).post(f"/api/v1/application/{application.id}/transition",
                                              json={"action": "submit"})
    assert response.status_code == 409 and response.get_json()["message"] == expected
    screen = browser(people["enterprise"]).post(f"/applicationview/transition/{application.id}",
                                                data={"action": "submit"}, follow_redirects=True)
    assert expected in html.unescape(screen.get_data(as_text=True))
    assert status_of(application.id) == "draft"
    # The page shows the slot and says it is required before submitting.
    show = browser(people["enterprise"]).get(f"/applicationview/show/{application.id}").get_data(as_text=True)
    panel = show[show.index(f'id="attachments-Application-{application.id}-self_evaluation_report"'):]
    assert panel.index(zh(gettext("Required before submitting"))) < panel.index("</div>")
    # A file in another slot is not the report.
    uploads.attach("Application", application.id, "document", _pdf("其他材料.pdf"), people["enterprise"])
    with pytest.raises(TransitionRefused):
        workflow.transition(application, "submit", people["enterprise"])
    uploads.attach("Application", application.id, "self_evaluation_report", _pdf("自评报告.pdf"), people["enterprise"])
    workflow.transition(application, "submit", people["enterprise"])
    assert status_of(application.id) == "submitted"


def _pdf(name: str):
    import io

    from werkzeug.datastructures import FileStorage

    from tests.conftest import SAMPLE_PDF

    return FileStorage(stream=io.BytesIO(SAMPLE_PDF), filename=name)


def test_the_report_slot_takes_only_pdf(people):
    from tests.conftest import sample_jpeg
    import io

    from werkzeug.datastructures import FileStorage

    application = _applicant_draft(people)
    with pytest.raises(ValidationFailed):
        uploads.attach("Application", application.id, "self_evaluation_report",
                       FileStorage(stream=io.BytesIO(sample_jpeg()), filename="报告.jpg"), people["enterprise"])


def test_one_refusal_names_the_missing_fields_and_the_missing_materials(people):
    application = applications.create_from_predeclaration(people["enterprise"], passed_predeclaration(people))
    with force_locale("zh"):
        with pytest.raises(TransitionRefused) as refused:
            workflow.transition(application, "submit", people["enterprise"])
        message = str(refused.value)
    assert "自评报告编写单位" in message and "缺少必需的材料：自评报告" in message


def test_the_required_materials_are_configurable(app, people):
    application = _applicant_draft(people)
    upload_required_materials("Application", application, people["enterprise"])
    app.config["APPLICATION_REQUIRED_MATERIALS"] = ("self_evaluation_report", "video", "document")
    try:
        with force_locale("zh"):
            with pytest.raises(TransitionRefused) as refused:
                workflow.transition(application, "submit", people["enterprise"])
            assert str(refused.value) == gettext(
                "The required materials are missing: %(materials)s. Upload them on the record's page first.",
                materials="视频、文件和图片")
        app.config["APPLICATION_REQUIRED_MATERIALS"] = ()
        fresh = draft(people, year=YEAR + 1)
        for attachment in uploads.attachments_of("Application", fresh.id):
            uploads.remove(attachment.id, people["enterprise"])
        workflow.transition(fresh, "submit", people["enterprise"])
        assert status_of(fresh.id) == "submitted"
    finally:
        app.config.pop("APPLICATION_REQUIRED_MATERIALS")
    assert uploads.required_slots("Application") == ("self_evaluation_report",)


def test_a_required_material_that_is_no_slot_stops_the_start(app):
    uploads.check_required_materials_configuration(app)
    for key in ("APPLICATION_REQUIRED_MATERIALS", "CERTIFICATION_REQUIRED_MATERIALS"):
        app.config[key] = ("self_evaluation_report", "selfevaluation")
        try:
            with pytest.raises(RuntimeError, match=f"{key} names selfevaluation"):
                uploads.check_required_materials_configuration(app)
        finally:
            app.config.pop(key)


# --- Certification: seed 002 §四 by default, configurable ------------------------------------
def _certification_draft(people, body) -> CertificationApplication:
    record = certification.create(people["enterprise"], people["mine"].id, body.id)
    record.contact_person = "李联系"
    for name in CERTIFICATION_CONDITIONS:
        setattr(record, name, True)
    for name in SITUATION_AREAS:
        setattr(record, name, "简要介绍本方面的成效与亮点。")
    db.session.commit()
    return record


def test_certification_names_the_missing_materials_of_seed_002(app, people, api, browser, make_certification_body,
                                                                 monkeypatch):
    monkeypatch.setattr(evaluation, "check_sheet_complete", lambda record, source: None)
    record = _certification_draft(people, make_certification_body())
    uploads.attach("CertificationApplication", record.id, "self_evaluation_report", _pdf("自评估报告.pdf"),
                   people["enterprise"])
    response = api(people["enterprise"]).post(f"/api/v1/certificationapplication/{record.id}/transition",
                                              json={"action": "submit"})
    assert response.status_code == 409
    assert response.get_json()["message"] == zh(gettext(
        "The required materials are missing: %(materials)s. Upload them on the record's page first.",
        materials="绿色矿山工作图册、支撑材料"))
    show = browser(people["enterprise"]).get(f"/certificationapplicationview/show/{record.id}").get_data(as_text=True)
    for slot in ("self_evaluation_report", "atlas", "supporting"):
        panel = show[show.index(f'id="attachments-CertificationApplication-{record.id}-{slot}"'):]
        assert panel.index(zh(gettext("Required before submitting"))) < panel.index("</div>")
    rectification = show[show.index(f'id="attachments-CertificationApplication-{record.id}-rectification"'):]
    assert rectification.find(zh(gettext("Required before submitting")), 0, rectification.index("</div>")) == -1
    # A body that asks for the report only.
    app.config["CERTIFICATION_REQUIRED_MATERIALS"] = ("self_evaluation_report",)
    try:
        workflow.transition(record, "submit", people["enterprise"])
    finally:
        app.config.pop("CERTIFICATION_REQUIRED_MATERIALS")
    assert db.session.get(CertificationApplication, record.id).status == "submitted"


def test_certification_lists_form_conditions_and_materials_in_one_refusal(people, make_certification_body,
                                                                          monkeypatch):
    monkeypatch.setattr(evaluation, "check_sheet_complete", lambda record, source: None)
    record = certification.create(people["enterprise"], people["mine"].id, make_certification_body().id)
    with force_locale("zh"):
        with pytest.raises(TransitionRefused) as refused:
            workflow.transition(record, "submit", people["enterprise"])
        message = str(refused.value)
    assert "联系人" in message  # the form
    assert zh(certification.CONDITION_LABELS["cond_valid_licence"]) in message  # the conditions
    assert "缺少必需的材料：绿色矿山认证自评估报告、绿色矿山工作图册、支撑材料" in message  # the materials


def test_an_accounts_region_is_chosen_by_name_with_its_level(app, make_user, browser):
    admin = browser(make_user("admin"))
    form = admin.get("/users/add").get_data(as_text=True)
    assert re.search(r'<select id="region_code"[^>]*gm-search-select', form)
    assert not re.search(r'<input[^>]*name="region_code"', form)
    results = admin.get("/users/choices/region?q=太原").get_json()["results"]
    assert {"id": "140100", "text": "山西省太原市（地市）"} in results
    assert {"id": "140105", "text": "山西省太原市小店区（县）"} in results
    province = admin.get("/users/choices/region?q=山西").get_json()["results"]
    assert {"id": "140000", "text": "山西省（省）"} in province
    # Only those who may list the accounts search here.
    assert browser(make_user("county", "140105")).get("/users/choices/region?q=太原").status_code in (302, 403)
    # Saved by the choice; the account's page and the edit form name the region.
    form_data = {"first_name": "测试", "last_name": "用户", "username": "regionuser", "email": "r@test.invalid",
                 "active": "y", "roles": [str(app.appbuilder.sm.find_role("city").id)],
                 "password": "Aa1!aaaa", "conf_password": "Aa1!aaaa", "region_code": "140100"}
    assert admin.post("/users/add", data=form_data).status_code == 302
    user = app.appbuilder.sm.find_user(username="regionuser")
    assert user.region_code == "140100"
    edit = admin.get(f"/users/edit/{user.id}").get_data(as_text=True)
    assert '<option value="140100" selected>山西省太原市（地市）</option>' in edit
    listed = re.sub(r"<[^>]+>", " ", admin.get("/users/list/").get_data(as_text=True))
    assert "山西省太原市" in listed and not shows_bare_code(listed, "140100")


# ---------------------------------------------------------------------------
# 4. The registry's saves and the form's own type checks report everything at once
# ---------------------------------------------------------------------------
XIAODIAN = "140105"


def _mine_form(mine, **changes) -> dict:
    form = {"name": mine.name, "licence_no": mine.licence_no, "enterprise": str(mine.enterprise_id),
            "mineral": str(mine.mineral_id), "mining_method": "underground", "production_scale": "60",
            "region_code": XIAODIAN}
    form.update(changes)
    return form


def test_a_mine_save_names_every_refused_field(make_mine, make_user, browser):
    mine = make_mine(XIAODIAN)
    form = _mine_form(mine, licence_no=BAD_LICENCE, max_depth_m="-5", latitude="60", longitude="112.5",
                      principal_phone="call me")
    response = browser(make_user("county", XIAODIAN)).post(f"/mineview/edit/{mine.id}", data=form)
    errors = field_errors(response.get_data(as_text=True))
    assert set(errors) == {"licence_no", "max_depth_m", "latitude", "principal_phone"}
    assert errors["licence_no"] == [registry_message(codes.validate_licence_no, BAD_LICENCE)]
    db.session.expire_all()
    assert db.session.get(type(mine), mine.id).licence_no == mine.licence_no


def test_an_enterprise_save_names_every_refused_field(make_enterprise, make_user, browser):
    enterprise = make_enterprise(XIAODIAN)
    response = browser(make_user("county", XIAODIAN)).post(
        f"/enterpriseview/edit/{enterprise.id}",
        data={"name": " ", "uscc": BAD_USCC, "economic_type": "", "region_code": XIAODIAN})
    errors = field_errors(response.get_data(as_text=True))
    assert set(errors) == {"name", "uscc"}
    assert errors["uscc"] == [registry_message(codes.validate_uscc, BAD_USCC)]


def test_the_forms_type_errors_and_the_rules_errors_come_together(make_mine, make_user, browser):
    """A number that is not a number is the form's own refusal; the licence number is the rule's:
    one save shows both, each at its field, and saves nothing."""
    mine = make_mine(XIAODIAN)
    client = browser(make_user("county", XIAODIAN))
    response = client.post(f"/mineview/edit/{mine.id}",
                           data=_mine_form(mine, production_scale="六十", licence_no=BAD_LICENCE))
    errors = field_errors(response.get_data(as_text=True))
    assert set(errors) == {"production_scale", "licence_no"}
    assert errors["licence_no"] == [registry_message(codes.validate_licence_no, BAD_LICENCE)]
    db.session.expire_all()
    saved = db.session.get(type(mine), mine.id)
    assert (saved.licence_no, saved.production_scale) == (mine.licence_no, mine.production_scale)
    # The same on a new record.
    response = client.post("/mineview/add", data=_mine_form(mine, production_scale="六十", licence_no=BAD_LICENCE,
                                                            name="新矿"))
    assert set(field_errors(response.get_data(as_text=True))) == {"production_scale", "licence_no"}
    assert db.session.scalar(select(func.count()).select_from(type(mine)).where(type(mine).name == "新矿")) == 0


def test_the_apis_schema_errors_and_the_rules_errors_come_together(make_mine, make_user, api):
    mine = make_mine(XIAODIAN)
    client = api(make_user("county", XIAODIAN))
    response = client.put(f"/api/v1/mine/{mine.id}", json={"production_scale": "六十", "licence_no": BAD_LICENCE})
    assert response.status_code == 422
    message = response.get_json()["message"]
    assert set(message) == {"production_scale", "licence_no"}
    assert message["licence_no"] == [registry_message(codes.validate_licence_no, BAD_LICENCE)]
    db.session.expire_all()
    assert db.session.get(type(mine), mine.id).licence_no == mine.licence_no
    body = {"name": "新矿", "licence_no": BAD_LICENCE, "production_scale": "六十", "enterprise_id": mine.enterprise_id,
            "mineral_id": mine.mineral_id, "mining_method": "underground", "region_code": XIAODIAN}
    response = client.post("/api/v1/mine/", json=body)
    assert response.status_code == 422
    assert set(response.get_json()["message"]) == {"production_scale", "licence_no"}


def test_the_import_names_every_refused_column_of_a_row(make_mine):
    from app.services import registry

    mine = make_mine(XIAODIAN)
    mine.licence_no, mine.max_depth_m, mine.principal_phone = BAD_LICENCE, -5, "call me"
    with pytest.raises(FieldErrors) as refused:
        registry.validate_mine(mine, None)
    assert {error.field for error in refused.value.errors} == {"licence_no", "max_depth_m", "principal_phone"}
    db.session.rollback()
