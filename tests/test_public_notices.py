"""The province's public notice on the public portal with objections (issue 19.3; seed 001 二(五)
"在省厅门户网站公示遴选结果"): the mines under notice, the period and the province's contact, as HTML
and JSON; the public objection form (throttled per address, refused outside the period, nothing
stored on a refusal); the objector seen by the province and the national level only."""
from __future__ import annotations

import datetime
import io
import json

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from app.extensions import db
from app.models import Attachment, Objection
from app.services import public_notices, selection, uploads, workflow
from app.services.exceptions import ValidationFailed
from tests.conftest import SAMPLE_PDF, sample_jpeg
from tests.test_applications import _photo_checklist_not_in_the_way, people  # noqa: F401
from tests.test_selection import CONTACT, TODAY, passed, scoring_done, world  # noqa: F401
from tests.test_uploads import stored_files


def zh(text: str, **values) -> str:
    with force_locale("zh"):
        return gettext(text, **values)


def json_text(response) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


@pytest.fixture
def notice(world):
    application = passed(world)
    record, _refusals = selection.publish_notice(
        world["province"], "2026年度山西省绿色矿山遴选结果公示", TODAY, TODAY + datetime.timedelta(days=6),
        [application.id], contact=dict(CONTACT, contact_email="gongshi@zrzyt.example.cn"))
    world["application"] = application
    return record


def _count(model) -> int:
    """Objections, or the files sent with objections (the application has its own files)."""
    db.session.expire_all()
    query = select(func.count()).select_from(model)
    if model is Attachment:
        query = query.where(Attachment.owner_type == "Objection")
    return db.session.scalar(query)


def _anonymous(browser, address="198.51.100.7"):
    client = browser()
    client.client.environ_base["REMOTE_ADDR"] = address
    return client


