"""Issue 19.7: an indicator catalogue version as an Excel file. The admin exports and imports
national versions, a province imports its own and adopts it; a row-by-row zh report, nothing
written on any error; an exported file imports again unchanged (under a new version code)."""
from __future__ import annotations

import io

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import IndicatorItem, IndicatorVersion, ProvinceIndicatorAdoption
from app.services import catalogue_excel, evaluation
from app.services.exceptions import AccessDenied, ValidationFailed
from app.services.workbooks import ImportRefused

NATIONAL = "national-2020"
SEEDED = ("national-2020", "national-2024")


def remove_imported_versions() -> None:
    """Catalogues are reference data the suite keeps between tests: the imported ones go."""
    db.session.rollback()
    imported = select(IndicatorVersion.id).where(IndicatorVersion.code.not_in(SEEDED))
    db.session.execute(delete(ProvinceIndicatorAdoption).where(ProvinceIndicatorAdoption.version_id.in_(imported)))
    db.session.execute(delete(IndicatorItem).where(IndicatorItem.version_id.in_(imported)).execution_options(
        synchronize_session=False))
    db.session.execute(delete(IndicatorVersion).where(IndicatorVersion.code.not_in(SEEDED)))
    db.session.commit()


@pytest.fixture(autouse=True)
def _only_the_seeded_versions():
    remove_imported_versions()
    yield
    remove_imported_versions()


def national() -> IndicatorVersion:
    return db.session.scalars(select(IndicatorVersion).where(IndicatorVersion.code == NATIONAL)).one()


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(IndicatorVersion))


def workbook(version=None, code="shanxi-2026", name="山西省绿色矿山评价指标（测试）", edit=None) -> bytes:
    """An exported catalogue with a new code and name, ``edit(items_sheet)`` applied."""
    book = load_workbook(io.BytesIO(catalogue_excel.export_version(version or national())))
    head = book[catalogue_excel.VERSION_SHEET]
    head["B1"], head["B2"] = code, name
    if edit is not None:
        edit(book[catalogue_excel.ITEM_SHEET])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def items_of(version) -> list[tuple]:
    return [(item.code, item.level, item.name, item.points, item.inferred, item.source_note)
            for item in db.session.scalars(select(IndicatorItem).where(IndicatorItem.version_id == version.id)
                                           .order_by(IndicatorItem.sort_order))]


