"""Certificates (SPEC F2): the number scheme, the computed status, the PDF (Chinese text in the
embedded WenQuanYi font, the QR code of the verification page), the scope of the screens and the
REST API."""
from __future__ import annotations

import datetime
import io

import pytest
from flask_babel import force_locale, gettext
from pypdf import PdfReader
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import Certificate, DirectoryEntry
from app.services import certificates, workflow

TODAY = clock.today()


def make_entry(mine, level: str = "province", year: int = 2026, issue: bool = True) -> DirectoryEntry:
    """A listed directory entry of ``mine`` with its certificate, as the listing makes them."""
    entry = DirectoryEntry(
        mine_id=mine.id, enterprise_id=mine.enterprise_id, region_code=mine.region_code, level=level, year=year,
        mine_name=mine.name, enterprise_name=mine.enterprise.name,
        mineral_name=mine.mineral.name if mine.mineral else None, listed_on=TODAY, entry_reason="测试列入",
    )
    db.session.add(entry)
    db.session.flush()
    if issue:
        certificates.issue(entry, db.session)
    db.session.commit()
    return entry


def certificate_of(entry) -> Certificate:
    return db.session.scalar(select(Certificate).where(Certificate.entry_id == entry.id))


def revoke(entry, make_user) -> None:
    """Remove the entry from the directory the only allowed way: the transition table."""
    province = make_user("province", entry.region_code[:2] + "0000")
    workflow.transition(entry, "remove", province, "整改不合格，撤销")


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------
def test_numbers_follow_level_province_year_and_sequence(make_mine):
    first = certificate_of(make_entry(make_mine("140105")))
    second = certificate_of(make_entry(make_mine("140121")))
    national = certificate_of(make_entry(make_mine("140105"), level="national"))
    city = certificate_of(make_entry(make_mine("140105"), level="city", year=2025))
    county = certificate_of(make_entry(make_mine("140105"), level="county"))
    elsewhere = certificate_of(make_entry(make_mine("610102")))
    assert [first.number, second.number] == ["GM-P-14-2026-0001", "GM-P-14-2026-0002"]
    assert national.number == "GM-N-14-2026-0001"
    assert city.number == "GM-C-14-2025-0001"
    assert county.number == "GM-X-14-2026-0001"
    assert elsewhere.number == "GM-P-61-2026-0001"
    assert first.region_code == "140105" and first.enterprise_id == first.entry.enterprise_id


def test_issue_is_idempotent_and_dated_without_an_expiry(app, make_mine):
    entry = make_entry(make_mine())
    certificate = certificate_of(entry)
    assert certificates.issue(entry, db.session).id == certificate.id
    assert certificate.issued_on == TODAY
    # Issue 19 point 8: a directory listing has no fixed term, nor has its certificate.
    assert not hasattr(certificate, "valid_until") and "valid_until" not in Certificate.__table__.c
    assert "CERTIFICATE_VALID_YEARS" not in app.config
    with force_locale("zh"):
        assert certificate.validity_period == "列入名录期间有效"


def test_the_certification_convention_stays_the_day_before_the_anniversary():
    """last_valid_day is the certification certificate's convention (its three years, seed 002)."""
    assert certificates.add_years(datetime.date(2024, 2, 29), 3) == datetime.date(2027, 2, 28)
    assert certificates.last_valid_day(datetime.date(2026, 3, 5), 3) == datetime.date(2029, 3, 4)
    assert certificates.last_valid_day(datetime.date(2026, 1, 1), 3) == datetime.date(2028, 12, 31)
    # 29 February: its anniversary in a common year is 1 March, so the last day is 28 February.
    assert certificates.last_valid_day(datetime.date(2024, 2, 29), 3) == datetime.date(2027, 2, 28)
    assert certificates.last_valid_day(datetime.date(2024, 2, 29), 4) == datetime.date(2028, 2, 28)


def test_a_certificate_stays_valid_years_later_while_its_entry_stands(make_mine, monkeypatch):
    monkeypatch.setattr(certificates, "_today", lambda: datetime.date(2026, 3, 5))
    certificate = certificate_of(make_entry(make_mine()))
    assert certificate.issued_on == datetime.date(2026, 3, 5)
    # Three, ten years on: no date ends it (the former three-year expiry is gone).
    for later in (datetime.date(2029, 3, 5), datetime.date(2036, 3, 5)):
        monkeypatch.setattr(certificates, "_today", lambda later=later: later)
        assert certificates.status_of(certificate) == "valid"
        assert certificates.public_view(certificate)["status"] == "valid"