def _form(application, **changes):
    data = {"name": "王建国", "contact": "13800001111", "mine": str(application.id),
            "facts": "该矿排土场未完成复绿，雨季有泥石流隐患，附现场照片。"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def _file(data: bytes, name: str):
    return (io.BytesIO(data), name)


def _post(client, notice, data, files=()):
    payload = dict(data)
    if files:
        payload["files"] = list(files)
    return client.post(f"/public/notices/{notice.id}/objection", data=payload, content_type="multipart/form-data")


# ---------------------------------------------------------------------------
# The notice on the portal
# ---------------------------------------------------------------------------
def test_the_running_notice_lists_its_mines_period_and_contact(notice, world, browser, api):
    application = world["application"]
    client = _anonymous(browser)
    listing = client.get("/public/notices")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert notice.title in html and application.mine_name in html and zh("Under notice") in html
    page = client.get(f"/public/notices/{notice.id}").get_data(as_text=True)
    for text in (application.mine_name, application.enterprise_name, application.region.full_name,
                 CONTACT["contact_name"], CONTACT["contact_phone"], "gongshi@zrzyt.example.cn",
                 TODAY.isoformat(), (TODAY + datetime.timedelta(days=6)).isoformat()):
        assert text in page, text
    assert 'id="objection-form"' in page and 'name="csrf_token"' in page
    # The JSON twins, as the other public pages (/public/api/...).
    answer = api().get("/public/api/notices")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "public, max-age=60"
    body = answer.get_json()
    assert body["count"] == 1
    row = body["result"][0]
    assert row["title"] == notice.title and row["state"] == "running" and row["accepts_objections"] is True
    assert row["contact"]["phone"] == CONTACT["contact_phone"] and row["province"] == "山西省"
    assert row["mines"] == [{"mine_name": application.mine_name, "enterprise_name": application.enterprise_name,
                             "region": application.region.full_name, "mineral": application.mineral_name or ""}]
    one = api().get(f"/public/api/notices/{notice.id}")
    assert one.status_code == 200 and one.get_json()["found"] is True and one.get_json()["id"] == notice.id
    # Nothing of the application beyond the names: no licence, no credit code, no contact data.
    for secret in (application.licence_no, application.uscc):
        assert secret not in json_text(one) and secret not in page
    missing = api().get("/public/api/notices/999999")
    assert missing.status_code == 404 and missing.get_json()["found"] is False
    assert client.get("/public/notices/999999").status_code == 404


def test_a_notice_not_started_is_not_public(world, browser, api):
    application = passed(world)
    later, _refusals = selection.publish_notice(world["province"], "下周开始的公示", TODAY + datetime.timedelta(days=3),
                                                TODAY + datetime.timedelta(days=10), [application.id], contact=CONTACT)
    assert api().get("/public/api/notices").get_json()["count"] == 0
    assert api().get(f"/public/api/notices/{later.id}").status_code == 404
    assert _anonymous(browser).get(f"/public/notices/{later.id}").status_code == 404


def test_published_results_stay_readable_after_the_period(notice, world, browser, api, monkeypatch):
    after = notice.ends_on + datetime.timedelta(days=1)
    monkeypatch.setattr(public_notices, "_today", lambda: after)
    client = _anonymous(browser)
    page = client.get(f"/public/notices/{notice.id}").get_data(as_text=True)
    assert world["application"].mine_name in page and zh("Notice period ended") in page
    assert 'id="objection-form"' not in page and 'id="objections-closed"' in page
    row = api().get("/public/api/notices").get_json()["result"][0]
    assert row["state"] == "ended" and row["accepts_objections"] is False
    # Outside the period the form is refused with the period, and nothing is stored.
    files_before = stored_files(client.app)
    response = _post(client, notice, _form(world["application"]), [_file(SAMPLE_PDF, "证据.pdf")])
    assert response.status_code == 422
    expected = zh("Objections are accepted only during the notice period (%(start)s to %(end)s).",
                  start=notice.starts_on.isoformat(), end=notice.ends_on.isoformat())
    assert expected in response.get_data(as_text=True)
    assert _count(Objection) == 0 and _count(Attachment) == 0 and stored_files(client.app) == files_before


# ---------------------------------------------------------------------------
# Filing an objection
# ---------------------------------------------------------------------------
def test_anyone_files_an_objection_which_reaches_the_provinces_queue(notice, world, browser, api):
    application = world["application"]
    client = _anonymous(browser)
    response = _post(client, notice, _form(application),
                     [_file(SAMPLE_PDF, "举报材料.pdf"), _file(sample_jpeg(), "现场照片.jpg")])
    assert response.status_code == 302, response.get_data(as_text=True)
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert zh("Your objection has been received. The province will examine it and may contact you.") in followed
    objection = db.session.scalars(select(Objection)).one()
    assert (objection.application_id, objection.region_code, objection.status, objection.received_on) == (
        application.id, application.region_code, "open", TODAY)
    assert (objection.objector_name, objection.objector_contact) == ("王建国", "13800001111")
    assert "排土场" in objection.content
    files = db.session.scalars(select(Attachment).where(Attachment.owner_type == "Objection")).all()
    assert sorted(f.original_name for f in files) == ["举报材料.pdf", "现场照片.jpg"]
    assert all(f.owner_id == objection.id and f.slot == "evidence" for f in files)

    # The province sees the objector and the evidence, and resolves the objection as before.
    province = browser(world["province"])
    shown = province.get(f"/objectionview/show/{objection.id}").get_data(as_text=True)
    assert "王建国" in shown and "13800001111" in shown and "举报材料.pdf" in shown
    assert province.get(f"/attachments/{files[0].id}").status_code == 200
    national = browser(world["national"]).get(f"/objectionview/show/{objection.id}").get_data(as_text=True)
    assert "王建国" in national

    # The enterprise (and the city, the county) see the objection, never who filed it.
    for who in ("enterprise", "city", "county"):
        other = browser(world[who])
        page = other.get(f"/objectionview/show/{objection.id}")
        assert page.status_code == 200, who
        text = page.get_data(as_text=True)
        assert "排土场" in text and "王建国" not in text and "13800001111" not in text, who
        assert "王建国" not in other.get("/objectionview/list/").get_data(as_text=True), who
        assert other.get(f"/attachments/{files[0].id}").status_code == 404, who
    rest = api(world["enterprise"]).get(f"/api/v1/objection/{objection.id}")
    assert rest.status_code == 200 and "王建国" not in json_text(rest) and "13800001111" not in json_text(rest)

    # Never on a public page.
    for url in ("/public/notices", f"/public/notices/{notice.id}"):
        assert "王建国" not in client.get(url).get_data(as_text=True)
    for url in ("/public/api/notices", f"/public/api/notices/{notice.id}"):
        text = json_text(api().get(url))
        assert "王建国" not in text and "13800001111" not in text and "排土场" not in text

    workflow.transition(objection, "dismiss", world["province"], "经核实，排土场已复绿")
    assert db.session.get(Objection, objection.id).status == "dismissed"


def test_another_province_cannot_see_the_objector(notice, world, browser, api):
    _post(_anonymous(browser), notice, _form(world["application"]), [_file(SAMPLE_PDF, "举报材料.pdf")])
    objection = db.session.scalars(select(Objection)).one()
    evidence = db.session.scalars(select(Attachment).where(Attachment.owner_type == "Objection")).one()
    other = browser(world["other_province"])
    assert other.get(f"/objectionview/show/{objection.id}").status_code == 404
    assert "王建国" not in other.get("/objectionview/list/").get_data(as_text=True)
    assert other.get(f"/attachments/{evidence.id}").status_code == 404
    assert api(world["other_province"]).get(f"/api/v1/objection/{objection.id}").status_code == 404
    assert not public_notices.may_see_objector(world["other_province"], objection)
    assert public_notices.may_see_objector(world["province"], objection)


BAD_INPUT = {
    "no name": (dict(name=" "), "Give your name."),
    "no contact": (dict(contact=None), "Give a telephone number or an e-mail address where the province can reach you."),
    "bad contact": (dict(contact="随便写写"), "The contact must be a telephone number or an e-mail address."),
    "no facts": (dict(facts="  "), "Describe the facts of your objection."),
    "no mine": (dict(mine=""), "Choose the mine from those in this notice."),
    "foreign mine": (dict(mine="999999"), "Choose the mine from those in this notice."),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_incomplete_forms_are_refused_and_store_nothing(notice, world, browser, case):
    changes, message = BAD_INPUT[case]
    client = _anonymous(browser)
    before = stored_files(client.app)
    response = _post(client, notice, _form(world["application"], **changes), [_file(SAMPLE_PDF, "证据.pdf")])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert zh(message) in html and 'id="refusal"' in html
    assert _count(Objection) == 0 and _count(Attachment) == 0 and stored_files(client.app) == before


def test_wrong_and_oversized_files_are_refused_and_store_nothing(notice, world, browser, app, monkeypatch):
    client = _anonymous(browser)
    before = stored_files(app)
    # A good PDF first and then a program named like a PDF: the good one is not kept either.
    response = _post(client, notice, _form(world["application"]),
                     [_file(SAMPLE_PDF, "一.pdf"), _file(b"MZ\x90\x00 not a pdf at all", "二.pdf")])
    assert response.status_code == 422
    with force_locale("zh"):
        expected = gettext("This file type is not accepted here: only %(kinds)s files (the content is checked, not "
                           "the name).", kinds=uploads._kinds_text(frozenset({uploads.PDF, uploads.IMAGE})))
    assert expected in response.get_data(as_text=True)
    assert _count(Objection) == 0 and _count(Attachment) == 0 and stored_files(app) == before
    # Oversized.
    monkeypatch.setitem(app.config, "UPLOAD_PDF_MAX_BYTES", 40)
    response = _post(client, notice, _form(world["application"]), [_file(SAMPLE_PDF, "大文件.pdf")])
    assert response.status_code == 422
    assert zh("The file is larger than the allowed %(size)s.", size="40 B") in response.get_data(as_text=True)
    assert _count(Objection) == 0 and _count(Attachment) == 0 and stored_files(app) == before
    # Too many files.
    monkeypatch.setitem(app.config, "UPLOAD_PDF_MAX_BYTES", 1024 * 1024)
    monkeypatch.setitem(app.config, "PUBLIC_OBJECTION_MAX_FILES", 1)
    response = _post(client, notice, _form(world["application"]),
                     [_file(SAMPLE_PDF, "一.pdf"), _file(sample_jpeg(), "二.jpg")])
    assert response.status_code == 422
    assert zh("At most %(max)s files may be uploaded here; remove one first.", max=1) in response.get_data(as_text=True)
    assert _count(Objection) == 0 and _count(Attachment) == 0 and stored_files(app) == before


def test_flooding_from_one_address_is_refused(notice, world, browser, app):
    limit = app.config["PUBLIC_OBJECTION_ADDRESS_LIMIT"]
    flooder = _anonymous(browser, "203.0.113.66")
    for _attempt in range(limit):
        assert _post(flooder, notice, _form(world["application"], facts="")).status_code == 422
    before = stored_files(app)
    response = _post(flooder, notice, _form(world["application"]), [_file(SAMPLE_PDF, "证据.pdf")])
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert zh("Too many objections were sent from your network address. Please try again in %(minutes)s minute(s), "
              "or write to the contact of the notice.", minutes=60).split("。")[0] in html
    assert _count(Objection) == 0 and _count(Attachment) == 0 and stored_files(app) == before
    # Another address is not held back.
    assert _post(_anonymous(browser, "203.0.113.67"), notice, _form(world["application"])).status_code == 302
    assert _count(Objection) == 1


def test_the_form_needs_its_csrf_token(notice, world, browser):
    client = _anonymous(browser)
    response = client.post(f"/public/notices/{notice.id}/objection", data=_form(world["application"]), csrf=False)
    assert response.status_code == 400 and _count(Objection) == 0


# ---------------------------------------------------------------------------
# The province's contact is part of publishing
# ---------------------------------------------------------------------------
def test_publishing_needs_the_contact_for_objections(world, browser):
    application = passed(world)
    period = (world["province"], "公示", TODAY, TODAY + datetime.timedelta(days=6), [application.id])
    with pytest.raises(ValidationFailed) as refusal:
        selection.publish_notice(*period)
    assert refusal.value.field == "contact_name"
    with pytest.raises(ValidationFailed) as refusal:
        selection.publish_notice(*period, contact={"contact_name": "矿产资源保护监督处"})
    assert refusal.value.field == "contact_phone"
    with pytest.raises(ValidationFailed) as refusal:
        selection.publish_notice(*period, contact={"contact_name": "处", "contact_email": "不是邮箱"})
    assert refusal.value.field == "contact_email"
    assert db.session.get(type(application), application.id).public_notice_id is None
    client = browser(world["province"])
    response = client.post("/publicnoticeview/publish", data={
        "title": "遴选结果公示", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + datetime.timedelta(days=7)).isoformat(), "application_ids": [str(application.id)]})
    assert response.status_code == 200
    assert zh("Name the office that receives objections.") in response.get_data(as_text=True)
    response = client.post("/publicnoticeview/publish", data={
        "title": "遴选结果公示", "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + datetime.timedelta(days=7)).isoformat(), "application_ids": [str(application.id)],
        **CONTACT})
    assert response.status_code == 302
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert CONTACT["contact_name"] in shown and CONTACT["contact_phone"] in shown
