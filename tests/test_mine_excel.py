"""Excel import and export of mines (SPEC B8): template, export with scope and criteria, import
with the screens' rules, every bad row reported, all-or-nothing writes, CLI and screens."""
from __future__ import annotations

import datetime
import io
import os
import zipfile

import pytest
from markupsafe import escape
from flask_babel import force_locale
from flask_babel import gettext
from openpyxl import Workbook, load_workbook
from sqlalchemy import event, func, select, text

from app.extensions import db
from app.models import Mine
from app.services import mine_excel, registry, scoping
from app.services.demo import demo_licence
from app.services.mine_excel import COLUMNS, HEADERS, ImportFailed, ImportRefused

SOURCES = [column.source for column in COLUMNS]
TITLE = {column.source: column.title for column in COLUMNS}


def zh(msgid: str, **values) -> str:
    """The message as a zh user reads it (our new strings read in Chinese once the catalogue
    has them; until then gettext returns the English msgid)."""
    with force_locale("zh"):
        return gettext(msgid, **values)


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Mine))


def _row(**by_source) -> list:
    """Cell values in the layout's order, from a dict keyed by column source."""
    unknown = set(by_source) - set(SOURCES)
    assert not unknown, unknown
    return [by_source.get(source) for source in SOURCES]


def _book(rows: list[list], headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


_serial = iter(range(700000, 800000))


def _new(enterprise, region="140105", **extra) -> list:
    values = {
        "name": f"导入测试矿{next(_serial)}",
        "licence_no": demo_licence(region, next(_serial)),
        "enterprise.uscc": enterprise.uscc,
        "region_code": region,
        "mineral.name": "煤",
        "mining_method": "地下",
        "production_scale": 60,
    }
    values.update(extra)
    return _row(**values)


def _snapshot() -> dict:
    db.session.expire_all()
    columns = [column.name for column in Mine.__table__.columns]
    return {m.id: {c: getattr(m, c) for c in columns} for m in db.session.scalars(select(Mine))}


def _rules_applied(*mines) -> None:
    """Bring factory-made mines to what the screens would have saved (derived size etc.)."""
    for mine in mines:
        registry.validate_mine(mine, None)
    db.session.commit()


def _errors(report) -> dict[tuple[int, str], str]:
    return {(error.row, error.column): error.message for error in report.errors}


def _export_for(user, **criteria) -> bytes:
    from app.services import mine_search

    parsed = mine_search.parse(criteria)
    query = select(Mine).where(scoping.scope_filter(Mine, user), *parsed.conditions).order_by(Mine.id)
    return mine_excel.export_mines(query)


def _licences(data: bytes) -> list[str]:
    ws = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    index = SOURCES.index("licence_no")
    return [row[index] for row in list(ws.iter_rows(values_only=True))[1:]]


@pytest.fixture
def province(make_user):
    return make_user("province", "140000")


# ---------------------------------------------------------------------------
# Template and export
# ---------------------------------------------------------------------------
def test_template_downloads_and_its_headers_are_what_import_expects(browser, province, make_enterprise):
    response = browser(province).get("/mineexcel/template")
    assert response.status_code == 200
    assert response.mimetype == mine_excel.XLSX_MIMETYPE
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    data = response.get_data()
    wb = load_workbook(io.BytesIO(data))
    sheet = wb.worksheets[0]
    assert tuple(cell.value for cell in sheet[1]) == HEADERS
    # The template, filled in, is what the import reads.
    sheet.append(_new(make_enterprise("140105")))
    buffer = io.BytesIO()
    wb.save(buffer)
    report = mine_excel.import_mines(buffer.getvalue(), province)
    assert (report.inserted, report.refused, report.written) == (1, 0, True)


def test_round_trip_export_then_import_changes_nothing(province, make_mine, make_enterprise):
    enterprise = make_enterprise("140105")
    mines = [
        make_mine("140105", enterprise=enterprise, licence_valid_from=datetime.date(2021, 6, 1),
                  licence_valid_to=datetime.date(2031, 5, 31), latitude=37.8706, longitude=112.5489,
                  development_method="incline", production_status="producing", supervision_level="county",
                  max_depth_m=820.5, workers_per_shift=35, design_capacity=90, employees=210,
                  area_km2=3.27, address="小店区某路1号", principal_name="张三", principal_phone="0351-1234567",
                  issuing_authority="山西省自然资源厅"),
        make_mine("140121", mineral_name="铁", mining_method="open_pit", production_scale=12.5),
        make_mine("140213", name="=危险公式名", production_scale=None, mineral_name="金"),
    ]
    _rules_applied(*mines)
    before = _snapshot()
    data = _export_for(province)
    report = mine_excel.import_mines(data, province)
    assert report.errors == []
    assert (report.total, report.inserted, report.updated, report.unchanged) == (3, 0, 0, 3)
    assert _snapshot() == before

    # One cell changed: that mine is updated, in that column only.
    wb = load_workbook(io.BytesIO(data))
    sheet = wb.worksheets[0]
    sheet.cell(row=2, column=SOURCES.index("employees") + 1, value=250)
    buffer = io.BytesIO()
    wb.save(buffer)
    report = mine_excel.import_mines(buffer.getvalue(), province)
    assert (report.inserted, report.updated, report.unchanged, report.written) == (0, 1, 2, True)
    after = _snapshot()
    changed = {(pk, c) for pk in before for c in before[pk] if before[pk][c] != after[pk][c]}
    assert {c for _pk, c in changed} <= {"employees", "updated_at"}
    assert after[mines[0].id]["employees"] == 250


def test_export_cells_are_typed_and_labelled_in_chinese(province, make_mine):
    mine = make_mine("140105", name="=HYPERLINK(\"http://x\")", licence_valid_from=datetime.date(2020, 1, 2),
                     production_status="suspended")
    _rules_applied(mine)
    data = _export_for(province)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")  # no formula is written
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = {column.source: ws.cell(row=2, column=i + 1) for i, column in enumerate(COLUMNS)}
    assert cells["name"].value == mine.name and cells["name"].data_type == "s"
    assert cells["licence_no"].data_type == "s" and cells["region_code"].value == "140105"
    assert cells["mining_method"].value == "地下"
    assert cells["production_status"].value == "停产"
    assert cells["size"].value == "中型"
    assert cells["licence_valid_from"].value == datetime.datetime(2020, 1, 2)
    assert cells["enterprise.name"].value == mine.enterprise.name
    assert cells["region.full_name"].value == "山西省太原市小店区"


def test_export_respects_the_scope(browser, make_user, make_mine):
    xiaodian = make_mine("140105")
    qingxu = make_mine("140121")
    pingcheng = make_mine("140213")
    beijing = make_mine("110101")
    cases = {
        make_user("county", "140105"): {xiaodian.licence_no},
        make_user("city", "140100"): {xiaodian.licence_no, qingxu.licence_no},
        make_user("province", "140000"): {xiaodian.licence_no, qingxu.licence_no, pingcheng.licence_no},
        make_user("national"): {xiaodian.licence_no, qingxu.licence_no, pingcheng.licence_no, beijing.licence_no},
    }
    for user, expected in cases.items():
        response = browser(user).get("/mineexcel/export")
        assert response.status_code == 200, user.username
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response.headers["Content-Disposition"]
        assert set(_licences(response.get_data())) == expected, user.username
    # Outside the export permission: an enterprise user.
    enterprise_user = make_user("enterprise", enterprise=xiaodian.enterprise)
    assert browser(enterprise_user).get("/mineexcel/export").status_code == 403


def test_export_applies_the_mine_list_criteria(browser, province, make_user, make_mine):
    deep = make_mine("140105", name="深部铁矿", max_depth_m=900, mineral_name="铁")
    shallow = make_mine("140121", name="浅部煤矿", max_depth_m=100, mining_method="open_pit")
    client = browser(province)

    def licences(url):
        response = client.get(url)
        assert response.status_code == 200
        return set(_licences(response.get_data()))

    assert licences("/mineexcel/export?q=深部") == {deep.licence_no}
    assert licences("/mineexcel/export?region=140121") == {shallow.licence_no}
    assert licences("/mineexcel/export?depth_over=800") == {deep.licence_no}
    assert licences("/mineexcel/export?mining_method=open_pit") == {shallow.licence_no}
    assert licences("/mineexcel/export?mineral_class=金属") == {deep.licence_no}
    # A criterion cannot widen the scope.
    county = browser(make_user("county", "140105"))
    response = county.get("/mineexcel/export?region=14")
    assert set(_licences(response.get_data())) == {deep.licence_no}


def test_export_statement_count_does_not_grow_with_rows(province, make_mine, make_enterprise):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def measure() -> int:
        statements.clear()
        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            _export_for(province)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    regions = ["140105", "140121", "140213", "140226"]
    minerals = ["煤", "铁", "金", "铜"]
    for i in range(2):
        make_mine(regions[i], mineral_name=minerals[i])
    few = measure()
    for i in range(30):
        make_mine(regions[i % 4], mineral_name=minerals[i % 4])
    many = measure()
    assert many == few <= 3, statements


# ---------------------------------------------------------------------------
# Import: the rules, every bad row, all or nothing
# ---------------------------------------------------------------------------
def test_every_bad_row_is_reported_with_row_column_and_reason_and_nothing_is_written(
    province, make_enterprise, make_mine
):
    mine_region = make_enterprise("140105")
    hebei = make_enterprise("130102")
    beijing_mine = make_mine("110101")
    duplicate = demo_licence("140105", 799001)
    rows = [
        _new(mine_region),  # 2: valid
        _new(mine_region, licence_no="C123"),  # 3
        _new(mine_region, **{"mineral.name": "黄金石"}),  # 4
        _new(mine_region, **{"enterprise.uscc": "91140105MA0L7C8X1D"}),  # 5: not registered
        _new(hebei),  # 6: licence holder outside the province
        _new(mine_region, region_code="140100"),  # 7: a city, not a county
        _new(mine_region, region_code="110101"),  # 8: outside the province
        _new(mine_region, production_scale=-5),  # 9
        _new(mine_region, max_depth_m=6000),  # 10
        _new(mine_region, mining_method="露天开采"),  # 11
        _new(mine_region, licence_no=duplicate),  # 12
        _new(mine_region, licence_no=duplicate),  # 13
        _new(mine_region, name=None),  # 14
        _new(mine_region, production_scale="六十"),  # 15
        _new(mine_region, licence_valid_to="明年"),  # 16
        _new(mine_region, licence_no=beijing_mine.licence_no),  # 17: registered outside the province
        _new(mine_region, employees=12.5),  # 18
        _new(mine_region, latitude=80, longitude=112),  # 19
    ]
    before = _count()
    report = mine_excel.import_mines(_book(rows), province)
    errors = _errors(report)
    unknown = mine_excel.codes.normalize_uscc("91140105MA0L7C8X1D")
    expected = {
        (3, TITLE["licence_no"]): "许可证号格式不正确",
        (4, TITLE["mineral.name"]): zh("“%(name)s” is not a mineral of the mineral catalogue.", name="黄金石"),
        (6, TITLE["enterprise.uscc"]): f"统一社会信用代码 {hebei.uscc} 已被登记，请联系上级主管部门",
        (7, TITLE["region_code"]): "请选择到县级行政区",
        (8, TITLE["region_code"]): zh("The region %(code)s is outside your area of responsibility.", code="110101"),
        (9, TITLE["production_scale"]): "生产规模不能为负数",
        (10, TITLE["max_depth_m"]): "最大开采深度不能超过5000",
        (11, TITLE["mining_method"]): "开采方式：“露天开采”不是允许的取值。",
        (14, TITLE["name"]): zh("This value is required."),
        (15, TITLE["production_scale"]): zh("“%(value)s” is not a number.", value="六十"),
        (16, TITLE["licence_valid_to"]): zh("“%(value)s” is not a date (write it as 2024-01-31).", value="明年"),
        (17, TITLE["licence_no"]): f"采矿许可证号 {beijing_mine.licence_no} 已被登记，请联系上级主管部门",
        (18, TITLE["employees"]): zh("“%(value)s” is not a whole number.", value="12.5"),
        (19, TITLE["latitude"]): "纬度",
    }
    for (row, column), fragment in expected.items():
        assert (row, column) in errors, (row, column, errors)
        assert fragment in errors[(row, column)], (row, errors[(row, column)])
    # Row 5: a well-formed credit code nobody registered, or a malformed one: said either way.
    assert (5, TITLE["enterprise.uscc"]) in errors
    assert unknown in errors[(5, TITLE["enterprise.uscc"])] or "统一社会信用代码" in errors[(5, TITLE["enterprise.uscc"])]
    for row in (12, 13):
        message = errors[(row, TITLE["licence_no"])]
        assert message == zh("The licence number %(no)s appears on several rows of the file (rows %(rows)s).",
                             no=duplicate, rows="12、13")
    assert report.refused == len(rows) - 1 and report.inserted == 1
    assert not report.written and _count() == before
    # Catalogue messages read in Chinese: no English reason among them.
    for (row, column), fragment in expected.items():
        if not fragment.isascii():
            assert not errors[(row, column)].isascii()


def test_skip_invalid_writes_only_the_valid_rows(province, make_enterprise):
    enterprise = make_enterprise("140105")
    good = [_new(enterprise), _new(enterprise, region="140213")]
    bad = _new(enterprise, production_scale=-1)
    before = _count()
    report = mine_excel.import_mines(_book([good[0], bad, good[1]]), province, skip_invalid=True)
    assert (report.inserted, report.refused, report.written) == (2, 1, True)
    assert [e.row for e in report.errors] == [3]
    assert _count() == before + 2
    names = set(db.session.scalars(select(Mine.name)))
    assert {good[0][0], good[1][0]} <= names and bad[0] not in names


def test_dry_run_writes_nothing(province, make_enterprise):
    enterprise = make_enterprise("140105")
    before = _count()
    calls = []
    report = mine_excel.import_mines(_book([_new(enterprise), _new(enterprise)]), province, dry_run=True,
                                     progress=lambda done, total: calls.append((done, total)))
    assert (report.inserted, report.refused, report.written) == (2, 0, False)
    assert calls == [(1, 2), (2, 2)]
    assert _count() == before


def test_a_registered_licence_updates_that_mine_and_blank_cells_keep_values(province, make_mine):
    mine = make_mine("140105", address="旧地址", employees=80)
    _rules_applied(mine)
    row = _row(name="改名后的矿", licence_no=mine.licence_no.lower(), **{"enterprise.uscc": mine.enterprise.uscc},
               region_code="140105", address=None)
    report = mine_excel.import_mines(_book([row]), province)
    assert (report.updated, report.inserted, report.written) == (1, 0, True)
    db.session.expire_all()
    mine = db.session.get(Mine, mine.id)
    assert (mine.name, mine.address, mine.employees, mine.mineral.name) == ("改名后的矿", "旧地址", 80, "煤")


def test_numbers_dates_and_codes_are_read_from_excel_or_text_cells(province, make_enterprise):
    enterprise = make_enterprise("140105")
    row = _new(enterprise, region_code=140105, production_scale="60.5", employees=120.0,
               licence_valid_from=datetime.datetime(2021, 6, 1), licence_valid_to="2031/05/31",
               mining_method="underground", production_status="生产", size="中型", latitude="37.87",
               longitude=112.55)
    report = mine_excel.import_mines(_book([row]), province)
    assert report.errors == [] and report.written
    mine = db.session.scalars(select(Mine).where(Mine.name == row[0])).one()
    assert (mine.region_code, mine.production_scale, mine.employees) == ("140105", 60.5, 120)
    assert (mine.licence_valid_from, mine.licence_valid_to) == (datetime.date(2021, 6, 1), datetime.date(2031, 5, 31))
    assert (mine.mining_method, mine.production_status, mine.size) == ("underground", "producing", "medium")


def test_a_size_that_contradicts_the_thresholds_is_refused_like_on_the_screen(province, make_enterprise):
    enterprise = make_enterprise("140105")
    report = mine_excel.import_mines(_book([_new(enterprise, size="大型")]), province)
    assert list(_errors(report)) == [(2, TITLE["size"])]
    assert "矿山规模与生产规模不符" in report.errors[0].message or "中型" in report.errors[0].message


def test_a_database_error_writes_nothing(province, make_enterprise):
    enterprise = make_enterprise("140105")
    rows = [_new(enterprise), _new(enterprise), _new(enterprise)]
    before = _count()

    def someone_else_saves_the_last_licence(done, total):
        if done == total:  # after validation, before the write
            with db.engine.begin() as conn:
                conn.execute(
                    text("INSERT INTO mine (name, licence_no, enterprise_id, region_code, created_at, updated_at) "
                         "VALUES ('别人的矿', :no, :ent, '140105', :now, :now)"),
                    {"no": rows[2][1], "ent": enterprise.id, "now": datetime.datetime(2026, 1, 1)},
                )

    with pytest.raises(ImportFailed):
        mine_excel.import_mines(_book(rows), province, progress=someone_else_saves_the_last_licence)
    assert _count() == before + 1  # only the other user's row
    assert set(db.session.scalars(select(Mine.name))) >= {"别人的矿"}
    assert not ({rows[0][0], rows[1][0]} & set(db.session.scalars(select(Mine.name))))


# ---------------------------------------------------------------------------
# Import: files refused as a whole
# ---------------------------------------------------------------------------
def test_the_header_row_must_match_the_template(province, make_enterprise):
    headers = list(HEADERS)
    headers[1], headers[2] = headers[2], headers[1]
    with pytest.raises(ImportRefused) as refused:
        mine_excel.import_mines(_book([_new(make_enterprise("140105"))], headers=headers), province)
    assert "B" in str(refused.value) and HEADERS[1] in str(refused.value)


@pytest.mark.parametrize("content", [
    b"hello, this is not a workbook",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,  # an old .xls
    b"",
    "zip-without-workbook",
    "broken-zip",
])
def test_a_file_that_is_not_xlsx_is_refused(province, content):
    if content == "zip-without-workbook":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("word/document.xml", "<w/>")
        content = buffer.getvalue()
    elif content == "broken-zip":
        content = mine_excel.XLSX_MAGIC + os.urandom(300)
    with pytest.raises(ImportRefused):
        mine_excel.import_mines(content, province)


def test_too_many_rows_are_refused(app, province, make_enterprise, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    enterprise = make_enterprise("140105")
    with pytest.raises(ImportRefused) as refused:
        mine_excel.import_mines(_book([_new(enterprise) for _ in range(4)]), province)
    assert "3" in str(refused.value)
    # Blank rows do not count.
    rows = [_new(enterprise), [None] * len(COLUMNS), _new(enterprise), _new(enterprise)]
    report = mine_excel.import_mines(_book(rows), province)
    assert report.total == 3 and [e.row for e in report.errors] == []


def test_an_empty_sheet_is_refused(province):
    with pytest.raises(ImportRefused):
        mine_excel.import_mines(_book([]), province)


# ---------------------------------------------------------------------------
# Screens
# ---------------------------------------------------------------------------
def _upload(client, data: bytes, name="mines.xlsx", **fields):
    form = {"file": (io.BytesIO(data), name)}
    form.update({key: "y" for key, on in fields.items() if on})
    return client.post("/mineexcel/import", data=form, content_type="multipart/form-data")


def test_upload_screen_for_a_province_user(browser, province, make_enterprise):
    enterprise = make_enterprise("140105")
    client = browser(province)
    page = client.get("/mineexcel/import")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in body and "csrf_token" in body
    assert "/mineexcel/template" in body and "/mineexcel/export" in body

    before = _count()
    good = _new(enterprise)
    response = _upload(client, _book([good, _new(enterprise, production_scale=-3)]))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="import-report"' in body
    assert TITLE["production_scale"] in body and "生产规模不能为负数" in body and "<td>3</td>" in body
    assert _count() == before

    response = _upload(client, _book([good]), dry_run=True)
    assert response.status_code == 200 and _count() == before

    response = _upload(client, _book([good, _new(enterprise, production_scale=-3)]), skip_invalid=True)
    assert response.status_code == 200 and _count() == before + 1


def test_upload_without_csrf_token_is_refused(browser, province, make_enterprise):
    client = browser(province)
    response = client.post("/mineexcel/import", csrf=False, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(_book([_new(make_enterprise("140105"))])), "m.xlsx")})
    assert response.status_code == 400 and _count() == 0