def test_a_number_taken_meanwhile_is_retried_in_a_savepoint(make_mine, monkeypatch):
    """Two listings at once: the second finds its number taken at flush and takes the next one,
    and the caller's transaction (the entry) survives."""
    make_entry(make_mine())  # GM-P-14-2026-0001
    calls = []
    original = certificates._next_number

    def stale(session, prefix):
        calls.append(prefix)
        # The first attempt computes the number another transaction has just taken.
        return f"{prefix}0001" if len(calls) == 1 else original(session, prefix)

    monkeypatch.setattr(certificates, "_next_number", stale)
    entry = make_entry(make_mine())
    assert len(calls) == 2
    assert certificate_of(entry).number == "GM-P-14-2026-0002"
    assert db.session.get(DirectoryEntry, entry.id) is not None


def test_concurrent_issues_get_distinct_numbers(app, make_mine):
    """Real concurrency on PostgreSQL (advisory lock + unique constraint): eight listings of one
    sequence at once, each in its own connection."""
    from tests.conftest import is_postgres

    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the savepoint retry is tested above")
    import threading

    mines = [make_mine() for _ in range(8)]
    ids = []
    for mine in mines:
        ids.append(make_entry(mine, issue=False).id)
    errors, barrier = [], threading.Barrier(len(ids))

    def worker(entry_id):
        with app.app_context():
            try:
                entry = db.session.get(DirectoryEntry, entry_id)
                barrier.wait()
                certificates.issue(entry, db.session)
                db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(entry_id,)) for entry_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(db.session.scalars(select(Certificate.number)))
    assert numbers == [f"GM-P-14-2026-{n:04d}" for n in range(1, 9)]


# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------
def test_status_follows_the_entry_valid_then_revoked(make_mine, make_user):
    entry = make_entry(make_mine())
    certificate = certificate_of(entry)
    assert certificates.status_of(certificate) == "valid" and certificate.validity == "valid"
    revoke(entry, make_user)
    db.session.expire_all()
    certificate = certificate_of(entry)
    assert certificates.status_of(certificate) == "revoked"
    assert certificate.validity == "revoked"
    assert set(certificates.STATUS_LABELS) == {"valid", "revoked"}


def test_numbers_are_normalised_and_malformed_ones_refused(make_mine):
    number = certificate_of(make_entry(make_mine())).number
    assert certificates.find(" " + number.lower() + " ").number == number
    for bad in (None, 42, "", "GM-P-14-2026", "x" * 500, "GM-Q-14-2026-0001", "'; DROP TABLE certificate; --"):
        assert certificates.find(bad) is None
        assert certificates.verify(bad) is None


# ---------------------------------------------------------------------------
# The PDF
# ---------------------------------------------------------------------------
def _fonts(reader: PdfReader) -> list:
    fonts = []
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            fonts.append(font)
    return fonts


def _embedded_font_files(font) -> list:
    """The FontFile2 streams of a (possibly composite, Type0) font."""
    found = []
    descendants = font.get("/DescendantFonts")
    candidates = [d.get_object() for d in descendants] if descendants else [font]
    for candidate in candidates:
        descriptor = candidate.get("/FontDescriptor")
        if descriptor is not None and "/FontFile2" in descriptor.get_object():
            found.append(descriptor.get_object()["/FontFile2"])
    return found


def test_the_pdf_carries_the_chinese_name_in_the_embedded_font_and_the_qr_code(app, make_mine):
    mine = make_mine(name="晋阳绿色示范煤矿")
    certificate = certificate_of(make_entry(mine))
    with app.test_request_context(base_url="https://gm.example.invalid/"):
        pdf = certificates.render_pdf(certificate)
        html = certificates.render_html(certificate)
    assert pdf.startswith(b"%PDF")
    assert '<html lang="zh-CN">' in html
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "晋阳绿色示范煤矿" in text
    assert mine.enterprise.name in text
    assert certificate.number in text
    with force_locale("zh"):
        title = gettext("Green mine certificate")  # 绿色矿山证书 once the catalogue has it
    assert title in text
    fonts = _fonts(reader)
    wqy = [font for font in fonts if "WenQuanYi" in str(font.get("/BaseFont"))
           or any("WenQuanYi" in str(d.get_object().get("/BaseFont")) for d in font.get("/DescendantFonts", []))]
    assert wqy, [str(font.get("/BaseFont")) for font in fonts]
    assert all(_embedded_font_files(font) for font in wqy)
    # Subset: far smaller than the 5 MB font file.
    assert len(pdf) < 400_000
    # The QR code: an image on the page, pointing at the public verification page.
    images = [image for page in reader.pages for image in page.images]
    assert images
    assert f"https://gm.example.invalid/public/certificate/{certificate.number}" in html


