"""The public pages (SPEC F3): no login; the directory (listed entries only, no contact data, no
drafts) with its search, and the verification of a certificate by its number, HTML and JSON."""
from __future__ import annotations

import datetime
import json

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import event

from app import clock
from app.extensions import db
from app.services import applications, certificates, predeclarations, workflow
from tests.test_certificates import certificate_of, make_entry, revoke

CONTACT_DATA = {
    "legal_representative": "欧阳法人", "contact_person": "司马联系", "address": "迎泽大街999号",
    "mobile": "13912345678", "phone": "0351-7654321", "fax": "0351-7654322", "email": "secret@mine.invalid",
    "postcode": "030001",
}
MINE_CONTACTS = {"principal_name": "诸葛矿长", "principal_phone": "13687654321", "address": "矿区路88号"}


def json_text(response) -> str:
    """A JSON answer as text with its Chinese unescaped (Flask escapes non-ASCII)."""
    return json.dumps(response.get_json(), ensure_ascii=False)


def zh(text: str) -> str:
    with force_locale("zh"):
        return gettext(text)


@pytest.fixture
def listed(make_mine, make_enterprise):
    enterprise = make_enterprise("140105", name="晋阳公开矿业有限公司", **CONTACT_DATA)
    mine = make_mine("140105", enterprise=enterprise, name="晋阳公开示范煤矿", **MINE_CONTACTS)
    return make_entry(mine)


# ---------------------------------------------------------------------------
# Anonymous access
# ---------------------------------------------------------------------------
def test_anonymous_users_reach_every_public_page(listed, browser, api, make_user):
    number = certificate_of(listed).number
    client = browser()
    for url in ("/public/", "/public/directory", "/public/certificate", f"/public/certificate/{number}",
                f"/public/certificate?number={number}", "/public/api/directory"):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
    assert api().get(f"/public/api/certificate/{number}").status_code == 200
    assert client.get("/public/directory").headers["Cache-Control"] == "public, max-age=60"
    # A signed-in user sees them too, never cached by a proxy (his name is in the page).
    signed_in = browser(make_user("national")).get("/public/directory")
    assert signed_in.status_code == 200 and signed_in.headers["Cache-Control"] == "private, no-store"


def test_the_directory_lists_the_entry_without_contact_data(listed, browser, api, make_user):
    html = browser().get("/public/directory").get_data(as_text=True)
    body = json_text(api().get("/public/api/directory"))
    number = certificate_of(listed).number
    for text in (html, body):
        assert "晋阳公开示范煤矿" in text and "晋阳公开矿业有限公司" in text and number in text
        for secret in list(CONTACT_DATA.values()) + list(MINE_CONTACTS.values()):
            assert secret not in text, secret
        assert listed.mine.licence_no not in text and listed.enterprise.uscc not in text
    assert "山西省" in html and "小店区" in html


def test_no_draft_nor_removed_record_is_public(listed, make_mine, make_user, browser, api, without_photo_checklist):
    # An application in draft for another mine: never on the public pages.
    mine = make_mine("140105", name="草稿申报矿")
    owner = make_user("enterprise", enterprise=mine.enterprise)
    province = make_user("province", "140000")
    year = clock.today().year + 1
    predeclaration = predeclarations.create(owner, mine, year)
    workflow.transition(predeclaration, "submit", owner)
    workflow.transition(predeclaration, "approve", province, "同意")
    applications.create_from_predeclaration(owner, predeclaration)
    # A registry mine that was never listed, and an entry that was removed.
    make_mine("140105", name="未入名录矿")
    removed = make_entry(make_mine("140105", name="已移出名录矿"))
    revoke(removed, make_user)
    for client_text in (browser().get("/public/directory?size=100").get_data(as_text=True),
                        json_text(api().get("/public/api/directory?size=100")),
                        browser().get("/public/directory?name=矿").get_data(as_text=True)):
        assert "晋阳公开示范煤矿" in client_text
        for hidden in ("草稿申报矿", "未入名录矿", "已移出名录矿"):
            assert hidden not in client_text
    assert api().get("/public/api/directory").get_json()["count"] == 1


# ---------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------
@pytest.fixture
def several(make_mine):
    return {
        "shanxi_2026": make_entry(make_mine("140105", name="太原甲矿"), year=2026),
        "shanxi_2025": make_entry(make_mine("140213", name="大同乙矿"), year=2025),
        "national": make_entry(make_mine("140105", name="太原丙矿"), level="national", year=2026),
        "shaanxi": make_entry(make_mine("610102", name="西安丁矿"), year=2026),
    }


def _names(api, query: str) -> set[str]:
    response = api().get("/public/api/directory" + query)
    assert response.status_code == 200
    return {row["mine_name"] for row in response.get_json()["result"]}