def test_an_exported_catalogue_imports_again_unchanged(make_user):
    admin = make_user("admin")
    source = national()
    report = catalogue_excel.import_version(workbook(code="national-2020-copy", name="2020 副本"), admin)
    assert report.ok, report.errors
    copy = report.version
    assert (copy.province_code, copy.is_active) == (None, False)  # national: the admin activates it
    assert items_of(copy) == items_of(source)
    assert (copy.total_points, copy.pass_points, copy.area_min_ratio) == (
        source.total_points, source.pass_points, source.area_min_ratio)
    # The file says per row whether it is confirmed or inferred, in Chinese.
    sheet = load_workbook(io.BytesIO(catalogue_excel.export_version(source)))[catalogue_excel.ITEM_SHEET]
    with force_locale("zh"):
        words = {row[5] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert words <= {"确认", "推定"} and "推定" in words


def test_a_province_imports_its_own_catalogue_and_adopts_it(make_user):
    shanxi, shaanxi = make_user("province", "140000"), make_user("province", "610000")
    report = catalogue_excel.import_version(workbook(), shanxi)
    assert report.ok, report.errors
    own = report.version
    assert (own.province_code, own.is_active) == ("140000", True)
    adoption = ProvinceIndicatorAdoption(province_code="140000", version_id=own.id)
    evaluation.adoption_rule(adoption, shanxi, "edit")
    other = ProvinceIndicatorAdoption(province_code="610000", version_id=own.id)
    with pytest.raises(ValidationFailed) as refused:
        evaluation.adoption_rule(other, shaanxi, "edit")
    assert refused.value.field == "version"
    db.session.rollback()


def test_only_the_admin_and_a_province_import(make_user):
    for user in (make_user("city", "140100"), make_user("national"), make_user("county", "140105")):
        with pytest.raises(AccessDenied):
            catalogue_excel.import_version(workbook(), user)
    assert versions() == len(SEEDED)


def _bad_rows(sheet):
    # Row numbers as Excel shows them: the header is row 1, "1" is row 2.
    sheet["A3"] = "1.x"          # not a code
    sheet["B4"] = None           # no name
    sheet["C5"] = -3             # negative points
    sheet["F6"] = "大概"          # neither 确认 nor 推定
    sheet["C2"] = 999            # the area's points no longer match its sub-items


def test_every_refused_cell_is_reported_and_nothing_is_written(make_user):
    admin = make_user("admin")
    with force_locale("zh"):
        report = catalogue_excel.import_version(workbook(edit=_bad_rows), admin)
        messages = {(error.row, error.column): error.message for error in report.errors}
    assert not report.ok and report.version is None
    assert (3, "代码") in messages and (4, "名称") in messages
    assert any(row == 5 for row, _column in messages) and any(row == 6 for row, _column in messages)
    assert all(message and "%(" not in message for message in messages.values())
    assert versions() == len(SEEDED)


def test_a_tree_that_does_not_add_up_is_refused_with_the_row(make_user):
    admin = make_user("admin")

    def wrong_points(sheet):
        sheet["C2"] = 999

    with force_locale("zh"):
        report = catalogue_excel.import_version(workbook(edit=wrong_points), admin)
    assert [(error.row, "999" in error.message) for error in report.errors][:1] == [(2, True)]
    assert versions() == len(SEEDED)

    def child_before_parent(sheet):
        sheet["A2"], sheet["A3"] = sheet["A3"].value, sheet["A2"].value

    report = catalogue_excel.import_version(workbook(edit=child_before_parent), admin)
    assert not report.ok and versions() == len(SEEDED)


def test_a_taken_version_code_and_bad_files_are_refused(make_user):
    admin = make_user("admin")
    with force_locale("zh"):
        report = catalogue_excel.import_version(workbook(code=NATIONAL), admin)
        assert not report.ok and "新版本" in report.errors[0].message
        with pytest.raises(ImportRefused) as refused:
            catalogue_excel.import_version(b"%PDF-1.4 not a workbook", admin)
        assert ".xlsx" in str(refused.value)
        book = load_workbook(io.BytesIO(workbook()))
        del book[catalogue_excel.VERSION_SHEET]
        buffer = io.BytesIO()
        book.save(buffer)
        with pytest.raises(ImportRefused) as refused:
            catalogue_excel.import_version(buffer.getvalue(), admin)
        assert catalogue_excel.VERSION_SHEET in str(refused.value)
    assert versions() == len(SEEDED)


def test_the_screens_import_and_export_for_the_province_only(make_user, browser):
    province = make_user("province", "140000")
    client = browser(province)
    page = client.get("/indicator-catalogue/import")
    assert page.status_code == 200 and "2020" in page.get_data(as_text=True)
    download = client.get(f"/indicator-catalogue/export/{national().id}")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    response = client.post("/indicator-catalogue/import",
                           data={"file": (io.BytesIO(workbook()), "shanxi.xlsx")}, content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="import-report"' in text and "导入" in text
    assert db.session.scalar(select(IndicatorVersion.province_code).where(IndicatorVersion.code == "shanxi-2026")) \
        == "140000"
    listing = client.get("/indicatorversionview/list/").get_data(as_text=True)
    assert "适用范围" in listing and "山西省" in listing and "全国" in listing
    city = browser(make_user("city", "140100"))
    assert city.get("/indicator-catalogue/import").status_code in (302, 403)
    assert city.get(f"/indicator-catalogue/export/{national().id}").status_code in (302, 403)