def test_county_user_may_export_but_not_import(browser, make_user, make_enterprise):
    client = browser(make_user("county", "140105"))
    assert client.get("/mineexcel/import").status_code == 403
    response = _upload(client, _book([_new(make_enterprise("140105"))]))
    assert response.status_code == 403 and _count() == 0
    assert client.get("/mineexcel/export").status_code == 200
    assert client.get("/mineexcel/template").status_code == 200


def test_admin_may_import(browser, make_user, make_enterprise):
    client = browser(make_user("admin"))
    response = _upload(client, _book([_new(make_enterprise("140105"))]))
    assert response.status_code == 200 and _count() == 1


def _uploads_left(app) -> list[str]:
    folder = app.config["UPLOAD_FOLDER"]
    return [name for _root, _dirs, files in os.walk(folder) for name in files]


def test_a_non_xlsx_upload_is_refused_with_a_message_and_leaves_nothing(app, browser, province):
    before_files = _uploads_left(app)
    response = _upload(browser(province), b"<html>not a workbook</html>", name="mines.xlsx")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    message = zh("The file is not an Excel workbook in .xlsx format "
                 "(an older .xls file must first be saved as .xlsx).")
    assert str(escape(message)) in body
    assert 'id="import-report"' not in body
    assert _count() == 0 and _uploads_left(app) == before_files