def test_search_by_name_province_level_year(several, api, browser):
    assert _names(api, "") == {"太原甲矿", "大同乙矿", "太原丙矿", "西安丁矿"}
    assert _names(api, "?name=太原") == {"太原甲矿", "太原丙矿"}
    assert _names(api, "?province=61") == {"西安丁矿"}
    assert _names(api, "?province=140000") == {"太原甲矿", "大同乙矿", "太原丙矿"}
    assert _names(api, "?level=national") == {"太原丙矿"}
    assert _names(api, "?year=2025") == {"大同乙矿"}
    assert _names(api, "?province=14&level=province&year=2026") == {"太原甲矿"}
    # LIKE wildcards are taken literally.
    assert _names(api, "?name=%25") == set()
    html = browser().get("/public/directory?name=大同").get_data(as_text=True)
    assert "大同乙矿" in html and "太原甲矿" not in html


def test_bad_parameters_never_fail(several, api, browser):
    for query in ("?page=abc", "?page=-3", "?page=99999999999", "?size=0", "?size=abc", "?level=bogus",
                  "?year=abc", "?year=99999", "?province=x'1", "?province=1", "?name=" + "长" * 1000,
                  "?size=100000"):
        assert browser().get("/public/directory" + query).status_code == 200, query
        assert api().get("/public/api/directory" + query).status_code == 200, query
    # Unknown filters are dropped, not applied.
    assert len(_names(api, "?level=bogus&year=abc")) == 4


def test_pages_are_capped_and_cost_the_same(app, make_mine, api):
    for n in range(12):
        make_entry(make_mine("140105", name=f"分页矿{n:02d}"))
    body = api().get("/public/api/directory?size=100000").get_json()
    assert body["size"] == app.config["PUBLIC_MAX_PAGE_SIZE"]
    first = api().get("/public/api/directory?size=5&page=1").get_json()
    third = api().get("/public/api/directory?size=5&page=3").get_json()
    assert len(first["result"]) == 5 and len(third["result"]) == 2 and first["count"] == 12
    # A fixed number of statements whatever the page size (no per-row query).
    counts = []
    for size in (2, 12):
        statements = []

        def count(*args, **kwargs):
            statements.append(1)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert len(api().get(f"/public/api/directory?size={size}").get_json()["result"]) == size
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[0] == counts[1]


# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------
def test_verification_valid_while_listed_revoked_and_unknown(listed, make_user, browser, api, monkeypatch):
    certificate = certificate_of(listed)
    number = certificate.number
    page = browser().get(f"/public/certificate/{number}").get_data(as_text=True)
    assert zh("Valid") in page and "晋阳公开示范煤矿" in page
    # No expiry date: the term is the listing's (issue 19 point 8).
    assert "列入名录期间有效" in page and zh("Valid until") not in page
    for secret in list(CONTACT_DATA.values()) + list(MINE_CONTACTS.values()):
        assert secret not in page
    body = api().get(f"/public/api/certificate/{number.lower()}").get_json()
    assert body["found"] is True and body["status"] == "valid" and body["mine_name"] == "晋阳公开示范煤矿"
    assert body["level"] == "province" and body["year"] == 2026 and body["issued_on"] == certificate.issued_on.isoformat()
    assert "valid_until" not in body and body["validity"] == "列入名录期间有效"
    assert not set(body) & set(CONTACT_DATA)

    # Years later, still listed: still valid (a listing has no fixed term).
    later = certificate.issued_on.replace(year=certificate.issued_on.year + 10)
    monkeypatch.setattr(certificates, "_today", lambda: later)
    monkeypatch.setattr(clock, "today", lambda: later)
    assert api().get(f"/public/api/certificate/{number}").get_json()["status"] == "valid"
    assert zh("Expired") not in browser().get(f"/public/certificate?number={number}").get_data(as_text=True)
    monkeypatch.undo()

    # Revoked: the entry was removed from the directory.
    revoke(listed, make_user)
    assert api().get(f"/public/api/certificate/{number}").get_json()["status"] == "revoked"
    page = browser().get(f"/public/certificate/{number}").get_data(as_text=True)
    assert zh("Revoked") in page

    # Unknown or malformed: a 200 page saying so, a 404 JSON.
    for asked in ("GM-P-14-2026-9999", "nonsense", "<script>alert(1)</script>", "x" * 300):
        response = browser().get("/public/certificate", query_string={"number": asked})
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "<script>alert(1)</script>" not in text
        assert 'id="verification-result"' in text
    assert api().get("/public/api/certificate/GM-P-14-2026-9999").get_json()["found"] is False
    assert api().get("/public/api/certificate/GM-P-14-2026-9999").status_code == 404
    assert api().get("/public/api/certificate/%25%27").status_code == 404


def test_the_login_page_links_to_the_public_pages(app):
    page = app.test_client().get("/login/").get_data(as_text=True)
    assert 'id="gm-public-links"' in page and "/public/directory" in page and "/public/certificate" in page
