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


def test_issue_is_idempotent_and_dated(app, make_mine):
    entry = make_entry(make_mine())
    certificate = certificate_of(entry)
    assert certificates.issue(entry, db.session).id == certificate.id
    assert certificate.issued_on == TODAY
    years = app.config["CERTIFICATE_VALID_YEARS"]
    assert years == 3
    # Valid through the day before the anniversary (the convention of both kinds of certificate).
    assert certificate.valid_until == certificates.last_valid_day(TODAY, years)
    assert certificates.add_years(datetime.date(2024, 2, 29), 3) == datetime.date(2027, 2, 28)


def test_a_certificate_is_valid_through_the_day_before_the_anniversary(make_mine, monkeypatch):
    assert certificates.last_valid_day(datetime.date(2026, 3, 5), 3) == datetime.date(2029, 3, 4)
    assert certificates.last_valid_day(datetime.date(2026, 1, 1), 3) == datetime.date(2028, 12, 31)
    # 29 February: its anniversary in a common year is 1 March, so the last day is 28 February.
    assert certificates.last_valid_day(datetime.date(2024, 2, 29), 3) == datetime.date(2027, 2, 28)
    assert certificates.last_valid_day(datetime.date(2024, 2, 29), 4) == datetime.date(2028, 2, 28)
    monkeypatch.setattr(certificates, "_today", lambda: datetime.date(2026, 3, 5))
    certificate = certificate_of(make_entry(make_mine()))
    assert (certificate.issued_on, certificate.valid_until) == (datetime.date(2026, 3, 5), datetime.date(2029, 3, 4))
    assert certificates.status_of(certificate, today=datetime.date(2029, 3, 4)) == "valid"
    assert certificates.status_of(certificate, today=datetime.date(2029, 3, 5)) == "expired"


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
def test_status_valid_expired_revoked(make_mine, make_user):
    entry = make_entry(make_mine())
    certificate = certificate_of(entry)
    assert certificates.status_of(certificate) == "valid"
    assert certificates.status_of(certificate, today=certificate.valid_until) == "valid"
    assert certificates.status_of(certificate, today=certificate.valid_until + datetime.timedelta(days=1)) == "expired"
    revoke(entry, make_user)
    db.session.expire_all()
    certificate = certificate_of(entry)
    assert certificates.status_of(certificate) == "revoked"
    # Revoked wins over expired.
    assert certificates.status_of(certificate, today=certificate.valid_until + datetime.timedelta(days=1)) == "revoked"
    assert certificate.validity == "revoked"


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
    assert "2026年3月5日" in text and "2029-03-04" in text
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
    assert api(national).put(f"/api/v1/certificate/{certificate.id}", json={"valid_until": "2099-01-01"}).status_code in (401, 403, 405)
    assert api(national).delete(f"/api/v1/certificate/{certificate.id}").status_code in (401, 403, 405)
    response = browser(national).post(f"/certificateview/delete/{certificate.id}")
    assert response.status_code in (302, 403, 404, 405)
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id) is not None
