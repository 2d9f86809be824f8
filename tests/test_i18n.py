"""Every product string has its zh translation, the compiled catalogue is current, and FAB's
gaps are filled from ours."""
import pathlib

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = pathlib.Path(__file__).resolve().parents[1]
PO = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# As the extract command in README ("Translations"): babel's defaults (pgettext among them) and ours.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None,
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def _catalog():
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh")


def test_no_untranslated_or_fuzzy_entries():
    bad = [m.id for m in _catalog() if m.id and (not m.string or m.fuzzy)]
    assert bad == []


def _extracted() -> set[tuple[str | None, str]]:
    """(message context, msgid) of every string the code translates."""
    return {
        (context, message if isinstance(message, str) else message[0])
        for _filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT / "app"), method_map=METHODS, keywords=KEYWORDS,
            options_map={"**/templates/**.html": {"encoding": "utf-8"}},
        )
    }


def test_every_string_in_the_code_is_in_the_catalogue():
    # A message with a context is another message than the same English without one.
    known = {(m.context, m.id) for m in _catalog() if m.id}
    missing = sorted(_extracted() - known, key=str)
    assert missing == [], "run pybabel extract/update (README, Translations) and translate: %s" % missing


def test_message_contexts_are_extracted():
    """The extract command must know lazy_pgettext (models, views) and pgettext (templates)."""
    found = _extracted()
    assert ("mine production status", "Closed") in found and ("problem lead state", "Closed") in found
    assert ("evaluation pass line", "Required") in found


def test_compiled_catalogue_matches_the_po_file():
    with MO.open("rb") as handle:
        # (babel's read_mo leaves a message context as bytes)
        compiled = {(m.context.decode() if isinstance(m.context, bytes) else m.context, m.id): m.string
                    for m in read_mo(handle) if m.id}
    source = {(m.context, m.id): m.string for m in _catalog() if m.id}
    assert compiled == source, "run: pybabel compile -d app/translations -l zh"


def test_interface_is_chinese_by_default_and_english_available(app, make_user, make_mine, browser):
    make_mine("140105")
    client = browser(make_user("county", "140105"))
    page = client.get("/mineview/list/").get_data(as_text=True)
    assert "采矿许可证号" in page and "矿山名称" in page
    # FAB's own gaps, filled from our catalogue: the delete confirmation and the "In" filter
    # (JSON-escaped in the page's script).
    assert "确定要删除这条记录吗" in page
    enterprises = client.get("/enterpriseview/list/").get_data(as_text=True)
    assert "\\u5c5e\\u4e8e" in enterprises  # 属于
    client.get("/lang/en")
    page = client.get("/mineview/list/").get_data(as_text=True)
    assert "Mining licence number" in page


def test_error_pages_are_translated(app, browser, make_user):
    client = browser(make_user("national"))
    assert "页面或记录不存在" in client.get("/mineview/show/999999").get_data(as_text=True)


def test_oversized_request_gets_a_translated_413(app):
    client = app.test_client()
    response = client.post("/login/", data=b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
                           content_type="application/octet-stream")
    assert response.status_code == 413
    assert "上传的文件过大" in response.get_data(as_text=True)


def test_rest_field_info_leaves_a_missing_description_blank(make_user, api):
    """FAB translates an absent description as gettext(""), which is the catalogue's header."""
    body = api(make_user("national")).get("/api/v1/mine/_info").get_json()
    fields = body["add_columns"] + body["edit_columns"]
    assert fields and all("Project-Id-Version" not in (f["description"] + f["label"]) for f in fields)
    assert any(f["description"] == "" for f in fields)