def zh(text: str, **values) -> str:
    with force_locale("zh"):
        return gettext(text, **values)


@pytest.mark.parametrize("level, authority", [
    ("national", "自然资源部"),
    ("province", "山西省自然资源厅"),
    ("city", "太原市自然资源局"),
    ("county", "太原市小店区自然资源局"),
])
def test_the_issuing_authority_follows_the_directory_level(app, level, authority):
    with force_locale("zh"):
        assert certificates.issuing_authority(level, "140105") == authority


def test_the_issuing_authority_of_municipalities_and_of_configured_regions(app):
    with force_locale("zh"):
        assert certificates.issuing_authority("province", "110101") == "北京市规划和自然资源委员会"
        assert certificates.issuing_authority("county", "110101") == "北京市东城区自然资源局"
        # A county-level city directly under its province has no city above it.
        assert certificates.issuing_authority("county", "419001") == "济源市自然资源局"
        app.config["CERTIFICATE_ISSUING_AUTHORITIES"] = {"140100": "太原市规划和自然资源局"}
        try:
            assert certificates.issuing_authority("city", "140105") == "太原市规划和自然资源局"
            assert certificates.issuing_authority("county", "140105") == "太原市小店区自然资源局"
        finally:
            app.config["CERTIFICATE_ISSUING_AUTHORITIES"] = {}


def test_the_pdf_fills_an_a4_landscape_page_with_the_authority_over_the_seal(app, make_mine, monkeypatch):
    from tests.conftest import pdf_layout

    monkeypatch.setattr(certificates, "_today", lambda: datetime.date(2026, 3, 5))
    certificate = certificate_of(make_entry(make_mine("140105", name="晋阳绿色示范煤矿")))
    with app.test_request_context():
        layout = pdf_layout(certificates.render_pdf(certificate))
    width, height = layout.size
    assert layout.pages == 1
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    text = layout.text.replace(" ", "")
    assert "山西省自然资源厅" in text  # the issuing authority of a provincial entry
    assert zh("(Place of the seal)") in text and "（印章处）" in text
    assert "2026年3月5日" in text
    # No expiry date: the term is the listing's (issue 19 point 8).
    assert "有效期" in text and "列入名录期间有效" in text and "2029" not in text
    assert zh("This certificate is hereby issued.") in text
    # Filled: the title near the top edge, the authority and its date near the bottom edge.
    assert max(layout.heights) > 0.85 * height
    assert min(layout.heights) < 0.16 * height


def test_long_names_stay_on_the_one_page(app, make_mine, make_enterprise):
    from tests.conftest import pdf_layout

    enterprise = make_enterprise("140105", name="山西省太原市小店区示范矿业集团有限责任公司第二分公司" * 4)
    mine = make_mine("140105", enterprise=enterprise, name="山西省太原市小店区示范煤业有限责任公司第二煤矿" * 4)
    certificate = certificate_of(make_entry(mine))
    with app.test_request_context():
        layout = pdf_layout(certificates.render_pdf(certificate))
    assert layout.pages == 1
    assert "山西省自然资源厅" in layout.text.replace(" ", "")


def test_verification_url_uses_the_public_base_url(app, make_mine):
    certificate = certificate_of(make_entry(make_mine()))
    app.config["PUBLIC_BASE_URL"] = "https://lvse.example.gov.cn"
    try:
        with app.test_request_context(base_url="http://10.0.0.5:8080/"):
            url = certificates.verification_url(certificate.number)
        outside = certificates.verification_url(certificate.number)
    finally:
        app.config["PUBLIC_BASE_URL"] = ""
    assert url == f"https://lvse.example.gov.cn/public/certificate/{certificate.number}"
    assert outside == url
    assert certificates.verification_url(certificate.number).endswith(f"/public/certificate/{certificate.number}")