def test_an_oversized_upload_is_refused_with_a_message_and_leaves_nothing(app, browser, province, make_enterprise,
                                                                         monkeypatch):
    enterprise = make_enterprise("140105")
    data = _book([_new(enterprise) for _ in range(40)])
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", len(data) - 1)
    before_files = _uploads_left(app)
    response = _upload(browser(province), data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="import-report"' not in body
    expected = zh("The file is larger than the allowed %(size)s.", size=mine_excel.size_text(len(data) - 1))
    assert str(escape(expected)) in body
    assert _count() == 0 and _uploads_left(app) == before_files
    # The service refuses it on its own, too (the CLI and any other caller).
    with pytest.raises(ImportRefused):
        mine_excel.import_mines(data, province)


def test_a_request_far_over_the_limit_is_refused_before_it_is_read(app, browser, province, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1000)
    response = _upload(browser(province), b"PK\x03\x04" + b"0" * 300_000)
    assert response.status_code == 413
    assert "上传的文件过大" in response.get_data(as_text=True)
    assert _count() == 0


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
def test_cli_import(app, tmp_path, province, make_user, make_enterprise):
    enterprise = make_enterprise("140105")
    runner = app.test_cli_runner()
    good = tmp_path / "good.xlsx"
    good.write_bytes(_book([_new(enterprise), _new(enterprise)]))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_book([_new(enterprise), _new(enterprise, mining_method="挖")]))

    result = runner.invoke(args=["gm", "import-mines", str(good)])
    assert result.exit_code != 0 and "--user" in result.output  # the user decides the scope

    result = runner.invoke(args=["gm", "import-mines", str(good), "--user", province.username, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert _count() == 0

    result = runner.invoke(args=["gm", "import-mines", str(bad), "--user", province.username])
    assert result.exit_code == 1
    assert TITLE["mining_method"] in result.output and "“挖”" in result.output
    assert _count() == 0

    result = runner.invoke(args=["gm", "import-mines", str(bad), "--user", province.username, "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert _count() == 1

    result = runner.invoke(args=["gm", "import-mines", str(good), "--user", province.username])
    assert result.exit_code == 0, result.output
    assert _count() == 3
    # The audit trail (I4) names the account the command acted for.
    from app.models import AuditEntry

    created = db.session.scalars(select(AuditEntry).where(AuditEntry.record_type == "Mine",
                                                          AuditEntry.action == "create")).all()
    assert len(created) == 3 and {(e.username, e.source) for e in created} == {(province.username, "cli")}

    county = make_user("county", "140105")
    result = runner.invoke(args=["gm", "import-mines", str(good), "--user", county.username])
    assert result.exit_code == 1 and county.username in result.output

    not_xlsx = tmp_path / "notes.xlsx"
    not_xlsx.write_text("plain text")
    result = runner.invoke(args=["gm", "import-mines", str(not_xlsx), "--user", province.username])
    assert result.exit_code == 1 and "Traceback" not in result.output