def test_the_qr_code_encodes_the_url():
    uri = certificates.qr_data_uri("https://example.invalid/public/certificate/GM-P-14-2026-0001")
    assert uri.startswith("data:image/png;base64,")


def test_the_font_and_its_licence_are_shipped():
    assert certificates.FONT_FILE.is_file() and certificates.FONT_FILE.stat().st_size > 4_000_000
    folder = certificates.FONT_FILE.parent
    assert (folder / "wqy-microhei.LICENSE").is_file()
    assert "Apache" in (folder / "SOURCE.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# Scope: screens and REST
# ---------------------------------------------------------------------------
@pytest.fixture
def scene(make_mine, make_user):
    mine = make_mine("140105", name="小店绿色示范矿")
    other = make_mine("140213", name="平城绿色示范矿")
    entry, other_entry = make_entry(mine), make_entry(other)
    return {
        "certificate": certificate_of(entry),
        "other_certificate": certificate_of(other_entry),
        "owner": make_user("enterprise", enterprise=mine.enterprise),
        "stranger": make_user("enterprise", enterprise=other.enterprise),
        "county": make_user("county", "140105"),
        "other_county": make_user("county", "140213"),
        "province": make_user("province", "140000"),
        "other_province": make_user("province", "610000"),
        "national": make_user("national"),
    }


@pytest.mark.parametrize("who, expected", [
    ("owner", 200), ("county", 200), ("province", 200), ("national", 200),
    ("stranger", 404), ("other_county", 404), ("other_province", 404),
])
def test_the_pdf_is_downloaded_only_in_scope(scene, browser, api, who, expected):
    certificate = scene["certificate"]
    response = browser(scene[who]).get(f"/certificateview/pdf/{certificate.id}")
    assert response.status_code == expected
    if expected == 200:
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    rest = api(scene[who]).get(f"/api/v1/certificate/{certificate.id}/pdf")
    assert rest.status_code == expected
    if expected == 200:
        assert rest.data.startswith(b"%PDF")


def test_anonymous_and_unknown_get_no_pdf(scene, browser, api, make_user):
    certificate = scene["certificate"]
    anonymous = browser().get(f"/certificateview/pdf/{certificate.id}")
    assert anonymous.status_code in (302, 401, 403)
    assert api().get(f"/api/v1/certificate/{certificate.id}/pdf").status_code == 401
    assert browser(scene["national"]).get("/certificateview/pdf/999999").status_code == 404
    # A role without the permission (the assessment agency) is refused outright.
    agency_user = make_user(None)
    assert browser(agency_user).get(f"/certificateview/pdf/{certificate.id}").status_code in (302, 403)


def test_the_lists_are_scoped(scene, browser, api):
    owner_list = browser(scene["owner"]).get("/certificateview/list/").get_data(as_text=True)
    assert scene["certificate"].number in owner_list
    assert scene["other_certificate"].number not in owner_list
    with force_locale("zh"):
        assert certificates.status_label("valid") in owner_list  # 有效
    response = api(scene["owner"]).get("/api/v1/certificate/")
    assert response.status_code == 200
    body = response.get_json()
    assert [item["number"] for item in body["result"]] == [scene["certificate"].number]
    assert body["result"][0]["validity"] == "valid"
    assert body["result"][0]["entry"]["mine_name"] == "小店绿色示范矿"
    national = api(scene["national"]).get("/api/v1/certificate/").get_json()
    assert national["count"] == 2


def test_show_is_scoped_and_offers_the_download(scene, browser, api):
    certificate = scene["certificate"]
    page = browser(scene["owner"]).get(f"/certificateview/show/{certificate.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/certificateview/pdf/{certificate.id}" in html
    # The region by its name, never by its code.
    assert "山西省太原市小店区" in html and "140105" not in html
    assert browser(scene["stranger"]).get(f"/certificateview/show/{certificate.id}").status_code in (302, 404)
    shown = api(scene["county"]).get(f"/api/v1/certificate/{certificate.id}")
    assert shown.status_code == 200 and shown.get_json()["result"]["validity"] == "valid"
    assert api(scene["other_county"]).get(f"/api/v1/certificate/{certificate.id}").status_code == 404


def test_certificates_are_not_written_through_the_screens_or_the_api(scene, browser, api):
    certificate = scene["certificate"]
    national = scene["national"]
    assert api(national).post("/api/v1/certificate/", json={"number": "GM-P-14-2026-0999"}).status_code in (401, 403, 405)
    assert api(national).put(f"/api/v1/certificate/{certificate.id}", json={"issued_on": "2099-01-01"}).status_code in (401, 403, 405)
    assert api(national).delete(f"/api/v1/certificate/{certificate.id}").status_code in (401, 403, 405)
    response = browser(national).post(f"/certificateview/delete/{certificate.id}")
    assert response.status_code in (302, 403, 404, 405)
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id) is not None


# ---------------------------------------------------------------------------
# Issue 19 point 8: the certificate follows the directory; the optional review period
# ---------------------------------------------------------------------------
def test_the_removal_revokes_the_certificate_on_every_face(scene, make_user, browser, api):
    certificate = scene["certificate"]
    revoke(certificate.entry, make_user)
    db.session.expire_all()
    assert api(scene["owner"]).get(f"/api/v1/certificate/{certificate.id}").get_json()["result"]["validity"] == "revoked"
    page = browser(scene["owner"]).get(f"/certificateview/show/{certificate.id}").get_data(as_text=True)
    assert zh("Revoked") in page


def test_the_api_gives_the_term_not_a_date(scene, api):
    body = api(scene["owner"]).get(f"/api/v1/certificate/{scene['certificate'].id}").get_json()["result"]
    assert "valid_until" not in body and body["validity_period"] == zh("Valid while the mine stays in the directory")


@pytest.fixture
def review_years(app):
    app.config["DIRECTORY_REVIEW_YEARS"] = 3
    yield 3
    app.config["DIRECTORY_REVIEW_YEARS"] = None


def _listed_years_ago(entry, years: int, days: int = 0) -> None:
    entry.listed_on = certificates.add_years(TODAY, -years) - datetime.timedelta(days=days)
    db.session.commit()


def test_no_review_period_by_default(app, scene):
    from app.services import directory

    assert app.config["DIRECTORY_REVIEW_YEARS"] is None
    entry = scene["certificate"].entry
    _listed_years_ago(entry, 30)
    assert directory.review_due(entry) is False and entry.review_note == ""
    assert certificates.status_of(scene["certificate"]) == "valid"


def test_the_review_period_flags_entries_due_but_never_expires_them(scene, review_years):
    from app.services import directory

    entry = scene["certificate"].entry
    other = scene["other_certificate"].entry
    _listed_years_ago(entry, 3)              # listed three years ago today: due
    _listed_years_ago(other, 3, days=-1)     # three years ago tomorrow: not yet
    assert directory.review_due_on(entry) == TODAY and directory.review_due(entry)
    assert not directory.review_due(other)
    with force_locale("zh"):
        assert entry.review_note == f"待复核：列入名录已满3年（{entry.listed_on.isoformat()}列入）"
        assert scene["certificate"].review_note == entry.review_note
    assert other.review_note == ""
    # Still listed, the certificate still valid.
    assert entry.status == "listed" and certificates.status_of(scene["certificate"]) == "valid"


def test_a_removed_entry_is_not_due_for_review(scene, review_years, make_user):
    from app.services import directory

    entry = scene["certificate"].entry
    _listed_years_ago(entry, 5)
    revoke(entry, make_user)
    db.session.expire_all()
    assert not directory.review_due(db.session.get(DirectoryEntry, entry.id))


def test_the_staff_see_the_review_note_on_the_lists_and_pages_the_enterprise_does_not(scene, review_years,
                                                                                     browser):
    certificate = scene["certificate"]
    entry = certificate.entry
    _listed_years_ago(entry, 4)
    with force_locale("zh"):
        note = entry.review_note
    assert note.startswith("待复核")
    for who in ("county", "province", "national"):
        client = browser(scene[who])
        for url in ("/certificateview/list/", f"/certificateview/show/{certificate.id}",
                    "/directoryentryview/list/", f"/directoryentryview/show/{entry.id}"):
            page = client.get(url)
            assert page.status_code == 200 and note in page.get_data(as_text=True), (who, url)
    owner = browser(scene["owner"])
    for url in ("/certificateview/list/", f"/certificateview/show/{certificate.id}"):
        page = owner.get(url)
        assert page.status_code == 200 and "待复核" not in page.get_data(as_text=True), url
    # Off again: no note anywhere.
    from flask import current_app

    current_app.config["DIRECTORY_REVIEW_YEARS"] = None
    assert "待复核" not in browser(scene["province"]).get("/directoryentryview/list/").get_data(as_text=True)
